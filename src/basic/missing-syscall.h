/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Wrappers for system calls that glibc 2.36 (Debian 12) does not wrap. */

#include <errno.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <sys/syscall.h>
#include <unistd.h>

/* With RESOLVE_IN_ROOT or RESOLVE_BENEATH, openat2() fails with EAGAIN when a
 * mount or a rename anywhere on the host raced with a ".." in the path (also
 * one a symlink brings in, as busybox's /sbin/init -> ../bin/busybox); the
 * kernel asks the caller to retry (openat2(2)). On a host whose mounts churn,
 * that happens: a machine failed to start with "no init found" so. Retry a
 * bounded number of times. */
static inline int sys_openat2(int dirfd, const char *path, struct open_how *how) {
        int fd = -1;

        for (int i = 0; i < 256; i++) {
                fd = (int) syscall(SYS_openat2, dirfd, path, how, sizeof(*how));
                if (fd >= 0 || errno != EAGAIN)
                        break;
        }
        return fd;
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
