/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cgroup-limits.h"
#include "cgroup-v1.h"
#include "cgroup.h"
#include "log.h"
#include "string-table.h"
#include "util.h"

static const char *const cgroup_limit_table[_CGROUP_LIMIT_MAX] = {
        [CGROUP_LIMIT_MEMORY_MAX] = "MemoryMax",
        [CGROUP_LIMIT_MEMORY_HIGH] = "MemoryHigh",
        [CGROUP_LIMIT_MEMORY_SWAP_MAX] = "MemorySwapMax",
        [CGROUP_LIMIT_CPU_WEIGHT] = "CPUWeight",
        [CGROUP_LIMIT_CPU_QUOTA] = "CPUQuota",
        [CGROUP_LIMIT_TASKS_MAX] = "TasksMax",
        [CGROUP_LIMIT_IO_WEIGHT] = "IOWeight",
};

static const char *const cgroup_limit_option_table[_CGROUP_LIMIT_MAX] = {
        [CGROUP_LIMIT_MEMORY_MAX] = "memory-max",
        [CGROUP_LIMIT_MEMORY_HIGH] = "memory-high",
        [CGROUP_LIMIT_MEMORY_SWAP_MAX] = "memory-swap-max",
        [CGROUP_LIMIT_CPU_WEIGHT] = "cpu-weight",
        [CGROUP_LIMIT_CPU_QUOTA] = "cpu-quota",
        [CGROUP_LIMIT_TASKS_MAX] = "pids-max",
        [CGROUP_LIMIT_IO_WEIGHT] = "io-weight",
};

DEFINE_STRING_TABLE(cgroup_limit, CgroupLimit, cgroup_limit_table, _CGROUP_LIMIT_MAX)
DEFINE_STRING_TABLE(cgroup_limit_option, CgroupLimit, cgroup_limit_option_table, _CGROUP_LIMIT_MAX)

const char *cgroup_limit_controller(CgroupLimit l) {
        switch (l) {
        case CGROUP_LIMIT_MEMORY_MAX:
        case CGROUP_LIMIT_MEMORY_HIGH:
        case CGROUP_LIMIT_MEMORY_SWAP_MAX:
                return "memory";
        case CGROUP_LIMIT_CPU_WEIGHT:
        case CGROUP_LIMIT_CPU_QUOTA:
                return "cpu";
        case CGROUP_LIMIT_TASKS_MAX:
                return "pids";
        case CGROUP_LIMIT_IO_WEIGHT:
                return "io";
        default:
                return NULL;
        }
}

const char *cgroup_limit_range(CgroupLimit k) {
        switch (k) {
        case CGROUP_LIMIT_MEMORY_MAX:
        case CGROUP_LIMIT_MEMORY_HIGH:
                return "bytes above 0 with an optional K, M, G or T (1024-based), a percentage of the host's memory up to 100%, or infinity";
        case CGROUP_LIMIT_MEMORY_SWAP_MAX:
                return "bytes with an optional K, M, G or T (1024-based), a percentage of the host's memory up to 100%, or infinity";
        case CGROUP_LIMIT_CPU_WEIGHT:
        case CGROUP_LIMIT_IO_WEIGHT:
                return "a weight from 1 to 10000 (100 is the default)";
        case CGROUP_LIMIT_CPU_QUOTA:
                return "a percentage of one CPU from 1% to 100000%, like 20% or 150%, or infinity";
        case CGROUP_LIMIT_TASKS_MAX:
                return "a number of tasks from 1 to 4194304, or infinity";
        default:
                return "";
        }
}

void cgroup_limits_done(CgroupLimits *l) {
        free(l->io_max);
        *l = (CgroupLimits) {};
}

/* ---- parsing ---- */

static bool is_infinity(const char *s) {
        return streq(s, "infinity") || streq(s, "max");
}

/* "12", "12.5", "12.34" followed by END: the number times 100 (permyriad of a percent). */
static int parse_hundredths(const char *s, const char *end, uint64_t *ret) {
        uint64_t v = 0;
        unsigned frac = 0;
        const char *p = s;

        if (p == end || *p < '0' || *p > '9')
                return -EINVAL;
        for (; p < end && *p >= '0' && *p <= '9'; p++) {
                if (v > (UINT64_MAX - 9) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t) (*p - '0');
        }
        if (p < end && *p == '.') {
                p++;
                if (p == end)
                        return -EINVAL;
                for (unsigned i = 0; p < end; p++, i++) {
                        if (*p < '0' || *p > '9' || i >= 2)
                                return -EINVAL;
                        frac += (unsigned) (*p - '0') * (i == 0 ? 10 : 1);
                }
        }
        if (p != end)
                return -EINVAL;
        if (v > (UINT64_MAX - 99) / 100)
                return -ERANGE;
        *ret = v * 100 + frac;
        return 0;
}

/* "N%" or "N.NN%": parts per 10000. */
static int parse_percent(const char *s, uint64_t *ret) {
        size_t n = strlen(s);

        if (n < 2 || s[n - 1] != '%')
                return -EINVAL;
        return parse_hundredths(s, s + n - 1, ret);
}

/* Bytes: an integer or a decimal with a suffix K, M, G, T (1024-based; "KiB"
 * and "K" alike, "B" alone allowed). */
static int parse_bytes(const char *s, uint64_t *ret) {
        static const struct {
                char c;
                unsigned shift;
        } suffixes[] = { { 'K', 10 }, { 'M', 20 }, { 'G', 30 }, { 'T', 40 } };
        const char *end = s + strlen(s);
        unsigned shift = 0;
        uint64_t h;
        int r;

        if (end > s && end[-1] == 'B')
                end--;
        if (end - s >= 2 && end[-1] == 'i')
                end--;
        if (end > s) {
                for (size_t i = 0; i < ELEMENTSOF(suffixes); i++)
                        if (end[-1] == suffixes[i].c || end[-1] == suffixes[i].c + ('a' - 'A')) {
                                shift = suffixes[i].shift;
                                end--;
                                break;
                        }
        }
        if (end < s + strlen(s) && shift == 0 && !streq(end, "B"))
                return -EINVAL; /* "5i", "5iB" */
        r = parse_hundredths(s, end, &h);
        if (r < 0)
                return r;
        if (shift == 0 && h % 100 != 0)
                return -EINVAL; /* a fraction of a byte */
        if (h > (UINT64_MAX >> shift) || (h << shift) / 100 >= (UINT64_C(1) << 62))
                return -ERANGE;
        *ret = (h << shift) / 100;
        return 0;
}

static uint64_t physical_memory(void) {
        long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);

        return pages > 0 && size > 0 ? (uint64_t) pages * (uint64_t) size : 0;
}

static int parse_memory(const char *s, bool zero_ok, uint64_t *ret) {
        uint64_t v;
        int r;

        if (is_infinity(s)) {
                *ret = CGROUP_LIMIT_INFINITY;
                return 0;
        }
        if (strchr(s, '%')) {
                r = parse_percent(s, &v);
                if (r < 0)
                        return r;
                if (v > 10000)
                        return -ERANGE;
                v = physical_memory() / 10000 * v;
        } else {
                r = parse_bytes(s, &v);
                if (r < 0)
                        return r;
        }
        if (v == 0 && !zero_ok)
                return -ERANGE;
        *ret = v;
        return 0;
}

static int parse_number(const char *s, uint64_t min, uint64_t max, bool infinity_ok, uint64_t *ret) {
        uint64_t v;
        int r;

        if (infinity_ok && is_infinity(s)) {
                *ret = CGROUP_LIMIT_INFINITY;
                return 0;
        }
        if (strchr(s, '.'))
                return -EINVAL;
        r = parse_hundredths(s, s + strlen(s), &v);
        if (r < 0)
                return r;
        v /= 100;
        if (v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

int cgroup_limits_parse(CgroupLimits *l, CgroupLimit k, const char *value) {
        uint64_t v;
        int r;

        if (isempty(value))
                return -EINVAL;
        switch (k) {
        case CGROUP_LIMIT_MEMORY_MAX:
        case CGROUP_LIMIT_MEMORY_HIGH:
        case CGROUP_LIMIT_MEMORY_SWAP_MAX:
                r = parse_memory(value, k == CGROUP_LIMIT_MEMORY_SWAP_MAX, &v);
                break;
        case CGROUP_LIMIT_CPU_WEIGHT:
        case CGROUP_LIMIT_IO_WEIGHT:
                r = parse_number(value, CGROUP_WEIGHT_MIN, CGROUP_WEIGHT_MAX, false, &v);
                break;
        case CGROUP_LIMIT_TASKS_MAX:
                r = parse_number(value, 1, CGROUP_TASKS_MAX_MAX, true, &v);
                break;
        case CGROUP_LIMIT_CPU_QUOTA:
                if (is_infinity(value)) {
                        v = CGROUP_LIMIT_INFINITY;
                        r = 0;
                        break;
                }
                /* Percent of one CPU, as systemd's CPUQuota=; kept as µs per
                 * second. cpu.max takes no quota under 1 ms per 100 ms period. */
                r = parse_percent(value, &v);
                if (r >= 0 && (v < 100 || v > 100000 * 100))
                        r = -ERANGE;
                v *= 100;
                break;
        default:
                return -EINVAL;
        }
        if (r < 0)
                return r;
        l->value[k] = v;
        l->set |= UINT32_C(1) << k;
        return 0;
}

int cgroup_limits_parse_property(CgroupLimits *l, const char *assignment) {
        _cleanup_free_ char *key = NULL;
        const char *eq = strchr(assignment, '=');
        CgroupLimit k;

        if (!eq || eq == assignment)
                return -EINVAL;
        key = strndup(assignment, (size_t) (eq - assignment));
        if (!key)
                return -ENOMEM;
        if (streq(key, "IOReadBandwidthMax") || streq(key, "IOWriteBandwidthMax")) {
                /* systemd's "DEVICE BYTES" */
                _cleanup_free_ char *spec = NULL;
                const char *sp = strrchr(eq + 1, ' ');

                if (!sp || sp == eq + 1)
                        return -EINVAL;
                if (asprintf(&spec, "%.*s:%c:%s", (int) (sp - eq - 1), eq + 1, key[2] == 'R' ? 'r' : 'w', sp + 1) < 0)
                        return -ENOMEM;
                return cgroup_limits_parse_io_max(l, spec);
        }
        k = cgroup_limit_from_string(key);
        if (k < 0)
                return -ENOKEY;
        return cgroup_limits_parse(l, k, eq + 1);
}

/* A block device's path or "MAJ:MIN", to a whole disk's number. */
static int parse_device(const char *s, dev_t *ret) {
        char part[128];
        unsigned maj, min;
        struct stat st;
        int n = 0;
        dev_t d;

        if (s[0] == '/') {
                if (stat(s, &st) < 0)
                        return -errno;
                if (!S_ISBLK(st.st_mode))
                        return -ENOTBLK;
                d = st.st_rdev;
        } else {
                if (sscanf(s, "%u:%u%n", &maj, &min, &n) != 2 || s[n] != '\0')
                        return -EINVAL;
                d = makedev(maj, min);
        }
        snprintf(part, sizeof part, "/sys/dev/block/%u:%u", major(d), minor(d));
        if (access(part, F_OK) < 0)
                return -ENOENT;
        snprintf(part, sizeof part, "/sys/dev/block/%u:%u/partition", major(d), minor(d));
        if (access(part, F_OK) >= 0)
                return -EISDIR;
        *ret = d;
        return 0;
}

int cgroup_limits_parse_io_max(CgroupLimits *l, const char *spec) {
        _cleanup_free_ char *dev = NULL;
        const char *c2 = strrchr(spec, ':'), *c1;
        CgroupIoMax m = {};
        CgroupIoMax *n;
        int r;

        if (!c2 || c2 == spec)
                return -EINVAL;
        for (c1 = c2 - 1; c1 > spec && *c1 != ':'; c1--)
                ;
        if (*c1 != ':' || c2 - c1 != 2 || (c1[1] != 'r' && c1[1] != 'w') || c1 == spec)
                return -EINVAL;
        m.write = c1[1] == 'w';
        if (is_infinity(c2 + 1))
                m.bytes = CGROUP_LIMIT_INFINITY;
        else {
                r = parse_bytes(c2 + 1, &m.bytes);
                if (r < 0)
                        return r;
                if (m.bytes == 0)
                        return -ERANGE;
        }
        dev = strndup(spec, (size_t) (c1 - spec));
        if (!dev)
                return -ENOMEM;
        r = parse_device(dev, &m.dev);
        if (r < 0)
                return r;
        /* The last one given for a device and direction wins. */
        for (size_t i = 0; i < l->n_io_max; i++)
                if (l->io_max[i].dev == m.dev && l->io_max[i].write == m.write) {
                        l->io_max[i] = m;
                        return 0;
                }
        n = reallocarray(l->io_max, l->n_io_max + 1, sizeof(CgroupIoMax));
        if (!n)
                return -ENOMEM;
        l->io_max = n;
        l->io_max[l->n_io_max++] = m;
        return 0;
}

const char *cgroup_limits_io_max_error(int r) {
        switch (r) {
        case -ERANGE:
                return "the bytes per second are out of range (1 to 4E, or max)";
        case -ENOENT:
                return "no such block device";
        case -ENOTBLK:
                return "not a block device";
        case -EISDIR:
                return "a partition; the kernel limits whole disks only";
        default:
                return NULL;
        }
}

/* ---- applying ---- */

/* Where the limits of one controller go. */
typedef struct Place {
        int fd;            /* the machine's cgroup that has the controller */
        bool v2;
        const char *where; /* for messages: a path, or "cgroup v1 memory:/machine.slice/..." */
        char *where_buf;
} Place;

static void place_done(Place *p) {
        if (p->v2)
                safe_close(p->fd); /* a v1 fd belongs to the CgroupV1 */
        free(p->where_buf);
        *p = (Place) { .fd = -EBADF };
}

static bool word_in(const char *list, const char *word) {
        size_t n = strlen(word);

        for (const char *p = list; p && *p;) {
                size_t k = strcspn(p, " \n,");

                if (k == n && strneq(p, word, n))
                        return true;
                p += k;
                p += strspn(p, " \n,");
        }
        return false;
}

static int write_attr(int dirfd, const char *file, const char *value) {
        _cleanup_close_ int fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        ssize_t k;

        if (fd < 0)
                return -errno;
        k = write(fd, value, strlen(value));
        if (k < 0)
                return -errno;
        return (size_t) k == strlen(value) ? 0 : -EIO;
}

static int read_u64_attr(int dirfd, const char *file, uint64_t *ret) {
        _cleanup_free_ char *s = NULL;
        char *end;
        int r;

        r = read_file_at(dirfd, file, 4096, &s);
        if (r < 0)
                return r;
        if (startswith(s, "max")) {
                *ret = CGROUP_LIMIT_INFINITY;
                return 0;
        }
        errno = 0;
        *ret = strtoull(s, &end, 10);
        if (errno != 0 || end == s)
                return -EINVAL;
        return 0;
}

/* CONTROLLER in DIR's cgroup.subtree_control, when DIR has it: -ENOENT when not. */
static int enable_in(const char *dir, const char *controller) {
        _cleanup_free_ char *ctl = strjoin3(dir, "/", "cgroup.controllers"), *sc = strjoin3(dir, "/", "cgroup.subtree_control"),
                            *have = NULL, *on = NULL;
        char buf[64];
        int r;

        if (!ctl || !sc)
                return -ENOMEM;
        r = read_file_at(AT_FDCWD, ctl, 4096, &have);
        if (r < 0)
                return r;
        if (!word_in(have, controller))
                return -ENOENT;
        r = read_file_at(AT_FDCWD, sc, 4096, &on);
        if (r < 0)
                return r;
        if (word_in(on, controller))
                return 0;
        snprintf(buf, sizeof buf, "+%s", controller);
        return write_string_file(sc, buf);
}

/* Enables CONTROLLER in every cgroup from the hierarchy's root down to the
 * scope's parent, so that the scope gets its files: -ENOENT when the cgroup2
 * hierarchy does not have it (the host keeps it on v1, or lacks it). */
static int v2_enable(const Cgroup *cg, const char *controller) {
        size_t mlen = strlen(cg->mount);

        if (!startswith(cg->path, cg->mount) || cg->path[mlen] != '/')
                return -EINVAL;
        for (size_t i = mlen; cg->path[i]; i++) {
                _cleanup_free_ char *dir = NULL;
                int r;

                if (cg->path[i] != '/')
                        continue;
                dir = strndup(cg->path, i);
                if (!dir)
                        return -ENOMEM;
                r = enable_in(dir, controller);
                if (r < 0)
                        return r;
        }
        return 0;
}

static const char *v1_controller(const char *controller) {
        return streq(controller, "io") ? "blkio" : controller;
}

/* Where CONTROLLER's files are for the machine: its cgroup2 scope when the
 * cgroup2 hierarchy has the controller, else its v1 cgroup. */
static int place_find(const Cgroup *v2, const CgroupV1 *v1, const char *controller, const char *what, Place *ret,
                      char **ret_error) {
        const char *v1_path = NULL;
        int r, fd;

        *ret = (Place) { .fd = -EBADF };
        if (v2) {
                r = v2_enable(v2, controller);
                if (r >= 0) {
                        ret->fd = open(v2->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (ret->fd < 0)
                                return error_set(ret_error, -errno, "%s: cannot open %s: %s", what, v2->path, strerror(errno));
                        ret->v2 = true;
                        ret->where = v2->path;
                        return 0;
                }
                if (r != -ENOENT)
                        return error_set(ret_error, r, "%s: cannot enable the %s controller on the way to %s: %s", what,
                                         controller, v2->path, strerror(-r));
        }
        if (v1 && cgroup_v1_controller_dir(v1, v1_controller(controller), &fd, &v1_path) >= 0) {
                ret->fd = fd;
                if (asprintf(&ret->where_buf, "cgroup v1 %s:/%s", v1_controller(controller), v1_path) < 0)
                        return -ENOMEM;
                ret->where = ret->where_buf;
                return 0;
        }
        return error_set(ret_error, -EOPNOTSUPP,
                         "%s: this host has no %s controller to limit the machine with (not in %s/cgroup.controllers, "
                         "and no cgroup v1 %s hierarchy)",
                         what, controller, v2 ? v2->mount : "cgroup2", v1_controller(controller));
}

static int place_error(const Place *p, const char *what, const char *file, const char *value, int r, char **ret_error) {
        if (r == -ENOENT)
                return error_set(ret_error, r, "%s: %s has no %s: the kernel lacks this part of the %s controller", what,
                                 p->where, file, p->v2 ? "cgroup2" : "cgroup v1");
        return error_set(ret_error, r, "%s: cannot write '%s' to %s/%s: %s", what, value, p->where, file, strerror(-r));
}

static int place_write(const Place *p, const char *what, const char *file, const char *value, char **ret_error) {
        int r = write_attr(p->fd, file, value);

        return r < 0 ? place_error(p, what, file, value, r, ret_error) : 0;
}

/* Writes the first of FILE1 and FILE2 that exists: -ENOENT (no message) when neither. */
static int place_write_either(const Place *p, const char *what, const char *file1, const char *value1, const char *file2,
                              const char *value2, char **ret_error) {
        int r = write_attr(p->fd, file1, value1);

        if (r == -ENOENT) {
                r = write_attr(p->fd, file2, value2);
                if (r == -ENOENT)
                        return r;
                file1 = file2;
                value1 = value2;
        }
        return r < 0 ? place_error(p, what, file1, value1, r, ret_error) : 0;
}

static void fmt_u64(char *buf, size_t n, uint64_t v, const char *infinity) {
        if (v == CGROUP_LIMIT_INFINITY)
                snprintf(buf, n, "%s", infinity);
        else
                snprintf(buf, n, "%" PRIu64, v);
}

/* v1 reports "no limit" as the largest page-aligned counter: anything this
 * large is none. */
#define V1_UNLIMITED (UINT64_C(1) << 62)

static int apply_memory_v1(const CgroupLimits *l, const Place *p, char **ret_error) {
        bool has_max = cgroup_limits_is_set(l, CGROUP_LIMIT_MEMORY_MAX), has_swap = cgroup_limits_is_set(l, CGROUP_LIMIT_MEMORY_SWAP_MAX);
        uint64_t old_limit, old_memsw, limit, swap;
        bool memsw;
        char buf[32];
        int r;

        if (cgroup_limits_is_set(l, CGROUP_LIMIT_MEMORY_HIGH)) {
                /* v1 has no throttling limit: the soft limit is what reclaim aims
                 * at first when the host runs short. */
                fmt_u64(buf, sizeof buf, l->value[CGROUP_LIMIT_MEMORY_HIGH], "-1");
                r = place_write(p, "MemoryHigh", "memory.soft_limit_in_bytes", buf, ret_error);
                if (r < 0)
                        return r;
        }
        if (!has_max && !has_swap)
                return 0;
        r = read_u64_attr(p->fd, "memory.limit_in_bytes", &old_limit);
        if (r < 0)
                return error_set(ret_error, r, "MemoryMax: cannot read %s/memory.limit_in_bytes: %s", p->where, strerror(-r));
        if (old_limit >= V1_UNLIMITED)
                old_limit = CGROUP_LIMIT_INFINITY;
        memsw = read_u64_attr(p->fd, "memory.memsw.limit_in_bytes", &old_memsw) >= 0;
        if (has_swap && !memsw)
                return error_set(ret_error, -EOPNOTSUPP,
                                 "MemorySwapMax: %s has no memory.memsw.limit_in_bytes: swap accounting is off on this host "
                                 "(swapaccount=1, CONFIG_MEMCG_SWAP)", p->where);
        limit = has_max ? l->value[CGROUP_LIMIT_MEMORY_MAX] : old_limit;
        if (!memsw) {
                fmt_u64(buf, sizeof buf, limit, "-1");
                return place_write(p, "MemoryMax", "memory.limit_in_bytes", buf, ret_error);
        }
        /* memsw is memory plus swap, and never below memory: keep the swap
         * allowance there was unless a new one is given. */
        swap = has_swap ? l->value[CGROUP_LIMIT_MEMORY_SWAP_MAX]
               : old_memsw >= V1_UNLIMITED || old_limit == CGROUP_LIMIT_INFINITY ? CGROUP_LIMIT_INFINITY
                                                                                 : old_memsw - old_limit;
        if (swap != CGROUP_LIMIT_INFINITY && limit == CGROUP_LIMIT_INFINITY)
                return error_set(ret_error, -EINVAL,
                                 "MemorySwapMax: cgroup v1 limits memory and swap together (%s/memory.memsw.limit_in_bytes): "
                                 "give MemoryMax too", p->where);
        r = place_write(p, "MemoryMax", "memory.memsw.limit_in_bytes", "-1", ret_error);
        if (r < 0)
                return r;
        fmt_u64(buf, sizeof buf, limit, "-1");
        r = place_write(p, "MemoryMax", "memory.limit_in_bytes", buf, ret_error);
        if (r < 0)
                return r;
        fmt_u64(buf, sizeof buf, swap == CGROUP_LIMIT_INFINITY ? swap : limit + swap, "-1");
        return place_write(p, has_swap ? "MemorySwapMax" : "MemoryMax", "memory.memsw.limit_in_bytes", buf, ret_error);
}

static int apply_memory(const CgroupLimits *l, const Cgroup *v2, const CgroupV1 *v1, char **ret_error) {
        static const struct {
                CgroupLimit k;
                const char *file;
        } v2_files[] = {
                { CGROUP_LIMIT_MEMORY_MAX, "memory.max" },
                { CGROUP_LIMIT_MEMORY_HIGH, "memory.high" },
                { CGROUP_LIMIT_MEMORY_SWAP_MAX, "memory.swap.max" },
        };
        _cleanup_(place_done) Place p = { .fd = -EBADF };
        CgroupLimit first = cgroup_limits_is_set(l, CGROUP_LIMIT_MEMORY_MAX)    ? CGROUP_LIMIT_MEMORY_MAX
                            : cgroup_limits_is_set(l, CGROUP_LIMIT_MEMORY_HIGH) ? CGROUP_LIMIT_MEMORY_HIGH
                                                                                : CGROUP_LIMIT_MEMORY_SWAP_MAX;
        int r;

        if (!cgroup_limits_is_set(l, first))
                return 0;
        r = place_find(v2, v1, "memory", cgroup_limit_to_string(first), &p, ret_error);
        if (r < 0)
                return r;
        if (!p.v2)
                return apply_memory_v1(l, &p, ret_error);
        for (size_t i = 0; i < ELEMENTSOF(v2_files); i++) {
                char buf[32];

                if (!cgroup_limits_is_set(l, v2_files[i].k))
                        continue;
                fmt_u64(buf, sizeof buf, l->value[v2_files[i].k], "max");
                r = place_write(&p, cgroup_limit_to_string(v2_files[i].k), v2_files[i].file, buf, ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int apply_cpu(const CgroupLimits *l, const Cgroup *v2, const CgroupV1 *v1, char **ret_error) {
        bool weight = cgroup_limits_is_set(l, CGROUP_LIMIT_CPU_WEIGHT), quota = cgroup_limits_is_set(l, CGROUP_LIMIT_CPU_QUOTA);
        _cleanup_(place_done) Place p = { .fd = -EBADF };
        char buf[64];
        int r;

        if (!weight && !quota)
                return 0;
        r = place_find(v2, v1, "cpu", weight ? "CPUWeight" : "CPUQuota", &p, ret_error);
        if (r < 0)
                return r;
        if (weight) {
                uint64_t w = l->value[CGROUP_LIMIT_CPU_WEIGHT];

                /* cpu.shares: 1024 is weight 100, as systemd maps them. */
                snprintf(buf, sizeof buf, "%" PRIu64, p.v2 ? w : MIN(MAX(w * 1024 / 100, UINT64_C(2)), UINT64_C(262144)));
                r = place_write(&p, "CPUWeight", p.v2 ? "cpu.weight" : "cpu.shares", buf, ret_error);
                if (r < 0)
                        return r;
        }
        if (quota) {
                uint64_t q = l->value[CGROUP_LIMIT_CPU_QUOTA];
                /* µs per second to µs per period. */
                uint64_t per_period = q == CGROUP_LIMIT_INFINITY ? q : q * CGROUP_CPU_PERIOD_USEC / 1000000;

                if (p.v2) {
                        if (per_period == CGROUP_LIMIT_INFINITY)
                                snprintf(buf, sizeof buf, "max %" PRIu64, CGROUP_CPU_PERIOD_USEC);
                        else
                                snprintf(buf, sizeof buf, "%" PRIu64 " %" PRIu64, per_period, CGROUP_CPU_PERIOD_USEC);
                        return place_write(&p, "CPUQuota", "cpu.max", buf, ret_error);
                }
                snprintf(buf, sizeof buf, "%" PRIu64, CGROUP_CPU_PERIOD_USEC);
                r = place_write(&p, "CPUQuota", "cpu.cfs_period_us", buf, ret_error);
                if (r < 0)
                        return r;
                fmt_u64(buf, sizeof buf, per_period, "-1");
                return place_write(&p, "CPUQuota", "cpu.cfs_quota_us", buf, ret_error);
        }
        return 0;
}

static int apply_pids(const CgroupLimits *l, const Cgroup *v2, const CgroupV1 *v1, char **ret_error) {
        _cleanup_(place_done) Place p = { .fd = -EBADF };
        char buf[32];
        int r;

        if (!cgroup_limits_is_set(l, CGROUP_LIMIT_TASKS_MAX))
                return 0;
        r = place_find(v2, v1, "pids", "TasksMax", &p, ret_error);
        if (r < 0)
                return r;
        fmt_u64(buf, sizeof buf, l->value[CGROUP_LIMIT_TASKS_MAX], "max");
        return place_write(&p, "TasksMax", "pids.max", buf, ret_error);
}

/* systemd's mapping of IOWeight= to BFQ's 1..1000 (default 100). */
static uint64_t io_weight_to_bfq(uint64_t w) {
        return w <= 100 ? w : 100 + (w - 100) * 900 / 9900;
}

static int apply_io_weight(uint64_t w, const Place *p, char **ret_error) {
        char buf[32], bfq[32];
        int r;

        if (p->v2) {
                snprintf(buf, sizeof buf, "default %" PRIu64, w);
                snprintf(bfq, sizeof bfq, "default %" PRIu64, io_weight_to_bfq(w));
                r = place_write_either(p, "IOWeight", "io.weight", buf, "io.bfq.weight", bfq, ret_error);
                if (r == -ENOENT)
                        return error_set(ret_error, -EOPNOTSUPP,
                                         "IOWeight: %s has neither io.weight nor io.bfq.weight: the kernel has no weight-based io control",
                                         p->where);
                return r;
        }
        /* blkio.weight went with CFQ (Linux 5.0); BFQ's is blkio.bfq.weight. */
        snprintf(buf, sizeof buf, "%" PRIu64, MIN(MAX(w * 500 / 100, UINT64_C(10)), UINT64_C(1000)));
        snprintf(bfq, sizeof bfq, "%" PRIu64, io_weight_to_bfq(w));
        r = place_write_either(p, "IOWeight", "blkio.weight", buf, "blkio.bfq.weight", bfq, ret_error);
        if (r == -ENOENT)
                return error_set(ret_error, -EOPNOTSUPP,
                                 "IOWeight: %s has neither blkio.weight nor blkio.bfq.weight: the kernel has no weight-based blkio control",
                                 p->where);
        return r;
}

static int apply_io(const CgroupLimits *l, const Cgroup *v2, const CgroupV1 *v1, char **ret_error) {
        _cleanup_(place_done) Place p = { .fd = -EBADF };
        bool weight = cgroup_limits_is_set(l, CGROUP_LIMIT_IO_WEIGHT);
        int r;

        if (!weight && l->n_io_max == 0)
                return 0;
        r = place_find(v2, v1, "io", weight ? "IOWeight" : "IOMax", &p, ret_error);
        if (r < 0)
                return r;
        if (weight) {
                r = apply_io_weight(l->value[CGROUP_LIMIT_IO_WEIGHT], &p, ret_error);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < l->n_io_max; i++) {
                const CgroupIoMax *m = &l->io_max[i];
                char buf[96], what[64];

                snprintf(what, sizeof what, "IOMax %u:%u %s", major(m->dev), minor(m->dev), m->write ? "w" : "r");
                if (p.v2) {
                        char v[32];

                        fmt_u64(v, sizeof v, m->bytes, "max");
                        snprintf(buf, sizeof buf, "%u:%u %s=%s", major(m->dev), minor(m->dev), m->write ? "wbps" : "rbps", v);
                        r = place_write(&p, what, "io.max", buf, ret_error);
                } else {
                        /* 0 takes the device's rule away. */
                        snprintf(buf, sizeof buf, "%u:%u %" PRIu64, major(m->dev), minor(m->dev),
                                 m->bytes == CGROUP_LIMIT_INFINITY ? 0 : m->bytes);
                        r = place_write(&p, what, m->write ? "blkio.throttle.write_bps_device" : "blkio.throttle.read_bps_device",
                                        buf, ret_error);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

int cgroup_limits_apply(const CgroupLimits *l, const Cgroup *v2, const CgroupV1 *v1, char **ret_error) {
        int r;

        r = apply_memory(l, v2, v1, ret_error);
        if (r >= 0)
                r = apply_cpu(l, v2, v1, ret_error);
        if (r >= 0)
                r = apply_pids(l, v2, v1, ret_error);
        if (r >= 0)
                r = apply_io(l, v2, v1, ret_error);
        return r;
}
