/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "log.h"
#include "netns-addresses.h"
#include "util.h"

int netns_is_ours(pid_t pid) {
        char path[64];
        struct stat a, b;

        snprintf(path, sizeof path, "/proc/%d/ns/net", (int) pid);
        if (stat(path, &a) < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        if (stat("/proc/self/ns/net", &b) < 0)
                return -errno;
        return a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

typedef struct DumpState {
        int out;
        int error;
} DumpState;

static int addr_attr_cb(const struct nlattr *attr, void *data) {
        const struct nlattr **tb = data;
        int type = mnl_attr_get_type(attr);

        if (mnl_attr_type_valid(attr, IFA_MAX) < 0)
                return MNL_CB_OK;
        tb[type] = attr;
        return MNL_CB_OK;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data) {
        DumpState *st = data;
        struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
        const struct nlattr *tb[IFA_MAX + 1] = {};
        const struct nlattr *a;
        NetAddress na = {};
        size_t len;

        if (ifa->ifa_scope == RT_SCOPE_HOST || ifa->ifa_scope == RT_SCOPE_NOWHERE)
                return MNL_CB_OK;
        if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
                return MNL_CB_OK;
        mnl_attr_parse(nlh, sizeof(*ifa), addr_attr_cb, tb);
        /* IFA_LOCAL is our own address on point-to-point links; IFA_ADDRESS otherwise. */
        a = tb[IFA_LOCAL] ?: tb[IFA_ADDRESS];
        if (!a)
                return MNL_CB_OK;
        len = ifa->ifa_family == AF_INET ? 4 : 16;
        if (mnl_attr_get_payload_len(a) != len)
                return MNL_CB_OK;
        na.family = ifa->ifa_family;
        na.ifindex = (int) ifa->ifa_index;
        memcpy(na.address.bytes, mnl_attr_get_payload(a), len);
        if (write(st->out, &na, sizeof na) != sizeof na)
                st->error = errno ?: EIO;
        return MNL_CB_OK;
}

/* In the child: dump every address of the namespace we are in to OUT. */
static int dump_addresses(int out) {
        static char buf[32768]; /* one dump message batch; libmnl advises 32 KiB for dumps */
        struct mnl_socket *nl;
        struct nlmsghdr *nlh;
        struct rtgenmsg *rt;
        DumpState st = { .out = out };
        unsigned seq = (unsigned) time(NULL), portid;
        ssize_t n;
        int r = 0;

        nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
        if (!nl)
                return -errno;
        if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
                r = -errno;
                goto out;
        }
        portid = mnl_socket_get_portid(nl);
        nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = RTM_GETADDR;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
        nlh->nlmsg_seq = seq;
        rt = mnl_nlmsg_put_extra_header(nlh, sizeof(struct rtgenmsg));
        rt->rtgen_family = AF_UNSPEC;
        if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
                r = -errno;
                goto out;
        }
        while ((n = mnl_socket_recvfrom(nl, buf, sizeof buf)) > 0) {
                int k = mnl_cb_run(buf, (size_t) n, seq, portid, addr_cb, &st);
                if (k < 0) {
                        r = -errno;
                        goto out;
                }
                if (k == MNL_CB_STOP)
                        break;
        }
        if (n < 0)
                r = -errno;
        if (st.error)
                r = -st.error;
out:
        mnl_socket_close(nl);
        return r;
}

int netns_get_addresses(pid_t pid, NetAddress **ret, size_t *ret_n) {
        _cleanup_close_pair_ int pipefd[2] = { -EBADF, -EBADF };
        _cleanup_close_ int nsfd = -EBADF;
        _cleanup_free_ NetAddress *list = NULL;
        size_t n = 0;
        char path[64];
        pid_t child;
        int status;

        snprintf(path, sizeof path, "/proc/%d/ns/net", (int) pid);
        nsfd = open(path, O_RDONLY | O_CLOEXEC);
        if (nsfd < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;

        /* setns() changes the whole process: only a child may do it. */
        child = fork();
        if (child < 0)
                return -errno;
        if (child == 0) {
                pipefd[0] = safe_close(pipefd[0]);
                if (setns(nsfd, CLONE_NEWNET) < 0)
                        _exit(EXIT_FAILURE);
                _exit(dump_addresses(pipefd[1]) < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
        }
        pipefd[1] = safe_close(pipefd[1]);

        for (;;) {
                NetAddress a;
                ssize_t k = read(pipefd[0], &a, sizeof a);
                NetAddress *nl;

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                if (k != sizeof a)
                        break;
                nl = reallocarray(list, n + 1, sizeof(NetAddress));
                if (!nl) {
                        (void) kill(child, SIGKILL);
                        (void) waitpid(child, NULL, 0);
                        return -ENOMEM;
                }
                list = nl;
                list[n++] = a;
        }
        if (waitpid(child, &status, 0) < 0)
                return -errno;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return -EIO;
        *ret = TAKE_PTR(list);
        *ret_n = n;
        return 0;
}
