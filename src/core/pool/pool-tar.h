/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "pool.h" /* PoolProgress */

typedef enum PoolCompression {
        POOL_COMPRESSION_NONE,
        POOL_COMPRESSION_GZIP,
        POOL_COMPRESSION_XZ,
        POOL_COMPRESSION_ZSTD,
        POOL_COMPRESSION_BZIP2,
        _POOL_COMPRESSION_MAX,
        _POOL_COMPRESSION_INVALID = -22,
} PoolCompression;

const char *pool_compression_to_string(PoolCompression c);
PoolCompression pool_compression_from_string(const char *s);
/* By FILE's suffix (.gz .tgz .xz .txz .zst .tzst .bz2 .tbz2), else none. */
PoolCompression pool_compression_from_filename(const char *file);

/* libarchive's handles as cleanups, and the write filter of C: for
 * pool-tar.c and pool-raw.c, libarchive's two users. */
struct archive;
void pool_archive_read_freep(struct archive **a);
void pool_archive_write_freep(struct archive **a);
/* ARCHIVE_OK, or libarchive's error. */
int pool_archive_add_filter(struct archive *a, PoolCompression c);
/* A new reader of a stream compressed with gzip, xz, zstd or bzip2 or not,
 * holding a tar (pax, ustar, GNU) or, with RAW, any bytes at all; NULL when
 * out of memory. */
struct archive *pool_archive_read_new(bool raw);

/* A tar (compressed with gzip, xz, zstd or bzip2, or not) from FD into the new image NAME of
 * the pool DIR. Safe by construction: no entry lands outside the new tree
 * (absolute names, "..", a path through any symlink, a hard link to
 * anything outside are refused), device nodes only as root; everything goes
 * into .#NAME.XXXXXX, renamed into place only when whole, and removed by a
 * guard process should this one die first. On failure *ret_error (when not
 * NULL) says which entry and why. */
int pool_import_tar(const char *dir, int fd, const char *name, PoolProgress progress, void *userdata,
                    char **ret_error);

/* Image NAME (a tree) of the pool DIR as a pax tar into FD, with owners,
 * modes, times, xattrs (ACLs, file capabilities), device nodes and hard
 * links. */
int pool_export_tar(const char *dir, const char *name, int fd, PoolCompression c, PoolProgress progress,
                    void *userdata, char **ret_error);
