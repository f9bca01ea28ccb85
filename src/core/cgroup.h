/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

typedef enum CgroupLayout {
        CGROUP_LAYOUT_UNIFIED, /* cgroup2 at /sys/fs/cgroup: most hosts today */
        CGROUP_LAYOUT_HYBRID,  /* v1 controllers, cgroup2 at /sys/fs/cgroup/unified */
        _CGROUP_LAYOUT_MAX,
        _CGROUP_LAYOUT_INVALID = -EINVAL,
} CgroupLayout;

const char *cgroup_layout_to_string(CgroupLayout l) _pure_;
CgroupLayout cgroup_layout_from_string(const char *s) _pure_;

/* -ENOMEDIUM when the host has no cgroup2 hierarchy at all (a v1-only host). */
int cgroup_layout_detect(CgroupLayout *ret_layout, const char **ret_mount);

typedef struct Cgroup Cgroup;

/* A backend places a machine's cgroup somewhere in the host's cgroup2 tree and
 * takes it away again. Today: plain cgroupfs; a systemd scope (through the
 * registry's CreateMachine) comes with the registry. */
typedef struct CgroupOps {
        const char *name;
        int (*create)(Cgroup *cg);
        int (*destroy)(Cgroup *cg);
} CgroupOps;

struct Cgroup {
        const CgroupOps *ops;
        CgroupLayout layout;
        const char *mount; /* the cgroup2 mount point */
        char *path;        /* the machine's cgroup, absolute */
        char *unit;        /* machine-NAME.scope */
        int fd;            /* O_DIRECTORY of path, for CLONE_INTO_CGROUP */
};

extern const CgroupOps cgroup_ops_cgroupfs;

/* Creates the machine's cgroup: -EBUSY when a live machine of that name has one. */
int cgroup_machine_new(const char *machine_name, Cgroup **ret);
/* Kills whatever is left in it, waits until it is empty and removes it. */
Cgroup *cgroup_machine_free(Cgroup *cg);
DEFINE_TRIVIAL_CLEANUP_FUNC(Cgroup *, cgroup_machine_free)

/* Kills every process in the subtree and waits up to TIMEOUT for it to empty. */
int cgroup_kill_and_wait(const char *path, uint64_t timeout_usec);
int cgroup_is_populated(const char *path);
/* Removes a cgroup and everything below it, deepest first. */
int cgroup_remove_tree(const char *path);

char *cgroup_unit_name(const char *machine_name);

/* Hands a cgroup to UID:GID, so a machine's root in a user namespace can manage it. */
int cgroup_delegate(const char *path, uid_t uid, gid_t gid);
