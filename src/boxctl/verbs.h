/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Each verb parses its own options from argv (argv[0] is the verb). */
typedef struct Verb {
        const char *name;
        int (*run)(int argc, char *argv[]);
        const char *summary;
} Verb;

int verb_boot(int argc, char *argv[]);
int verb_run(int argc, char *argv[]);
