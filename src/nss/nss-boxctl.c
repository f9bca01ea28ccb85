/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libnss_boxctl.so.2: the "hosts" database of glibc's NSS, answering with the
 * addresses of running machines, as nss-mymachines does for machined. It
 * asks boxd (org.freedesktop.machine1's GetMachineAddresses) over the system
 * bus. Enabled by "hosts: files boxctl dns" in /etc/nsswitch.conf.
 *
 * It runs inside every process that looks a host name up, so it never logs,
 * never waits for boxd to be started, and answers nothing but valid machine
 * names. */
#include <errno.h>
#include <netdb.h>
#include <nss.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-bus.h>

#include "machine1-names.h"
#include "nss-pack.h"
#include "util.h"

/* A boxd that takes longer is stuck; the lookup goes on to the next module. */
#define NSS_BOXCTL_TIMEOUT_USEC (5ULL * 1000ULL * 1000ULL)

#define NSS_GETHOSTBYNAME_PROTOTYPES(module)                                                                    \
        enum nss_status _nss_##module##_gethostbyname4_r(const char *name, struct gaih_addrtuple **pat,        \
                                                         char *buffer, size_t buflen, int *errnop,             \
                                                         int *h_errnop, int32_t *ttlp);                        \
        enum nss_status _nss_##module##_gethostbyname3_r(const char *name, int af, struct hostent *host,       \
                                                         char *buffer, size_t buflen, int *errnop,             \
                                                         int *h_errnop, int32_t *ttlp, char **canonp);         \
        enum nss_status _nss_##module##_gethostbyname2_r(const char *name, int af, struct hostent *host,       \
                                                         char *buffer, size_t buflen, int *errnop,             \
                                                         int *h_errnop);                                       \
        enum nss_status _nss_##module##_gethostbyname_r(const char *name, struct hostent *host, char *buffer,  \
                                                        size_t buflen, int *errnop, int *h_errnop)

NSS_GETHOSTBYNAME_PROTOTYPES(boxctl);

static bool bypass_bus(void) {
        const char *e = secure_getenv(BOXCTL_NSS_BYPASS_ENV);

        return e && parse_boolean(e) > 0;
}

/* Which of boxd's answers mean what for a lookup. */
static int bus_error_to_errno(const sd_bus_error *error, int r) {
        if (sd_bus_error_has_name(error, BUS_ERROR_NO_SUCH_MACHINE))
                return -ESRCH;
        /* A machine without a network of its own: it has no address to give. */
        if (sd_bus_error_has_name(error, SD_BUS_ERROR_NOT_SUPPORTED))
                return -ENODATA;
        /* No boxd, and the bus is not to start one for us. */
        if (sd_bus_error_has_name(error, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
            sd_bus_error_has_name(error, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                return -EHOSTDOWN;
        return r < 0 ? r : -EIO;
}

static int read_addresses(sd_bus_message *reply, NssAddress **ret, size_t *ret_n) {
        _cleanup_free_ NssAddress *list = NULL;
        size_t n = 0;
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "(iay)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'r', "iay")) > 0) {
                const void *bytes;
                size_t size;
                int32_t family;
                NssAddress *nl;

                r = sd_bus_message_read(reply, "i", &family);
                if (r >= 0)
                        r = sd_bus_message_read_array(reply, 'y', &bytes, &size);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
                /* Only what the family's size says: boxd is trusted, its bytes are still checked. */
                if (!((family == AF_INET && size == 4) || (family == AF_INET6 && size == 16)))
                        continue;
                nl = reallocarray(list, n + 1, sizeof(NssAddress));
                if (!nl)
                        return -ENOMEM;
                list = nl;
                list[n] = (NssAddress) { .family = family };
                memcpy(list[n].bytes, bytes, size);
                n++;
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(list);
        *ret_n = n;
        return 0;
}

/* The addresses of machine NAME, from boxd. -ESRCH: no such machine;
 * -ENODATA: none; -EHOSTDOWN: boxd is not running; -ENOENT,
 * -ECONNREFUSED: no system bus; -EDEADLK: a lookup inside our own. */
static int machine_addresses(const char *name, NssAddress **ret, size_t *ret_n) {
        /* sd-bus may look something up itself; that must not come back here. */
        static __thread bool busy = false;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        if (busy || bypass_bus())
                return -EDEADLK;
        busy = true;
        r = sd_bus_open_system(&bus);
        if (r >= 0)
                r = sd_bus_message_new_method_call(bus, &call, MACHINE1_BUS_NAME, MACHINE1_PATH, MACHINE1_MANAGER,
                                                   "GetMachineAddresses");
        /* Never activate boxd: a host name lookup would wait for it to start,
         * and the bus daemon might be what is looking the name up. */
        if (r >= 0)
                r = sd_bus_message_set_auto_start(call, false);
        if (r >= 0)
                r = sd_bus_message_append(call, "s", name);
        if (r >= 0) {
                r = sd_bus_call(bus, call, NSS_BOXCTL_TIMEOUT_USEC, &error, &reply);
                if (r < 0 && sd_bus_error_is_set(&error))
                        r = bus_error_to_errno(&error, r);
        }
        if (r >= 0)
                r = read_addresses(reply, ret, ret_n);
        busy = false;
        return r;
}

/* One lookup: the signals that would interrupt sd-bus's wait are held
 * off meanwhile (the application's handlers get them after), and errno is
 * the caller's again after. */
static int lookup(const char *name, NssAddress **ret, size_t *ret_n) {
        static const int held[] = { SIGALRM, SIGVTALRM, SIGCHLD, SIGHUP, SIGIO, SIGPROF, SIGURG, SIGUSR1,
                                    SIGUSR2, SIGWINCH, SIGPIPE };
        sigset_t mask, old;
        int saved = errno, r;

        sigemptyset(&mask);
        for (size_t i = 0; i < ELEMENTSOF(held); i++)
                sigaddset(&mask, held[i]);
        (void) pthread_sigmask(SIG_BLOCK, &mask, &old);
        r = machine_addresses(name, ret, ret_n);
        (void) pthread_sigmask(SIG_SETMASK, &old, NULL);
        errno = saved;
        return r;
}

/* What a failure R of a lookup or of packing says to glibc. */
static enum nss_status nss_fail(int r, int *errnop, int *h_errnop) {
        switch (r) {
        case -ERANGE: /* glibc retries with a bigger buffer */
                *errnop = ERANGE;
                *h_errnop = NETDB_INTERNAL;
                return NSS_STATUS_TRYAGAIN;
        case -ESRCH:
        case -EINVAL:
                *errnop = ESRCH;
                *h_errnop = HOST_NOT_FOUND;
                return NSS_STATUS_NOTFOUND;
        case -ENODATA: /* the machine runs, without an address of that family */
                *errnop = ESRCH;
                *h_errnop = NO_DATA;
                return NSS_STATUS_NOTFOUND;
        default: /* no bus, no boxd, a bypass, a failure: the next module may know */
                *errnop = -r;
                *h_errnop = NO_RECOVERY;
                return NSS_STATUS_UNAVAIL;
        }
}

enum nss_status _nss_boxctl_gethostbyname4_r(const char *name, struct gaih_addrtuple **pat, char *buffer,
                                             size_t buflen, int *errnop, int *h_errnop, int32_t *ttlp) {
        _cleanup_free_ NssAddress *a = NULL;
        size_t n = 0;
        int r;

        if (!machine_name_is_valid(name))
                return nss_fail(-EINVAL, errnop, h_errnop);
        r = lookup(name, &a, &n);
        if (r >= 0)
                r = nss_pack_addrtuples(name, a, n, buffer, buflen, pat);
        if (r < 0)
                return nss_fail(r, errnop, h_errnop);
        if (ttlp)
                *ttlp = 0; /* a machine's addresses change as it comes and goes */
        return NSS_STATUS_SUCCESS;
}

enum nss_status _nss_boxctl_gethostbyname3_r(const char *name, int af, struct hostent *host, char *buffer,
                                             size_t buflen, int *errnop, int *h_errnop, int32_t *ttlp,
                                             char **canonp) {
        _cleanup_free_ NssAddress *a = NULL;
        size_t n = 0;
        int r;

        if (af == AF_UNSPEC)
                af = AF_INET;
        if (af != AF_INET && af != AF_INET6) {
                *errnop = EAFNOSUPPORT;
                *h_errnop = NO_DATA;
                return NSS_STATUS_UNAVAIL;
        }
        if (!machine_name_is_valid(name))
                return nss_fail(-EINVAL, errnop, h_errnop);
        r = lookup(name, &a, &n);
        if (r >= 0)
                r = nss_pack_hostent(name, af, a, n, buffer, buflen, host);
        if (r < 0)
                return nss_fail(r, errnop, h_errnop);
        if (ttlp)
                *ttlp = 0;
        if (canonp)
                *canonp = host->h_name;
        return NSS_STATUS_SUCCESS;
}

enum nss_status _nss_boxctl_gethostbyname2_r(const char *name, int af, struct hostent *host, char *buffer,
                                             size_t buflen, int *errnop, int *h_errnop) {
        return _nss_boxctl_gethostbyname3_r(name, af, host, buffer, buflen, errnop, h_errnop, NULL, NULL);
}

enum nss_status _nss_boxctl_gethostbyname_r(const char *name, struct hostent *host, char *buffer, size_t buflen,
                                            int *errnop, int *h_errnop) {
        return _nss_boxctl_gethostbyname3_r(name, AF_INET, host, buffer, buflen, errnop, h_errnop, NULL, NULL);
}
