/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

/* Machines as units of the host's systemd, over its D-Bus API
 * (org.freedesktop.systemd1), on a host whose PID 1 is systemd: "boxctl
 * start" runs the supervisor as a transient unit, "boxctl enable" links
 * box@NAME.service into machines.target.wants. Nothing here prints. */

/* The host runs systemd as PID 1 (what sd_booted() checks), and
 * $BOXCTL_SYSTEMD_UNITS is not "no". */
bool systemd_unit_host(void);

/* "box-NAME.service": the transient unit of a machine that "boxctl start"
 * started. (box@NAME.service is the template's, which machines.target
 * starts; a transient unit cannot take a name that a unit file provides.) */
int systemd_unit_transient_name(const char *machine_name, char **ret);
/* "box@NAME.service". */
int systemd_unit_template_name(const char *machine_name, char **ret);

typedef struct TransientUnit {
        const char *name;
        const char *description;
        char **argv;              /* ExecStart=; argv[0] is the binary's absolute path */
        char **environment;       /* Environment=, K=V */
        const char *working_directory;
        uint64_t timeout_stop_usec;
} TransientUnit;

/* Starts U (Type=exec, KillMode=mixed, in machine.slice, collected when it
 * ends, failed or not) and waits until systemd has run its ExecStart.
 * -EEXIST when a unit of that name is loaded already; other errors with
 * *ret_error saying why in one line (systemd's words). */
int systemd_unit_start_transient(sd_bus *bus, const TransientUnit *u, char **ret_error);

/* The unit's main process: 0 when it has none (it ended, or the unit is
 * gone). */
int systemd_unit_main_pid(sd_bus *bus, const char *unit, pid_t *ret);
/* Its ActiveState ("active", "inactive", ...), or "not-found". */
int systemd_unit_active_state(sd_bus *bus, const char *unit, char **ret);
/* Asks systemd to stop UNIT (job mode "replace"); does not wait. */
int systemd_unit_stop(sd_bus *bus, const char *unit);

/* "systemctl daemon-reload": systemd reads the unit files and their .wants
 * links again. Waits for it. */
int systemd_unit_daemon_reload(sd_bus *bus);

/* Where box@.service is: the first of systemd's system unit directories
 * (/etc/systemd/system, /run/systemd/system, /usr/local/lib/systemd/system,
 * /usr/lib/systemd/system, /lib/systemd/system) that holds it; FALLBACK
 * (where meson installs it) when none does. */
int systemd_unit_find_file(const char *unit_file, const char *fallback_dir, char **ret);
