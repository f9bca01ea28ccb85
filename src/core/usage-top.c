/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "string-table.h"
#include "usage-top.h"
#include "util.h"

static const char *const top_order_table[_TOP_ORDER_MAX] = {
        [TOP_ORDER_CPU] = "cpu",     [TOP_ORDER_MEMORY] = "memory", [TOP_ORDER_TASKS] = "tasks",
        [TOP_ORDER_IO] = "io",       [TOP_ORDER_NAME] = "name",
};

DEFINE_STRING_TABLE(top_order, TopOrder, top_order_table, _TOP_ORDER_MAX)

/* Each order's key is the first letter of its name, as systemd-cgtop's are
 * (it has no 'n': there 'p' orders by path). */
char top_order_to_key(TopOrder o) {
        const char *s = top_order_to_string(o);

        return s ? s[0] : '\0';
}

TopOrder top_order_from_key(int key) {
        for (int i = 0; i < _TOP_ORDER_MAX; i++)
                if (top_order_table[i][0] == key)
                        return (TopOrder) i;
        return _TOP_ORDER_INVALID;
}

/* Per second, from a counter's two values DT µs apart; not known when either
 * is not, or when it went back (the kernel's counters only grow: a machine
 * restarted under the same name and leader PID would be such a case). */
static uint64_t rate(uint64_t before, uint64_t now, uint64_t dt) {
        if (before == TOP_UNKNOWN || now == TOP_UNKNOWN || now < before || dt == 0)
                return TOP_UNKNOWN;
        return (uint64_t) ((double) (now - before) * 1e6 / (double) dt);
}

void top_row_compute(const TopSample *prev, const TopSample *now, TopRow *ret) {
        const CgroupUsage *u = &now->usage;
        TopRow row = {
                .name = now->name,
                .tasks = u->tasks,
                .memory = u->memory_current,
                .cpu_percent = -1,
                .io_read_rate = TOP_UNKNOWN,
                .io_write_rate = TOP_UNKNOWN,
        };

        if (prev && now->timestamp > prev->timestamp) {
                uint64_t dt = now->timestamp - prev->timestamp;
                const CgroupUsage *p = &prev->usage;

                if (p->cpu_usec != TOP_UNKNOWN && u->cpu_usec != TOP_UNKNOWN && u->cpu_usec >= p->cpu_usec)
                        row.cpu_percent = (double) (u->cpu_usec - p->cpu_usec) * 100.0 / (double) dt;
                row.io_read_rate = rate(p->io_read_bytes, u->io_read_bytes, dt);
                row.io_write_rate = rate(p->io_write_bytes, u->io_write_bytes, dt);
        }
        *ret = row;
}

/* Both rates, for --order=io; not known only when neither is. */
static uint64_t io_total(const TopRow *r) {
        if (r->io_read_rate == TOP_UNKNOWN && r->io_write_rate == TOP_UNKNOWN)
                return TOP_UNKNOWN;
        return (r->io_read_rate == TOP_UNKNOWN ? 0 : r->io_read_rate) +
               (r->io_write_rate == TOP_UNKNOWN ? 0 : r->io_write_rate);
}

/* Larger first, the unknown last: < 0 when A comes first. */
static int cmp_desc_u64(uint64_t a, uint64_t b) {
        if (a == b)
                return 0;
        if (a == TOP_UNKNOWN)
                return 1;
        if (b == TOP_UNKNOWN)
                return -1;
        return a > b ? -1 : 1;
}

static int cmp_desc_percent(double a, double b) {
        bool ka = a >= 0, kb = b >= 0;

        if (ka != kb)
                return ka ? -1 : 1;
        if (!ka || a == b)
                return 0;
        return a > b ? -1 : 1;
}

static int cmp_rows(const void *x, const void *y, void *userdata) {
        const TopRow *a = x, *b = y;
        TopOrder order = *(const TopOrder *) userdata;
        int c = 0;

        switch (order) {
        case TOP_ORDER_CPU:
                c = cmp_desc_percent(a->cpu_percent, b->cpu_percent);
                break;
        case TOP_ORDER_MEMORY:
                c = cmp_desc_u64(a->memory, b->memory);
                break;
        case TOP_ORDER_TASKS:
                c = cmp_desc_u64(a->tasks, b->tasks);
                break;
        case TOP_ORDER_IO:
                c = cmp_desc_u64(io_total(a), io_total(b));
                break;
        default:
                break;
        }
        return c != 0 ? c : strcmp(a->name, b->name);
}

void top_rows_sort(TopRow *rows, size_t n, TopOrder order) {
        if (n > 1)
                qsort_r(rows, n, sizeof(TopRow), cmp_rows, &order);
}

void top_samples_free(TopSample *samples, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(samples[i].name);
        free(samples);
}

void top_state_done(TopState *s) {
        top_samples_free(s->samples, s->n);
        *s = (TopState) {};
}

static const TopSample *top_state_find(const TopState *s, const TopSample *now) {
        for (size_t i = 0; i < s->n; i++)
                if (streq(s->samples[i].name, now->name) && s->samples[i].leader == now->leader)
                        return &s->samples[i];
        return NULL;
}

int top_state_update(TopState *s, TopSample *samples, size_t n, TopRow **ret_rows) {
        _cleanup_free_ TopRow *rows = calloc(n ?: 1, sizeof(TopRow));

        if (!rows) {
                top_samples_free(samples, n);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                top_row_compute(top_state_find(s, &samples[i]), &samples[i], &rows[i]);
        top_state_done(s);
        s->samples = samples;
        s->n = n;
        *ret_rows = TAKE_PTR(rows);
        return 0;
}

int top_parse_delay(const char *s, uint64_t *ret_usec) {
        uint64_t usec;
        int r;

        r = parse_seconds(s, &usec);
        if (r < 0)
                return r;
        if (usec < TOP_DELAY_MIN_USEC || usec > TOP_DELAY_MAX_USEC)
                return -ERANGE;
        *ret_usec = usec;
        return 0;
}

int top_parse_iterations(const char *s, unsigned *ret) {
        unsigned v;
        int r;

        r = parse_uint(s, &v);
        if (r < 0)
                return r;
        if (v == 0)
                return -ERANGE;
        *ret = v;
        return 0;
}
