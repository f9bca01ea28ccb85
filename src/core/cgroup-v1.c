/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup-v1.h"
#include "log.h"
#include "mount-util.h"
#include "util.h"

#define HIERARCHIES_MAX 32

typedef struct Hierarchy {
        int root_fd;   /* a detached mount of the hierarchy's root */
        int machine_fd; /* machine.slice/machine-NAME.scope in it */
        char *own;     /* where we were, relative to the root ("" for the root) */
        char *controllers;
} Hierarchy;

struct CgroupV1 {
        char *scope; /* machine-NAME.scope */
        Hierarchy h[HIERARCHIES_MAX];
        size_t n;
};

/* "cpu,cpuacct" -> mount options; a named hierarchy alone needs "none". */
static char *mount_options(const char *controllers) {
        bool named_only = startswith(controllers, "name=") && !strchr(controllers, ',');

        return strjoin3(named_only ? "none," : "", controllers, "");
}

/* A new cpuset cgroup has no CPUs and no memory nodes: nothing can join it
 * (ENOSPC) until it gets its parent's. */
static int cpuset_inherit(int parent_fd, int child_fd) {
        static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *value = NULL, *current = NULL;
                int r;

                if (read_file_at(child_fd, files[i], 4096, &current) >= 0 && !isempty(current) && !streq(current, "\n"))
                        continue;
                r = read_file_at(parent_fd, files[i], 4096, &value);
                if (r < 0)
                        return r;
                r = write_file_at(child_fd, files[i], value, 0644);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int hierarchy_open(Hierarchy *h, const char *controllers, const char *own, const char *scope) {
        _cleanup_free_ char *opts = mount_options(controllers);
        _cleanup_close_ int slice_fd = -EBADF;
        int r;

        if (!opts)
                return -ENOMEM;
        r = mount_fs_new("cgroup", opts, 0, &h->root_fd);
        if (r < 0)
                return r;
        if (mkdirat(h->root_fd, "machine.slice", 0755) < 0 && errno != EEXIST)
                return -errno;
        slice_fd = openat(h->root_fd, "machine.slice", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (slice_fd < 0)
                return -errno;
        /* EEXIST: left by a SIGKILLed boxctl; the v2 scope of that name is
         * checked for live machines first, so it is ours to reuse. */
        if (mkdirat(slice_fd, scope, 0755) < 0 && errno != EEXIST)
                return -errno;
        h->machine_fd = openat(slice_fd, scope, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (h->machine_fd < 0)
                return -errno;
        if (strstr(controllers, "cpuset")) {
                r = cpuset_inherit(h->root_fd, slice_fd);
                if (r >= 0)
                        r = cpuset_inherit(slice_fd, h->machine_fd);
                if (r < 0)
                        return r;
        }
        h->own = strdup(own[0] == '/' ? own + 1 : own);
        h->controllers = strdup(controllers);
        return h->own && h->controllers ? 0 : -ENOMEM;
}

int cgroup_v1_machine_new(const char *machine_name, CgroupV1 **ret) {
        _cleanup_(cgroup_v1_machine_freep) CgroupV1 *v = NULL;
        _cleanup_free_ char *text = NULL;
        int r;

        v = calloc(1, sizeof *v);
        if (!v)
                return -ENOMEM;
        v->scope = strjoin3("machine-", machine_name, ".scope");
        if (!v->scope)
                return -ENOMEM;
        r = read_file_at(AT_FDCWD, "/proc/self/cgroup", 64 * 1024, &text);
        if (r < 0)
                return r;
        /* "ID:CONTROLLERS:PATH"; ID 0 is cgroup2, which the scope covers. */
        for (char *line = text, *next; line && *line; line = next) {
                char *c1, *c2;

                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                c1 = strchr(line, ':');
                c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2 || startswith(line, "0:") || c2 == c1 + 1)
                        continue;
                *c1 = *c2 = '\0';
                if (v->n >= HIERARCHIES_MAX)
                        return -E2BIG;
                Hierarchy *h = &v->h[v->n];
                h->root_fd = h->machine_fd = -EBADF;
                v->n++;
                r = hierarchy_open(h, c1 + 1, c2 + 1, v->scope);
                if (r < 0)
                        return log_debug_errno(r, "cgroup v1 hierarchy %s: %m", c1 + 1);
        }
        *ret = TAKE_PTR(v);
        return 0;
}

static int write_pid_at(int dirfd, const char *dir, pid_t pid) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        char buf[32];
        int n = snprintf(buf, sizeof buf, "%d\n", (int) pid);

        path = strjoin3(isempty(dir) ? "." : dir, "/", "cgroup.procs");
        if (!path)
                return -ENOMEM;
        fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        return write(fd, buf, n) == n ? 0 : -errno;
}

int cgroup_v1_enter(const CgroupV1 *v, pid_t pid) {
        for (size_t i = 0; v && i < v->n; i++) {
                int r = write_pid_at(v->h[i].machine_fd, "", pid);

                if (r < 0)
                        return log_debug_errno(r, "cannot join the machine's %s cgroup: %m", v->h[i].controllers);
        }
        return 0;
}

int cgroup_v1_leave(const CgroupV1 *v, pid_t pid) {
        int ret = 0;

        for (size_t i = 0; v && i < v->n; i++) {
                int r = write_pid_at(v->h[i].root_fd, v->h[i].own, pid);

                if (r < 0 && ret == 0)
                        ret = log_debug_errno(r, "cannot go back to our %s cgroup /%s: %m", v->h[i].controllers, v->h[i].own);
        }
        return ret;
}

CgroupV1 *cgroup_v1_machine_free(CgroupV1 *v) {
        if (!v)
                return NULL;
        for (size_t i = 0; i < v->n; i++) {
                Hierarchy *h = &v->h[i];

                if (h->root_fd >= 0 && h->machine_fd >= 0) {
                        _cleanup_free_ char *path = strjoin3("machine.slice/", v->scope, "");

                        /* The machine's processes are gone (its cgroup2 scope
                         * was emptied first); the kernel may still be
                         * releasing the cgroup for a moment: try again briefly. */
                        for (int try = 0; path && try < 100; try++) {
                                if (unlinkat(h->root_fd, path, AT_REMOVEDIR) >= 0 || errno == ENOENT)
                                        break;
                                if (errno != EBUSY)
                                        break;
                                usleep(10 * 1000);
                        }
                        (void) unlinkat(h->root_fd, "machine.slice", AT_REMOVEDIR); /* when it was the last */
                }
                safe_close(h->machine_fd);
                safe_close(h->root_fd);
                free(h->own);
                free(h->controllers);
        }
        free(v->scope);
        free(v);
        return NULL;
}
