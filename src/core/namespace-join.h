/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* A machine that joins namespaces someone else made (an OCI bundle's
 * linux.namespaces[].path) instead of making its own: the network, IPC, UTS,
 * PID, cgroup and time namespaces, joined by the process that clones the
 * machine's init just before the clone (setns(2) of those changes nothing
 * else of ours: a PID namespace only what our children get), and left again
 * right after. Not mount and user namespaces: see oci-config.c. */

typedef struct NamespaceJoin {
        int type;   /* CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWPID, CLONE_NEWCGROUP or CLONE_NEWTIME */
        char *path; /* /proc/PID/ns/net, a bind mount of one, ... */
} NamespaceJoin;

/* The kernel's name of a namespace type ("net", "ipc", "uts", "pid",
 * "mnt", "user", "cgroup", "time"), or NULL. */
const char *namespace_type_to_string(int type);
/* Whether the type can be joined by namespace_join_enter(). */
int namespace_type_joinable(int type);

/* Opens PATH: -ENOTTY when it is no namespace, -EMEDIUMTYPE when it is one of
 * another type than TYPE (*ret_type says which, when not NULL). */
int namespace_open(const char *path, int type, int *ret_fd, int *ret_type);

typedef struct NamespaceSaved {
        int fd[6];   /* ours, to go back to */
        int type[6];
        size_t n;
} NamespaceSaved;

/* Joins each of J (N of them), keeping ours in SAVED; on failure, back in
 * ours. Then namespace_join_leave() after the clone. */
int namespace_join_enter(const NamespaceJoin *j, size_t n, NamespaceSaved *saved);
/* Back in our own namespaces. */
int namespace_join_leave(NamespaceSaved *saved);
