/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* boxctl poweroff, reboot, terminate and kill: requests to the registry,
 * which passes them to the machine's init or to every process it has. */
#include <signal.h>
#include <stdio.h>

#include "log.h"
#include "registry-client.h"
#include "verb-machines.h"
#include "verbs.h"

static int kill_machine(sd_bus *bus, const char *verb, const char *name, const char *whom, int sig) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = registry_client_call(bus, "KillMachine", &error, NULL, "ssi", name, whom, sig);
        if (r < 0)
                return machines_log_bus_error(r, &error, verb, name);
        return 0;
}

int poweroff_one(sd_bus *bus, const char *name, const Args *a) {
        /* What systemd takes as a power-off request; boxd translates it for other inits. */
        return kill_machine(bus, "poweroff", name, "leader", SIGRTMIN + 4);
}

int reboot_one(sd_bus *bus, const char *name, const Args *a) {
        return kill_machine(bus, "reboot", name, "leader", SIGINT);
}

int kill_one(sd_bus *bus, const char *name, const Args *a) {
        return kill_machine(bus, "kill", name, kill_whom_to_string(a->kill_whom), a->signal);
}

int terminate_one(sd_bus *bus, const char *name, const Args *a) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = registry_client_call(bus, "TerminateMachine", &error, NULL, "s", name);
        if (r < 0)
                return machines_log_bus_error(r, &error, "terminate", name);
        return 0;
}
