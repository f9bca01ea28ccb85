/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --bind=SRC[:DST[:OPTIONS]] and --bind-ro=: settings_add_bind(). The first
 * byte says which of the two options it came from. */
#include "fuzz.h"
#include "settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *spec = NULL;
        Settings s = {};
        bool read_only;
        int r;

        if (size < 1 || size > 4096)
                return 0;
        read_only = data[0] & 1;
        spec = fuzz_string(data + 1, size - 1);

        r = settings_add_bind(&s, spec, read_only);
        FUZZ_CHECK(r == 0 || r == -EINVAL);
        if (r == 0) {
                const BindMount *b = &s.binds[0];

                FUZZ_CHECK(s.n_binds == 1);
                FUZZ_CHECK(path_is_absolute(b->source));
                FUZZ_CHECK(path_is_normalized_absolute(b->destination));
                FUZZ_CHECK(!strchr(b->source, ':') && !strchr(b->destination, ':'));
                FUZZ_CHECK(b->idmap >= -1 && b->idmap <= 1);
                /* Without options, the option it came from decides. */
                if (!strchr(strchr(spec, ':') ? strchr(spec, ':') + 1 : "", ':'))
                        FUZZ_CHECK(b->read_only == read_only);
        } else
                FUZZ_CHECK(s.n_binds == 0);
        settings_done(&s);
        return 0;
}
