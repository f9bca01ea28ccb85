/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* A lock on a tree (by device and inode), kept as an flock(2) on a file under
 * the runtime directory: the tree itself is never written to. Shared for
 * read-only boots, exclusive for read-write ones. */
typedef struct TreeLock {
        int fd;
        char *path;
} TreeLock;

#define TREE_LOCK_NULL ((TreeLock) { .fd = -EBADF })

/* -EBUSY when another boot holds it; *ret_holder then says who, when known. */
int tree_lock_acquire(dev_t dev, ino_t ino, bool exclusive, const char *machine_name,
                      TreeLock *ret, char **ret_holder);
void tree_lock_release(TreeLock *l);

/* Removes NAME, a lock file in the directory DIR_FD, when nobody holds it:
 * 1 when removed, 0 when held (or gone meanwhile). A taker of such a lock
 * checks, once it holds it, that its file is still the one at the path, so
 * removing a file nobody holds loses no lock. */
int lock_file_remove_unheld(int dir_fd, const char *name);
/* The same for every *.lock file in RUNTIME_DIR/SUBDIR (locks, uidranges):
 * what a SIGKILLed boxctl left. The number removed in *RET_REMOVED. */
int lock_dir_sweep(const char *subdir, size_t *ret_removed);

/* BOXCTL_RUNTIME_DIR from the environment (tests point it at their sandbox),
 * else the configured default. The one place that decides it. */
const char *runtime_dir(void);
/* Makes RUNTIME_DIR/SUBDIR (and the runtime directory) when missing. */
int runtime_dir_make(const char *subdir, char **ret);
