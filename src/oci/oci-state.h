/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <json-c/json.h>

#include "macro.h"

/* A container's state on disk: ROOT/ID/ holds state.json (what create made
 * and where), exec.fifo (there while it is created: its init waits to open it
 * for writing; start reads it, then removes it), and nothing else. The
 * directory is flocked by whoever changes the container. */

#define OCI_STATE_FILE "state.json"
#define OCI_EXEC_FIFO "exec.fifo"
#define OCI_SPEC_VERSION "1.0.2-dev"

typedef enum OciStatus {
        OCI_STATUS_CREATING,
        OCI_STATUS_CREATED,
        OCI_STATUS_RUNNING,
        OCI_STATUS_STOPPED,
        OCI_STATUS_PAUSED,  /* running (or created) with its scope frozen */
        _OCI_STATUS_MAX,
        _OCI_STATUS_INVALID = -EINVAL,
} OciStatus;

/* The notify socket (runc's): ROOT/ID/notify/notify.sock, bound at
 * /run/notify in the container; the caller's $NOTIFY_SOCKET saved beside. */
#define OCI_NOTIFY_DIR "notify"
#define OCI_NOTIFY_SOCKET "notify.sock"
#define OCI_NOTIFY_HOST "notify-host"

typedef struct OciState {
        char *id;
        pid_t pid;
        uint64_t pid_start;  /* its start time, so that a reused PID is not it */
        char *bundle;
        char *rootfs;
        char *created;       /* RFC 3339, UTC */
        char *annotations;   /* a JSON object's text, or NULL */
        char **mount_points; /* made in the rootfs by create, removed by delete */
        /* Its cgroups where linux.cgroupsPath put them (machine_cgroup_paths());
         * NULL: machine.slice/machine-ID.scope */
        char **cgroup_paths;
        bool terminal;
        bool boot;           /* a system container: the tree's init is PID 1 */
} OciState;

const char *oci_status_to_string(OciStatus s) _pure_;
OciStatus oci_status_from_string(const char *s) _pure_;

bool oci_id_is_valid(const char *id) _pure_;

void oci_state_done(OciState *s);

/* ROOT/ID, locked. CREATE: make it (-EEXIST when it exists); else -ENOENT when
 * there is no such container. */
int oci_state_dir_open(const char *root, const char *id, bool create, int *ret_fd);
/* Removes ROOT/ID and what is in it. */
int oci_state_dir_remove(const char *root, const char *id);

int oci_state_save(int dir_fd, const OciState *s);
/* -ENOENT: no state.json (a create that did not finish). */
int oci_state_load(int dir_fd, OciState *ret);
OciStatus oci_state_status(int dir_fd, const OciState *s);

/* The runtime spec's state, plus runc's rootfs, created and owner. */
json_object *oci_state_to_json(const OciState *s, OciStatus status);

struct Cgroup;
/* The container's cgroup2 scope, machine.slice/machine-ID.scope, or the cgroup its
 * linux.cgroupsPath named: freeing it leaves it alone. */
int oci_scope_open(const OciState *s, struct Cgroup **ret);
/* Its cgroup2 cgroup when linux.cgroupsPath named it (below the cgroup2 root), or NULL. */
const char *oci_state_cgroup(const OciState *s);

/* Whether PID is still the process STARTTIME says, and not a zombie. */
bool oci_pid_alive(pid_t pid, uint64_t starttime);
