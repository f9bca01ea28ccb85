/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>

#include "cgroup-v1.h"
#include "cgroup.h"
#include "log.h"
#include "verb-usage.h"

int machine_usage_read(const MachineInfo *mi, CgroupUsage *ret) {
        _cleanup_(cgroup_machine_freep) Cgroup *cg = NULL;
        _cleanup_(cgroup_v1_machine_freep) CgroupV1 *v1 = NULL;
        int r;

        if (mi->leader <= 1)
                return -ESRCH;
        r = cgroup_machine_open_leader((pid_t) mi->leader, mi->unit, &cg);
        if (r == -ENOENT) /* a machine whose cgroup is not named after its unit */
                r = cgroup_machine_open_leader((pid_t) mi->leader, NULL, &cg);
        if (r < 0)
                return r;
        r = cgroup_v1_machine_open((pid_t) mi->leader, &v1);
        if (r < 0)
                log_debug_errno(r, "Cannot open the v1 cgroups of machine %s: %m", mi->name);
        return cgroup_usage_read(cg, v1, ret);
}

static void print_json_number(const char *key, uint64_t v) {
        if (v == CGROUP_USAGE_UNKNOWN)
                printf(",\"%s\":null", key);
        else
                printf(",\"%s\":%" PRIu64, key, v);
}

void usage_print_json_fields(const CgroupUsage *u) {
        print_json_number("memory_current", u->memory_current);
        print_json_number("memory_peak", u->memory_peak);
        print_json_number("memory_max", u->memory_max);
        print_json_number("cpu_usec", u->cpu_usec);
        print_json_number("tasks", u->tasks);
        print_json_number("tasks_max", u->tasks_max);
        print_json_number("io_read_bytes", u->io_read_bytes);
        print_json_number("io_write_bytes", u->io_write_bytes);
}

/* 1023B, 1.0K, 64.0M, as systemctl status shows sizes. */
const char *usage_format_bytes(char *buf, size_t n, uint64_t v) {
        static const char units[] = "KMGTPE";
        double d = (double) v;
        int i = -1;

        if (v < 1024) {
                snprintf(buf, n, "%" PRIu64 "B", v);
                return buf;
        }
        while (d >= 1024 && i < 5) {
                d /= 1024;
                i++;
        }
        snprintf(buf, n, "%.1f%c", d, units[i]);
        return buf;
}

static const char *format_usec(char *buf, size_t n, uint64_t usec) {
        if (usec < 1000000)
                snprintf(buf, n, "%" PRIu64 "ms", usec / 1000);
        else if (usec < 60 * UINT64_C(1000000))
                snprintf(buf, n, "%" PRIu64 ".%03" PRIu64 "s", usec / 1000000, usec / 1000 % 1000);
        else
                snprintf(buf, n, "%" PRIu64 "min %" PRIu64 ".%03" PRIu64 "s", usec / 60000000, usec / 1000000 % 60,
                         usec / 1000 % 1000);
        return buf;
}

void usage_print_status(const CgroupUsage *u) {
        char a[32], b[32], c[32];

        if (u->memory_current != CGROUP_USAGE_UNKNOWN) {
                printf("%16s: %s", "Memory", usage_format_bytes(a, sizeof a, u->memory_current));
                if (u->memory_peak != CGROUP_USAGE_UNKNOWN || u->memory_max != CGROUP_USAGE_UNKNOWN) {
                        printf(" (");
                        if (u->memory_peak != CGROUP_USAGE_UNKNOWN)
                                printf("peak: %s%s", usage_format_bytes(b, sizeof b, u->memory_peak),
                                       u->memory_max != CGROUP_USAGE_UNKNOWN ? ", " : "");
                        if (u->memory_max != CGROUP_USAGE_UNKNOWN)
                                printf("max: %s", usage_format_bytes(c, sizeof c, u->memory_max));
                        putchar(')');
                }
                putchar('\n');
        }
        if (u->cpu_usec != CGROUP_USAGE_UNKNOWN)
                printf("%16s: %s\n", "CPU", format_usec(a, sizeof a, u->cpu_usec));
        if (u->tasks != CGROUP_USAGE_UNKNOWN) {
                printf("%16s: %" PRIu64, "Tasks", u->tasks);
                if (u->tasks_max != CGROUP_USAGE_UNKNOWN)
                        printf(" (limit: %" PRIu64 ")", u->tasks_max);
                putchar('\n');
        }
        if (u->io_read_bytes != CGROUP_USAGE_UNKNOWN)
                printf("%16s: %s read, %s written\n", "IO", usage_format_bytes(a, sizeof a, u->io_read_bytes),
                       usage_format_bytes(b, sizeof b, u->io_write_bytes));
}

void usage_print_json_string(const char *s) {
        if (!s) {
                fputs("null", stdout);
                return;
        }
        putchar('"');
        for (; *s; s++) {
                unsigned char ch = (unsigned char) *s;

                if (ch == '"' || ch == '\\')
                        printf("\\%c", ch);
                else if (ch < 0x20 || ch == 0x7f)
                        printf("\\u%04x", ch);
                else
                        putchar(ch);
        }
        putchar('"');
}
