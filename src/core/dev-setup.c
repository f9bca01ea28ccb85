/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
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

/* Opens (making them) the directories of PATH below DEV_FD, and returns the
 * last component's name in PATH. */
static int open_parent(int dev_fd, const char *path, int *ret_fd, const char **ret_name) {
        _cleanup_close_ int fd = fcntl(dev_fd, F_DUPFD_CLOEXEC, 3);
        const char *p = path, *slash;

        if (fd < 0)
                return -errno;
        while ((slash = strchr(p, '/'))) {
                char name[NAME_MAX + 1];
                size_t len = (size_t) (slash - p);
                int next;

                if (len == 0 || len > NAME_MAX)
                        return -EINVAL;
                memcpy(name, p, len);
                name[len] = 0;
                if (mkdirat(fd, name, 0755) < 0 && errno != EEXIST)
                        return -errno;
                next = openat(fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0)
                        return -errno;
                safe_close(fd);
                fd = next;
                p = slash + 1;
        }
        *ret_fd = TAKE_FD(fd);
        *ret_name = p;
        return 0;
}

static int bind_host_node(int dir_fd, const char *name, const char *host_path) {
        _cleanup_close_ int host = -EBADF, mfd = -EBADF;
        int r;

        host = open(host_path, O_PATH | O_CLOEXEC | O_NOFOLLOW);
        if (host < 0)
                return -errno;
        /* A mount point, or a bind of dev_setup()'s still there (EEXIST): mounted over. */
        if (mknodat(dir_fd, name, S_IFREG | 0666, 0) < 0 && errno != EEXIST)
                return -errno;
        r = mount_clone(host, "", false, 0, &mfd);
        if (r < 0)
                return r;
        return move_mount(mfd, "", dir_fd, name, MOVE_MOUNT_F_EMPTY_PATH) < 0 ? -errno : 0;
}

static int make_one(int dev_fd, const DeviceNode *d) {
        _cleanup_close_ int dir_fd = -EBADF;
        const char *name;
        mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
        int r;

        r = open_parent(dev_fd, d->path + STRLEN("/dev/"), &dir_fd, &name);
        if (r < 0)
                return r;
        /* Ours from dev_setup() (/dev/null, say): the config's takes its place. */
        if (unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT && errno != EBUSY)
                return -errno;
        if (mknodat(dir_fd, name, type | (d->mode & 07777), type == S_IFIFO ? 0 : makedev(d->major, d->minor)) < 0) {
                if (errno != EPERM && errno != EEXIST)
                        return -errno;
                return bind_host_node(dir_fd, name, d->path);
        }
        if (fchownat(dir_fd, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        /* mknod()'s mode went through our umask. */
        return fchmodat(dir_fd, name, d->mode & 07777, 0) < 0 ? -errno : 0;
}

int dev_setup_nodes(int root_fd, const DeviceNode *nodes, size_t n, size_t *ret_failed) {
        _cleanup_close_ int dev_fd = -EBADF;
        int r;

        if (n == 0)
                return 0;
        *ret_failed = 0;
        r = tree_resolve(root_fd, "/dev", O_PATH | O_DIRECTORY, &dev_fd);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = make_one(dev_fd, &nodes[i]);
                if (r < 0) {
                        *ret_failed = i;
                        return r;
                }
        }
        return 0;
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
