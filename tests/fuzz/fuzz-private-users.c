/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --private-users=pick|identity|BOOLEAN|BASE[:SIZE]: userns_parse(); and
 * --private-users-ownership=, a plain table. */
#include <inttypes.h>

#include "fuzz.h"
#include "userns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = NULL;
        UserNamespaceMode mode = _USERNS_MODE_INVALID, mode2 = _USERNS_MODE_INVALID;
        uint32_t base = 0, size_ = 0, base2 = 0, size2 = 0;
        OwnershipMode o;
        char again[64];
        int r;

        if (size > 1024)
                return 0;
        s = fuzz_string(data, size);

        o = ownership_mode_from_string(s);
        FUZZ_CHECK(o == _OWNERSHIP_MODE_INVALID || (o >= 0 && o < _OWNERSHIP_MODE_MAX));
        if (o >= 0)
                FUZZ_CHECK(streq(ownership_mode_to_string(o), s));

        r = userns_parse(s, &mode, &base, &size_);
        FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ERANGE || r == -EDOM);
        if (r < 0)
                return 0;
        FUZZ_CHECK(mode >= 0 && mode < _USERNS_MODE_MAX);
        if (mode != USERNS_FIXED)
                return 0;
        FUZZ_CHECK(base % UID_RANGE_SIZE == 0);
        FUZZ_CHECK(base >= UID_PICK_MIN && base <= UID_PICK_MAX);
        FUZZ_CHECK(size_ >= 1 && size_ <= UID_RANGE_SIZE);
        /* The range stays inside the 32-bit UIDs, below (uid_t) -1. */
        FUZZ_CHECK((uint64_t) base + size_ < UINT32_MAX);
        snprintf(again, sizeof again, "%" PRIu32 ":%" PRIu32, base, size_);
        FUZZ_CHECK(userns_parse(again, &mode2, &base2, &size2) == 0);
        FUZZ_CHECK(mode2 == USERNS_FIXED && base2 == base && size2 == size_);
        return 0;
}
