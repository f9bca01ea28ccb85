/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "machine.h"
#include "settings.h"

/* A machine's entry in the registry (boxd, or systemd-machined), kept across
 * reboots of the machine: --register=auto|yes|no decided in one place. */
typedef struct MachineRegistration {
        sd_bus *bus;
        bool given_up; /* --register=auto and nobody answers: said once */
        bool registered;
} MachineRegistration;

#define MACHINE_REGISTRATION_NULL ((MachineRegistration) {})

/* Registers M's LEADER. With --register=auto, a registry that is absent or
 * does not answer is no error: *ret_warning says so, once. */
int machine_registration_add(MachineRegistration *reg, const Settings *s, const Machine *m, pid_t leader,
                             char **ret_warning, char **ret_error);
void machine_registration_remove(MachineRegistration *reg, const char *machine_name);
void machine_registration_done(MachineRegistration *reg);
