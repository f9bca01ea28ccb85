/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* syscall-probe NAME...: makes one system call per NAME, with arguments that
 * do no harm whether it is allowed or not, and prints "NAME ok" or
 * "NAME ERRNO" (EPERM, ENOSYS, ...). Static, for any tree. Each call stands
 * for a group of the system call filter (see test-seccomp.sh). */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <unistd.h>

static long probe_adjtimex(void) {
        struct timex tx = { .modes = 0 }; /* a query: no privilege needed */

        return syscall(SYS_clock_adjtime, 0 /* CLOCK_REALTIME */, &tx);
}

static long probe_mlock(void) {
        static char page[4096] __attribute__((aligned(4096)));
        long r = syscall(SYS_mlock, page, sizeof page);

        if (r == 0)
                (void) syscall(SYS_munlock, page, sizeof page);
        return r;
}

static long probe_io_uring(void) {
        char params[120] = {};
        long fd = syscall(425 /* io_uring_setup */, 1, params);

        if (fd >= 0)
                close((int) fd);
        return fd;
}

static long probe_audit_socket(void) {
        long fd = syscall(SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);

        if (fd >= 0)
                close((int) fd);
        return fd;
}

static long probe_route_socket(void) {
        long fd = syscall(SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

        if (fd >= 0)
                close((int) fd);
        return fd;
}

static long probe_fanotify(void) {
        long fd = syscall(SYS_fanotify_init, 0, 0);

        if (fd >= 0)
                close((int) fd);
        return fd;
}

static long probe_tiocsti(void) {
        char c = '\n';
        int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
        long r;

        /* No terminal at all: try stdin, which fails with ENOTTY at worst. */
        r = syscall(SYS_ioctl, fd >= 0 ? fd : 0, TIOCSTI, &c);
        if (fd >= 0)
                close(fd);
        return r;
}

static long probe_tcgets(void) {
        char buf[64];

        return syscall(SYS_ioctl, 0, TCGETS, buf);
}

static long probe_memfd(void) {
        long fd = syscall(SYS_memfd_create, "probe", 1 /* MFD_CLOEXEC */);

        if (fd >= 0)
                close((int) fd);
        return fd;
}

static long probe_umount(void) {
        /* Nothing mounted there: EINVAL or ENOENT when allowed. */
        return syscall(SYS_umount2, "/nonexistent-probe", 0);
}

static const struct {
        const char *name;
        long (*call)(void);
        long nr; /* when call is NULL: syscall(nr, 0, 0, 0, 0, 0, 0) */
} probes[] = {
        { "getpid", NULL, SYS_getpid },
        { "uname", NULL, -2 },
        { "memfd_create", probe_memfd, 0 },
        { "umount2", probe_umount, 0 },
        { "route_socket", probe_route_socket, 0 },
        { "tcgets", probe_tcgets, 0 },
        /* refused */
        { "clock_adjtime", probe_adjtimex, 0 },          /* @clock */
        { "init_module", NULL, SYS_init_module },        /* @module */
        { "iopl", NULL, SYS_iopl },                      /* @raw-io: iopl(0) needs no privilege */
        { "mlock", probe_mlock, 0 },                     /* @memlock */
        { "kexec_load", NULL, SYS_kexec_load },          /* @reboot */
        { "swapoff", NULL, SYS_swapoff },                /* @swap */
        { "add_key", NULL, SYS_add_key },                /* @keyring */
        { "keyctl", NULL, SYS_keyctl },                  /* @keyring: KEYCTL_GET_KEYRING_ID */
        { "modify_ldt", NULL, SYS_modify_ldt },          /* @cpu-emulation: a read of 0 bytes */
        { "sysfs", NULL, SYS_sysfs },                    /* @obsolete */
        { "pkey_alloc", NULL, SYS_pkey_alloc },          /* @pkey */
        { "perf_event_open", NULL, SYS_perf_event_open },/* @debug */
        { "pidfd_getfd", NULL, SYS_pidfd_getfd },        /* @debug */
        { "bpf", NULL, SYS_bpf },
        { "open_by_handle_at", NULL, SYS_open_by_handle_at },
        { "fanotify_init", probe_fanotify, 0 },
        { "quotactl", NULL, SYS_quotactl },
        { "syslog", NULL, -3 },
        { "io_uring_setup", probe_io_uring, 0 },
        { "lookup_dcookie", NULL, SYS_lookup_dcookie },
        { "memfd_secret", NULL, 447 },
        { "audit_socket", probe_audit_socket, 0 },
        { "tiocsti", probe_tiocsti, 0 },
        { "newer_than_libseccomp", NULL, 1000 },
};

static const char *errno_name(int e) {
        static const struct {
                int e;
                const char *name;
        } names[] = {
                { EPERM, "EPERM" },   { ENOSYS, "ENOSYS" }, { EINVAL, "EINVAL" }, { EFAULT, "EFAULT" },
                { EBADF, "EBADF" },   { ENOENT, "ENOENT" }, { EACCES, "EACCES" }, { ENOTTY, "ENOTTY" },
                { ENOMEM, "ENOMEM" }, { ENOSPC, "ENOSPC" }, { EAFNOSUPPORT, "EAFNOSUPPORT" },
                { EOPNOTSUPP, "EOPNOTSUPP" }, { ENXIO, "ENXIO" }, { ESRCH, "ESRCH" },
        };
        static char buf[16];

        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
                if (names[i].e == e)
                        return names[i].name;
        snprintf(buf, sizeof buf, "E%d", e);
        return buf;
}

int main(int argc, char *argv[]) {
        int rc = 0;

        for (int i = 1; i < argc; i++) {
                size_t j;
                long r;

                for (j = 0; j < sizeof probes / sizeof probes[0]; j++)
                        if (strcmp(argv[i], probes[j].name) == 0)
                                break;
                if (j == sizeof probes / sizeof probes[0]) {
                        fprintf(stderr, "syscall-probe: unknown probe %s\n", argv[i]);
                        rc = 2;
                        continue;
                }
                errno = 0;
                if (probes[j].call)
                        r = probes[j].call();
                else if (probes[j].nr == -2) {
                        char buf[512];
                        r = syscall(SYS_uname, buf);
                } else if (probes[j].nr == -3)
                        r = syscall(SYS_syslog, 10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
                else if (probes[j].nr == SYS_keyctl)
                        r = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0);
                else
                        r = syscall(probes[j].nr, 0, 0, 0, 0, 0, 0);
                printf("%s %s\n", argv[i], r >= 0 ? "ok" : errno_name(errno));
        }
        return rc;
}
