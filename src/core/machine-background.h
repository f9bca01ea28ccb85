/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "settings.h"

/* "boxctl start": a machine whose supervisor outlives the command (and the
 * terminal) that started it.
 *
 * A child is forked; it makes a session of its own (no controlling
 * terminal), takes /dev/null as stdin and, once the machine has a name,
 * RUNTIME_DIR/logs/NAME.log as stdout and stderr (removed when the machine
 * ends), and runs machine_prepare() + machine_boot() with the console kept by
 * itself (CONSOLE_BACKGROUND). It reports on a $NOTIFY_SOCKET that the
 * parent made (an abstract datagram socket; only the child's messages are
 * taken): X_BOXCTL_STATE=running once init executes (after registration),
 * READY=1 when the machine is ready, X_BOXCTL_ERROR=TEXT when it fails.
 *
 * The parent returns 0 once S->start_wait is reached. When the wait fails
 * (the machine ended, or S->wait_timeout_usec passed) the machine is powered
 * off, its supervisor has cleaned up, and *ret_error says why in one line. */
int machine_background_start(Settings *s, char **ret_error);
