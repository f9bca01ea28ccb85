/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The image pool's verbs: list-images, image-status, clone, rename, remove,
 * read-only, import-tar, export-tar, import-raw, export-raw, import-fs. What
 * they do is in src/core/pool/;
 * here are the options, the output and the one line per error. */
#include <getopt.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pool-copy.h"
#include "pool-raw.h"
#include "pool-tar.h"
#include "pool.h"
#include "verb-images.h"
#include "verbs.h"

const char *pool_of(const ImagesArgs *a) {
        return a->pool ?: pool_default_dir();
}

static void help(const char *verb, const char *usage, const char *what) {
        printf("Usage: boxctl %s %s\n\n%s\n\n"
               "     --pool=DIR     The pool (default /var/lib/machines, or $BOXCTL_POOL)\n",
               verb, usage, what);
        if (streq(verb, "list-images"))
                printf("     --no-legend    No header and no footer\n"
                       "  -o --output=json  One JSON array\n"
                       "  -a --all          Hidden images ('.'-names, imports under way) too\n");
        if ((startswith(verb, "import-") || startswith(verb, "export-")) && !streq(verb, "import-fs"))
                printf("     --format=gzip|xz|zstd|bzip2|none\n"
                       "                    The compression (export); default: by FILE's suffix\n");
        if (startswith(verb, "import-") || startswith(verb, "export-") || streq(verb, "clone"))
                printf("  -q --quiet        No progress line\n");
        printf("  -h --help          Show this help\n");
}

/* 1: go on; 0: help shown; < 0: error (logged). Positional arguments must number MIN to MAX. */
int images_parse_args(int argc, char *argv[], int min, int max, const char *usage, const char *what, ImagesArgs *ret) {
        enum { ARG_POOL = 0x100, ARG_NO_LEGEND, ARG_FORMAT };
        static const struct option options[] = {
                { "pool", required_argument, NULL, ARG_POOL },
                { "no-legend", no_argument, NULL, ARG_NO_LEGEND },
                { "output", required_argument, NULL, 'o' },
                { "all", no_argument, NULL, 'a' },
                { "format", required_argument, NULL, ARG_FORMAT },
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        bool listing = streq(argv[0], "list-images"),
             stream = (startswith(argv[0], "import-") || startswith(argv[0], "export-")) && !streq(argv[0], "import-fs"),
             progress = stream || streq(argv[0], "import-fs") || streq(argv[0], "clone");
        int c;

        *ret = (ImagesArgs) { .legend = true, .pool = getenv("BOXCTL_POOL") };
        if (isempty(ret->pool))
                ret->pool = NULL;
        opterr = 0;
        optind = 0;
        while ((c = getopt_long(argc, argv, "o:aqh", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        help(argv[0], usage, what);
                        return 0;
                case ARG_POOL:
                        if (isempty(optarg))
                                return log_error_errno(EINVAL, "invalid --pool '': expected a directory");
                        ret->pool = optarg;
                        continue;
                case ARG_NO_LEGEND:
                case 'a':
                        if (!listing)
                                break;
                        if (c == 'a')
                                ret->all = true;
                        else
                                ret->legend = false;
                        continue;
                case 'o':
                        if (!listing)
                                break;
                        if (!streq(optarg, "json"))
                                return log_error_errno(EINVAL, "invalid --output '%s': the one format is json", optarg);
                        ret->json = true;
                        continue;
                case ARG_FORMAT:
                        /* import-fs copies files, no stream: no compression. */
                        if (!stream)
                                break;
                        ret->format = optarg;
                        continue;
                case 'q':
                        if (!progress)
                                break;
                        ret->quiet = true;
                        continue;
                case '?':
                        if (optopt != 0)
                                return log_error_errno(EINVAL, "option '%s' needs a value", argv[optind - 1]);
                        break;
                }
                return log_error_errno(EINVAL, "unknown option '%s' for %s; try 'boxctl %s --help'", argv[optind - 1],
                                       argv[0], argv[0]);
        }
        ret->n_args = argc - optind;
        ret->args = argv + optind;
        if (ret->n_args < min || ret->n_args > max)
                return log_error_errno(EINVAL, "%s: usage: boxctl %s %s", argv[0], argv[0], usage);
        return 1;
}

/* The one line for a failure R of VERB on image NAME. */
int log_image_error(int r, const ImagesArgs *a, const char *verb, const char *name) {
        switch (r) {
        case -EINVAL:
                return log_error_errno(r, "%s: not a valid image name (letters, digits, '-' and '.', at most 64)", name);
        case -ENOENT:
                return log_error_errno(r, "%s: no such image in the pool %s", name, pool_of(a));
        case -EEXIST:
                return log_error_errno(r, "%s: the pool %s holds an image of that name already", name, pool_of(a));
        case -EBUSY:
                return log_error_errno(r, "%s: busy: a machine runs from it", name);
        case -EROFS:
                return log_error_errno(r, "%s: read-only; 'boxctl read-only %s no' first", name, name);
        case -EOPNOTSUPP:
                return log_error_errno(r, "%s: cannot %s this kind of image here", name, verb);
        default:
                return log_error_errno(r, "%s: cannot %s: %m", name, verb);
        }
}

static void format_bytes(uint64_t b, char *buf, size_t n) {
        static const char units[] = "BKMGTPE";
        double v = (double) b;
        size_t u = 0;

        if (b == UINT64_MAX) {
                snprintf(buf, n, "-");
                return;
        }
        while (v >= 1024 && u < sizeof units - 2) {
                v /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, n, "%" PRIu64 "B", b);
        else
                snprintf(buf, n, "%.1f%c", v, units[u]);
}

static void format_time(uint64_t usec, char *buf, size_t n) {
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;

        if (usec == 0 || !localtime_r(&t, &tm) || strftime(buf, n, "%a %Y-%m-%d %H:%M:%S %Z", &tm) == 0)
                snprintf(buf, n, "-");
}

static void json_string(const char *s) {
        putchar('"');
        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;

                if (c == '"' || c == '\\')
                        printf("\\%c", c);
                else if (c < 0x20 || c == 0x7f)
                        printf("\\u%04x", c);
                else
                        putchar(c);
        }
        putchar('"');
}

static void json_u64_or_null(uint64_t v, bool null) {
        if (null)
                fputs("null", stdout);
        else
                printf("%" PRIu64, v);
}

int verb_list_images(int argc, char *argv[]) {
        PoolImage **l = NULL;
        ImagesArgs a;
        size_t n = 0;
        int r;

        r = images_parse_args(argc, argv, 0, 0, "[OPTIONS...]", "List the images of the pool.", &a);
        if (r <= 0)
                return r < 0;
        r = pool_list(a.pool, a.all, true, &l, &n);
        if (r < 0)
                return log_error_errno(r, "cannot list the pool %s: %m", pool_of(&a)), 1;
        if (a.json) {
                putchar('[');
                for (size_t i = 0; i < n; i++) {
                        printf(i ? ",{\"name\":" : "{\"name\":");
                        json_string(l[i]->name);
                        printf(",\"type\":\"%s\",\"read_only\":%s,\"usage\":", pool_image_type_to_string(l[i]->type),
                               l[i]->read_only ? "true" : "false");
                        json_u64_or_null(l[i]->usage, l[i]->usage == UINT64_MAX);
                        fputs(",\"created\":", stdout);
                        json_u64_or_null(l[i]->crtime, l[i]->crtime == 0);
                        fputs(",\"modified\":", stdout);
                        json_u64_or_null(l[i]->mtime, l[i]->mtime == 0);
                        fputs(",\"path\":", stdout);
                        json_string(l[i]->path);
                        putchar('}');
                }
                printf("]\n");
        } else {
                if (a.legend && n > 0)
                        printf("%-24s %-9s %-3s %8s %-28s %-28s\n", "NAME", "TYPE", "RO", "USAGE", "CREATED", "MODIFIED");
                for (size_t i = 0; i < n; i++) {
                        char usage[32], created[64], modified[64];

                        format_bytes(l[i]->usage, usage, sizeof usage);
                        format_time(l[i]->crtime, created, sizeof created);
                        format_time(l[i]->mtime, modified, sizeof modified);
                        printf("%-24s %-9s %-3s %8s %-28s %-28s\n", l[i]->name, pool_image_type_to_string(l[i]->type),
                               l[i]->read_only ? "yes" : "no", usage, created, modified);
                }
                if (a.legend)
                        printf(n == 0 ? "No images.\n" : "\n%zu images listed.\n", n);
        }
        pool_image_array_free(l, n);
        return 0;
}

int verb_image_status(int argc, char *argv[]) {
        ImagesArgs a;
        int r, ret = 0;

        r = images_parse_args(argc, argv, 1, INT32_MAX, "[OPTIONS...] NAME...", "Show the properties of images of the pool.", &a);
        if (r <= 0)
                return r < 0;
        for (int k = 0; k < a.n_args; k++) {
                _cleanup_(pool_image_freep) PoolImage *i = NULL;
                char usage[32], created[64], modified[64];

                r = pool_image_find(a.pool, a.args[k], true, &i);
                if (r < 0) {
                        log_image_error(r, &a, "show", a.args[k]);
                        ret = 1;
                        continue;
                }
                format_bytes(i->usage, usage, sizeof usage);
                format_time(i->crtime, created, sizeof created);
                format_time(i->mtime, modified, sizeof modified);
                printf("%s%s\n"
                       "      Path: %s%s\n"
                       "      Type: %s\n"
                       " Read-only: %s\n"
                       "     Usage: %s\n"
                       "   Created: %s\n"
                       "  Modified: %s\n",
                       k ? "\n" : "", i->name, i->path, i->symlink ? " (a symlink)" : "",
                       pool_image_type_to_string(i->type), i->read_only ? "yes" : "no", usage, created, modified);
        }
        return ret;
}

int verb_clone(int argc, char *argv[]) {
        Progress p;
        ImagesArgs a;
        int r;

        r = images_parse_args(argc, argv, 2, 2, "[OPTIONS...] NAME NEW-NAME",
                       "Copy image NAME of the pool to NEW-NAME: a btrfs snapshot of a subvolume, else a\n"
                       "copy (reflinked where the file system can) that keeps owners, modes, times,\n"
                       "xattrs, ACLs, file capabilities, device nodes, hard links and holes.",
                       &a);
        if (r <= 0)
                return r < 0;
        if (!pool_image_name_is_valid(a.args[1]))
                return log_image_error(-EINVAL, &a, "clone", a.args[1]), 1;
        progress_start(&p, "clone", !a.quiet);
        r = pool_image_clone(a.pool, a.args[0], a.args[1], p.show ? progress_draw : NULL, &p);
        progress_end(&p);
        if (r == -EEXIST)
                return log_image_error(r, &a, "clone", a.args[1]), 1;
        if (r == -EBUSY)
                return log_error_errno(r, "%s: busy: a machine runs from it read-write", a.args[0]), 1;
        if (r < 0)
                return log_image_error(r, &a, "clone", a.args[0]), 1;
        return 0;
}

int verb_rename(int argc, char *argv[]) {
        ImagesArgs a;
        int r;

        r = images_parse_args(argc, argv, 2, 2, "[OPTIONS...] NAME NEW-NAME", "Rename image NAME of the pool.", &a);
        if (r <= 0)
                return r < 0;
        if (!pool_image_name_is_valid(a.args[1]))
                return log_image_error(-EINVAL, &a, "rename", a.args[1]), 1;
        r = pool_image_rename(a.pool, a.args[0], a.args[1]);
        if (r == -EEXIST)
                return log_image_error(r, &a, "rename", a.args[1]), 1;
        if (r < 0)
                return log_image_error(r, &a, "rename", a.args[0]), 1;
        return 0;
}

int verb_remove(int argc, char *argv[]) {
        ImagesArgs a;
        int r, ret = 0;

        r = images_parse_args(argc, argv, 1, INT32_MAX, "[OPTIONS...] NAME...",
                       "Remove images of the pool. An image that is a symlink in the pool is removed as\n"
                       "the symlink: what it points to is left alone.",
                       &a);
        if (r <= 0)
                return r < 0;
        for (int k = 0; k < a.n_args; k++) {
                r = pool_image_remove(a.pool, a.args[k]);
                if (r < 0) {
                        log_image_error(r, &a, "remove", a.args[k]);
                        ret = 1;
                }
        }
        return ret;
}

int verb_read_only(int argc, char *argv[]) {
        ImagesArgs a;
        int r, b = 1;

        r = images_parse_args(argc, argv, 1, 2, "[OPTIONS...] NAME [yes|no]",
                       "Mark image NAME of the pool read-only (yes, the default) or writable (no). A\n"
                       "read-only image boots read-only and cannot be removed.",
                       &a);
        if (r <= 0)
                return r < 0;
        if (a.n_args == 2) {
                b = parse_boolean(a.args[1]);
                if (b < 0)
                        return log_error_errno(EINVAL, "invalid read-only value '%s': expected yes or no", a.args[1]), 1;
        }
        r = pool_image_set_read_only(a.pool, a.args[0], b);
        if (r == -EOPNOTSUPP)
                return log_error_errno(r, "%s: its file system cannot mark a directory read-only (no immutable flag)", a.args[0]), 1;
        if (r < 0)
                return log_image_error(r, &a, "mark read-only", a.args[0]), 1;
        return 0;
}

void progress_draw(uint64_t bytes, uint64_t total, void *userdata) {
        Progress *p = userdata;
        uint64_t now = now_usec(CLOCK_MONOTONIC), rate;
        char done[32], of[32], speed[32], left[32] = "";

        if (now - p->last < 100000)
                return;
        p->last = now;
        rate = now > p->start ? (uint64_t) ((double) bytes * 1e6 / (double) (now - p->start)) : 0;
        format_bytes(bytes, done, sizeof done);
        format_bytes(rate, speed, sizeof speed);
        if (total == UINT64_MAX || total == 0 || bytes > total) {
                fprintf(stderr, "\r\033[K%s: %s, %s/s", p->what, done, speed);
                return;
        }
        format_bytes(total, of, sizeof of);
        if (rate > 0) {
                uint64_t s = (total - bytes + rate - 1) / rate;

                snprintf(left, sizeof left, ", %" PRIu64 ":%02" PRIu64 " left", s / 60, s % 60);
        }
        fprintf(stderr, "\r\033[K%s: %s of %s (%u%%), %s/s%s", p->what, done, of,
                (unsigned) (bytes * 100 / total), speed, left);
}

void progress_start(Progress *p, const char *what, bool show) {
        *p = (Progress) { .what = what, .start = now_usec(CLOCK_MONOTONIC) };
        p->show = show && isatty(STDERR_FILENO);
}

void progress_end(const Progress *p) {
        if (p->last != 0)
                fputs("\r\033[K", stderr);
}
