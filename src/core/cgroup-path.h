/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* A machine's cgroup at a place its caller names (an OCI bundle's
 * linux.cgroupsPath) rather than machine.slice/machine-NAME.scope, with
 * runc's cgroupfs rules: an absolute path is below the root of each
 * hierarchy, a relative one below our own cgroup there. What we make is
 * marked (an xattr on the directory), so that removing it later takes the
 * directories we made and none that were there before. */

/* PATH with "//" and "." collapsed; -EINVAL when it names the root itself or
 * a ".." would go above where it starts. */
int cgroup_path_clean(const char *path, char **ret);
/* systemd's "SLICE:PREFIX:NAME" (runc --systemd-cgroup) as the cgroupfs path
 * systemd would give it: /a.slice/a-b.slice/PREFIX-NAME.scope. An empty
 * SLICE is system.slice. -EINVAL when it has not three parts, or a
 * part is not a unit name's. */
int cgroup_path_from_systemd(const char *spec, char **ret);
/* A cleaned PATH below the hierarchy's root (no leading "/"): OWN (our own
 * cgroup there, as /proc/self/cgroup has it) joined with a relative PATH. */
int cgroup_path_resolve(const char *own, const char *path, char **ret);

/* Makes REL (resolved) below ROOT_FD and every directory above it that is
 * missing, marking those it made; with CPUSET each new one gets its parent's
 * cpus and mems. -EBUSY when REL is there with processes in it. An
 * O_DIRECTORY fd of REL in *RET_FD. */
int cgroup_path_make(int root_fd, const char *rel, bool cpuset, int *ret_fd);
/* Removes REL (and what is below it) if we made it, then each directory
 * above it that we made and that is empty now. */
int cgroup_path_remove(int root_fd, const char *rel);

/* Removes NAME below DIR_FD (AT_FDCWD: a path) and the cgroups below it,
 * deepest first. A cgroup goes offline a moment after its last process:
 * EBUSY is retried for up to a second. */
int cgroup_remove_tree_at(int dir_fd, const char *name);

/* A new v1 cpuset cgroup (CHILD_FD) has no CPUs and no memory nodes: nothing
 * can join it (ENOSPC) until it gets its parent's (PARENT_FD); copies them
 * where they are empty. */
int cgroup_cpuset_inherit(int parent_fd, int child_fd);
