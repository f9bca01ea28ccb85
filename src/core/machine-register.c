/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "machine-register.h"
#include "registry-client.h"

static int give_up(MachineRegistration *reg, const Settings *s, const char *why, char **ret_warning) {
        reg->given_up = true;
        return error_set(ret_warning, 0,
                         "no machine registry on the system bus (%s): machine %s will not be listed; start boxd, or pass --register=no",
                         why, s->machine_name);
}

/* The connection may have died since the last call (the dbus-daemon was
 * restarted while the machine ran): such a call fails at once, and a new
 * connection reaches the registry on the new bus. */
static bool bus_lost(sd_bus *bus, int r) {
        return sd_bus_is_open(bus) <= 0 || r == -ENOTCONN || r == -ECONNRESET || r == -EPIPE;
}

static int registration_reopen(MachineRegistration *reg) {
        reg->bus = sd_bus_flush_close_unref(reg->bus);
        return sd_bus_open_system(&reg->bus);
}

int machine_registration_add(MachineRegistration *reg, const Settings *s, const Machine *m, pid_t leader,
                             char **ret_warning, char **ret_error) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        if (s->register_mode == REGISTER_NO || reg->given_up)
                return 0;
        if (!reg->bus) {
                r = sd_bus_open_system(&reg->bus);
                if (r < 0) {
                        if (s->register_mode == REGISTER_AUTO)
                                return give_up(reg, s, strerror(-r), ret_warning);
                        return error_set(ret_error, r, "cannot connect to the system bus to register machine %s",
                                         s->machine_name);
                }
        }
        for (unsigned attempt = 0;; attempt++) {
                r = registry_client_register(reg->bus, s->machine_name, &m->id, s->register_service ?: "boxctl", leader, s->root,
                                             m->host_ifindex > 0 ? &m->host_ifindex : NULL,
                                             m->host_ifindex > 0 ? 1 : 0, &error);
                if (r >= 0 || attempt > 0 || !bus_lost(reg->bus, r))
                        break;
                log_debug("The system bus connection is gone (%s); connecting again.", strerror(-r));
                sd_bus_error_free(&error);
                r = registration_reopen(reg);
                if (r < 0) {
                        if (s->register_mode == REGISTER_AUTO)
                                return give_up(reg, s, strerror(-r), ret_warning);
                        return error_set(ret_error, r, "cannot connect to the system bus to register machine %s",
                                         s->machine_name);
                }
        }
        if (r < 0) {
                /* auto: a registry that is absent, or hangs, must not keep the machine from starting. */
                if (s->register_mode == REGISTER_AUTO &&
                    (registry_error_is_absent(&error) ||
                     sd_bus_error_has_names(&error, SD_BUS_ERROR_TIMEOUT, SD_BUS_ERROR_NO_REPLY)))
                        return give_up(reg, s, error.name, ret_warning);
                return error_set(ret_error, r, "cannot register machine %s%s%s", s->machine_name,
                                 error.message ? ": " : "", strempty(error.message));
        }
        reg->registered = true;
        return 0;
}

void machine_registration_remove(MachineRegistration *reg, const char *machine_name) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        if (!reg->registered)
                return;
        /* The registry may have dropped it already, having seen the leader die. */
        r = registry_client_unregister(reg->bus, machine_name, &error);
        if (r < 0 && bus_lost(reg->bus, r) && registration_reopen(reg) >= 0) {
                sd_bus_error_free(&error);
                r = registry_client_unregister(reg->bus, machine_name, &error);
        }
        if (r < 0)
                log_debug("Unregistering %s: %s", machine_name, error.message ?: strerror(-r));
        reg->registered = false;
}

void machine_registration_done(MachineRegistration *reg) {
        reg->bus = sd_bus_flush_close_unref(reg->bus);
}
