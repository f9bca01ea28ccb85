/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "machine.h"
#include "settings.h"

/* One machine from its settings to its end: the start path that "boot" and
 * "run" in the foreground, a background "start", and later boxd and the OCI
 * runtime share. It decides everything about the start (the root's backend,
 * the machine's name and id, the UID range and how files get their owners,
 * the cgroup and its device policy, registration); the caller only parses
 * options and prints what it is told.
 *
 *   machine_prepare()  root, locks, UID range, cgroup, mount points
 *   machine_boot()     starts it, waits for its end, boots it again on a
 *                      reboot; registered while it runs
 *   machine_release()  undoes what prepare made
 *
 * Errors come back as -errno with *ret_error saying what failed, on which
 * object and why, in one line; nothing here prints above debug. */

typedef enum MachineNotice {
        MACHINE_NOTICE_BOOTING,   /* text: "Booting machine N from P (init: I)." */
        MACHINE_NOTICE_REBOOTING, /* text: why it starts again, or does not */
        MACHINE_NOTICE_ENDED,     /* text: how it ended */
        MACHINE_NOTICE_KILLED,    /* text: it was killed from its console (Ctrl-] x3) */
        MACHINE_NOTICE_ERROR,     /* text: it did not end as asked (killed after the timeout) */
        MACHINE_NOTICE_WARNING,   /* text: something the user should know; it goes on */
        MACHINE_NOTICE_PROGRESS,  /* text: a step of long work ("Shifting the owners ...") */
        _MACHINE_NOTICE_MAX,
        _MACHINE_NOTICE_INVALID = -EINVAL,
} MachineNotice;

typedef struct MachineHooks {
        /* What happens, in words, for a caller that shows it. May be NULL. */
        void (*notice)(MachineNotice kind, const char *text, void *userdata);
        /* A running count of files during a chown shift. May be NULL. */
        void (*shift_progress)(uint64_t n_files, bool done, void *userdata);
        /* The leader exists and is registered (when it is): a background
         * start can report success here. May be NULL. */
        void (*started)(pid_t leader, void *userdata);
        /* Raw terminal mode around each run of an interactive console. */
        void (*console_begin)(void *userdata);
        void (*console_end)(void *userdata);
        void *userdata;
        /* The OCI runtime's: see Machine's fields of these names (machine.h);
         * they get USERDATA. payload_keep_fd and payload_keep_fd2 count only with wait_start. */
        int (*payload_before_pivot)(const Machine *m, void *userdata, char *error, size_t size);
        int (*payload_before_exec)(const Machine *m, void *userdata, char *error, size_t size);
        int (*payload_wait_start)(const Machine *m, void *userdata, int *ret_exec_fd);
        int payload_keep_fd;
        unsigned payload_pass_fds;
        int payload_keep_fd2;
        /* The leader's namespaces exist (its user namespace mapped, its
         * network made), and it has not made its mounts yet: the OCI
         * runtime's prestart and createRuntime hooks. An error stops the
         * machine; *ret_error says why. May be NULL. */
        int (*namespaces_ready)(pid_t leader, void *userdata, char **ret_error);
} MachineHooks;

typedef struct MachineInstance MachineInstance;

/* S is filled in where the caller left it empty (the machine's name, from
 * the root's). */
int machine_prepare(Settings *s, const MachineHooks *hooks, MachineInstance **ret, char **ret_error);
/* Returns the status boxctl exits with (0: powered off), or -errno. */
int machine_boot(MachineInstance *mi, char **ret_error);
MachineInstance *machine_release(MachineInstance *mi);
DEFINE_TRIVIAL_CLEANUP_FUNC(MachineInstance *, machine_release)

/* The OCI runtime's create: runs the machine (prepared with the hooks'
 * payload_wait_start) as far as its init, which waits there for its start,
 * and registers it as the settings say (from a child of ours: the machine
 * outlives this process). *ret_master: the console's pty master, or -EBADF. */
int machine_create(MachineInstance *mi, pid_t *ret_leader, int *ret_master, char **ret_error);
/* Frees MI and leaves the created machine as it is: its cgroups and the mount
 * points made in its tree (*ret_mount_points, for whoever removes it later:
 * mount_points_cleanup(); stale_machine_remove() for the rest). Its locks
 * are released. */
MachineInstance *machine_forget(MachineInstance *mi, char ***ret_mount_points);
/* The machine's cgroups, as /proc/PID/cgroup lines ("0::/PATH" for cgroup2,
 * "CONTROLLERS:/PATH" for each v1 hierarchy): for stale_cgroups_remove()
 * once it has gone, when they are at a place Settings.cgroup_path named. */
int machine_cgroup_paths(const MachineInstance *mi, char ***ret);

/* --bind and --tmpfs destinations that the machine mounts itself. */
int settings_verify(const Settings *s, char **ret_error);

/* The name of a machine whose root is ROOT when none is given: the tree's
 * directory name, or the image file's less its suffix (".raw", ...). */
char *machine_name_default(const char *root);
