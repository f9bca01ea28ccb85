/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the libFuzzer targets share. Each target feeds one parser of input
 * boxctl does not control (the command line, a machine's files, a disk image,
 * a message from the payload) and checks what the parser promises about what
 * it accepts, so that a wrong answer is a crash too, not only a bad access. */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken promise: abort, so libFuzzer keeps the input. */
#define FUZZ_CHECK(expr)                                                                  \
        do {                                                                              \
                if (!(expr)) {                                                            \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
                        abort();                                                          \
                }                                                                         \
        } while (0)

/* The input as a C string, up to its first NUL, as argv would carry it. */
static inline char *fuzz_string(const uint8_t *data, size_t size) {
        char *s = strndup((const char *) data, size);

        if (!s)
                abort();
        return s;
}

/* Splits the input at NUL bytes into at most N strings (missing ones are ""):
 * for parsers that take several. Free each with free(). */
static inline void fuzz_split(const uint8_t *data, size_t size, char **ret, size_t n) {
        for (size_t i = 0; i < n; i++) {
                const uint8_t *e = memchr(data, '\0', size);
                size_t l = e ? (size_t) (e - data) : size;

                ret[i] = fuzz_string(data, l);
                data += MIN(l + 1, size);
                size -= MIN(l + 1, size);
        }
}
