/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "settings.h"

/* The file system a machine sees, built inside its new mount namespace by the
 * payload process before it switches root. */
typedef struct MountContext {
        const Settings *settings;
        const char *root_path;       /* the tree, as the host names it */
        const char *host_os_release; /* for /run/host/os-release; may be NULL */
        const char *machine_id;      /* 32 hex digits to show as /etc/machine-id, or NULL */
        int tree_fd;                 /* O_PATH of the tree's top, from the host side */
        int root_mntfd;              /* the tree, as a detached mount the host side made */
        const int *bind_mntfds;      /* one per settings->binds[], likewise */
        bool make_mount_points;      /* the host side did not make them in the tree */
} MountContext;

/* Where the machine's API file systems go: each must be a directory in the
 * tree (or missing, where mount points are made). */
extern const char *const mount_api_dirs[];
extern const size_t mount_api_dirs_n;

/* On failure *ret_step names what could not be mounted, for the one error line. */
int mount_setup(const MountContext *c, int *ret_root_fd, const char **ret_step);
int mount_switch_root(int root_fd);
