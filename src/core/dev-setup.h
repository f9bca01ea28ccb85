/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A device node a machine gets in its /dev beyond the usual ones (an OCI
 * config's linux.devices). */
typedef struct DeviceNode {
        char *path;  /* absolute, below /dev, without "." or ".." components */
        char type;   /* 'c' (or 'u'), 'b', or 'p' (a FIFO) */
        uint32_t major, minor;
        mode_t mode; /* permission bits */
        uid_t uid;
        gid_t gid;
} DeviceNode;

/* A private /dev: a tmpfs with the basic nodes, its own devpts and /dev/shm. */
int dev_setup(int root_fd);

/* Allocates a pty on the machine's devpts, makes its peer /dev/console, and
 * returns the master, which the host side keeps. */
int dev_setup_console(int root_fd, int *ret_master);

/* Makes NODES (N of them) in the machine's /dev, replacing what is there: by
 * mknod() where we may, as runc, and where we may not (a user namespace) as
 * a bind mount of the host's node at the same path, which runc does too (its
 * owner and mode are then the host's). Run in the payload, before its root
 * is switched. *RET_FAILED: the one that failed. */
int dev_setup_nodes(int root_fd, const DeviceNode *nodes, size_t n, size_t *ret_failed);
