/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <getopt.h>
#include <linux/capability.h>
#include <net/if.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "caps.h"
#include "cgroup.h"
#include "device-filter.h"
#include "lock.h"
#include "log.h"
#include "machine.h"
#include "mount-points.h"
#include "mount-util.h"
#include "image.h"
#include "ownership.h"
#include "pty-forward.h"
#include "registry-client.h"
#include "seccomp-filter.h"
#include "settings.h"
#include "syscall-groups.h"
#include "tree.h"
#include "verbs.h"

#define DEFAULT_KILL_TIMEOUT_USEC (30ULL * 1000000ULL)

/* Mount points the machine makes itself; a --bind or --tmpfs may not replace them. */
static const char *const reserved_destinations[] = {
        "/", "/proc", "/sys", "/dev", "/run", "/run/host", "/sys/fs/cgroup", "/dev/pts", "/dev/console",
};

/* The machine's entry in the registry (boxd, or systemd-machined), kept
 * across reboots of the machine. */
static struct {
        sd_bus *bus;
        bool given_up; /* --register=auto and nobody answers: warned once */
        bool registered;
} registration;

static void registration_give_up(const Settings *s, const char *why) {
        log_warning("no machine registry on the system bus (%s): machine %s will not be listed; start boxd, or pass --register=no",
                    why, s->machine_name);
        registration.given_up = true;
}

static int register_leader(Machine *m, pid_t leader, char **ret_error) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        const Settings *s = m->settings;
        int r;

        if (s->register_mode == REGISTER_NO || registration.given_up)
                return 0;
        if (!registration.bus) {
                r = sd_bus_open_system(&registration.bus);
                if (r < 0) {
                        if (s->register_mode == REGISTER_AUTO) {
                                registration_give_up(s, strerror(-r));
                                return 0;
                        }
                        if (asprintf(ret_error, "cannot connect to the system bus to register machine %s", s->machine_name) < 0)
                                *ret_error = NULL;
                        return r;
                }
        }
        r = registry_client_register(registration.bus, s->machine_name, &m->id, leader, s->root,
                                     m->host_ifindex > 0 ? &m->host_ifindex : NULL, m->host_ifindex > 0 ? 1 : 0, &error);
        if (r < 0) {
                /* auto: a registry that is absent, or hangs, must not keep the machine from starting. */
                if (s->register_mode == REGISTER_AUTO &&
                    (registry_error_is_absent(&error) ||
                     sd_bus_error_has_names(&error, SD_BUS_ERROR_TIMEOUT, SD_BUS_ERROR_NO_REPLY))) {
                        registration_give_up(s, error.name);
                        return 0;
                }
                if (asprintf(ret_error, "cannot register machine %s%s%s", s->machine_name,
                             error.message ? ": " : "", strempty(error.message)) < 0)
                        *ret_error = NULL;
                return r;
        }
        registration.registered = true;
        return 0;
}

static void unregister_leader(Machine *m) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        if (!registration.registered)
                return;
        /* The registry may have dropped it already, having seen the leader die. */
        if (registry_client_unregister(registration.bus, m->settings->machine_name, &error) < 0)
                log_debug("Unregistering %s: %s", m->settings->machine_name, strempty(error.message));
        registration.registered = false;
}

static void help(StartMode mode) {
        if (mode == START_BOOT)
                printf("Usage: boxctl boot PATH [OPTIONS...] [-- INIT-ARGS...]\n\n"
                       "Boot the OS tree at PATH with its own init as PID 1, in the foreground.\n\n");
        else
                printf("Usage: boxctl run PATH [OPTIONS...] -- COMMAND [ARGS...]\n\n"
                       "Run COMMAND as the only program of a machine made from the OS tree at PATH.\n"
                       "Exits with COMMAND's exit status (128+N when it was killed by signal N).\n\n");
        printf("  -M --machine=NAME --name=NAME\n"
               "                           Machine name (default: the directory's name)\n"
               "     --hostname=NAME       Hostname inside (default: the machine name)\n"
               "     --machine-id=ID       Machine id (32 hex digits), shown over the tree's own\n"
               "     --console=MODE        interactive, read-only, passive or pipe\n"
               "     --bind=SRC[:DST[:ro]] Bind-mount a host path into the machine\n"
               "     --bind-ro=SRC[:DST]   The same, read-only\n"
               "     --tmpfs=DST           Mount an empty tmpfs at DST\n"
               "     --read-only           Mount the tree read-only\n"
               "  -x --ephemeral           Write to a throw-away layer; the tree stays untouched\n"
               "  -i --image=PATH          Boot a disk image (implied when PATH is a file or device)\n"
               "  -E --setenv=NAME=VALUE   Set an environment variable for PID 1\n"
               "     --capability=CAPS     Keep these capabilities too (comma-separated, or all)\n"
               "     --drop-capability=CAPS\n"
               "                           Drop these capabilities from the default set\n"
               "     --kill-timeout=SECS   Wait this long for a power-off before SIGKILL (30s)\n"
               "     --no-reboot           End instead of booting again when the machine reboots\n"
               "     --register=MODE       Register with the machine registry: auto, yes or no\n"
               "     --private-network     A network namespace of its own, with only lo\n"
               "  -n --network-veth        A veth link to the host (ve-NAME here, host0 inside),\n"
               "                           addressed without networkd on either side\n"
               "     --network-bridge=BR   The veth's host end joins bridge BR\n"
               "     --network-zone=ZONE   Join the machines of ZONE on bridge vz-ZONE\n"
               "     --network-pool=CIDR   IPv4 pool for machines' subnets (10.133.0.0/16)\n"
               "  -p --port=[tcp|udp:]HOST[:MACHINE]\n"
               "                           Forward a host port (all addresses, loopback too)\n"
               "  -U                       The same as --private-users=pick\n"
               "     --private-users=MODE  User namespace: pick, identity, no, or BASE[:SIZE]\n"
               "     --private-users-ownership=MODE\n"
               "                           How the tree's files get owners inside: auto, idmap,\n"
               "                           chown or off (auto: idmap where the file system can)\n"
               "     --system-call-filter=[~]@GROUP|NAME...\n"
               "                           Allow these system calls too, or with ~ refuse them\n"
               "                           (--system-call-filter=help lists the groups)\n"
               "  -q --quiet               Say nothing but errors\n"
               "  -h --help                Show this help\n\n"
               "SIGTERM or SIGINT asks the machine to power off; a second one kills it.\n"
               "On an interactive console, press Ctrl-] three times within 1s to kill it.\n");
}

enum {
        ARG_HOSTNAME = 0x100,
        ARG_MACHINE_ID,
        ARG_CONSOLE,
        ARG_BIND,
        ARG_BIND_RO,
        ARG_TMPFS,
        ARG_READ_ONLY,
        ARG_CAPABILITY,
        ARG_DROP_CAPABILITY,
        ARG_KILL_TIMEOUT,
        ARG_NO_REBOOT,
        ARG_REGISTER,
        ARG_PRIVATE_USERS,
        ARG_PRIVATE_NETWORK,
        ARG_NETWORK_BRIDGE,
        ARG_NETWORK_ZONE,
        ARG_NETWORK_POOL,
        ARG_PRIVATE_USERS_OWNERSHIP,
        ARG_SYSTEM_CALL_FILTER,
};

typedef enum HelpKind {
        HELP_NONE,
        HELP_OPTIONS,        /* --help */
        HELP_SYSCALL_GROUPS, /* --system-call-filter=help */
} HelpKind;

/* What parse_argv() needs to remember between options. */
typedef struct ParseState {
        uint64_t keep, drop; /* --capability, --drop-capability */
        bool console_set, ownership_set;
        bool filter_help; /* --system-call-filter=help */
} ParseState;

/* Options about name, identity, console, environment, registration, lifecycle: 1 handled, 0 not ours, < 0 error (logged). */
static int parse_option_machine(int c, const char *arg, Settings *s, ParseState *st) {
        switch (c) {
        case 'M':
                if (!machine_name_is_valid(arg))
                        return log_error_errno(EINVAL, "invalid machine name '%s': use 1-64 letters, digits, '-' and '.', as in a hostname", arg);
                free(s->machine_name);
                s->machine_name = strdup(arg);
                if (!s->machine_name)
                        return log_oom();
                return 1;
        case ARG_HOSTNAME:
                if (!machine_name_is_valid(arg))
                        return log_error_errno(EINVAL, "invalid hostname '%s': use 1-64 letters, digits, '-' and '.'", arg);
                free(s->hostname);
                s->hostname = strdup(arg);
                if (!s->hostname)
                        return log_oom();
                return 1;
        case ARG_MACHINE_ID:
                if (id128_from_string(arg, &s->machine_id) < 0 || id128_is_null(&s->machine_id))
                        return log_error_errno(EINVAL, "invalid machine id '%s': expected 32 hexadecimal digits, not all zero", arg);
                return 1;
        case ARG_CONSOLE:
                s->console_mode = console_mode_from_string(arg);
                if (s->console_mode < 0)
                        return log_error_errno(EINVAL, "invalid --console mode '%s': use interactive, read-only, passive or pipe", arg);
                st->console_set = true;
                return 1;
        case 'E':
                if (!strchr(arg, '=') || arg[0] == '=')
                        return log_error_errno(EINVAL, "invalid --setenv '%s': expected NAME=VALUE", arg);
                if (strv_push_dup(&s->environment, arg) < 0)
                        return log_oom();
                return 1;
        case ARG_KILL_TIMEOUT:
                if (parse_seconds(arg, &s->kill_timeout_usec) < 0)
                        return log_error_errno(EINVAL, "invalid --kill-timeout '%s': expected seconds, like 30 or 1.5s", arg);
                return 1;
        case ARG_NO_REBOOT:
                s->no_reboot = true;
                return 1;
        case ARG_REGISTER:
                s->register_mode = register_mode_from_string(arg);
                if (s->register_mode < 0)
                        return log_error_errno(EINVAL, "invalid --register '%s': use auto, yes or no", arg);
                return 1;
        case 'q':
                s->quiet = true;
                return 1;
        default:
                return 0;
        }
}

/* Options about the tree or image and what is mounted in it: 1 handled, 0 not ours, < 0 error (logged). */
static int parse_option_mounts(int c, const char *arg, Settings *s, ParseState *st) {
        int r;

        switch (c) {
        case ARG_BIND:
        case ARG_BIND_RO: {
                _cleanup_free_ char *spec = NULL;

                /* A relative source is taken from the current directory. */
                if (arg[0] != '/' && arg[0] != ':') {
                        char cwd[PATH_MAX];

                        if (!getcwd(cwd, sizeof cwd))
                                return log_error_errno(errno, "cannot get the current directory: %m");
                        spec = strjoin3(cwd, "/", arg);
                } else
                        spec = strdup(arg);
                if (!spec)
                        return log_oom();
                r = settings_add_bind(s, spec, c == ARG_BIND_RO);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0)
                        return log_error_errno(r, "invalid --bind '%s': expected SRC[:DST[:ro|rw]] with an absolute, normalized DST", arg);
                return 1;
        }
        case ARG_TMPFS:
                if (!path_is_normalized_absolute(arg))
                        return log_error_errno(EINVAL, "invalid --tmpfs '%s': expected an absolute, normalized path", arg);
                if (strv_push_dup(&s->tmpfs, arg) < 0)
                        return log_oom();
                return 1;
        case ARG_READ_ONLY:
                s->read_only = true;
                return 1;
        case 'x':
                s->ephemeral = true;
                return 1;
        case 'i':
                free(s->root);
                s->root = realpath(arg, NULL);
                if (!s->root)
                        return log_error_errno(errno, "%s: %m", arg);
                s->image = true;
                return 1;
        default:
                return 0;
        }
}

/* Options about networking: 1 handled, 0 not ours, < 0 error (logged). */
static int parse_option_network(int c, const char *arg, Settings *s, ParseState *st) {
        int r;

        switch (c) {
        case ARG_PRIVATE_NETWORK:
                s->private_network = true;
                return 1;
        case 'n':
                if (s->network_mode == NETWORK_NONE)
                        s->network_mode = NETWORK_VETH;
                return 1;
        case ARG_NETWORK_BRIDGE:
        case ARG_NETWORK_ZONE: {
                bool zone = c == ARG_NETWORK_ZONE;

                if ((zone && s->network_bridge) || (!zone && s->network_zone))
                        return log_error_errno(EINVAL, "conflicting options: --network-bridge and --network-zone");
                if (zone && !network_zone_name_is_valid(arg))
                        return log_error_errno(EINVAL, "invalid --network-zone '%s': at most 12 letters, digits, '-' and '_'", arg);
                if (!zone && (isempty(arg) || strlen(arg) >= IFNAMSIZ))
                        return log_error_errno(EINVAL, "invalid --network-bridge '%s': not an interface name", arg);
                free(zone ? s->network_zone : s->network_bridge);
                if (zone)
                        s->network_zone = strdup(arg);
                else
                        s->network_bridge = strdup(arg);
                if (!(zone ? s->network_zone : s->network_bridge))
                        return log_oom();
                s->network_mode = zone ? NETWORK_ZONE : NETWORK_BRIDGE;
                return 1;
        }
        case ARG_NETWORK_POOL:
                if (network_pool_parse(arg, &s->network_pool) < 0)
                        return log_error_errno(EINVAL, "invalid --network-pool '%s': expected A.B.C.D/N, N in 8..30, a range machines may use", arg);
                return 1;
        case 'p': {
                PortSpec *n;

                n = reallocarray(s->ports, s->n_ports + 1, sizeof(PortSpec));
                if (!n)
                        return log_oom();
                s->ports = n;
                r = port_spec_parse(arg, &s->ports[s->n_ports]);
                if (r < 0)
                        return log_error_errno(r, "invalid --port '%s': expected [tcp|udp:]HOSTPORT[:MACHINEPORT], ports 1..65535", arg);
                s->n_ports++;
                return 1;
        }
        default:
                return 0;
        }
}

/* Options about capabilities and user namespaces: 1 handled, 0 not ours, < 0 error (logged). */
static int parse_option_security(int c, const char *arg, Settings *s, ParseState *st) {
        int r;

        switch (c) {
        case ARG_CAPABILITY:
        case ARG_DROP_CAPABILITY: {
                _cleanup_free_ char *bad = NULL;
                uint64_t m;

                r = caps_parse(arg, &m, &bad);
                if (r < 0)
                        return log_error_errno(r, "unknown capability '%s' in --%s", strempty(bad),
                                               c == ARG_CAPABILITY ? "capability" : "drop-capability");
                if (c == ARG_CAPABILITY)
                        st->keep |= m;
                else
                        st->drop |= m;
                return 1;
        }
        case 'U':
                s->userns_mode = USERNS_PICK;
                return 1;
        case ARG_PRIVATE_USERS:
                r = userns_parse(arg, &s->userns_mode, &s->uid_base, &s->uid_size);
                if (r == -EDOM)
                        return log_error_errno(r, "invalid --private-users '%s': the base must be a multiple of 65536", arg);
                if (r == -ERANGE)
                        return log_error_errno(r, "invalid --private-users '%s': the base must lie in 0x%x..0x%x and the size in 1..65536",
                                               arg, UID_PICK_MIN, UID_PICK_MAX);
                if (r < 0)
                        return log_error_errno(r, "invalid --private-users '%s': use pick, identity, no, or BASE[:SIZE]", arg);
                return 1;
        case ARG_SYSTEM_CALL_FILTER: {
                _cleanup_free_ char *bad = NULL, *groups = NULL;

                if (streq(arg, "help")) {
                        st->filter_help = true;
                        return 1;
                }
                r = syscall_filter_parse(arg, &s->syscall_filter, &bad);
                if (r == -EINVAL && bad && bad[0] == '@' && (groups = syscall_filter_group_list()))
                        return log_error_errno(r, "unknown system call group '%s' in --system-call-filter; the groups are: %s",
                                               bad, groups);
                if (r == -EINVAL && bad && !isempty(bad) && !streq(bad, arg))
                        return log_error_errno(r, "unknown system call '%s' in --system-call-filter (a group is written @NAME; "
                                               "--system-call-filter=help lists them)", bad);
                if (r == -EINVAL)
                        return log_error_errno(r, "invalid --system-call-filter '%s': use [~]@GROUP|NAME...", arg);
                if (r == -E2BIG)
                        return log_error_errno(r, "too many items in --system-call-filter");
                if (r < 0)
                        return log_error_errno(r, "cannot parse --system-call-filter '%s': %m", arg);
                return 1;
        }
        case ARG_PRIVATE_USERS_OWNERSHIP:
                s->ownership = ownership_mode_from_string(arg);
                if (s->ownership < 0)
                        return log_error_errno(EINVAL, "invalid --private-users-ownership '%s': use auto, idmap, chown or off", arg);
                st->ownership_set = true;
                return 1;
        default:
                return 0;
        }
}

/* After the options: what they imply, what conflicts, and the positional arguments. */
static int parse_finish(int argc, char *argv[], Settings *s, const ParseState *st) {
        if (st->ownership_set && s->userns_mode == USERNS_NO)
                return log_error_errno(EINVAL, "conflicting options: --private-users-ownership needs a user namespace (-U or --private-users=)");
        if (s->userns_mode == USERNS_IDENTITY && s->ownership == OWNERSHIP_IDMAP)
                return log_error_errno(EINVAL, "conflicting options: --private-users=identity maps every UID to itself, there is nothing to idmap");
        if (s->network_mode != NETWORK_NONE)
                s->private_network = true;
        if (s->n_ports > 0 && s->network_mode != NETWORK_VETH && s->network_mode != NETWORK_ZONE)
                return log_error_errno(EINVAL, "conflicting options: --port needs an address to forward to: add --network-veth or --network-zone");
        if (s->n_ports > 64)
                return log_error_errno(E2BIG, "too many --port (at most 64)");
        for (size_t i = 0; i < s->n_ports; i++)
                for (size_t j = 0; j < i; j++)
                        if (s->ports[i].host_port == s->ports[j].host_port && s->ports[i].protocol == s->ports[j].protocol)
                                return log_error_errno(EINVAL, "conflicting options: host port %u forwarded twice", s->ports[i].host_port);
        /* A machine with a network of its own may configure it. */
        if (s->private_network)
                s->capabilities |= UINT64_C(1) << CAP_NET_ADMIN;
        if (st->keep & st->drop) {
                _cleanup_free_ char *both = caps_to_string(st->keep & st->drop);
                return log_error_errno(EINVAL, "conflicting options: %s both kept (--capability) and dropped (--drop-capability)", strempty(both));
        }
        s->capabilities = (s->capabilities | st->keep) & ~st->drop;

        if (!s->image) {
                if (optind >= argc)
                        return log_error_errno(EINVAL, "no OS tree given; usage: boxctl %s PATH [OPTIONS...]%s",
                                               start_mode_to_string(s->start_mode),
                                               s->start_mode == START_RUN ? " -- COMMAND [ARGS...]" : "");
                s->root = realpath(argv[optind], NULL);
                if (!s->root)
                        return log_error_errno(errno, "%s: %m", argv[optind]);
                optind++;
        }
        s->argv = strv_copy(argv + optind);
        if (!s->argv)
                return log_oom();

        if (!st->console_set) {
                bool tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);

                /* Without a terminal: "boot" shows the console's output, "run" hands
                 * the command our stdin/stdout/stderr as they are. */
                s->console_mode = tty ? CONSOLE_INTERACTIVE : s->start_mode == START_RUN ? CONSOLE_PIPE : CONSOLE_READ_ONLY;
        }
        return 0;
}

static int parse_argv(int argc, char *argv[], Settings *s, HelpKind *ret_help) {
        static const struct option options[] = {
                { "machine", required_argument, NULL, 'M' },
                { "name", required_argument, NULL, 'M' },
                { "hostname", required_argument, NULL, ARG_HOSTNAME },
                { "machine-id", required_argument, NULL, ARG_MACHINE_ID },
                { "console", required_argument, NULL, ARG_CONSOLE },
                { "bind", required_argument, NULL, ARG_BIND },
                { "bind-ro", required_argument, NULL, ARG_BIND_RO },
                { "tmpfs", required_argument, NULL, ARG_TMPFS },
                { "read-only", no_argument, NULL, ARG_READ_ONLY },
                { "ephemeral", no_argument, NULL, 'x' },
                { "image", required_argument, NULL, 'i' },
                { "private-network", no_argument, NULL, ARG_PRIVATE_NETWORK },
                { "network-veth", no_argument, NULL, 'n' },
                { "network-bridge", required_argument, NULL, ARG_NETWORK_BRIDGE },
                { "network-zone", required_argument, NULL, ARG_NETWORK_ZONE },
                { "network-pool", required_argument, NULL, ARG_NETWORK_POOL },
                { "port", required_argument, NULL, 'p' },
                { "setenv", required_argument, NULL, 'E' },
                { "capability", required_argument, NULL, ARG_CAPABILITY },
                { "drop-capability", required_argument, NULL, ARG_DROP_CAPABILITY },
                { "kill-timeout", required_argument, NULL, ARG_KILL_TIMEOUT },
                { "no-reboot", no_argument, NULL, ARG_NO_REBOOT },
                { "register", required_argument, NULL, ARG_REGISTER },
                { "private-users", required_argument, NULL, ARG_PRIVATE_USERS },
                { "private-users-ownership", required_argument, NULL, ARG_PRIVATE_USERS_OWNERSHIP },
                { "system-call-filter", required_argument, NULL, ARG_SYSTEM_CALL_FILTER },
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        ParseState st = {};
        int c, r;

        s->capabilities = caps_default();
        s->kill_timeout_usec = DEFAULT_KILL_TIMEOUT_USEC;
        *ret_help = HELP_NONE;
        opterr = 0;
        optind = 0;

        while ((c = getopt_long(argc, argv, "M:E:qhUxnp:i:", options, NULL)) >= 0) {
                if (c == 'h') {
                        *ret_help = HELP_OPTIONS;
                        return 0;
                }
                if (c == '?') {
                        /* optopt is 0 for an unknown long option: not one that lacks its value. */
                        if (optopt >= ARG_HOSTNAME || (optopt != 0 && strchr("MEpi", optopt)))
                                return log_error_errno(EINVAL, "option '%s' needs a value", argv[optind - 1]);
                        return log_error_errno(EINVAL, "unknown option '%s'; try 'boxctl %s --help'",
                                               argv[optind - 1], start_mode_to_string(s->start_mode));
                }
                r = parse_option_machine(c, optarg, s, &st);
                if (r == 0)
                        r = parse_option_mounts(c, optarg, s, &st);
                if (r == 0)
                        r = parse_option_network(c, optarg, s, &st);
                if (r == 0)
                        r = parse_option_security(c, optarg, s, &st);
                if (r <= 0)
                        return r < 0 ? r : -EINVAL;
                if (st.filter_help) {
                        *ret_help = HELP_SYSCALL_GROUPS;
                        return 0;
                }
        }
        return parse_finish(argc, argv, s, &st);

}

static int verify_settings(Settings *s) {
        if (s->start_mode == START_RUN && strv_length(s->argv) == 0)
                return log_error_errno(EINVAL, "no command given; usage: boxctl run PATH [OPTIONS...] -- COMMAND [ARGS...]");
        if (s->start_mode == START_BOOT && s->userns_mode == USERNS_FIXED && s->uid_size != UID_RANGE_SIZE)
                return log_error_errno(EINVAL, "invalid --private-users: a booted OS needs all 65536 UIDs, not %u", s->uid_size);

        for (size_t i = 0; i < s->n_binds; i++) {
                BindMount *b = &s->binds[i];
                struct stat st;

                if (stat(b->source, &st) < 0)
                        return log_error_errno(errno, "--bind source %s: %m", b->source);
                if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
                        return log_error_errno(EINVAL, "--bind source %s: only directories and regular files can be bound", b->source);
                for (size_t j = 0; j < ELEMENTSOF(reserved_destinations); j++)
                        if (streq(b->destination, reserved_destinations[j]))
                                return log_error_errno(EINVAL, "--bind destination %s: reserved for the machine's own mounts", b->destination);
                for (size_t j = 0; j < i; j++)
                        if (streq(s->binds[j].destination, b->destination))
                                return log_error_errno(EINVAL, "conflicting options: two --bind mounts on %s", b->destination);
                if (strv_contains(s->tmpfs, b->destination))
                        return log_error_errno(EINVAL, "conflicting options: --bind and --tmpfs both on %s", b->destination);
                if (b->idmap == 1 && s->userns_mode == USERNS_NO)
                        return log_error_errno(EINVAL, "--bind %s:%s:idmap: idmapping needs a user namespace (-U)", b->source, b->destination);
        }
        for (char **t = s->tmpfs; t && *t; t++) {
                for (size_t j = 0; j < ELEMENTSOF(reserved_destinations); j++)
                        if (streq(*t, reserved_destinations[j]))
                                return log_error_errno(EINVAL, "--tmpfs destination %s: reserved for the machine's own mounts", *t);
                for (char **u = s->tmpfs; u < t; u++)
                        if (streq(*u, *t))
                                return log_error_errno(EINVAL, "conflicting options: two --tmpfs on %s", *t);
        }
        return 0;
}

static int tree_open_verbose(const Settings *s, int image_root_fd, Tree *ret) {
        int r;

        if (image_root_fd >= 0) {
                int fd = fcntl(image_root_fd, F_DUPFD_CLOEXEC, 3);

                r = fd < 0 ? -errno : tree_open_fd(fd, s->start_mode == START_BOOT, ret);
        } else
                r = tree_open(s->root, s->start_mode == START_BOOT, ret);

        switch (r) {
        case 0:
                return 0;
        case -ENOTDIR:
                return log_error_errno(r, "%s: neither a directory nor a disk image", s->root);
        case -EBADE:
                return log_error_errno(r, "%s: no os-release found (looked for /etc/os-release, /usr/lib/os-release); is this an OS tree?", s->root);
        case -ENOEXEC:
                return log_error_errno(r, "%s: no init found (looked for %s, %s, %s)", s->root,
                                       tree_init_candidates[0], tree_init_candidates[1], tree_init_candidates[2]);
        case -ELOOP:
                return log_error_errno(r, "%s: refusing to boot the host's own root directory", s->root);
        default:
                return log_error_errno(r, "%s: %m", s->root);
        }
}

static int decide_machine_id(const Settings *s, const Tree *t, Machine *m) {
        _cleanup_free_ char *host = NULL;
        Id128 host_id = {};

        if (read_file_at(AT_FDCWD, "/etc/machine-id", 4096, &host) >= 0) {
                host[strcspn(host, "\n")] = '\0';
                (void) id128_from_string(host, &host_id);
        }

        if (!id128_is_null(&s->machine_id)) {
                m->id = s->machine_id;
                /* Shown over the tree's own, which stays as it is on disk. */
                m->bind_machine_id = !id128_is_null(&t->machine_id) &&
                                     memcmp(&t->machine_id, &s->machine_id, sizeof(Id128)) != 0;
        } else if (!id128_is_null(&t->machine_id))
                m->id = t->machine_id;
        else {
                /* An empty /etc/machine-id: systemd takes container_uuid from PID 1's
                 * environment (CONTAINER_INTERFACE.md), so the id we report is the one it uses. */
                int r = id128_randomize(&m->id);
                if (r < 0)
                        return log_error_errno(r, "cannot make a machine id: %m");
        }
        if (!id128_is_null(&host_id) && memcmp(&host_id, &m->id, sizeof(Id128)) == 0)
                return log_error_errno(EINVAL, "%s: its machine id is the host's own; give it another with --machine-id=ID", s->root);
        return 0;
}

static char *read_host_os_release(void) {
        char *s = NULL;

        if (read_file_at(AT_FDCWD, "/etc/os-release", 64 * 1024, &s) < 0)
                (void) read_file_at(AT_FDCWD, "/usr/lib/os-release", 64 * 1024, &s);
        return s;
}

static int boot_loop(Machine *m, const Settings *s) {
        for (;;) {
                _cleanup_free_ char *error = NULL;
                MachineResult res = {};
                int r;

                /* Raw only while the console is forwarded, so our own lines end properly. */
                if (s->console_mode == CONSOLE_INTERACTIVE)
                        (void) terminal_raw_begin();
                r = machine_run_once(m, &res, &error);
                terminal_raw_end();
                if (r < 0)
                        return log_error_errno(r, "%s: %m", error ?: "cannot start the machine");

                switch (res.end) {
                case MACHINE_REBOOT:
                        if (s->no_reboot) {
                                if (!s->quiet)
                                        log_info("Machine %s rebooted; not starting it again (--no-reboot).", s->machine_name);
                                return 0;
                        }
                        if (!s->quiet)
                                log_info("Machine %s is rebooting.", s->machine_name);
                        (void) cgroup_kill_and_wait(m->cgroup->path, 10 * 1000000ULL);
                        continue;
                case MACHINE_POWEROFF:
                        if (!s->quiet && s->start_mode == START_BOOT)
                                log_info("Machine %s powered off.", s->machine_name);
                        return 0;
                case MACHINE_EXITED:
                        if (!s->quiet && s->start_mode == START_BOOT)
                                log_info("Machine %s: init exited with status %d.", s->machine_name, res.status);
                        return res.status;
                case MACHINE_KILL_TIMEOUT:
                        log_error("machine %s did not power off within the kill timeout; killed it", s->machine_name);
                        return res.status;
                case MACHINE_KILL_ESCAPE:
                        log_info("Machine %s killed (Ctrl-] pressed three times).", s->machine_name);
                        return res.status;
                case MACHINE_SIGNALED:
                default:
                        if (!s->quiet && s->start_mode == START_BOOT)
                                log_info("Machine %s: init was killed by signal %d.", s->machine_name, res.status - 128);
                        return res.status;
                }
        }
}

static void shift_progress(uint64_t n_files, bool done, void *userdata) {
        if (done)
                fputc('\n', stderr);
        else
                fprintf(stderr, "\rShifting file owners: %" PRIu64 " files", n_files);
}

/* Decides how the tree's files get their owners inside the user namespace,
 * and does the chown when that is the way. */
static int prepare_ownership(const Settings *s, const UidRange *range, bool *ret_idmap) {
        OwnershipMode mode = s->ownership;
        uint32_t pending;
        uint64_t changed = 0;
        int r;

        *ret_idmap = false;
        if (s->userns_mode == USERNS_IDENTITY && mode == OWNERSHIP_AUTO)
                mode = OWNERSHIP_OFF; /* UIDs map onto themselves */
        if (mode == OWNERSHIP_AUTO || mode == OWNERSHIP_IDMAP) {
                r = ownership_probe_idmap(s->root);
                if (r < 0)
                        return log_error_errno(r, "%s: cannot test whether its file system takes idmapped mounts: %m", s->root);
                if (r > 0 && ownership_shift_pending(s->root, &pending) <= 0) {
                        *ret_idmap = true;
                        return 0;
                }
                if (mode == OWNERSHIP_IDMAP)
                        return log_error_errno(EOPNOTSUPP, "%s: its file system cannot do idmapped mounts; use --private-users-ownership=chown", s->root);
                mode = OWNERSHIP_CHOWN;
        }
        if (mode != OWNERSHIP_CHOWN)
                return 0;

        bool resume = ownership_shift_pending(s->root, &pending) > 0;
        if (!resume && ownership_is_shifted(s->root, range->base) > 0)
                return 0;

        /* Refuse a read-only tree before announcing a shift that cannot start. */
        struct statvfs sv;
        if (statvfs(s->root, &sv) >= 0 && (sv.f_flag & ST_RDONLY))
                r = -EROFS;
        else {
                if (resume)
                        log_warning("%s: an earlier shift of its file owners (to %u) was interrupted; finishing it, to %u",
                                    s->root, pending, range->base);
                else if (!s->quiet)
                        log_info("Shifting the owners of the files in %s to %u..%u (chown).", s->root, range->base,
                                 range->base + UID_RANGE_SIZE - 1);
                r = ownership_shift(s->root, range->base, isatty(STDERR_FILENO) ? shift_progress : NULL, NULL,
                                    &changed);
        }
        if (r == -EROFS && s->ownership == OWNERSHIP_CHOWN)
                return log_error_errno(r, "%s: cannot chown its files: read-only file system; try --private-users-ownership=idmap", s->root);
        if (r == -EROFS)
                return log_error_errno(r, "%s: its file system can neither take idmapped mounts nor be chowned (read-only)", s->root);
        if (r < 0)
                return log_error_errno(r, "%s: shifting its file owners failed: %m; the next start will finish it", s->root);
        log_debug("Shifted the owners of %" PRIu64 " files.", changed);
        return 0;
}

/* Mounts the image's other partitions into its root, all still detached,
 * so that the tree can be looked at, and cloned per boot, as one. */
static int image_assemble(const Settings *s, Image *img) {
        bool have_xbootldr = false;
        int r;

        for (size_t i = 0; i < img->n_mounts; i++)
                if (img->mounts[i].designator == PARTITION_XBOOTLDR)
                        have_xbootldr = true;
        for (size_t i = 0; i < img->n_mounts; i++) {
                ImageMount *im = &img->mounts[i];
                const char *where = im->where;

                if (!where && image_boot_mount_point(img->root_fd, im->designator, have_xbootldr, &where) < 0) {
                        log_warning("%s: no empty /efi or /boot in its root: its %s partition is not mounted",
                                    s->root, partition_designator_to_string(im->designator));
                        continue;
                }
                r = mount_attach(im->fd, img->root_fd, where);
                if (r == -ENOENT) {
                        log_warning("%s: its root has no %s: that partition is not mounted", s->root, where);
                        continue;
                }
                if (r < 0)
                        return log_error_errno(r, "%s: cannot mount its %s partition on %s: %m", s->root,
                                               partition_designator_to_string(im->designator), where);
        }
        return 0;
}

static char *machine_name_from_image(const char *path) {
        static const char *const suffixes[] = { ".raw", ".img", ".image", ".squashfs", ".sqfs", ".erofs", ".ext4", ".btrfs", ".xfs" };
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
                size_t n = strlen(p), k = strlen(suffixes[i]);

                if (n > k && streq(p + n - k, suffixes[i])) {
                        p[n - k] = '\0';
                        break;
                }
        }
        return machine_name_from_path(p);
}

static int open_image(Settings *s, TreeLock *lock, Image **ret) {
        _cleanup_free_ char *holder = NULL, *error = NULL;
        int r;

        r = image_lock(s->root, !s->read_only && !s->ephemeral, s->machine_name, lock, &holder);
        if (r == -EBUSY)
                return log_error_errno(r, "%s: busy: in use by %s", s->root, holder ?: "other machines (read-only); add --read-only to share it");
        if (r < 0)
                return log_error_errno(r, "%s: cannot lock the image: %m", s->root);
        /* Ephemeral: the image is only read; writes go to the overlay. */
        r = image_open(s->root, s->read_only || s->ephemeral, ret, &error);
        if (r < 0)
                return log_error_errno(r, "%s", error ?: "cannot open the image");
        image_release_loops(*ret);
        return image_assemble(s, *ret);
}

/* The root: a directory, or an image made ready (locked, dissected, mounted);
 * looked at as a tree; the machine's name and id; the tree's lock. What it
 * acquires, the caller releases, also on failure. */
static int start_open(Settings *s, Machine *m, Tree *tree, TreeLock *lock, Image **img, char **staging) {
        _cleanup_free_ char *holder = NULL;
        int r;
        struct stat st;

        if (stat(s->root, &st) < 0)
                return log_error_errno(errno, "%s: %m", s->root);
        if (s->image && S_ISDIR(st.st_mode))
                return log_error_errno(EISDIR, "%s: --image given, but it is a directory; boot it without --image", s->root);
        if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) {
                if (!s->machine_name) {
                        s->machine_name = machine_name_from_image(s->root);
                        if (!s->machine_name)
                                return log_error_errno(EINVAL, "%s: cannot make a machine name from the image's name; give one with --machine=NAME", s->root);
                }
                if (s->ownership == OWNERSHIP_CHOWN)
                        return log_error_errno(EINVAL, "%s: an image's files are not chowned; use --private-users-ownership=idmap", s->root);
                r = open_image(s, lock, img);
                if (r < 0)
                        return r;
                m->image_root_fd = (*img)->root_fd;
                r = runtime_dir_make("root", staging);
                if (r < 0) {
                        log_error_errno(r, "cannot make the staging directory for the image's root: %m");
                        return r;
                }
                m->attach_path = *staging;
        }

        r = tree_open_verbose(s, m->image_root_fd, tree);
        if (r < 0)
                return r;
        if (!s->machine_name) {
                s->machine_name = machine_name_from_path(s->root);
                if (!s->machine_name) {
                        r = log_error_errno(EINVAL, "%s: cannot make a machine name from the directory's name; give one with --machine=NAME", s->root);
                        return r;
                }
        }
        m->tree = tree;
        m->init_kind = s->start_mode == START_RUN ? INIT_STUB : tree->init_kind;

        r = decide_machine_id(s, tree, m);
        if (r < 0)
                return r;

        /* Read-only and ephemeral machines do not write to the tree: they share it. */
        r = *img ? 0 : tree_lock_acquire(tree->dev, tree->ino, !s->read_only && !s->ephemeral, s->machine_name, lock, &holder);
        if (r == -EBUSY) {
                if (holder)
                        return log_error_errno(r, "%s: busy: in use by %s", s->root, holder);
                return log_error_errno(r, "%s: busy: in use read-only by other machines; add --read-only to share it", s->root);
        }
        if (r < 0)
                return log_error_errno(r, "%s: cannot lock the tree: %m", s->root);
        return 0;
}

/* -U: a UID range for the machine's life, and how its files get their owners. */
static int start_userns(const Settings *s, Machine *m, bool is_image, UidRange *range) {
        int r;

        if (s->userns_mode == USERNS_NO)
                return 0;
        r = uid_range_acquire(s->userns_mode, s->machine_name, s->uid_base, s->uid_size, range);
        if (r == -EBUSY)
                return log_error_errno(r, "UID range %u..%u: busy: another machine uses it; pick another base or use -U",
                                       s->uid_base, s->uid_base + s->uid_size - 1);
        if (r == -EADDRNOTAVAIL)
                return log_error_errno(r, "no free UID range for machine %s (256 candidates tried)", s->machine_name);
        if (r < 0)
                return log_error_errno(r, "cannot reserve a UID range for machine %s: %m", s->machine_name);
        m->uid_range = range;
        /* An image's file system is idmapped when the mount is made; a failure says so then. */
        if (is_image) {
                m->idmap_root = s->ownership != OWNERSHIP_OFF && s->userns_mode != USERNS_IDENTITY;
                return 0;
        }
        return prepare_ownership(s, range, &m->idmap_root);
}

/* The machine's cgroup, with its device policy. */
static int start_cgroup(const Settings *s, Cgroup **ret) {
        _cleanup_free_ char *why = NULL;
        int r;

        r = cgroup_machine_new(s->machine_name, ret);
        if (r == -EBUSY)
                return log_error_errno(r, "machine %s: busy: a machine of that name is running", s->machine_name);
        if (r == -ENOMEDIUM)
                return log_error_errno(r, "this host has no cgroup2 hierarchy (looked at /sys/fs/cgroup and /sys/fs/cgroup/unified)");
        if (r < 0)
                return log_error_errno(r, "machine %s: cannot create its cgroup: %m", s->machine_name);
        r = device_filter_attach((*ret)->fd, &why);
        if (r < 0)
                return log_error_errno(r, "machine %s: cannot attach its device policy (a cgroup BPF program) to %s: %m%s%s",
                                       s->machine_name, (*ret)->path, why ? "; " : "", strempty(why));
        return 0;
}

static int start(Settings *s) {
        Tree tree = TREE_NULL;
        TreeLock lock = TREE_LOCK_NULL;
        UidRange range = UID_RANGE_NULL;
        _cleanup_(image_freep) Image *img = NULL;
        _cleanup_free_ char *staging = NULL;
        MountPoints mp = {};
        _cleanup_(cgroup_machine_freep) Cgroup *cg = NULL;
        _cleanup_free_ char *failed = NULL, *host_os_release = NULL;
        Machine m = { .settings = s, .on_leader = register_leader, .on_end = unregister_leader,
                      .image_root_fd = -EBADF, .attach_path = s->root };
        int r;

        r = start_open(s, &m, &tree, &lock, &img, &staging);
        if (r < 0)
                goto finish;
        r = start_userns(s, &m, img != NULL, &range);
        if (r < 0)
                goto finish;
        r = start_cgroup(s, &cg);
        if (r < 0)
                goto finish;
        m.cgroup = cg;

        /* An ephemeral machine's mount points are made in its overlay, not the tree. */
        r = s->ephemeral || img ? 0 : mount_points_prepare(tree.fd, s, &mp, &failed);
        if (r < 0) {
                log_error_errno(r, "%s: cannot create mount point %s in the tree: %m", s->root, strempty(failed));
                goto finish;
        }

        host_os_release = read_host_os_release();
        m.host_os_release = host_os_release;
        /* "run" adds nothing of its own to the command's output. */
        if (!s->quiet && s->start_mode == START_BOOT) {
                log_info("Booting machine %s from %s (init: %s).", s->machine_name, s->root, tree.init_path);
                if (s->console_mode == CONSOLE_INTERACTIVE && isatty(STDIN_FILENO))
                        log_info("Press Ctrl-] three times within 1s to kill the machine.");
        }
        r = boot_loop(&m, s);

finish:
        mount_points_cleanup(tree.fd, &mp);
        cg = cgroup_machine_free(cg);
        registration.bus = sd_bus_flush_close_unref(registration.bus);
        uid_range_release(&range);
        tree_lock_release(&lock);
        tree_done(&tree);
        return r;
}

static void help_syscall_groups(void) {
        size_t n;
        const SyscallGroup *g = syscall_group_table(&n);

        for (size_t i = 0; i < n; i++) {
                printf("%-16s %s\n", g[i].name, g[i].help);
                printf("   ");
                NULSTR_FOREACH(m, g[i].members)
                        printf(" %s", m);
                printf("\n");
        }
}

static int verb_start(StartMode mode, int argc, char *argv[]) {
        _cleanup_(settings_done) Settings s = { .start_mode = mode };
        HelpKind want_help;
        int r;

        r = parse_argv(argc, argv, &s, &want_help);
        if (r < 0)
                return 1;
        if (want_help == HELP_OPTIONS) {
                help(mode);
                return 0;
        }
        if (want_help == HELP_SYSCALL_GROUPS) {
                help_syscall_groups();
                return 0;
        }
        if (geteuid() != 0) {
                log_error("boxctl %s needs root", start_mode_to_string(mode));
                return 1;
        }
        if (s.quiet)
                log_set_max_level(LOG_WARNING);
        r = verify_settings(&s);
        if (r < 0)
                return 1;
        r = start(&s);
        return r < 0 ? 1 : r;
}

int verb_boot(int argc, char *argv[]) {
        return verb_start(START_BOOT, argc, argv);
}

int verb_run(int argc, char *argv[]) {
        return verb_start(START_RUN, argc, argv);
}
