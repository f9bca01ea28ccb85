/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/* Facts about a process, read from /proc. Both fail with -ESRCH when PID is gone. */

/* Field 22 of /proc/PID/stat: with the PID, it tells a reused PID apart. */
int pid_starttime(pid_t pid, uint64_t *ret);
/* PID's cgroup in the cgroup2 hierarchy ("0::" in /proc/PID/cgroup), relative
 * to its root; -ENODATA when it has none. */
int pid_cgroup2_path(pid_t pid, char **ret);
