/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* clone: a btrfs snapshot of a subvolume; else a copy of the tree or file
 * that keeps owners, modes, timestamps, xattrs (and with them ACLs and file
 * capabilities), device nodes, hard links and holes, with each file's data
 * reflinked (FICLONE) where the file system can. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/btrfs.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "lock.h"
#include "pool.h"
#include "pool-copy.h"
#include "util.h"

#include "image.h"

typedef struct HardLink {
        dev_t dev;
        ino_t ino;
        char *path; /* of the first copy, relative to the new tree's top */
} HardLink;

/* The bytes of file data copied so far, for a progress line. */
typedef struct CopyCount {
        PoolProgress progress; /* NULL: nothing counted */
        void *userdata;
        uint64_t done, total;
} CopyCount;

typedef struct CopyState {
        int top_fd; /* the new tree's top */
        HardLink *links;
        size_t n_links;
        const CopyIdShift *shift; /* NULL: owners kept */
        CopyCount *count;         /* NULL: not counted */
} CopyState;

static void count_add(CopyCount *c, uint64_t n) {
        if (!c || !c->progress)
                return;
        c->done += n;
        c->progress(c->done, c->total, c->userdata);
}

/* A progress line redraws at most ten times a second, but a large file
 * should move it: copy_file_range() goes in steps of this size. */
#define COPY_STEP ((size_t) 16 * 1024 * 1024)

static uint32_t id_shift(const CopyIdShift *s, uint32_t id) {
        if (!s)
                return id;
        if (id >= s->from && id - s->from < s->count)
                return s->to + (id - s->from);
        return s->overflow;
}

/* The data of [IN, END) by read() and write(): copy_file_range() between two
 * file systems of different types fails with EXDEV since Linux 5.19 (commit
 * 868f9f2f8e00), and some file systems do not do it at all. */
static int copy_range_by_hand(int from, int to, off_t in, off_t end, CopyCount *count) {
        char buf[64 * 1024];

        while (in < end) {
                ssize_t n = pread(from, buf, MIN((size_t) (end - in), sizeof buf), in);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO; /* shrunk meanwhile */
                for (ssize_t done = 0; done < n;) {
                        ssize_t k = pwrite(to, buf + done, (size_t) (n - done), in + done);

                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k <= 0)
                                return k < 0 ? -errno : -EIO;
                        done += k;
                }
                in += n;
                count_add(count, (uint64_t) n);
        }
        return 0;
}

static int copy_data_counted(int from, int to, uint64_t size, CopyCount *count) {
        uint64_t before = count ? count->done : 0;
        off_t data = 0, hole;

        if (ioctl(to, FICLONE, from) >= 0) {
                count_add(count, size);
                return 0;
        }
        /* Data extents only: the holes between them stay holes. */
        for (;;) {
                data = lseek(from, data, SEEK_DATA);
                if (data < 0) {
                        if (errno == ENXIO)
                                break; /* no data beyond: a hole to the end */
                        return -errno;
                }
                hole = lseek(from, data, SEEK_HOLE);
                if (hole < 0)
                        return -errno;
                for (off_t in = data, out = data; in < hole;) {
                        ssize_t n = copy_file_range(from, &in, to, &out, MIN((size_t) (hole - in), COPY_STEP), 0);

                        if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP || errno == ENOSYS)) {
                                int r = copy_range_by_hand(from, to, in, hole, count);

                                if (r < 0)
                                        return r;
                                break;
                        }
                        if (n < 0)
                                return -errno;
                        if (n == 0)
                                return -EIO; /* shrunk meanwhile */
                        count_add(count, (uint64_t) n);
                }
                data = hole;
        }
        if (ftruncate(to, (off_t) size) < 0)
                return -errno;
        /* The holes count as done: the total is of sizes. */
        if (count && count->done - before < size)
                count_add(count, size - (count->done - before));
        return 0;
}

int copy_data(int from, int to, uint64_t size) {
        return copy_data_counted(from, to, size, NULL);
}

int copy_xattrs_at(int from_dfd, const char *from_name, int to_dfd, const char *to_name) {
        _cleanup_free_ char *names = NULL, *value = NULL;
        char from[64 + 256], to[64 + 256];
        ssize_t n;

        if (snprintf(from, sizeof from, "/proc/self/fd/%d/%s", from_dfd, from_name) >= (int) sizeof from ||
            snprintf(to, sizeof to, "/proc/self/fd/%d/%s", to_dfd, to_name) >= (int) sizeof to)
                return -ENAMETOOLONG;
        n = llistxattr(from, NULL, 0);
        if (n < 0)
                return errno == EOPNOTSUPP ? 0 : -errno;
        if (n == 0)
                return 0;
        names = malloc(n);
        if (!names)
                return -ENOMEM;
        n = llistxattr(from, names, n);
        if (n < 0)
                return -errno;
        for (char *k = names; k < names + n; k += strlen(k) + 1) {
                ssize_t m = lgetxattr(from, k, NULL, 0);

                if (m < 0)
                        return -errno;
                free(value);
                value = malloc(m + 1);
                if (!value)
                        return -ENOMEM;
                m = lgetxattr(from, k, value, m);
                if (m < 0)
                        return -errno;
                if (lsetxattr(to, k, value, m, 0) < 0)
                        return -errno;
        }
        return 0;
}

/* Owner (through SHIFT), mode, xattrs, times of FROM_DFD/NAME onto
 * TO_DFD/NAME, in the order that keeps each: chown() clears set-ID bits and
 * file capabilities, so it goes first; the times last. */
static int copy_meta(int from_dfd, const char *from_name, int to_dfd, const char *name, const struct stat *st,
                     const CopyIdShift *shift) {
        struct timespec ts[2] = { st->st_atim, st->st_mtim };
        int r;

        if (fchownat(to_dfd, name, id_shift(shift, st->st_uid), id_shift(shift, st->st_gid), AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (!S_ISLNK(st->st_mode) && fchmodat(to_dfd, name, st->st_mode & 07777, 0) < 0)
                return -errno;
        r = copy_xattrs_at(from_dfd, from_name, to_dfd, name);
        if (r < 0)
                return r;
        if (utimensat(to_dfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        return 0;
}

static int copy_file_at(int from_dfd, const char *from_name, int to_dfd, const char *name, const struct stat *st,
                        CopyCount *count) {
        _cleanup_close_ int from = -EBADF, to = -EBADF;
        struct stat st_now;

        /* O_NONBLOCK: a FIFO swapped in for the file since the stat would hang us. */
        from = openat(from_dfd, from_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (from < 0)
                return -errno;
        if (fstat(from, &st_now) < 0)
                return -errno;
        if (!S_ISREG(st_now.st_mode))
                return -EBADFD; /* changed meanwhile */
        to = openat(to_dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (to < 0)
                return -errno;
        return copy_data_counted(from, to, st->st_size, count);
}

static int hardlink_find(CopyState *cs, const struct stat *st, const char *path, const char **ret) {
        HardLink *l;

        for (size_t i = 0; i < cs->n_links; i++)
                if (cs->links[i].dev == st->st_dev && cs->links[i].ino == st->st_ino) {
                        *ret = cs->links[i].path;
                        return 1;
                }
        l = reallocarray(cs->links, cs->n_links + 1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        cs->links = l;
        l[cs->n_links] = (HardLink) { .dev = st->st_dev, .ino = st->st_ino, .path = strdup(path) };
        if (!l[cs->n_links].path)
                return -ENOMEM;
        cs->n_links++;
        return 0;
}

static int copy_children(CopyState *cs, int from_fd, int to_fd, const char *prefix, unsigned depth) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int fd, r;

        if (depth > 4096)
                return -ELOOP;
        fd = fcntl(from_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return -errno;
        }
        while ((errno = 0, de = readdir(d))) {
                _cleanup_free_ char *path = NULL, *target = NULL;
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(from_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                path = strjoin3(prefix, *prefix ? "/" : "", de->d_name);
                if (!path)
                        return -ENOMEM;
                if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
                        const char *first;

                        r = hardlink_find(cs, &st, path, &first);
                        if (r < 0)
                                return r;
                        if (r > 0) {
                                if (linkat(cs->top_fd, first, to_fd, de->d_name, 0) < 0)
                                        return -errno;
                                continue;
                        }
                }
                switch (st.st_mode & S_IFMT) {
                case S_IFDIR: {
                        _cleanup_close_ int sub_from = -EBADF, sub_to = -EBADF;

                        if (mkdirat(to_fd, de->d_name, 0700) < 0)
                                return -errno;
                        sub_from = openat(from_fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        sub_to = openat(to_fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub_from < 0 || sub_to < 0)
                                return -errno;
                        r = copy_children(cs, sub_from, sub_to, path, depth + 1);
                        break;
                }
                case S_IFREG:
                        r = copy_file_at(from_fd, de->d_name, to_fd, de->d_name, &st, cs->count);
                        break;
                case S_IFLNK:
                        target = malloc(st.st_size + 1);
                        if (!target)
                                return -ENOMEM;
                        if (readlinkat(from_fd, de->d_name, target, st.st_size + 1) != st.st_size)
                                return -EIO; /* changed meanwhile */
                        target[st.st_size] = '\0';
                        r = symlinkat(target, to_fd, de->d_name) < 0 ? -errno : 0;
                        break;
                default: /* device nodes, FIFOs, sockets */
                        r = mknodat(to_fd, de->d_name, st.st_mode, st.st_rdev) < 0 ? -errno : 0;
                }
                if (r < 0)
                        return r;
                r = copy_meta(from_fd, de->d_name, to_fd, de->d_name, &st, cs->shift);
                if (r < 0)
                        return r;
        }
        return errno > 0 ? -errno : 0;
}

static void copy_state_done(CopyState *cs) {
        for (size_t i = 0; i < cs->n_links; i++)
                free(cs->links[i].path);
        free(cs->links);
}

int copy_tree_at(int from_dfd, const char *from_name, int to_dfd, const char *to_name, PoolProgress progress,
                 void *userdata) {
        _cleanup_close_ int from = -EBADF, to = -EBADF;
        CopyCount count = { .progress = progress, .userdata = userdata, .total = 0 };
        CopyState cs = { .count = &count };
        struct stat st;
        int r;

        from = openat(from_dfd, from_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        to = openat(to_dfd, to_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (from < 0 || to < 0)
                return -errno;
        if (fstat(from, &st) < 0)
                return -errno;
        /* A walk of the metadata only, which the copy then finds cached. */
        if (progress && tree_bytes(from, false, &count.total) < 0)
                count.total = UINT64_MAX;
        cs.top_fd = to;
        r = copy_children(&cs, from, to, "", 0);
        copy_state_done(&cs);
        if (r < 0)
                return r;
        /* The top: its own entry may be a symlink in the pool; what it points at counts. */
        return copy_meta(from, ".", to_dfd, to_name, &st, NULL);
}

int copy_entry_at(int from_dfd, const char *from_name, int to_dfd, const char *to_name, const CopyIdShift *shift) {
        _cleanup_free_ char *target = NULL;
        struct stat st;
        int r;

        if (fstatat(from_dfd, from_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        switch (st.st_mode & S_IFMT) {
        case S_IFDIR: {
                _cleanup_close_ int from = -EBADF, to = -EBADF;
                CopyState cs = { .shift = shift };

                if (mkdirat(to_dfd, to_name, 0700) < 0)
                        return -errno;
                from = openat(from_dfd, from_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                to = openat(to_dfd, to_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (from < 0 || to < 0)
                        return -errno;
                cs.top_fd = to;
                r = copy_children(&cs, from, to, "", 0);
                copy_state_done(&cs);
                break;
        }
        case S_IFREG:
                r = copy_file_at(from_dfd, from_name, to_dfd, to_name, &st, NULL);
                break;
        case S_IFLNK:
                target = malloc(st.st_size + 1);
                if (!target)
                        return -ENOMEM;
                if (readlinkat(from_dfd, from_name, target, st.st_size + 1) != st.st_size)
                        return -EIO; /* changed meanwhile */
                target[st.st_size] = '\0';
                r = symlinkat(target, to_dfd, to_name) < 0 ? -errno : 0;
                break;
        default:
                r = mknodat(to_dfd, to_name, st.st_mode, st.st_rdev) < 0 ? -errno : 0;
        }
        if (r < 0)
                return r;
        return copy_meta(from_dfd, from_name, to_dfd, to_name, &st, shift);
}

int pool_image_clone(const char *dir, const char *name, const char *new_name, PoolProgress progress,
                     void *userdata) {
        _cleanup_(pool_image_freep) PoolImage *i = NULL, *other = NULL;
        _cleanup_(tree_lock_release) TreeLock lock = TREE_LOCK_NULL;
        _cleanup_(pool_temp_done) PoolTemp t = POOL_TEMP_NULL;
        _cleanup_close_ int pool_fd = -EBADF, src = -EBADF;
        _cleanup_free_ char *entry = NULL;
        struct stat st;
        int r;

        if (!pool_image_name_is_valid(new_name))
                return -EINVAL;
        r = pool_image_find(dir, name, false, &i);
        if (r < 0)
                return r;
        r = pool_image_find(dir, new_name, false, &other);
        if (r >= 0)
                return -EEXIST;
        if (r != -ENOENT)
                return r;
        if (i->type == POOL_IMAGE_BLOCK)
                return -EOPNOTSUPP;
        r = pool_open(dir, false, &pool_fd);
        if (r < 0)
                return r;
        src = openat(pool_fd, i->entry, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (src < 0 || fstat(src, &st) < 0)
                return -errno;
        /* Shared: a read-write boot (exclusive) would change it under the copy. */
        r = i->type == POOL_IMAGE_RAW ? image_lock(i->path, false, "pool", &lock, NULL)
                                      : tree_lock_acquire(st.st_dev, st.st_ino, false, "pool", &lock, NULL);
        if (r < 0)
                return r;
        entry = strjoin3(new_name, i->type == POOL_IMAGE_RAW && !streq(i->entry, i->name) ? ".raw" : "", "");
        if (!entry)
                return -ENOMEM;

        switch (i->type) {
        case POOL_IMAGE_SUBVOLUME: {
                struct btrfs_ioctl_vol_args_v2 args = { .fd = src };

                r = pool_temp_make(pool_fd, entry, POOL_TEMP_NAME, &t);
                if (r < 0)
                        return r;
                if (strlen(t.temp) >= sizeof(args.name))
                        return -ENAMETOOLONG;
                strcpy(args.name, t.temp);
                if (ioctl(pool_fd, BTRFS_IOC_SNAP_CREATE_V2, &args) < 0)
                        return -errno;
                break;
        }
        case POOL_IMAGE_RAW: {
                _cleanup_close_ int to = -EBADF;

                r = pool_temp_make(pool_fd, entry, POOL_TEMP_FILE, &t);
                if (r < 0)
                        return r;
                to = openat(pool_fd, t.temp, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
                if (to < 0)
                        return -errno;
                CopyCount count = { .progress = progress, .userdata = userdata, .total = (uint64_t) st.st_size };

                r = copy_data_counted(src, to, st.st_size, &count);
                if (r < 0)
                        return r;
                /* A clone may be written: a read-only image's clone is not read-only. */
                st.st_mode |= 0200;
                r = copy_meta(pool_fd, i->entry, pool_fd, t.temp, &st, NULL);
                if (r < 0)
                        return r;
                break;
        }
        default:
                r = pool_temp_make(pool_fd, entry, POOL_TEMP_DIRECTORY, &t);
                if (r < 0)
                        return r;
                r = copy_tree_at(pool_fd, i->entry, pool_fd, t.temp, progress, userdata);
                if (r < 0)
                        return r;
        }
        return pool_temp_commit(&t);
}
