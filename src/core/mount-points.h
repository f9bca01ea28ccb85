/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "settings.h"

/* Mount points a machine needs that its tree lacks are made before it starts
 * and removed after it stops, if still empty: the tree ends as it began. */
typedef struct MountPoints {
        char **created; /* paths inside the tree, in order of creation */
} MountPoints;

/* On failure *ret_failed names the path that could not be made. */
int mount_points_prepare(int tree_fd, const Settings *s, MountPoints *mp,
                         char **ret_failed);
void mount_points_cleanup(int tree_fd, MountPoints *mp);
