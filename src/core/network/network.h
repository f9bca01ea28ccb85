/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A machine's network, set up entirely from the host side once the payload
 * exists in its new network namespace and before it starts its init; the
 * guest runs nothing of ours and needs no networkd.
 *
 *   veth    ve-NAME (host) <-> host0 (guest), a /30 from the pool: host .1,
 *           guest .2 with a default route via .1.
 *   bridge  vb-NAME joins an existing bridge; addresses are that network's
 *           business (DHCP or static in the guest): we assign no IPv4.
 *   zone    vb-NAME joins vz-ZONE, made on first use with a /24 from the pool
 *           (the bridge holds .1); each guest gets a free address in it with a
 *           default route via the bridge, so machines of a zone reach each
 *           other and the host. The bridge goes when its last port does.
 *
 * IPv6 link-local addresses come up on both ends by themselves (we make sure
 * the links are up and addr_gen_mode is not "none"). We do not enable IPv4
 * forwarding or NAT: the host reaches the guest and the guest the host, nothing
 * further (the guest's default route only makes the host its first hop).
 *
 * Nothing outlives boxctl: a veth dies with the machine's network namespace,
 * and so does the IPv4 subnet it holds, because the lease *is* the address on
 * the host end (for a zone, the guest's address is written in the ifalias of
 * its port). Allocations are serialized by an flock on the runtime directory
 * itself, so no lock file is left behind. The only thing that could outlive a
 * SIGKILLed boxctl is a zone's bridge; the guard (network-guard.h) removes it. */

#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/types.h>

#include "macro.h"

#define NETWORK_POOL_DEFAULT "10.133.0.0/16"
#define NETWORK_GUEST_IFNAME "host0"
#define NETWORK_ZONE_NAME_MAX 12 /* "vz-" + 12 = IFNAMSIZ - 1 */
#define NETWORK_ALTNAME_MAX 128  /* ALTIFNAMSIZ */

typedef enum NetworkMode {
        NETWORK_NONE,   /* we set nothing up (host network, or a namespace with only lo) */
        NETWORK_VETH,   /* --network-veth */
        NETWORK_BRIDGE, /* --network-bridge=BR */
        NETWORK_ZONE,   /* --network-zone=ZONE */
        _NETWORK_MODE_MAX,
        _NETWORK_MODE_INVALID = -EINVAL,
} NetworkMode;

const char *network_mode_to_string(NetworkMode m) _pure_;
NetworkMode network_mode_from_string(const char *s) _pure_;

/* An IPv4 range that machines' subnets are taken from. */
typedef struct NetworkPool {
        struct in_addr base; /* host bits zero */
        unsigned prefixlen;  /* 8..30 */
} NetworkPool;

#define NETWORK_POOL_STRING_MAX sizeof("255.255.255.255/32")

/* "A.B.C.D/N". -EINVAL: not that form, host bits set, a prefix outside 8..30,
 * or a range no machine should have (0/8, loopback, link-local, multicast). */
int network_pool_parse(const char *s, NetworkPool *ret);
const char *network_pool_format(const NetworkPool *p, char buf[static NETWORK_POOL_STRING_MAX]);

/* At most 12 characters of [a-zA-Z0-9_-]. */
bool network_zone_name_is_valid(const char *zone) _pure_;

/* PREFIX ("ve-", "vb-", "vz-") + NAME as an interface name. When longer than
 * IFNAMSIZ - 1 it becomes PREFIX + the first characters + "-" + 4 hex digits
 * of a hash of the full name, the same every time. 1 when shortened, 0 when
 * not, -EINVAL for a name no interface may have. */
int network_ifname(const char *prefix, const char *name, char ret[static IFNAMSIZ]);

typedef enum NetworkMacKind {
        NETWORK_MAC_HOST,  /* the host end of a machine's veth */
        NETWORK_MAC_GUEST, /* host0 */
        NETWORK_MAC_ZONE,  /* a zone's bridge (from the zone's name) */
        _NETWORK_MAC_KIND_MAX,
} NetworkMacKind;

/* A stable MAC derived from NAME: locally administered, unicast, different
 * for each kind. */
void network_mac(NetworkMacKind kind, const char *name, struct ether_addr *ret);

/* What the machine asks for. */
typedef struct NetworkRequest {
        NetworkMode mode;
        const char *machine_name;
        const char *bridge; /* NETWORK_BRIDGE: an existing bridge */
        const char *zone;   /* NETWORK_ZONE */
        NetworkPool pool;   /* NETWORK_VETH, NETWORK_ZONE; all zeros: the default */
} NetworkRequest;

/* What it got. */
typedef struct NetworkLink {
        NetworkMode mode;
        char machine_name[65];
        int host_ifindex;                       /* 0: none (yet, or any more) */
        char host_ifname[IFNAMSIZ];             /* ve-NAME, vb-NAME, maybe shortened */
        char host_altname[NETWORK_ALTNAME_MAX]; /* the full name when shortened, else "" */
        struct ether_addr host_mac, guest_mac;
        int bridge_ifindex;                     /* bridge and zone */
        char bridge_ifname[IFNAMSIZ];
        char zone[NETWORK_ZONE_NAME_MAX + 1];
        bool has_ipv4;
        struct in_addr host_ipv4;  /* veth: .1 of the /30; zone: the bridge's address */
        struct in_addr guest_ipv4; /* also the address port forwards connect to */
        unsigned prefixlen;
} NetworkLink;

#define NETWORK_LINK_NULL ((NetworkLink) { .mode = NETWORK_NONE })

/* Creates the veth with its guest end (host0) directly in the network
 * namespace of PID, which must be our unreaped child (so the PID cannot be
 * reused meanwhile); names, MACs, altname, bridge or zone, the IPv4 subnet and
 * the host end's address; links up on our side. On failure nothing is left
 * and *ret_error says what failed, naming the conflicting route for a pool
 * that overlaps the host's networks (-EADDRINUSE); -ENOSPC: pool or zone
 * exhausted; -ENODEV: no such bridge; -EMEDIUMTYPE: not a bridge; -EEXIST:
 * the interface name is taken. NETWORK_NONE: nothing to do, *ret is empty. */
int network_setup_host(const NetworkRequest *req, pid_t pid, NetworkLink *ret, char **ret_error);

/* Configures the guest's side from here: lo up; host0's addr_gen_mode, its
 * IPv4 address, up, default route via the host end (or the zone's bridge). */
int network_setup_guest(pid_t pid, const NetworkLink *link, char **ret_error);

/* For the registry: the host end's ifindex, 0 when there is none. */
int network_host_ifindex(const NetworkLink *link) _pure_;

/* After the machine ended: retires the host end (down, its lease and altname
 * removed, renamed ve~IFINDEX; it goes with the machine's network namespace,
 * which the kernel frees in the background), or for a zone deletes it and
 * then the bridge if no port is left. Safe to call twice. */
int network_teardown(NetworkLink *link);

/* Removes the zone's bridge when boxctl made it and no port is left. 1:
 * removed; 0: still has ports, or not ours; -ENODEV: no such bridge. */
int network_zone_remove_if_empty(const char *zone);
