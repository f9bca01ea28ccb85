/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <json-c/json.h>

/* config.json's linux.seccomp, compiled by libseccomp into a BPF program
 * when the config is read (so that a bad profile fails the create with its
 * JSON path), and installed by the container's init just before the
 * process, on top of the machine's own filter (machine.c). The kernel runs
 * every installed filter and keeps the most severe answer: the config can
 * refuse more than the machine does, never allow what the machine's filter
 * (the engine's policy) refuses. runc installs the config's alone. */
typedef struct OciSeccomp {
        void *insns; /* struct sock_filter[] */
        size_t n_insns;
        unsigned flags; /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
} OciSeccomp;

void oci_seccomp_done(OciSeccomp *s);

/* OBJ is linux.seccomp. On error *ret_error names the JSON path. */
int oci_seccomp_compile(json_object *obj, OciSeccomp *ret, char **ret_error);

/* Needs CAP_SYS_ADMIN or no_new_privs. Allocates nothing. */
int oci_seccomp_install(const OciSeccomp *s);

/* The compiled program in the container's state directory (seccomp.bpf),
 * for exec: a process run in the container later gets the same filter. No
 * program: nothing is written, and load gives an empty one. */
int oci_seccomp_save(int dir_fd, const OciSeccomp *s);
int oci_seccomp_load(int dir_fd, OciSeccomp *ret);
