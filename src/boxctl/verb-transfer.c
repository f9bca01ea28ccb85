/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* import-tar, import-raw, import-fs, export-tar, export-raw: images into and
 * out of the pool. Built into boxctl-image, not boxctl: libarchive (and
 * through it libxml2, ICU and more) would otherwise be loaded by every
 * boxctl that starts (see image-main.c). */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"
#include "pool-copy.h"
#include "pool-raw.h"
#include "pool-tar.h"
#include "pool.h"
#include "verb-images.h"
#include "verbs.h"

/* "-" is stdin, or stdout, in what the user reads. */
static const char *file_name(const char *arg, bool in) {
        return streq(arg, "-") ? (in ? "stdin" : "stdout") : arg;
}

/* import-tar and import-raw: FILE|- NAME. */
static int import_stream(int argc, char *argv[], bool raw) {
        _cleanup_free_ char *error = NULL;
        _cleanup_close_ int fd = -EBADF;
        Progress p;
        const char *file;
        ImagesArgs a;
        int r;

        r = images_parse_args(argc, argv, 2, 2, "[OPTIONS...] FILE|- NAME",
                       raw ? "Import the disk or file system image FILE (- for stdin; compressed with gzip, xz,\n"
                             "zstd or bzip2, or not) as image NAME.raw of the pool, sparse. It must hold a\n"
                             "partition table or a file system. Nothing is left of a failed or interrupted import."
                           : "Import the tar FILE (- for stdin; compressed with gzip, xz, zstd or bzip2, or not)\n"
                             "as image NAME of the pool. Nothing is left of a failed or interrupted import.",
                       &a);
        if (r <= 0)
                return r < 0;
        file = file_name(a.args[0], true);
        if (!pool_image_name_is_valid(a.args[1]))
                return log_image_error(-EINVAL, &a, "import", a.args[1]), 1;
        if (streq(a.args[0], "-"))
                fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
        else
                fd = open(a.args[0], O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return log_error_errno(errno, "%s: %m", file), 1;
        progress_start(&p, "import", !a.quiet);
        r = (raw ? pool_import_raw_fd : pool_import_tar)(a.pool, fd, a.args[1], p.show ? progress_draw : NULL, &p, &error);
        progress_end(&p);
        if (r < 0 && error)
                return log_error_errno(r, "%s: refused, nothing imported: %s", file, error), 1;
        if (r == -EEXIST || r == -EINVAL)
                return log_image_error(r, &a, "import", a.args[1]), 1;
        if (r < 0)
                return log_error_errno(r, "%s: cannot import as %s into the pool %s: %m", file, a.args[1], pool_of(&a)), 1;
        return 0;
}

int verb_import_tar(int argc, char *argv[]) {
        return import_stream(argc, argv, false);
}

int verb_import_raw(int argc, char *argv[]) {
        return import_stream(argc, argv, true);
}

int verb_import_fs(int argc, char *argv[]) {
        _cleanup_free_ char *error = NULL;
        _cleanup_close_ int fd = -EBADF;
        Progress p;
        ImagesArgs a;
        int r;

        r = images_parse_args(argc, argv, 2, 2, "[OPTIONS...] DIR NAME",
                       "Copy the directory tree DIR as image NAME of the pool, keeping owners, modes,\n"
                       "times, xattrs, ACLs, file capabilities, device nodes, hard links and holes\n"
                       "(reflinked where the file system can). DIR is only read. Nothing is left of a\n"
                       "failed or interrupted import.",
                       &a);
        if (r <= 0)
                return r < 0;
        if (!pool_image_name_is_valid(a.args[1]))
                return log_image_error(-EINVAL, &a, "import", a.args[1]), 1;
        fd = open(a.args[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 && errno == ENOTDIR)
                return log_error_errno(errno, "%s: not a directory; import-fs copies a tree (import-raw takes a disk image)",
                                       a.args[0]), 1;
        if (fd < 0)
                return log_error_errno(errno, "%s: %m", a.args[0]), 1;
        progress_start(&p, "import", !a.quiet);
        r = pool_import_fs(a.pool, fd, a.args[1], p.show ? progress_draw : NULL, &p, &error);
        progress_end(&p);
        if (r < 0 && error)
                return log_error_errno(r, "%s: refused: %s", a.args[0], error), 1;
        if (r == -EEXIST || r == -EINVAL)
                return log_image_error(r, &a, "import", a.args[1]), 1;
        if (r == -EBUSY)
                return log_error_errno(r, "%s: busy: a machine runs from it read-write", a.args[0]), 1;
        if (r < 0)
                return log_error_errno(r, "%s: cannot import as %s into the pool %s: %m", a.args[0], a.args[1], pool_of(&a)), 1;
        return 0;
}

/* export-tar and export-raw: NAME FILE|-. */
static int export_stream(int argc, char *argv[], bool raw) {
        _cleanup_free_ char *error = NULL;
        _cleanup_close_ int fd = -EBADF;
        Progress p;
        PoolCompression c;
        bool to_stdout;
        ImagesArgs a;
        int r;

        r = images_parse_args(argc, argv, 2, 2, "[OPTIONS...] NAME FILE|-",
                       raw ? "Export image NAME of the pool (a disk image) to FILE (- for stdout), compressed\n"
                             "as FILE's suffix says (.gz .xz .zst .bz2) or as --format= says; uncompressed\n"
                             "into a file, sparse."
                           : "Export image NAME of the pool (a tree) as a tar to FILE (- for stdout),\n"
                             "compressed as FILE's suffix says (.gz .xz .zst .bz2) or as --format= says.",
                       &a);
        if (r <= 0)
                return r < 0;
        to_stdout = streq(a.args[1], "-");
        if (a.format && streq(a.format, "none"))
                c = POOL_COMPRESSION_NONE;
        else
                c = a.format ? pool_compression_from_string(a.format) : pool_compression_from_filename(a.args[1]);
        if (c < 0)
                return log_error_errno(EINVAL, "invalid --format '%s': use gzip, xz, zstd, bzip2 or none", a.format), 1;
        if (to_stdout)
                fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
        else
                fd = open(a.args[1], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0644);
        if (fd < 0)
                return log_error_errno(errno, "%s: %m", a.args[1]), 1;
        progress_start(&p, "export", !a.quiet);
        r = (raw ? pool_export_raw_fd : pool_export_tar)(a.pool, a.args[0], fd, c, p.show ? progress_draw : NULL, &p, &error);
        progress_end(&p);
        if (r < 0 && !to_stdout)
                (void) unlink(a.args[1]);
        if (r < 0 && error)
                return log_error_errno(r, "%s: cannot export to %s: %s", a.args[0], file_name(a.args[1], false), error), 1;
        if (r == -EOPNOTSUPP && !raw)
                return log_error_errno(r, "%s is a disk image, not a tree; use export-raw", a.args[0]), 1;
        if (r == -EISDIR && raw)
                return log_error_errno(r, "%s is a directory tree; use export-tar", a.args[0]), 1;
        if (r == -EBUSY)
                return log_error_errno(r, "%s: busy: a machine runs from it read-write", a.args[0]), 1;
        if (r == -ENOENT || r == -EINVAL)
                return log_image_error(r, &a, "export", a.args[0]), 1;
        if (r < 0)
                return log_error_errno(r, "%s: cannot export to %s: %m", a.args[0], file_name(a.args[1], false)), 1;
        return 0;
}

int verb_export_tar(int argc, char *argv[]) {
        return export_stream(argc, argv, false);
}

int verb_export_raw(int argc, char *argv[]) {
        return export_stream(argc, argv, true);
}
