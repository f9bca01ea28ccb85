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
        CGROUP_LIMIT_MEMORY_LOW,      /* bytes: protected from reclaim (cgroup v1: the soft limit) */
        CGROUP_LIMIT_CPU_QUOTA_PERIOD, /* µs, CGROUP_CPU_PERIOD_MIN..MAX: the period CPUQuota is enforced over */
        CGROUP_LIMIT_ALLOWED_CPUS,    /* a CPU list, kept in CgroupLimits.cpus */
        CGROUP_LIMIT_ALLOWED_MEMORY_NODES, /* a NUMA node list, kept in CgroupLimits.mems */
        _CGROUP_LIMIT_MAX,
        _CGROUP_LIMIT_INVALID = -EINVAL,
} CgroupLimit;

/* No limit: "infinity" or "max". */
#define CGROUP_LIMIT_INFINITY UINT64_MAX

#define CGROUP_WEIGHT_MIN UINT64_C(1)
#define CGROUP_WEIGHT_MAX UINT64_C(10000)
#define CGROUP_TASKS_MAX_MAX UINT64_C(4194304) /* the kernel's PID_MAX_LIMIT */
#define CGROUP_CPU_PERIOD_USEC UINT64_C(100000) /* cpu.max's and cfs_period_us's default */
#define CGROUP_CPU_PERIOD_MIN UINT64_C(1000)     /* the kernel's range for a period, and the least quota */
#define CGROUP_CPU_PERIOD_MAX UINT64_C(1000000)
#define CGROUP_CPU_LIST_MAX 8192                 /* a CPU or node number below this (the kernel's NR_CPUS at most) */

/* The systemd property name ("MemoryMax") and back. */
const char *cgroup_limit_to_string(CgroupLimit l) _pure_;
CgroupLimit cgroup_limit_from_string(const char *s) _pure_;
/* The option of boot/run/start ("memory-max") and back. */
const char *cgroup_limit_option_to_string(CgroupLimit l) _pure_;
CgroupLimit cgroup_limit_option_from_string(const char *s) _pure_;
/* The controller it needs, by its cgroup2 name: memory, cpu, cpuset, pids, io. */
const char *cgroup_limit_controller(CgroupLimit l) _pure_;

/* --io-max=DEVICE:r|w:BYTES: a bandwidth limit on one disk, per second. */
typedef struct CgroupIoMax {
        dev_t dev;
        bool write;
        uint64_t bytes; /* CGROUP_LIMIT_INFINITY: none */
} CgroupIoMax;

/* hugetlb.SIZE.max (cgroup2) or .limit_in_bytes (v1): bytes of huge pages of one size. */
typedef struct CgroupHugetlb {
        char page_size[16]; /* "2MB", "1GB": as the kernel names the files */
        uint64_t limit;
} CgroupHugetlb;

/* What an OCI runtime's config.json can ask of a cgroup that systemd has no
 * property for (runc's knobs, mostly of cgroup v1): boxctl-oci fills them in
 * from linux.resources, and they are applied with the limits. Each has_* or
 * non-NULL field is one given. Where the machine's memory controller is on
 * cgroup2, swappiness, the OOM killer switch and kmem.tcp have no file and
 * are left out (said at debug level), as runc 1.1's cgroup2 driver leaves
 * them; realtime on cgroup2, and net_cls/net_prio where no v1 hierarchy has
 * them, are errors. */
typedef struct CgroupExtras {
        bool has_swappiness, has_kmem_tcp, has_rt_period, has_rt_runtime, has_idle, has_classid;
        bool disable_oom_killer;  /* memory.oom_control (v1) */
        uint64_t swappiness;      /* memory.swappiness (v1), 0..100 */
        uint64_t kmem_tcp;        /* memory.kmem.tcp.limit_in_bytes (v1); CGROUP_LIMIT_INFINITY: none */
        uint64_t rt_period;       /* cpu.rt_period_us (v1), µs */
        int64_t rt_runtime;       /* cpu.rt_runtime_us (v1), µs; -1: no limit */
        int64_t idle;             /* cpu.idle, 0 or 1 */
        uint32_t classid;         /* net_cls.classid (v1) */
        char **ifpriomap;         /* net_prio.ifpriomap (v1): "IFACE PRIORITY" lines */
        CgroupHugetlb *hugetlb;   /* hugetlb, either layout */
        size_t n_hugetlb;
} CgroupExtras;

typedef struct CgroupLimits {
        uint64_t value[_CGROUP_LIMIT_MAX];
        uint32_t set; /* 1 << CgroupLimit for each one given */
        CgroupIoMax *io_max;
        size_t n_io_max;
        char *cpus; /* AllowedCPUs=, as the kernel takes it ("0-3,6") */
        char *mems; /* AllowedMemoryNodes= */
        CgroupExtras extras;
} CgroupLimits;

void cgroup_limits_done(CgroupLimits *l);
static inline bool cgroup_limits_is_set(const CgroupLimits *l, CgroupLimit k) {
        return l->set & (UINT32_C(1) << k);
}
bool cgroup_limits_extras_is_empty(const CgroupExtras *e) _pure_;
static inline bool cgroup_limits_is_empty(const CgroupLimits *l) {
        return l->set == 0 && l->n_io_max == 0 && cgroup_limits_extras_is_empty(&l->extras);
}
/* Moves limit K from SRC to DST (a CPU list with it). */
void cgroup_limits_move(CgroupLimits *dst, CgroupLimits *src, CgroupLimit k);

/* Parses VALUE for limit K into L. -EINVAL: does not parse; -ERANGE: out of
 * range (cgroup_limit_range() says which). */
int cgroup_limits_parse(CgroupLimits *l, CgroupLimit k, const char *value);
/* cpu.cfs_quota_us over cpu.cfs_period_us as an OCI config gives them:
 * QUOTA µs in every PERIOD µs, kept as CPUQuota (µs per second, rounded so
 * that the same QUOTA comes back out for PERIOD) and CPUQuotaPeriodSec.
 * -ERANGE: PERIOD outside 1 ms..1 s, or QUOTA under 1 ms or above 1000 CPUs. */
int cgroup_limits_set_cpu_quota(CgroupLimits *l, uint64_t quota_usec, uint64_t period_usec);
/* A huge page size as the hugetlb files name it ("2MB", "1GB", "64KB"):
 * -EINVAL when it is not one. Adds a limit of BYTES for it. */
int cgroup_limits_add_hugetlb(CgroupLimits *l, const char *page_size, uint64_t bytes);
/* A CPU or node list as cpuset.cpus takes it: "N" and "N-M" items,
 * comma- or space-separated, each below CGROUP_CPU_LIST_MAX. *RET (may be
 * NULL) gets it comma-separated. -EINVAL: the syntax; -ERANGE: a number. */
int cgroup_cpu_list_parse(const char *s, char **ret);
/* Whether the host has CONTROLLER (cgroup v1 name: "net_cls", "cpuset"...)
 * for a machine started from here: in the cgroup2 root's cgroup.controllers,
 * or as a v1 hierarchy this process is in: 2 on cgroup2, 1 on v1, -ENOENT
 * in neither. */
int cgroup_controller_where(const char *controller);

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
