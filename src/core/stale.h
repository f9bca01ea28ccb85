/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* What a machine leaves behind when its supervisor (a `boxctl boot`, a
 * background `boxctl start`) is SIGKILLed: its PID 1 dies with it
 * (PR_SET_PDEATHSIG), but its cgroup2 scope and v1 cgroups, its lock files and
 * its runtime files stay. boxd removes them as soon as it sees such a machine
 * end (stale_machine_remove()); without boxd, the next start of any machine
 * sweeps them (stale_sweep()). */

/* Removes what machine NAME left: its scope (CGROUP, relative to the cgroup2
 * root, as the registry has it: left alone unless it is NAME's scope under
 * machine.slice; NULL: that scope) and whatever still runs in it, its v1
 * cgroups, its runtime files, and the lock files nobody holds. Only for a
 * machine whose supervisor is gone. -EBUSY when a live process uses the scope
 * (a new machine of that name is starting): then nothing is touched. */
int stale_machine_remove(const char *machine_name, const char *cgroup);
/* The same for a machine whose cgroups were at a named place: PATHS as
 * machine_cgroup_paths() gave them; what was made there goes (cgroup-path.h). */
int stale_cgroups_remove(const char *machine_name, char *const *paths);

/* Removes, of every machine: a scope with no process in it that no live
 * process holds open and that is more than a few seconds old (a starting or
 * rebooting supervisor holds its scope open; the age covers the moment
 * between its mkdir and its open); v1 cgroups and runtime files of machines
 * without a scope; lock files nobody holds. The number of machines cleaned
 * up in *RET_REMOVED. */
int stale_sweep(size_t *ret_removed);
