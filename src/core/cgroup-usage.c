/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup-usage.h"
#include "cgroup-v1.h"
#include "cgroup.h"
#include "util.h"

/* The first number in FILE; "max" is CGROUP_USAGE_UNKNOWN. */
static int read_number(int dirfd, const char *file, uint64_t *ret) {
        _cleanup_free_ char *s = NULL;
        char *end;
        int r;

        if (dirfd < 0)
                return -EBADF;
        r = read_file_at(dirfd, file, 4096, &s);
        if (r < 0)
                return r;
        if (startswith(s, "max")) {
                *ret = CGROUP_USAGE_UNKNOWN;
                return 0;
        }
        errno = 0;
        *ret = strtoull(s, &end, 10);
        return errno != 0 || end == s ? -EINVAL : 0;
}

/* The value of KEY in a flat-keyed FILE ("usage_usec 1234" lines). */
static int read_keyed(int dirfd, const char *file, const char *key, uint64_t *ret) {
        _cleanup_free_ char *s = NULL;
        size_t n = strlen(key);
        int r;

        if (dirfd < 0)
                return -EBADF;
        r = read_file_at(dirfd, file, 64 * 1024, &s);
        if (r < 0)
                return r;
        for (char *l = s; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                if (strneq(l, key, n) && l[n] == ' ') {
                        *ret = strtoull(l + n + 1, NULL, 10);
                        return 0;
                }
        return -ENODATA;
}

/* Bytes read and written, summed over the devices: cgroup2's io.stat
 * ("MAJ:MIN rbytes=N wbytes=N ...") or v1's blkio.throttle.io_service_bytes
 * ("MAJ:MIN Read N" and "MAJ:MIN Write N" lines). */
static int read_io(int dirfd, bool v2, uint64_t *ret_read, uint64_t *ret_write) {
        _cleanup_free_ char *s = NULL;
        uint64_t rd = 0, wr = 0;
        int r;

        if (dirfd < 0)
                return -EBADF;
        r = read_file_at(dirfd, v2 ? "io.stat" : "blkio.throttle.io_service_bytes_recursive", 1024 * 1024, &s);
        if (r < 0)
                return r;
        for (char *save = NULL, *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char *p;

                if (v2) {
                        if ((p = strstr(l, " rbytes=")))
                                rd += strtoull(p + 8, NULL, 10);
                        if ((p = strstr(l, " wbytes=")))
                                wr += strtoull(p + 8, NULL, 10);
                } else if ((p = strstr(l, " Read ")))
                        rd += strtoull(p + 6, NULL, 10);
                else if ((p = strstr(l, " Write ")))
                        wr += strtoull(p + 7, NULL, 10);
        }
        *ret_read = rd;
        *ret_write = wr;
        return 0;
}

/* Threads in the cgroup and below it, for a host with no pids controller. */
static uint64_t count_threads(int dir_fd) {
        _cleanup_free_ char *s = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        uint64_t n = 0;
        int fd;

        if (read_file_at(dir_fd, "cgroup.threads", 4 * 1024 * 1024, &s) >= 0)
                for (char *p = s; *p; p++)
                        n += *p == '\n';
        fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return n;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return n;
        }
        while ((de = readdir(d))) {
                _cleanup_close_ int sub = -EBADF;

                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub >= 0)
                        n += count_threads(sub);
        }
        return n;
}

static int v1_dir(const CgroupV1 *v1, const char *controller) {
        const char *path;
        int fd;

        return v1 && cgroup_v1_controller_dir(v1, controller, &fd, &path) >= 0 ? fd : -EBADF;
}

int cgroup_usage_read(const Cgroup *v2, const CgroupV1 *v1, CgroupUsage *ret) {
        _cleanup_close_ int fd = open(v2->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CgroupUsage u = CGROUP_USAGE_NULL;
        int mem, cpuacct, pids, blkio;

        if (fd < 0)
                return -errno;
        /* A controller's files are in the scope when cgroup2 has it, else in v1. */
        if (read_number(fd, "memory.current", &u.memory_current) >= 0) {
                (void) read_number(fd, "memory.peak", &u.memory_peak); /* Linux 5.19 */
                (void) read_number(fd, "memory.max", &u.memory_max);
        } else if ((mem = v1_dir(v1, "memory")) >= 0) {
                (void) read_number(mem, "memory.usage_in_bytes", &u.memory_current);
                (void) read_number(mem, "memory.max_usage_in_bytes", &u.memory_peak);
                if (read_number(mem, "memory.limit_in_bytes", &u.memory_max) >= 0 && u.memory_max >= (UINT64_C(1) << 62))
                        u.memory_max = CGROUP_USAGE_UNKNOWN;
        }
        /* cgroup2 counts CPU time for every cgroup, with or without the cpu controller. */
        if (read_keyed(fd, "cpu.stat", "usage_usec", &u.cpu_usec) < 0 && (cpuacct = v1_dir(v1, "cpuacct")) >= 0 &&
            read_number(cpuacct, "cpuacct.usage", &u.cpu_usec) >= 0)
                u.cpu_usec /= 1000;
        if (read_number(fd, "pids.current", &u.tasks) >= 0)
                (void) read_number(fd, "pids.max", &u.tasks_max);
        else if ((pids = v1_dir(v1, "pids")) >= 0 && read_number(pids, "pids.current", &u.tasks) >= 0)
                (void) read_number(pids, "pids.max", &u.tasks_max);
        else
                u.tasks = count_threads(fd);
        if (read_io(fd, true, &u.io_read_bytes, &u.io_write_bytes) < 0 && (blkio = v1_dir(v1, "blkio")) >= 0)
                (void) read_io(blkio, false, &u.io_read_bytes, &u.io_write_bytes);
        *ret = u;
        return 0;
}
