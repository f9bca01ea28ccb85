/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Measures boxd: the round trip of RegisterMachine, ListMachines with N
 * machines registered, and boxd's memory. Talks to the system bus that
 * DBUS_SYSTEM_BUS_ADDRESS names; run it through bench/registry.sh. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

#include "registry-client.h"
#include "util.h"

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return x < y ? -1 : x > y;
}

static double median_ms(uint64_t *v, size_t n) {
        qsort(v, n, sizeof(uint64_t), cmp_u64);
        return (n % 2 ? (double) v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0) / 1000.0;
}

static double pct_ms(uint64_t *v, size_t n, double p) {
        /* v is sorted by median_ms() before */
        return (double) v[(size_t) (p * (double) (n - 1))] / 1000.0;
}

static long status_kib(pid_t pid, const char *key) {
        char path[64], line[256];
        long v = -1;
        FILE *f;

        snprintf(path, sizeof path, "/proc/%d/status", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return -1;
        while (fgets(line, sizeof line, f))
                if (strncmp(line, key, strlen(key)) == 0)
                        v = atol(line + strlen(key));
        fclose(f);
        return v;
}

int main(int argc, char *argv[]) {
        size_t n = argc > 1 ? (size_t) atol(argv[1]) : 1000, lists = argc > 2 ? (size_t) atol(argv[2]) : 200;
        pid_t boxd = argc > 3 ? (pid_t) atol(argv[3]) : 0;
        uint64_t *reg = calloc(n, sizeof(uint64_t)), *lst = calloc(lists, sizeof(uint64_t));
        pid_t *kids = calloc(n, sizeof(pid_t));
        sd_bus *bus = NULL;
        int r;

        if (!reg || !lst || !kids || sd_bus_open_system(&bus) < 0) {
                fprintf(stderr, "registry-bench: cannot set up\n");
                return 1;
        }
        for (size_t i = 0; i < n; i++) {
                kids[i] = fork();
                if (kids[i] == 0) {
                        pause();
                        _exit(0);
                }
        }
        for (size_t i = 0; i < n; i++) {
                sd_bus_error error = SD_BUS_ERROR_NULL;
                char name[64];
                Id128 id;
                uint64_t t0;

                snprintf(name, sizeof name, "bench-%zu", i);
                (void) id128_randomize(&id);
                t0 = now_usec(CLOCK_MONOTONIC);
                r = registry_client_register(bus, name, &id, "boxctl", kids[i], "/srv/bench", NULL, 0, &error);
                reg[i] = now_usec(CLOCK_MONOTONIC) - t0;
                if (r < 0) {
                        fprintf(stderr, "registry-bench: RegisterMachine %s: %s\n", name, error.message);
                        return 1;
                }
                sd_bus_error_free(&error);
        }
        for (size_t i = 0; i < lists; i++) {
                sd_bus_message *reply = NULL;
                uint64_t t0 = now_usec(CLOCK_MONOTONIC);

                r = registry_client_call(bus, "ListMachines", NULL, &reply, NULL);
                /* Reading the reply is part of what a client pays. */
                if (r >= 0 && sd_bus_message_enter_container(reply, 'a', "(ssso)") > 0) {
                        const char *a, *b, *c, *d;
                        size_t k = 0;

                        while (sd_bus_message_read(reply, "(ssso)", &a, &b, &c, &d) > 0)
                                k++;
                        if (k != n) {
                                fprintf(stderr, "registry-bench: listed %zu of %zu\n", k, n);
                                return 1;
                        }
                }
                lst[i] = now_usec(CLOCK_MONOTONIC) - t0;
                sd_bus_message_unref(reply);
                if (r < 0)
                        return 1;
        }
        printf("machines %zu\n", n);
        printf("register_median_ms %.3f\n", median_ms(reg, n));
        printf("register_p95_ms %.3f\n", pct_ms(reg, n, 0.95));
        printf("list_median_ms %.3f\n", median_ms(lst, lists));
        printf("list_p95_ms %.3f\n", pct_ms(lst, lists, 0.95));
        if (boxd > 0) {
                printf("boxd_rss_kib %ld\n", status_kib(boxd, "VmRSS:"));
                printf("boxd_hwm_kib %ld\n", status_kib(boxd, "VmHWM:"));
        }
        for (size_t i = 0; i < n; i++)
                kill(kids[i], SIGKILL);
        for (size_t i = 0; i < n; i++)
                waitpid(kids[i], NULL, 0);
        sd_bus_flush_close_unref(bus);
        return 0;
}
