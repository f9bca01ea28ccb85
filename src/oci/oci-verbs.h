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

struct OciState;
/* ROOT/ID, locked, and its state; logs "container ID does not exist". */
int oci_container_open(const char *verb, const char *id, int *ret_fd, struct OciState *ret);
