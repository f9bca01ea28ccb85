/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The network guard: a small process that outlives a SIGKILLed boxctl just
 * long enough to remove what would otherwise stay behind, the bridge of a
 * zone whose last machine this was. A veth needs no guard: it dies with the
 * machine's network namespace, and its IPv4 lease with it.
 *
 * It waits (poll on a pidfd of boxctl and on a socket) for boxctl's death or
 * for "done". On "done" it exits at once, touching nothing: boxctl has torn
 * the network down itself. On death it waits for this machine's port to go
 * (the namespace is freed asynchronously after its last process), removes the
 * zone's bridge if no port is left, and exits; it gives up after 30 s, when
 * other machines still use the zone (their own teardown or guard removes it). */

#include <sys/types.h>

#include "network.h"

typedef struct NetworkGuard {
        pid_t pid; /* 0: no guard needed */
        int fd;
} NetworkGuard;

#define NETWORK_GUARD_NULL ((NetworkGuard) { .pid = 0, .fd = -EBADF })

/* Starts a guard for what REQ could leave behind; for anything but a zone none
 * is needed and *ret is NETWORK_GUARD_NULL. Start it before
 * network_setup_host(), so that nothing exists unguarded. */
int network_guard_start(const NetworkRequest *req, NetworkGuard *ret);

/* Tells the guard which port is this machine's, so that after boxctl's death
 * it stops waiting once that port is gone. */
int network_guard_watch(NetworkGuard *g, const NetworkLink *link);

/* The normal end, after network_teardown(): the guard exits without touching
 * anything and is reaped. Safe on NETWORK_GUARD_NULL and twice. */
int network_guard_done(NetworkGuard *g);
