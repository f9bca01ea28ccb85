/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>

#include "cgroup.h"
#include "cgroup-path.h"
#include "log.h"
#include "process-util.h"
#include "string-table.h"
#include "util.h"

static const char *const cgroup_layout_table[_CGROUP_LAYOUT_MAX] = {
        [CGROUP_LAYOUT_UNIFIED] = "unified",
        [CGROUP_LAYOUT_HYBRID] = "hybrid",
};

DEFINE_STRING_TABLE(cgroup_layout, CgroupLayout, cgroup_layout_table, _CGROUP_LAYOUT_MAX)

static bool is_cgroup2(const char *path) {
        struct statfs fs;

        return statfs(path, &fs) >= 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

int cgroup_layout_detect(CgroupLayout *ret_layout, const char **ret_mount) {
        if (is_cgroup2("/sys/fs/cgroup")) {
                *ret_layout = CGROUP_LAYOUT_UNIFIED;
                *ret_mount = "/sys/fs/cgroup";
                return 0;
        }
        if (is_cgroup2("/sys/fs/cgroup/unified")) {
                *ret_layout = CGROUP_LAYOUT_HYBRID;
                *ret_mount = "/sys/fs/cgroup/unified";
                return 0;
        }
        return -ENOMEDIUM;
}

/* Like systemd's unit name escaping for the characters a machine name may hold:
 * "-" separates slice levels in unit names, so it becomes \x2d. */
char *cgroup_unit_name(const char *machine_name) {
        size_t n = strlen(machine_name);
        char *s = malloc(STRLEN("machine-") + n * 4 + STRLEN(".scope") + 1), *p;

        if (!s)
                return NULL;
        p = stpcpy(s, "machine-");
        for (size_t i = 0; i < n; i++)
                p = machine_name[i] == '-' ? stpcpy(p, "\\x2d") : (*p++ = machine_name[i], p);
        strcpy(p, ".scope");
        return s;
}

int cgroup_unit_to_machine_name(const char *unit, char **ret) {
        const char *p = startswith(unit, "machine-");
        size_t n;
        char *s, *w;

        if (!p || (n = strlen(p)) <= STRLEN(".scope") || !streq(p + n - STRLEN(".scope"), ".scope"))
                return -EINVAL;
        n -= STRLEN(".scope");
        s = w = malloc(n + 1);
        if (!s)
                return -ENOMEM;
        for (size_t i = 0; i < n;)
                if (i + 4 <= n && strncmp(p + i, "\\x2d", 4) == 0)
                        *w++ = '-', i += 4;
                else
                        *w++ = p[i++];
        *w = '\0';
        *ret = s;
        return 0;
}

/* Whether cgroup.events of PATH holds LINE ("populated 1", "frozen 1"). */
static int cgroup_events_has(const char *path, const char *line) {
        _cleanup_free_ char *p = strjoin3(path, "/", "cgroup.events"), *s = NULL;
        int r;

        if (!p)
                return -ENOMEM;
        r = read_file_at(AT_FDCWD, p, 4096, &s);
        if (r < 0)
                return r;
        return strstr(s, line) != NULL;
}

int cgroup_is_populated(const char *path) {
        return cgroup_events_has(path, "populated 1");
}

/* Every process listed in the cgroup and its children, at the time of reading. */
static int kill_procs_tree(const char *path, int sig) {
        _cleanup_free_ char *procs = strjoin3(path, "/", "cgroup.procs"), *s = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r, n = 0;

        if (!procs)
                return -ENOMEM;
        r = read_file_at(AT_FDCWD, procs, 1024 * 1024, &s);
        if (r < 0)
                return r;
        for (char *w = strtok(s, "\n"); w; w = strtok(NULL, "\n"))
                if (kill((pid_t) atoi(w), sig) >= 0)
                        n++;
        d = opendir(path);
        if (!d)
                return n;
        while ((de = readdir(d))) {
                _cleanup_free_ char *sub = NULL;

                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                sub = strjoin3(path, "/", de->d_name);
                if (sub && (r = kill_procs_tree(sub, sig)) > 0)
                        n += r;
        }
        return n;
}

/* Waits until cgroup.events of PATH holds LINE (WANT) or no longer does (!WANT). */
static int wait_events(const char *path, const char *line, bool want, uint64_t timeout_usec) {
        _cleanup_free_ char *p = strjoin3(path, "/", "cgroup.events");
        _cleanup_close_ int fd = -EBADF;
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + timeout_usec;

        if (!p)
                return -ENOMEM;
        fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        for (;;) {
                struct pollfd pfd = { .fd = fd, .events = POLLPRI };
                uint64_t n;
                int r = cgroup_events_has(path, line);

                if (r < 0)
                        return r;
                if (r == want)
                        return 0;
                n = now_usec(CLOCK_MONOTONIC);
                if (n >= deadline)
                        return -ETIMEDOUT;
                /* cgroup.events signals changes as POLLPRI; poll in slices anyway,
                 * since a change between the read and the poll is not re-signalled. */
                (void) poll(&pfd, 1, (int) MIN((deadline - n) / 1000 + 1, (uint64_t) 50));
        }
}

int cgroup_kill_and_wait(const char *path, uint64_t timeout_usec) {
        _cleanup_free_ char *k = strjoin3(path, "/", "cgroup.kill");
        int r;

        if (!k)
                return -ENOMEM;
        r = cgroup_is_populated(path);
        if (r <= 0)
                return r;
        /* Kernels before 5.14 have no cgroup.kill: signal what the cgroups list. */
        if (write_string_file(k, "1") < 0) {
                r = kill_procs_tree(path, SIGKILL);
                if (r < 0)
                        return r;
        }
        return wait_events(path, "populated 1", false, timeout_usec);
}

int cgroup_remove_tree(const char *path) {
        return cgroup_remove_tree_at(AT_FDCWD, path);
}

static char *slice_path(const Cgroup *cg) {
        return strjoin3(cg->mount, "/", BOXCTL_CGROUP_SLICE);
}

/* Lets the machine's own init use every controller the host hands down. */
static void delegate_controllers(const char *slice) {
        _cleanup_free_ char *cpath = strjoin3(slice, "/", "cgroup.controllers"), *sc = NULL,
                            *controllers = NULL;
        size_t n = 0;

        if (!cpath || read_file_at(AT_FDCWD, cpath, 4096, &controllers) < 0)
                return;
        sc = strjoin3(slice, "/", "cgroup.subtree_control");
        if (!sc)
                return;
        for (char *w = strtok(controllers, " \n"); w; w = strtok(NULL, " \n")) {
                char buf[64];

                snprintf(buf, sizeof buf, "+%s", w);
                if (write_string_file(sc, buf) >= 0)
                        n++;
                else
                        log_debug("Could not enable controller %s for %s: %m", w, slice);
        }
        log_debug("Enabled %zu controllers below %s.", n, slice);
}

/* At the place the caller named: every cgroup above it hands its
 * controllers down (best effort: a parent with processes in it cannot, on
 * cgroup2, and the limits that need one fail later, saying so). */
static int cgroupfs_create_named(Cgroup *cg) {
        _cleanup_close_ int root_fd = -EBADF;
        int r;

        cg->path = strjoin3(cg->mount, "/", cg->named);
        if (!cg->path)
                return -ENOMEM;
        root_fd = open(cg->mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return -errno;
        r = cgroup_path_make(root_fd, cg->named, false, &cg->fd);
        if (r < 0 && r != -EBUSY) /* -EBUSY: another's, of which we made nothing */
                (void) cgroup_path_remove(root_fd, cg->named);
        if (r < 0)
                return r;
        for (char *slash = cg->path + strlen(cg->mount); slash; slash = strchr(slash + 1, '/')) {
                *slash = '\0';
                delegate_controllers(cg->path);
                *slash = '/';
        }
        return 0;
}

static int cgroupfs_create(Cgroup *cg) {
        _cleanup_free_ char *slice = slice_path(cg);

        if (cg->named)
                return cgroupfs_create_named(cg);

        if (!slice)
                return -ENOMEM;
        cg->path = strjoin3(slice, "/", cg->unit);
        if (!cg->path)
                return -ENOMEM;

        /* Another boxctl may remove the shared slice when its last machine leaves,
         * between our mkdir of the slice and that of the scope: try again then. */
        for (unsigned attempt = 0; attempt < 16; attempt++) {
                if (mkdir(slice, 0755) < 0 && errno != EEXIST)
                        return -errno;
                if (errno != EEXIST || attempt == 0)
                        delegate_controllers(slice);
                if (mkdir(cg->path, 0755) >= 0)
                        break;
                if (errno == ENOENT)
                        continue;
                if (errno != EEXIST)
                        return -errno;
                /* Left over from a boxctl that was SIGKILLed? An empty cgroup can go. */
                if (cgroup_is_populated(cg->path) > 0)
                        return -EBUSY;
                if (cgroup_remove_tree(cg->path) < 0)
                        return -EBUSY;
        }

        cg->fd = open(cg->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cg->fd < 0) {
                int r = -errno;

                (void) rmdir(cg->path);
                return r;
        }
        return 0;
}

static int cgroupfs_kill(Cgroup *cg, int sig) {
        /* SIGKILL to a whole subtree is what cgroup.kill (Linux 5.14) does in one
         * step, processes forked meanwhile included. */
        if (sig == SIGKILL) {
                _cleanup_free_ char *k = strjoin3(cg->path, "/", "cgroup.kill");

                if (!k)
                        return -ENOMEM;
                if (write_string_file(k, "1") >= 0)
                        return 0;
        }
        return kill_procs_tree(cg->path, sig);
}

static int cgroupfs_destroy(Cgroup *cg, uint64_t timeout_usec) {
        _cleanup_free_ char *slice = NULL;
        int r;

        if (!cg->path)
                return 0;
        r = cgroup_kill_and_wait(cg->path, timeout_usec);
        if (r < 0 && r != -ENOENT)
                log_debug_errno(r, "Could not empty %s: %m", cg->path);
        if (cg->named) {
                _cleanup_close_ int root_fd = open(cg->mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

                return root_fd < 0 ? -errno : cgroup_path_remove(root_fd, cg->named);
        }
        r = cgroup_remove_tree(cg->path);
        /* The slice is shared by all machines: the last one out removes it. */
        slice = slice_path(cg);
        if (slice && rmdir(slice) < 0 && errno != EBUSY && errno != ENOENT && errno != ENOTEMPTY)
                log_debug("Could not remove %s: %m", slice);
        return r;
}

const CgroupOps cgroup_ops_cgroupfs = {
        .name = "cgroupfs",
        .create = cgroupfs_create,
        .kill = cgroupfs_kill,
        .destroy = cgroupfs_destroy,
};

static int cgroup_alloc(Cgroup **ret) {
        Cgroup *cg = calloc(1, sizeof(Cgroup));
        int r;

        if (!cg)
                return -ENOMEM;
        cg->fd = -EBADF;
        cg->ops = &cgroup_ops_cgroupfs;
        r = cgroup_layout_detect(&cg->layout, &cg->mount);
        if (r < 0) {
                free(cg);
                return r;
        }
        *ret = cg;
        return 0;
}

int cgroup_machine_new(const char *machine_name, Cgroup **ret) {
        return cgroup_machine_new_at(machine_name, NULL, ret);
}

/* Our own cgroup2 cgroup, as /proc/self/cgroup's "0::" line has it. */
static int own_cgroup2(char **ret) {
        return pid_cgroup2_path(getpid(), ret);
}

int cgroup_machine_new_at(const char *machine_name, const char *cgroup_path, Cgroup **ret) {
        _cleanup_(cgroup_machine_freep) Cgroup *cg = NULL;
        int r;

        r = cgroup_alloc(&cg);
        if (r < 0)
                return r;
        if (cgroup_path) {
                _cleanup_free_ char *own = NULL;
                const char *b;
                size_t n;

                r = cgroup_path[0] == '/' ? 0 : own_cgroup2(&own);
                if (r >= 0)
                        r = cgroup_path_resolve(strempty(own), cgroup_path, &cg->named);
                if (r < 0)
                        return r;
                b = path_basename_ref(cg->named, &n);
                cg->unit = strndup(b, n);
        } else
                cg->unit = cgroup_unit_name(machine_name);
        if (!cg->unit)
                return -ENOMEM;
        /* Not owned until made: on failure, the destructor must not touch a
         * cgroup that belongs to another machine. */
        r = cg->ops->create(cg);
        if (r < 0)
                return r;
        cg->owned = true;
        *ret = TAKE_PTR(cg);
        return 0;
}

int cgroup_machine_open(const char *cgroup, Cgroup **ret) {
        _cleanup_(cgroup_machine_freep) Cgroup *cg = NULL;
        const char *b;
        size_t n;
        int r;

        if (!cgroup || cgroup[0] != '/')
                return -EINVAL;
        r = cgroup_alloc(&cg);
        if (r < 0)
                return r;
        cg->path = strjoin3(cg->mount, "", cgroup);
        b = path_basename_ref(cgroup, &n);
        cg->unit = strndup(b, n);
        if (!cg->path || !cg->unit)
                return -ENOMEM;
        *ret = TAKE_PTR(cg);
        return 0;
}

int cgroup_machine_open_named(const char *cgroup, Cgroup **ret) {
        _cleanup_(cgroup_machine_freep) Cgroup *cg = NULL;
        int r;

        r = cgroup_machine_open(cgroup, &cg);
        if (r < 0)
                return r;
        cg->named = strdup(cgroup + strspn(cgroup, "/"));
        if (!cg->named)
                return -ENOMEM;
        *ret = TAKE_PTR(cg);
        return 0;
}

int cgroup_machine_open_leader(pid_t leader, const char *unit, Cgroup **ret) {
        _cleanup_free_ char *cg = NULL;
        size_t ul = strlen(strempty(unit));
        int r;

        r = pid_cgroup2_path(leader, &cg);
        if (r < 0)
                return r;
        if (ul > 0) {
                char *e = cg + strlen(cg);

                for (;;) {
                        char *slash = memrchr(cg, '/', (size_t) (e - cg));

                        if (!slash)
                                return -ENOENT;
                        if ((size_t) (e - slash - 1) == ul && strneq(slash + 1, unit, ul)) {
                                *e = '\0';
                                break;
                        }
                        e = slash;
                }
        }
        return cgroup_machine_open(cg, ret);
}

void cgroup_machine_disown(Cgroup *cg) {
        cg->owned = false;
}

int cgroup_machine_kill(Cgroup *cg, int sig) {
        return cg->ops->kill(cg, sig);
}

int cgroup_machine_destroy(Cgroup *cg, uint64_t timeout_usec) {
        cg->owned = false;
        return cg->ops->destroy(cg, timeout_usec);
}

Cgroup *cgroup_machine_free(Cgroup *cg) {
        if (!cg)
                return NULL;
        safe_close(cg->fd);
        if (cg->owned)
                (void) cg->ops->destroy(cg, 10 * 1000000ULL);
        free(cg->path);
        free(cg->unit);
        free(cg->named);
        free(cg);
        return NULL;
}

int cgroup_delegate(const char *path, uid_t uid, gid_t gid) {
        /* What systemd chowns when it delegates a cgroup (see its cgroup
         * delegation documentation): the directory and the files that let the
         * new owner create subgroups and move its processes between them. */
        static const char *const files[] = { "cgroup.procs", "cgroup.threads", "cgroup.subtree_control" };
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        if (fchown(fd, uid, gid) < 0)
                return -errno;
        for (size_t i = 0; i < ELEMENTSOF(files); i++)
                if (fchownat(fd, files[i], uid, gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT)
                        return -errno;
        return 0;
}

int cgroup_machine_freeze(const Cgroup *cg, bool freeze, uint64_t timeout_usec) {
        _cleanup_free_ char *f = strjoin3(cg->path, "/", "cgroup.freeze");
        int r;

        if (!f)
                return -ENOMEM;
        if (access(f, F_OK) < 0)
                return errno == ENOENT && access(cg->path, F_OK) >= 0 ? -EOPNOTSUPP : -errno;
        r = write_string_file(f, freeze ? "1" : "0");
        if (r < 0)
                return r;
        /* The write asks; the kernel says in cgroup.events when every task has
         * stopped (or may run again). */
        return wait_events(cg->path, "frozen 1", freeze, timeout_usec);
}

int cgroup_machine_is_frozen(const Cgroup *cg) {
        _cleanup_free_ char *f = strjoin3(cg->path, "/", "cgroup.freeze"), *s = NULL;
        int r;

        if (!f)
                return -ENOMEM;
        r = read_file_at(AT_FDCWD, f, 64, &s);
        if (r == -ENOENT)
                return access(cg->path, F_OK) >= 0 ? 0 : -ENOENT;
        if (r < 0)
                return r;
        return s[0] == '1';
}
