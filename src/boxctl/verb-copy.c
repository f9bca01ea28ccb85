// SPDX-License-Identifier: LGPL-2.1-or-later
/* "boxctl copy-to", "copy-from" and "bind": files between the host and a
 * running machine, and host directories mounted into it.
 *
 * Like "boxctl shell", these act from boxctl itself and ask the registry
 * (boxd, or systemd-machined) only for the machine's leader: the copy runs
 * with boxctl's own credentials and cwd, prints its own errors, and works the
 * same whichever registry runs. boxd serves the same core functions
 * (src/core/machine-copy.c, machine-bind.c) to the stock machinectl as
 * machine1's CopyToMachine, CopyFromMachine and BindMountMachine. */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"
#include "machine-copy.h"
#include "registry.h"
#include "verbs.h"

enum {
        ARG_FORCE = 0x100,
        ARG_READ_ONLY,
        ARG_MKDIR,
};

typedef struct CopyArgs {
        const char *verb;
        bool force, read_only, mkdir;
        const char *name;
        const char *paths[2]; /* the source, then the destination or NULL */
} CopyArgs;

static void help(const char *verb) {
        if (streq(verb, "bind"))
                printf("Usage: boxctl bind [OPTIONS] NAME HOST-PATH [MACHINE-PATH]\n\n"
                       "Mount the host's HOST-PATH (a directory or a file) on MACHINE-PATH in the\n"
                       "running machine NAME (default: the same path). In a machine with its own\n"
                       "user namespace (-U) the mount is idmapped: the host's owners show as the\n"
                       "same UIDs inside. The mount lasts until it is unmounted inside or the\n"
                       "machine ends.\n\n"
                       "     --read-only   Mount it read-only\n"
                       "     --mkdir       Make MACHINE-PATH (and its parents) when missing\n"
                       "  -h --help        Show this help\n\n"
                       "Examples:\n"
                       "  boxctl bind debian-root /srv/data /mnt/data --mkdir\n"
                       "  boxctl bind --read-only debian-root /srv/www\n");
        else
                printf("Usage: boxctl %s [OPTIONS] NAME %s [%s]\n\n"
                       "Copy a file or a tree %s the running machine NAME, with its owners\n"
                       "(shifted through the machine's user namespace under -U), modes, times and\n"
                       "xattrs. Without %s, the same path as the source. Paths in the machine\n"
                       "are absolute and resolved inside its root; a relative host path is taken\n"
                       "from the current directory. The copy appears whole or not at all.\n\n"
                       "     --force   Replace a destination that exists\n"
                       "  -h --help    Show this help\n\n"
                       "Examples:\n"
                       "  boxctl %s\n",
                       verb, streq(verb, "copy-to") ? "HOST-PATH" : "MACHINE-PATH",
                       streq(verb, "copy-to") ? "MACHINE-PATH" : "HOST-PATH",
                       streq(verb, "copy-to") ? "from the host into" : "out of",
                       streq(verb, "copy-to") ? "MACHINE-PATH" : "HOST-PATH",
                       streq(verb, "copy-to") ? "copy-to debian-root ./build/app /usr/local/bin/app"
                                              : "copy-from debian-root /var/log /tmp/debian-log");
}

/* 1: go on; 0: help shown; < 0: an error, logged. */
static int parse_argv(int argc, char *argv[], CopyArgs *a) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "force", no_argument, NULL, ARG_FORCE },
                { "read-only", no_argument, NULL, ARG_READ_ONLY },
                { "mkdir", no_argument, NULL, ARG_MKDIR },
                {},
        };
        bool bind = streq(a->verb, "bind");
        int c, n;

        opterr = 0;
        optind = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help(a->verb);
                        return 0;
                case ARG_FORCE:
                        if (bind)
                                goto unknown;
                        a->force = true;
                        break;
                case ARG_READ_ONLY:
                case ARG_MKDIR:
                        if (!bind)
                                goto unknown;
                        if (c == ARG_READ_ONLY)
                                a->read_only = true;
                        else
                                a->mkdir = true;
                        break;
                default:
                unknown:
                        return log_error_errno(EINVAL, "unknown option '%s'; try 'boxctl %s --help'", argv[optind - 1],
                                               a->verb);
                }
        n = argc - optind;
        if (n < 2 || n > 3)
                return log_error_errno(EINVAL, "%s needs NAME, a source and perhaps a destination; try 'boxctl %s --help'",
                                       a->verb, a->verb);
        a->name = argv[optind];
        if (!machine_name_is_valid(a->name))
                return log_error_errno(EINVAL, "invalid machine name '%s'", a->name);
        a->paths[0] = argv[optind + 1];
        a->paths[1] = n == 3 ? argv[optind + 2] : NULL;
        for (int i = 0; i < n - 1; i++)
                if (isempty(a->paths[i]))
                        return log_error_errno(EINVAL, "%s %s: an empty path", a->verb, a->name);
        return 1;
}

/* A host path from the current directory, as machinectl makes it. */
static int host_path_absolute(const char *p, char **ret) {
        _cleanup_free_ char *cwd = NULL;

        if (path_is_absolute(p)) {
                *ret = strdup(p);
                return *ret ? 0 : -ENOMEM;
        }
        cwd = getcwd(NULL, 0);
        if (!cwd)
                return -errno;
        *ret = strjoin3(cwd, streq(cwd, "/") ? "" : "/", p);
        return *ret ? 0 : -ENOMEM;
}

static int copy_or_bind(CopyArgs *a) {
        _cleanup_free_ char *host = NULL, *error = NULL;
        bool to = streq(a->verb, "copy-to"), bind = streq(a->verb, "bind");
        /* The source, then the destination: the host's first but for copy-from. */
        const char *host_arg = to || bind ? a->paths[0] : a->paths[1];
        const char *machine_path = to || bind ? a->paths[1] : a->paths[0];
        pid_t leader;
        int r;

        if (geteuid() != 0)
                return log_error_errno(EPERM, "%s %s: only root may reach into machines", a->verb, a->name);
        /* Without a destination, the source's path on the other side. */
        if (machine_path && !path_is_absolute(machine_path))
                return log_error_errno(EINVAL, "%s %s: the path in the machine '%s' is not absolute", a->verb, a->name,
                                       machine_path);
        r = host_path_absolute(host_arg ?: machine_path, &host);
        if (r < 0)
                return log_error_errno(r, "%s %s: cannot make %s absolute: %m", a->verb, a->name, host_arg);
        if (!machine_path)
                machine_path = host;
        r = machines_get_leader(a->verb, a->name, &leader);
        if (r < 0)
                return r;

        if (bind) {
                MachineBind b = {
                        .machine_name = a->name,
                        .leader = leader,
                        .source = host,
                        .destination = machine_path,
                        .read_only = a->read_only,
                        .mkdir = a->mkdir,
                };
                r = machine_bind(&b, &error);
        } else {
                MachineCopy c = {
                        .machine_name = a->name,
                        .leader = leader,
                        .copy_from = !to,
                        .source = to ? host : machine_path,
                        .destination = to ? machine_path : host,
                        .replace = a->force,
                };
                r = machine_copy(&c, &error);
        }
        if (r < 0)
                return log_error_errno(r, "%s %s: %s", a->verb, a->name, error ?: strerror(-r));
        return 0;
}

static int verb_copy_common(const char *verb, int argc, char *argv[]) {
        CopyArgs a = { .verb = verb };
        int r;

        r = parse_argv(argc, argv, &a);
        if (r <= 0)
                return r < 0 ? 1 : 0;
        return copy_or_bind(&a) < 0 ? 1 : 0;
}

int verb_copy_to(int argc, char *argv[]) {
        return verb_copy_common("copy-to", argc, argv);
}

int verb_copy_from(int argc, char *argv[]) {
        return verb_copy_common("copy-from", argc, argv);
}

int verb_bind(int argc, char *argv[]) {
        return verb_copy_common("bind", argc, argv);
}
