/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <sched.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "init-watch.h"
#include "log.h"
#include "util.h"

struct InitWatch {
        sd_event_source *src;
        int fd;
        pid_t leader, child;
        bool done;
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
 * the socket in PID 1's, and comes back. The socket is no way into that
 * namespace: it carries process events only. */
static int connector_open_any_netns(int *ret) {
        _cleanup_close_ int self = -EBADF, init = -EBADF;
        int r, k;

        r = connector_open(ret);
        if (r != -ECONNREFUSED)
                return r;
        self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        init = open("/proc/1/ns/net", O_RDONLY | O_CLOEXEC);
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
static void watch_close(InitWatch *w) {
        w->src = sd_event_source_disable_unref(w->src);
        if (w->fd >= 0)
                (void) connector_subscribe(w->fd, PROC_CN_MCAST_IGNORE);
        w->fd = safe_close(w->fd);
}

static void watch_event(InitWatch *w, const struct proc_event *ev) {
        switch (ev->what) {
        case PROC_EVENT_FORK:
                /* A process, not a thread, of init's. */
                if (w->child == 0 && (pid_t) ev->event_data.fork.parent_tgid == w->leader &&
                    ev->event_data.fork.child_pid == ev->event_data.fork.child_tgid)
                        w->child = (pid_t) ev->event_data.fork.child_tgid;
                break;
        case PROC_EVENT_EXIT:
                if (w->child != 0 && (pid_t) ev->event_data.exit.process_pid == w->child &&
                    ev->event_data.exit.process_pid == ev->event_data.exit.process_tgid)
                        w->done = true;
                break;
        default:
                break;
        }
}

static int on_events(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        InitWatch *w = userdata;

        for (;;) {
                char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
                ssize_t n = recv(fd, buf, sizeof buf, 0);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == ENOBUFS) {
                        /* Lost events: the exit may be among them. Say ready
                         * rather than wait forever; the log says why. */
                        log_debug("The proc connector dropped events; taking init of %d as ready.", (int) w->leader);
                        w->done = true;
                        break;
                }
                if (n <= 0)
                        break;
                for (struct nlmsghdr *h = (struct nlmsghdr *) buf; NLMSG_OK(h, (size_t) n); h = NLMSG_NEXT(h, n)) {
                        const struct cn_msg *cn = NLMSG_DATA(h);

                        if (h->nlmsg_type != NLMSG_DONE || cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC)
                                continue;
                        watch_event(w, (const struct proc_event *) cn->data);
                }
                if (w->done)
                        break;
        }
        if (w->done) {
                watch_close(w);
                w->on_done(w, w->userdata);
        }
        return 0;
}

int init_watch_new(sd_event *e, pid_t leader, InitWatchHandler on_done, void *userdata, InitWatch **ret) {
        _cleanup_(init_watch_freep) InitWatch *w = NULL;
        int r;

        w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        w->fd = -EBADF;
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
        watch_close(w);
        free(w);
        return NULL;
}
