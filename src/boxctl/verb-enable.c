/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* boxctl enable|disable NAME...: whether boxd starts a machine of the pool
 * whenever it starts (enabled.h). As systemctl does, enabling what is
 * enabled and disabling what is not both succeed and print nothing; neither
 * starts nor stops anything now. */
#include <getopt.h>
#include <stdio.h>

#include "enabled.h"
#include "log.h"
#include "systemd-unit.h"
#include "verbs.h"

static void help(const char *verb) {
        bool enable = streq(verb, "enable");

        printf("Usage: boxctl %s [OPTIONS...] NAME...\n\n", verb);
        if (enable)
                printf("Have boxd start machine NAME, a tree or image of the pool (%s, $BOXCTL_POOL\n"
                       "when set), whenever boxd starts: with 'boxctl start NAME --wait=registered',\n"
                       "unless it runs already. Nothing is started now. NAME may be given as the path\n"
                       "of the tree in the pool. The enabled machines are files in %s/enabled.\n",
                       enabled_pool_dir(), enabled_config_dir());
        else
                printf("Have boxd no longer start machine NAME when boxd starts. A running machine\n"
                       "runs on; disabling a machine that is not enabled succeeds and says nothing.\n");
        printf("\n  -q --quiet                Print nothing but errors\n"
               "  -h --help                 Show this help\n");
}

/* On a host booted with systemd, machines.target starts the machine:
 * box@NAME.service in its wants, as "systemctl enable box@NAME" makes it.
 * 1 when the link changed (systemd must reload), 0 when not. */
static int systemd_wants(const char *name, bool enable, bool quiet) {
        _cleanup_free_ char *link = NULL, *target = NULL;
        int r;

        if (!enabled_host_has_systemd())
                return 0;
        r = enabled_systemd_link(name, enable, &link, &target);
        if (r > 0 && !quiet) {
                if (enable)
                        printf("Created symlink %s → %s.\n", link, target);
                else
                        printf("Removed \"%s\".\n", link);
        }
        return r;
}

static int enable_one(const char *verb, const char *arg, bool quiet) {
        bool enable = streq(verb, "enable");
        _cleanup_free_ char *name = NULL;
        int r;

        r = enabled_resolve(arg, &name);
        if (r == -ENOENT && !enable && machine_name_is_valid(arg) && enabled_contains(arg)) {
                /* Its tree has gone from the pool: it may still be disabled. */
                name = strdup(arg);
                r = name ? 0 : -ENOMEM;
        }
        if (r == -EXDEV)
                return log_error_errno(r, "%s: not in the pool %s; '%s' takes a machine of the pool", arg,
                                       enabled_pool_dir(), verb);
        if (r == -ENOENT)
                return log_error_errno(r, "%s: no such machine in %s", arg, enabled_pool_dir());
        if (r == -EINVAL)
                return log_error_errno(r, "%s: not a valid machine name", arg);
        if (r < 0)
                return log_error_errno(r, "%s: %m", arg);

        r = enable ? enabled_add(name) : enabled_remove(name);
        if (r < 0)
                return log_error_errno(r, "cannot %s machine %s in %s/enabled: %m", verb, name, enabled_config_dir());
        if (r > 0 && !quiet)
                printf("%s machine %s: %s/enabled/%s.\n", enable ? "Enabled" : "Disabled", name,
                       enabled_config_dir(), name);
        r = systemd_wants(name, enable, quiet);
        if (r < 0)
                return log_error_errno(r, "cannot %s box@%s.service in machines.target.wants: %m", verb, name);
        return r;
}

/* What "systemctl enable" does after it links: systemd reads the links
 * again, so that machines.target wants the machine now, not after a reboot. */
static int systemd_reload(void) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        r = sd_bus_open_system(&bus);
        if (r >= 0)
                r = systemd_unit_daemon_reload(bus);
        if (r < 0)
                return log_error_errno(r, "cannot make systemd reload its units (systemctl daemon-reload): %m");
        return 0;
}

static int enable_main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        bool quiet = false, reload = false;
        int c, ret = 0;

        opterr = 0;
        optind = 0;
        while ((c = getopt_long(argc, argv, "qh", options, NULL)) >= 0)
                switch (c) {
                case 'q':
                        quiet = true;
                        break;
                case 'h':
                        help(argv[0]);
                        return 0;
                default:
                        log_error("unknown option '%s'; try 'boxctl %s --help'", argv[optind - 1], argv[0]);
                        return 1;
                }
        if (optind >= argc) {
                log_error("no machine given; usage: boxctl %s NAME...", argv[0]);
                return 1;
        }
        for (int i = optind; i < argc; i++) {
                int r = enable_one(argv[0], argv[i], quiet);

                if (r < 0)
                        ret = 1;
                else if (r > 0)
                        reload = true;
        }
        if (reload && systemd_reload() < 0)
                ret = 1;
        return ret;
}

int verb_enable(int argc, char *argv[]) {
        return enable_main(argc, argv);
}

int verb_disable(int argc, char *argv[]) {
        return enable_main(argc, argv);
}
