/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The other values of boot/run options that the core parses:
 * --kill-timeout= (parse_seconds()), --machine-id= (id128_from_string()),
 * --capability= and --drop-capability= (caps_parse()), --console= and
 * --register= (string tables). */
#include <linux/capability.h>

#include "caps.h"
#include "fuzz.h"
#include "settings.h"

static void check_seconds(const char *s) {
        uint64_t usec = 0;
        int r;

        r = parse_seconds(s, &usec);
        FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ERANGE);
        if (r == 0)
                FUZZ_CHECK(usec <= UINT64_MAX / 2);
}

static void check_id128(const char *s) {
        Id128 id, again;
        char hex[33], uuid[37];

        if (id128_from_string(s, &id) < 0)
                return;
        FUZZ_CHECK(strlen(s) == 32 || strlen(s) == 36);
        id128_to_hex(&id, hex);
        id128_to_uuid(&id, uuid);
        FUZZ_CHECK(id128_from_string(hex, &again) == 0 && memcmp(&id, &again, sizeof id) == 0);
        FUZZ_CHECK(id128_from_string(uuid, &again) == 0 && memcmp(&id, &again, sizeof id) == 0);
}

static void check_caps(const char *s) {
        _cleanup_free_ char *bad = NULL, *text = NULL;
        uint64_t mask = 0, again = 0;
        int r;

        r = caps_parse(s, &mask, &bad);
        FUZZ_CHECK(r == 0 || r == -EINVAL);
        if (r < 0) {
                FUZZ_CHECK(bad);
                return;
        }
        FUZZ_CHECK(!bad);
        FUZZ_CHECK((mask & ~caps_all()) == 0);
        /* Capabilities our headers name are written out by name, and read back. */
        mask &= CAP_LAST_CAP >= 63 ? UINT64_MAX : (UINT64_C(1) << (CAP_LAST_CAP + 1)) - 1;
        text = caps_to_string(mask);
        FUZZ_CHECK(text);
        FUZZ_CHECK(caps_parse(text, &again, NULL) == 0 && again == mask);
}

static void check_tables(const char *s) {
        ConsoleMode c = console_mode_from_string(s);
        RegisterMode g = register_mode_from_string(s);

        FUZZ_CHECK(c == _CONSOLE_MODE_INVALID || streq(console_mode_to_string(c), s));
        FUZZ_CHECK(g == _REGISTER_MODE_INVALID || streq(register_mode_to_string(g), s));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = NULL;

        if (size > 1024)
                return 0;
        s = fuzz_string(data, size);

        check_seconds(s);
        check_id128(s);
        check_caps(s);
        check_tables(s);
        return 0;
}
