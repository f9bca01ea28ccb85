/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Machine names: -M/--machine=, --hostname= (machine_name_is_valid()), and
 * the name a tree gets from its path (machine_name_from_path()). */
#include "fuzz.h"
#include "settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = NULL, *name = NULL;

        if (size > 4096)
                return 0;
        s = fuzz_string(data, size);

        if (machine_name_is_valid(s)) {
                size_t n = strlen(s);

                FUZZ_CHECK(n >= 1 && n <= 64);
                FUZZ_CHECK(s[0] != '-' && s[0] != '.' && s[n - 1] != '-' && s[n - 1] != '.');
                FUZZ_CHECK(!strstr(s, "..") && !strchr(s, '/'));
        }

        name = machine_name_from_path(s);
        if (name) {
                FUZZ_CHECK(machine_name_is_valid(name));
                /* Its own name again, from a path that ends in it. */
                _cleanup_free_ char *path = strjoin3("/var/lib/machines/", name, "/");
                _cleanup_free_ char *name2 = NULL;

                FUZZ_CHECK(path);
                name2 = machine_name_from_path(path);
                FUZZ_CHECK(name2 && streq(name2, name));
        }
        return 0;
}
