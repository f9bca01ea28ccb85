/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* --ephemeral: the machine writes to a throw-away overlayfs upper layer on a
 * tmpfs, over the tree (or an image's root) as its read-only lower layer.
 * Nothing reaches the tree, so any number of machines may boot one pristine
 * tree at once. Everything is a detached mount made from fds (overlayfs takes
 * its layers as fds since Linux 6.8: "lowerdir+", "upperdir", "workdir"), so
 * nothing appears in any mount table until the payload attaches it, and it
 * all goes away with the machine's mount namespace. */
#include <sys/types.h>

/* OWNER: who owns the upper layer's top (the machine's root on the host:
 * 0, or the base of its user namespace), whose owner the merged top shows. */
int ephemeral_overlay(int lower_fd, uid_t owner, int *ret_mntfd);
