/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <string.h>

/* An enum's names: TABLE is indexed by the enum, MAX is its _MAX. Defines
 * NAME_to_string() (NULL out of range) and NAME_from_string() ((TYPE) -EINVAL
 * for an unknown name). Every table gets a round-trip test. */
#define DEFINE_STRING_TABLE(name, type, table, max)                                  \
        const char *name##_to_string(type v) {                                       \
                return (int) v >= 0 && (int) v < (int) (max) ? (table)[v] : NULL;    \
        }                                                                            \
        type name##_from_string(const char *s) {                                     \
                for (int i = 0; s && i < (int) (max); i++)                           \
                        if ((table)[i] && strcmp((table)[i], s) == 0)                \
                                return (type) i;                                     \
                return (type) -EINVAL;                                               \
        }
