/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <sched.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "log.h"
#include "netlink-util.h"
#include "util.h"

/* A dump the kernel marks as interrupted (a link came or went meanwhile) is
 * asked again; a few times is plenty on a host that is not thrashing. */
#define DUMP_ATTEMPTS 5

static int netlink_setup(struct mnl_socket *nl) {
        int one = 1;

        /* Errors with the kernel's text (extack), without our request echoed back. */
        (void) mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof one);
        (void) mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof one);
        return 0;
}

static int netlink_open_bound(struct mnl_socket **ret) {
        struct mnl_socket *nl;

        nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
        if (!nl)
                return -errno;
        if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
                int r = -errno;

                mnl_socket_close(nl);
                return r;
        }
        *ret = nl;
        return 0;
}

int netlink_open(struct mnl_socket **ret) {
        _cleanup_mnl_socket_ struct mnl_socket *nl = NULL;
        int r;

        r = netlink_open_bound(&nl);
        if (r < 0)
                return r;
        netlink_setup(nl);
        *ret = TAKE_PTR(nl);
        return 0;
}

int netlink_open_in_netns_fd(int netns_fd, struct mnl_socket **ret) {
        _cleanup_close_pair_ int pair[2] = { -EBADF, -EBADF };
        _cleanup_close_ int fd = -EBADF;
        struct mnl_socket *nl;
        int error = 0, status;
        ssize_t n;
        pid_t child;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return -errno;

        /* setns() changes the whole process: only a child may do it. */
        child = fork();
        if (child < 0)
                return -errno;
        if (child == 0) {
                struct mnl_socket *s = NULL;
                int e = 0;

                pair[0] = safe_close(pair[0]);
                if (setns(netns_fd, CLONE_NEWNET) < 0)
                        e = errno;
                else
                        e = -netlink_open_bound(&s);
                (void) send_fd_with_data(pair[1], s ? mnl_socket_get_fd(s) : -EBADF, &e, sizeof e);
                _exit(e == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
        }
        pair[1] = safe_close(pair[1]);

        n = recv_fd_with_data(pair[0], &fd, &error, sizeof error);
        while (waitpid(child, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (n < 0)
                return (int) n;
        if (n != sizeof error)
                return -EIO;
        if (error != 0)
                return -abs(error);
        if (fd < 0)
                return -EIO;

        nl = mnl_socket_fdopen(fd);
        if (!nl)
                return -errno;
        TAKE_FD(fd);
        netlink_setup(nl);
        *ret = nl;
        return 0;
}

int netlink_open_in_netns(pid_t pid, struct mnl_socket **ret) {
        _cleanup_close_ int nsfd = -EBADF;
        char path[64];

        if (pid <= 0)
                return -EINVAL;
        snprintf(path, sizeof path, "/proc/%d/ns/net", (int) pid);
        nsfd = open(path, O_RDONLY | O_CLOEXEC);
        if (nsfd < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        return netlink_open_in_netns_fd(nsfd, ret);
}

static uint32_t next_seq(void) {
        static uint32_t seq;

        if (seq == 0)
                seq = (uint32_t) time(NULL);
        if (++seq == 0)
                seq = 1;
        return seq;
}

struct nlmsghdr *netlink_request(NetlinkRequest *req, uint16_t type, uint16_t flags, size_t hdrlen, void **ret_hdr) {
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(req->buf);
        void *hdr;

        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = NLM_F_REQUEST | flags;
        hdr = mnl_nlmsg_put_extra_header(nlh, hdrlen);
        if (ret_hdr)
                *ret_hdr = hdr;
        return nlh;
}

/* The error an NLMSG_ERROR carries (0 for an acknowledgement); its extack text
 * goes to the debug log. */
static int netlink_error(const struct nlmsghdr *nlh) {
        const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
        const struct nlattr *a;
        size_t off;

        if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof *err))
                return -EBADMSG;
        if (err->error == 0)
                return 0;
        if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
                off = sizeof *err;
                if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
                        off += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
                if (mnl_nlmsg_size(off) < nlh->nlmsg_len)
                        mnl_attr_for_each(a, nlh, off)
                                if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
                                    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
                                        log_debug("rtnetlink: %s", mnl_attr_get_str(a));
        }
        return err->error < 0 ? err->error : -err->error;
}

/* Reads answers to request SEQ until its acknowledgement (or, for a dump, its
 * NLMSG_DONE). Answers of other requests are stale and skipped. */
static int netlink_receive(struct mnl_socket *nl, uint32_t seq, bool dump, mnl_cb_t cb, void *userdata) {
        union {
                struct nlmsghdr align;
                char buf[NETLINK_BUFFER_SIZE];
        } u;
        uint32_t portid = mnl_socket_get_portid(nl);
        bool interrupted = false;
        int cb_error = 0;

        for (;;) {
                const struct nlmsghdr *nlh = &u.align;
                ssize_t n;
                int len;

                n = mnl_socket_recvfrom(nl, u.buf, sizeof u.buf);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                len = (int) n;
                for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
                        int r;

                        if (nlh->nlmsg_seq != seq || (nlh->nlmsg_pid != 0 && nlh->nlmsg_pid != portid))
                                continue;
                        if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
                                interrupted = true;
                        switch (nlh->nlmsg_type) {
                        case NLMSG_NOOP:
                                continue;
                        case NLMSG_OVERRUN:
                                return -ENOBUFS;
                        case NLMSG_ERROR:
                                r = netlink_error(nlh);
                                if (r < 0)
                                        return r;
                                return interrupted ? -EINTR : cb_error;
                        case NLMSG_DONE:
                                if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int)) {
                                        const int *e = mnl_nlmsg_get_payload(nlh);

                                        if (*e < 0)
                                                return *e;
                                }
                                if (dump)
                                        return interrupted ? -EINTR : cb_error;
                                continue;
                        default:
                                if (!cb || interrupted || cb_error < 0)
                                        continue;
                                if (cb(nlh, userdata) < 0)
                                        cb_error = errno > 0 ? -errno : -EIO;
                        }
                }
        }
}

int netlink_call(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *userdata) {
        nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
        nlh->nlmsg_seq = next_seq();
        if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
                return -errno;
        return netlink_receive(nl, nlh->nlmsg_seq, false, cb, userdata);
}

int netlink_dump(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *userdata) {
        nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_DUMP;
        nlh->nlmsg_seq = next_seq();
        if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
                return -errno;
        return netlink_receive(nl, nlh->nlmsg_seq, true, cb, userdata);
}

typedef struct ParseState {
        const struct nlattr **tb;
        unsigned max;
} ParseState;

static int parse_cb(const struct nlattr *a, void *data) {
        ParseState *s = data;
        unsigned type = mnl_attr_get_type(a);

        if (type <= s->max)
                s->tb[type] = a;
        return MNL_CB_OK;
}

int netlink_parse(const struct nlmsghdr *nlh, size_t hdrlen, const struct nlattr **tb, unsigned maxtype) {
        ParseState s = { .tb = tb, .max = maxtype };

        memset(tb, 0, (maxtype + 1) * sizeof(*tb));
        if (mnl_nlmsg_get_payload_len(nlh) < hdrlen)
                return -EBADMSG;
        return mnl_attr_parse(nlh, (unsigned) hdrlen, parse_cb, &s) < 0 ? -EBADMSG : 0;
}

int netlink_parse_nested(const struct nlattr *nest, const struct nlattr **tb, unsigned maxtype) {
        ParseState s = { .tb = tb, .max = maxtype };

        memset(tb, 0, (maxtype + 1) * sizeof(*tb));
        return mnl_attr_parse_nested(nest, parse_cb, &s) < 0 ? -EBADMSG : 0;
}

/* Copies a string attribute, which the kernel NUL-terminates but we do not trust to. */
static void attr_copy_str(const struct nlattr *a, char *dst, size_t size) {
        size_t n;

        if (!a) {
                dst[0] = '\0';
                return;
        }
        n = strnlen(mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));
        n = MIN(n, size - 1);
        memcpy(dst, mnl_attr_get_payload(a), n);
        dst[n] = '\0';
}

static int array_push(void *array, size_t *n, size_t size, const void *item) {
        void **a = array;
        void *p = reallocarray(*a, *n + 1, size);

        if (!p)
                return -ENOMEM;
        memcpy((char *) p + *n * size, item, size);
        *a = p;
        (*n)++;
        return 0;
}

static void link_parse_af_spec(const struct nlattr *spec, NetlinkLink *l) {
        const struct nlattr *af[AF_INET6 + 1], *in6[IFLA_INET6_MAX + 1];

        if (netlink_parse_nested(spec, af, AF_INET6) < 0 || !af[AF_INET6])
                return;
        if (netlink_parse_nested(af[AF_INET6], in6, IFLA_INET6_MAX) < 0)
                return;
        if (in6[IFLA_INET6_ADDR_GEN_MODE] && mnl_attr_get_payload_len(in6[IFLA_INET6_ADDR_GEN_MODE]) >= 1)
                l->addr_gen_mode = mnl_attr_get_u8(in6[IFLA_INET6_ADDR_GEN_MODE]);
}

static int link_parse(const struct nlmsghdr *nlh, NetlinkLink *l) {
        const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
        const struct nlattr *tb[IFLA_MAX + 1];
        int r;

        r = netlink_parse(nlh, sizeof *ifi, tb, IFLA_MAX);
        if (r < 0)
                return r;
        *l = (NetlinkLink) { .ifindex = ifi->ifi_index, .flags = ifi->ifi_flags, .addr_gen_mode = -1 };
        attr_copy_str(tb[IFLA_IFNAME], l->name, sizeof l->name);
        attr_copy_str(tb[IFLA_IFALIAS], l->alias, sizeof l->alias);
        if (tb[IFLA_MASTER] && mnl_attr_get_payload_len(tb[IFLA_MASTER]) == 4)
                l->master = (int) mnl_attr_get_u32(tb[IFLA_MASTER]);
        if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == ETH_ALEN)
                memcpy(&l->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), ETH_ALEN);
        if (tb[IFLA_LINKINFO]) {
                const struct nlattr *info[IFLA_INFO_MAX + 1];

                if (netlink_parse_nested(tb[IFLA_LINKINFO], info, IFLA_INFO_MAX) >= 0)
                        attr_copy_str(info[IFLA_INFO_KIND], l->kind, sizeof l->kind);
        }
        if (tb[IFLA_PROP_LIST]) {
                const struct nlattr *a;

                mnl_attr_for_each_nested(a, tb[IFLA_PROP_LIST])
                        if (mnl_attr_get_type(a) == IFLA_ALT_IFNAME) {
                                attr_copy_str(a, l->altname, sizeof l->altname);
                                break;
                        }
        }
        if (tb[IFLA_AF_SPEC])
                link_parse_af_spec(tb[IFLA_AF_SPEC], l);
        return 0;
}

static int link_get_cb(const struct nlmsghdr *nlh, void *userdata) {
        if (nlh->nlmsg_type != RTM_NEWLINK)
                return MNL_CB_OK;
        if (link_parse(nlh, userdata) < 0) {
                errno = EBADMSG;
                return MNL_CB_ERROR;
        }
        return MNL_CB_OK;
}

int netlink_get_link(struct mnl_socket *nl, int ifindex, const char *name, NetlinkLink *ret) {
        NetlinkRequest req;
        struct nlmsghdr *nlh;
        struct ifinfomsg *ifi;
        NetlinkLink l = { .ifindex = 0 };
        int r;

        if (ifindex <= 0 && isempty(name))
                return -EINVAL;
        nlh = netlink_request(&req, RTM_GETLINK, 0, sizeof *ifi, (void **) &ifi);
        ifi->ifi_family = AF_UNSPEC;
        if (ifindex > 0)
                ifi->ifi_index = ifindex;
        else {
                if (strlen(name) >= IFNAMSIZ)
                        mnl_attr_put_strz(nlh, IFLA_ALT_IFNAME, name);
                else
                        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        }
        r = netlink_call(nl, nlh, link_get_cb, &l);
        if (r < 0)
                return r;
        if (l.ifindex <= 0)
                return -ENODEV;
        *ret = l;
        return 0;
}

typedef struct LinkList {
        NetlinkLink *links;
        size_t n;
} LinkList;

static int link_dump_cb(const struct nlmsghdr *nlh, void *userdata) {
        LinkList *list = userdata;
        NetlinkLink l;
        int r;

        if (nlh->nlmsg_type != RTM_NEWLINK)
                return MNL_CB_OK;
        if (link_parse(nlh, &l) < 0)
                return MNL_CB_OK;
        r = array_push(&list->links, &list->n, sizeof l, &l);
        if (r < 0) {
                errno = -r;
                return MNL_CB_ERROR;
        }
        return MNL_CB_OK;
}

int netlink_dump_links(struct mnl_socket *nl, NetlinkLink **ret, size_t *ret_n) {
        NetlinkRequest req;
        int r = -EINTR;

        for (unsigned attempt = 0; attempt < DUMP_ATTEMPTS && r == -EINTR; attempt++) {
                LinkList list = {};
                struct ifinfomsg *ifi;
                struct nlmsghdr *nlh;

                nlh = netlink_request(&req, RTM_GETLINK, 0, sizeof *ifi, (void **) &ifi);
                ifi->ifi_family = AF_UNSPEC;
                r = netlink_dump(nl, nlh, link_dump_cb, &list);
                if (r < 0) {
                        free(list.links);
                        continue;
                }
                *ret = list.links;
                *ret_n = list.n;
        }
        return r;
}

typedef struct AddressList {
        NetlinkAddress *addresses;
        size_t n;
} AddressList;

static int address_dump_cb(const struct nlmsghdr *nlh, void *userdata) {
        AddressList *list = userdata;
        const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
        const struct nlattr *tb[IFA_MAX + 1], *a;
        NetlinkAddress na;
        size_t len;
        int r;

        if (nlh->nlmsg_type != RTM_NEWADDR || netlink_parse(nlh, sizeof *ifa, tb, IFA_MAX) < 0)
                return MNL_CB_OK;
        if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
                return MNL_CB_OK;
        /* IFA_LOCAL is our own address on point-to-point links; IFA_ADDRESS otherwise. */
        a = tb[IFA_LOCAL] ?: tb[IFA_ADDRESS];
        len = ifa->ifa_family == AF_INET ? 4 : 16;
        if (!a || mnl_attr_get_payload_len(a) != len)
                return MNL_CB_OK;
        na = (NetlinkAddress) {
                .family = ifa->ifa_family,
                .ifindex = (int) ifa->ifa_index,
                .prefixlen = ifa->ifa_prefixlen,
                .scope = ifa->ifa_scope,
                .flags = tb[IFA_FLAGS] ? mnl_attr_get_u32(tb[IFA_FLAGS]) : ifa->ifa_flags,
        };
        memcpy(na.address.bytes, mnl_attr_get_payload(a), len);
        r = array_push(&list->addresses, &list->n, sizeof na, &na);
        if (r < 0) {
                errno = -r;
                return MNL_CB_ERROR;
        }
        return MNL_CB_OK;
}

int netlink_dump_addresses(struct mnl_socket *nl, int family, NetlinkAddress **ret, size_t *ret_n) {
        NetlinkRequest req;
        int r = -EINTR;

        for (unsigned attempt = 0; attempt < DUMP_ATTEMPTS && r == -EINTR; attempt++) {
                AddressList list = {};
                struct ifaddrmsg *ifa;
                struct nlmsghdr *nlh;

                nlh = netlink_request(&req, RTM_GETADDR, 0, sizeof *ifa, (void **) &ifa);
                ifa->ifa_family = (uint8_t) family;
                r = netlink_dump(nl, nlh, address_dump_cb, &list);
                if (r < 0) {
                        free(list.addresses);
                        continue;
                }
                *ret = list.addresses;
                *ret_n = list.n;
        }
        return r;
}

typedef struct RouteList {
        NetlinkRoute *routes;
        size_t n;
} RouteList;

static int route_dump_cb(const struct nlmsghdr *nlh, void *userdata) {
        RouteList *list = userdata;
        const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
        const struct nlattr *tb[RTA_MAX + 1];
        NetlinkRoute rt;
        size_t len;
        int r;

        if (nlh->nlmsg_type != RTM_NEWROUTE || netlink_parse(nlh, sizeof *rtm, tb, RTA_MAX) < 0)
                return MNL_CB_OK;
        if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6)
                return MNL_CB_OK;
        len = rtm->rtm_family == AF_INET ? 4 : 16;
        rt = (NetlinkRoute) {
                .family = rtm->rtm_family,
                .dst_len = rtm->rtm_dst_len,
                .table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table,
                .type = rtm->rtm_type,
                .oif = tb[RTA_OIF] ? (int) mnl_attr_get_u32(tb[RTA_OIF]) : 0,
        };
        if (tb[RTA_DST] && mnl_attr_get_payload_len(tb[RTA_DST]) == len)
                memcpy(rt.dst.bytes, mnl_attr_get_payload(tb[RTA_DST]), len);
        if (tb[RTA_GATEWAY] && mnl_attr_get_payload_len(tb[RTA_GATEWAY]) == len) {
                memcpy(rt.gateway.bytes, mnl_attr_get_payload(tb[RTA_GATEWAY]), len);
                rt.has_gateway = true;
        }
        r = array_push(&list->routes, &list->n, sizeof rt, &rt);
        if (r < 0) {
                errno = -r;
                return MNL_CB_ERROR;
        }
        return MNL_CB_OK;
}

int netlink_dump_routes(struct mnl_socket *nl, int family, NetlinkRoute **ret, size_t *ret_n) {
        NetlinkRequest req;
        int r = -EINTR;

        for (unsigned attempt = 0; attempt < DUMP_ATTEMPTS && r == -EINTR; attempt++) {
                RouteList list = {};
                struct rtmsg *rtm;
                struct nlmsghdr *nlh;

                /* Without a table the kernel dumps them all: main, local and any other. */
                nlh = netlink_request(&req, RTM_GETROUTE, 0, sizeof *rtm, (void **) &rtm);
                rtm->rtm_family = (uint8_t) family;
                r = netlink_dump(nl, nlh, route_dump_cb, &list);
                if (r < 0) {
                        free(list.routes);
                        continue;
                }
                *ret = list.routes;
                *ret_n = list.n;
        }
        return r;
}

static struct nlmsghdr *link_request(NetlinkRequest *req, uint16_t type, int ifindex) {
        struct ifinfomsg *ifi;
        struct nlmsghdr *nlh = netlink_request(req, type, 0, sizeof *ifi, (void **) &ifi);

        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_index = ifindex;
        return nlh;
}

int netlink_link_set_up(struct mnl_socket *nl, int ifindex) {
        NetlinkRequest req;
        struct nlmsghdr *nlh = link_request(&req, RTM_NEWLINK, ifindex);
        struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

        ifi->ifi_flags = IFF_UP;
        ifi->ifi_change = IFF_UP;
        return netlink_call(nl, nlh, NULL, NULL);
}

int netlink_link_delete(struct mnl_socket *nl, int ifindex) {
        NetlinkRequest req;

        return netlink_call(nl, link_request(&req, RTM_DELLINK, ifindex), NULL, NULL);
}

int netlink_link_set_down(struct mnl_socket *nl, int ifindex, bool nomaster) {
        NetlinkRequest req;
        struct nlmsghdr *nlh = link_request(&req, RTM_NEWLINK, ifindex);
        struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

        ifi->ifi_flags = 0;
        ifi->ifi_change = IFF_UP;
        if (nomaster)
                mnl_attr_put_u32(nlh, IFLA_MASTER, 0);
        return netlink_call(nl, nlh, NULL, NULL);
}

int netlink_link_rename(struct mnl_socket *nl, int ifindex, const char *name, const char *alias) {
        NetlinkRequest req;
        struct nlmsghdr *nlh = link_request(&req, RTM_NEWLINK, ifindex);

        if (strlen(name) >= IFNAMSIZ)
                return -EINVAL;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        if (alias)
                mnl_attr_put_strz(nlh, IFLA_IFALIAS, alias);
        return netlink_call(nl, nlh, NULL, NULL);
}

int netlink_link_del_altname(struct mnl_socket *nl, int ifindex, const char *altname) {
        NetlinkRequest req;
        struct nlmsghdr *nlh = link_request(&req, RTM_DELLINKPROP, ifindex);
        struct nlattr *list;

        list = mnl_attr_nest_start(nlh, IFLA_PROP_LIST);
        mnl_attr_put_strz(nlh, IFLA_ALT_IFNAME, altname);
        mnl_attr_nest_end(nlh, list);
        return netlink_call(nl, nlh, NULL, NULL);
}

int netlink_link_set_alias(struct mnl_socket *nl, int ifindex, const char *alias) {
        NetlinkRequest req;
        struct nlmsghdr *nlh = link_request(&req, RTM_NEWLINK, ifindex);

        mnl_attr_put_strz(nlh, IFLA_IFALIAS, alias);
        return netlink_call(nl, nlh, NULL, NULL);
}

int netlink_link_add_altname(struct mnl_socket *nl, int ifindex, const char *altname) {
        NetlinkRequest req;
        struct nlmsghdr *nlh = link_request(&req, RTM_NEWLINKPROP, ifindex);
        struct nlattr *list;

        nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
        list = mnl_attr_nest_start(nlh, IFLA_PROP_LIST);
        mnl_attr_put_strz(nlh, IFLA_ALT_IFNAME, altname);
        mnl_attr_nest_end(nlh, list);
        return netlink_call(nl, nlh, NULL, NULL);
}

int netlink_link_set_addr_gen_mode(struct mnl_socket *nl, int ifindex, uint8_t mode) {
        NetlinkRequest req;
        struct nlmsghdr *nlh = link_request(&req, RTM_NEWLINK, ifindex);
        struct nlattr *spec, *in6;

        spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
        in6 = mnl_attr_nest_start(nlh, AF_INET6);
        mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, mode);
        mnl_attr_nest_end(nlh, in6);
        mnl_attr_nest_end(nlh, spec);
        return netlink_call(nl, nlh, NULL, NULL);
}

int netlink_address_add_ipv4(struct mnl_socket *nl, int ifindex, struct in_addr a, unsigned prefixlen) {
        NetlinkRequest req;
        struct ifaddrmsg *ifa;
        struct nlmsghdr *nlh;

        if (prefixlen > 32)
                return -EINVAL;
        nlh = netlink_request(&req, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof *ifa, (void **) &ifa);
        ifa->ifa_family = AF_INET;
        ifa->ifa_prefixlen = (uint8_t) prefixlen;
        ifa->ifa_scope = RT_SCOPE_UNIVERSE;
        ifa->ifa_index = (uint32_t) ifindex;
        mnl_attr_put(nlh, IFA_LOCAL, sizeof a, &a);
        mnl_attr_put(nlh, IFA_ADDRESS, sizeof a, &a);
        if (prefixlen < 31) {
                /* The kernel sets no broadcast address unless asked ("ip addr ... brd +"). */
                struct in_addr b = { .s_addr = a.s_addr | htonl(UINT32_MAX >> prefixlen) };

                mnl_attr_put(nlh, IFA_BROADCAST, sizeof b, &b);
        }
        return netlink_call(nl, nlh, NULL, NULL);
}

int netlink_address_del_ipv4(struct mnl_socket *nl, int ifindex, struct in_addr a, unsigned prefixlen) {
        NetlinkRequest req;
        struct ifaddrmsg *ifa;
        struct nlmsghdr *nlh;

        if (prefixlen > 32)
                return -EINVAL;
        nlh = netlink_request(&req, RTM_DELADDR, 0, sizeof *ifa, (void **) &ifa);
        ifa->ifa_family = AF_INET;
        ifa->ifa_prefixlen = (uint8_t) prefixlen;
        ifa->ifa_index = (uint32_t) ifindex;
        mnl_attr_put(nlh, IFA_LOCAL, sizeof a, &a);
        return netlink_call(nl, nlh, NULL, NULL);
}

int netlink_route_add_ipv4_default(struct mnl_socket *nl, int ifindex, struct in_addr gateway) {
        NetlinkRequest req;
        struct nlmsghdr *nlh;
        struct rtmsg *rtm;

        nlh = netlink_request(&req, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof *rtm, (void **) &rtm);
        rtm->rtm_family = AF_INET;
        rtm->rtm_dst_len = 0;
        rtm->rtm_table = RT_TABLE_MAIN;
        rtm->rtm_protocol = RTPROT_STATIC;
        rtm->rtm_scope = RT_SCOPE_UNIVERSE;
        rtm->rtm_type = RTN_UNICAST;
        mnl_attr_put(nlh, RTA_GATEWAY, sizeof gateway, &gateway);
        mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t) ifindex);
        return netlink_call(nl, nlh, NULL, NULL);
}
