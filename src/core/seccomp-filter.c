/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <seccomp.h>

#include "macro.h"
#include "seccomp-filter.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(scmp_filter_ctx, seccomp_release)

/* Each one, with the capability a machine keeps that would otherwise allow it. */
static const char *const blocked[] = {
        "open_by_handle_at", /* CAP_DAC_READ_SEARCH: opens any inode of a mounted file system by handle */
        "kexec_load",        /* the rest need capabilities the bounding set drops; */
        "kexec_file_load",   /* refused here too, as systemd-nspawn does, so that */
        "init_module",       /* --capability=all does not open them */
        "finit_module",
        "delete_module",
        "swapon",
        "swapoff",
        "iopl",
        "ioperm",
        "acct",
};

int seccomp_apply_machine_filter(void) {
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        int r;

        ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx)
                return -ENOMEM;
        /* The other ABIs this CPU runs (i386 and x32 on x86-64): a 32-bit
         * system call must not slip past a 64-bit filter. */
#if defined(__x86_64__)
        (void) seccomp_arch_add(ctx, SCMP_ARCH_X86);
        (void) seccomp_arch_add(ctx, SCMP_ARCH_X32);
#elif defined(__aarch64__)
        (void) seccomp_arch_add(ctx, SCMP_ARCH_ARM);
#endif
        for (size_t i = 0; i < ELEMENTSOF(blocked); i++) {
                int nr = seccomp_syscall_resolve_name(blocked[i]);

                if (nr == __NR_SCMP_ERROR)
                        continue; /* not on this architecture */
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
                if (r < 0 && r != -EDOM) /* -EDOM: not on one of the added ABIs */
                        return r;
        }
        /* Our own no_new_privs stays off: the machine's setuid programs must work. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (r < 0)
                return r;
        return seccomp_load(ctx);
}
