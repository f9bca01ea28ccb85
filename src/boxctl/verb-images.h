/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
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
