/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "oci-log.h"
#include "oci-state.h"
#include "oci-verbs.h"
#include "util.h"

/* boxctl-oci: an OCI runtime with runc's command line, for podman, containerd
 * and the like, on boxctl's start path. The verbs are thin: config.json is
 * mapped onto Settings (oci-create.c), the core runs the machine. */

OciGlobals oci_globals = {
        .root = "/run/boxctl-oci",
};

typedef struct OciVerb {
        const char *name;
        int (*run)(int argc, char *argv[]);
        const char *summary;
} OciVerb;

static const OciVerb verbs[] = {
        { "create", verb_create, "Create a container from a bundle; its process waits for start" },
        { "start", verb_start, "Start the process of a created container" },
        { "state", verb_state, "Show a container's state as JSON" },
        { "kill", verb_kill, "Send a signal to a container's init (or --all its processes)" },
        { "delete", verb_delete, "Remove a stopped container (--force: any)" },
        { "list", verb_list, "List the containers" },
        { "exec", verb_exec, "Run another process in a running container" },
        { "ps", verb_ps, "List the processes of a container (--format json: their PIDs)" },
        { "pause", verb_pause, "Freeze every process of a container" },
        { "resume", verb_resume, "Thaw a paused container" },
        { "features", verb_features, "Show what this runtime supports, as JSON" },
};

static void help(void) {
        printf("boxctl-oci - an OCI runtime (runc's command line) on boxctl's machines\n\n"
               "Usage: boxctl-oci [GLOBAL OPTIONS] VERB [OPTIONS] ID [ARGS]\n\n"
               "Global options:\n"
               "  --root DIR              State directory (default /run/boxctl-oci)\n"
               "  --log FILE              Also write errors (and --debug messages) to FILE\n"
               "  --log-format text|json  Format of --log\n"
               "  --debug                 Debug messages\n"
               "  --systemd-cgroup        linux.cgroupsPath is systemd's \"slice:prefix:name\"\n"
               "  --version, --help\n\nVerbs:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                printf("  %-10s %s\n", verbs[i].name, verbs[i].summary);
}

static int parse_globals(int argc, char *argv[], const char **ret_log, OciLogFormat *ret_format) {
        static const struct option options[] = {
                { "root", required_argument, NULL, 'r' },
                { "log", required_argument, NULL, 'l' },
                { "log-format", required_argument, NULL, 'f' },
                { "debug", no_argument, NULL, 'd' },
                { "systemd-cgroup", no_argument, NULL, 's' },
                { "rootless", required_argument, NULL, 'R' },
                { "criu", required_argument, NULL, 'C' },
                { "version", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        int c;

        /* "+": the verb and what follows are the verb's. */
        while ((c = getopt_long(argc, argv, "+hv", options, NULL)) >= 0)
                switch (c) {
                case 'r':
                        oci_globals.root = optarg;
                        break;
                case 'l':
                        *ret_log = optarg;
                        break;
                case 'f':
                        *ret_format = oci_log_format_from_string(optarg);
                        if (*ret_format < 0) {
                                fprintf(stderr, "boxctl-oci: invalid --log-format %s (text or json)\n", optarg);
                                return -EINVAL;
                        }
                        break;
                case 'd':
                        oci_globals.debug = true;
                        break;
                case 's':
                        oci_globals.systemd_cgroup = true;
                        break;
                case 'R':
                case 'C':
                        break;
                case 'v':
                        printf("boxctl-oci version %s\nspec: %s\n", PACKAGE_VERSION, OCI_SPEC_VERSION);
                        return 0;
                case 'h':
                        help();
                        return 0;
                default:
                        return -EINVAL;
                }
        return 1;
}

int main(int argc, char *argv[]) {
        OciLogFormat format = OCI_LOG_TEXT;
        const char *log_path = NULL;
        int r;

        log_set_program("boxctl-oci");
        log_parse_environment();
        r = parse_globals(argc, argv, &log_path, &format);
        if (r <= 0)
                return r < 0 ? 1 : 0;
        if (oci_globals.debug)
                log_set_max_level(LOG_DEBUG);
        r = oci_log_open(log_path, format, oci_globals.debug);
        if (r < 0) {
                fprintf(stderr, "boxctl-oci: --log %s: %s\n", log_path, strerror(-r));
                return 1;
        }
        if (!path_is_absolute(oci_globals.root)) {
                (void) oci_error(EINVAL, "--root %s: not an absolute path", oci_globals.root);
                return 1;
        }
        if (optind >= argc) {
                (void) oci_error(EINVAL, "no verb given; see boxctl-oci --help");
                return 1;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[optind], verbs[i].name)) {
                        r = verbs[i].run(argc - optind, argv + optind);
                        oci_log_close();
                        return r;
                }
        (void) oci_error(EINVAL, "unknown verb %s; see boxctl-oci --help", argv[optind]);
        oci_log_close();
        return 1;
}
