/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A machine's /etc/passwd and /etc/group, as `boxctl shell` reads them
 * (enter_parse_passwd(), enter_parse_group()). The input is
 * USER NUL PASSWD NUL GROUP. */
#include "enter.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *parts[3];
        EnterUser u;
        gid_t groups[64];
        size_t n;
        int r;

        if (size > 256 * 1024)
                return 0;
        fuzz_split(data, size, parts, 3);

        memset(&u, 0xaa, sizeof u);
        r = enter_parse_passwd(parts[1], parts[0], &u);
        FUZZ_CHECK(r == 0 || r == -ESRCH || r == -EINVAL);
        if (r == 0) {
                /* Never "leave it as it is" (root), always terminated. */
                FUZZ_CHECK(u.uid != (uid_t) -1 && u.gid != (gid_t) -1);
                FUZZ_CHECK(memchr(u.name, '\0', sizeof u.name) && memchr(u.home, '\0', sizeof u.home) &&
                           memchr(u.shell, '\0', sizeof u.shell));
                FUZZ_CHECK(!isempty(u.home) && !isempty(u.shell));
                FUZZ_CHECK(!strchr(u.name, ':') && !strchr(u.name, '\n'));

                _cleanup_free_ char *group2 = strdup(parts[2]);

                FUZZ_CHECK(group2);
                n = enter_parse_group(parts[2], &u, groups, ELEMENTSOF(groups));
                FUZZ_CHECK(n <= ELEMENTSOF(groups));
                for (size_t i = 0; i < n; i++)
                        FUZZ_CHECK(groups[i] != u.gid);
                /* A short array is never overrun. */
                n = enter_parse_group(group2, &u, groups, 2);
                FUZZ_CHECK(n <= 2);
        }
        for (size_t i = 0; i < ELEMENTSOF(parts); i++)
                free(parts[i]);
        return 0;
}
