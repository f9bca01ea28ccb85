/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The NSS module's answers laid out in glibc's buffers (src/nss/nss-pack.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "macro.h"
#include "nss-pack.h"
#include "tap.h"

static const NssAddress addrs[] = {
        { .family = AF_INET, .bytes = { 10, 0, 0, 2 } },
        { .family = AF_INET6, .bytes = { 0xfd, 0x00, [15] = 0x02 } },
        { .family = AF_INET, .bytes = { 192, 168, 1, 9 } },
        { .family = AF_UNIX }, /* not an address: skipped */
        { .family = AF_INET6, .bytes = { 0xfe, 0x80, [15] = 0x07 } }, /* link-local: skipped */
};

static bool aligned(const void *p) {
        return ((uintptr_t) p % sizeof(void *)) == 0;
}

static void test_addrtuples(void) {
        char buf[512], ip[INET6_ADDRSTRLEN];
        struct gaih_addrtuple *t = NULL;
        size_t need = 0;

        /* An odd start: the tuples must still be aligned. */
        CHECK(nss_pack_addrtuples("bb", addrs, ELEMENTSOF(addrs), buf + 1, sizeof buf - 1, &t) == 0);
        CHECK(t && aligned(t));
        CHECK_STREQ(t->name, "bb");
        CHECK(t->family == AF_INET);
        CHECK_STREQ(inet_ntop(AF_INET, t->addr, ip, sizeof ip), "10.0.0.2");
        CHECK(t->next && t->next->family == AF_INET6 && t->next->name == t->name);
        CHECK_STREQ(inet_ntop(AF_INET6, t->next->addr, ip, sizeof ip), "fd00::2");
        CHECK(t->next->next && t->next->next->next == NULL);
        CHECK_STREQ(inet_ntop(AF_INET, t->next->next->addr, ip, sizeof ip), "192.168.1.9");
        CHECK(t->next->next->scopeid == 0);

        /* Every size too small is refused, and the smallest that fits works. */
        for (size_t len = 0; len < sizeof buf; len++) {
                struct gaih_addrtuple *u = NULL;
                int r = nss_pack_addrtuples("bb", addrs, ELEMENTSOF(addrs), buf + 3, len, &u);

                if (r == 0) {
                        need = len;
                        break;
                }
                if (r != -ERANGE)
                        break;
        }
        CHECK(need > 0);
        CHECK(nss_pack_addrtuples("bb", addrs, 0, buf, sizeof buf, &t) == -ENODATA);
        CHECK(nss_pack_addrtuples("bb", addrs + 3, 2, buf, sizeof buf, &t) == -ENODATA);
}

static void test_hostent(void) {
        char buf[512], ip[INET6_ADDRSTRLEN];
        struct hostent h = {};
        bool untouched = true;

        CHECK(nss_pack_hostent("deb", AF_INET, addrs, ELEMENTSOF(addrs), buf + 5, sizeof buf - 5, &h) == 0);
        CHECK_STREQ(h.h_name, "deb");
        CHECK(h.h_addrtype == AF_INET && h.h_length == 4);
        CHECK(h.h_aliases && aligned(h.h_aliases) && h.h_aliases[0] == NULL);
        CHECK(h.h_addr_list && aligned(h.h_addr_list));
        CHECK_STREQ(inet_ntop(AF_INET, h.h_addr_list[0], ip, sizeof ip), "10.0.0.2");
        CHECK_STREQ(inet_ntop(AF_INET, h.h_addr_list[1], ip, sizeof ip), "192.168.1.9");
        CHECK(h.h_addr_list[2] == NULL);

        CHECK(nss_pack_hostent("deb", AF_INET6, addrs, ELEMENTSOF(addrs), buf, sizeof buf, &h) == 0);
        CHECK(h.h_addrtype == AF_INET6 && h.h_length == 16);
        CHECK_STREQ(inet_ntop(AF_INET6, h.h_addr_list[0], ip, sizeof ip), "fd00::2");
        CHECK(h.h_addr_list[1] == NULL);

        /* Only IPv4: nothing for AF_INET6 (no mapped addresses). */
        CHECK(nss_pack_hostent("deb", AF_INET6, addrs, 1, buf, sizeof buf, &h) == -ENODATA);
        CHECK(nss_pack_hostent("deb", AF_INET6, addrs + 4, 1, buf, sizeof buf, &h) == -ENODATA);
        CHECK(nss_pack_hostent("deb", AF_UNIX, addrs, 1, buf, sizeof buf, &h) == -EAFNOSUPPORT);
        /* Every buffer too small is refused before anything is written. */
        for (size_t len = 0; len < 64; len++) {
                int r;

                memset(buf, 0x5a, sizeof buf);
                r = nss_pack_hostent("deb", AF_INET, addrs, ELEMENTSOF(addrs), buf, len, &h);
                if (r == 0)
                        break;
                if (r != -ERANGE)
                        untouched = false;
                for (size_t i = 0; i < sizeof buf; i++)
                        if (buf[i] != 0x5a)
                                untouched = false;
        }
        CHECK(untouched);
}

int main(void) {
        test_addrtuples();
        test_hostent();
        return tap_done();
}
