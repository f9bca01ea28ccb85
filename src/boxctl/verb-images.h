/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* The pool verbs' progress line (verb-images.c), shared by import-tar,
 * export-tar, pull-tar and pull-raw: one line on stderr, redrawn at most ten
 * times a second, with the bytes so far and the rate. */
typedef struct Progress {
        const char *what;
        uint64_t start, last;
} Progress;

/* A PoolProgress: USERDATA is a Progress. */
void progress_draw(uint64_t bytes, void *userdata);
/* Clears the line, when one was drawn. */
void progress_end(const Progress *p);
