/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>

#include "machine1-names.h"
#include "registry-client.h"

bool registry_error_is_absent(const sd_bus_error *error) {
        /* Nobody owns the name and it cannot be activated, or activation failed.
         * A registry that is there but does not answer is another matter. */
        return sd_bus_error_has_names(error, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER,
                                      "org.freedesktop.DBus.Error.Spawn.ChildExited",
                                      "org.freedesktop.DBus.Error.Spawn.ExecFailed",
                                      "org.freedesktop.DBus.Error.Spawn.Failed");
}

int registry_client_call(sd_bus *bus, const char *method, sd_bus_error *error, sd_bus_message **reply,
                         const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, MACHINE1_BUS_NAME, MACHINE1_PATH, MACHINE1_MANAGER, method);
        if (r < 0)
                return r;
        if (types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
                if (r < 0)
                        return r;
        }
        return sd_bus_call(bus, m, 0, error, reply);
}

int registry_client_register(sd_bus *bus, const char *name, const Id128 *id, const char *service, pid_t leader,
                             const char *root_directory, const int *netif, size_t n_netif,
                             sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        /* RegisterMachine, not CreateMachine: the caller has already put the
         * leader in a cgroup of its own, as systemd-nspawn --keep-unit does. */
        r = sd_bus_message_new_method_call(bus, &m, MACHINE1_BUS_NAME, MACHINE1_PATH, MACHINE1_MANAGER,
                                           "RegisterMachineWithNetwork");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", name);
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', id, sizeof(*id));
        if (r >= 0)
                r = sd_bus_message_append(m, "ssus", service, "container", (uint32_t) leader, root_directory);
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'i', netif, n_netif * sizeof(int));
        if (r < 0)
                return r;
        return sd_bus_call(bus, m, 0, error, NULL);
}

int registry_client_unregister(sd_bus *bus, const char *name, sd_bus_error *error) {
        return registry_client_call(bus, "UnregisterMachine", error, NULL, "s", name);
}
