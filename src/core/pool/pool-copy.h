/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "pool.h" /* PoolProgress */

/* Image NAME of the pool DIR copied to NEW_NAME: a btrfs snapshot of a
 * subvolume, else a copy (reflinked where the file system can) made under a
 * hidden temporary name and renamed into place when whole. -EEXIST when
 * NEW_NAME exists, -EBUSY while a machine runs from NAME read-write.
 * PROGRESS (may be NULL) counts the bytes of file data copied, of a total
 * known before the copy starts; a snapshot is no copy and counts nothing. */
int pool_image_clone(const char *dir, const char *name, const char *new_name, PoolProgress progress,
                     void *userdata);

/* The tree FROM_DFD/FROM_NAME copied into the existing, empty directory
 * TO_DFD/TO_NAME, with owners, modes, times, xattrs (ACLs, capabilities),
 * device nodes, hard links and holes; symlinks are copied, never followed.
 * PROGRESS (may be NULL) as pool_image_clone()'s. */
int copy_tree_at(int from_dfd, const char *from_name, int to_dfd, const char *to_name, PoolProgress progress,
                 void *userdata);

/* How owners change on the way: an ID in [FROM, FROM + COUNT) becomes
 * TO + (ID - FROM), any other OVERFLOW (a user namespace's "nobody"). */
typedef struct CopyIdShift {
        uint32_t from, to, count, overflow;
} CopyIdShift;

/* FROM_DFD/FROM_NAME, whatever it is (a tree, a file, a symlink, a node),
 * copied as the new TO_DFD/TO_NAME, as copy_tree_at() copies, with owners
 * through SHIFT (NULL: kept). A symlink FROM_NAME is copied, not followed. */
int copy_entry_at(int from_dfd, const char *from_name, int to_dfd, const char *to_name, const CopyIdShift *shift);

/* FROM's data into the empty file TO: a reflink, else the data extents only. */
int copy_data(int from, int to, uint64_t size);
/* Every xattr of FROM_DFD/FROM_NAME onto TO_DFD/TO_NAME (symlinks not followed). */
int copy_xattrs_at(int from_dfd, const char *from_name, int to_dfd, const char *to_name);
