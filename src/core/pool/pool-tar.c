/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* import-tar and export-tar with libarchive. Extraction resolves every name
 * one component at a time below the new tree's directory fd, with O_NOFOLLOW
 * and no "..": an entry can land nowhere but inside the new tree, whatever
 * symlinks earlier entries planted. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "lock.h"
#include "pool-copy.h"
#include "pool-tar.h"
#include "pool.h"
#include "string-table.h"
#include "util.h"

static const char *const pool_compression_table[_POOL_COMPRESSION_MAX] = {
        [POOL_COMPRESSION_NONE] = "uncompressed",
        [POOL_COMPRESSION_GZIP] = "gzip",
        [POOL_COMPRESSION_XZ] = "xz",
        [POOL_COMPRESSION_ZSTD] = "zstd",
        [POOL_COMPRESSION_BZIP2] = "bzip2",
};

DEFINE_STRING_TABLE(pool_compression, PoolCompression, pool_compression_table, _POOL_COMPRESSION_MAX)

PoolCompression pool_compression_from_filename(const char *file) {
        static const struct {
                const char *suffix;
                PoolCompression c;
        } table[] = {
                { ".gz", POOL_COMPRESSION_GZIP },   { ".tgz", POOL_COMPRESSION_GZIP },
                { ".xz", POOL_COMPRESSION_XZ },     { ".txz", POOL_COMPRESSION_XZ },
                { ".zst", POOL_COMPRESSION_ZSTD },  { ".tzst", POOL_COMPRESSION_ZSTD },
                { ".bz2", POOL_COMPRESSION_BZIP2 }, { ".tbz2", POOL_COMPRESSION_BZIP2 },
        };
        size_t n = strlen(file);

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                size_t m = strlen(table[i].suffix);

                if (n > m && streq(file + n - m, table[i].suffix))
                        return table[i].c;
        }
        return POOL_COMPRESSION_NONE;
}

void pool_archive_read_freep(struct archive **a) {
        if (*a)
                archive_read_free(*a);
}

void pool_archive_write_freep(struct archive **a) {
        if (*a)
                archive_write_free(*a);
}

struct archive *pool_archive_read_new(bool raw) {
        struct archive *a = archive_read_new();

        if (!a)
                return NULL;
        /* Only these four filters: filter_all would also run external
         * programs found in $PATH (lrzip, lzop, grzip) and decode uuencoded
         * text or an RPM's payload. */
        archive_read_support_filter_gzip(a);
        archive_read_support_filter_xz(a);
        archive_read_support_filter_zstd(a);
        archive_read_support_filter_bzip2(a);
        if (raw)
                archive_read_support_format_raw(a);
        else {
                archive_read_support_format_tar(a);
                archive_read_support_format_gnutar(a);
        }
        return a;
}

int pool_archive_add_filter(struct archive *a, PoolCompression c) {
        switch (c) {
        case POOL_COMPRESSION_GZIP: return archive_write_add_filter_gzip(a);
        case POOL_COMPRESSION_XZ: return archive_write_add_filter_xz(a);
        case POOL_COMPRESSION_ZSTD: return archive_write_add_filter_zstd(a);
        case POOL_COMPRESSION_BZIP2: return archive_write_add_filter_bzip2(a);
        default: return archive_write_add_filter_none(a);
        }
}

/* ---- import ---- */

/* NAME as an entry's path below the tree: "./" and "." parts dropped; NULL
 * (with *reason) for an absolute name or one with "..". "" is the top. */
static char *entry_path(const char *name, const char **reason) {
        _cleanup_free_ char *p = NULL;
        char *out, *save = NULL;

        if (name[0] == '/') {
                *reason = "an absolute name";
                return NULL;
        }
        p = strdup(name);
        out = calloc(1, strlen(name) + 1);
        if (!p || !out) {
                free(out);
                *reason = "out of memory";
                return NULL;
        }
        for (char *c = strtok_r(p, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                if (streq(c, "."))
                        continue;
                if (streq(c, "..")) {
                        free(out);
                        *reason = "a name with '..'";
                        return NULL;
                }
                if (*out)
                        strcat(out, "/");
                strcat(out, c);
        }
        return out;
}

/* The directory that holds PATH (below ROOT_FD), made when missing with
 * CREATE, never through a symlink; *ret_base points into PATH. */
static int open_parent(int root_fd, char *path, bool create, int *ret_fd, const char **ret_base) {
        _cleanup_close_ int fd = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
        char *c = path, *slash;

        if (fd < 0)
                return -errno;
        while ((slash = strchr(c, '/'))) {
                int sub;

                *slash = '\0';
                sub = openat(fd, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0 && errno == ENOENT && create && mkdirat(fd, c, 0755) >= 0)
                        sub = openat(fd, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                *slash = '/';
                if (sub < 0)
                        return errno == ENOTDIR || errno == ELOOP ? -ELOOP : -errno;
                safe_close(fd);
                fd = sub;
                c = slash + 1;
        }
        *ret_fd = TAKE_FD(fd);
        *ret_base = c;
        return 0;
}

typedef struct DirTime {
        char *path;
        struct timespec ts[2];
} DirTime;

typedef struct Import {
        struct archive *a;
        int root_fd;
        bool root;
        DirTime *dirs;
        size_t n_dirs;
        char **error;
        /* The directory the last entry went into: a tar lists a directory's
         * entries one after another, and opening each one's parent anew, a
         * component at a time, cost more system calls than the entries
         * themselves. It stays that directory: no entry may replace a
         * directory (extract_entry()). */
        char *parent;
        int parent_fd;
} Import;

/* The directory that holds PATH, as open_parent() finds it, through the
 * cache of IM: *ret_fd is IM's, not the caller's to close. */
static int import_parent(Import *im, char *path, int *ret_fd, const char **ret_base) {
        const char *slash = strrchr(path, '/');
        size_t n = slash ? (size_t) (slash - path) : 0;
        char *parent;
        int fd, r;

        if (im->parent_fd >= 0 && strlen(im->parent) == n && strncmp(im->parent, path, n) == 0) {
                *ret_fd = im->parent_fd;
                *ret_base = slash ? slash + 1 : path;
                return 0;
        }
        r = open_parent(im->root_fd, path, true, &fd, ret_base);
        if (r < 0)
                return r;
        parent = strndup(path, n);
        if (!parent) {
                safe_close(fd);
                return -ENOMEM;
        }
        safe_close(im->parent_fd);
        free(im->parent);
        im->parent = parent;
        im->parent_fd = *ret_fd = fd;
        return 0;
}

static int set_xattrs(struct archive_entry *e, int dfd, const char *base) {
        const char *k;
        const void *v;
        size_t n;
        char p[64 + 256];

        if (snprintf(p, sizeof p, "/proc/self/fd/%d/%s", dfd, base) >= (int) sizeof p)
                return -ENAMETOOLONG;
        /* What a parent's default ACL gave it on creation is not the archive's. */
        (void) lremovexattr(p, "system.posix_acl_access");
        (void) lremovexattr(p, "system.posix_acl_default");
        archive_entry_xattr_reset(e);
        while (archive_entry_xattr_next(e, &k, &v, &n) == ARCHIVE_OK)
                if (lsetxattr(p, k, v, n, 0) < 0)
                        return -errno;
        return 0;
}

static int set_meta(Import *im, struct archive_entry *e, int dfd, const char *base, mode_t type) {
        struct timespec ts[2] = {
                { archive_entry_atime(e), archive_entry_atime_nsec(e) },
                { archive_entry_mtime(e), archive_entry_mtime_nsec(e) },
        };
        int r;

        if (!archive_entry_atime_is_set(e))
                ts[0] = ts[1];
        if (im->root && fchownat(dfd, base, archive_entry_uid(e), archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (type != AE_IFLNK && fchmodat(dfd, base, archive_entry_perm(e) & 07777, 0) < 0)
                return -errno;
        /* After the mode: an ACL's mask is the group bits, and the ACL says best. */
        r = set_xattrs(e, dfd, base);
        if (r < 0)
                return r;
        if (type != AE_IFDIR && utimensat(dfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        return 0;
}

static int write_data(Import *im, int fd, int64_t size) {
        const void *buf;
        size_t n;
        la_int64_t off;
        int r;

        while ((r = archive_read_data_block(im->a, &buf, &n, &off)) == ARCHIVE_OK)
                for (size_t done = 0; done < n;) {
                        ssize_t w = pwrite(fd, (const char *) buf + done, n - done, off + (off_t) done);

                        if (w < 0)
                                return -errno;
                        done += w;
                }
        if (r != ARCHIVE_EOF)
                return -EBADMSG;
        /* Holes at the end. */
        return ftruncate(fd, size) < 0 ? -errno : 0;
}

static int dir_time_push(Import *im, struct archive_entry *e, const char *path) {
        DirTime *l = reallocarray(im->dirs, im->n_dirs + 1, sizeof(*l));

        if (!l)
                return -ENOMEM;
        im->dirs = l;
        l[im->n_dirs] = (DirTime) {
                .path = strdup(path),
                .ts = { { archive_entry_mtime(e), archive_entry_mtime_nsec(e) },
                        { archive_entry_mtime(e), archive_entry_mtime_nsec(e) } },
        };
        if (archive_entry_atime_is_set(e))
                l[im->n_dirs].ts[0] = (struct timespec) { archive_entry_atime(e), archive_entry_atime_nsec(e) };
        if (!l[im->n_dirs++].path)
                return -ENOMEM;
        return 0;
}

static int extract_entry(Import *im, struct archive_entry *e, const char *name) {
        _cleanup_free_ char *path = NULL, *tpath = NULL;
        _cleanup_close_ int tdfd = -EBADF;
        const char *reason = NULL, *base, *tbase, *hl = archive_entry_hardlink(e);
        int dfd; /* im's */
        mode_t type = archive_entry_filetype(e);
        struct stat st;
        int r;

        path = entry_path(name, &reason);
        if (!path)
                return error_set(im->error, -EXDEV, "%s: %s", name, reason);
        if (isempty(path)) { /* the top */
                if (type != AE_IFDIR)
                        return error_set(im->error, -EINVAL, "%s: the top is not a directory", name);
                r = set_meta(im, e, im->root_fd, ".", AE_IFDIR);
                return r < 0 ? r : dir_time_push(im, e, "");
        }
        r = import_parent(im, path, &dfd, &base);
        if (r == -ELOOP)
                return error_set(im->error, r, "%s: goes through a symbolic link or a file", name);
        if (r < 0)
                return error_set(im->error, r, "%s: %s", name, strerror(-r));
        /* A later entry of the same name replaces an earlier one, as tar does, but never a directory. */
        if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) >= 0) {
                if (S_ISDIR(st.st_mode) && type == AE_IFDIR && !hl) {
                        r = set_meta(im, e, dfd, base, type);
                        return r < 0 ? r : dir_time_push(im, e, path);
                }
                if (S_ISDIR(st.st_mode))
                        return error_set(im->error, -EEXIST, "%s: replaces a directory", name);
                if (unlinkat(dfd, base, 0) < 0)
                        return error_set(im->error, -errno, "%s: %m", name);
        }
        if (hl) {
                tpath = entry_path(hl, &reason);
                if (!tpath || isempty(tpath))
                        return error_set(im->error, -EXDEV, "%s: a hard link to %s: %s", name, hl,
                                         reason ?: "the top");
                r = open_parent(im->root_fd, tpath, false, &tdfd, &tbase);
                if (r < 0 || linkat(tdfd, tbase, dfd, base, 0) < 0)
                        return error_set(im->error, r < 0 ? r : -errno,
                                         "%s: a hard link to %s, which is not a file of the archive before it", name, hl);
                return 0;
        }
        switch (type) {
        case AE_IFDIR:
                if (mkdirat(dfd, base, 0700) < 0)
                        return error_set(im->error, -errno, "%s: %m", name);
                r = dir_time_push(im, e, path);
                if (r < 0)
                        return r;
                break;
        case AE_IFREG: {
                _cleanup_close_ int fd = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

                if (fd < 0)
                        return error_set(im->error, -errno, "%s: %m", name);
                r = write_data(im, fd, archive_entry_size(e));
                if (r == -EBADMSG)
                        return error_set(im->error, r, "%s: %s", name, archive_error_string(im->a) ?: "truncated");
                if (r < 0)
                        return error_set(im->error, r, "%s: %s", name, strerror(-r));
                break;
        }
        case AE_IFLNK:
                /* Its target is never followed here: any text will do. */
                if (symlinkat(archive_entry_symlink(e) ?: "", dfd, base) < 0)
                        return error_set(im->error, -errno, "%s: %m", name);
                break;
        case AE_IFCHR:
        case AE_IFBLK:
                if (!im->root)
                        return error_set(im->error, -EPERM, "%s: a device node, and only root may import one", name);
                __attribute__((fallthrough));
        case AE_IFIFO:
                if (mknodat(dfd, base, type | 0600, archive_entry_rdev(e)) < 0)
                        return error_set(im->error, -errno, "%s: %m", name);
                break;
        default:
                return 0; /* sockets: nothing to make */
        }
        r = set_meta(im, e, dfd, base, type);
        if (r < 0)
                return error_set(im->error, r, "%s: cannot set its owner, mode, xattrs or times: %s", name, strerror(-r));
        return 0;
}

static int dirs_finish(Import *im) {
        /* Deepest first: setting a directory's times after its contents. */
        for (size_t i = im->n_dirs; i > 0; i--) {
                _cleanup_close_ int dfd = -EBADF;
                const char *base;

                if (isempty(im->dirs[i - 1].path)) {
                        if (utimensat(im->root_fd, ".", im->dirs[i - 1].ts, 0) < 0)
                                return -errno;
                        continue;
                }
                if (open_parent(im->root_fd, im->dirs[i - 1].path, false, &dfd, &base) < 0 ||
                    utimensat(dfd, base, im->dirs[i - 1].ts, AT_SYMLINK_NOFOLLOW) < 0)
                        return error_set(im->error, -errno, "%s: cannot set its times", im->dirs[i - 1].path);
        }
        return 0;
}

int pool_import_tar(const char *dir, int fd, const char *name, PoolProgress progress, void *userdata,
                    char **ret_error) {
        _cleanup_(pool_archive_read_freep) struct archive *a = NULL;
        _cleanup_(pool_temp_done) PoolTemp t = POOL_TEMP_NULL;
        _cleanup_close_ int pool_fd = -EBADF, root_fd = -EBADF;
        uint64_t total = UINT64_MAX;
        bool top_seen = false;
        Import im = { .parent_fd = -EBADF };
        struct stat st;
        int r;

        r = pool_import_prepare(dir, name, &pool_fd);
        if (r < 0)
                return r;
        /* What is read of FD is the progress: of a file, its size is the total. */
        if (progress && fstat(fd, &st) >= 0 && S_ISREG(st.st_mode))
                total = (uint64_t) st.st_size;
        r = pool_temp_make(pool_fd, name, POOL_TEMP_DIRECTORY, &t);
        if (r < 0)
                return r;
        root_fd = openat(pool_fd, t.temp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (root_fd < 0)
                return -errno;
        a = pool_archive_read_new(false);
        if (!a)
                return -ENOMEM;
        if (archive_read_open_fd(a, fd, 64 * 1024) != ARCHIVE_OK)
                return error_set(ret_error, -EBADMSG, "%s", archive_error_string(a) ?: "not a tar archive");
        im = (Import) { .a = a, .root_fd = root_fd, .root = geteuid() == 0, .error = ret_error, .parent_fd = -EBADF };
        for (;;) {
                struct archive_entry *e;
                const char *reason;
                char *p;

                r = archive_read_next_header(a, &e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
                        r = error_set(ret_error, -EBADMSG, "%s", archive_error_string(a) ?: "a corrupt archive");
                        goto finish;
                }
                p = entry_path(archive_entry_pathname(e) ?: "", &reason);
                if (p && isempty(p))
                        top_seen = true;
                free(p);
                r = extract_entry(&im, e, archive_entry_pathname(e) ?: "");
                if (r < 0)
                        goto finish;
                if (progress)
                        progress((uint64_t) archive_filter_bytes(a, -1), total, userdata);
        }
        /* No entry for the top: the mode a tree's top has. */
        if (!top_seen && fchmod(root_fd, 0755) < 0) {
                r = -errno;
                goto finish;
        }
        r = dirs_finish(&im);
        if (r >= 0)
                r = pool_temp_commit(&t);
finish:
        for (size_t i = 0; i < im.n_dirs; i++)
                free(im.dirs[i].path);
        free(im.dirs);
        free(im.parent);
        safe_close(im.parent_fd);
        return r;
}

/* ---- export ---- */

typedef struct Export {
        struct archive *a;
        struct archive_entry *e;
        struct { dev_t dev; ino_t ino; char *path; } *links;
        size_t n_links;
        PoolProgress progress;
        void *userdata;
        char **error;
} Export;

static int add_xattrs(struct archive_entry *e, int dfd, const char *name) {
        _cleanup_free_ char *names = NULL, *value = NULL;
        char p[64 + 256];
        ssize_t n;

        if (snprintf(p, sizeof p, "/proc/self/fd/%d/%s", dfd, name) >= (int) sizeof p)
                return -ENAMETOOLONG;
        n = llistxattr(p, NULL, 0);
        if (n <= 0)
                return n < 0 && errno != EOPNOTSUPP ? -errno : 0;
        names = malloc(n);
        if (!names)
                return -ENOMEM;
        n = llistxattr(p, names, n);
        if (n < 0)
                return -errno;
        for (char *k = names; k < names + n; k += strlen(k) + 1) {
                ssize_t m = lgetxattr(p, k, NULL, 0);

                if (m < 0)
                        return -errno;
                free(value);
                value = malloc(m + 1);
                if (!value)
                        return -ENOMEM;
                m = lgetxattr(p, k, value, m);
                if (m < 0)
                        return -errno;
                archive_entry_xattr_add_entry(e, k, value, m);
        }
        return 0;
}

static int export_one(Export *x, int dfd, const char *name, const char *path, const struct stat *st) {
        struct archive_entry *e = x->e;
        int r;

        archive_entry_clear(e);
        archive_entry_copy_pathname(e, path);
        archive_entry_copy_stat(e, st);
        if (!S_ISDIR(st->st_mode) && st->st_nlink > 1) {
                for (size_t i = 0; i < x->n_links; i++)
                        if (x->links[i].dev == st->st_dev && x->links[i].ino == st->st_ino) {
                                archive_entry_copy_hardlink(e, x->links[i].path);
                                archive_entry_set_size(e, 0);
                                goto write;
                        }
                void *l = reallocarray(x->links, x->n_links + 1, sizeof(*x->links));
                if (!l)
                        return -ENOMEM;
                x->links = l;
                x->links[x->n_links].dev = st->st_dev;
                x->links[x->n_links].ino = st->st_ino;
                x->links[x->n_links].path = strdup(path);
                if (!x->links[x->n_links++].path)
                        return -ENOMEM;
        }
        if (S_ISLNK(st->st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlinkat(dfd, name, target, sizeof target - 1);

                if (n < 0)
                        return error_set(x->error, -errno, "%s: %m", path);
                target[n] = '\0';
                archive_entry_copy_symlink(e, target);
        }
        r = add_xattrs(e, dfd, name);
        if (r < 0)
                return error_set(x->error, r, "%s: cannot read its xattrs: %s", path, strerror(-r));
write:
        if (archive_write_header(x->a, e) != ARCHIVE_OK)
                return error_set(x->error, -EIO, "%s: %s", path, archive_error_string(x->a));
        if (S_ISREG(st->st_mode) && !archive_entry_hardlink(e)) {
                _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
                char buf[128 * 1024];
                ssize_t n;

                if (fd < 0)
                        return error_set(x->error, -errno, "%s: %m", path);
                while ((n = read(fd, buf, sizeof buf)) > 0)
                        if (archive_write_data(x->a, buf, n) != n)
                                return error_set(x->error, -EIO, "%s: %s", path, archive_error_string(x->a));
                if (n < 0)
                        return error_set(x->error, -errno, "%s: %m", path);
        }
        if (x->progress)
                x->progress((uint64_t) archive_filter_bytes(x->a, -1), UINT64_MAX, x->userdata);
        return 0;
}

static int export_dir(Export *x, int fd, const char *prefix, unsigned depth) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int dup_fd, r;

        if (depth > 4096)
                return -ELOOP;
        dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (dup_fd < 0)
                return -errno;
        d = fdopendir(dup_fd);
        if (!d) {
                safe_close(dup_fd);
                return -errno;
        }
        while ((errno = 0, de = readdir(d))) {
                _cleanup_free_ char *path = NULL;
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                if (S_ISSOCK(st.st_mode))
                        continue;
                path = strjoin3(prefix, "/", de->d_name);
                if (!path)
                        return -ENOMEM;
                r = export_one(x, fd, de->d_name, path, &st);
                if (r < 0)
                        return r;
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int sub = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

                        if (sub < 0)
                                return error_set(x->error, -errno, "%s: %m", path);
                        r = export_dir(x, sub, path, depth + 1);
                        if (r < 0)
                                return r;
                }
        }
        return errno > 0 ? -errno : 0;
}

int pool_export_tar(const char *dir, const char *name, int fd, PoolCompression c, PoolProgress progress,
                    void *userdata, char **ret_error) {
        _cleanup_(pool_archive_write_freep) struct archive *a = NULL;
        _cleanup_(pool_image_freep) PoolImage *i = NULL;
        _cleanup_(tree_lock_release) TreeLock lock = TREE_LOCK_NULL;
        _cleanup_close_ int root_fd = -EBADF;
        Export x = {};
        struct stat st;
        int r;

        r = pool_image_find(dir, name, false, &i);
        if (r < 0)
                return r;
        if (i->type != POOL_IMAGE_DIRECTORY && i->type != POOL_IMAGE_SUBVOLUME)
                return -EOPNOTSUPP;
        root_fd = open(i->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0 || fstat(root_fd, &st) < 0)
                return -errno;
        /* Shared: a read-write boot would change the tree under the export. */
        r = tree_lock_acquire(st.st_dev, st.st_ino, false, "pool", &lock, NULL);
        if (r < 0)
                return r;
        a = archive_write_new();
        x.e = archive_entry_new();
        if (!a || !x.e) {
                archive_entry_free(x.e);
                return -ENOMEM;
        }
        /* Full pax: nanosecond times and xattrs in every entry's header. */
        archive_write_set_format_pax(a);
        r = pool_archive_add_filter(a, c);
        if (r != ARCHIVE_OK || archive_write_open_fd(a, fd) != ARCHIVE_OK) {
                r = error_set(ret_error, -EIO, "%s", archive_error_string(a));
                goto finish;
        }
        x.a = a;
        x.progress = progress;
        x.userdata = userdata;
        x.error = ret_error;
        r = export_one(&x, root_fd, ".", ".", &st);
        if (r >= 0)
                r = export_dir(&x, root_fd, ".", 0);
        if (r >= 0 && archive_write_close(a) != ARCHIVE_OK)
                r = error_set(ret_error, -EIO, "%s", archive_error_string(a));
finish:
        for (size_t k = 0; k < x.n_links; k++)
                free(x.links[k].path);
        free(x.links);
        archive_entry_free(x.e);
        return r;
}
