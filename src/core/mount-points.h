/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <time.h>

#include "settings.h"

/* Mount points a machine needs that its tree lacks are made before it starts
 * and removed after it stops, if still empty: the tree ends as it began. */
/* A directory of the tree we made an entry in: its times before, so that
 * taking the entry away again restores them, and its mtime right after our
 * last entry, which tells whether anyone else changed it meanwhile. */
typedef struct MountPointParent {
        char *path;
        struct timespec before[2]; /* atime, mtime */
        struct timespec after;
} MountPointParent;

typedef struct MountPoints {
        char **created; /* paths inside the tree, in order of creation */
        MountPointParent *parents; /* may be absent (oci): times are then left as they are */
        size_t n_parents;
} MountPoints;

/* On failure *ret_failed names the path that could not be made. */
int mount_points_prepare(int tree_fd, const Settings *s, MountPoints *mp,
                         char **ret_failed);
void mount_points_cleanup(int tree_fd, MountPoints *mp);
/* Frees MP and leaves what it made in place (they are in a throw-away layer). */
void mount_points_forget(MountPoints *mp);
