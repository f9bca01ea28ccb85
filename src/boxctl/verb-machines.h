/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the verbs about running machines share (verb-machines.c): their
 * command line, the bus calls they all make, and what they learn about one
 * machine. Each group of verbs has a file of its own: verb-list.c (list),
 * verb-status.c (status), verb-show.c (show) and verb-control.c (poweroff,
 * reboot, terminate, kill). */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "registry.h"
#include "util.h"

/* Returned by machines_log_bus_error() when nobody serves the registry: no use
 * going on with the next machine. */
#define ERRNO_NO_REGISTRY EHOSTDOWN

/* The command line of one verb. */
typedef struct Args {
        bool help, no_legend, json, value, full, quiet;
        char **properties; /* show -p */
        int signal;        /* kill -s */
        KillWhom kill_whom;
        char **names; /* points into argv */
} Args;

/* What each verb does, once its command line is parsed and the bus connected;
 * the table of the verbs, with their options and help, is in verb-machines.c. */
int list_run(sd_bus *bus, const Args *a);                      /* verb-list.c */
int status_one(sd_bus *bus, const char *name, const Args *a);   /* verb-status.c */
int show_one(sd_bus *bus, const char *name, const Args *a);     /* verb-show.c */
int show_registry(sd_bus *bus, const Args *a);
int poweroff_one(sd_bus *bus, const char *name, const Args *a); /* verb-control.c */
int reboot_one(sd_bus *bus, const char *name, const Args *a);
int terminate_one(sd_bus *bus, const char *name, const Args *a);
int kill_one(sd_bus *bus, const char *name, const Args *a);

/* One line for a call that failed, naming what was asked ("poweroff foo") and why. */
int machines_log_bus_error(int r, const sd_bus_error *e, const char *verb, const char *name);
int machine_get_path(sd_bus *bus, const char *name, sd_bus_error *error, char **ret);
int machines_get_all_properties(sd_bus *bus, const char *path, const char *interface, sd_bus_error *error,
                                sd_bus_message **reply);

typedef int (*PropertyFunc)(sd_bus_message *m, const char *key, const char *type, void *userdata);
/* Calls F for each entry of a GetAll reply, F positioned inside the variant:
 * it must read the value or skip it. */
int machines_for_each_property(sd_bus_message *reply, PropertyFunc f, void *userdata);

/* What we learn about one machine. */
typedef struct MachineInfo {
        char *name, *class, *service, *unit, *root, *path;
        char *os_id, *os_version, *os_pretty;
        char **addresses;
        Id128 id;
        uint32_t leader;
        uint64_t timestamp;
} MachineInfo;

void machine_info_done(MachineInfo *mi);
int machine_info_fetch_properties(sd_bus *bus, MachineInfo *mi, sd_bus_error *error);
/* ID, VERSION_ID and PRETTY_NAME. Fails e.g. for a machine without os-release. */
int machine_info_fetch_os_release(sd_bus *bus, MachineInfo *mi);
/* Fails with NotSupported when the machine shares the host's network. */
int machine_info_fetch_addresses(sd_bus *bus, MachineInfo *mi);

/* The one machine name left after a verb's options, at argv[optind]; USAGE
 * completes the "usage: " of the error when there is none or more than one. */
int machines_one_name_arg(int argc, char *argv[], const char *usage, const char **ret_name);

/* Replaces *DST with a copy of S. */
int machines_set_string(char **dst, const char *s);
/* A wall-clock time, as systemctl shows one. */
void machines_format_timestamp(uint64_t usec, char *buf, size_t n);
