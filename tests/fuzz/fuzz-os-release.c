/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A tree's os-release, which its owner wrote: read_os_release_field(), for
 * the keys boxctl asks for. */
#include "fuzz.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const keys[] = { "ID", "VERSION_ID", "PRETTY_NAME", "NAME", "ID_LIKE" };
        _cleanup_free_ char *text = NULL;

        if (size > 64 * 1024) /* what boxctl reads of the file at most */
                return 0;
        text = fuzz_string(data, size);

        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                _cleanup_free_ char *v = NULL;
                int r;

                r = read_os_release_field(text, keys[i], &v);
                FUZZ_CHECK(r == 0 || r == -ENOENT);
                if (r < 0) {
                        FUZZ_CHECK(!v);
                        continue;
                }
                /* One line's value, found in the text, at most one level of quotes off. */
                FUZZ_CHECK(v && !strchr(v, '\n'));
                FUZZ_CHECK(strstr(text, v));
                FUZZ_CHECK(strlen(v) < strlen(text));
        }
        return 0;
}
