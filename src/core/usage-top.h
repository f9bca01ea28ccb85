/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* `boxctl top`'s arithmetic: what one refresh shows of each machine, from two
 * samples of its counters (cgroup-usage.h), and in which order. The CLI
 * (verb-top.c) takes the samples and prints; nothing here reads a cgroup or
 * prints. */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgroup-usage.h"

typedef enum TopOrder {
        TOP_ORDER_CPU,
        TOP_ORDER_MEMORY,
        TOP_ORDER_TASKS,
        TOP_ORDER_IO,
        TOP_ORDER_NAME,
        _TOP_ORDER_MAX,
        _TOP_ORDER_INVALID = -EINVAL,
} TopOrder;

const char *top_order_to_string(TopOrder o);
TopOrder top_order_from_string(const char *s);
/* The key that picks O on the interactive screen ('c', 'm', 't', 'i', 'n'). */
char top_order_to_key(TopOrder o);
TopOrder top_order_from_key(int key);

/* One machine's counters at one time. */
typedef struct TopSample {
        char *name;
        uint32_t leader;    /* with the name, tells a machine from a later one of that name */
        uint64_t timestamp; /* µs on CLOCK_MONOTONIC */
        CgroupUsage usage;
} TopSample;

/* What a row shows. A rate needs two samples of the same machine: the first
 * refresh, and a machine that just started, have none (TOP_UNKNOWN, and a
 * negative cpu_percent). */
#define TOP_UNKNOWN CGROUP_USAGE_UNKNOWN

typedef struct TopRow {
        const char *name; /* the sample's */
        uint64_t tasks, memory;
        double cpu_percent; /* of one CPU, so above 100 on several; < 0: not known */
        uint64_t io_read_rate, io_write_rate; /* bytes per second */
} TopRow;

/* The row of NOW, with rates against PREV (NULL for none: a new machine). */
void top_row_compute(const TopSample *prev, const TopSample *now, TopRow *ret);
/* By ORDER: the largest first, names A to Z; what is not known last; ties by name. */
void top_rows_sort(TopRow *rows, size_t n, TopOrder order);

/* The samples of the refresh before, to compute the next one's rates. */
typedef struct TopState {
        TopSample *samples;
        size_t n;
} TopState;

void top_state_done(TopState *s);
void top_samples_free(TopSample *samples, size_t n);
/* Takes SAMPLES (all of one refresh; freed here, also on failure), keeps them
 * for the next call, and returns their rows, unsorted, pointing into them:
 * valid until the next call or top_state_done(). */
int top_state_update(TopState *s, TopSample *samples, size_t n, TopRow **ret_rows);

/* --delay: "1", "0.5", "500ms", "2s", "1min"; from 10 ms to 1 day. */
#define TOP_DELAY_MIN_USEC UINT64_C(10000)
#define TOP_DELAY_MAX_USEC (UINT64_C(86400) * 1000000)
int top_parse_delay(const char *s, uint64_t *ret_usec);
/* -n: at least 1. */
int top_parse_iterations(const char *s, unsigned *ret);
