/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "pool-tar.h"

/* One HTTP or HTTPS GET with libcurl, the pool's pull-tar and pull-raw's only
 * network code. Redirects are followed to http and https URLs only; the body
 * goes to an fd or into memory, its SHA-256 computed on the way. */

typedef struct Download {
        const char *url;
        int fd;          /* the body goes here; < 0: into data */
        size_t max_size; /* of data in memory (a larger body: -EFBIG) */
        const char *ca_file; /* the CAs HTTPS trusts; NULL: the system's */
        PoolProgress progress;
        void *userdata;
        /* out */
        char *data; /* NUL-terminated, when fd < 0 */
        uint64_t size;
        char sha256[65]; /* lower-case hex */
} Download;

#define DOWNLOAD_SHA256_LEN 64

/* -EPROTONOSUPPORT for a URL that is not http:// or https://, -EINVAL for one
 * that does not parse. *ret_error says which. */
int download_url_check(const char *url, char **ret_error);
/* The last component of URL's path, URL-decoded ("" for a URL ending in '/');
 * -EINVAL when it holds a NUL. */
int download_url_file(const char *url, char **ret);
/* FILE (a name) resolved against URL's directory: "SHA256SUMS" beside it. */
int download_url_sibling(const char *url, const char *file, char **ret);

/* Fails with -ENOENT for HTTP 404 and 410, -ECONNREFUSED, -EPROTONOSUPPORT for
 * a redirect to another scheme, -EFBIG, -EIO for any other HTTP error and
 * -EHOSTUNREACH for other transfer errors; *ret_error names the URL and the
 * reason in one line. */
int download_run(Download *d, char **ret_error);
void download_done(Download *d);
