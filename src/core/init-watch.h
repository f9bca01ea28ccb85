/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-event.h>
#include <sys/types.h>

#include "macro.h"

/* When is a machine whose init says nothing (busybox, sysvinit) ready? When
 * its init has started its first process and that process has exited: for
 * busybox init the ::sysinit: actions, for sysvinit the si::sysinit: script
 * (rcS), which each init waits for before it starts anything else. Both are
 * seen as kernel events, no polling: init's first fork on the proc connector,
 * that child's end on its pidfd. Start the watch before init executes: every
 * fork the leader makes from then on is init's. */
typedef struct InitWatch InitWatch;
typedef void (*InitWatchHandler)(InitWatch *w, void *userdata);

int init_watch_new(sd_event *e, pid_t leader, InitWatchHandler on_done, void *userdata, InitWatch **ret);
InitWatch *init_watch_free(InitWatch *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(InitWatch *, init_watch_free)
