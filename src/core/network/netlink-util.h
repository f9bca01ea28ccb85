/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Small rtnetlink helpers over libmnl: a socket in our network namespace or in
 * another process's, a request that waits for the kernel's answer, and dumps
 * of links, addresses and routes into plain arrays. */

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct mnl_socket *, mnl_socket_close)
#define _cleanup_mnl_socket_ _cleanup_(mnl_socket_closep)

/* What we read at once: a dump batch (libmnl advises 32 KiB). */
#define NETLINK_BUFFER_SIZE 32768

/* Room for one request we build: a header and a few short attributes. */
typedef union NetlinkRequest {
        struct nlmsghdr header;
        char buf[1024];
} NetlinkRequest;

/* A socket bound in the network namespace we are in. */
int netlink_open(struct mnl_socket **ret);
/* A socket in the network namespace of PID (or of the namespace file NETNS_FD):
 * made by a child that joined it and passed back over SCM_RIGHTS, since a
 * netlink socket stays in the namespace it was created in. -ESRCH: no such PID. */
int netlink_open_in_netns(pid_t pid, struct mnl_socket **ret);
int netlink_open_in_netns_fd(int netns_fd, struct mnl_socket **ret);

/* Starts a request in REQ: netlink header plus a zeroed family header of HDRLEN
 * bytes, returned in *ret_hdr. */
struct nlmsghdr *netlink_request(NetlinkRequest *req, uint16_t type, uint16_t flags, size_t hdrlen, void **ret_hdr);

/* Sends NLH with NLM_F_ACK and waits for the kernel's answer: 0, or its error
 * as -errno (its extended-ack text goes to the debug log). Replies before the
 * acknowledgement (a GET's answer) go to CB when it is not NULL. */
int netlink_call(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *userdata);
/* Sends NLH as a dump request and hands every answer to CB. -EINTR when the
 * kernel says the dump was interrupted by a change (the socket is drained by
 * then; ask again). */
int netlink_dump(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *userdata);

/* Attribute tables: TB has MAXTYPE + 1 slots and is zeroed first. */
int netlink_parse(const struct nlmsghdr *nlh, size_t hdrlen, const struct nlattr **tb, unsigned maxtype);
int netlink_parse_nested(const struct nlattr *nest, const struct nlattr **tb, unsigned maxtype);

typedef struct NetlinkLink {
        int ifindex;
        char name[IFNAMSIZ];
        char altname[128];   /* the first alternative name (ALTIFNAMSIZ), or "" */
        char kind[16];       /* IFLA_INFO_KIND: "veth", "bridge", ...; "" when none */
        char alias[256];     /* IFLA_IFALIAS (IFALIASZ) */
        int master;          /* IFLA_MASTER, 0 when none */
        unsigned flags;      /* IFF_* */
        int addr_gen_mode;   /* IN6_ADDR_GEN_MODE_*, -1 when unknown */
        struct ether_addr mac;
} NetlinkLink;

typedef struct NetlinkAddress {
        int family;
        int ifindex;
        unsigned prefixlen;
        unsigned char scope;
        uint32_t flags;      /* IFA_F_* */
        union {
                struct in_addr in;
                struct in6_addr in6;
                uint8_t bytes[16];
        } address;
} NetlinkAddress;

typedef struct NetlinkRoute {
        int family;
        unsigned dst_len;
        uint32_t table;
        unsigned char type;  /* RTN_* */
        int oif;             /* 0 when none (multipath, blackhole) */
        union {
                struct in_addr in;
                struct in6_addr in6;
                uint8_t bytes[16];
        } dst, gateway;
        bool has_gateway;
} NetlinkRoute;

/* The link called NAME (when IFINDEX is 0) or with IFINDEX. -ENODEV: none. */
int netlink_get_link(struct mnl_socket *nl, int ifindex, const char *name, NetlinkLink *ret);
int netlink_dump_links(struct mnl_socket *nl, NetlinkLink **ret, size_t *ret_n);
/* FAMILY: AF_INET, AF_INET6 or AF_UNSPEC. */
int netlink_dump_addresses(struct mnl_socket *nl, int family, NetlinkAddress **ret, size_t *ret_n);
int netlink_dump_routes(struct mnl_socket *nl, int family, NetlinkRoute **ret, size_t *ret_n);

/* Small requests on one link. */
int netlink_link_set_up(struct mnl_socket *nl, int ifindex);
int netlink_link_delete(struct mnl_socket *nl, int ifindex);
/* Sets a link down; with NOMASTER also takes it out of its bridge. */
int netlink_link_set_down(struct mnl_socket *nl, int ifindex, bool nomaster);
/* Renames a link that is down, and sets its alias unless ALIAS is NULL. */
int netlink_link_rename(struct mnl_socket *nl, int ifindex, const char *name, const char *alias);
int netlink_link_del_altname(struct mnl_socket *nl, int ifindex, const char *altname);
int netlink_address_del_ipv4(struct mnl_socket *nl, int ifindex, struct in_addr a, unsigned prefixlen);
int netlink_link_set_alias(struct mnl_socket *nl, int ifindex, const char *alias);
int netlink_link_add_altname(struct mnl_socket *nl, int ifindex, const char *altname);
int netlink_link_set_addr_gen_mode(struct mnl_socket *nl, int ifindex, uint8_t mode);
int netlink_address_add_ipv4(struct mnl_socket *nl, int ifindex, struct in_addr a, unsigned prefixlen);
int netlink_route_add_ipv4_default(struct mnl_socket *nl, int ifindex, struct in_addr gateway);
