/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Port forwarding, -p/--port [tcp|udp:]HOSTPORT[:MACHINEPORT], as a userspace
 * proxy on boxctl's sd-event loop: it listens on the host on [::] with
 * IPV6_V6ONLY off and, for each connection, connects to the guest's IPv4
 * address and copies both ways.
 *
 * Why a proxy and not DNAT as systemd-nspawn does:
 *  - it answers on 127.0.0.1 and ::1 too. DNAT in PREROUTING never sees
 *    connections to loopback, and in OUTPUT the rewritten packets keep a
 *    127.0.0.1 source the kernel will not route out (systemd issue #6106);
 *    and any host address, v4 or v6, reaches a guest that has only IPv4;
 *  - no nftables rules to add, nor to leak when boxctl is SIGKILLed: the
 *    listening socket dies with the process; no ip_forward or route_localnet.
 * The cost: the guest sees the host end's address as its client, not the real
 * peer; and the bytes pass through boxctl (a development machine's ssh or web
 * server does not notice).
 *
 * TCP: non-blocking both ways with a 64 KiB buffer per direction, so a slow
 * reader slows the writer (back-pressure) instead of filling our memory; an
 * EOF from one side becomes shutdown(SHUT_WR) on the other once its buffer is
 * drained (half-close); an error on one side resets the other.
 * UDP: a socket to the guest per client address, dropped after an idle
 * timeout; replies leave from the address the client wrote to. */

#include <netinet/in.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "macro.h"

typedef struct PortSpec {
        int protocol; /* IPPROTO_TCP or IPPROTO_UDP */
        uint16_t host_port;
        uint16_t machine_port;
} PortSpec;

/* "[tcp|udp:]HOSTPORT[:MACHINEPORT]"; MACHINEPORT defaults to HOSTPORT.
 * -EPROTONOSUPPORT: a protocol other than tcp or udp; -ERANGE: a port
 * outside 1..65535; -EINVAL: anything else malformed. */
int port_spec_parse(const char *s, PortSpec *ret);
const char *port_protocol_to_string(int protocol) _pure_;

#define PORT_FORWARD_UDP_IDLE_USEC (60 * UINT64_C(1000000))

typedef struct PortForward PortForward;

/* Starts listening on the host port; connections go to GUEST:MACHINEPORT.
 * -EADDRINUSE: the host port is taken (by another program, or another
 * machine's forward): the caller should say so. */
int port_forward_new(sd_event *e, const PortSpec *spec, struct in_addr guest, PortForward **ret);
/* Closes the listener and every connection. Takes NULL, returns NULL. */
PortForward *port_forward_free(PortForward *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(PortForward *, port_forward_free)

void port_forward_set_udp_idle_timeout(PortForward *f, uint64_t usec);
/* Open TCP connections plus live UDP sessions. */
size_t port_forward_n_connections(const PortForward *f) _pure_;
