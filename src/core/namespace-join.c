/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "log.h"
#include "namespace-join.h"
#include "util.h"

static const struct {
        int type;
        const char *name;
} table[] = {
        { CLONE_NEWNET, "net" },   { CLONE_NEWIPC, "ipc" },   { CLONE_NEWUTS, "uts" },       { CLONE_NEWPID, "pid" },
        { CLONE_NEWNS, "mnt" },    { CLONE_NEWUSER, "user" }, { CLONE_NEWCGROUP, "cgroup" }, { CLONE_NEWTIME, "time" },
};

const char *namespace_type_to_string(int type) {
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (table[i].type == type)
                        return table[i].name;
        return NULL;
}

int namespace_type_joinable(int type) {
        /* CGROUP and TIME change ours at once as NET does, and what our
         * children get (setns(2): TIME only for a process of one thread). */
        return type == CLONE_NEWNET || type == CLONE_NEWIPC || type == CLONE_NEWUTS || type == CLONE_NEWPID ||
               type == CLONE_NEWCGROUP || type == CLONE_NEWTIME;
}

int namespace_open(const char *path, int type, int *ret_fd, int *ret_type) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        int t;

        if (fd < 0)
                return -errno;
        t = ioctl(fd, NS_GET_NSTYPE);
        if (t < 0)
                return errno == ENOTTY || errno == EINVAL ? -ENOTTY : -errno;
        if (ret_type)
                *ret_type = t;
        if (t != type)
                return -EMEDIUMTYPE;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int namespace_join_leave(NamespaceSaved *saved) {
        int ret = 0;

        /* The reverse order: the PID namespace for children last joined, first left. */
        while (saved->n > 0) {
                saved->n--;
                if (setns(saved->fd[saved->n], saved->type[saved->n]) < 0 && ret == 0)
                        ret = log_debug_errno(-errno, "cannot go back to our %s namespace: %m",
                                              namespace_type_to_string(saved->type[saved->n]));
                saved->fd[saved->n] = safe_close(saved->fd[saved->n]);
        }
        return ret;
}

int namespace_join_enter(const NamespaceJoin *j, size_t n, NamespaceSaved *saved) {
        *saved = (NamespaceSaved) {};
        if (n > ELEMENTSOF(saved->fd))
                return -E2BIG;
        for (size_t i = 0; i < n; i++) {
                _cleanup_close_ int fd = -EBADF, own = -EBADF;
                char path[64];
                int r;

                r = namespace_type_joinable(j[i].type) ? namespace_open(j[i].path, j[i].type, &fd, NULL) : -EOPNOTSUPP;
                if (r < 0) {
                        (void) namespace_join_leave(saved);
                        return r;
                }
                /* PID: our active one (pid_for_children is where we go). */
                snprintf(path, sizeof path, j[i].type == CLONE_NEWPID ? "/proc/self/ns/%s" : "/proc/thread-self/ns/%s",
                         namespace_type_to_string(j[i].type));
                own = open(path, O_RDONLY | O_CLOEXEC);
                if (own < 0 || setns(fd, j[i].type) < 0) {
                        r = -errno;
                        (void) namespace_join_leave(saved);
                        return r;
                }
                saved->fd[saved->n] = TAKE_FD(own);
                saved->type[saved->n] = j[i].type;
                saved->n++;
        }
        return 0;
}
