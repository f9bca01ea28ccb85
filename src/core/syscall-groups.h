/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <string.h>

/* Named sets of system calls, as systemd names them ("@mount", "@clock"). */
typedef struct SyscallGroup {
        const char *name;    /* with its "@" */
        const char *help;    /* a few words for --system-call-filter=help */
        const char *members; /* NUL-separated, ended by an empty string; "@x" members are groups */
} SyscallGroup;

const SyscallGroup *syscall_group_table(size_t *ret_n);
const SyscallGroup *syscall_group_find(const char *name);

#define NULSTR_FOREACH(i, l) for (const char *i = (l); i && *i; i = strchr(i, 0) + 1)
