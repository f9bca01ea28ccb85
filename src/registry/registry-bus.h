/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "registry.h"

#define MACHINE1_BUS_NAME "org.freedesktop.machine1"
#define MACHINE1_PATH "/org/freedesktop/machine1"
#define MACHINE1_MANAGER "org.freedesktop.machine1.Manager"
#define MACHINE1_MACHINE "org.freedesktop.machine1.Machine"
#define MACHINE1_MACHINE_PREFIX "/org/freedesktop/machine1/machine"

#define BUS_ERROR_NO_SUCH_MACHINE "org.freedesktop.machine1.NoSuchMachine"
#define BUS_ERROR_NO_SUCH_IMAGE "org.freedesktop.machine1.NoSuchImage"
#define BUS_ERROR_MACHINE_EXISTS "org.freedesktop.machine1.MachineExists"
#define BUS_ERROR_NO_MACHINE_FOR_PID "org.freedesktop.machine1.NoMachineForPID"

/* Puts the org.freedesktop.machine1 API of the registry on BUS. */
int registry_bus_register(sd_bus *bus, Registry *r);
void registry_bus_emit_removed(sd_bus *bus, RegMachine *m);
