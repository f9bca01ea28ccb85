/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A private /dev: a tmpfs with the basic nodes, its own devpts and /dev/shm. */
int dev_setup(int root_fd);

/* Allocates a pty on the machine's devpts, makes its peer /dev/console, and
 * returns the master, which the host side keeps. */
int dev_setup_console(int root_fd, int *ret_master);
