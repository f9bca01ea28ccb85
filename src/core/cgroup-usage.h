/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What a machine uses, from the kernel's counters in its cgroups: each from
 * the layout that holds the controller (its cgroup2 scope, or its v1 cgroup),
 * as cgroup-limits.h writes the limits. */

#include <stdint.h>

struct Cgroup;
struct CgroupV1;

/* UINT64_MAX: not known on this host (no controller counts it). */
#define CGROUP_USAGE_UNKNOWN UINT64_MAX

typedef struct CgroupUsage {
        uint64_t memory_current, memory_peak; /* bytes */
        uint64_t memory_max;                  /* bytes; UNKNOWN also for no limit */
        uint64_t cpu_usec;                    /* CPU time used, user and system */
        uint64_t tasks;                       /* processes and threads */
        uint64_t tasks_max;                   /* UNKNOWN also for no limit */
        uint64_t io_read_bytes, io_write_bytes;
} CgroupUsage;

#define CGROUP_USAGE_NULL                                                                       \
        ((CgroupUsage) { .memory_current = CGROUP_USAGE_UNKNOWN, .memory_peak = CGROUP_USAGE_UNKNOWN, \
                         .memory_max = CGROUP_USAGE_UNKNOWN, .cpu_usec = CGROUP_USAGE_UNKNOWN,         \
                         .tasks = CGROUP_USAGE_UNKNOWN, .tasks_max = CGROUP_USAGE_UNKNOWN,             \
                         .io_read_bytes = CGROUP_USAGE_UNKNOWN, .io_write_bytes = CGROUP_USAGE_UNKNOWN })

/* Reads what it can; a counter no layout has stays CGROUP_USAGE_UNKNOWN.
 * Fails only when the cgroup2 scope itself cannot be read. */
int cgroup_usage_read(const struct Cgroup *v2, const struct CgroupV1 *v1, CgroupUsage *ret);
