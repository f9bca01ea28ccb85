/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* boxctl start: boot in the background (machine-background.h) and return
 * once the machine runs, or is ready; as quiet as machinectl start.
 *
 * "boxctl start --supervise[=SOCKET] ARGS..." (first, and not in --help) is
 * what a unit runs: the supervisor itself, in the foreground, reporting to
 * SOCKET. */
#include <stdio.h>

#include "log.h"
#include "machine-background.h"
#include "machine-start.h"
#include "verbs.h"

int verb_start(int argc, char *argv[]) {
        _cleanup_(settings_done) Settings s = { .start_mode = START_BOOT };
        _cleanup_free_ char *error = NULL;
        const char *report = NULL;
        bool supervise = false;
        int r;

        if (argc > 1 && (streq(argv[1], "--supervise") || startswith(argv[1], "--supervise="))) {
                supervise = true;
                report = startswith(argv[1], "--supervise=");
                if (report && !path_is_absolute(report)) {
                        log_error("invalid --supervise '%s': expected the absolute path of a socket", report);
                        return 1;
                }
                /* The option goes; the verb stays where getopt looks for it. */
                argv[1] = argv[0];
                argc--;
                argv++;
        }
        r = boot_parse_settings(START_BOOT, true, argc, argv, &s);
        if (r <= 0)
                return r < 0 ? 1 : 0;
        r = settings_verify(&s, &error);
        if (r < 0) {
                log_error_errno(r, "%s", error);
                return 1;
        }
        if (supervise) {
                r = machine_background_supervise(&s, report);
                if (r < 0) {
                        log_error_errno(r, "cannot supervise machine %s: %m", s.machine_name ?: s.root);
                        return 1;
                }
                return r;
        }
        r = machine_background_start(&s, argv + 1, &error);
        if (r < 0) {
                log_error_errno(r, "%s", error ?: "cannot start the machine");
                return 1;
        }
        return 0;
}
