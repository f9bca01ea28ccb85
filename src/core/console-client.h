/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* "boxctl console": this terminal attached to a background machine's console
 * (console-server.h), raw while attached, its window size passed on. Three
 * Ctrl-] within a second detach; the machine runs on. */

typedef enum ConsoleEnd {
        CONSOLE_END_DETACHED, /* Ctrl-] x3, or a signal to us */
        CONSOLE_END_CLOSED,   /* the supervisor closed it: the machine ended or rebooted */
} ConsoleEnd;

/* Connects to machine NAME's console. -ENOENT: no background machine of that
 * name; -EBUSY: another client holds it read-write (*ret_holder: its PID);
 * -EACCES: not root. */
int console_connect(const char *machine_name, bool read_only, int *ret_fd, pid_t *ret_holder);
/* Shows the console on stdout (and sends stdin to it unless READ_ONLY) until
 * a detach or the end. */
int console_attach(int fd, bool read_only, ConsoleEnd *ret_end);

/* The PID of machine NAME's supervisor (the console socket's owner), and a
 * pidfd of it. -ENOENT: no background machine of that name. */
int console_supervisor(const char *machine_name, pid_t *ret_pid, int *ret_pidfd);
