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

/* A backend places a machine's cgroup somewhere in the host's cgroup2 tree,
 * signals what runs in it and takes it away again. Today: plain cgroupfs; a
 * systemd scope (through systemd-machined's CreateMachine) can be added beside
 * it. boxctl and the registry both go through these. */
typedef struct CgroupOps {
        const char *name;
        int (*create)(Cgroup *cg);
        /* SIG to every process in the cgroup and below it: >= 0 when sent,
         * -errno when the cgroup cannot be read. */
        int (*kill)(Cgroup *cg, int sig);
        /* Kills what is left, waits up to TIMEOUT for it to empty, removes it,
         * and the shared slice when this was its last machine. */
        int (*destroy)(Cgroup *cg, uint64_t timeout_usec);
} CgroupOps;

struct Cgroup {
        const CgroupOps *ops;
        CgroupLayout layout;
        const char *mount; /* the cgroup2 mount point */
        char *path;        /* the machine's cgroup, absolute */
        char *unit;        /* machine-NAME.scope */
        int fd;            /* O_DIRECTORY of path, for CLONE_INTO_CGROUP; -EBADF from cgroup_machine_open() */
        bool owned;        /* removed when freed: made by cgroup_machine_new() and not disowned */
        char *named;       /* at a place named by the caller (cgroup-path.h), below the mount; NULL: the scope */
};

extern const CgroupOps cgroup_ops_cgroupfs;

/* Creates the machine's cgroup: -EBUSY when a live machine of that name has one. */
int cgroup_machine_new(const char *machine_name, Cgroup **ret);
/* The same at CGROUP_PATH (cgroup-path.h: cleaned; absolute, or relative to
 * our own cgroup) instead of the scope; NULL: as cgroup_machine_new(). */
int cgroup_machine_new_at(const char *machine_name, const char *cgroup_path, Cgroup **ret);
/* A cgroup made by cgroup_machine_new_at(), CGROUP relative to the cgroup2
 * root: destroying it removes what was made there, as cgroup_path_remove(). */
int cgroup_machine_open_named(const char *cgroup, Cgroup **ret);
/* The cgroup of a machine made earlier, CGROUP relative to the cgroup2 root (as
 * /proc/PID/cgroup has it). Freeing it leaves the cgroup alone. */
int cgroup_machine_open(const char *cgroup, Cgroup **ret);
/* The cgroup of running machine UNIT (machine-NAME.scope): the nearest one
 * named UNIT above or at LEADER's (systemd inside moves its init down to
 * init.scope); LEADER's own when UNIT is NULL. -ENOENT when no cgroup above
 * LEADER is named UNIT. Freeing it leaves the cgroup alone. */
int cgroup_machine_open_leader(pid_t leader, const char *unit, Cgroup **ret);
/* From now on someone else removes the cgroup: freeing CG leaves it alone. */
void cgroup_machine_disown(Cgroup *cg);
int cgroup_machine_kill(Cgroup *cg, int sig);
/* Empties and removes the cgroup now, whoever made it. */
int cgroup_machine_destroy(Cgroup *cg, uint64_t timeout_usec);
/* Removes the cgroup if it is owned (see cgroup_machine_destroy(), 10 s), then frees CG. */
Cgroup *cgroup_machine_free(Cgroup *cg);
DEFINE_TRIVIAL_CLEANUP_FUNC(Cgroup *, cgroup_machine_free)

/* Freezes (or thaws) every process in the machine's cgroup2 scope and below
 * it by cgroup.freeze (Linux 5.2; it works in the unified hierarchy of a
 * hybrid host too, needing no controller), and waits up to TIMEOUT until the
 * kernel says they all are. -EOPNOTSUPP: the kernel has no cgroup.freeze. A
 * fatal signal still reaches a frozen process. */
int cgroup_machine_freeze(const Cgroup *cg, bool freeze, uint64_t timeout_usec);
/* > 0 when the scope is frozen (asked to be), 0 when not, -ENOENT when it is gone. */
int cgroup_machine_is_frozen(const Cgroup *cg);

/* Kills every process in the subtree and waits up to TIMEOUT for it to empty. */
int cgroup_kill_and_wait(const char *path, uint64_t timeout_usec);
int cgroup_is_populated(const char *path);
/* Removes a cgroup and everything below it, deepest first. */
int cgroup_remove_tree(const char *path);

char *cgroup_unit_name(const char *machine_name);
/* The other way: machine-NAME.scope to NAME; -EINVAL when UNIT is no machine's. */
int cgroup_unit_to_machine_name(const char *unit, char **ret);

/* Hands a cgroup to UID:GID, so a machine's root in a user namespace can manage it. */
int cgroup_delegate(const char *path, uid_t uid, gid_t gid);
