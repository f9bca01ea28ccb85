/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A machine's resource limits: parsed from options (--memory-max=64M) or
 * systemd's property names (MemoryMax=64M), and written into the machine's
 * cgroups, wherever the host keeps each controller: in its cgroup2 scope
 * when the cgroup2 hierarchy has the controller, else in its own directory of
 * the v1 hierarchy that has it (cgroup-v1.h). A limit whose controller is in
 * neither is an error, not a silent no-op. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

struct Cgroup;
struct CgroupV1;

typedef enum CgroupLimit {
        CGROUP_LIMIT_MEMORY_MAX,      /* bytes */
        CGROUP_LIMIT_MEMORY_HIGH,     /* bytes */
        CGROUP_LIMIT_MEMORY_SWAP_MAX, /* bytes */
        CGROUP_LIMIT_CPU_WEIGHT,      /* 1..10000 */
        CGROUP_LIMIT_CPU_QUOTA,       /* µs of CPU time per second of wall time, as CPUQuotaPerSecUSec */
        CGROUP_LIMIT_TASKS_MAX,       /* tasks */
        CGROUP_LIMIT_IO_WEIGHT,       /* 1..10000 */
        _CGROUP_LIMIT_MAX,
        _CGROUP_LIMIT_INVALID = -EINVAL,
} CgroupLimit;

/* No limit: "infinity" or "max". */
#define CGROUP_LIMIT_INFINITY UINT64_MAX

#define CGROUP_WEIGHT_MIN UINT64_C(1)
#define CGROUP_WEIGHT_MAX UINT64_C(10000)
#define CGROUP_TASKS_MAX_MAX UINT64_C(4194304) /* the kernel's PID_MAX_LIMIT */
#define CGROUP_CPU_PERIOD_USEC UINT64_C(100000) /* cpu.max's and cfs_period_us's default */

/* The systemd property name ("MemoryMax") and back. */
const char *cgroup_limit_to_string(CgroupLimit l) _pure_;
CgroupLimit cgroup_limit_from_string(const char *s) _pure_;
/* The option of boot/run/start ("memory-max") and back. */
const char *cgroup_limit_option_to_string(CgroupLimit l) _pure_;
CgroupLimit cgroup_limit_option_from_string(const char *s) _pure_;
/* The controller it needs, by its cgroup2 name: memory, cpu, pids, io. */
const char *cgroup_limit_controller(CgroupLimit l) _pure_;

/* --io-max=DEVICE:r|w:BYTES: a bandwidth limit on one disk, per second. */
typedef struct CgroupIoMax {
        dev_t dev;
        bool write;
        uint64_t bytes; /* CGROUP_LIMIT_INFINITY: none */
} CgroupIoMax;

typedef struct CgroupLimits {
        uint64_t value[_CGROUP_LIMIT_MAX];
        uint32_t set; /* 1 << CgroupLimit for each one given */
        CgroupIoMax *io_max;
        size_t n_io_max;
} CgroupLimits;

void cgroup_limits_done(CgroupLimits *l);
static inline bool cgroup_limits_is_set(const CgroupLimits *l, CgroupLimit k) {
        return l->set & (UINT32_C(1) << k);
}
static inline bool cgroup_limits_is_empty(const CgroupLimits *l) {
        return l->set == 0 && l->n_io_max == 0;
}

/* Parses VALUE for limit K into L. -EINVAL: does not parse; -ERANGE: out of
 * range (cgroup_limit_range() says which). */
int cgroup_limits_parse(CgroupLimits *l, CgroupLimit k, const char *value);
/* "MemoryMax=64M": as above, and -ENOKEY for a key that is no limit. Also
 * systemd's IOReadBandwidthMax= and IOWriteBandwidthMax= ("DEVICE BYTES"),
 * with the errors of cgroup_limits_parse_io_max(). */
int cgroup_limits_parse_property(CgroupLimits *l, const char *assignment);
/* "DEVICE:r|w:BYTES", DEVICE a block device's path or MAJ:MIN. -EINVAL: the
 * syntax; -ERANGE: BYTES; -ENOENT: no such device; -ENOTBLK: not a block
 * device; -EISDIR: a partition (the kernel limits whole disks only). */
int cgroup_limits_parse_io_max(CgroupLimits *l, const char *spec);
/* Why cgroup_limits_parse_io_max() failed with R, in words; NULL for the
 * syntax (-EINVAL), which the caller says in its own (option or key). */
const char *cgroup_limits_io_max_error(int r) _pure_;
/* The values limit K takes, in words, for an error message. */
const char *cgroup_limit_range(CgroupLimit k) _pure_;

/* Writes L into the machine's cgroups: V2 its cgroup2 scope, V1 its v1
 * cgroups (NULL: none). Controllers are enabled in the cgroup2 parents'
 * cgroup.subtree_control where the hierarchy has them. On failure, -errno
 * and *RET_ERROR names the limit, the controller and the place. */
int cgroup_limits_apply(const CgroupLimits *l, const struct Cgroup *v2, const struct CgroupV1 *v1, char **ret_error);
