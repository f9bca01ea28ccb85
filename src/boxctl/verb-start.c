/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* boxctl start: boot in the background (machine-background.h) and return
 * once the machine runs, or is ready; as quiet as machinectl start. */
#include <stdio.h>

#include "log.h"
#include "machine-background.h"
#include "machine-start.h"
#include "verbs.h"

int verb_start(int argc, char *argv[]) {
        _cleanup_(settings_done) Settings s = { .start_mode = START_BOOT };
        _cleanup_free_ char *error = NULL;
        int r;

        r = boot_parse_settings(START_BOOT, true, argc, argv, &s);
        if (r <= 0)
                return r < 0 ? 1 : 0;
        r = settings_verify(&s, &error);
        if (r >= 0)
                r = machine_background_start(&s, &error);
        if (r < 0) {
                log_error_errno(r, "%s", error ?: "cannot start the machine");
                return 1;
        }
        return 0;
}
