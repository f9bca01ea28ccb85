/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stddef.h>

#include "pool-tar.h"

/* pull-tar and pull-raw: an image of the pool from an HTTP or HTTPS URL,
 * verified as importctl does before anything of it becomes an image. */

typedef enum PoolVerify {
        POOL_VERIFY_NO,        /* take the download as it comes */
        POOL_VERIFY_CHECKSUM,  /* its SHA-256 is the one SHA256SUMS beside it has for its name */
        POOL_VERIFY_SIGNATURE, /* and SHA256SUMS.gpg signs SHA256SUMS with a key of the keyring */
        _POOL_VERIFY_MAX,
        _POOL_VERIFY_INVALID = -EINVAL,
} PoolVerify;

const char *pool_verify_to_string(PoolVerify v);
PoolVerify pool_verify_from_string(const char *s);

typedef enum PoolPullKind {
        POOL_PULL_TAR, /* unpacked by pool_import_tar() into the tree NAME */
        POOL_PULL_RAW, /* decompressed and checked by pool_import_raw_fd() into NAME.raw */
        _POOL_PULL_KIND_MAX,
        _POOL_PULL_KIND_INVALID = -EINVAL,
} PoolPullKind;

typedef struct PoolPullSettings {
        PoolVerify verify;
        /* Bytes so far of the phase named last ("download", then "unpack" or "import"). */
        PoolProgress progress;
        void (*phase)(const char *what, void *userdata);
        void *userdata;
} PoolPullSettings;

/* The keyring SHA256SUMS.gpg is checked with: $BOXCTL_IMPORT_KEYRING, else
 * /etc/boxctl/import-pubring.gpg. The CAs HTTPS trusts: $BOXCTL_PULL_CA_FILE,
 * else the system's. */
const char *pool_pull_keyring(void);
const char *pool_pull_ca_file(void);

/* The image name URL's file gives: its last component less its suffixes
 * (.tar, .raw, .img and a compression's, as in "debian.tar.xz" or
 * "disk.raw.zst"). -EINVAL when that is no valid image name. */
int pool_pull_name_from_url(const char *url, char **ret);

/* The SHA-256 that the SHA256SUMS text SUMS ("HASH  FILE" or "HASH *FILE"
 * lines) has for FILE, lower-case, into RET; -ENOENT when none. */
int pool_sha256sums_find(const char *sums, const char *file, char ret[static 65]);

/* URL into the new image NAME of the pool DIR. Everything is downloaded
 * into the pool's .#NAME.XXXXXX, guarded as an import's (pool.h), and
 * becomes NAME only when whole and verified: a failed, interrupted or killed
 * pull leaves nothing. On failure *ret_error (when not NULL) says in one line
 * what failed on which URL or name and why. */
int pool_pull(const char *dir, PoolPullKind kind, const char *url, const char *name, const PoolPullSettings *s,
              char **ret_error);
