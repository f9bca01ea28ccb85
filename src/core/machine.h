/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "cgroup.h"
#include "init-kind.h"
#include "settings.h"
#include "tree.h"
#include "userns.h"

/* One machine's run: the payload process in its namespaces, its console, and
 * how it ended. The caller owns the tree, the lock and the cgroup, which
 * outlive a reboot. */

typedef enum MachineEnd {
        MACHINE_POWEROFF,      /* init exited 0 or powered off */
        MACHINE_REBOOT,        /* init asked for a reboot */
        MACHINE_EXITED,        /* init (or the run command) exited with a status */
        MACHINE_SIGNALED,      /* init was killed by a signal */
        MACHINE_KILL_TIMEOUT,  /* did not power off in time; we killed it */
        MACHINE_KILL_ESCAPE,   /* killed by Ctrl-] x3 */
        _MACHINE_END_MAX,
        _MACHINE_END_INVALID = -EINVAL,
} MachineEnd;

typedef struct MachineResult {
        MachineEnd end;
        int status; /* what boxctl exits with */
} MachineResult;

typedef struct Machine Machine;

struct Machine {
        const Settings *settings;
        const Tree *tree;
        Cgroup *cgroup;
        const struct CgroupV1 *cgroup_v1; /* the machine's v1 cgroups; NULL: none */
        const char *host_os_release;
        Id128 id;
        bool bind_machine_id; /* show id as /etc/machine-id over the tree's own */
        InitKind init_kind;
        const UidRange *uid_range; /* NULL: no user namespace */
        int image_root_fd;         /* an image's assembled detached tree, or -EBADF for a directory */
        const char *attach_path;   /* a directory the machine's root is mounted over in its namespace */
        int host_ifindex;          /* the host end of its veth, while it runs; 0: none */
        bool idmap_root;           /* the tree's mount is idmapped into the user namespace */

        /* Called once the leader exists, before it sets itself up (to register
         * it, say); an error stops the machine, *ret_error says why. And after
         * the leader has ended. */
        int (*on_leader)(Machine *m, pid_t leader, char **ret_error);
        void (*on_end)(Machine *m);
        void *userdata;

        /* The OCI runtime's create and start; NULL otherwise. Both run in the
         * payload, in the machine's root just before init is executed, with
         * every fd closed but stdio and payload_keep_fd. before_exec() may
         * fail the start, in its own words. With wait_start(), the payload
         * then closes the sync socket (machine_run_once() returns: the machine
         * is created, detached_leader and detached_master say what it is),
         * nothing of it dies with us any more, and it waits in wait_start()
         * for a start that comes from another process; *ret_exec_fd (-EBADF
         * if none) is an O_CLOEXEC fd kept open until the process is
         * executed, so that its other end sees when that happened.
         * before_pivot() runs earlier, in the payload's namespaces with the
         * machine's mounts made and the host's root still its root (the OCI
         * runtime's createContainer hooks); it may fail the start too. */
        int (*payload_before_pivot)(const Machine *m, void *userdata, char *error, size_t size);
        int (*payload_before_exec)(const Machine *m, void *userdata, char *error, size_t size);
        int (*payload_wait_start)(const Machine *m, void *userdata, int *ret_exec_fd);
        void *payload_userdata;
        int payload_keep_fd;
        /* Fds 3 up to 3 + payload_pass_fds - 1 of ours go to the process as
         * they are, without FD_CLOEXEC (runc's --preserve-fds); the stub
         * init keeps none of them. */
        unsigned payload_pass_fds;
        int payload_keep_fd2; /* another, for before_exec() (-EBADF: none) */
        pid_t detached_leader;
        int detached_master; /* the console's pty master, or -EBADF */
};

/* Starts the machine and waits until it ends. A failure to set it up comes
 * back as -errno with *ret_error naming what failed. */
int machine_run_once(Machine *m, MachineResult *ret, char **ret_error);

/* The host's side of the sync socket: reads the payload's reports until EOF.
 * 1 when it got as far as executing init (*ret_master: the console's pty
 * master it sent, or left alone); < 0 with *ret_error saying why when it
 * failed. Exposed for the fuzzer: the payload is on the far side of a
 * process boundary. */
int machine_wait_for_payload(int sock, int *ret_master, char **ret_error);

const char *machine_end_to_string(MachineEnd e) _pure_;
