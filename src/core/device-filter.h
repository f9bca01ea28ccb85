/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The device policy of a machine: a BPF_CGROUP_DEVICE program on its cgroup
 * (cgroup2's replacement for the v1 devices controller; it applies on the
 * hybrid layout too, since every process is also in the cgroup2 hierarchy).
 *
 * boxctl's own machines get the built-in policy: their processes create and
 * open only the devices of their own /dev (null, zero, full, random, urandom,
 * tty, console, ptmx, its ptys) and nothing else: no disk, no loop device,
 * not /dev/mem. An OCI container gets the rules of its config.json's
 * linux.resources.devices, then runc's defaults (device_policy_add_defaults),
 * read as the v1 devices controller reads writes to devices.allow and
 * devices.deny, which is also what runc emulates. */

enum {
        DEVICE_ACCESS_MKNOD = 1 << 0, /* the kernel's BPF_DEVCG_ACC_* bits */
        DEVICE_ACCESS_READ = 1 << 1,
        DEVICE_ACCESS_WRITE = 1 << 2,
        DEVICE_ACCESS_ALL = 7,
};

typedef struct DeviceRule {
        char type;            /* 'a' (all), 'b' or 'c' */
        int64_t major, minor; /* -1: any */
        unsigned access;      /* DEVICE_ACCESS_* */
        bool allow;
} DeviceRule;

/* The state the rules leave: a default and its exceptions, in the order the
 * exceptions were first made (the v1 devices.list order). */
typedef struct DevicePolicy {
        bool default_allow;
        DeviceRule *exceptions;
        size_t n_exceptions;
} DevicePolicy;

void device_policy_done(DevicePolicy *p);
/* Applies RULE as a write to v1's devices.allow (allow) or devices.deny would:
 * type 'a' with both numbers any resets the policy to allow or deny all; a
 * rule of the default's kind takes access away from the exception with the
 * same type and numbers; the other kind adds to it, or adds one. */
int device_policy_apply(DevicePolicy *p, const DeviceRule *rule);
/* runc's (libcontainer/specconv's AllowedDevices): mknod of any character or
 * block device, the nodes of a usual /dev, the ptys and /dev/net/tun. As
 * runc, not the rule of a node in SKIP_PATHS (a config's linux.devices gives
 * that node, and its rules must allow it). */
int device_policy_add_defaults(DevicePolicy *p, char *const *skip_paths);
/* "c 1:3 rwm" (v1's syntax), into BUF. */
const char *device_rule_to_string(const DeviceRule *r, char *buf, size_t size);
/* Parses "rwm" (any of them, in any order, at least one): -EINVAL otherwise. */
int device_access_from_string(const char *s, unsigned *ret);

/* Attaches the policy P (NULL: the built-in one) to the cgroup2 CGROUP_FD.
 * With BOXCTL_DEBUG_BPF set in the environment, a program the kernel refuses
 * comes back with the verifier's log in *RET_ERROR (may be NULL); otherwise
 * *RET_ERROR is left alone. */
int device_filter_attach(int cgroup_fd, const DevicePolicy *p, char **ret_error);
/* Writes P into a v1 devices cgroup (its directory fd): "a" to devices.deny
 * or devices.allow, then each exception, so that devices.list reads back as
 * P. A machine's cgroup on the hybrid layout, before any process is in it. */
int device_policy_write_v1(int devices_dir_fd, const DevicePolicy *p);
