/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Files in and out of a running machine (copy-to, copy-from) and host
 * directories bound into it (bind, in machine-bind.c). Every path of the
 * machine's is resolved inside its root (openat2() with RESOLVE_IN_ROOT on
 * /proc/LEADER/root, which walks the machine's own mounts): a symlink the
 * machine planted never leads to the host's files.
 *
 * Each operation runs in a process of its own: it changes its file system
 * UID or its mount namespace, and boxd's event loop must not wait for a long
 * copy. That process says how it ended as errno plus text (log.h). */

typedef struct MachineCopy {
        const char *machine_name;
        pid_t leader;
        bool copy_from;          /* false: host to machine */
        const char *source;      /* absolute; the host's (copy-to) or the machine's (copy-from) */
        const char *destination; /* absolute; NULL or "": the same path as the source */
        bool replace;            /* an existing destination is replaced (whole, at once) */
} MachineCopy;

/* Starts the copy in a new process: *RET_PID ends when it is done, and
 * *RET_FD then reads how it went (machine_job_result()). The copy is made
 * under a hidden name beside the destination and renamed into place when
 * whole; if it fails, or its process is killed, nothing of it is left. */
int machine_copy_start(const MachineCopy *c, pid_t *ret_pid, int *ret_fd);

/* The same, waited for. */
int machine_copy(const MachineCopy *c, char **ret_error);

typedef struct MachineBind {
        const char *machine_name;
        pid_t leader;
        const char *source;      /* absolute host path: a directory or a file */
        const char *destination; /* absolute path in the machine; NULL or "": as SOURCE */
        bool read_only;
        bool mkdir;              /* make the destination (and its parents) when missing */
} MachineBind;

/* Mounts SOURCE of the host on DESTINATION in the running machine's mount
 * namespace, idmapped into its user namespace when it has one. Waited for. */
int machine_bind(const MachineBind *b, char **ret_error);

/* ---- what copy and bind share ---- */

/* A function that runs in a job's process: -errno with *RET_ERROR set, or 0. */
typedef int (*MachineJobFunc)(const void *userdata, char **ret_error);

int machine_job_start(MachineJobFunc f, const void *userdata, pid_t *ret_pid, int *ret_fd);
/* After the job's process ended, with STATUS as waitpid() reports it: how it
 * went. Closes FD. */
int machine_job_result(int fd, int status, char **ret_error);
/* Waits for PID, then machine_job_result(). */
int machine_job_wait(pid_t pid, int fd, char **ret_error);

/* A running machine, as a job reaches it: a pidfd of its leader, its root
 * (O_PATH, as /proc/LEADER/root), and its user namespace's UID shift (the
 * host UID its root is, and how many UIDs it maps; 0 and 0 in the host's). */
typedef struct MachineAccess {
        int pidfd;
        int root_fd;
        uint32_t uid_base, uid_count;
} MachineAccess;

#define MACHINE_ACCESS_NULL ((MachineAccess) { .pidfd = -EBADF, .root_fd = -EBADF })

/* -ESRCH with words when the machine is not running (stopping: its leader
 * already a zombie, or ended). */
int machine_access_open(const char *name, pid_t leader, MachineAccess *ret, char **ret_error);
void machine_access_done(MachineAccess *a);

/* The host UID the machine's root is, and how many UIDs its user namespace
 * maps; 0 and 0 for a machine in the host's user namespace. */
int machine_read_uid_shift(pid_t leader, uint32_t *ret_base, uint32_t *ret_count);

/* Creates files from here on as the machine's root (file system UID and GID
 * BASE), keeping the capabilities: an idmapped root takes no file from an
 * unmapped UID (EOVERFLOW). For a job's process only. */
int machine_become_root_fs(uint32_t base);

/* The directory PATH of the machine whose root is ROOT_FD, resolved inside
 * it and through no magic link; opened O_RDONLY. */
int machine_open_dir(int root_fd, const char *path, int *ret_fd);

/* PATH split into its directory and its last component, which is neither
 * "." nor ".."; -EINVAL for a path that is not absolute or is "/". */
int machine_path_split(const char *path, char **ret_dir, char **ret_base);
