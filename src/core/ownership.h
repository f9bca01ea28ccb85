/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* The chown fallback for file systems that cannot idmap: every file's owner
 * becomes BASE + (owner % 65536), so the shift is idempotent. An interrupted
 * shift is therefore finished, not undone by guesswork, by running it again;
 * the tree's top carries an xattr while one is under way, so the next start
 * knows. BASE 0 shifts a tree back. */

/* 1 and the base when a shift of ROOT was interrupted, 0 when none was. */
int ownership_shift_pending(const char *root, uint32_t *ret_base);

/* 1 when the tree's top is already owned by BASE and no shift is pending. */
int ownership_is_shifted(const char *root, uint32_t base);

/* Told the count of files seen every few thousand files, and once more with
 * DONE set when it told any, so that a caller can show a running count. */
typedef void (*OwnershipProgress)(uint64_t n_files, bool done, void *userdata);

/* Shifts every file below ROOT on its file system; PROGRESS (may be NULL)
 * hears how far it got. -EROFS when the file system is read-only. */
int ownership_shift(const char *root, uint32_t base, OwnershipProgress progress, void *userdata,
                    uint64_t *ret_changed);

/* Whether the file system of PATH takes idmapped mounts: 1 yes, 0 no. */
int ownership_probe_idmap(const char *path);
