/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup-path.h"
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
        char *path;    /* the machine's cgroup, relative to the root */
} Hierarchy;

struct CgroupV1 {
        char *scope; /* machine-NAME.scope */
        char *named; /* cgroup-path.h: at this path instead (resolved in each hierarchy) */
        bool opened; /* by cgroup_v1_machine_open(): not ours to remove */
        Hierarchy h[HIERARCHIES_MAX];
        size_t n;
};

/* "cpu,cpuacct" -> mount options; a named hierarchy alone needs "none". */
static char *mount_options(const char *controllers) {
        bool named_only = startswith(controllers, "name=") && !strchr(controllers, ',');

        return strjoin3(named_only ? "none," : "", controllers, "");
}

static char *mfree_path(char *p) {
        free(p);
        return NULL;
}

static int hierarchy_open(Hierarchy *h, const char *controllers, const char *own, const char *scope, const char *named) {
        _cleanup_free_ char *opts = mount_options(controllers);
        _cleanup_close_ int slice_fd = -EBADF;
        int r;

        if (!opts)
                return -ENOMEM;
        r = mount_fs_new("cgroup", opts, 0, &h->root_fd);
        if (r < 0)
                return r;
        if (named) {
                h->own = strdup(own[0] == '/' ? own + 1 : own);
                h->controllers = strdup(controllers);
                if (!h->own || !h->controllers)
                        return -ENOMEM;
                r = cgroup_path_resolve(own, named, &h->path);
                if (r < 0)
                        return r;
                r = cgroup_path_make(h->root_fd, h->path, strstr(controllers, "cpuset"), &h->machine_fd);
                /* Another's, which we made none of: nothing of it is ours to remove. */
                if (r == -EBUSY)
                        h->path = mfree_path(h->path);
                return r;
        }
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
                r = cgroup_cpuset_inherit(h->root_fd, slice_fd);
                if (r >= 0)
                        r = cgroup_cpuset_inherit(slice_fd, h->machine_fd);
                if (r < 0)
                        return r;
        }
        h->own = strdup(own[0] == '/' ? own + 1 : own);
        h->controllers = strdup(controllers);
        h->path = strjoin3("machine.slice/", scope, "");
        return h->own && h->controllers && h->path ? 0 : -ENOMEM;
}

bool cgroup_v1_line_split(char *line, char **ret_controllers, char **ret_path) {
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

        if (!c2 || startswith(line, "0:") || c2 == c1 + 1)
                return false;
        *c1 = *c2 = '\0';
        *ret_controllers = c1 + 1;
        *ret_path = c2 + 1;
        return true;
}

int cgroup_v1_machine_new(const char *machine_name, CgroupV1 **ret) {
        return cgroup_v1_machine_new_at(machine_name, NULL, ret);
}

int cgroup_v1_machine_new_at(const char *machine_name, const char *cgroup_path, CgroupV1 **ret) {
        _cleanup_(cgroup_v1_machine_freep) CgroupV1 *v = NULL;
        _cleanup_free_ char *text = NULL;
        int r;

        v = calloc(1, sizeof *v);
        if (!v)
                return -ENOMEM;
        v->scope = strjoin3("machine-", machine_name, ".scope");
        v->named = cgroup_path ? strdup(cgroup_path) : NULL;
        if (!v->scope || (cgroup_path && !v->named))
                return -ENOMEM;
        r = read_file_at(AT_FDCWD, "/proc/self/cgroup", 64 * 1024, &text);
        if (r < 0)
                return r;
        /* cgroup2's line is not one: the scope covers it. */
        for (char *line = text, *next, *controllers, *path; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (!cgroup_v1_line_split(line, &controllers, &path))
                        continue;
                if (v->n >= HIERARCHIES_MAX)
                        return -E2BIG;
                Hierarchy *h = &v->h[v->n];
                h->root_fd = h->machine_fd = -EBADF;
                v->n++;
                r = hierarchy_open(h, controllers, path, v->scope, v->named);
                if (r < 0)
                        return log_debug_errno(r, "cgroup v1 hierarchy %s: %m", controllers);
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

                if (!v->opened && v->named && h->root_fd >= 0 && h->path) {
                        int r = cgroup_path_remove(h->root_fd, h->path);

                        if (r < 0)
                                log_debug_errno(r, "cannot remove cgroup %s of hierarchy %s: %m", h->path, h->controllers);
                } else if (!v->opened && h->root_fd >= 0 && h->machine_fd >= 0) {
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
                free(h->path);
        }
        free(v->scope);
        free(v->named);
        free(v);
        return NULL;
}

CgroupV1 *cgroup_v1_machine_forget(CgroupV1 *v) {
        if (!v)
                return NULL;
        for (size_t i = 0; i < v->n; i++)
                v->h[i].root_fd = safe_close(v->h[i].root_fd);
        return cgroup_v1_machine_free(v);
}

/* ---- leftovers ---- */

/* Calls FN with a detached mount of each v1 hierarchy process PID (0: us) is
 * in, and PID's cgroup there, relative to the hierarchy's root. */
static int for_each_hierarchy_of(pid_t pid, int (*fn)(int root_fd, const char *controllers, const char *path, void *userdata),
                                 void *userdata) {
        _cleanup_free_ char *text = NULL;
        char file[64];
        int r, ret = 0;

        if (pid == 0)
                strcpy(file, "/proc/self/cgroup");
        else
                snprintf(file, sizeof file, "/proc/%d/cgroup", (int) pid);
        r = read_file_at(AT_FDCWD, file, 64 * 1024, &text);
        if (r < 0)
                return r;
        for (char *line = text, *next, *controllers, *path; line && *line; line = next) {
                _cleanup_free_ char *opts = NULL;
                _cleanup_close_ int root_fd = -EBADF;

                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (!cgroup_v1_line_split(line, &controllers, &path))
                        continue;
                opts = mount_options(controllers);
                if (!opts)
                        return -ENOMEM;
                r = mount_fs_new("cgroup", opts, 0, &root_fd);
                if (r >= 0)
                        r = fn(root_fd, controllers, path + strspn(path, "/"), userdata);
                if (r < 0 && ret == 0)
                        ret = log_debug_errno(r, "cgroup v1 hierarchy %s: %m", controllers);
        }
        return ret;
}

static int for_each_hierarchy(int (*fn)(int root_fd, const char *controllers, const char *path, void *userdata),
                              void *userdata) {
        return for_each_hierarchy_of(0, fn, userdata);
}

static int scope_remove(int root_fd, const char *scope) {
        _cleanup_free_ char *path = strjoin3("machine.slice/", scope, "");
        _cleanup_free_ char *procs = strjoin3("machine.slice/", scope, "/cgroup.procs"), *s = NULL;
        int r;

        if (!path || !procs)
                return -ENOMEM;
        r = read_file_at(root_fd, procs, 4096, &s);
        if (r == -ENOENT)
                return 0;
        if (r >= 0 && !isempty(s))
                return -EBUSY; /* processes of a machine still running */
        r = cgroup_remove_tree_at(root_fd, path);
        (void) unlinkat(root_fd, "machine.slice", AT_REMOVEDIR); /* when it was the last */
        return r;
}

static int remove_one(int root_fd, const char *controllers, const char *path, void *userdata) {
        return scope_remove(root_fd, userdata);
}

int cgroup_v1_machine_remove(const char *machine_name) {
        _cleanup_free_ char *scope = strjoin3("machine-", machine_name, ".scope");

        if (!scope)
                return -ENOMEM;
        return for_each_hierarchy(remove_one, scope);
}

typedef struct SweepArgs {
        bool (*keep)(const char *machine_name, void *userdata);
        void *userdata;
} SweepArgs;

static int sweep_one(int root_fd, const char *controllers, const char *path, void *userdata) {
        SweepArgs *a = userdata;
        _cleanup_close_ int fd = openat(root_fd, "machine.slice", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int ret = 0;

        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        d = fdopendir(TAKE_FD(fd));
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                _cleanup_free_ char *name = NULL;
                const char *rest = startswith(de->d_name, "machine-");
                size_t n;
                int r;

                if (de->d_type != DT_DIR || !rest || (n = strlen(rest)) <= STRLEN(".scope") ||
                    !streq(rest + n - STRLEN(".scope"), ".scope"))
                        continue;
                name = strndup(rest, n - STRLEN(".scope"));
                if (!name)
                        return -ENOMEM;
                if (a->keep(name, a->userdata))
                        continue;
                r = scope_remove(root_fd, de->d_name);
                if (r < 0 && r != -EBUSY && ret == 0)
                        ret = r;
        }
        return ret;
}

int cgroup_v1_sweep(bool (*keep)(const char *machine_name, void *userdata), void *userdata) {
        SweepArgs a = { .keep = keep, .userdata = userdata };

        return for_each_hierarchy(sweep_one, &a);
}

static int join_one(int root_fd, const char *controllers, const char *path, void *userdata) {
        return write_pid_at(root_fd, path, 0);
}

int cgroup_v1_join(pid_t leader) {
        return for_each_hierarchy_of(leader, join_one, NULL);
}

int cgroup_v1_machine_paths(const CgroupV1 *v, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;

        for (size_t i = 0; v && i < v->n; i++) {
                _cleanup_free_ char *line = NULL;

                if (!v->h[i].path)
                        continue;
                if (asprintf(&line, "%s:/%s", v->h[i].controllers, v->h[i].path) < 0)
                        return -ENOMEM;
                if (strv_push_dup(&l, line) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int cgroup_v1_paths_remove(char *const *paths) {
        int ret = 0;

        for (char *const *p = paths; p && *p; p++) {
                _cleanup_free_ char *controllers = NULL, *opts = NULL;
                _cleanup_close_ int root_fd = -EBADF;
                const char *colon = strchr(*p, ':');
                int r;

                if (!colon || colon[1] != '/' || colon[2] == '\0')
                        continue;
                controllers = strndup(*p, (size_t) (colon - *p));
                opts = controllers ? mount_options(controllers) : NULL;
                if (!opts)
                        return -ENOMEM;
                r = mount_fs_new("cgroup", opts, 0, &root_fd);
                if (r >= 0)
                        r = cgroup_path_remove(root_fd, colon + 2);
                if (r < 0 && ret == 0)
                        ret = log_debug_errno(r, "cannot remove cgroup %s: %m", *p);
        }
        return ret;
}

/* ---- a running machine's ---- */

static bool controller_in(const char *controllers, const char *controller) {
        size_t n = strlen(controller);

        for (const char *p = controllers; *p;) {
                size_t k = strcspn(p, ",");

                if (k == n && strneq(p, controller, n))
                        return true;
                p += k;
                p += *p == ',';
        }
        return false;
}

int cgroup_v1_controller_dir(const CgroupV1 *v, const char *controller, int *ret_fd, const char **ret_path) {
        for (size_t i = 0; v && i < v->n; i++)
                if (v->h[i].machine_fd >= 0 && controller_in(v->h[i].controllers, controller)) {
                        *ret_fd = v->h[i].machine_fd;
                        *ret_path = v->h[i].path;
                        return 0;
                }
        return -ENOENT;
}

static int open_one(int root_fd, const char *controllers, const char *path, void *userdata) {
        CgroupV1 *v = userdata;
        Hierarchy *h;

        if (v->n >= HIERARCHIES_MAX)
                return -E2BIG;
        h = &v->h[v->n];
        *h = (Hierarchy) { .root_fd = -EBADF, .machine_fd = -EBADF };
        v->n++;
        h->controllers = strdup(controllers);
        h->path = strdup(path);
        h->own = strdup("");
        if (!h->controllers || !h->path || !h->own)
                return -ENOMEM;
        /* The leader at a hierarchy's root: not a machine's cgroup of ours. */
        if (isempty(path))
                return 0;
        h->machine_fd = openat(root_fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (h->machine_fd < 0)
                return -errno;
        h->root_fd = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
        return h->root_fd < 0 ? -errno : 0;
}

int cgroup_v1_machine_open(pid_t leader, CgroupV1 **ret) {
        _cleanup_(cgroup_v1_machine_freep) CgroupV1 *v = NULL;
        int r;

        v = calloc(1, sizeof *v);
        if (!v)
                return -ENOMEM;
        v->opened = true;
        r = for_each_hierarchy_of(leader, open_one, v);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v);
        return 0;
}
