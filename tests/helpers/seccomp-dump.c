/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* seccomp-dump PID: what the system call filters of process PID answer to
 * each system call that libseccomp knows on x86-64, called with zero
 * arguments, one "NAME ACTION" line each (ACTION: ALLOW, EPERM, ENOSYS, ...).
 * Reads the filters with PTRACE_SECCOMP_GET_FILTER (the process is stopped
 * for a moment), evaluates them here: used to compare boxctl's filter with
 * systemd-nspawn's as the kernel holds them, not as either tool says. */
#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "bpf-eval.h"

#define MAX_FILTERS 32

static const char *action_name(uint32_t r, char *buf, size_t size) {
        switch (r & SECCOMP_RET_ACTION_FULL) {
        case SECCOMP_RET_ALLOW:
                return "ALLOW";
        case SECCOMP_RET_ERRNO:
                switch (r & SECCOMP_RET_DATA) {
                case EPERM: return "EPERM";
                case ENOSYS: return "ENOSYS";
                case EACCES: return "EACCES";
                case EAFNOSUPPORT: return "EAFNOSUPPORT";
                default: snprintf(buf, size, "ERRNO%u", r & SECCOMP_RET_DATA); return buf;
                }
        case SECCOMP_RET_KILL_PROCESS:
        case SECCOMP_RET_KILL_THREAD:
                return "KILL";
        case SECCOMP_RET_TRAP:
                return "TRAP";
        case SECCOMP_RET_LOG:
                return "LOG";
        default:
                snprintf(buf, size, "0x%08x", r);
                return buf;
        }
}

int main(int argc, char *argv[]) {
        struct sock_filter *progs[MAX_FILTERS];
        size_t lens[MAX_FILTERS], n = 0;
        pid_t pid;
        int status;

        if (argc != 2 || (pid = atoi(argv[1])) <= 0) {
                fprintf(stderr, "usage: seccomp-dump PID\n");
                return 2;
        }
        if (ptrace(PTRACE_SEIZE, pid, 0, 0) < 0 || ptrace(PTRACE_INTERRUPT, pid, 0, 0) < 0) {
                fprintf(stderr, "seccomp-dump: cannot trace %d: %m\n", pid);
                return 1;
        }
        if (waitpid(pid, &status, __WALL) < 0) {
                fprintf(stderr, "seccomp-dump: waitpid %d: %m\n", pid);
                return 1;
        }
        /* Index 0 is the newest filter; keep them in the order installed. */
        struct sock_filter *got[MAX_FILTERS];
        for (; n < MAX_FILTERS; n++) {
                long k = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *) n, NULL);

                if (k < 0)
                        break;
                got[n] = calloc(k, sizeof(struct sock_filter));
                if (!got[n] || ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *) n, got[n]) != k) {
                        fprintf(stderr, "seccomp-dump: cannot read filter %zu of %d: %m\n", n, pid);
                        return 1;
                }
                lens[n] = (size_t) k;
        }
        int saved = errno;
        (void) ptrace(PTRACE_DETACH, pid, 0, 0);
        if (n == 0) {
                errno = saved;
                fprintf(stderr, "seccomp-dump: no filter on %d: %m\n", pid);
                return 1;
        }
        size_t lens_in_order[MAX_FILTERS];
        for (size_t i = 0; i < n; i++) {
                progs[i] = got[n - 1 - i];
                lens_in_order[i] = lens[n - 1 - i];
        }

        for (int nr = 0; nr < 1024; nr++) {
                char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr), buf[32];
                struct seccomp_data d = { .nr = nr, .arch = AUDIT_ARCH_X86_64 };

                if (!name)
                        continue;
                printf("%s %s\n", name,
                       action_name(bpf_eval_all((const struct sock_filter *const *) progs, lens_in_order, n, &d), buf,
                                   sizeof buf));
                free(name);
        }
        for (size_t i = 0; i < n; i++)
                free(got[i]);
        return 0;
}
