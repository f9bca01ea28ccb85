/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/if_link.h>
#include <linux/veth.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "lock.h"
#include "log.h"
#include "netlink-util.h"
#include "network.h"
#include "string-table.h"
#include "settings.h"
#include "util.h"

/* Every link we create carries an ifalias starting with this, which is how we
 * tell our links (and their routes) from the host's own networks, and where a
 * zone port keeps its guest's address:
 *   "boxctl machine=NAME"                 host end of a veth (ve- or vb-)
 *   "boxctl machine=NAME ipv4=A.B.C.D"    host end in a zone: the guest's lease
 *   "boxctl zone=ZONE"                    a zone's bridge */
#define ALIAS_PREFIX "boxctl "
#define ALIAS_ZONE_PREFIX ALIAS_PREFIX "zone="
#define ALIAS_IPV4_KEY " ipv4="

/* A veth has exactly two ends, so a /30 (network, .1, .2, broadcast) is all a
 * machine needs; /31 (RFC 3021) would save two addresses but not every guest's
 * tooling copes with it. A /16 pool holds 16,384 machines. */
#define MACHINE_PREFIXLEN 30u
/* A zone holds many machines behind one bridge. */
#define ZONE_PREFIXLEN 24u

static const char *const network_mode_table[_NETWORK_MODE_MAX] = {
        [NETWORK_NONE] = "none",
        [NETWORK_VETH] = "veth",
        [NETWORK_BRIDGE] = "bridge",
        [NETWORK_ZONE] = "zone",
};

DEFINE_STRING_TABLE(network_mode, NetworkMode, network_mode_table, _NETWORK_MODE_MAX)

/* FNV-1a with MurmurHash3's finalizer: stable across versions and
 * architectures (names and MACs must not change under a machine), and mixed
 * well enough that a few bits of it are worth taking. */
static uint64_t hash_bytes(uint64_t h, const void *p, size_t n) {
        const uint8_t *b = p;

        for (size_t i = 0; i < n; i++) {
                h ^= b[i];
                h *= UINT64_C(0x100000001b3);
        }
        return h;
}

static uint64_t hash_string2(const char *a, const char *b) {
        uint64_t h = UINT64_C(0xcbf29ce484222325);

        h = hash_bytes(h, a, strlen(a) + 1);
        h = hash_bytes(h, b, strlen(b));
        h ^= h >> 33;
        h *= UINT64_C(0xff51afd7ed558ccd);
        h ^= h >> 33;
        h *= UINT64_C(0xc4ceb9fe1a85ec53);
        h ^= h >> 33;
        return h;
}

bool network_zone_name_is_valid(const char *zone) {
        size_t n;

        if (isempty(zone))
                return false;
        n = strlen(zone);
        if (n > NETWORK_ZONE_NAME_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = zone[i];

                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-'))
                        return false;
        }
        return true;
}

int network_ifname(const char *prefix, const char *name, char ret[static IFNAMSIZ]) {
        size_t p = strlen(prefix), n = strlen(name);
        char full[NETWORK_ALTNAME_MAX];

        /* The kernel's rules (dev_valid_name()), and the full name must fit an altname. */
        if (n == 0 || p > IFNAMSIZ - 1 - 6 || p + n >= NETWORK_ALTNAME_MAX)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (name[i] <= ' ' || name[i] >= 127 || name[i] == '/' || name[i] == ':')
                        return -EINVAL;
        if (p == 0 && (streq(name, ".") || streq(name, "..")))
                return -EINVAL;

        memcpy(full, prefix, p);
        memcpy(full + p, name, n + 1);
        if (p + n <= IFNAMSIZ - 1) {
                memcpy(ret, full, p + n + 1);
                return 0;
        }
        /* prefix + head + "-" + 4 hex digits = IFNAMSIZ - 1 */
        snprintf(ret, IFNAMSIZ, "%s%.*s-%04x", prefix, (int) (IFNAMSIZ - 1 - p - 5), name,
                 (unsigned) (hash_string2("ifname", full) & 0xffff));
        return 1;
}

static void mac_from_hash(uint64_t h, struct ether_addr *ret) {
        for (size_t i = 0; i < ETH_ALEN; i++)
                ret->ether_addr_octet[i] = (uint8_t) (h >> (8 * i));
        /* locally administered, unicast */
        ret->ether_addr_octet[0] = (uint8_t) ((ret->ether_addr_octet[0] & 0xfe) | 0x02);
}

void network_mac(NetworkMacKind kind, const char *name, struct ether_addr *ret) {
        static const char *const salt[_NETWORK_MAC_KIND_MAX] = {
                [NETWORK_MAC_HOST] = "mac-host",
                [NETWORK_MAC_GUEST] = "mac-guest",
                [NETWORK_MAC_ZONE] = "mac-zone",
        };

        mac_from_hash(hash_string2(salt[kind], name), ret);
        if (kind == NETWORK_MAC_GUEST) {
                struct ether_addr host;

                /* The two ends of one veth must differ, however unlikely a clash. */
                mac_from_hash(hash_string2(salt[NETWORK_MAC_HOST], name), &host);
                if (memcmp(&host, ret, sizeof host) == 0)
                        ret->ether_addr_octet[5] ^= 1;
        }
}

static uint32_t prefix_mask(unsigned prefixlen) {
        return prefixlen == 0 ? 0 : UINT32_MAX << (32 - prefixlen);
}

static bool prefixes_overlap(uint32_t a, unsigned alen, uint32_t b, unsigned blen) {
        return ((a ^ b) & prefix_mask(MIN(alen, blen))) == 0;
}

int network_pool_parse(const char *s, NetworkPool *ret) {
        /* Ranges a machine's subnet must never come from. */
        static const struct {
                uint32_t net;
                unsigned len;
        } reserved[] = {
                { 0x00000000, 8 },  /* "this network" */
                { 0x7f000000, 8 },  /* loopback */
                { 0xa9fe0000, 16 }, /* IPv4 link-local */
                { 0xe0000000, 3 },  /* multicast, reserved, broadcast */
        };
        char a[INET_ADDRSTRLEN];
        const char *slash;
        struct in_addr addr;
        unsigned len;
        uint32_t h;

        if (isempty(s))
                return -EINVAL;
        slash = strchr(s, '/');
        if (!slash || (size_t) (slash - s) >= sizeof a)
                return -EINVAL;
        memcpy(a, s, (size_t) (slash - s));
        a[slash - s] = '\0';
        if (inet_pton(AF_INET, a, &addr) != 1)
                return -EINVAL;
        if (parse_uint(slash + 1, &len) < 0 || len < 8 || len > MACHINE_PREFIXLEN)
                return -EINVAL;
        h = ntohl(addr.s_addr);
        if (h & ~prefix_mask(len))
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(reserved); i++)
                if (prefixes_overlap(h, len, reserved[i].net, reserved[i].len))
                        return -EINVAL;
        *ret = (NetworkPool) { .base = addr, .prefixlen = len };
        return 0;
}

const char *network_pool_format(const NetworkPool *p, char buf[static NETWORK_POOL_STRING_MAX]) {
        char a[INET_ADDRSTRLEN];

        inet_ntop(AF_INET, &p->base, a, sizeof a);
        snprintf(buf, NETWORK_POOL_STRING_MAX, "%s/%u", a, p->prefixlen);
        return buf;
}

static const char *ipv4_format(uint32_t host_order, char buf[static INET_ADDRSTRLEN]) {
        struct in_addr a = { .s_addr = htonl(host_order) };

        return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* Allocations are serialized by an flock on the runtime directory itself: no
 * lock file to create or clean up, and the lock goes with its holder. */
static int network_lock(int *ret_fd) {
        const char *dir = runtime_dir();
        _cleanup_close_ int fd = -EBADF;

        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* The host's links, IPv4 addresses and routes, read once under the lock. */
typedef struct HostView {
        NetlinkLink *links;
        size_t n_links;
        NetlinkAddress *addresses;
        size_t n_addresses;
        NetlinkRoute *routes;
        size_t n_routes;
} HostView;

static void host_view_done(HostView *v) {
        free(v->links);
        free(v->addresses);
        free(v->routes);
        *v = (HostView) {};
}

static int host_view_load(struct mnl_socket *nl, HostView *v) {
        int r;

        host_view_done(v);
        r = netlink_dump_links(nl, &v->links, &v->n_links);
        if (r >= 0)
                r = netlink_dump_addresses(nl, AF_INET, &v->addresses, &v->n_addresses);
        if (r >= 0)
                r = netlink_dump_routes(nl, AF_INET, &v->routes, &v->n_routes);
        return r;
}

static const NetlinkLink *host_view_link(const HostView *v, int ifindex) {
        for (size_t i = 0; i < v->n_links; i++)
                if (v->links[i].ifindex == ifindex)
                        return &v->links[i];
        return NULL;
}

static bool link_is_ours(const NetlinkLink *l) {
        return l && startswith(l->alias, ALIAS_PREFIX);
}

/* Whether a route says a network is there. Not a default route, nor one in
 * disguise: fewer than 8 prefix bits is no network anyone has, but it is how
 * VPNs take the default without replacing it (OpenVPN's "def1" adds 0.0.0.0/1
 * and 128.0.0.0/1), and it would refuse every pool. Broadcast, multicast and
 * anycast entries come with an address we see anyway. */
static bool route_counts(const NetlinkRoute *rt) {
        if (rt->dst_len < 8)
                return false;
        switch (rt->type) {
        case RTN_UNICAST:
        case RTN_LOCAL:
        case RTN_BLACKHOLE:
        case RTN_UNREACHABLE:
        case RTN_PROHIBIT:
        case RTN_THROW:
                return true;
        default:
                return false;
        }
}

/* Checks the pool against the host's own networks (anything not on a link of
 * ours): any overlap refuses the whole pool, naming the route or address. */
static int pool_check(const NetworkPool *pool, const HostView *v, char **ret_error) {
        uint32_t base = ntohl(pool->base.s_addr);
        char p[NETWORK_POOL_STRING_MAX], a[INET_ADDRSTRLEN];

        network_pool_format(pool, p);
        for (size_t i = 0; i < v->n_routes; i++) {
                const NetlinkRoute *rt = &v->routes[i];
                const NetlinkLink *l = rt->oif > 0 ? host_view_link(v, rt->oif) : NULL;

                if (!route_counts(rt) || link_is_ours(l))
                        continue;
                if (!prefixes_overlap(base, pool->prefixlen, ntohl(rt->dst.in.s_addr), rt->dst_len))
                        continue;
                inet_ntop(AF_INET, &rt->dst.in, a, sizeof a);
                return error_set(ret_error, -EADDRINUSE,
                                 "the address pool %s overlaps the host's route %s%s/%u%s%s%s",
                                 p, rt->type == RTN_UNICAST ? "" : rt->type == RTN_LOCAL ? "local " : "unroutable ",
                                 a, rt->dst_len, l ? " dev " : "", l ? l->name : "",
                                 rt->table == RT_TABLE_MAIN || rt->table == RT_TABLE_LOCAL ? "" : " (another table)");
        }
        for (size_t i = 0; i < v->n_addresses; i++) {
                const NetlinkAddress *ad = &v->addresses[i];
                const NetlinkLink *l = host_view_link(v, ad->ifindex);

                if (link_is_ours(l))
                        continue;
                if (!prefixes_overlap(base, pool->prefixlen, ntohl(ad->address.in.s_addr), ad->prefixlen))
                        continue;
                inet_ntop(AF_INET, &ad->address.in, a, sizeof a);
                return error_set(ret_error, -EADDRINUSE,
                                 "the address pool %s overlaps the host's address %s/%u on %s",
                                 p, a, ad->prefixlen, l ? l->name : "an unknown link");
        }
        return 0;
}

/* Whether a subnet of ours (an address or route on a link of ours) overlaps NET/LEN. */
static bool subnet_taken(const HostView *v, uint32_t net, unsigned len) {
        for (size_t i = 0; i < v->n_addresses; i++)
                if (prefixes_overlap(net, len, ntohl(v->addresses[i].address.in.s_addr), v->addresses[i].prefixlen))
                        return true;
        for (size_t i = 0; i < v->n_routes; i++) {
                const NetlinkRoute *rt = &v->routes[i];

                if (route_counts(rt) && prefixes_overlap(net, len, ntohl(rt->dst.in.s_addr), rt->dst_len))
                        return true;
        }
        return false;
}

/* A free subnet of LEN bits in the pool. The search starts at a slot derived
 * from KEY (the machine's or zone's name), so a machine gets the same subnet
 * each time it starts while that one is free. */
static int pool_pick(const NetworkPool *pool, const HostView *v, unsigned len, const char *key,
                     uint32_t *ret, char **ret_error) {
        char p[NETWORK_POOL_STRING_MAX];
        uint64_t n_slots, start;
        uint32_t base = ntohl(pool->base.s_addr);

        len = MAX(len, pool->prefixlen);
        n_slots = UINT64_C(1) << (len - pool->prefixlen);
        start = hash_string2("pool", key) % n_slots;
        for (uint64_t i = 0; i < n_slots; i++) {
                uint32_t net = base + (uint32_t) (((start + i) % n_slots) << (32 - len));

                if (!subnet_taken(v, net, len)) {
                        *ret = net;
                        return 0;
                }
        }
        return error_set(ret_error, -ENOSPC, "the address pool %s is exhausted: its %" PRIu64 " subnet(s) of /%u are all in use",
                         network_pool_format(pool, p), n_slots, len);
}

static int lease_from_alias(const char *alias, struct in_addr *ret) {
        const char *s = strstr(alias, ALIAS_IPV4_KEY);
        char a[INET_ADDRSTRLEN];
        size_t n;

        if (!startswith(alias, ALIAS_PREFIX) || !s)
                return -ENOENT;
        s += STRLEN(ALIAS_IPV4_KEY);
        n = strcspn(s, " ");
        if (n >= sizeof a)
                return -EINVAL;
        memcpy(a, s, n);
        a[n] = '\0';
        return inet_pton(AF_INET, a, ret) == 1 ? 0 : -EINVAL;
}

static bool zone_address_taken(const HostView *v, int bridge_ifindex, uint32_t a) {
        for (size_t i = 0; i < v->n_addresses; i++)
                if (ntohl(v->addresses[i].address.in.s_addr) == a)
                        return true;
        for (size_t i = 0; i < v->n_links; i++) {
                struct in_addr lease;

                if (v->links[i].master == bridge_ifindex && lease_from_alias(v->links[i].alias, &lease) >= 0 &&
                    ntohl(lease.s_addr) == a)
                        return true;
        }
        return false;
}

/* A free guest address in the zone's subnet: not an address on the host, not
 * the lease of another port of the bridge. */
static int zone_pick_guest(const HostView *v, NetworkLink *l, char **ret_error) {
        uint32_t net = ntohl(l->host_ipv4.s_addr) & prefix_mask(l->prefixlen);
        uint32_t n = (UINT32_C(1) << (32 - l->prefixlen)) - 2; /* less network and broadcast */
        uint32_t start = (uint32_t) (hash_string2("zone-guest", l->machine_name) % n);
        char a[INET_ADDRSTRLEN];

        for (uint32_t i = 0; i < n; i++) {
                uint32_t g = net + 1 + (start + i) % n;

                if (!zone_address_taken(v, l->bridge_ifindex, g)) {
                        l->guest_ipv4.s_addr = htonl(g);
                        return 0;
                }
        }
        return error_set(ret_error, -ENOSPC, "zone %s is full: no free address left in %s/%u", l->zone,
                         ipv4_format(net, a), l->prefixlen);
}

static int veth_create(struct mnl_socket *nl, NetworkLink *l, int netns_fd, char **ret_error) {
        NetlinkRequest req;
        struct nlattr *info, *data, *peer;
        struct ifinfomsg *ifi, *pifi;
        struct nlmsghdr *nlh;
        NetlinkLink created;
        int r;

        nlh = netlink_request(&req, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof *ifi, (void **) &ifi);
        ifi->ifi_family = AF_UNSPEC;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, l->host_ifname);
        mnl_attr_put(nlh, IFLA_ADDRESS, ETH_ALEN, &l->host_mac);
        if (l->bridge_ifindex > 0)
                mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t) l->bridge_ifindex);
        info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
        data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
        peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
        /* The peer's attributes follow an ifinfomsg of its own. */
        pifi = mnl_nlmsg_put_extra_header(nlh, sizeof *pifi);
        pifi->ifi_family = AF_UNSPEC;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, NETWORK_GUEST_IFNAME);
        mnl_attr_put(nlh, IFLA_ADDRESS, ETH_ALEN, &l->guest_mac);
        mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t) netns_fd);
        mnl_attr_nest_end(nlh, peer);
        mnl_attr_nest_end(nlh, data);
        mnl_attr_nest_end(nlh, info);

        r = netlink_call(nl, nlh, NULL, NULL);
        if (r == -EEXIST)
                return error_set(ret_error, r, "cannot create interface %s for machine %s: the name is taken "
                                 "(is a machine of that name running?)", l->host_ifname, l->machine_name);
        if (r < 0)
                return error_set(ret_error, r, "cannot create the veth %s for machine %s", l->host_ifname,
                                 l->machine_name);
        r = netlink_get_link(nl, 0, l->host_ifname, &created);
        if (r < 0)
                return error_set(ret_error, r, "cannot find the veth %s just created", l->host_ifname);
        l->host_ifindex = created.ifindex;
        return 0;
}

/* addr_gen_mode "none" (a host may default to it) would leave a link without
 * an IPv6 link-local address. Without IPv6 in the kernel there is none to get. */
static int link_enable_ipv6ll(struct mnl_socket *nl, int ifindex) {
        int r = netlink_link_set_addr_gen_mode(nl, ifindex, IN6_ADDR_GEN_MODE_EUI64);

        return r == -EAFNOSUPPORT || r == -EOPNOTSUPP ? 0 : r;
}

/* The host end, once created: its alias (our mark, and a zone guest's lease),
 * its altname, its address for a plain veth, and up. */
static int host_end_configure(struct mnl_socket *nl, const NetworkLink *l, char **ret_error) {
        char alias[256], a[INET_ADDRSTRLEN];
        int r;

        if (l->mode == NETWORK_ZONE)
                snprintf(alias, sizeof alias, ALIAS_PREFIX "machine=%s" ALIAS_IPV4_KEY "%s", l->machine_name,
                         inet_ntop(AF_INET, &l->guest_ipv4, a, sizeof a));
        else
                snprintf(alias, sizeof alias, ALIAS_PREFIX "machine=%s", l->machine_name);
        r = netlink_link_set_alias(nl, l->host_ifindex, alias);
        if (r < 0)
                return error_set(ret_error, r, "cannot set the alias of %s", l->host_ifname);
        if (!isempty(l->host_altname)) {
                r = netlink_link_add_altname(nl, l->host_ifindex, l->host_altname);
                if (r < 0)
                        return error_set(ret_error, r, "cannot give %s the alternative name %s", l->host_ifname,
                                         l->host_altname);
        }
        if (l->mode == NETWORK_VETH) {
                r = link_enable_ipv6ll(nl, l->host_ifindex);
                if (r < 0)
                        return error_set(ret_error, r, "cannot enable IPv6 link-local addressing on %s", l->host_ifname);
                r = netlink_address_add_ipv4(nl, l->host_ifindex, l->host_ipv4, l->prefixlen);
                if (r < 0)
                        return error_set(ret_error, r, "cannot add address %s/%u to %s",
                                         inet_ntop(AF_INET, &l->host_ipv4, a, sizeof a), l->prefixlen, l->host_ifname);
        }
        r = netlink_link_set_up(nl, l->host_ifindex);
        if (r < 0)
                return error_set(ret_error, r, "cannot bring %s up", l->host_ifname);
        return 0;
}

static int bridge_find(struct mnl_socket *nl, const char *name, NetworkLink *l, char **ret_error) {
        NetlinkLink b;
        int r;

        r = netlink_get_link(nl, 0, name, &b);
        if (r == -ENODEV || r == -EINVAL || r == -ERANGE)
                return error_set(ret_error, -ENODEV, "bridge %s does not exist", name);
        if (r < 0)
                return error_set(ret_error, r, "cannot look up bridge %s", name);
        if (!streq(b.kind, "bridge"))
                return error_set(ret_error, -EMEDIUMTYPE, "%s is not a bridge (it is %s%s link)", name,
                                 isempty(b.kind) ? "a plain" : "a ", isempty(b.kind) ? "" : b.kind);
        l->bridge_ifindex = b.ifindex;
        snprintf(l->bridge_ifname, sizeof l->bridge_ifname, "%s", b.name);
        return 0;
}

static int zone_bridge_create(struct mnl_socket *nl, NetworkLink *l, char **ret_error) {
        char alias[64];
        NetlinkRequest req;
        struct nlattr *info, *data;
        struct ifinfomsg *ifi;
        struct nlmsghdr *nlh;
        struct ether_addr mac;
        NetlinkLink b;
        int r;

        /* A MAC of its own, or the bridge takes its ports' lowest and changes
         * as machines come and go, upsetting the guests' neighbour caches. */
        network_mac(NETWORK_MAC_ZONE, l->zone, &mac);
        nlh = netlink_request(&req, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof *ifi, (void **) &ifi);
        ifi->ifi_family = AF_UNSPEC;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, l->bridge_ifname);
        mnl_attr_put(nlh, IFLA_ADDRESS, ETH_ALEN, &mac);
        info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
        data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
        /* Without STP a port still waits forward_delay (15 s) in "learning". */
        mnl_attr_put_u32(nlh, IFLA_BR_FORWARD_DELAY, 0);
        mnl_attr_nest_end(nlh, data);
        mnl_attr_nest_end(nlh, info);
        r = netlink_call(nl, nlh, NULL, NULL);
        if (r < 0)
                return error_set(ret_error, r, "cannot create bridge %s for zone %s", l->bridge_ifname, l->zone);
        r = netlink_get_link(nl, 0, l->bridge_ifname, &b);
        if (r < 0)
                return error_set(ret_error, r, "cannot find bridge %s just created", l->bridge_ifname);
        l->bridge_ifindex = b.ifindex;

        snprintf(alias, sizeof alias, ALIAS_ZONE_PREFIX "%s", l->zone);
        r = netlink_link_set_alias(nl, b.ifindex, alias);
        if (r >= 0)
                r = link_enable_ipv6ll(nl, b.ifindex);
        if (r >= 0)
                r = netlink_link_set_up(nl, b.ifindex);
        if (r < 0)
                return error_set(ret_error, r, "cannot set up bridge %s for zone %s", l->bridge_ifname, l->zone);
        return 0;
}

/* The zone's bridge, made when missing (*created says so). */
static int zone_bridge_get(struct mnl_socket *nl, NetworkLink *l, bool *created, char **ret_error) {
        NetlinkLink b;
        int r;

        r = netlink_get_link(nl, 0, l->bridge_ifname, &b);
        if (r == -ENODEV) {
                r = zone_bridge_create(nl, l, ret_error);
                if (r < 0 && l->bridge_ifindex > 0) {
                        (void) netlink_link_delete(nl, l->bridge_ifindex);
                        l->bridge_ifindex = 0;
                }
                *created = r >= 0;
                return r;
        }
        if (r < 0)
                return error_set(ret_error, r, "cannot look up bridge %s of zone %s", l->bridge_ifname, l->zone);
        if (!streq(b.kind, "bridge"))
                return error_set(ret_error, -EMEDIUMTYPE, "%s exists and is not a bridge: zone %s cannot use it",
                                 l->bridge_ifname, l->zone);
        l->bridge_ifindex = b.ifindex;
        return 0;
}

/* The zone's subnet: the bridge's IPv4 address, given one from the pool when
 * it has none yet. */
static int zone_subnet_get(struct mnl_socket *nl, const NetworkPool *pool, HostView *v, NetworkLink *l,
                           char **ret_error) {
        char a[INET_ADDRSTRLEN];
        uint32_t net;
        int r;

        for (size_t i = 0; i < v->n_addresses; i++)
                if (v->addresses[i].ifindex == l->bridge_ifindex && v->addresses[i].prefixlen <= MACHINE_PREFIXLEN) {
                        l->host_ipv4 = v->addresses[i].address.in;
                        l->prefixlen = v->addresses[i].prefixlen;
                        return 0;
                }

        r = pool_check(pool, v, ret_error);
        if (r < 0)
                return r;
        r = pool_pick(pool, v, ZONE_PREFIXLEN, l->zone, &net, ret_error);
        if (r < 0)
                return r;
        l->host_ipv4.s_addr = htonl(net + 1);
        l->prefixlen = MAX(ZONE_PREFIXLEN, pool->prefixlen);
        r = netlink_address_add_ipv4(nl, l->bridge_ifindex, l->host_ipv4, l->prefixlen);
        if (r < 0)
                return error_set(ret_error, r, "cannot add address %s/%u to bridge %s",
                                 inet_ntop(AF_INET, &l->host_ipv4, a, sizeof a), l->prefixlen, l->bridge_ifname);
        /* The view must see it, so the guest does not pick the bridge's address. */
        return host_view_load(nl, v);
}

static int link_prepare(const NetworkRequest *req, NetworkLink *l, NetworkPool *pool, char **ret_error) {
        const char *prefix = req->mode == NETWORK_VETH ? "ve-" : "vb-";
        char full[NETWORK_ALTNAME_MAX];
        int r;

        if (req->mode <= NETWORK_NONE || req->mode >= _NETWORK_MODE_MAX)
                return error_set(ret_error, -EINVAL, "unknown network mode");
        if (!req->machine_name || !machine_name_is_valid(req->machine_name))
                return error_set(ret_error, -EINVAL, "invalid machine name: %s", strempty(req->machine_name));
        if (req->mode == NETWORK_BRIDGE && isempty(req->bridge))
                return error_set(ret_error, -EINVAL, "no bridge given");
        if (req->mode == NETWORK_ZONE && !network_zone_name_is_valid(req->zone))
                return error_set(ret_error, -EINVAL, "invalid zone name \"%s\": at most %d characters of [a-zA-Z0-9_-]",
                                 strempty(req->zone), NETWORK_ZONE_NAME_MAX);

        *l = (NetworkLink) { .mode = req->mode };
        snprintf(l->machine_name, sizeof l->machine_name, "%s", req->machine_name);
        r = network_ifname(prefix, req->machine_name, l->host_ifname);
        if (r < 0)
                return error_set(ret_error, r, "machine name %s makes no interface name", req->machine_name);
        if (r > 0) {
                snprintf(full, sizeof full, "%s%s", prefix, req->machine_name);
                memcpy(l->host_altname, full, sizeof full);
        }
        network_mac(NETWORK_MAC_HOST, req->machine_name, &l->host_mac);
        network_mac(NETWORK_MAC_GUEST, req->machine_name, &l->guest_mac);
        if (req->mode == NETWORK_ZONE) {
                snprintf(l->zone, sizeof l->zone, "%s", req->zone);
                r = network_ifname("vz-", req->zone, l->bridge_ifname);
                if (r < 0)
                        return error_set(ret_error, r, "zone name %s makes no interface name", req->zone);
        }

        if (req->pool.prefixlen == 0)
                return network_pool_parse(NETWORK_POOL_DEFAULT, pool);
        *pool = req->pool;
        if (pool->prefixlen < 8 || pool->prefixlen > MACHINE_PREFIXLEN ||
            (ntohl(pool->base.s_addr) & ~prefix_mask(pool->prefixlen)))
                return error_set(ret_error, -EINVAL, "invalid address pool");
        return 0;
}

/* Under the lock: everything on the host side. On failure *l says what to undo. */
static int setup_host_locked(struct mnl_socket *nl, const NetworkRequest *req, const NetworkPool *pool, int netns_fd,
                             NetworkLink *l, bool *zone_created, char **ret_error) {
        _cleanup_(host_view_done) HostView v = {};
        uint32_t net;
        int r;

        if (l->mode == NETWORK_BRIDGE) {
                r = bridge_find(nl, req->bridge, l, ret_error);
                if (r < 0)
                        return r;
        } else if (l->mode == NETWORK_ZONE) {
                r = zone_bridge_get(nl, l, zone_created, ret_error);
                if (r < 0)
                        return r;
        }

        if (l->mode == NETWORK_VETH || l->mode == NETWORK_ZONE) {
                r = host_view_load(nl, &v);
                if (r < 0)
                        return error_set(ret_error, r, "cannot read the host's addresses and routes");
        }
        if (l->mode == NETWORK_VETH) {
                r = pool_check(pool, &v, ret_error);
                if (r < 0)
                        return r;
                r = pool_pick(pool, &v, MACHINE_PREFIXLEN, l->machine_name, &net, ret_error);
                if (r < 0)
                        return r;
                l->has_ipv4 = true;
                l->prefixlen = MACHINE_PREFIXLEN;
                l->host_ipv4.s_addr = htonl(net + 1);
                l->guest_ipv4.s_addr = htonl(net + 2);
        } else if (l->mode == NETWORK_ZONE) {
                r = zone_subnet_get(nl, pool, &v, l, ret_error);
                if (r < 0)
                        return r;
                r = zone_pick_guest(&v, l, ret_error);
                if (r < 0)
                        return r;
                l->has_ipv4 = true;
        }

        r = veth_create(nl, l, netns_fd, ret_error);
        if (r < 0)
                return r;
        return host_end_configure(nl, l, ret_error);
}

int network_setup_host(const NetworkRequest *req, pid_t pid, NetworkLink *ret, char **ret_error) {
        _cleanup_mnl_socket_ struct mnl_socket *nl = NULL;
        _cleanup_close_ int netns_fd = -EBADF, lock_fd = -EBADF;
        NetworkLink l = NETWORK_LINK_NULL;
        bool zone_created = false;
        NetworkPool pool;
        char path[64];
        int r;

        if (req->mode == NETWORK_NONE) {
                *ret = l;
                return 0;
        }
        r = link_prepare(req, &l, &pool, ret_error);
        if (r < 0)
                return r;

        snprintf(path, sizeof path, "/proc/%d/ns/net", (int) pid);
        netns_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (netns_fd < 0)
                return error_set(ret_error, errno == ENOENT ? -ESRCH : -errno,
                                 "cannot open the network namespace of PID %d", (int) pid);
        r = netlink_open(&nl);
        if (r < 0)
                return error_set(ret_error, r, "cannot open an rtnetlink socket");
        r = network_lock(&lock_fd);
        if (r < 0)
                return error_set(ret_error, r, "cannot lock the runtime directory for the address pool");

        r = setup_host_locked(nl, req, &pool, netns_fd, &l, &zone_created, ret_error);
        if (r < 0) {
                if (l.host_ifindex > 0)
                        (void) netlink_link_delete(nl, l.host_ifindex);
                /* Ours and made just now: with our port gone it has none. */
                if (zone_created && l.bridge_ifindex > 0)
                        (void) netlink_link_delete(nl, l.bridge_ifindex);
                return r;
        }
        log_debug("Network of machine %s: %s (ifindex %d)%s%s", l.machine_name, l.host_ifname, l.host_ifindex,
                  l.bridge_ifindex > 0 ? " on " : "", l.bridge_ifindex > 0 ? l.bridge_ifname : "");
        *ret = l;
        return 0;
}

int network_setup_guest(pid_t pid, const NetworkLink *l, char **ret_error) {
        _cleanup_mnl_socket_ struct mnl_socket *nl = NULL;
        char a[INET_ADDRSTRLEN];
        NetlinkLink lo, g;
        int r;

        r = netlink_open_in_netns(pid, &nl);
        if (r < 0)
                return error_set(ret_error, r, "cannot open an rtnetlink socket in the network namespace of PID %d",
                                 (int) pid);
        r = netlink_get_link(nl, 0, "lo", &lo);
        if (r >= 0)
                r = netlink_link_set_up(nl, lo.ifindex);
        if (r < 0)
                return error_set(ret_error, r, "cannot bring up lo in machine %s", strempty(l->machine_name));
        if (l->mode == NETWORK_NONE)
                return 0;

        r = netlink_get_link(nl, 0, NETWORK_GUEST_IFNAME, &g);
        if (r < 0)
                return error_set(ret_error, r, "no %s in machine %s", NETWORK_GUEST_IFNAME, l->machine_name);
        r = link_enable_ipv6ll(nl, g.ifindex);
        if (r < 0)
                return error_set(ret_error, r, "cannot enable IPv6 link-local addressing on %s in machine %s",
                                 NETWORK_GUEST_IFNAME, l->machine_name);
        if (l->has_ipv4) {
                r = netlink_address_add_ipv4(nl, g.ifindex, l->guest_ipv4, l->prefixlen);
                if (r < 0)
                        return error_set(ret_error, r, "cannot add address %s/%u to %s in machine %s",
                                         inet_ntop(AF_INET, &l->guest_ipv4, a, sizeof a), l->prefixlen,
                                         NETWORK_GUEST_IFNAME, l->machine_name);
        }
        r = netlink_link_set_up(nl, g.ifindex);
        if (r < 0)
                return error_set(ret_error, r, "cannot bring %s up in machine %s", NETWORK_GUEST_IFNAME, l->machine_name);
        if (l->has_ipv4) {
                /* After "up": the kernel refuses a gateway on a link that is down. */
                r = netlink_route_add_ipv4_default(nl, g.ifindex, l->host_ipv4);
                if (r < 0)
                        return error_set(ret_error, r, "cannot add the default route via %s in machine %s",
                                         inet_ntop(AF_INET, &l->host_ipv4, a, sizeof a), l->machine_name);
        }
        return 0;
}

int network_host_ifindex(const NetworkLink *l) {
        return l && l->host_ifindex > 0 ? l->host_ifindex : 0;
}

/* RTM_DELLINK of a veth waits, inside the request, for RCU to settle
 * (rcu_barrier() on unregistering: 11 to 24 ms measured here), and so would
 * boxctl's exit. But a veth goes anyway with the machine's network namespace,
 * which the kernel frees in the background after its last process. So take
 * the host end out of the way instead, with requests that do not wait: down,
 * without its IPv4 address (the lease) and its altname, renamed "ve~IFINDEX"
 * (a name no machine's host end can have). The next start of the machine
 * finds its name, altname and lease free at once. */
static int host_end_retire(struct mnl_socket *nl, const NetworkLink *l) {
        char name[IFNAMSIZ];
        int r;

        /* Out of a bridge of the user's too: a port that is dying has no place there. */
        r = netlink_link_set_down(nl, l->host_ifindex, l->mode == NETWORK_BRIDGE);
        if (r < 0)
                return r;
        if (l->mode == NETWORK_VETH && l->has_ipv4) {
                r = netlink_address_del_ipv4(nl, l->host_ifindex, l->host_ipv4, l->prefixlen);
                if (r < 0 && r != -EADDRNOTAVAIL)
                        return r;
        }
        if (!isempty(l->host_altname)) {
                r = netlink_link_del_altname(nl, l->host_ifindex, l->host_altname);
                if (r < 0 && r != -ENOENT && r != -ENODATA)
                        return r;
        }
        snprintf(name, sizeof name, "ve~%x", (unsigned) l->host_ifindex);
        return netlink_link_rename(nl, l->host_ifindex, name, ALIAS_PREFIX "retired");
}

int network_teardown(NetworkLink *l) {
        int r = 0;

        if (l->host_ifindex > 0) {
                _cleanup_mnl_socket_ struct mnl_socket *nl = NULL;
                NetlinkLink cur;

                r = netlink_open(&nl);
                if (r >= 0) {
                        /* Ifindexes are not reused soon, but check it is still ours. */
                        r = netlink_get_link(nl, l->host_ifindex, NULL, &cur);
                        if (r >= 0 && streq(cur.name, l->host_ifname)) {
                                /* A zone's bridge goes when its last port has: delete
                                 * the port now. Else retire it, and delete it only if
                                 * that fails. */
                                if (l->mode != NETWORK_ZONE && host_end_retire(nl, l) >= 0)
                                        r = 0;
                                else
                                        r = netlink_link_delete(nl, l->host_ifindex);
                        }
                        if (r == -ENODEV)
                                r = 0;
                }
                if (r >= 0)
                        l->host_ifindex = 0;
        }
        if (l->mode == NETWORK_ZONE && !isempty(l->zone)) {
                int k = network_zone_remove_if_empty(l->zone);

                if (k < 0 && k != -ENODEV && r >= 0)
                        r = k;
        }
        return r;
}

int network_zone_remove_if_empty(const char *zone) {
        _cleanup_mnl_socket_ struct mnl_socket *nl = NULL;
        _cleanup_close_ int lock_fd = -EBADF;
        _cleanup_free_ NetlinkLink *links = NULL;
        char name[IFNAMSIZ];
        NetlinkLink b;
        size_t n;
        int r;

        if (!network_zone_name_is_valid(zone))
                return -EINVAL;
        r = network_ifname("vz-", zone, name);
        if (r < 0)
                return r;
        r = netlink_open(&nl);
        if (r < 0)
                return r;
        /* Under the lock: a machine joining the zone makes the bridge and its
         * port in one locked step, so an empty bridge here is nobody's. */
        r = network_lock(&lock_fd);
        if (r < 0)
                return r;
        r = netlink_get_link(nl, 0, name, &b);
        if (r < 0)
                return r;
        if (!streq(b.kind, "bridge") || !startswith(b.alias, ALIAS_ZONE_PREFIX))
                return 0; /* made by someone else: theirs to remove */
        r = netlink_dump_links(nl, &links, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (links[i].master == b.ifindex)
                        return 0;
        r = netlink_link_delete(nl, b.ifindex);
        if (r == -ENODEV)
                return -ENODEV;
        return r < 0 ? r : 1;
}
