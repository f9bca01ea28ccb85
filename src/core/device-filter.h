/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The device policy of a machine: a BPF_CGROUP_DEVICE program on its cgroup
 * that lets its processes create and open only the devices of its own /dev
 * (null, zero, full, random, urandom, tty, console, ptmx, its ptys) and
 * nothing else: no disk, no loop device, not /dev/mem. cgroup2's replacement
 * for the v1 devices controller; it applies on the hybrid layout too, since
 * every process is also in the cgroup2 hierarchy. */
/* With BOXCTL_DEBUG_BPF set in the environment, a program the kernel refuses
 * comes back with the verifier's log in *RET_ERROR (may be NULL); otherwise
 * *RET_ERROR is left alone. */
int device_filter_attach(int cgroup_fd, char **ret_error);
