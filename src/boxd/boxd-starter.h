/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-event.h>

#include "registry.h"

/* boxd's start of the enabled machines (enabled.h): for each one the registry
 * does not know, "BINARY start NAME --wait=registered", at most CONCURRENCY
 * at a time, each child watched from the event loop so the bus is served
 * meanwhile (a child registers its machine with this very boxd). A failed
 * start is one line in boxd's log: the child's last line of stderr. */
typedef struct Starter Starter;

/* wait: "ready" or "registered", what each "boxctl start" waits for (its --wait=). */
int starter_new(sd_event *e, Registry *reg, const char *binary, unsigned concurrency, const char *wait,
                Starter **ret);
Starter *starter_free(Starter *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Starter *, starter_free)

/* Queues the enabled machines not running and starts the first of them;
 * the rest follow as children end. The number queued, or < 0. */
int starter_start_enabled(Starter *s);

/* The default bound on concurrent starts, from the CPUs this process may use. */
unsigned starter_default_concurrency(void);
