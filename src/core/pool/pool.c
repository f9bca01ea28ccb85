/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <linux/btrfs.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>

#include "lock.h"
#include "pool.h"
#include "settings.h"
#include "string-table.h"
#include "util.h"

#include "image.h"

static const char *const pool_image_type_table[_POOL_IMAGE_TYPE_MAX] = {
        [POOL_IMAGE_DIRECTORY] = "directory",
        [POOL_IMAGE_SUBVOLUME] = "subvolume",
        [POOL_IMAGE_RAW] = "raw",
        [POOL_IMAGE_BLOCK] = "block",
};

DEFINE_STRING_TABLE(pool_image_type, PoolImageType, pool_image_type_table, _POOL_IMAGE_TYPE_MAX)

/* The suffix SUFFIX of S, or NULL. */
static const char *endswith(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);

        return a >= b && streq(s + a - b, suffix) ? s + a - b : NULL;
}

PoolImage *pool_image_free(PoolImage *i) {
        if (!i)
                return NULL;
        free(i->name);
        free(i->entry);
        free(i->path);
        free(i);
        return NULL;
}

void pool_image_array_free(PoolImage **l, size_t n) {
        for (size_t i = 0; l && i < n; i++)
                pool_image_free(l[i]);
        free(l);
}

const char *pool_default_dir(void) {
        const char *e = getenv("BOXCTL_POOL");

        return isempty(e) ? "/var/lib/machines" : e;
}

bool pool_image_name_is_valid(const char *name) {
        return machine_name_is_valid(name) && name[0] != '.';
}

int pool_open(const char *dir, bool create, int *ret_fd) {
        int fd;

        if (!dir)
                dir = pool_default_dir();
        if (create && mkdir(dir, 0700) < 0 && errno != EEXIST)
                return -errno;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

int pool_import_prepare(const char *dir, const char *name, int *ret_pool_fd) {
        _cleanup_(pool_image_freep) PoolImage *other = NULL;
        int r;

        if (!pool_image_name_is_valid(name))
                return -EINVAL;
        r = pool_image_find(dir, name, false, &other);
        if (r >= 0)
                return -EEXIST;
        if (r != -ENOENT)
                return r;
        return pool_open(dir, true, ret_pool_fd);
}

static bool is_btrfs(int fd) {
        struct statfs sfs;

        return fstatfs(fd, &sfs) >= 0 && (typeof(sfs.f_type)) BTRFS_SUPER_MAGIC == sfs.f_type;
}

static bool is_btrfs_subvolume(int fd, const struct stat *st) {
        /* A subvolume's root directory is always inode 256 (BTRFS_FIRST_FREE_OBJECTID). */
        return S_ISDIR(st->st_mode) && st->st_ino == 256 && is_btrfs(fd);
}

static int tree_bytes_below(int dir_fd, dev_t dev, bool allocated, uint64_t *total, unsigned depth) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int fd;

        if (depth > 4096)
                return -ELOOP;
        /* A new open file description, not a dup: a dup shares the position
         * with DIR_FD, whose next reader would find it read to its end. */
        fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return -errno;
        }
        while ((errno = 0, de = readdir(d))) {
                _cleanup_close_ int sub = -EBADF;
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (allocated)
                        *total += (uint64_t) st.st_blocks * 512;
                else if (S_ISREG(st.st_mode))
                        *total += (uint64_t) st.st_size / MAX(st.st_nlink, (nlink_t) 1);
                if (!S_ISDIR(st.st_mode) || st.st_dev != dev)
                        continue;
                sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub >= 0)
                        (void) tree_bytes_below(sub, dev, allocated, total, depth + 1);
        }
        return errno > 0 ? -errno : 0;
}

int tree_bytes(int dir_fd, bool allocated, uint64_t *total) {
        struct stat st;

        if (fstat(dir_fd, &st) < 0)
                return -errno;
        return tree_bytes_below(dir_fd, st.st_dev, allocated, total, 0);
}

static int image_read_only(int fd, PoolImageType type, const struct stat *st) {
        unsigned flags = 0;
        uint64_t bflags = 0;

        switch (type) {
        case POOL_IMAGE_SUBVOLUME:
                if (ioctl(fd, BTRFS_IOC_SUBVOL_GETFLAGS, &bflags) < 0)
                        return -errno;
                return !!(bflags & BTRFS_SUBVOL_RDONLY);
        case POOL_IMAGE_DIRECTORY:
                /* What machinectl does too: the immutable flag on the top directory. */
                if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0)
                        return errno == ENOTTY || errno == EOPNOTSUPP ? 0 : -errno;
                return !!(flags & FS_IMMUTABLE_FL);
        default:
                return (st->st_mode & 0222) == 0;
        }
}

/* The image of the pool entry ENTRY, or -ENOENT when it is none. */
static int image_from_entry(int pool_fd, const char *dir, const char *entry, bool usage, PoolImage **ret) {
        _cleanup_(pool_image_freep) PoolImage *i = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct statx stx;
        struct stat st, lst;
        const char *suffix;
        int r;

        if (fstatat(pool_fd, entry, &lst, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (fstatat(pool_fd, entry, &st, 0) < 0)
                return errno == ENOENT ? -ENOENT : -errno; /* a dangling symlink is no image */
        if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
                return -ENOENT;
        i = calloc(1, sizeof(*i));
        if (!i)
                return -ENOMEM;
        i->symlink = S_ISLNK(lst.st_mode);
        i->entry = strdup(entry);
        i->path = strjoin3(dir, "/", entry);
        suffix = S_ISREG(st.st_mode) ? endswith(entry, ".raw") : NULL;
        i->name = suffix && suffix > entry ? strndup(entry, suffix - entry) : strdup(entry);
        if (!i->entry || !i->path || !i->name)
                return -ENOMEM;
        fd = openat(pool_fd, entry,
                    (S_ISDIR(st.st_mode) ? O_RDONLY | O_DIRECTORY : O_PATH) | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                i->type = is_btrfs_subvolume(fd, &st) ? POOL_IMAGE_SUBVOLUME : POOL_IMAGE_DIRECTORY;
        else
                i->type = S_ISREG(st.st_mode) ? POOL_IMAGE_RAW : POOL_IMAGE_BLOCK;
        r = image_read_only(fd, i->type, &st);
        if (r < 0)
                return r;
        i->read_only = r;
        i->mtime = (uint64_t) st.st_mtim.tv_sec * 1000000 + (uint64_t) st.st_mtim.tv_nsec / 1000;
        if (statx(fd, "", AT_EMPTY_PATH, STATX_BTIME, &stx) >= 0 && (stx.stx_mask & STATX_BTIME))
                i->crtime = (uint64_t) stx.stx_btime.tv_sec * 1000000 + stx.stx_btime.tv_nsec / 1000;
        i->usage = UINT64_MAX;
        if (usage) {
                i->usage = (uint64_t) st.st_blocks * 512;
                if (S_ISDIR(st.st_mode) && tree_bytes(fd, true, &i->usage) < 0)
                        i->usage = UINT64_MAX;
        }
        *ret = TAKE_PTR(i);
        return 0;
}

int pool_image_find(const char *dir, const char *name, bool usage, PoolImage **ret) {
        _cleanup_close_ int pool_fd = -EBADF;
        _cleanup_free_ char *raw = NULL;
        int r;

        if (!dir)
                dir = pool_default_dir();
        if (!pool_image_name_is_valid(name))
                return -EINVAL;
        r = pool_open(dir, false, &pool_fd);
        if (r < 0)
                return r;
        r = image_from_entry(pool_fd, dir, name, usage, ret);
        if (r != -ENOENT)
                return r;
        raw = strjoin3(name, ".raw", "");
        if (!raw)
                return -ENOMEM;
        return image_from_entry(pool_fd, dir, raw, usage, ret);
}

static int cmp_image(const void *a, const void *b) {
        const PoolImage *x = *(PoolImage *const *) a, *y = *(PoolImage *const *) b;

        return strcmp(x->name, y->name);
}

int pool_list(const char *dir, bool all, bool usage, PoolImage ***ret, size_t *ret_n) {
        _cleanup_closedir_ DIR *d = NULL;
        PoolImage **l = NULL;
        size_t n = 0;
        struct dirent *de;
        int r = 0;

        if (!dir)
                dir = pool_default_dir();
        d = opendir(dir);
        if (!d && errno != ENOENT)
                return -errno;
        while (d && (errno = 0, de = readdir(d))) {
                PoolImage *i = NULL, **nl;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (de->d_name[0] == '.' ? !all : !machine_name_is_valid(de->d_name))
                        continue;
                r = image_from_entry(dirfd(d), dir, de->d_name, usage, &i);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        break;
                nl = reallocarray(l, n + 1, sizeof(*l));
                if (!nl) {
                        pool_image_free(i);
                        r = -ENOMEM;
                        break;
                }
                l = nl;
                l[n++] = i;
        }
        if (r >= 0 && d && errno > 0)
                r = -errno;
        if (r < 0) {
                pool_image_array_free(l, n);
                return r;
        }
        if (n > 0)
                qsort(l, n, sizeof(*l), cmp_image);
        *ret = l;
        *ret_n = n;
        return 0;
}

int pool_resolve(const char *dir, const char *arg, char **ret_root, bool *ret_read_only, bool *ret_in_pool) {
        _cleanup_(pool_image_freep) PoolImage *i = NULL;
        char *p;
        int r;

        if (isempty(arg))
                return -EINVAL;
        if (!strchr(arg, '/') && pool_image_name_is_valid(arg)) {
                r = pool_image_find(dir, arg, false, &i);
                if (r < 0 && r != -ENOENT)
                        return r;
                if (r >= 0) {
                        p = realpath(i->path, NULL);
                        if (!p)
                                return -errno;
                        *ret_root = p;
                        *ret_read_only = i->read_only;
                        if (ret_in_pool)
                                *ret_in_pool = true;
                        return 0;
                }
        }
        p = realpath(arg, NULL);
        if (!p)
                return -errno;
        *ret_root = p;
        *ret_read_only = false;
        if (ret_in_pool)
                *ret_in_pool = false;
        return 0;
}

int pool_image_lock(const PoolImage *image, TreeLock *ret, char **ret_holder) {
        struct stat st;

        if (image->type == POOL_IMAGE_RAW || image->type == POOL_IMAGE_BLOCK)
                return image_lock(image->path, true, "pool", ret, ret_holder);
        /* The lock a boot takes on its tree: by the tree's device and inode. */
        if (stat(image->path, &st) < 0)
                return -errno;
        return tree_lock_acquire(st.st_dev, st.st_ino, true, "pool", ret, ret_holder);
}

int pool_image_rename(const char *dir, const char *name, const char *new_name) {
        _cleanup_(pool_image_freep) PoolImage *i = NULL, *other = NULL;
        _cleanup_(tree_lock_release) TreeLock lock = TREE_LOCK_NULL;
        _cleanup_close_ int pool_fd = -EBADF;
        _cleanup_free_ char *entry = NULL;
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
        r = pool_image_lock(i, &lock, NULL);
        if (r < 0)
                return r;
        entry = strjoin3(new_name, endswith(i->entry, ".raw") && !streq(i->entry, i->name) ? ".raw" : "", "");
        if (!entry)
                return -ENOMEM;
        r = pool_open(dir, false, &pool_fd);
        if (r < 0)
                return r;
        /* The entry itself, a symlink as a symlink: never what it points to. */
        if (renameat2(pool_fd, i->entry, pool_fd, entry, RENAME_NOREPLACE) < 0)
                return -errno;
        return 0;
}

int pool_image_remove(const char *dir, const char *name) {
        _cleanup_(pool_image_freep) PoolImage *i = NULL;
        _cleanup_(tree_lock_release) TreeLock lock = TREE_LOCK_NULL;
        _cleanup_close_ int pool_fd = -EBADF;
        _cleanup_(pool_temp_done) PoolTemp t = POOL_TEMP_NULL;
        int r;

        r = pool_image_find(dir, name, false, &i);
        if (r < 0)
                return r;
        if (i->read_only && !i->symlink)
                return -EROFS;
        r = pool_image_lock(i, &lock, NULL);
        if (r < 0)
                return r;
        r = pool_open(dir, false, &pool_fd);
        if (r < 0)
                return r;
        if (i->symlink || (i->type != POOL_IMAGE_DIRECTORY && i->type != POOL_IMAGE_SUBVOLUME)) {
                if (unlinkat(pool_fd, i->entry, 0) < 0)
                        return -errno;
                return 0;
        }
        /* Out of sight at once (one rename), then removed file by file: a
         * removal cut short leaves a hidden entry, never half an image. */
        r = pool_temp_make(pool_fd, i->entry, POOL_TEMP_NAME, &t);
        if (r < 0)
                return r;
        if (renameat2(pool_fd, i->entry, pool_fd, t.temp, RENAME_NOREPLACE) < 0)
                return -errno;
        return rm_rf_at(pool_fd, t.temp);
}

int pool_image_set_read_only(const char *dir, const char *name, bool read_only) {
        _cleanup_(pool_image_freep) PoolImage *i = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        r = pool_image_find(dir, name, false, &i);
        if (r < 0)
                return r;
        if (i->read_only == read_only)
                return 0;
        fd = open(i->path, (i->type == POOL_IMAGE_RAW || i->type == POOL_IMAGE_BLOCK ? O_PATH : O_RDONLY | O_DIRECTORY) | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        switch (i->type) {
        case POOL_IMAGE_SUBVOLUME: {
                uint64_t flags;

                if (ioctl(fd, BTRFS_IOC_SUBVOL_GETFLAGS, &flags) < 0)
                        return -errno;
                flags = read_only ? flags | BTRFS_SUBVOL_RDONLY : flags & ~(uint64_t) BTRFS_SUBVOL_RDONLY;
                if (ioctl(fd, BTRFS_IOC_SUBVOL_SETFLAGS, &flags) < 0)
                        return -errno;
                return 1;
        }
        case POOL_IMAGE_DIRECTORY: {
                unsigned flags;

                if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0)
                        return errno == ENOTTY ? -EOPNOTSUPP : -errno;
                flags = read_only ? flags | FS_IMMUTABLE_FL : flags & ~(unsigned) FS_IMMUTABLE_FL;
                if (ioctl(fd, FS_IOC_SETFLAGS, &flags) < 0)
                        return errno == ENOTTY ? -EOPNOTSUPP : -errno;
                return 1;
        }
        default:
                if (fstat(fd, &st) < 0)
                        return -errno;
                /* An image file is read-only when nobody may write it. */
                if (fchmodat(AT_FDCWD, i->path, read_only ? st.st_mode & 07555 : (st.st_mode & 07777) | 0200, 0) < 0)
                        return -errno;
                return 1;
        }
}

/* ---- removal ---- */

static int rm_rf_children(int fd, dev_t dev, unsigned depth) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r = 0, dfd;

        if (depth > 4096)
                return -ELOOP;
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return -errno;
        }
        dfd = dirfd(d);
        while ((errno = 0, de = readdir(d))) {
                struct stat st;
                int q;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno != ENOENT && r == 0)
                                r = -errno;
                        continue;
                }
                if (S_ISDIR(st.st_mode)) {
                        int sub;

                        /* A mount point (another file system) is left alone. */
                        if (st.st_dev != dev) {
                                if (r == 0)
                                        r = -EBUSY;
                                continue;
                        }
                        sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0) {
                                if (r == 0)
                                        r = -errno;
                                continue;
                        }
                        q = rm_rf_children(sub, dev, depth + 1);
                        if (q < 0 && r == 0)
                                r = q;
                        if (unlinkat(dfd, de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
                                r = -errno;
                } else if (unlinkat(dfd, de->d_name, 0) < 0 && errno != ENOENT && r == 0)
                        r = -errno;
        }
        if (errno > 0 && r == 0)
                r = -errno;
        return r;
}

/* The btrfs subvolume NAME of DIR_FD deleted whole, as "btrfs subvolume
 * delete" does: at once however much it holds, and read-only or not. */
static int subvolume_destroy(int dir_fd, const char *name) {
        struct btrfs_ioctl_vol_args args = {};

        if (strlen(name) >= sizeof(args.name))
                return -ENAMETOOLONG;
        strcpy(args.name, name);
        return ioctl(dir_fd, BTRFS_IOC_SNAP_DESTROY, &args) < 0 ? -errno : 0;
}

int rm_rf_at(int dir_fd, const char *name) {
        struct stat st;
        int fd, r;

        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return unlinkat(dir_fd, name, 0) < 0 ? -errno : 0;
        fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        /* A subvolume in one call; should that fail (a subvolume nested in
         * it: ENOTEMPTY), file by file as a directory. */
        if (is_btrfs_subvolume(fd, &st) && subvolume_destroy(dir_fd, name) >= 0) {
                safe_close(fd);
                return 0;
        }
        r = rm_rf_children(fd, st.st_dev, 0);
        if (unlinkat(dir_fd, name, AT_REMOVEDIR) < 0) {
                /* An empty btrfs subvolume that rmdir() may not remove. */
                if ((errno == EPERM || errno == ENOTEMPTY) && r == 0 && subvolume_destroy(dir_fd, name) >= 0)
                        return 0;
                return r < 0 ? r : -errno;
        }
        return r;
}

/* ---- temporary entries and their guard ---- */

static int temp_name(const char *entry, char **ret) {
        static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        uint8_t rnd[6];
        char suffix[7];

        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t) sizeof rnd)
                return -errno;
        for (size_t i = 0; i < sizeof rnd; i++)
                suffix[i] = chars[rnd[i] % (sizeof chars - 1)];
        suffix[6] = '\0';
        return asprintf(ret, ".#%s.%s", entry, suffix) < 0 ? -ENOMEM : 0;
}

static _noreturn_ void guard_run(int pool_fd, int watch_fd, const char *temp) {
        char c = 0;
        ssize_t n;
        int keep[] = { pool_fd, watch_fd };

        /* Out of the caller's session and deaf to its signals: a Ctrl-C or a
         * kill of the process group ends the importer, not its cleaner. */
        (void) setsid();
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        signal(SIGQUIT, SIG_IGN);
        signal(SIGPIPE, SIG_IGN);
        close_all_fds_except(keep, ELEMENTSOF(keep));
        do
                n = read(watch_fd, &c, 1);
        while (n < 0 && errno == EINTR);
        if (n <= 0 || c != 'c')
                (void) rm_rf_at(pool_fd, temp);
        _exit(0);
}

/* A new tree's top: a subvolume on btrfs (what machinectl makes, so that
 * clone snapshots it and remove deletes it in one call), else a directory. */
static int make_directory(int pool_fd, const char *name) {
        struct btrfs_ioctl_vol_args args = {};

        if (is_btrfs(pool_fd) && strlen(name) < sizeof(args.name)) {
                strcpy(args.name, name);
                if (ioctl(pool_fd, BTRFS_IOC_SUBVOL_CREATE, &args) >= 0)
                        return fchmodat(pool_fd, name, 0700, 0) < 0 ? -errno : 0;
                if (errno == EEXIST)
                        return -EEXIST;
                /* Else (not allowed, say) a directory does as well. */
        }
        return mkdirat(pool_fd, name, 0700) < 0 ? -errno : 0;
}

int pool_temp_make(int pool_fd, const char *entry_name, PoolTempKind kind, PoolTemp *ret) {
        _cleanup_free_ char *temp = NULL, *name = NULL;
        _cleanup_close_pair_ int pipe_fds[2] = { -EBADF, -EBADF };
        _cleanup_close_ int dup_fd = -EBADF;
        pid_t pid;
        int r;

        name = strdup(entry_name);
        if (!name)
                return -ENOMEM;
        for (unsigned tries = 0;; tries++) {
                free(temp);
                temp = NULL;
                r = temp_name(entry_name, &temp);
                if (r < 0)
                        return r;
                if (kind == POOL_TEMP_DIRECTORY)
                        r = make_directory(pool_fd, temp);
                else if (kind == POOL_TEMP_FILE) {
                        int fd = openat(pool_fd, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

                        r = fd < 0 ? -errno : 0;
                        safe_close(fd);
                } else
                        r = faccessat(pool_fd, temp, F_OK, AT_SYMLINK_NOFOLLOW) >= 0 ? -EEXIST : 0;
                if (r != -EEXIST || tries > 16)
                        break;
        }
        if (r < 0)
                return r;
        dup_fd = fcntl(pool_fd, F_DUPFD_CLOEXEC, 3);
        if (dup_fd < 0 || pipe2(pipe_fds, O_CLOEXEC) < 0) {
                r = -errno;
                (void) rm_rf_at(pool_fd, temp);
                return r;
        }
        pid = fork();
        if (pid < 0) {
                r = -errno;
                (void) rm_rf_at(pool_fd, temp);
                return r;
        }
        if (pid == 0)
                guard_run(dup_fd, pipe_fds[0], temp);
        *ret = (PoolTemp) {
                .pool_fd = TAKE_FD(dup_fd),
                .name = TAKE_PTR(name),
                .temp = TAKE_PTR(temp),
                .guard = pid,
                .guard_fd = TAKE_FD(pipe_fds[1]),
        };
        return 0;
}

int pool_temp_commit(PoolTemp *t) {
        if (renameat2(t->pool_fd, t->temp, t->pool_fd, t->name, RENAME_NOREPLACE) < 0)
                return -errno;
        (void) fsync(t->pool_fd);
        /* Tell the guard that there is nothing left to clean. */
        if (t->guard_fd >= 0)
                (void) write(t->guard_fd, "c", 1);
        free(t->temp);
        t->temp = NULL;
        return 0;
}

void pool_temp_done(PoolTemp *t) {
        if (t->temp && t->pool_fd >= 0)
                (void) rm_rf_at(t->pool_fd, t->temp);
        t->guard_fd = safe_close(t->guard_fd);
        if (t->guard > 0)
                while (waitpid(t->guard, NULL, 0) < 0 && errno == EINTR)
                        ;
        t->guard = 0;
        t->pool_fd = safe_close(t->pool_fd);
        free(t->temp);
        free(t->name);
        t->temp = t->name = NULL;
}
