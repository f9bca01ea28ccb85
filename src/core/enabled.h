/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* The enabled machines: those boxd starts whenever it starts ("boxctl
 * enable"). The set is a directory of empty files, CONFIG_DIR/enabled/NAME,
 * one per machine of the pool, so that adding or removing one is a single
 * atomic rename() or unlink() and a reader never sees half a list.
 *
 * CONFIG_DIR is $BOXCTL_CONFIG_DIR when set (tests point it at their
 * sandbox), else /etc/boxctl; the pool is $BOXCTL_POOL when set, else
 * /var/lib/machines, as for "boxctl start NAME". */

const char *enabled_config_dir(void);
const char *enabled_pool_dir(void);

/* The name of the pool's machine that ARG names: a NAME of the pool, or a
 * path to one (PATH's parent, resolved, is the pool). -EXDEV for a path
 * outside the pool, -ENOENT for a name the pool does not hold, -EINVAL for
 * what cannot be a machine's name. */
int enabled_resolve(const char *arg, char **ret_name);

/* 1 when NAME was added (removed), 0 when it was already (not) there. */
int enabled_add(const char *name);
int enabled_remove(const char *name);
bool enabled_contains(const char *name);

/* The enabled names, sorted, NULL-terminated (an empty list when none). */
int enabled_list(char ***ret);

/* Where a host with systemd as PID 1 keeps the same wish for box@NAME.service
 * (machines.target.wants), and whether this host runs systemd as PID 1
 * (systemd_unit_host()). */
int enabled_systemd_wants_path(const char *name, char **ret);
bool enabled_host_has_systemd(void);

/* Links box@NAME.service into machines.target.wants (ENABLE), or removes
 * that link, as "systemctl enable|disable box@NAME" would: 1 when it
 * changed, 0 when it was already so. The link points at box@.service in the
 * first of systemd's unit directories that holds it. *ret_link and
 * *ret_target (enable only), when given, say what it made or removed.
 * systemd sees the change after a daemon-reload (systemd-unit.h). */
int enabled_systemd_link(const char *name, bool enable, char **ret_link, char **ret_target);
