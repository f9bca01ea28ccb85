/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* The pool verbs' progress line (verb-images.c), shared by every long one:
 * import-tar, import-raw, import-fs, export-tar, export-raw, pull-tar,
 * pull-raw and clone. One line on stderr, redrawn at most ten times a
 * second: the bytes so far, the total and the time left where known, the
 * rate. */
typedef struct Progress {
        const char *what;
        uint64_t start, last;
        bool show; /* stderr is a terminal and no -q */
} Progress;

/* P for WHAT, started now; drawn only when SHOW and stderr is a terminal. */
void progress_start(Progress *p, const char *what, bool show);
/* A PoolProgress: USERDATA is a Progress. */
void progress_draw(uint64_t bytes, uint64_t total, void *userdata);
/* Clears the line, when one was drawn. */
void progress_end(const Progress *p);

/* The options of the pool verbs (verb-images.c), shared with those that
 * move images in and out (verb-transfer.c). */
typedef struct ImagesArgs {
        const char *pool;
        bool legend, json, all, quiet;
        const char *format; /* --format= of the import-* and export-* of streams */
        int n_args;
        char **args;
} ImagesArgs;

/* The pool ARGS name, or the default one. */
const char *pool_of(const ImagesArgs *a);
/* 1: go on; 0: help shown; < 0: error (logged). Positional arguments must number MIN to MAX. */
int images_parse_args(int argc, char *argv[], int min, int max, const char *usage, const char *what, ImagesArgs *ret);
/* The one line for a failure R of VERB on image NAME; returns R. */
int log_image_error(int r, const ImagesArgs *a, const char *verb, const char *name);
