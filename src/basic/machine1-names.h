/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The names of the org.freedesktop.machine1 API, as systemd-machined has them:
 * boxd serves them (registry-bus.c), boxctl and the client side call them
 * (registry-client.c, the verbs). One place, so both sides agree. */

#define MACHINE1_BUS_NAME "org.freedesktop.machine1"
#define MACHINE1_PATH "/org/freedesktop/machine1"
#define MACHINE1_MANAGER "org.freedesktop.machine1.Manager"
#define MACHINE1_MACHINE "org.freedesktop.machine1.Machine"
/* A machine's object path is this prefix and its name, escaped with sd_bus_path_encode(). */
#define MACHINE1_MACHINE_PREFIX "/org/freedesktop/machine1/machine"
#define MACHINE1_IMAGE "org.freedesktop.machine1.Image"
/* An image's object path: this prefix and its name, escaped the same way. */
#define MACHINE1_IMAGE_PREFIX "/org/freedesktop/machine1/image"

#define BUS_ERROR_NO_SUCH_MACHINE "org.freedesktop.machine1.NoSuchMachine"
#define BUS_ERROR_NO_SUCH_IMAGE "org.freedesktop.machine1.NoSuchImage"
#define BUS_ERROR_MACHINE_EXISTS "org.freedesktop.machine1.MachineExists"
#define BUS_ERROR_NO_MACHINE_FOR_PID "org.freedesktop.machine1.NoMachineForPID"

/* Set in a process that must not ask boxd for host names through the NSS
 * module (src/nss/): boxd itself, which would wait on its own answer. */
#define BOXCTL_NSS_BYPASS_ENV "BOXCTL_NSS_BYPASS_BUS"
