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
#include "machine-start.h"
#include "mount-points.h"
#include "mount-util.h"
#include "image.h"
#include "ownership.h"
#include "pool.h"
#include "pty-forward.h"
#include "registry-client.h"
#include "seccomp-filter.h"
#include "settings.h"
#include "settings-file.h"
#include "syscall-groups.h"
#include "tree.h"
#include "verbs.h"

#define DEFAULT_KILL_TIMEOUT_USEC (30ULL * 1000000ULL)
#define DEFAULT_WAIT_TIMEOUT_USEC (90ULL * 1000000ULL)

static void help(StartMode mode, bool background) {
        if (background)
                printf("Usage: boxctl start PATH|NAME [OPTIONS...] [-- INIT-ARGS...]\n\n"
                       "Boot the OS tree or image at PATH, or image NAME of the pool (/var/lib/machines,\n"
                       "$BOXCTL_POOL when set, or --pool=DIR) in the background, and return once it\n"
                       "runs. Its console is kept for\n"
                       "'boxctl console NAME'; 'boxctl stop NAME' powers it off.\n\n"
                       "     --wait=registered|ready\n"
                       "                           Return once init runs (and the machine is registered),\n"
                       "                           or once it is ready: systemd said READY=1; another\n"
                       "                           init's first process (its sysinit) has ended\n"
                       "     --wait-timeout=SECS   Power it off and fail if not there by then (90s)\n");
        else if (mode == START_BOOT)
                printf("Usage: boxctl boot PATH|NAME [OPTIONS...] [-- INIT-ARGS...]\n\n"
                       "Boot the OS tree at PATH, or image NAME of the pool, with its own init as PID 1,\n"
                       "in the foreground.\n\n");
        else
                printf("Usage: boxctl run PATH|NAME [OPTIONS...] -- COMMAND [ARGS...]\n\n"
                       "Run COMMAND as the only program of a machine made from the OS tree at PATH,\n"
                       "or image NAME of the pool.\n"
                       "Exits with COMMAND's exit status (128+N when it was killed by signal N).\n\n");
        printf("  -M --machine=NAME --name=NAME\n"
               "                           Machine name (default: the directory's name)\n"
               "     --hostname=NAME       Hostname inside (default: the machine name)\n"
               "     --machine-id=ID       Machine id (32 hex digits), shown over the tree's own\n"
               "     --console=MODE        interactive, read-only, passive or pipe\n"
               "     --notify-ready        Pass the guest's READY=1 on to our $NOTIFY_SOCKET (boot)\n"
               "     --bind=SRC[:DST[:ro]] Bind-mount a host path into the machine\n"
               "     --bind-ro=SRC[:DST]   The same, read-only\n"
               "     --tmpfs=DST           Mount an empty tmpfs at DST\n"
               "     --pool=DIR            The pool NAME is taken from (/var/lib/machines, or\n"
               "                           $BOXCTL_POOL); a NAME (no '/') of the pool wins over a\n"
               "                           file of that name here: say ./NAME for that\n"
               "     --settings=MODE       Read the machine's settings file NAME.box: yes, no,\n"
               "                           trusted (every key, wherever the file is) or override\n"
               "                           (the file wins over these options)\n"
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
               "     --memory-max=BYTES    Memory limit: the machine's processes are OOM-killed beyond it\n"
               "     --memory-high=BYTES   Memory throttling limit (cgroup v1: the soft limit)\n"
               "     --memory-low=BYTES    Memory protected from reclaim (cgroup v1: the soft limit)\n"
               "     --memory-swap-max=BYTES\n"
               "                           Swap limit (cgroup v1: needs --memory-max)\n"
               "                           BYTES: 64M, 1.5G, 10%% of the host's memory, or infinity\n"
               "     --cpu-weight=1..10000 CPU share against other machines (100 by default)\n"
               "     --cpu-quota=PERCENT   CPU time per wall time, 20%% is a fifth of one CPU\n"
               "     --cpu-quota-period=TIME\n"
               "                           The period --cpu-quota is enforced over (1ms..1s)\n"
               "     --allowed-cpus=LIST   Run only on these CPUs, like 0-3,6\n"
               "     --allowed-memory-nodes=LIST\n"
               "                           Allocate memory only on these NUMA nodes\n"
               "     --pids-max=N          At most N processes and threads\n"
               "     --io-weight=1..10000  Disk share against other machines (100 by default)\n"
               "     --io-max=DEVICE:r|w:BYTES\n"
               "                           Read (r) or write (w) bandwidth per second on a whole\n"
               "                           disk (/dev/vda or MAJ:MIN), or max; repeatable\n"
               "  -q --quiet               Say nothing but errors\n"
               "  -h --help                Show this help\n\n"
               "SIGTERM or SIGINT asks the machine to power off; a second one kills it.\n");
        if (!background)
                printf("On an interactive console, press Ctrl-] three times within 1s to kill it.\n");
}

enum {
        ARG_HOSTNAME = 0x100,
        ARG_POOL,
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
        ARG_NOTIFY_READY,
        ARG_WAIT,
        ARG_WAIT_TIMEOUT,
        ARG_LIMIT,  /* --memory-max and the others: the option's name says which */
        ARG_IO_MAX,
        ARG_SETTINGS,
};

typedef enum HelpKind {
        HELP_NONE,
        HELP_OPTIONS,        /* --help */
        HELP_SYSCALL_GROUPS, /* --system-call-filter=help */
} HelpKind;

/* What parse_argv() needs to remember between options. */
typedef struct ParseState {
        SettingsGiven given; /* which settings the options gave; --capability, --drop-capability */
        SettingsMode settings_mode; /* --settings= */
        bool from_pool;   /* PATH was a NAME of the pool */
        bool read_only;   /* the pool marks it read-only */
        const char *arg;  /* PATH or NAME as given */
        bool console_set, ownership_set;
        bool filter_help; /* --system-call-filter=help */
        bool background;  /* "start" */
        const char *pool; /* --pool=DIR */
        const char *verb;
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
        case ARG_SETTINGS:
                st->settings_mode = settings_mode_from_string(arg);
                if (st->settings_mode < 0)
                        return log_error_errno(EINVAL, "invalid --settings '%s': use yes, no, trusted or override", arg);
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

/* Options about waiting for the guest: 1 handled, 0 not ours, < 0 error (logged). */
static int parse_option_wait(int c, const char *arg, Settings *s, ParseState *st) {
        switch (c) {
        case ARG_NOTIFY_READY:
                if (st->background || s->start_mode != START_BOOT)
                        return log_error_errno(EINVAL, "--notify-ready is for 'boxctl boot'; 'boxctl %s' has --wait=ready", st->verb);
                s->notify_ready = true;
                return 1;
        case ARG_WAIT:
                if (!st->background)
                        return log_error_errno(EINVAL, "--wait is for 'boxctl start'");
                s->start_wait = start_wait_from_string(arg);
                if (s->start_wait < 0)
                        return log_error_errno(EINVAL, "invalid --wait '%s': use registered or ready", arg);
                return 1;
        case ARG_WAIT_TIMEOUT:
                if (!st->background)
                        return log_error_errno(EINVAL, "--wait-timeout is for 'boxctl start'");
                if (parse_seconds(arg, &s->wait_timeout_usec) < 0 || s->wait_timeout_usec == 0)
                        return log_error_errno(EINVAL, "invalid --wait-timeout '%s': expected seconds, like 90 or 1.5s", arg);
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
        case ARG_POOL:
                st->pool = arg;
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
        case 'p':
                r = settings_add_port(s, arg);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0)
                        return log_error_errno(r, "invalid --port '%s': expected [tcp|udp:]HOSTPORT[:MACHINEPORT], ports 1..65535", arg);
                return 1;
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
                        st->given.cap_keep |= m;
                else
                        st->given.cap_drop |= m;
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

/* Resource limits: 1 handled, 0 not ours, < 0 error (logged). The core parses; the
 * option's name (NAME) is the limit's. */
static int parse_option_limits(int c, const char *name, const char *arg, Settings *s) {
        CgroupLimit k;
        int r;

        switch (c) {
        case ARG_LIMIT:
                k = cgroup_limit_option_from_string(name);
                if (k < 0)
                        return -EINVAL;
                r = cgroup_limits_parse(&s->limits, k, arg);
                if (r == -ERANGE)
                        return log_error_errno(r, "invalid --%s '%s': out of range; use %s", name, arg, cgroup_limit_range(k));
                if (r < 0)
                        return log_error_errno(r, "invalid --%s '%s': use %s", name, arg, cgroup_limit_range(k));
                return 1;
        case ARG_IO_MAX:
                r = cgroup_limits_parse_io_max(&s->limits, arg);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0)
                        return log_error_errno(r, "invalid --io-max '%s': %s", arg,
                                               cgroup_limits_io_max_error(r) ?: "use DEVICE:r|w:BYTES, like /dev/vda:w:10M or 254:0:r:max");
                return 1;
        default:
                return 0;
        }
}

/* The positional arguments: the tree or image (unless -i gave it), then
 * init's arguments or the command. */
static int parse_positional(int argc, char *argv[], Settings *s, ParseState *st) {
        int r;

        if (!s->image) {
                if (optind >= argc)
                        return log_error_errno(EINVAL, "no OS tree given; usage: boxctl %s PATH [OPTIONS...]%s",
                                               st->verb,
                                               s->start_mode == START_RUN ? " -- COMMAND [ARGS...]" : "");
                /* PATH, or NAME of the pool: the rule is pool_resolve()'s (pool.h). */
                r = pool_resolve(st->pool, argv[optind], &s->root, &st->read_only, &st->from_pool);
                if (r == -ENOENT && !strchr(argv[optind], '/'))
                        return log_error_errno(r, "%s: no such image in %s, and no such path here", argv[optind],
                                               st->pool ?: pool_default_dir());
                if (r < 0)
                        return log_error_errno(r, "%s: %m", argv[optind]);
                st->arg = argv[optind];
                optind++;
        }
        s->argv = strv_copy(argv + optind);
        if (!s->argv)
                return log_oom();
        if (s->argv[0])
                st->given.fields |= UINT32_C(1) << SETTING_PARAMETERS;
        return 0;
}

/* The machine's settings file, when there is one: found here, read and
 * merged by the core (settings-file.h). Its name is the machine's: -M, or
 * the pool's NAME, or what the tree's or image's name makes. */
static int parse_settings_file(Settings *s, ParseState *st) {
        _cleanup_(settings_file_freep) SettingsFile *f = NULL;
        _cleanup_strv_free_ char **warnings = NULL;
        _cleanup_free_ char *name = NULL, *beside = NULL, *path = NULL, *error = NULL;
        bool trusted = false;
        int r;

        if (st->settings_mode == SETTINGS_MODE_NO)
                return 0;
        if (s->machine_name)
                name = strdup(s->machine_name);
        else if (st->from_pool)
                name = strdup(st->arg);
        else
                name = machine_name_default(s->root);
        if (st->from_pool)
                beside = strdup(st->pool ?: pool_default_dir());
        else {
                size_t n, k;

                /* The directory that holds the tree or image: "/srv" of "/srv/deb", "/" of "/deb". */
                (void) path_basename_ref(s->root, &n);
                k = strlen(s->root) - n;
                beside = strndup(s->root, k > 1 ? k - 1 : 1);
        }
        if (!beside)
                return log_oom();
        if (!name)
                return 0; /* a name nothing could be made of has no file */

        r = settings_file_find(name, beside, &path, &trusted);
        if (r == -ENOENT || r == -EINVAL)
                return 0;
        if (r < 0)
                return log_error_errno(r, "cannot look for the settings file of machine %s: %m", name);
        r = settings_file_load(path, trusted || st->settings_mode == SETTINGS_MODE_TRUSTED, &f, &warnings, &error);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_error_errno(r, "%s", error ?: path);
        for (char **w = warnings; w && *w; w++)
                log_warning("%s", *w);
        settings_file_merge(s, &st->given, f, st->settings_mode == SETTINGS_MODE_OVERRIDE);
        return 0;
}

/* After the options and the settings file: what they imply and what conflicts. */
static int parse_finish(Settings *s, ParseState *st) {
        if (settings_given(&st->given, SETTING_OWNERSHIP))
                st->ownership_set = true;
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
        if (st->given.cap_keep & st->given.cap_drop) {
                _cleanup_free_ char *both = caps_to_string(st->given.cap_keep & st->given.cap_drop);
                return log_error_errno(EINVAL, "conflicting options: %s both kept (--capability) and dropped (--drop-capability)", strempty(both));
        }
        s->capabilities = (s->capabilities | st->given.cap_keep) & ~st->given.cap_drop;
        s->read_only = s->read_only || st->read_only; /* the pool marks it read-only: no file unmarks it */

        if (st->background) {
                if (s->console_mode == CONSOLE_INTERACTIVE && st->console_set)
                        return log_error_errno(EINVAL, "a background machine has no terminal; use 'boxctl console NAME'");
                if (!st->console_set)
                        s->console_mode = CONSOLE_BACKGROUND;
                s->notify_ready = true; /* how the supervisor tells us it runs */
                return 0;
        }
        if (s->console_mode == CONSOLE_BACKGROUND)
                return log_error_errno(EINVAL, "--console=background is for 'boxctl start'");
        if (!st->console_set) {
                bool tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);

                /* Without a terminal: "boot" shows the console's output, "run" hands
                 * the command our stdin/stdout/stderr as they are. */
                s->console_mode = tty ? CONSOLE_INTERACTIVE : s->start_mode == START_RUN ? CONSOLE_PIPE : CONSOLE_READ_ONLY;
        }
        return 0;
}

/* Which settings an option gives, so that the settings file does not
 * override it (settings-file.h); the limits say so themselves. */
static uint32_t option_fields(int c) {
        SettingField f;

        switch (c) {
        case ARG_HOSTNAME: f = SETTING_HOSTNAME; break;
        case ARG_MACHINE_ID: f = SETTING_MACHINE_ID; break;
        case 'E': f = SETTING_ENVIRONMENT; break;
        case ARG_KILL_TIMEOUT: f = SETTING_KILL_TIMEOUT; break;
        case ARG_NO_REBOOT: f = SETTING_NO_REBOOT; break;
        case ARG_NOTIFY_READY: f = SETTING_NOTIFY_READY; break;
        case ARG_BIND:
        case ARG_BIND_RO: f = SETTING_BINDS; break;
        case ARG_TMPFS: f = SETTING_TMPFS; break;
        case ARG_READ_ONLY: f = SETTING_READ_ONLY; break;
        case 'x': f = SETTING_EPHEMERAL; break;
        case ARG_PRIVATE_NETWORK: f = SETTING_PRIVATE_NETWORK; break;
        case 'n':
        case ARG_NETWORK_BRIDGE:
        case ARG_NETWORK_ZONE: f = SETTING_NETWORK; break;
        case 'p': f = SETTING_PORTS; break;
        case ARG_CAPABILITY:
        case ARG_DROP_CAPABILITY: f = SETTING_CAPABILITY; break;
        case 'U':
        case ARG_PRIVATE_USERS: f = SETTING_PRIVATE_USERS; break;
        case ARG_PRIVATE_USERS_OWNERSHIP: f = SETTING_OWNERSHIP; break;
        case ARG_SYSTEM_CALL_FILTER: f = SETTING_SYSCALL_FILTER; break;
        case ARG_IO_MAX: f = SETTING_IO_MAX; break;
        default: return 0;
        }
        return UINT32_C(1) << f;
}

static int parse_argv(int argc, char *argv[], Settings *s, bool background, HelpKind *ret_help) {
        static const struct option options[] = {
                { "machine", required_argument, NULL, 'M' },
                { "name", required_argument, NULL, 'M' },
                { "hostname", required_argument, NULL, ARG_HOSTNAME },
                { "pool", required_argument, NULL, ARG_POOL },
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
                { "notify-ready", no_argument, NULL, ARG_NOTIFY_READY },
                { "wait", required_argument, NULL, ARG_WAIT },
                { "wait-timeout", required_argument, NULL, ARG_WAIT_TIMEOUT },
                { "memory-max", required_argument, NULL, ARG_LIMIT },
                { "memory-high", required_argument, NULL, ARG_LIMIT },
                { "memory-swap-max", required_argument, NULL, ARG_LIMIT },
                { "cpu-weight", required_argument, NULL, ARG_LIMIT },
                { "cpu-quota", required_argument, NULL, ARG_LIMIT },
                { "pids-max", required_argument, NULL, ARG_LIMIT },
                { "io-weight", required_argument, NULL, ARG_LIMIT },
                { "memory-low", required_argument, NULL, ARG_LIMIT },
                { "cpu-quota-period", required_argument, NULL, ARG_LIMIT },
                { "allowed-cpus", required_argument, NULL, ARG_LIMIT },
                { "allowed-memory-nodes", required_argument, NULL, ARG_LIMIT },
                { "io-max", required_argument, NULL, ARG_IO_MAX },
                { "settings", required_argument, NULL, ARG_SETTINGS },
                {},
        };
        ParseState st = { .background = background, .verb = background ? "start" : start_mode_to_string(s->start_mode) };
        int c, r, opt_index = 0;

        s->capabilities = caps_default();
        s->kill_timeout_usec = DEFAULT_KILL_TIMEOUT_USEC;
        s->wait_timeout_usec = DEFAULT_WAIT_TIMEOUT_USEC;
        *ret_help = HELP_NONE;
        opterr = 0;
        optind = 0;

        while ((c = getopt_long(argc, argv, "M:E:qhUxnp:i:", options, &opt_index)) >= 0) {
                if (c == 'h') {
                        *ret_help = HELP_OPTIONS;
                        return 0;
                }
                if (c == '?') {
                        /* optopt is 0 for an unknown long option: not one that lacks its value. */
                        if (optopt >= ARG_HOSTNAME || (optopt != 0 && strchr("MEpi", optopt)))
                                return log_error_errno(EINVAL, "option '%s' needs a value", argv[optind - 1]);
                        return log_error_errno(EINVAL, "unknown option '%s'; try 'boxctl %s --help'",
                                               argv[optind - 1], st.verb);
                }
                r = parse_option_machine(c, optarg, s, &st);
                if (r == 0)
                        r = parse_option_wait(c, optarg, s, &st);
                if (r == 0)
                        r = parse_option_mounts(c, optarg, s, &st);
                if (r == 0)
                        r = parse_option_network(c, optarg, s, &st);
                if (r == 0)
                        r = parse_option_security(c, optarg, s, &st);
                if (r == 0)
                        r = parse_option_limits(c, options[opt_index].name, optarg, s);
                if (r <= 0)
                        return r < 0 ? r : -EINVAL;
                st.given.fields |= option_fields(c);
                if (st.filter_help) {
                        *ret_help = HELP_SYSCALL_GROUPS;
                        return 0;
                }
        }
        r = parse_positional(argc, argv, s, &st);
        if (r < 0)
                return r;
        r = parse_settings_file(s, &st);
        if (r < 0)
                return r;
        return parse_finish(s, &st);

}

static void on_notice(MachineNotice kind, const char *text, void *userdata) {
        const Settings *s = userdata;

        switch (kind) {
        case MACHINE_NOTICE_WARNING:
                log_warning("%s", text);
                break;
        case MACHINE_NOTICE_ERROR:
                log_error("%s", text);
                break;
        case MACHINE_NOTICE_KILLED:
                log_info("%s", text);
                break;
        case MACHINE_NOTICE_BOOTING:
        case MACHINE_NOTICE_ENDED:
                /* "run" adds nothing of its own to the command's output. */
                if (!s->quiet && s->start_mode == START_BOOT)
                        log_info("%s", text);
                break;
        default:
                if (!s->quiet)
                        log_info("%s", text);
        }
        if (kind == MACHINE_NOTICE_BOOTING && !s->quiet && s->start_mode == START_BOOT &&
            s->console_mode == CONSOLE_INTERACTIVE && isatty(STDIN_FILENO))
                log_info("Press Ctrl-] three times within 1s to kill the machine.");
}

static void on_shift_progress(uint64_t n_files, bool done, void *userdata) {
        if (!isatty(STDERR_FILENO))
                return;
        if (done)
                fputc('\n', stderr);
        else
                fprintf(stderr, "\rShifting file owners: %" PRIu64 " files", n_files);
}

static void on_console_begin(void *userdata) {
        /* Raw only while the console is forwarded, so our own lines end properly. */
        (void) terminal_raw_begin();
}

static void on_console_end(void *userdata) {
        terminal_raw_end();
}

static int start(Settings *s) {
        _cleanup_(machine_releasep) MachineInstance *mi = NULL;
        _cleanup_free_ char *error = NULL;
        MachineHooks hooks = {
                .notice = on_notice,
                .shift_progress = on_shift_progress,
                .console_begin = on_console_begin,
                .console_end = on_console_end,
                .userdata = s,
        };
        int r;

        r = machine_prepare(s, &hooks, &mi, &error);
        if (r < 0)
                return log_error_errno(r, "%s", error ?: "cannot prepare the machine");
        r = machine_boot(mi, &error);
        if (r < 0)
                return log_error_errno(r, "%s", error ?: "cannot start the machine");
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

int boot_parse_settings(StartMode mode, bool background, int argc, char *argv[], Settings *s) {
        HelpKind want_help;
        int r;

        r = parse_argv(argc, argv, s, background, &want_help);
        if (r < 0)
                return r;
        if (want_help == HELP_OPTIONS) {
                help(mode, background);
                return 0;
        }
        if (want_help == HELP_SYSCALL_GROUPS) {
                help_syscall_groups();
                return 0;
        }
        if (geteuid() != 0)
                return log_error_errno(EPERM, "boxctl %s needs root", background ? "start" : start_mode_to_string(mode));
        return 1;
}

static int verb_boot_or_run(StartMode mode, int argc, char *argv[]) {
        _cleanup_(settings_done) Settings s = { .start_mode = mode };
        _cleanup_free_ char *error = NULL;
        int r;

        r = boot_parse_settings(mode, false, argc, argv, &s);
        if (r <= 0)
                return r < 0 ? 1 : 0;
        if (s.quiet)
                log_set_max_level(LOG_WARNING);
        r = settings_verify(&s, &error);
        if (r < 0) {
                log_error_errno(r, "%s", error);
                return 1;
        }
        r = start(&s);
        return r < 0 ? 1 : r;
}

int verb_boot(int argc, char *argv[]) {
        return verb_boot_or_run(START_BOOT, argc, argv);
}

int verb_run(int argc, char *argv[]) {
        return verb_boot_or_run(START_RUN, argc, argv);
}
