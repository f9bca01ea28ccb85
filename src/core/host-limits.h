/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* Host-wide limits that every machine draws on, found by measuring what caps
 * density (bench/density.sh, tests/integration/test-load.sh).
 *
 * The one hit first on a default host is fs.inotify.max_user_instances (128):
 * a Debian machine with systemd holds 8 inotify instances once up (5 in PID 1,
 * one each in logind, agetty and dbus-daemon), all charged to the host's UID
 * 0, even under -U (a user namespace's counts are charged to its owner as
 * well). The 17th machine then boots with failed .path units, and later ones
 * have PID 1 fail ("Failed to create inotify object: Too many open files")
 * and never become ready. */

/* Inotify instances a booted systemd machine holds (measured: Debian 12). */
#define HOST_LIMITS_INOTIFY_PER_SYSTEMD 8U

/* How many inotify instances the calling user may still create, counting up
 * to WANT: it makes that many and closes them again. Sets *ret_limit to
 * fs.inotify.max_user_instances (0 if unreadable). */
int host_limits_inotify_free(unsigned want, unsigned *ret_free, unsigned *ret_limit);

/* One line for the user when a machine that needs NEED instances finds only
 * FREE of LIMIT: which limit, and how to raise it. */
char *host_limits_inotify_message(const char *machine, unsigned need, unsigned free_count, unsigned limit);
