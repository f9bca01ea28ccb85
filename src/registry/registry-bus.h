/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "registry.h"

/* Puts the org.freedesktop.machine1 API of the registry on BUS. */
int registry_bus_register(sd_bus *bus, Registry *r);
void registry_bus_emit_removed(sd_bus *bus, RegMachine *m);

/* 0 when the caller of MSG is root; else AccessDenied set in ERROR. */
int registry_check_root(sd_bus_message *m, sd_bus_error *error);
/* Replies to MSG with the os-release of the tree at ROOT_FD as a{ss}; WHAT
 * ("Machine NAME", "Image NAME") names it in the error when there is none. */
int registry_reply_os_release(sd_bus_message *msg, int root_fd, const char *what, sd_bus_error *error);
/* Answers MSG when the job process PID (machine_job_start()) ends, from what
 * it wrote to FD: an error reply with its text (ENOENT_ERROR, when not NULL,
 * is the bus error for -ENOENT), else an empty reply. boxd's loop goes on
 * meanwhile. On failure (< 0) PID is killed and reaped and FD closed. */
int registry_reply_at_job_end(Registry *reg, sd_bus_message *msg, pid_t pid, int fd, const char *enoent_error);
