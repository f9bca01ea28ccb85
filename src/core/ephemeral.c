/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "ephemeral.h"
#include "mount-util.h"
#include "util.h"

int ephemeral_overlay(int lower_fd, uid_t owner, int *ret_mntfd) {
        _cleanup_close_ int tmp = -EBADF, upper = -EBADF, work = -EBADF, fsfd = -EBADF;
        int mfd, r;

        r = mount_fs_new("tmpfs", "mode=0755", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, &tmp);
        if (r < 0)
                return r;
        if (mkdirat(tmp, "upper", 0755) < 0 || mkdirat(tmp, "work", 0755) < 0)
                return -errno;
        if (fchownat(tmp, "upper", owner, owner, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        upper = openat(tmp, "upper", O_PATH | O_DIRECTORY | O_CLOEXEC);
        work = openat(tmp, "work", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (upper < 0 || work < 0)
                return -errno;

        fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
        if (fsfd < 0)
                return -errno;
        if (fsconfig(fsfd, FSCONFIG_SET_STRING, "source", "boxctl-ephemeral", 0) < 0 ||
            fsconfig(fsfd, FSCONFIG_SET_FD, "lowerdir+", NULL, lower_fd) < 0 ||
            fsconfig(fsfd, FSCONFIG_SET_FD, "upperdir", NULL, upper) < 0 ||
            fsconfig(fsfd, FSCONFIG_SET_FD, "workdir", NULL, work) < 0 ||
            fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return -errno;
        mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, 0);
        if (mfd < 0)
                return -errno;
        *ret_mntfd = mfd;
        return 0;
}
