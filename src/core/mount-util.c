/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <string.h>

#include "log.h"
#include "mount-util.h"
#include "tree.h"
#include "util.h"

int mount_fs_new(const char *fstype, const char *options, unsigned attr, int *ret_mntfd) {
        return mount_fs_new_source(fstype, fstype, options, attr, ret_mntfd);
}

int mount_fs_new_source(const char *fstype, const char *source, const char *options, unsigned attr, int *ret_mntfd) {
        _cleanup_close_ int fsfd = -EBADF;
        _cleanup_free_ char *opts = NULL;
        int mfd;

        fsfd = fsopen(fstype, FSOPEN_CLOEXEC);
        if (fsfd < 0)
                return -errno;
        if (fsconfig(fsfd, FSCONFIG_SET_STRING, "source", source, 0) < 0)
                return -errno;
        if (options) {
                char *save = NULL;

                opts = strdup(options);
                if (!opts)
                        return -ENOMEM;
                for (char *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
                        char *eq = strchr(o, '=');
                        int r;

                        if (eq) {
                                *eq = '\0';
                                r = fsconfig(fsfd, FSCONFIG_SET_STRING, o, eq + 1, 0);
                        } else
                                r = fsconfig(fsfd, FSCONFIG_SET_FLAG, o, NULL, 0);
                        if (r < 0)
                                return log_debug_errno(errno, "%s option %s rejected: %m", fstype, o);
                }
        }
        if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return -errno;
        mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, attr);
        if (mfd < 0)
                return -errno;
        *ret_mntfd = mfd;
        return 0;
}

int mount_clone(int dirfd, const char *path, bool recursive, unsigned attr_set, int *ret_mntfd) {
        _cleanup_close_ int mfd = -EBADF;

        mfd = open_tree(dirfd, path,
                        OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0) |
                                (isempty(path) ? AT_EMPTY_PATH : 0));
        if (mfd < 0)
                return -errno;
        if (attr_set != 0) {
                struct mount_attr a = { .attr_set = attr_set };

                if (mount_setattr(mfd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a,
                                  sizeof a) < 0)
                        return -errno;
        }
        *ret_mntfd = TAKE_FD(mfd);
        return 0;
}

int mount_attach(int mntfd, int root_fd, const char *dest) {
        _cleanup_close_ int dfd = -EBADF;
        int r;

        /* A symlink, even as the last component, is followed inside the root. */
        r = tree_resolve(root_fd, dest, O_PATH, &dfd);
        if (r < 0)
                return r;
        if (move_mount(mntfd, "", dfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return -errno;
        return 0;
}

int mount_remount_at(int root_fd, const char *dest, bool recursive, unsigned attr_set) {
        _cleanup_close_ int dfd = -EBADF, mfd = -EBADF;
        int r;

        r = tree_resolve(root_fd, dest, O_PATH, &dfd);
        if (r < 0)
                return r;
        r = mount_clone(dfd, "", recursive, attr_set, &mfd);
        if (r < 0)
                return r;
        if (move_mount(mfd, "", dfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return -errno;
        return 0;
}

int mount_fs_new_at(int root_fd, const char *dest, const char *fstype, const char *options,
                    unsigned attr) {
        _cleanup_close_ int mfd = -EBADF;
        int r;

        r = mount_fs_new(fstype, options, attr, &mfd);
        if (r < 0)
                return r;
        return mount_attach(mfd, root_fd, dest);
}

int mount_set_idmap(int mntfd, int userns_fd, bool recursive) {
        struct mount_attr a = {
                .attr_set = MOUNT_ATTR_IDMAP,
                .userns_fd = (uint64_t) userns_fd,
        };

        if (mount_setattr(mntfd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a, sizeof a) < 0)
                return -errno;
        return 0;
}
