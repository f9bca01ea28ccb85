/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* import-raw, export-raw and import-fs. A compressed image is one stream,
 * which libarchive's "raw" format reads and writes through the same filters
 * as a tar. The output is sparse: a disk image is mostly zeros (free space
 * of its file systems, the gap before the first partition), and a hole costs
 * nothing on disk. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "lock.h"
#include "pool-copy.h"
#include "pool-raw.h"
#include "pool.h"
#include "util.h"

#include "dissect.h"
#include "image.h"

/* Zero blocks of this size become holes: the page and file system block
 * size, the smallest hole most file systems can make. */
#define RAW_BLOCK ((size_t) 4096)
/* The buffer: a whole number of blocks, so that every block starts at a
 * multiple of RAW_BLOCK in the output. */
#define RAW_BUFFER (RAW_BLOCK * 32)

static bool is_zero(const uint8_t *p, size_t n) {
        return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/* Where an image's bytes go: with SPARSE (a regular file, empty from its
 * position on, not O_APPEND) zero blocks are skipped and the size set at the
 * end, so they are holes; else (a pipe, a terminal) every byte is written. */
typedef struct RawOut {
        int fd;
        bool sparse;
        off_t offset; /* where the next byte goes, when SPARSE */
} RawOut;

static int raw_out_init(int fd, RawOut *ret) {
        struct stat st;
        off_t pos;
        int flags;

        *ret = (RawOut) { .fd = fd };
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return 0;
        flags = fcntl(fd, F_GETFL);
        pos = lseek(fd, 0, SEEK_CUR);
        if (flags < 0 || (flags & O_APPEND) || pos < 0 || st.st_size > pos)
                return 0;
        ret->sparse = true;
        ret->offset = pos;
        return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n, off_t offset, bool positioned) {
        while (n > 0) {
                ssize_t k = positioned ? pwrite(fd, p, n, offset) : write(fd, p, n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -EIO;
                p += k;
                n -= (size_t) k;
                offset += k;
        }
        return 0;
}

static int raw_out_write(RawOut *o, const uint8_t *p, size_t n) {
        if (!o->sparse)
                return write_all(o->fd, p, n, 0, false);
        while (n > 0) {
                size_t run = MIN(n, RAW_BLOCK);
                bool zero = is_zero(p, run);
                int r;

                /* A run of blocks alike: one write for data, nothing for zeros. */
                while (run < n && is_zero(p + run, MIN(n - run, RAW_BLOCK)) == zero)
                        run += MIN(n - run, RAW_BLOCK);
                if (!zero) {
                        r = write_all(o->fd, p, run, o->offset, true);
                        if (r < 0)
                                return r;
                }
                o->offset += (off_t) run;
                p += run;
                n -= run;
        }
        return 0;
}

/* The holes at the end get their size; the position is left after the
 * image, as write() would have left it. */
static int raw_out_finish(RawOut *o) {
        if (!o->sparse)
                return 0;
        if (ftruncate(o->fd, o->offset) < 0 || lseek(o->fd, o->offset, SEEK_SET) < 0)
                return -errno;
        return 0;
}

/* ---- import ---- */

static int stream_error(struct archive *a, char **ret_error) {
        bool compressed = archive_filter_count(a) > 1;

        return error_set(ret_error, -EBADMSG, "the %s%s is corrupt or cut off (%s)",
                         compressed ? archive_filter_name(a, 0) : "input", compressed ? " stream" : "",
                         archive_error_string(a) ?: "a read error");
}

/* The one stream of FD, decompressed. */
static int raw_read_open(int fd, struct archive **ret, char **ret_error) {
        _cleanup_(pool_archive_read_freep) struct archive *a = pool_archive_read_new(true);
        struct archive_entry *e;

        if (!a)
                return -ENOMEM;
        if (archive_read_open_fd(a, fd, RAW_BUFFER) != ARCHIVE_OK || archive_read_next_header(a, &e) != ARCHIVE_OK) {
                /* The raw format takes any byte: what it does not take is no
                 * byte at all ("unrecognized format": ARCHIVE_ERRNO_FILE_FORMAT,
                 * EILSEQ on Linux, which archive.h does not export). */
                if (archive_errno(a) == EILSEQ && archive_filter_count(a) > 1)
                        return error_set(ret_error, -ENODATA, "no data: the %s stream holds nothing",
                                         archive_filter_name(a, 0));
                if (archive_errno(a) == EILSEQ)
                        return error_set(ret_error, -ENODATA, "no data: the input is empty");
                /* A stream cut off before its first block ends (bzip2's are 900 KiB). */
                return stream_error(a, ret_error);
        }
        *ret = TAKE_PTR(a);
        return 0;
}

/* ---- the one copy loop of import-raw and export-raw ---- */

/* Where the bytes come from: fills BUF (less only at the end, 0 there) and
 * moves *POS, how far it is in what the progress line counts (for a
 * decompression: the compressed bytes read), past them. */
typedef ssize_t (*RawRead)(void *from, uint8_t *buf, size_t size, uint64_t *pos);
/* Where they go. */
typedef int (*RawWrite)(void *to, const uint8_t *buf, size_t n);

/* FROM's bytes to TO until the end, in RAW_BUFFER steps: a whole number of
 * blocks each, so that a sparse output's blocks start where the image's
 * do. *RET_BYTES: how many. */
static int raw_pump(RawRead rd, void *from, RawWrite wr, void *to, uint64_t total, PoolProgress progress,
                    void *userdata, uint64_t *ret_bytes) {
        _cleanup_free_ uint8_t *buf = malloc(RAW_BUFFER);
        uint64_t bytes = 0, pos = 0;
        int r;

        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n = rd(from, buf, RAW_BUFFER, &pos);

                if (n < 0)
                        return (int) n;
                if (n == 0)
                        break;
                r = wr(to, buf, (size_t) n);
                if (r < 0)
                        return r;
                bytes += (uint64_t) n;
                if (progress)
                        progress(pos, total, userdata);
        }
        *ret_bytes = bytes;
        return 0;
}

/* A RawRead of a libarchive stream: -EBADMSG when it is corrupt. */
static ssize_t read_from_archive(void *from, uint8_t *buf, size_t size, uint64_t *pos) {
        struct archive *a = from;
        size_t n = 0;

        while (n < size) {
                la_ssize_t k = archive_read_data(a, buf + n, size - n);

                if (k < 0)
                        return -EBADMSG;
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        *pos = (uint64_t) archive_filter_bytes(a, -1);
        return (ssize_t) n;
}

/* A RawRead of an fd. */
static ssize_t read_from_fd(void *from, uint8_t *buf, size_t size, uint64_t *pos) {
        int fd = *(const int *) from;
        size_t n = 0;

        while (n < size) {
                ssize_t k = read(fd, buf + n, size - n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        *pos += n;
        return (ssize_t) n;
}

/* A RawWrite into a RawOut. */
static int write_out(void *to, const uint8_t *buf, size_t n) {
        return raw_out_write(to, buf, n);
}

/* A RawWrite into a libarchive stream; FAILED says that libarchive has the reason. */
typedef struct ArchiveOut {
        struct archive *a;
        bool failed;
} ArchiveOut;

static int write_archive(void *to, const uint8_t *buf, size_t n) {
        ArchiveOut *o = to;

        if (archive_write_data(o->a, buf, n) == (la_ssize_t) n)
                return 0;
        o->failed = true;
        return -EIO;
}

static int raw_decompress(struct archive *a, int out_fd, uint64_t in_size, PoolProgress progress, void *userdata,
                          char **ret_error) {
        uint64_t total = 0;
        RawOut o;
        int r;

        r = raw_out_init(out_fd, &o);
        if (r < 0)
                return r;
        r = raw_pump(read_from_archive, a, write_out, &o, in_size, progress, userdata, &total);
        if (r == -EBADMSG)
                return stream_error(a, ret_error);
        if (r < 0)
                return r;
        if (total == 0) /* not reached: raw_read_open() refuses it; but should libarchive change */
                return error_set(ret_error, -ENODATA, "no data: the input is empty");
        return raw_out_finish(&o);
}

/* What no boot could ever use is refused (see pool-raw.h); the rest is kept. */
static int raw_check(int fd, char **ret_error) {
        _cleanup_(dissected_image_freep) DissectedImage *m = NULL;
        _cleanup_free_ char *error = NULL;
        int r;

        r = dissect_image_fd(fd, _ARCHITECTURE_INVALID, &m, &error);
        if (r == -EBADMSG || r == -EUCLEAN)
                return error_set(ret_error, -EBADMSG, "%s", error ?: "not a disk image");
        if (r == -ENXIO || r == -EMEDIUMTYPE || r == -ENOTUNIQ || r == -EAFNOSUPPORT)
                return 0;
        return r;
}

int pool_import_raw_fd(const char *dir, int fd, const char *name, PoolProgress progress, void *userdata,
                       char **ret_error) {
        _cleanup_(pool_archive_read_freep) struct archive *a = NULL;
        _cleanup_(pool_temp_done) PoolTemp t = POOL_TEMP_NULL;
        _cleanup_close_ int pool_fd = -EBADF, out = -EBADF;
        _cleanup_free_ char *entry = NULL;
        struct stat st;
        int r;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return error_set(ret_error, -EISDIR, "a directory, not a disk image (import-fs copies a tree)");
        r = pool_import_prepare(dir, name, &pool_fd);
        if (r < 0)
                return r;
        entry = strjoin3(name, ".raw", "");
        if (!entry)
                return -ENOMEM;
        r = raw_read_open(fd, &a, ret_error);
        if (r < 0)
                return r;
        r = pool_temp_make(pool_fd, entry, POOL_TEMP_FILE, &t);
        if (r < 0)
                return r;
        out = openat(pool_fd, t.temp, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (out < 0)
                return -errno;
        /* What is read of FD is the progress: of a file, its size is the total. */
        r = raw_decompress(a, out, S_ISREG(st.st_mode) ? (uint64_t) st.st_size : UINT64_MAX, progress, userdata,
                           ret_error);
        if (r < 0)
                return r;
        r = raw_check(out, ret_error);
        if (r < 0)
                return r;
        /* Whole on disk before it has its name: a crash must not leave a NAME.raw of zeros. */
        if (fchmod(out, 0644) < 0 || fsync(out) < 0)
                return -errno;
        return pool_temp_commit(&t);
}

/* 1 when the directory INNER_FD is OUTER_FD or below it, by its parents
 * ("..", as the kernel walks it: through mount points, never a symlink). */
static int dir_is_below(int inner_fd, int outer_fd) {
        _cleanup_close_ int fd = fcntl(inner_fd, F_DUPFD_CLOEXEC, 3);
        struct stat outer, st, up_st;

        if (fd < 0 || fstat(outer_fd, &outer) < 0 || fstat(fd, &st) < 0)
                return -errno;
        for (unsigned depth = 0; depth < 4096; depth++) {
                int up;

                if (st.st_dev == outer.st_dev && st.st_ino == outer.st_ino)
                        return 1;
                up = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (up < 0)
                        return -errno;
                safe_close(fd);
                fd = up;
                if (fstat(fd, &up_st) < 0)
                        return -errno;
                if (up_st.st_dev == st.st_dev && up_st.st_ino == st.st_ino)
                        return 0; /* the root: its ".." is itself */
                st = up_st;
        }
        return -ELOOP;
}

int pool_import_fs(const char *dir, int from_fd, const char *name, PoolProgress progress, void *userdata,
                   char **ret_error) {
        _cleanup_(tree_lock_release) TreeLock lock = TREE_LOCK_NULL;
        _cleanup_(pool_temp_done) PoolTemp t = POOL_TEMP_NULL;
        _cleanup_close_ int pool_fd = -EBADF;
        struct stat st;
        int r;

        if (fstat(from_fd, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        r = pool_import_prepare(dir, name, &pool_fd);
        if (r < 0)
                return r;
        r = dir_is_below(from_fd, pool_fd);
        if (r > 0)
                return error_set(ret_error, -ELOOP, "is the pool %s or inside it (clone copies an image of the pool)",
                                 dir ?: pool_default_dir());
        if (r == 0)
                r = dir_is_below(pool_fd, from_fd);
        if (r > 0)
                return error_set(ret_error, -ELOOP, "holds the pool %s, so its copy would hold itself",
                                 dir ?: pool_default_dir());
        if (r < 0)
                return r;
        /* Shared, as clone's: a read-write boot from it would change it under the copy. */
        r = tree_lock_acquire(st.st_dev, st.st_ino, false, "pool", &lock, NULL);
        if (r < 0)
                return r;
        r = pool_temp_make(pool_fd, name, POOL_TEMP_DIRECTORY, &t);
        if (r < 0)
                return r;
        r = copy_tree_at(from_fd, ".", pool_fd, t.temp, progress, userdata);
        if (r < 0)
                return r;
        return pool_temp_commit(&t);
}

/* ---- export ---- */

/* The image on SRC, through libarchive's raw format and the filter of C. */
static int export_compressed(int src, const char *name, uint64_t size, int fd, PoolCompression c,
                             PoolProgress progress, void *userdata, char **ret_error) {
        _cleanup_(pool_archive_write_freep) struct archive *a = archive_write_new();
        struct archive_entry *e = NULL;
        ArchiveOut o = { .a = a };
        uint64_t done;
        int r;

        if (!a)
                return -ENOMEM;
        /* No blocking: a compressed stream ends where its data does, not padded to 10 KiB. */
        if (archive_write_set_format_raw(a) != ARCHIVE_OK || pool_archive_add_filter(a, c) != ARCHIVE_OK ||
            archive_write_set_bytes_per_block(a, 0) != ARCHIVE_OK || archive_write_open_fd(a, fd) != ARCHIVE_OK)
                goto fail;
        e = archive_entry_new();
        if (!e)
                return -ENOMEM;
        archive_entry_copy_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t) size);
        r = archive_write_header(a, e);
        archive_entry_free(e);
        if (r != ARCHIVE_OK)
                goto fail;
        r = raw_pump(read_from_fd, &src, write_archive, &o, size, progress, userdata, &done);
        if (o.failed)
                goto fail;
        if (r < 0)
                return r;
        if (archive_write_close(a) != ARCHIVE_OK)
                goto fail;
        return 0;
fail:
        return error_set(ret_error, archive_errno(a) > 0 ? -archive_errno(a) : -EIO, "%s",
                         archive_error_string(a) ?: "cannot write the stream");
}

static int export_plain(int src, uint64_t size, int fd, PoolProgress progress, void *userdata) {
        uint64_t done;
        RawOut o;
        int r;

        r = raw_out_init(fd, &o);
        if (r < 0)
                return r;
        r = raw_pump(read_from_fd, &src, write_out, &o, size, progress, userdata, &done);
        if (r < 0)
                return r;
        return raw_out_finish(&o);
}

int pool_export_raw_fd(const char *dir, const char *name, int fd, PoolCompression c, PoolProgress progress,
                       void *userdata, char **ret_error) {
        _cleanup_(pool_image_freep) PoolImage *i = NULL;
        _cleanup_(tree_lock_release) TreeLock lock = TREE_LOCK_NULL;
        _cleanup_close_ int src = -EBADF;
        uint64_t size;
        struct stat st;
        int r;

        r = pool_image_find(dir, name, false, &i);
        if (r < 0)
                return r;
        if (i->type != POOL_IMAGE_RAW && i->type != POOL_IMAGE_BLOCK)
                return -EISDIR;
        /* Shared, as export-tar's: a read-write boot would change it under the export. */
        r = image_lock(i->path, false, "pool", &lock, NULL);
        if (r < 0)
                return r;
        src = open(i->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (src < 0 || fstat(src, &st) < 0)
                return -errno;
        size = (uint64_t) st.st_size;
        if (S_ISBLK(st.st_mode) && ioctl(src, BLKGETSIZE64, &size) < 0)
                return -errno;
        if (c == POOL_COMPRESSION_NONE)
                return export_plain(src, size, fd, progress, userdata);
        return export_compressed(src, i->name, size, fd, c, progress, userdata, ret_error);
}
