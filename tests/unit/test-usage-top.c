/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* boxctl top's arithmetic (usage-top.c): CPU% and IO rates from two samples,
 * machines matched across refreshes, the orders, and --delay/-n. The real
 * counters are read on real machines by tests/integration/test-top.sh. */
#include <math.h>
#include <stdlib.h>

#include "tap.h"
#include "usage-top.h"
#include "util.h"

static void test_tables(void) {
        for (int i = 0; i < _TOP_ORDER_MAX; i++) {
                CHECK(top_order_from_string(top_order_to_string(i)) == i);
                CHECK(top_order_from_key(top_order_to_key(i)) == i);
        }
        CHECK(top_order_from_string("foo") == _TOP_ORDER_INVALID);
        CHECK(top_order_from_string("") == _TOP_ORDER_INVALID);
        CHECK(top_order_from_string(NULL) == _TOP_ORDER_INVALID);
        CHECK(top_order_from_key('m') == TOP_ORDER_MEMORY);
        CHECK(top_order_from_key('n') == TOP_ORDER_NAME);
        CHECK(top_order_from_key('q') == _TOP_ORDER_INVALID);
        CHECK(top_order_from_key('C') == _TOP_ORDER_INVALID);
        CHECK(top_order_to_string(_TOP_ORDER_MAX) == NULL);
}

static TopSample sample(const char *name, uint32_t leader, uint64_t t, uint64_t cpu, uint64_t mem, uint64_t tasks,
                        uint64_t rd, uint64_t wr) {
        TopSample s = { .name = strdup(name), .leader = leader, .timestamp = t, .usage = CGROUP_USAGE_NULL };

        s.usage.cpu_usec = cpu;
        s.usage.memory_current = mem;
        s.usage.tasks = tasks;
        s.usage.io_read_bytes = rd;
        s.usage.io_write_bytes = wr;
        return s;
}

static void test_row(void) {
        TopSample a = sample("a", 10, 1000000, 5000000, 100, 3, 0, 4096);
        TopSample b = sample("a", 10, 1500000, 5250000, 200, 4, 1 << 20, 4096 + 512);
        TopSample u = sample("u", 11, 1500000, TOP_UNKNOWN, TOP_UNKNOWN, TOP_UNKNOWN, TOP_UNKNOWN, TOP_UNKNOWN);
        TopRow r;

        top_row_compute(NULL, &a, &r);
        CHECK_STREQ(r.name, "a");
        CHECK(r.cpu_percent < 0);
        CHECK(r.io_read_rate == TOP_UNKNOWN && r.io_write_rate == TOP_UNKNOWN);
        CHECK(r.memory == 100 && r.tasks == 3);

        /* 0.25 s of CPU in 0.5 s: half a CPU; 1 MiB and 512 B in 0.5 s. */
        top_row_compute(&a, &b, &r);
        CHECK(fabs(r.cpu_percent - 50.0) < 1e-9);
        CHECK(r.io_read_rate == 2 << 20);
        CHECK(r.io_write_rate == 1024);
        CHECK(r.memory == 200 && r.tasks == 4);

        /* Counters that went back (a new machine in the old one's place), or
         * no time between the samples: nothing known. */
        top_row_compute(&b, &a, &r);
        CHECK(r.cpu_percent < 0 && r.io_read_rate == TOP_UNKNOWN);
        b.timestamp = a.timestamp;
        top_row_compute(&a, &b, &r);
        CHECK(r.cpu_percent < 0 && r.io_write_rate == TOP_UNKNOWN);

        /* A host where no controller counts. */
        top_row_compute(&u, &u, &r);
        CHECK(r.cpu_percent < 0 && r.memory == TOP_UNKNOWN && r.tasks == TOP_UNKNOWN && r.io_read_rate == TOP_UNKNOWN);

        /* Two busy CPUs: 200%. */
        b = (TopSample) { .name = b.name, .timestamp = 2000000, .usage = a.usage };
        b.usage.cpu_usec = a.usage.cpu_usec + 2000000;
        top_row_compute(&a, &b, &r);
        CHECK(fabs(r.cpu_percent - 200.0) < 1e-9);

        free(a.name);
        free(b.name);
        free(u.name);
}

static const char *order_of(TopRow *rows, size_t n, TopOrder o, char *buf) {
        top_rows_sort(rows, n, o);
        buf[0] = '\0';
        for (size_t i = 0; i < n; i++)
                strcat(buf, rows[i].name);
        return buf;
}

static void test_sort(void) {
        TopRow rows[] = {
                { .name = "b", .cpu_percent = 10, .memory = 300, .tasks = 2, .io_read_rate = 5, .io_write_rate = 0 },
                { .name = "a", .cpu_percent = 90, .memory = 100, .tasks = 2, .io_read_rate = 0, .io_write_rate = 1 },
                { .name = "d", .cpu_percent = -1, .memory = TOP_UNKNOWN, .tasks = TOP_UNKNOWN,
                  .io_read_rate = TOP_UNKNOWN, .io_write_rate = TOP_UNKNOWN },
                { .name = "c", .cpu_percent = 10, .memory = 200, .tasks = 7, .io_read_rate = TOP_UNKNOWN, .io_write_rate = 9 },
        };
        char buf[16];

        CHECK_STREQ(order_of(rows, ELEMENTSOF(rows), TOP_ORDER_CPU, buf), "abcd");
        CHECK_STREQ(order_of(rows, ELEMENTSOF(rows), TOP_ORDER_MEMORY, buf), "bcad");
        CHECK_STREQ(order_of(rows, ELEMENTSOF(rows), TOP_ORDER_TASKS, buf), "cabd");
        CHECK_STREQ(order_of(rows, ELEMENTSOF(rows), TOP_ORDER_IO, buf), "cbad");
        CHECK_STREQ(order_of(rows, ELEMENTSOF(rows), TOP_ORDER_NAME, buf), "abcd");
        /* The first refresh: no CPU% at all, so by name. */
        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                rows[i].cpu_percent = -1;
        CHECK_STREQ(order_of(rows, ELEMENTSOF(rows), TOP_ORDER_CPU, buf), "abcd");
        top_rows_sort(rows, 0, TOP_ORDER_CPU);
        CHECK(true);
}

static void test_state(void) {
        TopState st = {};
        TopSample *s;
        TopRow *rows = NULL;

        s = calloc(2, sizeof(TopSample));
        s[0] = sample("x", 100, 1000000, 0, 1, 1, 0, 0);
        s[1] = sample("y", 200, 1000000, 0, 1, 1, 0, 0);
        CHECK(top_state_update(&st, s, 2, &rows) == 0);
        CHECK(rows[0].cpu_percent < 0 && rows[1].cpu_percent < 0);
        free(rows);

        /* A second refresh: x ran a whole CPU; y is a new machine of that name
         * (another leader); z is new. */
        s = calloc(3, sizeof(TopSample));
        s[0] = sample("z", 300, 2000000, 0, 1, 1, 0, 0);
        s[1] = sample("y", 201, 2000000, 500000, 1, 1, 0, 0);
        s[2] = sample("x", 100, 2000000, 1000000, 1, 1, 0, 0);
        CHECK(top_state_update(&st, s, 3, &rows) == 0);
        CHECK(rows[0].cpu_percent < 0);
        CHECK(rows[1].cpu_percent < 0);
        CHECK(fabs(rows[2].cpu_percent - 100.0) < 1e-9);
        CHECK_STREQ(rows[2].name, "x");
        free(rows);

        /* No machines any more. */
        CHECK(top_state_update(&st, NULL, 0, &rows) == 0);
        CHECK(st.n == 0);
        free(rows);
        top_state_done(&st);
        CHECK(st.samples == NULL && st.n == 0);
}

static void test_parse(void) {
        uint64_t d = 0;
        unsigned n = 0;

        CHECK(top_parse_delay("1", &d) == 0 && d == 1000000);
        CHECK(top_parse_delay("0.5", &d) == 0 && d == 500000);
        CHECK(top_parse_delay("500ms", &d) == 0 && d == 500000);
        CHECK(top_parse_delay("2s", &d) == 0 && d == 2000000);
        CHECK(top_parse_delay("1min", &d) == 0 && d == 60000000);
        CHECK(top_parse_delay("0.01", &d) == 0 && d == TOP_DELAY_MIN_USEC);
        CHECK(top_parse_delay("0", &d) == -ERANGE);
        CHECK(top_parse_delay("0.001", &d) == -ERANGE);
        CHECK(top_parse_delay("86401", &d) == -ERANGE);
        CHECK(top_parse_delay("inf", &d) == -ERANGE);
        CHECK(top_parse_delay("x", &d) == -EINVAL);
        CHECK(top_parse_delay("", &d) == -EINVAL);
        CHECK(top_parse_delay("-1", &d) == -EINVAL);
        CHECK(top_parse_delay("nan", &d) == -EINVAL);
        CHECK(top_parse_delay("1h", &d) == -EINVAL);

        CHECK(top_parse_iterations("1", &n) == 0 && n == 1);
        CHECK(top_parse_iterations("25", &n) == 0 && n == 25);
        CHECK(top_parse_iterations("0", &n) == -ERANGE);
        CHECK(top_parse_iterations("-1", &n) == -EINVAL);
        CHECK(top_parse_iterations("x", &n) == -EINVAL);
        CHECK(top_parse_iterations("", &n) == -EINVAL);
        CHECK(top_parse_iterations("99999999999", &n) == -ERANGE);
}

int main(void) {
        test_tables();
        test_row();
        test_sort();
        test_state();
        test_parse();
        return tap_done();
}
