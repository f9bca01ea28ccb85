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
        [CGROUP_LIMIT_MEMORY_LOW] = "MemoryLow",
        [CGROUP_LIMIT_CPU_QUOTA_PERIOD] = "CPUQuotaPeriodSec",
        [CGROUP_LIMIT_ALLOWED_CPUS] = "AllowedCPUs",
        [CGROUP_LIMIT_ALLOWED_MEMORY_NODES] = "AllowedMemoryNodes",
};

static const char *const cgroup_limit_option_table[_CGROUP_LIMIT_MAX] = {
        [CGROUP_LIMIT_MEMORY_MAX] = "memory-max",
        [CGROUP_LIMIT_MEMORY_HIGH] = "memory-high",
        [CGROUP_LIMIT_MEMORY_SWAP_MAX] = "memory-swap-max",
        [CGROUP_LIMIT_CPU_WEIGHT] = "cpu-weight",
        [CGROUP_LIMIT_CPU_QUOTA] = "cpu-quota",
        [CGROUP_LIMIT_TASKS_MAX] = "pids-max",
        [CGROUP_LIMIT_IO_WEIGHT] = "io-weight",
        [CGROUP_LIMIT_MEMORY_LOW] = "memory-low",
        [CGROUP_LIMIT_CPU_QUOTA_PERIOD] = "cpu-quota-period",
        [CGROUP_LIMIT_ALLOWED_CPUS] = "allowed-cpus",
        [CGROUP_LIMIT_ALLOWED_MEMORY_NODES] = "allowed-memory-nodes",
};

DEFINE_STRING_TABLE(cgroup_limit, CgroupLimit, cgroup_limit_table, _CGROUP_LIMIT_MAX)
DEFINE_STRING_TABLE(cgroup_limit_option, CgroupLimit, cgroup_limit_option_table, _CGROUP_LIMIT_MAX)

const char *cgroup_limit_controller(CgroupLimit l) {
        switch (l) {
        case CGROUP_LIMIT_MEMORY_MAX:
        case CGROUP_LIMIT_MEMORY_HIGH:
        case CGROUP_LIMIT_MEMORY_SWAP_MAX:
        case CGROUP_LIMIT_MEMORY_LOW:
                return "memory";
        case CGROUP_LIMIT_CPU_WEIGHT:
        case CGROUP_LIMIT_CPU_QUOTA:
        case CGROUP_LIMIT_CPU_QUOTA_PERIOD:
                return "cpu";
        case CGROUP_LIMIT_ALLOWED_CPUS:
        case CGROUP_LIMIT_ALLOWED_MEMORY_NODES:
                return "cpuset";
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
        case CGROUP_LIMIT_MEMORY_LOW:
                return "bytes with an optional K, M, G or T (1024-based), a percentage of the host's memory up to 100%, or infinity";
        case CGROUP_LIMIT_CPU_WEIGHT:
        case CGROUP_LIMIT_IO_WEIGHT:
                return "a weight from 1 to 10000 (100 is the default)";
        case CGROUP_LIMIT_CPU_QUOTA:
                return "a percentage of one CPU from 1% to 100000%, like 20% or 150%, or infinity";
        case CGROUP_LIMIT_TASKS_MAX:
                return "a number of tasks from 1 to 4194304, or infinity";
        case CGROUP_LIMIT_CPU_QUOTA_PERIOD:
                return "a time from 1ms to 1s, like 10ms, 250000us or 0.5s";
        case CGROUP_LIMIT_ALLOWED_CPUS:
                return "CPU numbers and ranges below 8192, like 0-3,6";
        case CGROUP_LIMIT_ALLOWED_MEMORY_NODES:
                return "NUMA node numbers and ranges below 8192, like 0 or 0-1";
        default:
                return "";
        }
}

void cgroup_limits_done(CgroupLimits *l) {
        free(l->io_max);
        free(l->cpus);
        free(l->mems);
        strv_freep(&l->extras.ifpriomap);
        free(l->extras.hugetlb);
        *l = (CgroupLimits) {};
}

bool cgroup_limits_extras_is_empty(const CgroupExtras *e) {
        return !e->has_swappiness && !e->has_kmem_tcp && !e->has_rt_period && !e->has_rt_runtime && !e->has_idle &&
               !e->has_classid && !e->disable_oom_killer && !e->ifpriomap && e->n_hugetlb == 0;
}

static char **limit_string(CgroupLimits *l, CgroupLimit k) {
        return k == CGROUP_LIMIT_ALLOWED_CPUS ? &l->cpus : k == CGROUP_LIMIT_ALLOWED_MEMORY_NODES ? &l->mems : NULL;
}

void cgroup_limits_move(CgroupLimits *dst, CgroupLimits *src, CgroupLimit k) {
        char **d = limit_string(dst, k), **s = limit_string(src, k);

        if (!cgroup_limits_is_set(src, k))
                return;
        dst->value[k] = src->value[k];
        dst->set |= UINT32_C(1) << k;
        if (d) {
                free(*d);
                *d = TAKE_PTR(*s);
        }
        src->set &= ~(UINT32_C(1) << k);
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

int cgroup_cpu_list_parse(const char *s, char **ret) {
        _cleanup_free_ char *out = NULL;
        size_t n = 0;

        if (isempty(s))
                return -EINVAL;
        out = malloc(strlen(s) + 1);
        if (!out)
                return -ENOMEM;
        for (const char *p = s; *p;) {
                unsigned long a, b;
                char *end;

                if (*p == ',' || *p == ' ' || *p == '\t') {
                        p++;
                        continue;
                }
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                errno = 0;
                a = b = strtoul(p, &end, 10);
                if (errno != 0 || a >= CGROUP_CPU_LIST_MAX)
                        return -ERANGE;
                if (*end == '-') {
                        p = end + 1;
                        if (*p < '0' || *p > '9')
                                return -EINVAL;
                        b = strtoul(p, &end, 10);
                        if (errno != 0 || b >= CGROUP_CPU_LIST_MAX)
                                return -ERANGE;
                        if (b < a)
                                return -EINVAL;
                }
                if (*end != '\0' && *end != ',' && *end != ' ' && *end != '\t')
                        return -EINVAL;
                n += (size_t) sprintf(out + n, n > 0 ? ",%lu" : "%lu", a);
                if (b != a)
                        n += (size_t) sprintf(out + n, "-%lu", b);
                p = end;
        }
        if (n == 0)
                return -EINVAL;
        if (ret)
                *ret = TAKE_PTR(out);
        return 0;
}

static const char *suffix(const char *s, const char *suf) {
        size_t n = strlen(s), m = strlen(suf);

        return n > m && streq(s + n - m, suf) ? s + n - m : NULL;
}

int cgroup_limits_add_hugetlb(CgroupLimits *l, const char *page_size, uint64_t bytes) {
        CgroupExtras *e = &l->extras;
        size_t digits = strspn(page_size, "0123456789");
        CgroupHugetlb *n;

        if (digits == 0 || page_size[0] == '0' || strlen(page_size) >= sizeof n->page_size ||
            !(streq(page_size + digits, "KB") || streq(page_size + digits, "MB") || streq(page_size + digits, "GB")))
                return -EINVAL;
        n = reallocarray(e->hugetlb, e->n_hugetlb + 1, sizeof *n);
        if (!n)
                return -ENOMEM;
        e->hugetlb = n;
        snprintf(n[e->n_hugetlb].page_size, sizeof n->page_size, "%s", page_size);
        n[e->n_hugetlb++].limit = bytes;
        return 0;
}

/* A time span as systemd's *Sec= take it: "10ms", "250000us", "0.5s", "1" (seconds). */
static int parse_period(const char *s, uint64_t *ret) {
        const char *us = suffix(s, "usec") ?: suffix(s, "us");
        uint64_t v;
        int r;

        if (us) {
                _cleanup_free_ char *n = strndup(s, (size_t) (us - s));

                if (!n)
                        return -ENOMEM;
                r = parse_number(n, 0, UINT64_MAX - 1, false, &v);
        } else
                r = parse_seconds(s, &v);
        if (r < 0)
                return r;
        if (v < CGROUP_CPU_PERIOD_MIN || v > CGROUP_CPU_PERIOD_MAX)
                return -ERANGE;
        *ret = v;
        return 0;
}

int cgroup_limits_set_cpu_quota(CgroupLimits *l, uint64_t quota_usec, uint64_t period_usec) {
        if (period_usec < CGROUP_CPU_PERIOD_MIN || period_usec > CGROUP_CPU_PERIOD_MAX)
                return -ERANGE;
        /* 1 ms is the kernel's least quota; 1000 CPUs is CPUQuota='s most. */
        if (quota_usec < CGROUP_CPU_PERIOD_MIN || quota_usec / period_usec >= 1000)
                return -ERANGE;
        /* Rounded to the nearest µs per second: at apply time, the quota per
         * period is rounded back (apply_cpu()), and since a period is at most
         * a second, the error never reaches half a µs there: QUOTA again. */
        l->value[CGROUP_LIMIT_CPU_QUOTA] = (quota_usec * 1000000 + period_usec / 2) / period_usec;
        l->value[CGROUP_LIMIT_CPU_QUOTA_PERIOD] = period_usec;
        l->set |= (UINT32_C(1) << CGROUP_LIMIT_CPU_QUOTA) | (UINT32_C(1) << CGROUP_LIMIT_CPU_QUOTA_PERIOD);
        return 0;
}

int cgroup_limits_parse(CgroupLimits *l, CgroupLimit k, const char *value) {
        uint64_t v = 0;
        int r;

        if (isempty(value))
                return -EINVAL;
        switch (k) {
        case CGROUP_LIMIT_MEMORY_MAX:
        case CGROUP_LIMIT_MEMORY_HIGH:
        case CGROUP_LIMIT_MEMORY_SWAP_MAX:
        case CGROUP_LIMIT_MEMORY_LOW:
                r = parse_memory(value, k == CGROUP_LIMIT_MEMORY_SWAP_MAX || k == CGROUP_LIMIT_MEMORY_LOW, &v);
                break;
        case CGROUP_LIMIT_CPU_QUOTA_PERIOD:
                r = parse_period(value, &v);
                break;
        case CGROUP_LIMIT_ALLOWED_CPUS:
        case CGROUP_LIMIT_ALLOWED_MEMORY_NODES: {
                _cleanup_free_ char *list = NULL;
                char **slot = limit_string(l, k);

                r = cgroup_cpu_list_parse(value, &list);
                if (r < 0)
                        return r;
                free(*slot);
                *slot = TAKE_PTR(list);
                break;
        }
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

        /* v1 has neither a protection nor a throttling limit: the soft limit
         * is what reclaim pushes a cgroup back to first when the host runs
         * short. MemoryLow= (an OCI config's memory.reservation) is the closer
         * meaning, and wins when both are given. */
        if (cgroup_limits_is_set(l, CGROUP_LIMIT_MEMORY_LOW) || cgroup_limits_is_set(l, CGROUP_LIMIT_MEMORY_HIGH)) {
                CgroupLimit soft = cgroup_limits_is_set(l, CGROUP_LIMIT_MEMORY_LOW) ? CGROUP_LIMIT_MEMORY_LOW : CGROUP_LIMIT_MEMORY_HIGH;

                fmt_u64(buf, sizeof buf, l->value[soft], "-1");
                r = place_write(p, cgroup_limit_to_string(soft), "memory.soft_limit_in_bytes", buf, ret_error);
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

/* The OCI knobs of the v1 memory controller (CgroupExtras). */
static int apply_memory_v1_extras(const CgroupExtras *e, const Place *p, char **ret_error) {
        char buf[32];
        int r;

        if (e->has_swappiness) {
                snprintf(buf, sizeof buf, "%" PRIu64, e->swappiness);
                r = place_write(p, "memory.swappiness", "memory.swappiness", buf, ret_error);
                if (r < 0)
                        return r;
        }
        if (e->disable_oom_killer) {
                r = place_write(p, "memory.oom_control", "memory.oom_control", "1", ret_error);
                if (r < 0)
                        return r;
        }
        if (e->has_kmem_tcp) {
                fmt_u64(buf, sizeof buf, e->kmem_tcp, "-1");
                r = place_write(p, "memory.kmem.tcp.limit_in_bytes", "memory.kmem.tcp.limit_in_bytes", buf, ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool memory_extras(const CgroupExtras *e) {
        return e->has_swappiness || e->disable_oom_killer || e->has_kmem_tcp;
}

static int apply_memory(const CgroupLimits *l, const Cgroup *v2, const CgroupV1 *v1, char **ret_error) {
        static const struct {
                CgroupLimit k;
                const char *file;
        } v2_files[] = {
                { CGROUP_LIMIT_MEMORY_MAX, "memory.max" },
                { CGROUP_LIMIT_MEMORY_HIGH, "memory.high" },
                { CGROUP_LIMIT_MEMORY_SWAP_MAX, "memory.swap.max" },
                { CGROUP_LIMIT_MEMORY_LOW, "memory.low" },
        };
        _cleanup_(place_done) Place p = { .fd = -EBADF };
        const char *what = NULL;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(v2_files) && !what; i++)
                if (cgroup_limits_is_set(l, v2_files[i].k))
                        what = cgroup_limit_to_string(v2_files[i].k);
        if (!what && memory_extras(&l->extras))
                what = l->extras.has_swappiness ? "memory.swappiness" : l->extras.disable_oom_killer ? "memory.oom_control" : "memory.kmem.tcp.limit_in_bytes";
        if (!what)
                return 0;
        r = place_find(v2, v1, "memory", what, &p, ret_error);
        if (r < 0)
                return r;
        if (!p.v2) {
                r = apply_memory_v1(l, &p, ret_error);
                return r < 0 ? r : apply_memory_v1_extras(&l->extras, &p, ret_error);
        }
        /* cgroup2 has no per-cgroup swappiness, no OOM killer switch and no
         * separate socket-memory limit (memory.max counts it): left out, as
         * runc 1.1's cgroup2 driver leaves them (podman documents
         * --memory-swappiness as cgroup v1's only). */
        if (memory_extras(&l->extras))
                log_debug("%s: cgroup2 has no memory.swappiness, memory.oom_control or memory.kmem.tcp.limit_in_bytes: left out",
                          p.where);
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

/* The quota per period now in force: *RET_QUOTA µs (CGROUP_LIMIT_INFINITY:
 * none) in every *RET_PERIOD µs. */
static int cpu_max_read(const Place *p, uint64_t *ret_quota, uint64_t *ret_period) {
        _cleanup_free_ char *s = NULL;
        uint64_t q, period;
        int64_t v1q;
        int r;

        if (p->v2) {
                char qs[32];

                r = read_file_at(p->fd, "cpu.max", 4096, &s);
                if (r < 0)
                        return r;
                if (sscanf(s, "%31s %" SCNu64, qs, &period) != 2)
                        return -EINVAL;
                if (streq(qs, "max"))
                        q = CGROUP_LIMIT_INFINITY;
                else if (sscanf(qs, "%" SCNu64, &q) != 1)
                        return -EINVAL;
        } else {
                r = read_file_at(p->fd, "cpu.cfs_quota_us", 4096, &s);
                if (r < 0)
                        return r;
                if (sscanf(s, "%" SCNi64, &v1q) != 1)
                        return -EINVAL;
                q = v1q < 0 ? CGROUP_LIMIT_INFINITY : (uint64_t) v1q;
                r = read_u64_attr(p->fd, "cpu.cfs_period_us", &period);
                if (r < 0)
                        return r;
        }
        if (period == 0)
                return -EINVAL;
        *ret_quota = q;
        *ret_period = period;
        return 0;
}

/* CPUQuota= (µs per second) over CPUQuotaPeriodSec=: whichever is not
 * given is kept as the cgroup has it (its period; its quota, as a share of
 * time), as systemd keeps the other property. */
static int apply_cpu_quota(const CgroupLimits *l, const Place *p, char **ret_error) {
        bool quota = cgroup_limits_is_set(l, CGROUP_LIMIT_CPU_QUOTA), period = cgroup_limits_is_set(l, CGROUP_LIMIT_CPU_QUOTA_PERIOD);
        const char *what = quota ? "CPUQuota" : "CPUQuotaPeriodSec";
        uint64_t cur_q, cur_p, per_sec, per_period, P;
        char buf[64];
        int r;

        if (!quota && !period)
                return 0;
        r = cpu_max_read(p, &cur_q, &cur_p);
        if (r < 0)
                return error_set(ret_error, r, "%s: cannot read the CPU quota and period in force at %s: %s", what, p->where, strerror(-r));
        P = period ? l->value[CGROUP_LIMIT_CPU_QUOTA_PERIOD] : cur_p;
        per_sec = quota ? l->value[CGROUP_LIMIT_CPU_QUOTA]
                  : cur_q == CGROUP_LIMIT_INFINITY ? CGROUP_LIMIT_INFINITY
                                                   : (cur_q * 1000000 + cur_p / 2) / cur_p;
        /* Rounded to the nearest µs (cgroup_limits_set_cpu_quota()). */
        per_period = per_sec == CGROUP_LIMIT_INFINITY ? per_sec : (per_sec * P + 500000) / 1000000;
        if (per_period < CGROUP_CPU_PERIOD_MIN)
                return error_set(ret_error, -ERANGE,
                                 "%s: %" PRIu64 " µs of CPU time per second is %" PRIu64 " µs in a period of %" PRIu64
                                 " µs, below the kernel's least quota of 1 ms: give a larger quota or a longer period",
                                 what, per_sec, per_period, P);
        if (p->v2) {
                if (per_period == CGROUP_LIMIT_INFINITY)
                        snprintf(buf, sizeof buf, "max %" PRIu64, P);
                else
                        snprintf(buf, sizeof buf, "%" PRIu64 " %" PRIu64, per_period, P);
                return place_write(p, what, "cpu.max", buf, ret_error);
        }
        /* The kernel checks the quota against the period at every write:
         * none first, then the period, then the quota (as runc does). */
        r = place_write(p, what, "cpu.cfs_quota_us", "-1", ret_error);
        if (r < 0)
                return r;
        snprintf(buf, sizeof buf, "%" PRIu64, P);
        r = place_write(p, period ? "CPUQuotaPeriodSec" : what, "cpu.cfs_period_us", buf, ret_error);
        if (r < 0 || per_period == CGROUP_LIMIT_INFINITY)
                return r;
        fmt_u64(buf, sizeof buf, per_period, "-1");
        return place_write(p, what, "cpu.cfs_quota_us", buf, ret_error);
}

/* cpu.idle, and realtime runtime (v1 only: cgroup2 has no RT group
 * scheduling interface; the kernel's CONFIG_RT_GROUP_SCHED gives v1 the files). */
static int apply_cpu_extras(const CgroupExtras *e, const Place *p, char **ret_error) {
        char buf[32];
        int r;

        if (e->has_idle) {
                snprintf(buf, sizeof buf, "%" PRIi64, e->idle);
                r = place_write(p, "cpu.idle", "cpu.idle", buf, ret_error);
                if (r < 0)
                        return r;
        }
        if (!e->has_rt_period && !e->has_rt_runtime)
                return 0;
        if (p->v2)
                return error_set(ret_error, -EOPNOTSUPP,
                                 "cpu.rt_runtime_us: %s is cgroup2, which has no realtime limits (they are cgroup v1's cpu.rt_period_us "
                                 "and cpu.rt_runtime_us)", p->where);
        if (e->has_rt_period) {
                snprintf(buf, sizeof buf, "%" PRIu64, e->rt_period);
                r = place_write(p, "cpu.rt_period_us", "cpu.rt_period_us", buf, ret_error);
                if (r < 0)
                        return r;
        }
        if (e->has_rt_runtime) {
                snprintf(buf, sizeof buf, "%" PRIi64, e->rt_runtime);
                r = write_attr(p->fd, "cpu.rt_runtime_us", buf);
                /* EINVAL: more than the parent grants its children together
                 * (a new cgroup's parent often grants none: cgroups below the
                 * root get 0 µs unless given some). */
                if (r == -EINVAL)
                        return error_set(ret_error, r,
                                         "cpu.rt_runtime_us: cannot write '%s' to %s/cpu.rt_runtime_us: more realtime runtime than "
                                         "its parent cgroup has left for its children (their cpu.rt_runtime_us)", buf, p->where);
                if (r < 0)
                        return place_error(p, "cpu.rt_runtime_us", "cpu.rt_runtime_us", buf, r, ret_error);
        }
        return 0;
}

static int apply_cpu(const CgroupLimits *l, const Cgroup *v2, const CgroupV1 *v1, char **ret_error) {
        bool weight = cgroup_limits_is_set(l, CGROUP_LIMIT_CPU_WEIGHT), quota = cgroup_limits_is_set(l, CGROUP_LIMIT_CPU_QUOTA),
             period = cgroup_limits_is_set(l, CGROUP_LIMIT_CPU_QUOTA_PERIOD);
        const CgroupExtras *e = &l->extras;
        bool extras = e->has_idle || e->has_rt_period || e->has_rt_runtime;
        _cleanup_(place_done) Place p = { .fd = -EBADF };
        char buf[64];
        int r;

        if (!weight && !quota && !period && !extras)
                return 0;
        r = place_find(v2, v1, "cpu",
                       weight   ? "CPUWeight"
                       : quota  ? "CPUQuota"
                       : period ? "CPUQuotaPeriodSec"
                       : e->has_idle ? "cpu.idle"
                                     : "cpu.rt_runtime_us",
                       &p, ret_error);
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
        r = apply_cpu_quota(l, &p, ret_error);
        if (r < 0)
                return r;
        return apply_cpu_extras(e, &p, ret_error);
}

/* What the host has online, for an error message: "" when unknown. */
static void online_list(const char *file, char *buf, size_t n) {
        _cleanup_free_ char *s = NULL;

        buf[0] = '\0';
        if (read_file_at(AT_FDCWD, file, 4096, &s) >= 0) {
                s[strcspn(s, "\n")] = '\0';
                snprintf(buf, n, "%s", s);
        }
}

static int apply_cpuset(const CgroupLimits *l, const Cgroup *v2, const CgroupV1 *v1, char **ret_error) {
        static const struct {
                CgroupLimit k;
                const char *file, *online, *what;
        } files[] = {
                { CGROUP_LIMIT_ALLOWED_CPUS, "cpuset.cpus", "/sys/devices/system/cpu/online", "CPUs" },
                { CGROUP_LIMIT_ALLOWED_MEMORY_NODES, "cpuset.mems", "/sys/devices/system/node/online", "memory nodes" },
        };
        _cleanup_(place_done) Place p = { .fd = -EBADF };
        int r;

        if (!cgroup_limits_is_set(l, CGROUP_LIMIT_ALLOWED_CPUS) && !cgroup_limits_is_set(l, CGROUP_LIMIT_ALLOWED_MEMORY_NODES))
                return 0;
        r = place_find(v2, v1, "cpuset",
                       cgroup_limits_is_set(l, CGROUP_LIMIT_ALLOWED_CPUS) ? "AllowedCPUs" : "AllowedMemoryNodes", &p, ret_error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                const char *v = files[i].k == CGROUP_LIMIT_ALLOWED_CPUS ? l->cpus : l->mems;
                char online[256];

                if (!cgroup_limits_is_set(l, files[i].k) || !v)
                        continue;
                r = write_attr(p.fd, files[i].file, v);
                /* ERANGE: beyond the kernel's count; EINVAL: not online, or not the parent's. */
                if (r == -EINVAL || r == -ERANGE) {
                        online_list(files[i].online, online, sizeof online);
                        return error_set(ret_error, r, "%s: cannot write '%s' to %s/%s: not all of them are the host's %s%s%s%s",
                                         cgroup_limit_to_string(files[i].k), v, p.where, files[i].file, files[i].what,
                                         online[0] ? " (online: " : "", online, online[0] ? ")" : "");
                }
                if (r < 0)
                        return place_error(&p, cgroup_limit_to_string(files[i].k), files[i].file, v, r, ret_error);
        }
        return 0;
}

static int apply_hugetlb(const CgroupExtras *e, const Cgroup *v2, const CgroupV1 *v1, char **ret_error) {
        _cleanup_(place_done) Place p = { .fd = -EBADF };
        int r;

        if (e->n_hugetlb == 0)
                return 0;
        r = place_find(v2, v1, "hugetlb", "hugetlb", &p, ret_error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < e->n_hugetlb; i++) {
                char file[64], what[48], buf[32];

                snprintf(file, sizeof file, "hugetlb.%s.%s", e->hugetlb[i].page_size, p.v2 ? "max" : "limit_in_bytes");
                snprintf(what, sizeof what, "hugetlb %s", e->hugetlb[i].page_size);
                fmt_u64(buf, sizeof buf, e->hugetlb[i].limit, p.v2 ? "max" : "-1");
                r = write_attr(p.fd, file, buf);
                if (r == -ENOENT)
                        return error_set(ret_error, r, "%s: %s has no %s: the host has no huge pages of %s", what, p.where, file,
                                         e->hugetlb[i].page_size);
                if (r < 0)
                        return place_error(&p, what, file, buf, r, ret_error);
        }
        return 0;
}

/* net_cls and net_prio: cgroup v1 controllers only (cgroup2 matches
 * sockets by cgroup path in its BPF and netfilter hooks instead). */
static int apply_net(const CgroupExtras *e, const Cgroup *v2, const CgroupV1 *v1, char **ret_error) {
        _cleanup_(place_done) Place cls = { .fd = -EBADF }, prio = { .fd = -EBADF };
        char buf[32];
        int r;

        if (e->has_classid) {
                r = place_find(NULL, v1, "net_cls", "net_cls.classid", &cls, ret_error);
                if (r < 0)
                        return r;
                snprintf(buf, sizeof buf, "%" PRIu32, e->classid);
                r = place_write(&cls, "net_cls.classid", "net_cls.classid", buf, ret_error);
                if (r < 0)
                        return r;
        }
        if (!e->ifpriomap)
                return 0;
        r = place_find(NULL, v1, "net_prio", "net_prio.ifpriomap", &prio, ret_error);
        if (r < 0)
                return r;
        /* One "IFACE PRIORITY" a write. */
        for (char **m = e->ifpriomap; *m; m++) {
                r = place_write(&prio, "net_prio.ifpriomap", "net_prio.ifpriomap", *m, ret_error);
                if (r < 0)
                        return r;
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
        if (r >= 0)
                r = apply_cpuset(l, v2, v1, ret_error);
        if (r >= 0)
                r = apply_hugetlb(&l->extras, v2, v1, ret_error);
        if (r >= 0)
                r = apply_net(&l->extras, v2, v1, ret_error);
        return r;
}

int cgroup_controller_where(const char *controller) {
        _cleanup_free_ char *have = NULL, *text = NULL, *file = NULL;
        const char *mount = NULL;
        CgroupLayout layout;

        if (cgroup_layout_detect(&layout, &mount) >= 0) {
                file = strjoin3(mount, "/", "cgroup.controllers");
                if (!file)
                        return -ENOMEM;
                if (read_file_at(AT_FDCWD, file, 4096, &have) >= 0 && word_in(have, controller))
                        return 2;
        }
        if (read_file_at(AT_FDCWD, "/proc/self/cgroup", 64 * 1024, &text) < 0)
                return -ENOENT;
        for (char *line = text, *next, *controllers, *path; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (!cgroup_v1_line_split(line, &controllers, &path))
                        continue;
                for (char *w = controllers, *comma; w; w = comma) {
                        comma = strchr(w, ',');
                        if (comma)
                                *comma++ = '\0';
                        if (streq(w, controller))
                                return 1;
                }
        }
        return -ENOENT;
}
