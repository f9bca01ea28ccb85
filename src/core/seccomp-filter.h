/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* A machine's system call filter: an allow-list, as systemd-nspawn's.
 *
 * - The groups an OS needs are allowed; a few more only when the machine's
 *   bounding set keeps the capability they need (@clock with CAP_SYS_TIME,
 *   ptrace with CAP_SYS_PTRACE, ...).
 * - Every other call that libseccomp knows fails with EPERM; a call it does
 *   not know (newer than it) fails with ENOSYS, so that programs fall back.
 * - A second, small filter refuses by argument: TIOCSTI and TIOCLINUX on any
 *   terminal, and audit netlink sockets (EAFNOSUPPORT, as nspawn).
 * - Built by libseccomp for every ABI the CPU runs, compiled once and cached
 *   under the runtime directory, keyed by what decides it, so that a start
 *   only reads a few KiB and installs them.
 *
 * The user's changes (--system-call-filter=) are items "NAME", "@GROUP",
 * "~NAME", "~@GROUP": added to the defaults, or taken away ("~" wins). */

/* Appends the items of one --system-call-filter= value ("[~]NAME|@GROUP ...",
 * a leading "~" making the whole list a removal). An empty value clears
 * *items. -EINVAL with *ret_bad set to the first unknown name. */
int syscall_filter_parse(const char *value, char ***items, char **ret_bad);

/* The names the filter of a machine with bounding set CAPS and the user's
 * ITEMS allows: sorted, without duplicates, groups expanded. */
int syscall_filter_allowed(uint64_t caps, char *const *items, char ***ret);

/* One line of every group with its help, for --system-call-filter=help and
 * for error messages ("@aio @basic-io ..."). */
char *syscall_filter_group_list(void);

typedef struct SeccompProgram SeccompProgram;

/* The compiled filter for CAPS and ITEMS: from the cache when a valid entry
 * is there, else compiled and stored. CACHE_DIR NULL: the runtime
 * directory's "seccomp". A cache entry that is corrupt, or from another
 * libseccomp or another policy, is rebuilt, never loaded. */
int seccomp_program_get(const char *cache_dir, uint64_t caps, char *const *items, SeccompProgram **ret);
SeccompProgram *seccomp_program_free(SeccompProgram *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(SeccompProgram *, seccomp_program_free)

/* Whether the last seccomp_program_get() read the cache (for tests). */
bool seccomp_program_from_cache(const SeccompProgram *p) _pure_;
/* The path of P's cache entry (NULL when the cache could not be used). */
const char *seccomp_program_cache_path(const SeccompProgram *p) _pure_;
/* Instructions of program I (0: the allow-list, 1: the argument filter). */
const void *seccomp_program_insns(const SeccompProgram *p, size_t i, size_t *ret_n);

/* Installs P in this process (and what it execs). Needs CAP_SYS_ADMIN in the
 * process's user namespace: no_new_privs stays off, so that the machine's
 * setuid programs work. Allocates nothing: fine after fork(). */
int seccomp_program_install(const SeccompProgram *p);

struct sock_filter;
/* libseccomp's filter CTX (a scmp_filter_ctx) as BPF: *RET (malloc'd) and
 * its *RET_N instructions. -E2BIG: more than MAX_INSNS. */
int seccomp_ctx_export(void *ctx, size_t max_insns, struct sock_filter **ret, size_t *ret_n);

/* What a machine's user items were, for "boxctl shell" to enter with the same
 * filter: kept in the runtime directory while the machine runs. Saving no
 * items removes the record. A missing record loads as no items. */
int seccomp_machine_record_save(const char *machine_name, char *const *items);
int seccomp_machine_record_load(const char *machine_name, char ***ret_items);
void seccomp_machine_record_remove(const char *machine_name);
