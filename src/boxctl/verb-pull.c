/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pull-tar and pull-raw: an image of the pool from an HTTP or HTTPS URL.
 * What they do is in src/core/pool/pool-pull.c; here are the options, the
 * progress line and the one line per error. */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"
#include "pool-pull.h"
#include "util.h"
#include "verb-images.h"
#include "verbs.h"

typedef struct PullArgs {
        const char *pool;
        PoolVerify verify;
        bool quiet;
        const char *url, *name;
} PullArgs;

static void help(const char *verb, const char *what) {
        printf("Usage: boxctl %s [OPTIONS...] URL [NAME]\n\n%s\n\n"
               "NAME defaults to URL's file name less its suffixes (.tar .raw .img .xz .zst ...).\n"
               "The download is verified, as importctl does, before it becomes an image:\n"
               "  checksum   its SHA-256 is the one SHA256SUMS beside URL has for its file name\n"
               "  signature  and SHA256SUMS.gpg signs SHA256SUMS with a key of\n"
               "             /etc/boxctl/import-pubring.gpg (or $BOXCTL_IMPORT_KEYRING), checked by gpgv\n"
               "Nothing is left of a failed, interrupted or killed pull. HTTPS trusts the\n"
               "system's CAs, or those of $BOXCTL_PULL_CA_FILE.\n\n"
               "     --pool=DIR     The pool (default /var/lib/machines, or $BOXCTL_POOL)\n"
               "     --verify=no|checksum|signature\n"
               "                    How to verify the download (default: checksum)\n"
               "  -q --quiet        No progress line\n"
               "  -h --help         Show this help\n",
               verb, what);
}

/* 1: go on; 0: help shown; < 0: error (logged). */
static int parse_args(int argc, char *argv[], const char *what, PullArgs *ret) {
        enum { ARG_POOL = 0x100, ARG_VERIFY };
        static const struct option options[] = {
                { "pool", required_argument, NULL, ARG_POOL },
                { "verify", required_argument, NULL, ARG_VERIFY },
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;

        *ret = (PullArgs) { .pool = getenv("BOXCTL_POOL"), .verify = POOL_VERIFY_CHECKSUM };
        if (isempty(ret->pool))
                ret->pool = NULL;
        opterr = 0;
        optind = 0;
        while ((c = getopt_long(argc, argv, "qh", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        help(argv[0], what);
                        return 0;
                case ARG_POOL:
                        if (isempty(optarg))
                                return log_error_errno(EINVAL, "invalid --pool '': expected a directory");
                        ret->pool = optarg;
                        break;
                case ARG_VERIFY:
                        ret->verify = pool_verify_from_string(optarg);
                        if (ret->verify < 0)
                                return log_error_errno(EINVAL, "invalid --verify '%s': use no, checksum or signature",
                                                       optarg);
                        break;
                case 'q':
                        ret->quiet = true;
                        break;
                case '?':
                        if (optopt != 0)
                                return log_error_errno(EINVAL, "option '%s' needs a value", argv[optind - 1]);
                        return log_error_errno(EINVAL, "unknown option '%s' for %s; try 'boxctl %s --help'",
                                               argv[optind - 1], argv[0], argv[0]);
                }
        }
        if (argc - optind < 1 || argc - optind > 2)
                return log_error_errno(EINVAL, "%s: usage: boxctl %s [OPTIONS...] URL [NAME]", argv[0], argv[0]);
        ret->url = argv[optind];
        ret->name = argc - optind == 2 ? argv[optind + 1] : NULL;
        return 1;
}

static void progress_phase(const char *what, void *userdata) {
        Progress *p = userdata;

        p->what = what;
        p->start = now_usec(CLOCK_MONOTONIC);
}

static int pull(int argc, char *argv[], PoolPullKind kind, const char *what) {
        _cleanup_free_ char *error = NULL;
        PoolPullSettings s;
        Progress p;
        PullArgs a;
        int r;

        r = parse_args(argc, argv, what, &a);
        if (r <= 0)
                return r < 0;
        progress_start(&p, "download", !a.quiet);
        s = (PoolPullSettings) {
                .verify = a.verify,
                .progress = p.show ? progress_draw : NULL,
                .phase = progress_phase,
                .userdata = &p,
        };
        r = pool_pull(a.pool, kind, a.url, a.name, &s, &error);
        progress_end(&p);
        if (r < 0 && error)
                return log_error_errno(r, "%s", error), 1;
        if (r < 0)
                return log_error_errno(r, "%s: cannot pull: %m", a.url), 1;
        return 0;
}

int verb_pull_tar(int argc, char *argv[]) {
        return pull(argc, argv, POOL_PULL_TAR,
                    "Download the tar at URL (http or https; compressed with gzip, xz, zstd or bzip2,\n"
                    "or not), verify it, and unpack it as image NAME of the pool, as import-tar does.");
}

int verb_pull_raw(int argc, char *argv[]) {
        return pull(argc, argv, POOL_PULL_RAW,
                    "Download the disk or file system image at URL (http or https; compressed with\n"
                    "gzip, xz, zstd or bzip2, or not), verify it, and store it as image NAME.raw of\n"
                    "the pool, sparse, as import-raw does.");
}
