/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The --network-* values: --network-pool=A.B.C.D/N (network_pool_parse()),
 * --network-zone=ZONE (network_zone_name_is_valid()), and the interface
 * names made from a zone, a bridge port or a machine name (network_ifname()),
 * which go to the kernel as they are. */
#include <net/if.h>

#include "fuzz.h"
#include "network.h"

static void check_ifname(const char *prefix, const char *name) {
        char ifname[IFNAMSIZ];
        size_t p = strlen(prefix);
        int r;

        memset(ifname, 'x', sizeof ifname);
        r = network_ifname(prefix, name, ifname);
        FUZZ_CHECK(r == 0 || r == 1 || r == -EINVAL);
        if (r < 0)
                return;
        /* dev_valid_name(): at most IFNAMSIZ - 1, no '/', ':' or white space. */
        FUZZ_CHECK(memchr(ifname, '\0', sizeof ifname));
        FUZZ_CHECK(strlen(ifname) > p && strneq(ifname, prefix, p));
        for (const char *c = ifname; *c; c++)
                FUZZ_CHECK(*c > ' ' && *c < 127 && *c != '/' && *c != ':');
        FUZZ_CHECK((r == 1) == (p + strlen(name) > IFNAMSIZ - 1));
        if (r == 0)
                FUZZ_CHECK(streq(ifname + p, name));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = NULL;
        char buf[NETWORK_POOL_STRING_MAX];
        NetworkPool pool = {}, again = {};
        int r;

        if (size > 1024)
                return 0;
        s = fuzz_string(data, size);

        r = network_pool_parse(s, &pool);
        FUZZ_CHECK(r == 0 || r == -EINVAL);
        if (r == 0) {
                FUZZ_CHECK(pool.prefixlen >= 8 && pool.prefixlen <= 30);
                network_pool_format(&pool, buf);
                FUZZ_CHECK(network_pool_parse(buf, &again) == 0);
                FUZZ_CHECK(again.base.s_addr == pool.base.s_addr && again.prefixlen == pool.prefixlen);
        }

        if (network_zone_name_is_valid(s)) {
                char ifname[IFNAMSIZ];

                FUZZ_CHECK(strlen(s) <= NETWORK_ZONE_NAME_MAX);
                /* A valid zone always makes its bridge's name unshortened. */
                FUZZ_CHECK(network_ifname("vz-", s, ifname) == 0);
        }
        check_ifname("ve-", s);
        check_ifname("vb-", s);
        check_ifname("vz-", s);
        check_ifname("", s);
        return 0;
}
