/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-event.h>

#include "settings.h"

/* Shovels bytes between our terminal and a machine's console pty. */
typedef struct PtyForward PtyForward;
typedef void (*PtyForwardEscapeHandler)(PtyForward *f, void *userdata);

/* MODE decides what is forwarded: interactive (both ways, stdin raw when it is a
 * terminal), read-only (the console's output only), passive (drained, shown
 * nowhere). Three Ctrl-] within a second call ON_ESCAPE. */
int pty_forward_new(sd_event *e, int master, ConsoleMode mode, PtyForwardEscapeHandler on_escape,
                    void *userdata, PtyForward **ret);
/* Writes out what the console still holds, restores the terminal, frees. */
PtyForward *pty_forward_free(PtyForward *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(PtyForward *, pty_forward_free)

/* Copies our terminal's window size to the console (on start and on SIGWINCH). */
void pty_forward_resize(PtyForward *f);

/* Puts our terminal in raw mode, and back. */
int terminal_raw_begin(void);
void terminal_raw_end(void);
