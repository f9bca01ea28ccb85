/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "settings.h"

/* Each verb parses its own options from argv (argv[0] is the verb). */
typedef struct Verb {
        const char *name;
        int (*run)(int argc, char *argv[]);
        const char *summary;
} Verb;

int verb_boot(int argc, char *argv[]);
int verb_run(int argc, char *argv[]);
/* verb-boot.c: the options of boot, run and (BACKGROUND) start, into S.
 * 1: go on; 0: help was shown; < 0: an error, logged. */
int boot_parse_settings(StartMode mode, bool background, int argc, char *argv[], Settings *s);

/* A machine in the background: verb-start.c, verb-console.c; stop is in verb-control.c. */
int verb_start(int argc, char *argv[]);
int verb_console(int argc, char *argv[]);
int verb_stop(int argc, char *argv[]);

/* verb-enable.c: whether boxd starts a machine of the pool when it starts */
int verb_enable(int argc, char *argv[]);
int verb_disable(int argc, char *argv[]);

/* Machines the registry knows, over org.freedesktop.machine1; what these
 * share is in verb-machines.c. */
int verb_list(int argc, char *argv[]);      /* verb-machines.c; list_run() in verb-list.c */
int verb_list_main(int argc, char *argv[]); /* verb-list.c: --all, then verb_list() */
int verb_status(int argc, char *argv[]);    /* verb-status.c */
int verb_show(int argc, char *argv[]);      /* verb-show.c */
int verb_poweroff(int argc, char *argv[]);  /* verb-control.c, like the three below */
int verb_reboot(int argc, char *argv[]);
int verb_terminate(int argc, char *argv[]);
int verb_kill(int argc, char *argv[]);
/* verb-machines.c: the leader's PID of machine NAME, from the registry; logs a
 * line for VERB on failure. */
int machines_get_leader(const char *verb, const char *name, pid_t *ret);

/* verb-set-property.c: the resource limits of a running machine */
int verb_set_property(int argc, char *argv[]);

/* verb-top.c: the running machines' usage, refreshed (usage-top.h computes it) */
int verb_top(int argc, char *argv[]);

/* verb-shell.c: a command inside a running machine, or a login on a new pty
 * of its own, without D-Bus in it */
int verb_shell(int argc, char *argv[]);
int verb_login(int argc, char *argv[]);

/* verb-copy.c: files between the host and a running machine, and binds into it */
int verb_copy_to(int argc, char *argv[]);
int verb_copy_from(int argc, char *argv[]);
int verb_bind(int argc, char *argv[]);

/* verb-images.c: the image pool (src/core/pool/) */
int verb_list_images(int argc, char *argv[]);
int verb_image_status(int argc, char *argv[]);
int verb_clone(int argc, char *argv[]);
int verb_rename(int argc, char *argv[]);
int verb_remove(int argc, char *argv[]);
int verb_read_only(int argc, char *argv[]);
/* verb-image-exec.c: runs boxctl-image (image-main.c) for the verbs below */
int verb_image_helper(int argc, char *argv[]);

/* verb-transfer.c and verb-pull.c, in boxctl-image */
int verb_import_tar(int argc, char *argv[]);
int verb_export_tar(int argc, char *argv[]);
int verb_import_raw(int argc, char *argv[]);
int verb_export_raw(int argc, char *argv[]);
int verb_import_fs(int argc, char *argv[]);

/* verb-pull.c: pull-tar and pull-raw (src/core/pool/pool-pull.c) */
int verb_pull_tar(int argc, char *argv[]);
int verb_pull_raw(int argc, char *argv[]);
