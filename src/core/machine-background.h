/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "settings.h"

/* "boxctl start": a machine whose supervisor outlives the command (and the
 * terminal) that started it.
 *
 * Where systemd is PID 1 (systemd_unit_host()), the supervisor is the main
 * process of a transient unit, box-NAME.service, that systemd starts
 * (systemd-unit.h): "boxctl start --supervise=SOCKET START-ARGS...", this
 * binary again with the caller's START_ARGS (the arguments after "start"),
 * working directory and BOXCTL_* variables, so that it makes the same
 * Settings; its stdout and stderr go to the journal. Its report socket is a
 * file in a directory only root may enter. Without a system bus to reach
 * systemd on, and on other hosts, a child is forked instead: it makes a
 * session of its own (no controlling terminal), takes /dev/null as stdin
 * and, once the machine has a name, RUNTIME_DIR/logs/NAME.log as stdout and
 * stderr (removed when the machine ends); its socket is an abstract one, and
 * only the child's messages are taken.
 *
 * Either way the supervisor runs machine_prepare() + machine_boot() with the
 * console kept by itself (CONSOLE_BACKGROUND), and reports on its
 * $NOTIFY_SOCKET: X_BOXCTL_STATE=running once init executes (after
 * registration), READY=1 when the machine is ready, X_BOXCTL_ERROR=TEXT when
 * it fails.
 *
 * Returns 0 once S->start_wait is reached. When the wait fails (the machine
 * ended, or S->wait_timeout_usec passed) the machine is powered off, its
 * supervisor has cleaned up, and *ret_error says why in one line. */
int machine_background_start(Settings *s, char *const *start_args, char **ret_error);

/* The supervisor in this very process: what a unit's ExecStart runs
 * ("boxctl start --supervise[=SOCKET]"). It reports to REPORT_SOCKET when
 * given, else to $NOTIFY_SOCKET as systemd set it (box@.service is
 * Type=notify: READY=1 once the machine is ready). Returns the status to
 * exit with (0: powered off), or -errno before the machine was prepared. */
int machine_background_supervise(Settings *s, const char *report_socket);
