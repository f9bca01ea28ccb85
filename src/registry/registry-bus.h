/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "registry.h"

/* Puts the org.freedesktop.machine1 API of the registry on BUS. */
int registry_bus_register(sd_bus *bus, Registry *r);
void registry_bus_emit_removed(sd_bus *bus, RegMachine *m);
