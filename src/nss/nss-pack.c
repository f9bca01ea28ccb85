/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "nss-pack.h"

/* Everything placed in the buffer holds pointers or 32-bit words. */
#define NSS_ALIGN(x) (((x) + sizeof(void *) - 1) & ~(sizeof(void *) - 1))

static size_t family_size(int af) {
        return af == AF_INET ? 4 : af == AF_INET6 ? 16 : 0;
}

/* Whether A is worth giving to the host: an IPv6 link-local address of the
 * machine's (fe80::/10) is of no use without the host end's interface as its
 * scope, which the registry does not say. */
static bool address_usable(const NssAddress *a) {
        if (a->family == AF_INET6)
                return !(a->bytes[0] == 0xfe && (a->bytes[1] & 0xc0) == 0x80);
        return a->family == AF_INET;
}

/* The caller's buffer need not be aligned: where its first aligned byte is. */
static size_t buffer_pad(const char *buf) {
        return NSS_ALIGN((uintptr_t) buf) - (uintptr_t) buf;
}

int nss_pack_addrtuples(const char *name, const NssAddress *a, size_t n, char *buf, size_t buflen,
                        struct gaih_addrtuple **ret) {
        size_t pad = buffer_pad(buf), name_size = NSS_ALIGN(strlen(name) + 1), k = 0, need;
        struct gaih_addrtuple *tuples, *prev = NULL;
        char *p;

        for (size_t i = 0; i < n; i++)
                if (address_usable(&a[i]))
                        k++;
        if (k == 0)
                return -ENODATA;
        need = pad + name_size + k * NSS_ALIGN(sizeof(struct gaih_addrtuple));
        if (buflen < need)
                return -ERANGE;

        p = buf + pad;
        memcpy(p, name, strlen(name) + 1);
        tuples = (struct gaih_addrtuple *) (p + name_size);
        k = 0;
        for (size_t i = 0; i < n; i++) {
                struct gaih_addrtuple *t = &tuples[k];

                if (!address_usable(&a[i]))
                        continue;
                *t = (struct gaih_addrtuple) { .name = p, .family = a[i].family };
                memcpy(t->addr, a[i].bytes, family_size(a[i].family));
                if (prev)
                        prev->next = t;
                prev = t;
                k++;
        }
        *ret = tuples;
        return 0;
}

int nss_pack_hostent(const char *name, int af, const NssAddress *a, size_t n, char *buf, size_t buflen,
                     struct hostent *ret) {
        size_t pad = buffer_pad(buf), name_size = NSS_ALIGN(strlen(name) + 1), alen = family_size(af), k = 0, need;
        char *p, **aliases, **list, *addrs;

        if (alen == 0)
                return -EAFNOSUPPORT;
        for (size_t i = 0; i < n; i++)
                if (a[i].family == af && address_usable(&a[i]))
                        k++;
        if (k == 0)
                return -ENODATA;
        /* The name, the aliases (none: a NULL), the address list, the addresses. */
        need = pad + name_size + sizeof(char *) + (k + 1) * sizeof(char *) + k * NSS_ALIGN(alen);
        if (buflen < need)
                return -ERANGE;

        p = buf + pad;
        memcpy(p, name, strlen(name) + 1);
        aliases = (char **) (p + name_size);
        aliases[0] = NULL;
        list = aliases + 1;
        addrs = (char *) (list + k + 1);
        k = 0;
        for (size_t i = 0; i < n; i++) {
                if (a[i].family != af || !address_usable(&a[i]))
                        continue;
                list[k] = addrs + k * NSS_ALIGN(alen);
                memcpy(list[k], a[i].bytes, alen);
                k++;
        }
        list[k] = NULL;
        *ret = (struct hostent) {
                .h_name = p,
                .h_aliases = aliases,
                .h_addrtype = af,
                .h_length = (int) alen,
                .h_addr_list = list,
        };
        return 0;
}
