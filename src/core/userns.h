/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

/* A machine's user namespace: which host UIDs its 0..65535 are, and the lock
 * that keeps two running machines off one range. */

#define UID_RANGE_SIZE UINT32_C(0x10000)
#define UID_PICK_MIN UINT32_C(0x00080000)
#define UID_PICK_MAX UINT32_C(0x6FFF0000)

typedef enum UserNamespaceMode {
        USERNS_NO,       /* the host's user namespace */
        USERNS_PICK,     /* a free 65,536-aligned range, derived from the name */
        USERNS_IDENTITY, /* a user namespace whose 0..65535 are the host's 0..65535 */
        USERNS_FIXED,    /* BASE[:SIZE] as given */
        _USERNS_MODE_MAX,
        _USERNS_MODE_INVALID = -EINVAL,
} UserNamespaceMode;

typedef enum OwnershipMode {
        OWNERSHIP_AUTO,  /* idmap where the file system can, chown where it cannot */
        OWNERSHIP_IDMAP, /* an idmapped mount: nothing on disk changes */
        OWNERSHIP_CHOWN, /* shift every file's owner on disk (resumable) */
        OWNERSHIP_OFF,   /* neither: files show their host owners (mostly "nobody") */
        _OWNERSHIP_MODE_MAX,
        _OWNERSHIP_MODE_INVALID = -EINVAL,
} OwnershipMode;

typedef struct UidRange {
        uint32_t base, size;
        int lock_fd;
        char *lock_path;
} UidRange;

#define UID_RANGE_NULL ((UidRange) { .lock_fd = -EBADF })

const char *userns_mode_to_string(UserNamespaceMode m) _pure_;
UserNamespaceMode userns_mode_from_string(const char *s) _pure_;
const char *ownership_mode_to_string(OwnershipMode m) _pure_;
OwnershipMode ownership_mode_from_string(const char *s) _pure_;

/* "pick", "identity", "no"/"yes"/boolean, or BASE[:SIZE]. -ERANGE for a BASE
 * that is out of range, -EDOM for one not 65,536-aligned. */
int userns_parse(const char *s, UserNamespaceMode *ret_mode, uint32_t *ret_base, uint32_t *ret_size);

/* The n-th candidate base for a machine name: the same name gets the same
 * first candidate every time. */
uint32_t uid_range_candidate(const char *machine_name, unsigned n);

/* Takes a range for the machine's life: -EBUSY when a fixed one is held by
 * another machine, -EADDRNOTAVAIL when no candidate is free. */
int uid_range_acquire(UserNamespaceMode mode, const char *machine_name, uint32_t base, uint32_t size,
                      UidRange *ret);
void uid_range_release(UidRange *r);

/* Writes "0 BASE SIZE" to the uid and gid maps of PID. */
int userns_write_maps(pid_t pid, uint32_t base, uint32_t size);
/* Writes UID_MAP and GID_MAP ("CID HID SIZE" lines) as they are. */
int userns_write_map_text(pid_t pid, const char *uid_map, const char *gid_map);
