/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

/* The image pool: a directory (/var/lib/machines, $BOXCTL_POOL, --pool=DIR)
 * of machines' roots, each an entry named after its image:
 *
 *   NAME        a directory tree, or a btrfs subvolume, or a disk or file
 *               system image in a regular file (or a block device)
 *   NAME.raw    a disk or file system image in a regular file
 *
 * Entries whose name starts with '.' are hidden; ".#NAME.XXXXXX" are made by
 * an import or a clone under way and become NAME by one rename(2) when whole.
 *
 * Nothing outside the pool is ever renamed or deleted: every change works on
 * the pool directory's fd and the entry's own name; an entry that is a
 * symlink is renamed or removed as the symlink. */

typedef enum PoolImageType {
        POOL_IMAGE_DIRECTORY,
        POOL_IMAGE_SUBVOLUME,
        POOL_IMAGE_RAW,
        POOL_IMAGE_BLOCK,
        _POOL_IMAGE_TYPE_MAX,
        _POOL_IMAGE_TYPE_INVALID = -EINVAL,
} PoolImageType;

const char *pool_image_type_to_string(PoolImageType t);
PoolImageType pool_image_type_from_string(const char *s);

typedef struct PoolImage {
        char *name;      /* the image's name: the entry's, less ".raw" */
        char *entry;     /* the entry's name in the pool */
        char *path;      /* POOL/ENTRY */
        PoolImageType type;
        bool read_only;
        bool symlink;    /* the entry is a symlink to the tree or file */
        uint64_t usage;  /* bytes allocated, UINT64_MAX when not known */
        uint64_t crtime; /* µs since the epoch, 0 when not known */
        uint64_t mtime;
} PoolImage;

/* Called now and then by the long operations (import, export, pull, clone by
 * copy) with the bytes done so far and the total, UINT64_MAX when not known. */
typedef void (*PoolProgress)(uint64_t done, uint64_t total, void *userdata);

PoolImage *pool_image_free(PoolImage *i);
void pool_image_array_free(PoolImage **l, size_t n);
DEFINE_TRIVIAL_CLEANUP_FUNC(PoolImage *, pool_image_free);

/* $BOXCTL_POOL when set, else /var/lib/machines. The one place that decides it. */
const char *pool_default_dir(void);

/* An image's name: a valid machine name (settings.h) not starting with '.'. */
bool pool_image_name_is_valid(const char *name);

/* The image NAME of the pool DIR (NULL: the default): -ENOENT when there is
 * none, -EINVAL for an invalid name. With USAGE its usage is counted (a walk
 * over a tree). */
int pool_image_find(const char *dir, const char *name, bool usage, PoolImage **ret);

/* Every image of the pool, sorted by name; hidden ones ('.'-names) with ALL.
 * A pool that does not exist is empty. */
int pool_list(const char *dir, bool all, bool usage, PoolImage ***ret, size_t *ret_n);

/* What "boot|run|start|enable ARG" boots, the rule for a bare NAME:
 *
 *   ARG has no '/', is a valid image name and the pool holds an image of
 *   that name (NAME or NAME.raw): that image;
 *   anything else: a path, relative to the current directory ("./NAME" for
 *   a tree here that has a pool image's name).
 *
 * *ret_root is the absolute, resolved path (whether it is a tree or a disk
 * image the start path sees by itself); *ret_read_only that the pool marks it read-only
 * (a path outside the pool: false); *ret_in_pool (may be NULL) that ARG was a
 * NAME of the pool. -ENOENT when neither exists. */
int pool_resolve(const char *dir, const char *arg, char **ret_root, bool *ret_read_only, bool *ret_in_pool);

/* -EBUSY (with *ret_holder when known) while a machine runs from IMAGE; else
 * an exclusive tree lock in *ret that keeps new boots out until released. */
struct TreeLock;
int pool_image_lock(const PoolImage *image, struct TreeLock *ret, char **ret_holder);

int pool_image_rename(const char *dir, const char *name, const char *new_name);
/* -EROFS for a read-only image, -EBUSY while a machine runs from it. */
int pool_image_remove(const char *dir, const char *name);
int pool_image_set_read_only(const char *dir, const char *name, bool read_only);

/* Opens (and creates when missing) the pool directory. */
int pool_open(const char *dir, bool create, int *ret_fd);
/* The checks every import makes before it writes (-EINVAL: NAME is not a
 * valid image name; -EEXIST: the pool DIR holds an image NAME already), and
 * the pool opened, made when missing. */
int pool_import_prepare(const char *dir, const char *name, int *ret_pool_fd);

/* A hidden temporary entry ".#NAME.XXXXXX" of the pool POOL_FD for an image
 * under construction, and a guard process that removes it should this
 * process die before pool_temp_commit() (killed, even by SIGKILL). */
typedef struct PoolTemp {
        int pool_fd;
        char *name;      /* the final name, NAME or NAME.raw */
        char *temp;      /* ".#NAME.XXXXXX" */
        pid_t guard;
        int guard_fd;    /* the write end the guard watches */
} PoolTemp;

#define POOL_TEMP_NULL ((PoolTemp) { .pool_fd = -EBADF, .guard = 0, .guard_fd = -EBADF })

typedef enum PoolTempKind {
        POOL_TEMP_DIRECTORY, /* an empty directory, mode 0700; a subvolume on btrfs */
        POOL_TEMP_FILE,      /* an empty file, mode 0600 */
        POOL_TEMP_NAME,      /* only the name: the caller makes it (a btrfs snapshot) */
} PoolTempKind;

/* Makes the temporary entry for the entry ENTRY_NAME. */
int pool_temp_make(int pool_fd, const char *entry_name, PoolTempKind kind, PoolTemp *ret);
/* Renames the temporary into place (never over an existing entry: -EEXIST). */
int pool_temp_commit(PoolTemp *t);
/* Removes the temporary (when not committed) and ends the guard. */
void pool_temp_done(PoolTemp *t);

/* Adds to *TOTAL a sum over the tree below the directory DIR_FD, on its
 * file system: with ALLOCATED the bytes allocated to every entry
 * (st_blocks), else the bytes of file data (each file's size; a file with N
 * hard links a Nth of it at each). */
int tree_bytes(int dir_fd, bool allocated, uint64_t *total);

/* Removes NAME in DIR_FD and, for a directory, everything below it, never
 * leaving the file system it is on and never following a symlink. */
int rm_rf_at(int dir_fd, const char *name);
