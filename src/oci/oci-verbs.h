/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* The global options, for every verb. */
typedef struct OciGlobals {
        const char *root; /* the state directory: /run/boxctl-oci */
        bool debug;
        bool systemd_cgroup;
} OciGlobals;

extern OciGlobals oci_globals;

/* Each verb: argv[0] is its name; returns the exit status. */
int verb_create(int argc, char *argv[]);
int verb_start(int argc, char *argv[]);
int verb_state(int argc, char *argv[]);
int verb_list(int argc, char *argv[]);
int verb_kill(int argc, char *argv[]);
int verb_delete(int argc, char *argv[]);
int verb_features(int argc, char *argv[]);
int verb_exec(int argc, char *argv[]);
int verb_ps(int argc, char *argv[]);
int verb_pause(int argc, char *argv[]);
int verb_resume(int argc, char *argv[]);

/* --preserve-fds=N: fds 3 up to 3 + N - 1 go to the process as they are.
 * Each must be open (an fd of ours could otherwise take a free number among
 * them and go in); logs why not. */
#define OCI_PRESERVE_FDS_MAX 4096U
int oci_parse_preserve_fds(const char *arg, unsigned *ret);

struct OciState;
/* ROOT/ID, locked, and its state; logs "container ID does not exist". */
int oci_container_open(const char *verb, const char *id, int *ret_fd, struct OciState *ret);
