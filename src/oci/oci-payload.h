/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "machine.h"
#include "oci-config.h"

/* What the container's init does for config.json in its own root, just
 * before it executes the process (the core's payload hooks, machine.h):
 * late mounts, sysctl, maskedPaths, readonlyPaths, rootfsPropagation,
 * rlimits, oomScoreAdj, noNewPrivileges, seccomp, the user, the working
 * directory, a look for the executable; then it waits on exec.fifo for
 * "start". */
typedef struct OciPayload {
        const OciConfig *config;
        int fifo_fd; /* O_PATH of exec.fifo */
} OciPayload;

/* A mount the payload makes in the machine's root (a tmpfs in its /run or /dev), not the machine's start. */
bool oci_mount_is_late(const OciMount *mt) _pure_;

int oci_payload_before_exec(const Machine *m, void *userdata, char *error, size_t size);
int oci_payload_wait_start(const Machine *m, void *userdata);
