/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "process-util.h" /* pid_starttime(), pid_cgroup2_path(): callers of the registry use them too */
#include "util.h"

/* The registry's model: the machines boxd knows of, kept in memory, each also
 * as a small file under the state directory so that a restarted boxd can adopt
 * the machines still alive. The bus face lives in registry-bus.c. */

typedef enum MachineClass {
        MACHINE_CLASS_CONTAINER,
        MACHINE_CLASS_VM,
        _MACHINE_CLASS_MAX,
        _MACHINE_CLASS_INVALID = -EINVAL,
} MachineClass;

typedef struct Registry Registry;

typedef struct RegMachine {
        Registry *registry;
        char *name;
        Id128 id;
        char *service;
        MachineClass class;
        pid_t leader;
        uint64_t leader_starttime; /* /proc/PID/stat field 22: tells a reused PID apart */
        int leader_pidfd;
        sd_event_source *leader_watch;
        char *root_directory;
        char *unit;   /* the cgroup's last component, e.g. machine-deb.scope */
        char *cgroup; /* the machine's cgroup, relative to the cgroup2 root */
        int *netif;
        size_t n_netif;
        uint64_t timestamp_realtime, timestamp_monotonic;
        bool owns_cgroup; /* made by CreateMachine: removed with the machine */
        char *path;   /* the bus object path */
        /* Who registered it (boxctl's supervisor, which outlives a reboot's
         * leader); 0 when unknown. Its pidfd is -EBADF once it is known gone. */
        pid_t supervisor;
        uint64_t supervisor_starttime;
        int supervisor_pidfd;
        /* The leader was the supervisor's child: boxctl's are, and die with it
         * (PR_SET_PDEATHSIG). One that outlives its supervisor (the kernel
         * drops that setting when the child changes its credentials) is
         * killed when the supervisor goes. */
        bool supervises_leader;
        sd_event_source *supervisor_watch;
        /* Set when the leader died after its supervisor: what the supervisor
         * would have removed at exit is removed by the registry. */
        bool abandoned;
} RegMachine;

typedef enum KillWhom {
        KILL_LEADER,
        KILL_ALL,
        _KILL_WHOM_MAX,
        _KILL_WHOM_INVALID = -EINVAL,
} KillWhom;

typedef void (*RegistryRemovedHandler)(Registry *r, RegMachine *m, void *userdata);

struct Registry {
        sd_event *event;
        char *state_dir;
        RegMachine **machines; /* sorted by name */
        size_t n_machines;
        RegistryRemovedHandler on_leader_gone;
        void *userdata;
        /* Supervisors that outlived their machine's leader (rebooting it, or
         * tearing it down): if one dies before it is done, the registry
         * removes what it left. */
        struct SupervisorWatch *supervisor_watches;
};

typedef struct RegMachineParams {
        const char *name;
        Id128 id;
        const char *service;
        MachineClass class;
        pid_t leader;
        const char *root_directory;
        const int *netif;
        size_t n_netif;
        bool create_cgroup; /* CreateMachine: put the leader in a cgroup of its own */
        pid_t supervisor;   /* the caller, from the bus; 0: unknown */
} RegMachineParams;

int registry_new(sd_event *e, const char *state_dir, RegistryRemovedHandler on_leader_gone,
                 void *userdata, Registry **ret);
Registry *registry_free(Registry *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(Registry *, registry_free)

/* Errors: -EINVAL (bad field; *ret_what names it), -EEXIST (name taken),
 * -EADDRINUSE (leader already registered), -ESRCH (no such leader). */
int registry_add(Registry *r, const RegMachineParams *p, RegMachine **ret, const char **ret_what);
void registry_remove(Registry *r, RegMachine *m);
RegMachine *registry_find(Registry *r, const char *name);
RegMachine *registry_find_by_pid(Registry *r, pid_t pid);
RegMachine *registry_find_by_path(Registry *r, const char *path);

/* Reads the state directory: adopts machines whose leader lives, forgets the rest. */
int registry_load(Registry *r, size_t *ret_adopted, size_t *ret_dropped);

/* Sends SIG to the leader or to every process of the machine's cgroup. To the
 * leader, systemd's power-off and reboot requests (SIGRTMIN+4, SIGINT: what
 * machinectl sends) are translated into what the machine's init understands. */
int reg_machine_kill(RegMachine *m, KillWhom whom, int sig);
/* The machine's supervisor is known and has exited (a zombie counts). */
bool reg_machine_supervisor_gone(const RegMachine *m);

/* Kills every process of the machine now. */
int reg_machine_terminate(RegMachine *m);

const char *kill_whom_to_string(KillWhom k) _pure_;
KillWhom kill_whom_from_string(const char *s) _pure_;
const char *machine_class_to_string(MachineClass c) _pure_;
MachineClass machine_class_from_string(const char *s) _pure_;
