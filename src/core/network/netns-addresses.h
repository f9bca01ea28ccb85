/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <netinet/in.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct NetAddress {
        int family; /* AF_INET or AF_INET6 */
        int ifindex;
        union {
                struct in_addr in;
                struct in6_addr in6;
                uint8_t bytes[16];
        } address;
} NetAddress;

/* 1 when PID lives in the network namespace we do, 0 when not. */
int netns_is_ours(pid_t pid);

/* The addresses of the network namespace of PID, less host-scope ones
 * (127.0.0.1, ::1). Asks rtnetlink from a child that joined that namespace. */
int netns_get_addresses(pid_t pid, NetAddress **ret, size_t *ret_n);
