/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "cgroup.h"
#include "dev-setup.h"
#include "log.h"
#include "missing-syscall.h"
#include "mount-points.h"
#include "mount-setup.h"
#include "mount-util.h"
#include "pool-copy.h"
#include "tree.h"

#define MS_SAFE (MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)

const char *const mount_api_dirs[] = { "/proc", "/sys", "/dev", "/run", "/tmp" };
const size_t mount_api_dirs_n = ELEMENTSOF(mount_api_dirs);

/* Files in /proc that tell about, or act on, the host as a whole. They are
 * hidden behind an empty read-only file, as systemd-nspawn and crun do. */
static const char *const proc_masked[] = {
        "/proc/kcore", "/proc/kallsyms", "/proc/keys", "/proc/timer_list", "/proc/sysrq-trigger",
};

static int mount_root(const MountContext *c, int *ret_root_fd) {
        int fd;

        /* Our mounts must not reach the host, nor the host's reach us. */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return -errno;
        /* The tree's mount (read-only, idmapped as asked) was made on the host
         * side; it goes on top of the tree's own directory, in our namespace
         * only. By fd, not by path: in a user namespace we may no longer be
         * allowed to walk the host's directories that lead to the tree. */
        if (move_mount(c->root_mntfd, "", c->tree_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return -errno;
        /* The detached mount's fd is its root, now attached: our new "/". */
        fd = fcntl(c->root_mntfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        *ret_root_fd = fd;
        return 0;
}

/* systemd (>= 247) links /run/systemd/inaccessible to /run/host/inaccessible
 * when that exists, and then expects one node of every type there to mount
 * over what a unit's ProtectHome= and friends hide. */
static int make_inaccessible_nodes(int host_fd) {
        static const struct {
                const char *name;
                mode_t mode;
        } nodes[] = {
                { "reg", S_IFREG }, { "dir", S_IFDIR }, { "fifo", S_IFIFO },
                { "sock", S_IFSOCK }, { "chr", S_IFCHR }, { "blk", S_IFBLK },
        };
        _cleanup_close_ int dir = -EBADF;

        if (mkdirat(host_fd, "inaccessible", 0755) < 0 && errno != EEXIST)
                return -errno;
        dir = openat(host_fd, "inaccessible", O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dir < 0)
                return -errno;
        for (size_t i = 0; i < ELEMENTSOF(nodes); i++) {
                int r;

                if (nodes[i].mode == S_IFDIR)
                        r = mkdirat(dir, nodes[i].name, 0000);
                else if (nodes[i].mode == S_IFREG)
                        r = write_file_at(dir, nodes[i].name, "", 0000);
                else
                        r = mknodat(dir, nodes[i].name, nodes[i].mode | 0000, makedev(0, 0));
                /* Device nodes cannot be made in a user namespace: systemd copes without. */
                if (r < 0 && !(errno == EPERM && (S_ISCHR(nodes[i].mode) || S_ISBLK(nodes[i].mode))))
                        return -errno;
        }
        /* The directory is made read-only last, so that we could fill it. */
        if (fchmodat(host_fd, "inaccessible", 0555, 0) < 0)
                return -errno;
        return 0;
}

/* /run/host: what the machine may know of its host (CONTAINER_INTERFACE.md),
 * plus the inaccessible file used to mask things. */
static int populate_run_host(const MountContext *c, int root_fd) {
        _cleanup_close_ int run = -EBADF, host = -EBADF;
        int r;

        r = tree_resolve(root_fd, "/run", O_PATH | O_DIRECTORY, &run);
        if (r < 0)
                return r;
        if (mkdirat(run, "host", 0755) < 0 && errno != EEXIST)
                return -errno;
        host = openat(run, "host", O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (host < 0)
                return -errno;
        r = write_file_at(host, "container-manager", "boxctl\n", 0444);
        if (r < 0)
                return r;
        if (c->host_os_release) {
                r = write_file_at(host, "os-release", c->host_os_release, 0444);
                if (r < 0)
                        return r;
        }
        r = make_inaccessible_nodes(host);
        if (r < 0)
                return r;
        if (c->machine_id) {
                char line[34];

                snprintf(line, sizeof line, "%s\n", c->machine_id);
                r = write_file_at(host, "machine-id", line, 0444);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int mount_proc(int root_fd) {
        _cleanup_close_ int inacc = -EBADF;
        int r;

        r = mount_fs_new_at(root_fd, "/proc", "proc", NULL, MS_SAFE);
        if (r < 0)
                return r;
        r = mount_remount_at(root_fd, "/proc/sys", false, MOUNT_ATTR_RDONLY | MS_SAFE);
        if (r < 0)
                return r;
        r = tree_resolve(root_fd, "/run/host/inaccessible/reg", O_PATH, &inacc);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(proc_masked); i++) {
                _cleanup_close_ int mfd = -EBADF;

                r = mount_clone(inacc, "", false, MOUNT_ATTR_RDONLY | MS_SAFE, &mfd);
                if (r < 0)
                        return r;
                r = mount_attach(mfd, root_fd, proc_masked[i]);
                if (r == -ENOENT) /* not built into this kernel */
                        continue;
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A bind's mount point below a file system we mounted ourselves (/tmp, /run,
 * /dev): the host side made none there (mount-points.c), so it is made now,
 * component by component. Each prefix of DEST is resolved from the root, so a
 * symlink on the way (/var/run -> /run) leads where it leads in the machine,
 * never out of it; only a missing component is made, in the directory that
 * resolution found. */
static int make_mount_point_in_root(int root_fd, const char *dest, bool dir) {
        _cleanup_free_ char *path = strdup(dest);
        _cleanup_close_ int parent = -EBADF;
        char *p;
        int r;

        if (!path)
                return -ENOMEM;
        parent = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
        if (parent < 0)
                return -errno;
        for (p = path; *p == '/'; p++)
                ;
        while (*p) {
                _cleanup_close_ int fd = -EBADF;
                char *end = p + strcspn(p, "/"), saved = *end, *name;
                bool last;

                *end = '\0';
                name = strrchr(path, '/') + 1;
                last = true;
                for (const char *q = end + (saved ? 1 : 0); saved && *q; q++)
                        if (*q != '/') {
                                last = false;
                                break;
                        }
                r = tree_resolve(root_fd, path, O_PATH, &fd);
                if (r == -ENOENT && last && !dir) {
                        fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
                        if (fd < 0)
                                return -errno;
                } else if (r == -ENOENT) {
                        /* A dangling symlink of that name: EEXIST. */
                        if (mkdirat(parent, name, 0755) < 0)
                                return -errno;
                        r = tree_resolve(root_fd, path, O_PATH | O_DIRECTORY, &fd);
                        if (r < 0)
                                return r;
                } else if (r < 0)
                        return r;
                if (last)
                        return 0;
                close(parent);
                parent = TAKE_FD(fd);
                *end = saved;
                for (p = end; *p == '/'; p++)
                        ;
        }
        return 0;
}

/* What a tmpfs with copy_up (crun's tmpcopyup) is filled from: the directory
 * it covers, as the mounts so far show it; but where that is the machine's
 * own /run, /tmp or /dev (made by boxctl, not asked for), the tree's own
 * directory underneath, seen through a non-recursive copy of the root mount. */
typedef struct CopyUp {
        int under_fd;       /* the tree alone, or -EBADF */
        int under_error;    /* why there is none, if one was needed */
        dev_t own[3];
        size_t n_own;
} CopyUp;

#define COPY_UP_NULL ((CopyUp) { .under_fd = -EBADF })

static void copy_up_done(CopyUp *cu) {
        cu->under_fd = safe_close(cu->under_fd);
}

static bool settings_want_copy_up(const Settings *s) {
        if (s->run_copy_up)
                return true;
        for (size_t i = 0; s->tmpfs_options && i < strv_length(s->tmpfs); i++)
                if (s->tmpfs_options[i].copy_up)
                        return true;
        return false;
}

/* Right after the root is attached, before anything covers the tree. */
static void copy_up_open(const Settings *s, int root_fd, CopyUp *cu) {
        if (!settings_want_copy_up(s))
                return;
        cu->under_fd = (int) open_tree(root_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
        if (cu->under_fd < 0) {
                cu->under_error = -errno;
                log_debug_errno(errno, "Cannot copy the root's mount for tmpcopyup: %m");
        }
}

/* The machine's own file system at DEST (one of /run, /tmp, /dev), just mounted. */
static void copy_up_note_own(CopyUp *cu, int root_fd, const char *dest) {
        struct stat st;

        if (cu->n_own < ELEMENTSOF(cu->own) && fstatat(root_fd, dest + 1, &st, 0) >= 0)
                cu->own[cu->n_own++] = st.st_dev;
}

/* The content of directory DEST (in ROOT_FD, or in the tree underneath)
 * copied into the detached tmpfs MNTFD. */
static int copy_up(const CopyUp *cu, int root_fd, const char *dest, int mntfd) {
        _cleanup_close_ int top = -EBADF, under = -EBADF;
        struct stat st;
        bool own = false;
        int r;

        r = tree_resolve(root_fd, dest, O_RDONLY | O_DIRECTORY, &top);
        if (r == -ENOENT) /* nothing to copy */
                return 0;
        if (r < 0)
                return r;
        if (fstat(top, &st) < 0)
                return -errno;
        for (size_t i = 0; i < cu->n_own; i++)
                own = own || cu->own[i] == st.st_dev;
        if (own) {
                if (cu->under_fd < 0)
                        return cu->under_error ?: -EBADF;
                r = tree_resolve(cu->under_fd, dest, O_RDONLY | O_DIRECTORY, &under);
                if (r == -ENOENT)
                        return 0;
                if (r < 0)
                        return r;
        }
        return copy_tree_at(own ? under : top, ".", mntfd, ".", NULL, NULL);
}

/* TMPFS at DEST: the default ("mode=0755", nosuid, nodev), or as O says. */
static int mount_user_tmpfs(const CopyUp *cu, int root_fd, const char *dest, const TmpfsOptions *o) {
        _cleanup_close_ int probe = -EBADF, mfd = -EBADF;
        unsigned attr = o ? o->attr_set : MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
        int r;

        /* In the machine's own /tmp, /run or /dev (an OCI config's /run/lock),
         * the host side made no mount point. */
        if (tree_resolve(root_fd, dest, O_PATH, &probe) == -ENOENT) {
                r = make_mount_point_in_root(root_fd, dest, true);
                if (r < 0)
                        return r;
        }
        /* Filled before it is made read-only and attached. */
        r = mount_fs_new("tmpfs", o ? o->data : "mode=0755", o && o->copy_up ? attr & ~MOUNT_ATTR_RDONLY : attr, &mfd);
        if (r < 0)
                return r;
        if (o && o->copy_up) {
                r = copy_up(cu, root_fd, dest, mfd);
                if (r < 0)
                        return r;
                if (attr & MOUNT_ATTR_RDONLY) {
                        struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY };

                        if (mount_setattr(mfd, "", AT_EMPTY_PATH, &a, sizeof a) < 0)
                                return -errno;
                }
        }
        return mount_attach(mfd, root_fd, dest);
}

/* Each tmpfs before the bind that settings->tmpfs_at names (all after the
 * binds without it). */
static int mount_tmpfs_at(const Settings *s, const CopyUp *cu, size_t bind_index, int root_fd, const char **ret_step) {
        size_t i = 0;
        int r;

        for (char **t = s->tmpfs; t && *t; t++, i++) {
                size_t at = s->tmpfs_at ? MIN(s->tmpfs_at[i], s->n_binds) : s->n_binds;

                if (at != bind_index)
                        continue;
                *ret_step = *t;
                r = mount_user_tmpfs(cu, root_fd, *t, s->tmpfs_options ? &s->tmpfs_options[i] : NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A bind the host side made, replaced by a copy made now, once attached:
 * mountinfo lists mounts in the order they were made (by their unique ID
 * since Linux 6.8), and an OCI config's binds come after the machine's own
 * /proc, /dev and /sys there, as the config lists them. A detached tree
 * from another mount namespace cannot be copied (open_tree(2)): it is
 * attached first. Should the copy fail, the original stays. (Settings.binds_in_order) */
static int mount_attach_fresh(int mntfd, int root_fd, const char *dest) {
        _cleanup_close_ int top = -EBADF, copy = -EBADF;
        char path[64];
        int r;

        r = mount_attach(mntfd, root_fd, dest);
        if (r < 0)
                return r;
        r = tree_resolve(root_fd, dest, O_PATH, &top);
        if (r < 0)
                return r;
        copy = open_tree(top, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
        if (copy < 0)
                return 0;
        snprintf(path, sizeof path, "/proc/self/fd/%d", top);
        if (umount2(path, MNT_DETACH) < 0)
                return 0;
        return mount_attach(copy, root_fd, dest);
}

/* The bind's propagation, once attached (the host side's copy has none to keep). */
static int bind_set_propagation(const BindMount *b, int root_fd) {
        struct mount_attr a = { .propagation = b->propagation };
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (b->propagation == 0)
                return 0;
        r = tree_resolve(root_fd, b->destination, O_PATH, &fd);
        if (r < 0)
                return r;
        if (mount_setattr(fd, "", AT_EMPTY_PATH | (b->propagation_recursive ? AT_RECURSIVE : 0), &a, sizeof a) < 0)
                return -errno;
        return 0;
}

/* The binds and tmpfs asked for, in their order, after the machine's own
 * mounts: one in its /run, /tmp or /dev lands in the file system the machine
 * made there. */
static int mount_user_binds(const MountContext *c, const CopyUp *cu, int root_fd, const char **ret_step) {
        const Settings *s = c->settings;
        int r;

        for (size_t i = 0; i < s->n_binds; i++) {
                _cleanup_close_ int probe = -EBADF;
                struct stat st;

                r = mount_tmpfs_at(s, cu, i, root_fd, ret_step);
                if (r < 0)
                        return r;
                *ret_step = s->binds[i].destination;
                if (tree_resolve(root_fd, s->binds[i].destination, O_PATH, &probe) == -ENOENT) {
                        if (fstat(c->bind_mntfds[i], &st) < 0)
                                return -errno;
                        r = make_mount_point_in_root(root_fd, s->binds[i].destination, S_ISDIR(st.st_mode));
                        if (r < 0)
                                return r;
                }
                if (s->binds_in_order)
                        r = mount_attach_fresh(c->bind_mntfds[i], root_fd, s->binds[i].destination);
                else
                        r = mount_attach(c->bind_mntfds[i], root_fd, s->binds[i].destination);
                if (r >= 0)
                        r = bind_set_propagation(&s->binds[i], root_fd);
                if (r < 0)
                        return r;
        }
        return mount_tmpfs_at(s, cu, s->n_binds, root_fd, ret_step);
}

/* The machine's own /run, with the tree's /run in it when asked (an OCI
 * config's tmpfs on /run with tmpcopyup: podman's --systemd=always). */
static int mount_run(const Settings *s, const CopyUp *cu, int root_fd) {
        _cleanup_close_ int mfd = -EBADF;
        int r;

        r = mount_fs_new("tmpfs", "mode=0755,size=20%", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, &mfd);
        if (r < 0)
                return r;
        if (s->run_copy_up) {
                r = copy_up(cu, root_fd, "/run", mfd);
                if (r < 0)
                        return r;
        }
        return mount_attach(mfd, root_fd, "/run");
}

static int mount_sys(int root_fd) {
        _cleanup_close_ int mfd = -EBADF;
        int r;

        r = mount_fs_new_at(root_fd, "/sys", "sysfs", NULL, MOUNT_ATTR_RDONLY | MS_SAFE);
        if (r != -EPERM)
                return r;
        /* A user namespace may mount sysfs only for a network namespace it owns;
         * sharing the host's network, the machine gets the host's /sys, read-only. */
        r = mount_clone(AT_FDCWD, "/sys", true, MOUNT_ATTR_RDONLY | MS_SAFE, &mfd);
        if (r < 0)
                return r;
        return mount_attach(mfd, root_fd, "/sys");
}

/* cgroup2 at /sys/fs/cgroup, its root our cgroup namespace's. That is the
 * machine's own cgroup when the namespace is its own ("0::/" in
 * /proc/self/cgroup); in one it shares (an OCI config that lists none) only
 * its own subtree is bound there, as runc does, not the host's hierarchy. */
static int mount_cgroup(int root_fd) {
        _cleanup_close_ int mfd = -EBADF, sub = -EBADF;
        _cleanup_free_ char *text = NULL;
        char *own;
        int r;

        r = read_file_at(AT_FDCWD, "/proc/self/cgroup", 64 * 1024, &text);
        if (r < 0)
                return r;
        own = strstr(text, "0::/");
        if (own != text && own && own[-1] != '\n')
                own = NULL;
        if (!own)
                return -ENOMEDIUM;
        own += STRLEN("0::/");
        own[strcspn(own, "\n")] = 0;
        r = mount_fs_new("cgroup2", NULL, MS_SAFE, &mfd);
        if (r == -EPERM && *own) {
                /* A user namespace mounts cgroup2 only for a cgroup namespace it
                 * owns: its subtree of the host's mount, which this mount
                 * namespace still has (runc binds it too). */
                CgroupLayout layout;
                const char *mount;
                _cleanup_free_ char *path = NULL;

                r = cgroup_layout_detect(&layout, &mount);
                if (r < 0)
                        return r;
                path = strjoin3(mount, "/", own);
                if (!path)
                        return -ENOMEM;
                r = mount_clone(AT_FDCWD, path, false, MS_SAFE, &sub);
                if (r < 0)
                        return r;
                return mount_attach(sub, root_fd, "/sys/fs/cgroup");
        }
        if (r < 0)
                return r;
        if (*own) {
                r = mount_clone(mfd, own, false, MS_SAFE, &sub);
                if (r < 0)
                        return r;
                safe_close(mfd);
                mfd = TAKE_FD(sub);
        }
        return mount_attach(mfd, root_fd, "/sys/fs/cgroup");
}

static int mount_api(ApiMount which, int root_fd, const char **ret_step) {
        int r;

        *ret_step = api_mount_to_string(which);
        switch (which) {
        case API_MOUNT_PROC:
                return mount_proc(root_fd);
        case API_MOUNT_SYS:
                r = mount_sys(root_fd);
                if (r < 0)
                        return r;
                /* In the machine's cgroup namespace this shows its own subtree as a pure
                 * cgroup2 hierarchy, whatever the host's layout. */
                *ret_step = "/sys/fs/cgroup";
                return mount_cgroup(root_fd);
        case API_MOUNT_DEV:
                return dev_setup(root_fd);
        case API_MOUNT_MQUEUE:
                /* In our own fresh /dev: nothing of the tree's is written. */
                r = make_mount_point_in_root(root_fd, "/dev/mqueue", true);
                if (r < 0)
                        return r;
                return mount_fs_new_at(root_fd, "/dev/mqueue", "mqueue", NULL, MS_SAFE);
        default:
                return -EINVAL;
        }
}

/* proc, sys and dev, and mqueue when asked for: first those that
 * settings->api_order names, in its order (runtime-tools reads a config's
 * order back from mountinfo, which lists mounts as they were made), then
 * the rest. /dev/mqueue needs /dev first. */
static int mount_api_all(const Settings *s, int root_fd, const char **ret_step) {
        static const ApiMount usual[] = { API_MOUNT_PROC, API_MOUNT_SYS, API_MOUNT_DEV };
        bool done[_API_MOUNT_MAX] = {};
        int r;

        for (size_t i = 0; i < s->n_api_order && i < _API_MOUNT_MAX; i++) {
                ApiMount m = s->api_order[i];

                if (m < 0 || m >= _API_MOUNT_MAX || done[m])
                        continue;
                if (m == API_MOUNT_MQUEUE && !done[API_MOUNT_DEV]) {
                        r = mount_api(API_MOUNT_DEV, root_fd, ret_step);
                        if (r < 0)
                                return r;
                        done[API_MOUNT_DEV] = true;
                }
                r = mount_api(m, root_fd, ret_step);
                if (r < 0)
                        return r;
                done[m] = true;
        }
        for (size_t i = 0; i < ELEMENTSOF(usual); i++) {
                if (done[usual[i]])
                        continue;
                r = mount_api(usual[i], root_fd, ret_step);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int mount_machine_id(int root_fd) {
        _cleanup_close_ int src = -EBADF, mfd = -EBADF;
        int r;

        r = tree_resolve(root_fd, "/run/host/machine-id", O_PATH, &src);
        if (r < 0)
                return r;
        r = mount_clone(src, "", false, MOUNT_ATTR_RDONLY, &mfd);
        if (r < 0)
                return r;
        return mount_attach(mfd, root_fd, "/etc/machine-id");
}

/* The tree's own /proc, /sys, /dev, /run and /tmp are only places to mount
 * on. As a symlink, one would take its mount elsewhere: to another of them,
 * hiding what was mounted there (/proc -> /dev leaves no proc, /dev -> /proc
 * covers it), or, followed outside the root, to the host (CVE-2019-19921).
 * So each must be a directory, or absent when nothing mounts there. */
static int check_api_dirs(int root_fd, const char **ret_path) {
        for (size_t i = 0; i < ELEMENTSOF(mount_api_dirs); i++) {
                struct stat st;

                if (fstatat(root_fd, mount_api_dirs[i] + 1, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                continue; /* refused at its mount, by name */
                        *ret_path = mount_api_dirs[i];
                        return -errno;
                }
                if (S_ISDIR(st.st_mode))
                        continue;
                *ret_path = mount_api_dirs[i];
                return S_ISLNK(st.st_mode) ? -ELOOP : -ENOTDIR;
        }
        return 0;
}

int mount_setup(const MountContext *c, int *ret_root_fd, const char **ret_step) {
        _cleanup_(copy_up_done) CopyUp cu = COPY_UP_NULL;
        _cleanup_close_ int root_fd = -EBADF;
        int r;

#define STEP(what, expr)                  \
        do {                              \
                *ret_step = (what);       \
                r = (expr);               \
                if (r < 0)                \
                        return r;         \
        } while (0)

        STEP(c->root_path, mount_root(c, &root_fd));
        if (c->make_mount_points) {
                /* Mount points the tree lacks are made in the throw-away layer
                 * (--ephemeral), or in the image's root. */
                MountPoints mp = {};
                _cleanup_free_ char *failed = NULL;

                r = mount_points_prepare(root_fd, c->settings, &mp, &failed);
                mount_points_forget(&mp);
                if (r < 0) {
                        *ret_step = failed ? "a mount point" : c->root_path;
                        return r;
                }
        }
        r = check_api_dirs(root_fd, ret_step);
        if (r < 0)
                return r;
        copy_up_open(c->settings, root_fd, &cu);
        STEP("/run", mount_run(c->settings, &cu, root_fd));
        copy_up_note_own(&cu, root_fd, "/run");
        STEP("/run/host", populate_run_host(c, root_fd));
        STEP("/tmp", mount_fs_new_at(root_fd, "/tmp", "tmpfs", "mode=1777",
                                  MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV));
        copy_up_note_own(&cu, root_fd, "/tmp");
        r = mount_api_all(c->settings, root_fd, ret_step);
        if (r < 0)
                return r;
        copy_up_note_own(&cu, root_fd, "/dev");
        if (c->machine_id)
                STEP("/etc/machine-id", mount_machine_id(root_fd));
        r = mount_user_binds(c, &cu, root_fd, ret_step);
        if (r < 0)
                return r;
#undef STEP

        *ret_step = NULL;
        *ret_root_fd = TAKE_FD(root_fd);
        return 0;
}

int mount_switch_root(int root_fd) {
        /* pivot_root(".", ".") stacks the old root on top of the new one; the
         * detach below then drops it (pivot_root(2), NOTES). */
        if (fchdir(root_fd) < 0)
                return -errno;
        if (sys_pivot_root(".", ".") < 0)
                return -errno;
        if (umount2(".", MNT_DETACH) < 0)
                return -errno;
        if (chdir("/") < 0)
                return -errno;
        return 0;
}
