/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <sys/types.h>

#include "util.h"

/* The caller's side of org.freedesktop.machine1: boxd, or systemd-machined
 * where that runs. */

/* True when ERROR says nobody serves the registry on this bus. */
bool registry_error_is_absent(const sd_bus_error *error);

/* SERVICE: who runs the machine, as machinectl shows it ("boxctl", or the
 * engine that drove boxctl-oci: "podman", "containerd", "oci"). */
int registry_client_register(sd_bus *bus, const char *name, const Id128 *id, const char *service, pid_t leader,
                             const char *root_directory, const int *netif, size_t n_netif,
                             sd_bus_error *error);
int registry_client_unregister(sd_bus *bus, const char *name, sd_bus_error *error);

/* Calls a Manager method; prints nothing. */
int registry_client_call(sd_bus *bus, const char *method, sd_bus_error *error, sd_bus_message **reply,
                         const char *types, ...);
