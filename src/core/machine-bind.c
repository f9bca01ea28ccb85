// SPDX-License-Identifier: LGPL-2.1-or-later
/* bind: a host directory or file mounted into a running machine. The mount
 * is cloned on the host (open_tree(OPEN_TREE_CLONE)), made read-only and
 * idmapped into the machine's user namespace while still detached, and
 * attached from inside the machine's mount namespace (setns + move_mount)
 * on a target resolved in the machine's root. The machine's mounts are
 * private (mount-setup.c), so nothing of it shows on the host. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "machine-copy.h"
#include "missing-syscall.h"
#include "mount-util.h"
#include "util.h"

/* The target in the machine, made with --mkdir: each missing directory on
 * the way, then the last component as a directory or an empty file, like
 * SOURCE. Every step resolved in the root. */
static int make_target(int root_fd, const char *path, bool directory) {
        _cleanup_free_ char *p = strdup(path);
        char *slash;
        int r;

        if (!p)
                return -ENOMEM;
        for (slash = p; (slash = strchr(slash + 1, '/'));) {
                _cleanup_close_ int fd = -EBADF;

                *slash = '\0';
                r = machine_open_dir(root_fd, p, &fd);
                if (r == -ENOENT) {
                        _cleanup_close_ int parent = -EBADF;
                        _cleanup_free_ char *dir = NULL, *base = NULL;

                        r = machine_path_split(p, &dir, &base);
                        if (r >= 0)
                                r = machine_open_dir(root_fd, dir, &parent);
                        if (r >= 0 && mkdirat(parent, base, 0755) < 0 && errno != EEXIST)
                                r = -errno;
                }
                if (r < 0)
                        return r;
                *slash = '/';
        }
        {
                _cleanup_close_ int parent = -EBADF, fd = -EBADF;
                _cleanup_free_ char *dir = NULL, *base = NULL;

                r = machine_path_split(path, &dir, &base);
                if (r >= 0)
                        r = machine_open_dir(root_fd, dir, &parent);
                if (r < 0)
                        return r;
                if (directory)
                        return mkdirat(parent, base, 0755) < 0 && errno != EEXIST ? -errno : 0;
                fd = openat(parent, base, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
                return fd < 0 && errno != EEXIST && errno != ELOOP ? -errno : 0;
        }
}

static int bind_run(const void *userdata, char **ret_error) {
        const MachineBind *b = userdata;
        _cleanup_(machine_access_done) MachineAccess m = MACHINE_ACCESS_NULL;
        _cleanup_close_ int mnt_fd = -EBADF, userns_fd = -EBADF, target = -EBADF;
        const char *dst = isempty(b->destination) ? b->source : b->destination;
        const char *name = b->machine_name;
        struct stat st, tst;
        int r;

        if (!path_is_absolute(b->source))
                return error_set(ret_error, -EINVAL, "source '%s' on the host is not an absolute path", b->source);
        if (!path_is_absolute(dst))
                return error_set(ret_error, -EINVAL, "destination '%s' in machine %s is not an absolute path", dst, name);
        r = machine_access_open(name, b->leader, &m, ret_error);
        if (r < 0)
                return r;

        if (stat(b->source, &st) < 0)
                return error_set(ret_error, -errno, "source %s on the host: %m", b->source);
        mnt_fd = (int) open_tree(AT_FDCWD, b->source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        if (mnt_fd < 0)
                return error_set(ret_error, -errno, "cannot clone the mount of %s: %m", b->source);
        if (b->read_only) {
                struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY };

                if (mount_setattr(mnt_fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) < 0)
                        return error_set(ret_error, -errno, "cannot make the mount of %s read-only: %m", b->source);
        }
        if (m.uid_base > 0) {
                char path[64];

                /* The host's owners as the machine sees them: its 0 is the host's 0. */
                snprintf(path, sizeof path, "/proc/%d/ns/user", (int) b->leader);
                userns_fd = open(path, O_RDONLY | O_CLOEXEC);
                if (userns_fd < 0)
                        return error_set(ret_error, -errno, "cannot open the user namespace of machine %s: %m", name);
                r = mount_set_idmap(mnt_fd, userns_fd, true);
                if (r < 0)
                        return error_set(ret_error, r, "cannot idmap the mount of %s into machine %s: %s", b->source,
                                         name, r == -EINVAL ? "its file system cannot" : strerror(-r));
        }

        if (setns(m.pidfd, CLONE_NEWNS) < 0)
                return error_set(ret_error, -errno, "cannot enter the mount namespace of machine %s: %m", name);
        /* Directories made with --mkdir are the machine root's. */
        r = machine_become_root_fs(m.uid_base);
        if (r < 0)
                return error_set(ret_error, r, "cannot take the file system UID of machine %s's root: %s", name,
                                 strerror(-r));
        if (b->mkdir) {
                r = make_target(m.root_fd, dst, S_ISDIR(st.st_mode));
                if (r < 0)
                        return error_set(ret_error, r, "cannot make %s in machine %s: %s", dst, name, strerror(-r));
        }
        {
                struct open_how how = {
                        .flags = O_PATH | O_CLOEXEC,
                        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
                };

                target = sys_openat2(m.root_fd, dst, &how);
        }
        if (target < 0 && errno == ENOENT)
                return error_set(ret_error, -ENOENT, "destination %s does not exist in machine %s (--mkdir makes it)",
                                 dst, name);
        if (target < 0 || fstat(target, &tst) < 0)
                return error_set(ret_error, -errno, "cannot open destination %s in machine %s: %m", dst, name);
        if (S_ISDIR(st.st_mode) && !S_ISDIR(tst.st_mode))
                return error_set(ret_error, -ENOTDIR, "destination %s in machine %s is not a directory", dst, name);
        if (!S_ISDIR(st.st_mode) && S_ISDIR(tst.st_mode))
                return error_set(ret_error, -EISDIR, "destination %s in machine %s is a directory, source %s is not",
                                 dst, name, b->source);
        if (move_mount(mnt_fd, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return error_set(ret_error, -errno, "cannot mount %s on %s in machine %s: %m", b->source, dst, name);
        return 0;
}

int machine_bind(const MachineBind *b, char **ret_error) {
        pid_t pid;
        int fd, r;

        /* In a process of its own: setns() into a mount namespace wants a
         * single-threaded process, and the caller keeps its own. */
        r = machine_job_start(bind_run, b, &pid, &fd);
        if (r < 0)
                return error_set(ret_error, r, "cannot start the mount: %s", strerror(-r));
        return machine_job_wait(pid, fd, ret_error);
}
