/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <sched.h>
#include <string.h>
#include <sys/epoll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "init-watch.h"
#include "log.h"
#include "util.h"

struct InitWatch {
        sd_event *event;
        sd_event_source *src;  /* the connector's, then the child's pidfd's */
        int fd;                /* the connector, until init's first fork */
        int child_pidfd;
        pid_t leader, child;
        InitWatchHandler on_done;
        void *userdata;
};

static int connector_subscribe(int fd, enum proc_cn_mcast_op op) {
        struct {
                struct nlmsghdr nl;
                struct cn_msg cn;
                enum proc_cn_mcast_op op;
        } __attribute__((packed)) msg = {
                .nl = { .nlmsg_len = sizeof msg, .nlmsg_type = NLMSG_DONE, .nlmsg_pid = 0 },
                .cn = { .id = { .idx = CN_IDX_PROC, .val = CN_VAL_PROC }, .len = sizeof(enum proc_cn_mcast_op) },
                .op = op,
        };

        if (send(fd, &msg, sizeof msg, 0) < 0)
                return -errno;
        return 0;
}

static int connector_open(int *ret) {
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC };
        int r;

        fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return -errno;
        /* Every process of the host forks and exits through this socket
         * until init's first fork: room for a busy host's. */
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &(int) { 8 * 1024 * 1024 }, sizeof(int));
        r = connector_subscribe(fd, PROC_CN_MCAST_LISTEN);
        if (r < 0)
                return r;
        *ret = TAKE_FD(fd);
        return 0;
}

/* The connector exists only in the initial network namespace
 * (drivers/connector/connector.c: netlink_kernel_create(&init_net, ...));
 * from any other one the subscription is refused (ECONNREFUSED). A
 * supervisor in a network namespace of its own (the test sandbox's) makes
 * the socket in the initial one, and comes back. The socket is no way into
 * that namespace: it carries process events only. kthreadd (PID 2) is always
 * there, and its namespace files can be opened where PID 1's may not (a PID
 * 1 that is not dumpable). */
static int connector_open_any_netns(int *ret) {
        _cleanup_close_ int self = -EBADF, init = -EBADF;
        int r, k;

        r = connector_open(ret);
        if (r != -ECONNREFUSED)
                return r;
        self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        init = open("/proc/1/ns/net", O_RDONLY | O_CLOEXEC);
        if (init < 0)
                init = open("/proc/2/ns/net", O_RDONLY | O_CLOEXEC);
        if (self < 0 || init < 0)
                return r;
        if (setns(init, CLONE_NEWNET) < 0)
                return r;
        k = connector_open(ret);
        if (setns(self, CLONE_NEWNET) < 0) {
                /* Never stay in the host's namespace. */
                if (k >= 0)
                        safe_close(*ret);
                return log_debug_errno(errno, "Cannot return to our network namespace: %m");
        }
        return k;
}

/* The kernel counts listeners by these requests, not by open sockets. */
static void connector_close(InitWatch *w) {
        w->src = sd_event_source_disable_unref(w->src);
        if (w->fd >= 0)
                (void) connector_subscribe(w->fd, PROC_CN_MCAST_IGNORE);
        w->fd = safe_close(w->fd);
}

static void watch_done(InitWatch *w) {
        connector_close(w);
        w->child_pidfd = safe_close(w->child_pidfd);
        w->on_done(w, w->userdata); /* may free W */
}

static int on_child_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        watch_done(userdata);
        return 0;
}

/* Init's first child is known: from here its pidfd says when it ends, and
 * the host's other processes are none of our business. */
static void watch_child(InitWatch *w, pid_t child) {
        int r;

        connector_close(w);
        w->child = child;
        w->child_pidfd = (int) syscall(SYS_pidfd_open, child, 0);
        if (w->child_pidfd < 0) {
                /* ESRCH: it has ended already. */
                if (errno != ESRCH)
                        log_debug_errno(errno, "Cannot watch process %d of the machine's init: %m; taking it as ended.", (int) child);
                watch_done(w);
                return;
        }
        r = sd_event_add_io(w->event, &w->src, w->child_pidfd, EPOLLIN, on_child_exit, w);
        if (r < 0) {
                log_debug_errno(r, "Cannot watch process %d of the machine's init: %m; taking it as ended.", (int) child);
                watch_done(w);
        }
}

/* Events were lost: whatever init has now is the best guess of its first
 * child (the first it lists); none yet, and we listen on. */
static pid_t leader_first_child(pid_t leader) {
        _cleanup_free_ char *list = NULL;
        char path[64];
        unsigned long pid;

        snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int) leader, (int) leader);
        if (read_file_at(AT_FDCWD, path, 4096, &list) < 0)
                return 0;
        if (sscanf(list, "%lu", &pid) != 1)
                return 0;
        return (pid_t) pid;
}

static int on_events(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        InitWatch *w = userdata;

        for (;;) {
                char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
                ssize_t n = recv(fd, buf, sizeof buf, 0);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == ENOBUFS) {
                        pid_t child = leader_first_child(w->leader);

                        log_debug("The proc connector dropped events; init's first child is %d.", (int) child);
                        if (child > 0) {
                                watch_child(w, child);
                                return 0;
                        }
                        continue;
                }
                if (n <= 0)
                        return 0;
                for (struct nlmsghdr *h = (struct nlmsghdr *) buf; NLMSG_OK(h, (size_t) n); h = NLMSG_NEXT(h, n)) {
                        const struct cn_msg *cn = NLMSG_DATA(h);
                        struct proc_event event = {};
                        const struct proc_event *ev = &event;

                        if (h->nlmsg_type != NLMSG_DONE || cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC)
                                continue;
                        /* cn->data is 4-byte aligned; struct proc_event wants 8 (UBSan). */
                        memcpy(&event, cn->data, MIN((size_t) cn->len, sizeof event));
                        if (ev->what != PROC_EVENT_FORK)
                                continue;
                        /* A process, not a thread, of init's. */
                        if ((pid_t) ev->event_data.fork.parent_tgid == w->leader &&
                            ev->event_data.fork.child_pid == ev->event_data.fork.child_tgid) {
                                watch_child(w, (pid_t) ev->event_data.fork.child_tgid);
                                return 0;
                        }
                }
        }
}

int init_watch_new(sd_event *e, pid_t leader, InitWatchHandler on_done, void *userdata, InitWatch **ret) {
        _cleanup_(init_watch_freep) InitWatch *w = NULL;
        int r;

        w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        w->fd = w->child_pidfd = -EBADF;
        w->event = sd_event_ref(e);
        w->leader = leader;
        w->on_done = on_done;
        w->userdata = userdata;
        r = connector_open_any_netns(&w->fd);
        if (r < 0)
                return r;
        r = sd_event_add_io(e, &w->src, w->fd, EPOLLIN, on_events, w);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(w);
        return 0;
}

InitWatch *init_watch_free(InitWatch *w) {
        if (!w)
                return NULL;
        connector_close(w);
        safe_close(w->child_pidfd);
        sd_event_unref(w->event);
        free(w);
        return NULL;
}
