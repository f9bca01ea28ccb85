/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/mount.h>

/* Thin helpers over the new mount API (fsopen/fsmount/open_tree/move_mount):
 * mounts are built detached and attached to an fd that was resolved inside the
 * machine's root, so a symlink planted in the tree cannot redirect them. */

/* A new instance of FSTYPE; OPTIONS is "key=value,flag,..." or NULL. */
int mount_fs_new(const char *fstype, const char *options, unsigned attr, int *ret_mntfd);
/* The same, with SOURCE as /proc/self/mountinfo shows it ("shm" for /dev/shm) instead of FSTYPE. */
int mount_fs_new_source(const char *fstype, const char *source, const char *options, unsigned attr, int *ret_mntfd);

/* The same, attached at DEST inside the tree at ROOT_FD. */
int mount_fs_new_at(int root_fd, const char *dest, const char *fstype, const char *options,
                    unsigned attr);

/* A detached copy of the mount tree at PATH (relative to DIRFD). */
int mount_clone(int dirfd, const char *path, bool recursive, unsigned attr_set, int *ret_mntfd);

/* Attaches MNTFD on top of DEST, a path resolved inside the tree at ROOT_FD. */
int mount_attach(int mntfd, int root_fd, const char *dest);

/* Makes a detached mount show its files' owners through the mapping of the
 * user namespace USERNS_FD. -EINVAL: the file system cannot do that. */
int mount_set_idmap(int mntfd, int userns_fd, bool recursive);

/* Bind-mounts DEST (inside ROOT_FD) onto itself with ATTR_SET applied. */
int mount_remount_at(int root_fd, const char *dest, bool recursive, unsigned attr_set);
