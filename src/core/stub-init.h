/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "macro.h"

/* PID 1 of a "run" machine: starts ARGV, forwards the signals it gets to it,
 * reaps every orphan, and exits with its status (128+N when killed by signal N).
 * READY_FD is closed once the command has been forked, and so are fds 3 up
 * to 3 + PASS_FDS - 1 (the command's to keep). Never returns. */
_noreturn_ void stub_init_run(char **argv, char **envp, bool controlling_tty, int ready_fd, unsigned pass_fds);

/* ARGV in place of the stub, in its own session (on the terminal, when
 * CONTROLLING_TTY): a machine whose PID namespace is not its own (an OCI
 * config's that lists none, or joins one) has no PID 1 to be, and is its
 * command, as runc's containers are. Exits 127 when there is no such
 * command, 126 when it cannot be executed. Never returns. */
_noreturn_ void stub_init_exec(char **argv, char **envp, bool controlling_tty);
