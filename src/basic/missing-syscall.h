/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Wrappers for system calls that glibc 2.36 (Debian 12) does not wrap. */

#include <linux/openat2.h>
#include <linux/sched.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline int sys_openat2(int dirfd, const char *path, struct open_how *how) {
        return (int) syscall(SYS_openat2, dirfd, path, how, sizeof(*how));
}

static inline long sys_clone3(struct clone_args *args) {
        return syscall(SYS_clone3, args, sizeof(*args));
}

static inline int sys_pidfd_send_signal(int pidfd, int sig) {
        return (int) syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

static inline int sys_pivot_root(const char *new_root, const char *put_old) {
        return (int) syscall(SYS_pivot_root, new_root, put_old);
}
