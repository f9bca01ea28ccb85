/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "machine.h"
#include "oci-config.h"

/* What the container's init does for config.json in its own root, just
 * before it executes the process (the core's payload hooks, machine.h):
 * an mqueue elsewhere than /dev/mqueue, sysctl, maskedPaths, readonlyPaths, rootfsPropagation,
 * rlimits, oomScoreAdj, noNewPrivileges, seccomp, the user, the working
 * directory, a look for the executable; then it waits on exec.fifo for
 * "start". */
typedef struct OciPayload {
        const OciConfig *config;
        int fifo_fd; /* O_PATH of exec.fifo */
        /* The mount namespace the process is to end in (none listed: the
         * caller's; or the one its path names), or -EBADF: its own. */
        int mntns_fd;
        /* The state the hooks that run in the container get on stdin (pid 1:
         * the init's own PID, as runc gives them), made before the clone. */
        char *state_creating; /* createContainer's */
        char *state_created;  /* startContainer's */
        const struct OciState *state; /* for the runtime's hooks: the leader's PID is added */
} OciPayload;

/* What the init writes to exec.fifo once "start" opened it: OCI_FIFO_GO,
 * then nothing until the process is executed (the fifo's write end closes
 * then); or OCI_FIFO_FAILED and the reason, and it exits. */
#define OCI_FIFO_GO '0'
#define OCI_FIFO_FAILED 'E'

int oci_payload_before_pivot(const Machine *m, void *userdata, char *error, size_t size);
int oci_payload_before_exec(const Machine *m, void *userdata, char *error, size_t size);
int oci_payload_wait_start(const Machine *m, void *userdata, int *ret_exec_fd);
