/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "image.h"
#include "log.h"
#include "tree.h"
#include "util.h"

Image *image_free(Image *img) {
        if (!img)
                return NULL;
        /* Mounts first: a detached mount goes when its last fd closes, then
         * the loop device (autoclear) when we close ours. */
        safe_close(img->root_fd);
        for (size_t i = 0; i < img->n_mounts; i++)
                safe_close(img->mounts[i].fd);
        for (size_t i = 0; i < img->n_loops; i++)
                loop_device_done(&img->loops[i]);
        safe_close(img->fd);
        dissected_image_free(img->dissected);
        free(img->path);
        free(img);
        return NULL;
}

void image_release_loops(Image *img) {
        for (size_t i = 0; i < img->n_loops; i++)
                loop_device_unref(&img->loops[i]);
}

/* The kernel's own words on a failed fsconfig(): "e ext4: ..." lines. */
static char *fs_context_messages(int fsfd) {
        char *all = NULL;

        for (;;) {
                char buf[512], *n;
                ssize_t k = read(fsfd, buf, sizeof buf - 1);

                if (k <= 0)
                        break;
                buf[k] = '\0';
                buf[strcspn(buf, "\n")] = '\0';
                if (buf[0] == 'i' || k < 2)
                        continue;
                if (asprintf(&n, "%s%s%s", strempty(all), all ? "; " : "", buf + 2) < 0)
                        break;
                free(all);
                all = n;
        }
        return all;
}

/* A detached mount of FSTYPE on SOURCE (a block device, or for erofs a file:
 * FSOFFSET, if not 0, is where in it the file system starts). -EOPNOTSUPP:
 * this kernel's FSTYPE has no "fsoffset". */
static int mount_fs(const char *fstype, const char *source, uint64_t fsoffset, bool read_only,
                    int *ret_mntfd, char **ret_kernel_msg) {
        _cleanup_close_ int fsfd = -EBADF;
        int mfd;

        fsfd = fsopen(fstype, FSOPEN_CLOEXEC);
        if (fsfd < 0)
                return -errno;
        if (fsconfig(fsfd, FSCONFIG_SET_STRING, "source", source, 0) < 0)
                return -errno;
        if (fsoffset > 0) {
                char v[24];

                snprintf(v, sizeof v, "%" PRIu64, fsoffset);
                if (fsconfig(fsfd, FSCONFIG_SET_STRING, "fsoffset", v, 0) < 0)
                        return errno == EINVAL ? -EOPNOTSUPP : -errno;
        }
        /* The superblock itself read-only, not only the mount: else ext4 and
         * xfs write (mount count, log replay) and refuse a read-only device. */
        if (read_only && fsconfig(fsfd, FSCONFIG_SET_FLAG, "ro", NULL, 0) < 0)
                return -errno;
        /* Two boots of one image (read-only ones may share it) are two XFS
         * instances with one UUID, which XFS refuses without this. */
        if (streq(fstype, "xfs") && fsconfig(fsfd, FSCONFIG_SET_FLAG, "nouuid", NULL, 0) < 0)
                return -errno;
        if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
                int r = -errno;

                *ret_kernel_msg = fs_context_messages(fsfd);
                return r;
        }
        mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, read_only ? MOUNT_ATTR_RDONLY : 0);
        if (mfd < 0)
                return -errno;
        *ret_mntfd = mfd;
        return 0;
}

bool image_file_mounts_enabled(void) {
        const char *e = getenv("BOXCTL_IMAGE_LOOP");

        return !(e && (streq(e, "1") || streq(e, "yes") || streq(e, "always")));
}

/* erofs on an image file, mounted from the file itself: no loop device.
 * erofs then reads its metadata straight from the image file's page cache,
 * which stays warm from one boot to the next, rather than through a new loop
 * device's empty cache, and there is no device to set up and tear down
 * (bench/images.sh --only erofs, 2026-12-02: 1.09x the read-only directory's
 * boot, against 1.13x on a loop device). Needs Linux 6.12
 * (CONFIG_EROFS_FS_BACKED_BY_FILE), and for a partition "fsoffset" (Linux
 * 6.16). -ENOTBLK, -ENODEV, -EOPNOTSUPP: this kernel cannot; attach a loop
 * device instead. The source is the image fd's /proc/self/fd link, so the
 * kernel opens the very file we dissected, not whatever the path names by
 * now. */
static int mount_file_backed(const Image *img, int backing_fd, const DissectedPartition *p,
                             int *ret_mntfd, char **ret_kernel_msg) {
        char src[STRLEN("/proc/self/fd/") + 12];
        struct stat st;

        if (!streq(p->fstype, "erofs") || !image_file_mounts_enabled())
                return -EOPNOTSUPP;
        if (fstat(backing_fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -ENOTBLK; /* a block device: a loop device is no detour there either */
        snprintf(src, sizeof src, "/proc/self/fd/%d", backing_fd);
        log_debug("image %s: mounting its erofs file system from the file, offset %" PRIu64,
                  img->path, p->offset);
        return mount_fs(p->fstype, src, p->offset, /* read_only= */ true, ret_mntfd, ret_kernel_msg);
}

static bool file_backed_unsupported(int r) {
        return r == -ENOTBLK || r == -ENODEV || r == -EOPNOTSUPP;
}

/* The mount for one partition: from the file where the kernel can (erofs),
 * else on a loop device of its own. */
static int image_mount_partition(Image *img, int backing_fd, PartitionDesignator d,
                                 bool read_only, int *ret_mntfd, char **ret_error) {
        const DissectedPartition *p = &img->dissected->partitions[d];
        _cleanup_free_ char *kmsg = NULL, *what = NULL;
        LoopDevice *loop = &img->loops[img->n_loops];
        int r;

        if (p->partno > 0)
                r = asprintf(&what, "partition %d (%s, %s)", p->partno,
                             partition_designator_to_string(d), p->fstype);
        else
                r = asprintf(&what, "%s file system", p->fstype);
        if (r < 0)
                return -ENOMEM;

        r = mount_file_backed(img, backing_fd, p, ret_mntfd, &kmsg);
        if (r >= 0)
                return 0;
        if (!file_backed_unsupported(r))
                goto refused;
        if (r != -EOPNOTSUPP || streq(p->fstype, "erofs"))
                log_debug("image %s: cannot mount its %s from the file (%s), attaching a loop device",
                          img->path, what, strerror(-r));
        free(kmsg);
        kmsg = NULL;

        /* A bare file system: the whole file, whatever it grows to. No direct
         * I/O: through the page cache, a machine booted again finds its image
         * already read (bench/images.sh: direct I/O made every boot read from
         * disk, 417 ms against 351 ms for an ext4 image). */
        r = loop_device_attach(backing_fd, p->offset,
                               img->dissected->kind == IMAGE_FILESYSTEM ? 0 : p->size,
                               read_only ? LOOP_READ_ONLY : 0, loop);
        if (r < 0)
                return error_set(ret_error, r, "image %s: cannot attach a loop device for its %s: %s; or boot a directory tree",
                            img->path, what, loop_device_strerror(r));
        r = mount_fs(p->fstype, loop->path, 0, read_only, ret_mntfd, &kmsg);
        if (r >= 0) {
                img->n_loops++;
                return 0;
        }
        /* Nothing else holds the device: closing it detaches it (autoclear). */
        loop_device_done(loop);
refused:
        if (r == -ENODEV)
                return error_set(ret_error, -EMEDIUMTYPE,
                            "image %s: cannot mount its %s: the kernel does not support %s",
                            img->path, what, p->fstype);
        if (r != -ENOMEM && r != -EPERM && r != -EBUSY)
                /* EINVAL, EUCLEAN (corrupted), EBADMSG (bad checksum), EIO... */
                return error_set(ret_error, -EMEDIUMTYPE,
                            "image %s: the kernel refused its %s: %s%s%s; is it damaged?", img->path,
                            what, r == -EBADMSG ? "bad checksum" : r == -EUCLEAN ? "corrupted" : strerror(-r),
                            kmsg ? ": " : "", strempty(kmsg));
        return error_set(ret_error, r, "image %s: cannot mount its %s: %s", img->path, what,
                    strerror(-r));
}

/* Whether the image can be written: 0, or -EROFS with the reason. */
static int image_check_writable(const char *path, int fd, const struct stat *st, char **ret_error) {
        struct statvfs sv;
        int ro = 0;

        if (S_ISBLK(st->st_mode) && ioctl(fd, BLKROGET, &ro) >= 0 && ro)
                return error_set(ret_error, -EROFS,
                            "image %s is read-only (a read-only block device); boot it with --read-only", path);
        /* root passes every permission check: look at the bits ourselves. */
        if (S_ISREG(st->st_mode) && (st->st_mode & 0222) == 0)
                return error_set(ret_error, -EROFS,
                            "image %s is read-only (no write permission); boot it with --read-only", path);
        if (fstatvfs(fd, &sv) >= 0 && (sv.f_flag & ST_RDONLY))
                return error_set(ret_error, -EROFS,
                            "image %s is read-only (on a read-only file system); boot it with --read-only", path);
        return 0;
}

static int image_reopen_rw(Image *img, const struct stat *st, int *ret_fd, char **ret_error) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st2;
        int r;

        r = image_check_writable(img->path, img->fd, st, ret_error);
        if (r < 0)
                return r;
        fd = open(img->path, O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 && (errno == EROFS || errno == EACCES || errno == EPERM || errno == ETXTBSY))
                return error_set(ret_error, -EROFS, "image %s is read-only (%s); boot it with --read-only",
                            img->path, strerror(errno));
        if (fd < 0)
                return error_set(ret_error, -errno, "image %s: cannot open it for writing: %s", img->path,
                            strerror(errno));
        if (fstat(fd, &st2) < 0)
                return -errno;
        if (st2.st_dev != st->st_dev || st2.st_ino != st->st_ino || st2.st_rdev != st->st_rdev)
                return error_set(ret_error, -ESTALE, "image %s was replaced while we opened it", img->path);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* Read-only: asked, or demanded by the partition (flag, file system). */
static bool partition_read_only(const Image *img, bool read_only, PartitionDesignator d) {
        return read_only || img->dissected->partitions[d].read_only;
}

static int image_mount_all(Image *img, bool read_only, int rw_fd, char **ret_error) {
        /* Parents before children: lexical order of the mount points. */
        static const PartitionDesignator order[] = {
                PARTITION_HOME, PARTITION_SRV, PARTITION_USR, PARTITION_VAR, PARTITION_TMP,
                PARTITION_ESP,  PARTITION_XBOOTLDR,
        };
        int r;

        img->root_read_only = partition_read_only(img, read_only, PARTITION_ROOT);
        r = image_mount_partition(img, img->root_read_only ? img->fd : rw_fd, PARTITION_ROOT,
                                  img->root_read_only, &img->root_fd, ret_error);
        if (r < 0)
                return r;

        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                PartitionDesignator d = order[i];
                bool optional = d == PARTITION_ESP || d == PARTITION_XBOOTLDR;
                /* An optional partition never makes us need a writable image. */
                bool ro = partition_read_only(img, read_only, d) || (optional && rw_fd < 0);
                _cleanup_free_ char *err = NULL;
                int mfd = -EBADF;

                if (!img->dissected->partitions[d].found)
                        continue;
                r = image_mount_partition(img, ro ? img->fd : rw_fd, d, ro, &mfd,
                                          optional ? &err : ret_error);
                if (r < 0 && optional) {
                        /* Not needed to boot; this kernel may have no vfat. */
                        log_debug("%s", strempty(err));
                        continue;
                }
                if (r < 0)
                        return r;
                img->mounts[img->n_mounts++] = (ImageMount) {
                        .designator = d,
                        .where = partition_designator_mount_point(d),
                        .fd = mfd,
                        .read_only = ro,
                };
        }
        return 0;
}

static bool image_needs_write(const Image *img, bool read_only) {
        for (PartitionDesignator d = 0; d < _PARTITION_DESIGNATOR_MAX; d++)
                if (d != PARTITION_ESP && d != PARTITION_XBOOTLDR &&
                    img->dissected->partitions[d].found && !partition_read_only(img, read_only, d))
                        return true;
        return false;
}

int image_open(const char *path, bool read_only, Image **ret, char **ret_error) {
        _cleanup_(image_freep) Image *img = NULL;
        _cleanup_free_ char *err = NULL;
        _cleanup_close_ int rw_fd = -EBADF;
        struct stat st;
        int r;

        img = calloc(1, sizeof *img);
        if (!img)
                return -ENOMEM;
        img->fd = img->root_fd = -EBADF;
        for (size_t i = 0; i < ELEMENTSOF(img->loops); i++)
                img->loops[i] = LOOP_DEVICE_NULL;
        img->path = strdup(path);
        if (!img->path)
                return -ENOMEM;

        img->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (img->fd < 0)
                return error_set(ret_error, -errno, "image %s: %s", path, strerror(errno));
        if (fstat(img->fd, &st) < 0)
                return -errno;
        img->dev = S_ISBLK(st.st_mode) ? st.st_rdev : st.st_dev;
        img->ino = S_ISBLK(st.st_mode) ? 0 : st.st_ino;

        r = dissect_image_fd(img->fd, _ARCHITECTURE_INVALID, &img->dissected, &err);
        if (r < 0)
                return error_set(ret_error, r, "image %s: %s", path, err ?: strerror(-r));

        if (image_needs_write(img, read_only)) {
                r = image_reopen_rw(img, &st, &rw_fd, ret_error);
                if (r < 0)
                        return r;
        }
        r = image_mount_all(img, read_only, rw_fd, ret_error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(img);
        return 0;
}

/* Whether DIR (in the root at ROOT_FD) exists and is empty. */
static bool dir_is_empty_in_root(int root_fd, const char *dir) {
        _cleanup_closedir_ DIR *dp = NULL;
        struct dirent *de;
        int fd = -EBADF;

        if (tree_resolve(root_fd, dir, O_RDONLY | O_DIRECTORY, &fd) < 0)
                return false;
        dp = fdopendir(fd);
        if (!dp) {
                safe_close(fd);
                return false;
        }
        while ((de = readdir(dp)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        return false;
        return true;
}

int image_boot_mount_point(int root_fd, PartitionDesignator d, bool have_xbootldr,
                           const char **ret) {
        const char *where = NULL;

        if (d == PARTITION_ESP) {
                if (dir_is_empty_in_root(root_fd, "/efi"))
                        where = "/efi";
                else if (!have_xbootldr && dir_is_empty_in_root(root_fd, "/boot"))
                        where = "/boot";
        } else if (d == PARTITION_XBOOTLDR) {
                if (dir_is_empty_in_root(root_fd, "/boot"))
                        where = "/boot";
        } else
                return -EINVAL;
        if (!where)
                return -ENOENT;
        *ret = where;
        return 0;
}

int image_lock(const char *path, bool exclusive, const char *machine_name, TreeLock *ret,
               char **ret_holder) {
        struct stat st;

        if (stat(path, &st) < 0)
                return -errno;
        if (S_ISBLK(st.st_mode))
                return tree_lock_acquire(st.st_rdev, 0, exclusive, machine_name, ret, ret_holder);
        if (!S_ISREG(st.st_mode))
                return S_ISDIR(st.st_mode) ? -EISDIR : -EBADFD;
        return tree_lock_acquire(st.st_dev, st.st_ino, exclusive, machine_name, ret, ret_holder);
}
