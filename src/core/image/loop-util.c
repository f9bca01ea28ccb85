/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "loop-util.h"
#include "util.h"

/* How often we take a new free device when another process configured the one
 * LOOP_CTL_GET_FREE gave us first. */
#define LOOP_ATTACH_TRIES 64

static int backing_size(int fd, uint64_t *ret) {
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISREG(st.st_mode)) {
                *ret = (uint64_t) st.st_size;
                return 0;
        }
        if (S_ISBLK(st.st_mode)) {
                uint64_t sz;

                if (ioctl(fd, BLKGETSIZE64, &sz) < 0)
                        return -errno;
                *ret = sz;
                return 0;
        }
        return -EBADFD;
}

/* One LOOP_CONFIGURE on device NR: 0, or -EBUSY when someone else took it. */
static int loop_configure_nr(int nr, int backing_fd, const struct loop_config *cfg, bool ro,
                             LoopDevice *ret) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *path = NULL;
        struct loop_config c = *cfg;
        struct loop_info64 info;
        struct stat st;
        uint64_t seq = 0;

        if (asprintf(&path, "/dev/loop%d", nr) < 0)
                return -ENOMEM;
        fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return errno == ENOENT ? -ENODEV : -errno;
        c.fd = (uint32_t) backing_fd;
        if (ioctl(fd, LOOP_CONFIGURE, &c) < 0) {
                /* Before Linux 6.x some kernels refused direct I/O on a backing
                 * file system without O_DIRECT (tmpfs) instead of ignoring it. */
                if (errno != EINVAL || !(c.info.lo_flags & LO_FLAGS_DIRECT_IO))
                        return -errno;
                c.info.lo_flags &= ~LO_FLAGS_DIRECT_IO;
                if (ioctl(fd, LOOP_CONFIGURE, &c) < 0)
                        return -errno;
        }
        if (fstat(fd, &st) < 0)
                return -errno;
        if (ioctl(fd, BLKGETDISKSEQ, &seq) < 0)
                seq = 0; /* before Linux 5.15 */
        if (ioctl(fd, LOOP_GET_STATUS64, &info) < 0)
                info.lo_flags = c.info.lo_flags;

        *ret = (LoopDevice) {
                .fd = TAKE_FD(fd),
                .nr = nr,
                .path = TAKE_PTR(path),
                .devnum = st.st_rdev,
                .diskseq = seq,
                .offset = c.info.lo_offset,
                .size = c.info.lo_sizelimit,
                .read_only = info.lo_flags & LO_FLAGS_READ_ONLY,
                .direct_io = info.lo_flags & LO_FLAGS_DIRECT_IO,
        };
        return 0;
}

int loop_device_attach(int backing_fd, uint64_t offset, uint64_t size, LoopFlags flags,
                       LoopDevice *ret) {
        _cleanup_close_ int ctl = -EBADF;
        struct loop_config cfg = {};
        bool ro = flags & LOOP_READ_ONLY;
        uint64_t total = 0;
        int fl, r;

        fl = fcntl(backing_fd, F_GETFL);
        if (fl < 0)
                return -errno;
        if (!ro && (fl & O_ACCMODE) == O_RDONLY)
                return -EROFS; /* the kernel would silently make it read-only */
        if (fl & O_PATH)
                return -EBADFD;
        r = backing_size(backing_fd, &total);
        if (r < 0)
                return r;
        if (offset > total || size > total - offset)
                return -EINVAL;

        cfg.info.lo_offset = offset;
        cfg.info.lo_sizelimit = size;
        cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR | (ro ? LO_FLAGS_READ_ONLY : 0) |
                            ((flags & LOOP_DIRECT_IO) ? LO_FLAGS_DIRECT_IO : 0);
        snprintf((char *) cfg.info.lo_file_name, sizeof cfg.info.lo_file_name, "boxctl");

        ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (ctl < 0)
                return -errno;

        for (unsigned i = 0; i < LOOP_ATTACH_TRIES; i++) {
                int nr = ioctl(ctl, LOOP_CTL_GET_FREE);

                if (nr < 0)
                        return -errno;
                r = loop_configure_nr(nr, backing_fd, &cfg, ro, ret);
                if (r != -EBUSY)
                        return r;
                log_debug("loop%d was taken before we configured it, trying another", nr);
                /* A little back-off, so racing attachers spread out. */
                (void) nanosleep(&(struct timespec) { .tv_nsec = 1000 * 1000 * (i % 8 + 1) }, NULL);
        }
        return -EBUSY;
}

const char *loop_device_strerror(int r) {
        switch (r) {
        case -ENOENT:
                return "no free loop device: there is no /dev/loop-control (load the loop driver: modprobe loop)";
        case -ENODEV:
                return "no free loop device: the kernel has one, but /dev has no node for it (is /dev a devtmpfs?)";
        case -EPERM:
        case -EACCES:
                return "no free loop device: access to loop devices is denied here (a device cgroup, or no CAP_SYS_ADMIN)";
        case -EBUSY:
                return "no free loop device: others took each free one first; try again";
        default:
                return strerror(-r);
        }
}

void loop_device_unref(LoopDevice *d) {
        d->fd = safe_close(d->fd);
}

int loop_device_detach(LoopDevice *d) {
        int r = 0;

        if (d->fd >= 0 && ioctl(d->fd, LOOP_CLR_FD) < 0 && errno != ENXIO)
                r = -errno;
        loop_device_unref(d);
        return r;
}

void loop_device_done(LoopDevice *d) {
        loop_device_unref(d);
        free(d->path);
        *d = LOOP_DEVICE_NULL;
}

int loop_device_released(int nr, uint64_t diskseq) {
        char p[128];
        _cleanup_free_ char *s = NULL;
        int r;

        /* The "loop" directory exists only while a file is attached. */
        snprintf(p, sizeof p, "/sys/block/loop%d/loop/backing_file", nr);
        if (access(p, F_OK) < 0)
                return errno == ENOENT ? 1 : -errno;
        if (diskseq == 0)
                return 0;
        snprintf(p, sizeof p, "/sys/block/loop%d/diskseq", nr);
        r = read_file_at(AT_FDCWD, p, 64, &s);
        if (r < 0)
                return r == -ENOENT ? 1 : r;
        return strtoull(s, NULL, 10) != diskseq;
}

int loop_device_wait_released(int nr, uint64_t diskseq, uint64_t timeout_usec) {
        uint64_t end = now_usec(CLOCK_MONOTONIC) + timeout_usec;

        for (;;) {
                int r = loop_device_released(nr, diskseq);

                if (r != 0)
                        return r < 0 ? r : 0;
                if (now_usec(CLOCK_MONOTONIC) >= end)
                        return -ETIMEDOUT;
                (void) nanosleep(&(struct timespec) { .tv_nsec = 5 * 1000 * 1000 }, NULL);
        }
}
