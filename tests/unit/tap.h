/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A minimal TAP producer for unit tests: one "ok"/"not ok" line per check. */

#include <stdio.h>
#include <string.h>

static unsigned tap_n, tap_failed;

#define CHECK(cond)                                                                          \
        do {                                                                                 \
                tap_n++;                                                                     \
                if (cond)                                                                    \
                        printf("ok %u - %s\n", tap_n, #cond);                                \
                else {                                                                       \
                        tap_failed++;                                                        \
                        printf("not ok %u - %s (%s:%d)\n", tap_n, #cond, __FILE__, __LINE__); \
                }                                                                            \
        } while (0)

#define CHECK_STREQ(a, b)                                                                       \
        do {                                                                                    \
                const char *_a = (a), *_b = (b);                                                \
                tap_n++;                                                                        \
                if (_a && _b && strcmp(_a, _b) == 0)                                            \
                        printf("ok %u - %s == \"%s\"\n", tap_n, #a, _b);                        \
                else {                                                                          \
                        tap_failed++;                                                           \
                        printf("not ok %u - %s: got \"%s\", want \"%s\" (%s:%d)\n", tap_n, #a,  \
                               _a ?: "(null)", _b ?: "(null)", __FILE__, __LINE__);             \
                }                                                                               \
        } while (0)

static inline int tap_done(void) {
        printf("1..%u\n", tap_n);
        return tap_failed ? 1 : 0;
}
