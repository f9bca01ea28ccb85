/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "init-kind.h"
#include "util.h"

/* What we learn about an OS tree before booting it. Nothing here writes to it. */
typedef struct Tree {
        int fd;              /* O_PATH|O_DIRECTORY of the tree's top */
        dev_t dev;
        ino_t ino;
        char *os_release;    /* contents of the tree's os-release */
        char *init_path;     /* path of init inside the tree, as found */
        InitKind init_kind;
        Id128 machine_id;    /* null when the tree has none yet */
        bool machine_id_file; /* /etc/machine-id exists (maybe empty) */
} Tree;

#define TREE_NULL ((Tree) { .fd = -EBADF, .init_kind = _INIT_KIND_INVALID })

typedef enum TreeOpenFlags {
        TREE_WANT_INIT = 1 << 0,      /* -ENOEXEC without an init */
        TREE_ANY_ROOTFS = 1 << 1,     /* no os-release needed: an OCI bundle's rootfs (images often lack one) */
} TreeOpenFlags;

/* Errors: -ENOENT (no such path), -ENOTDIR (not a directory), -EBADE (no os-release),
 * -ENOEXEC (no init; only with TREE_WANT_INIT), -ELOOP (the host's root). */
int tree_open(const char *path, TreeOpenFlags flags, Tree *ret);
/* The same for a tree at FD (a directory, or the root of a detached mount
 * tree: an image's), which it takes over, also on failure. */
int tree_open_fd(int fd, TreeOpenFlags flags, Tree *ret);
void tree_done(Tree *t);

int tree_resolve(int tree_fd, const char *path, int flags, int *ret_fd);
/* os-release of the tree at TREE_FD (a running machine's: /proc/PID/root); -EBADE if none. */
int tree_read_os_release(int tree_fd, char **ret);

extern const char *const tree_init_candidates[];
extern const char *const tree_os_release_candidates[];
