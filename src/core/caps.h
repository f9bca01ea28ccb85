/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* The bounding set a machine gets unless told otherwise: systemd-nspawn's default. */
uint64_t caps_default(void);
uint64_t caps_all(void);

/* "CAP_SYS_ADMIN,net_admin" or "all" into a mask. -EINVAL names an unknown capability
 * through *ret_bad (a pointer into a copy the caller frees). */
int caps_parse(const char *list, uint64_t *ret, char **ret_bad);

/* What this process can give a machine that has no user namespace of its
 * own: the capabilities both in its permitted and in its bounding set, of
 * those the kernel knows. (This host's root may lack some: CAP_SYS_RESOURCE
 * in a container.) */
uint64_t caps_held(void);

/* Formats a mask as "cap_chown,cap_kill,...". */
char *caps_to_string(uint64_t mask);

/* In the payload, before exec: drop everything outside MASK from the bounding,
 * inheritable and ambient sets. */
int caps_apply_bounding(uint64_t mask);
/* Drops everything outside MASK from the effective, permitted and inheritable
 * sets, at once: for a process about to be seen by a machine. */
int caps_limit(uint64_t mask);
