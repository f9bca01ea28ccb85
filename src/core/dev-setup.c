/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>

#include "dev-setup.h"
#include "log.h"
#include "mount-util.h"
#include "tree.h"

static const struct {
        const char *name;
        unsigned major, minor;
} dev_nodes[] = {
        { "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
        { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
};

static const struct {
        const char *name, *target;
} dev_links[] = {
        { "ptmx", "pts/ptmx" },
        { "fd", "/proc/self/fd" },
        { "stdin", "/proc/self/fd/0" },
        { "stdout", "/proc/self/fd/1" },
        { "stderr", "/proc/self/fd/2" },
};

/* mknod() where we may; where we may not (a user namespace), bind the host's node. */
static int make_node(int dev_fd, const char *name, unsigned maj, unsigned min) {
        _cleanup_close_ int mfd = -EBADF, host = -EBADF;
        char hostpath[64];
        int r;

        if (mknodat(dev_fd, name, S_IFCHR | 0666, makedev(maj, min)) >= 0)
                return 0;
        if (errno != EPERM)
                return -errno;

        snprintf(hostpath, sizeof hostpath, "/dev/%s", name);
        host = open(hostpath, O_PATH | O_CLOEXEC | O_NOFOLLOW);
        if (host < 0)
                return -errno;
        r = write_file_at(dev_fd, name, "", 0666);
        if (r < 0)
                return r;
        r = mount_clone(host, "", false, 0, &mfd);
        if (r < 0)
                return r;
        if (move_mount(mfd, "", dev_fd, name, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return -errno;
        return 0;
}

int dev_setup(int root_fd) {
        _cleanup_close_ int mfd = -EBADF, mfd2 = -EBADF, dev_fd = -EBADF;
        int r;

        r = mount_fs_new("tmpfs", "mode=0755,size=4m", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, &mfd);
        if (r < 0)
                return r;
        r = mount_attach(mfd, root_fd, "/dev");
        if (r < 0)
                return r;
        r = tree_resolve(root_fd, "/dev", O_PATH | O_DIRECTORY, &dev_fd);
        if (r < 0)
                return r;

        /* The mode of mknod() is subject to our umask, which is 0 in the payload. */
        for (size_t i = 0; i < ELEMENTSOF(dev_nodes); i++) {
                r = make_node(dev_fd, dev_nodes[i].name, dev_nodes[i].major, dev_nodes[i].minor);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < ELEMENTSOF(dev_links); i++)
                if (symlinkat(dev_links[i].target, dev_fd, dev_links[i].name) < 0)
                        return -errno;

        if (mkdirat(dev_fd, "pts", 0755) < 0 || mkdirat(dev_fd, "shm", 01777) < 0)
                return -errno;
        /* gid 5 is "tty" in every distribution we know of; devpts takes a number. */
        r = mount_fs_new_at(root_fd, "/dev/pts", "devpts", "ptmxmode=0666,mode=0620,gid=5",
                            MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
        if (r < 0)
                return r;
        /* "shm" as its source, as Docker, runc and an OCI config.json name it
         * (runtime-tools matches a config's mounts to mountinfo by source). */
        r = mount_fs_new_source("tmpfs", "shm", "mode=1777", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, &mfd2);
        if (r < 0)
                return r;
        return mount_attach(mfd2, root_fd, "/dev/shm");
}

int dev_setup_console(int root_fd, int *ret_master) {
        _cleanup_close_ int master = -EBADF, peer = -EBADF, mfd = -EBADF;
        int unlock = 0, r;

        r = tree_resolve(root_fd, "/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_NONBLOCK, &master);
        if (r < 0)
                return r;
        if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
                return -errno;
        /* The peer is opened through the master, not by a path that could be raced. */
        peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (peer < 0)
                return -errno;
        r = mount_clone(peer, "", false, 0, &mfd);
        if (r < 0)
                return r;
        r = tree_resolve(root_fd, "/dev", O_PATH | O_DIRECTORY, &peer);
        if (r < 0)
                return r;
        r = write_file_at(peer, "console", "", 0600);
        if (r < 0)
                return r;
        if (move_mount(mfd, "", peer, "console", MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return -errno;
        *ret_master = TAKE_FD(master);
        return 0;
}
