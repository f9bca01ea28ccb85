/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <netdb.h>
#include <nss.h>
#include <stddef.h>
#include <stdint.h>

/* One address of a machine, as GetMachineAddresses gives it. */
typedef struct NssAddress {
        int family; /* AF_INET or AF_INET6 */
        uint8_t bytes[16];
} NssAddress;

/* How glibc's hosts functions want an answer laid out in the caller's
 * buffer, where nothing may be allocated. Pure, so that it is unit-tested.
 * Both return -ERANGE when BUF is too small (glibc retries with a bigger
 * one) and -ENODATA when no address is of the family asked for. IPv6
 * link-local addresses are left out: without a scope the host cannot use them. */

/* gethostbyname4_r: a chain of tuples, every address of either family. */
int nss_pack_addrtuples(const char *name, const NssAddress *a, size_t n, char *buf, size_t buflen,
                        struct gaih_addrtuple **ret);

/* gethostbyname{,2,3}_r: a hostent of the addresses of family AF. */
int nss_pack_hostent(const char *name, int af, const NssAddress *a, size_t n, char *buf, size_t buflen,
                     struct hostent *ret);
