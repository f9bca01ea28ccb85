/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* boxctl console: this terminal on a background machine's console
 * (console-client.h). */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "console-client.h"
#include "log.h"
#include "verb-machines.h"
#include "verbs.h"

static void help(void) {
        printf("Usage: boxctl console NAME [OPTIONS...]\n\n"
               "Attach this terminal to the console of machine NAME, started with\n"
               "'boxctl start'. What it printed before (64 KiB) is shown first. Press\n"
               "Ctrl-] three times within 1s to detach; the machine runs on.\n\n"
               "     --read-only           Only show the console; any number may watch\n"
               "  -h --help                Show this help\n"
               "One terminal at a time may type on a console.\n");
}

static int parse_argv(int argc, char *argv[], bool *read_only, const char **ret_name) {
        static const struct option options[] = {
                { "read-only", no_argument, NULL, 'r' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;

        opterr = 0;
        optind = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case 'r':
                        *read_only = true;
                        break;
                default:
                        return log_error_errno(EINVAL, "unknown option '%s'; try 'boxctl console --help'", argv[optind - 1]);
                }
        return machines_one_name_arg(argc, argv, "boxctl console NAME [--read-only]", ret_name);
}

int verb_console(int argc, char *argv[]) {
        _cleanup_close_ int fd = -EBADF;
        const char *name = NULL;
        bool read_only = false;
        ConsoleEnd end;
        pid_t holder = 0;
        int r;

        r = parse_argv(argc, argv, &read_only, &name);
        if (r <= 0)
                return r < 0 ? 1 : 0;
        if (geteuid() != 0) {
                log_error("boxctl console needs root");
                return 1;
        }
        r = console_connect(name, read_only, &fd, &holder);
        if (r == -ENOENT) {
                log_error("machine %s: no console to attach to: no such machine, or it was not started with 'boxctl start'", name);
                return 1;
        }
        if (r == -EBUSY) {
                log_error("machine %s: console busy: PID %d has it read-write (add --read-only to watch)", name, (int) holder);
                return 1;
        }
        if (r < 0) {
                log_error_errno(r, "machine %s: cannot attach to its console: %m", name);
                return 1;
        }
        if (isatty(STDIN_FILENO))
                fprintf(stderr, "Attached to machine %s%s. Press Ctrl-] three times within 1s to detach.\r\n", name,
                        read_only ? " (read-only)" : "");
        r = console_attach(fd, read_only, &end);
        if (r < 0) {
                log_error_errno(r, "machine %s: console: %m", name);
                return 1;
        }
        if (end == CONSOLE_END_CLOSED)
                log_info("Machine %s: its console closed (it ended, or is rebooting).", name);
        else if (isatty(STDIN_FILENO))
                log_info("Detached from machine %s; it runs on.", name);
        return 0;
}
