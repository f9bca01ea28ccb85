/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --system-call-filter= values: syscall_filter_parse(), given several times
 * (the input's NUL bytes separate the values), then what the filter would
 * allow with those items (syscall_filter_allowed()). */
#include "caps.h"
#include "fuzz.h"
#include "seccomp-filter.h"
#include "util.h"

#define VALUES_MAX 4

static void check_allowed(char **items) {
        _cleanup_strv_free_ char **allowed = NULL;

        FUZZ_CHECK(syscall_filter_allowed(caps_default(), items, &allowed) == 0);
        /* Sorted, no duplicates, no groups left. */
        for (char **a = allowed; a && *a; a++) {
                FUZZ_CHECK(!isempty(*a) && (*a)[0] != '@' && (*a)[0] != '~');
                if (a != allowed)
                        FUZZ_CHECK(strcmp(a[-1], *a) < 0);
        }
        /* What is taken away stays away, whatever came before or after. */
        for (char **i = items; i && *i; i++)
                if ((*i)[0] == '~' && (*i)[1] != '@')
                        FUZZ_CHECK(!strv_contains(allowed, *i + 1));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_strv_free_ char **items = NULL;
        char *values[VALUES_MAX];

        if (size > 16 * 1024)
                return 0;
        fuzz_split(data, size, values, VALUES_MAX);

        for (size_t v = 0; v < VALUES_MAX; v++) {
                _cleanup_free_ char *bad = NULL;
                _cleanup_strv_free_ char **before = strv_copy(items);
                int r;

                FUZZ_CHECK(before || !items);
                r = syscall_filter_parse(values[v], &items, &bad);
                FUZZ_CHECK(r == 0 || r == -EINVAL || r == -E2BIG);
                if (r < 0) {
                        /* A refused value changes nothing, and -EINVAL says which word. */
                        FUZZ_CHECK(strv_length(items) == strv_length(before));
                        for (size_t i = 0; i < strv_length(items); i++)
                                FUZZ_CHECK(streq(items[i], before[i]));
                        if (r == -EINVAL)
                                FUZZ_CHECK(bad);
                        continue;
                }
                FUZZ_CHECK(!bad);
                if (isempty(values[v])) {
                        FUZZ_CHECK(!items);
                        continue;
                }
                FUZZ_CHECK(strv_length(items) > strv_length(before));
                for (char **i = items; *i; i++)
                        FUZZ_CHECK(!isempty(*i) && !strpbrk(*i, " \t\n") && !strchr(*i + 1, '~'));
        }
        /* Expanding the groups takes milliseconds: for one input in eight,
         * so that the parser gets most of the time. */
        if (size % 8 == 0)
                check_allowed(items);
        for (size_t v = 0; v < VALUES_MAX; v++)
                free(values[v]);
        return 0;
}
