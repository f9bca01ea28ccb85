/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "macro.h"

/* A machine's place in the host's cgroup v1 hierarchies, beside its cgroup2
 * scope: <hierarchy>/machine.slice/machine-NAME.scope in each one.
 *
 * Why: a cgroup namespace's root is the creator's cgroup in every hierarchy,
 * v1 ones too. Left at a v1 hierarchy's root, a machine without a user
 * namespace could mount that hierarchy and write its release_agent, which the
 * kernel runs as the host's root (CVE-2022-0492: the kernel only refuses it
 * in a cgroup namespace owned by another user namespace). Below the root the
 * file is not there. The hierarchies are mounted detached (fsopen), so this
 * works whether or not they are mounted in our namespace. A host without v1
 * hierarchies has nothing to do. */

typedef struct CgroupV1 CgroupV1;

/* Makes the machine's cgroup in every v1 hierarchy this process is in. */
/* One line of /proc/PID/cgroup, "ID:CONTROLLERS:PATH", split in place: true
 * for a v1 hierarchy's (ID 0 is cgroup2's), with *ret_controllers its
 * controllers ("cpu,cpuacct", "name=systemd") and *ret_path its path. */
bool cgroup_v1_line_split(char *line, char **ret_controllers, char **ret_path);

int cgroup_v1_machine_new(const char *machine_name, CgroupV1 **ret);
/* The same at CGROUP_PATH (cgroup-path.h) in each hierarchy instead of the
 * scope; NULL: as cgroup_v1_machine_new(). */
int cgroup_v1_machine_new_at(const char *machine_name, const char *cgroup_path, CgroupV1 **ret);
/* "CONTROLLERS:/PATH" for each hierarchy, to remove them later by
 * cgroup_v1_paths_remove() (what we made there, as cgroup_path_remove()). */
int cgroup_v1_machine_paths(const CgroupV1 *v, char ***ret);
int cgroup_v1_paths_remove(char *const *paths);
/* Moves PID (0: us) into the machine's v1 cgroups, or back to where we were. */
int cgroup_v1_enter(const CgroupV1 *v, pid_t pid);
int cgroup_v1_leave(const CgroupV1 *v, pid_t pid);
/* Moves us into LEADER's cgroups in every v1 hierarchy it is in (as the
 * host sees them): "boxctl shell" joins a machine's. */
int cgroup_v1_join(pid_t leader);
/* The machine's cgroup in the v1 hierarchy that has CONTROLLER ("memory",
 * "blkio"): an O_DIRECTORY fd that V keeps, and its path below the
 * hierarchy's root. -ENOENT when no hierarchy has it. */
int cgroup_v1_controller_dir(const CgroupV1 *v, const char *controller, int *ret_fd, const char **ret_path);
/* The v1 cgroups of a running machine: its LEADER's in every v1 hierarchy
 * that process is in (as the host sees them). Freeing leaves them alone. */
int cgroup_v1_machine_open(pid_t leader, CgroupV1 **ret);
/* Removes the machine's v1 cgroups (once they are empty; not those of
 * cgroup_v1_machine_open()) and frees. */
CgroupV1 *cgroup_v1_machine_free(CgroupV1 *v);
DEFINE_TRIVIAL_CLEANUP_FUNC(CgroupV1 *, cgroup_v1_machine_free)
/* Frees and leaves the machine's v1 cgroups as they are (a created OCI
 * container's: its delete removes them, as cgroup_v1_machine_remove()). */
CgroupV1 *cgroup_v1_machine_forget(CgroupV1 *v);

/* Removes machine NAME's v1 cgroups, and machine.slice where it was the last,
 * in every v1 hierarchy this process is in (mounted detached, as above): what
 * a SIGKILLed boxctl left. Its processes must be gone: a cgroup that still
 * holds one stays (-EBUSY). Nothing to do is 0. */
int cgroup_v1_machine_remove(const char *machine_name);
/* Calls KEEP for every machine with a cgroup in machine.slice of a v1
 * hierarchy; removes those it says false for, as cgroup_v1_machine_remove(). */
int cgroup_v1_sweep(bool (*keep)(const char *machine_name, void *userdata), void *userdata);
