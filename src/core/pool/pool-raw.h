/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "pool-tar.h" /* PoolProgress, PoolCompression */

/* A disk or file system image read from FD (a file, a pipe, a socket: read
 * once, from its start to its end), compressed with gzip, xz, zstd or bzip2
 * or not, as its first bytes tell, becomes the new image NAME.raw of the pool
 * DIR (NULL: the default). Written sparse: every all-zero 4 KiB block is a
 * hole. Everything goes into .#NAME.raw.XXXXXX, renamed into place only when
 * whole and checked, and removed on failure, or by a guard process should
 * this one die first.
 *
 * The check: what libblkid finds in it must be a GPT or MBR partition table
 * or a file system (dissect.h). Refused are data of no known format (random
 * bytes, text, a tar, a qcow2) and a damaged or cut-off partition table (a
 * download that stopped early): nothing could ever boot them. Kept, since
 * they are whole images that another host or a later boxctl boots: an image
 * with no root for this architecture, or one whose file systems boxctl does
 * not mount (LUKS).
 *
 * Errors, with *ret_error (when not NULL) saying why in words:
 *   -EBADMSG  the stream is corrupt or cut off, or its content is no image
 *             (see above)
 *   -ENODATA  there is no data (an empty file, or a compressed empty one)
 *   -EISDIR   FD is a directory (import-fs takes a tree)
 * and without:
 *   -EINVAL   NAME is not a valid image name
 *   -EEXIST   the pool holds an image NAME already (NAME or NAME.raw)
 *   others    -errno of the pool (-ENOSPC: its file system is full) */
int pool_import_raw_fd(const char *dir, int fd, const char *name, PoolProgress progress, void *userdata,
                       char **ret_error);

/* The directory tree FROM_FD copied as the new image NAME of the pool DIR,
 * as clone copies (owners, modes, times, xattrs, ACLs, file capabilities,
 * device nodes, hard links, holes; data reflinked where the file system
 * can), into .#NAME.XXXXXX under the same guard. FROM_FD is only read, under
 * a shared lock on the tree: a machine running from it read-write makes it
 * -EBUSY. -ELOOP (with *ret_error) when FROM_FD is the pool, or inside it,
 * or holds it (a copy of it would hold its own copy); -EINVAL, -EEXIST as
 * above. PROGRESS (may be NULL) as pool_image_clone()'s. */
int pool_import_fs(const char *dir, int from_fd, const char *name, PoolProgress progress, void *userdata,
                   char **ret_error);

/* Image NAME of the pool DIR (a disk image: a NAME.raw file or a block
 * device) written to FD, compressed as C says; uncompressed into a regular
 * file, sparse (holes for zero blocks). Under a shared lock on the image:
 * -EBUSY while a machine runs from it read-write. -EISDIR for a tree (that
 * is export-tar's); -ENOENT, -EINVAL for NAME; others -errno, with
 * *ret_error when the output failed in libarchive's words. */
int pool_export_raw_fd(const char *dir, const char *name, int fd, PoolCompression c, PoolProgress progress,
                       void *userdata, char **ret_error);
