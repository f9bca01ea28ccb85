/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A command entered into a machine (enter.h), attached to our terminal until
 * it ends: with a pty of the machine's, forwarded to ours (raw, window size,
 * ^]^]^] to leave); without one, a terminal among our stdio reaches the
 * command only as a pipe that we copy (so the machine never holds our
 * terminal: no TIOCSTI, no reading our user's later keystrokes). SIGTERM,
 * SIGINT, SIGHUP and SIGQUIT that we get go to the command. Used by
 * "boxctl shell"/"login" and by "boxctl-oci exec --tty" without a console
 * socket. */

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "enter.h"

typedef struct PtyForward PtyForward;

typedef struct EnterRelay {
        int ours;   /* our fd: 0, 1 or 2, a terminal */
        int pipe;   /* our end of the pipe; -EBADF once closed */
        sd_event_source *source;
} EnterRelay;

typedef struct EnterSession {
        sd_event *event;
        PtyForward *forward;
        EnterProcess proc;
        EnterRelay relays[3];
        int command_ends[3]; /* the pipes' ends that are the command's, until it has them */
        int status;          /* the command's exit status (128+N for signal N) */
        bool escaped;        /* the user left with ^]^]^] (the command was killed) */
} EnterSession;

#define ENTER_SESSION_INIT                                                                                  \
        (EnterSession) {                                                                                    \
                .proc = { .master = -EBADF, .child_pidfd = -EBADF },                                       \
                .relays = { { .ours = 0, .pipe = -EBADF }, { .ours = 1, .pipe = -EBADF }, { .ours = 2, .pipe = -EBADF } }, \
                .command_ends = { -EBADF, -EBADF, -EBADF },                                                 \
        }

/* Before machine_enter(REQ, &S->proc, ...): blocks the signals the session
 * takes, and without REQ->pty sets REQ->stdio to our fds, or to pipes for
 * those that are terminals. */
int enter_session_prepare(EnterSession *s, EnterRequest *req);
/* After machine_enter() (whether it worked or not): the command's pipe ends
 * are the command's now, not ours. */
void enter_session_entered(EnterSession *s);
/* Relays until the command ends; S->status is then its exit status. */
int enter_session_run(EnterSession *s);
/* Sends SIG to the command, if it still runs. */
void enter_session_signal(EnterSession *s, int sig);
/* Frees everything; the command, if it still runs, is left alone. */
void enter_session_done(EnterSession *s);
