/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the verbs about running machines share: their command line, the bus,
 * and what they learn about one machine. Like machinectl, the verbs only talk
 * to the machine registry on the system bus (org.freedesktop.machine1: boxd,
 * or systemd-machined), so they see every machine it knows, whoever started
 * it. The verbs themselves live in verb-list.c, verb-status.c, verb-show.c and
 * verb-control.c. */
#include <arpa/inet.h>
#include <ctype.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "log.h"
#include "machine1-names.h"
#include "registry-client.h"
#include "verb-machines.h"
#include "verbs.h"

#define DBUS_PROPERTIES "org.freedesktop.DBus.Properties"

/* Long options without a short form, for every verb's option table. */
enum {
        ARG_NO_LEGEND = 0x100,
        ARG_VALUE,
        ARG_KILL_WHOM,
};

typedef enum MachineNames {
        MACHINE_NAMES_NONE,     /* list */
        MACHINE_NAMES_OPTIONAL, /* show: the registry itself when none */
        MACHINE_NAMES_REQUIRED,
} MachineNames;

typedef struct MachinesVerb {
        const char *name;
        const struct option *options;
        const char *short_options;
        const char *usage; /* after "boxctl NAME " */
        MachineNames names;
        /* Without a NAME on the command line. */
        int (*run_all)(sd_bus *bus, const Args *a);
        /* For each NAME; with blank_line, an empty line between their outputs. */
        int (*run_one)(sd_bus *bus, const char *name, const Args *a);
        bool blank_line;
        const char *text; /* what it does, and its options */
} MachinesVerb;

static void args_done(Args *a) {
        strv_freep(&a->properties);
}

static void help(const MachinesVerb *v) {
        printf("Usage: boxctl %s %s\n\n%s"
               "  -h --help                 Show this help\n",
               v->name, v->usage, v->text);
}

/* ---- parsing ---- */

/* A signal by name ("TERM", "SIGTERM", "RTMIN+4", "SIGRTMAX-1"), in any case, or by number. */
static int signal_from_string(const char *s) {
        char up[32], *p, *q;
        unsigned u;

        if (parse_uint(s, &u) >= 0)
                return u > 0 && u < (unsigned) _NSIG ? (int) u : -EINVAL;
        if (strlen(s) >= sizeof up)
                return -EINVAL;
        for (size_t i = 0; i <= strlen(s); i++)
                up[i] = (char) toupper((unsigned char) s[i]);
        p = startswith(up, "SIG") ?: up;
        if ((q = startswith(p, "RTMIN")) || (q = startswith(p, "RTMAX"))) {
                bool min = p[3] == 'I'; /* RTM_I_N or RTM_A_X */

                if (*q == '\0')
                        return min ? SIGRTMIN : SIGRTMAX;
                if (*q != (min ? '+' : '-') || parse_uint(q + 1, &u) < 0 || u > (unsigned) (SIGRTMAX - SIGRTMIN))
                        return -EINVAL;
                return min ? SIGRTMIN + (int) u : SIGRTMAX - (int) u;
        }
        for (int i = 1; i < SIGRTMIN; i++) {
                const char *n = sigabbrev_np(i);

                if (n && streq(n, p))
                        return i;
        }
        /* Other names of the same signals, as shells list them. */
        if (streq(p, "IOT"))
                return SIGABRT;
        if (streq(p, "IO"))
                return SIGIO;
        if (streq(p, "CLD"))
                return SIGCHLD;
        return -EINVAL;
}

static int add_properties(Args *a, const char *list) {
        _cleanup_free_ char *copy = strdup(list);
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save))
                if (strv_push_dup(&a->properties, w) < 0)
                        return -ENOMEM;
        return 0;
}

static int parse_option(const MachinesVerb *v, int c, char *argv[], Args *a) {
        switch (c) {
        case 'h':
                a->help = true;
                return 0;
        case ARG_NO_LEGEND:
                a->no_legend = true;
                return 0;
        case 'o':
                if (!streq(optarg, "json") && !streq(optarg, "table"))
                        return log_error_errno(EINVAL, "invalid --output mode '%s': use table or json", optarg);
                a->json = streq(optarg, "json");
                return 0;
        case 'p':
                return add_properties(a, optarg) < 0 ? log_oom() : 0;
        case ARG_VALUE:
                a->value = true;
                return 0;
        case 'l':
                a->full = true;
                return 0;
        case 'q':
                a->quiet = true;
                return 0;
        case 's':
                a->signal = signal_from_string(optarg);
                if (a->signal < 0)
                        return log_error_errno(EINVAL, "invalid signal '%s': use a name such as TERM, SIGUSR1 or RTMIN+4, or a number from 1 to %d",
                                               optarg, _NSIG - 1);
                return 0;
        case ARG_KILL_WHOM:
                a->kill_whom = kill_whom_from_string(optarg);
                if (a->kill_whom < 0)
                        return log_error_errno(EINVAL, "invalid --kill-whom '%s': use leader or all", optarg);
                return 0;
        case '?': {
                const char *opt = argv[optind - 1];
                /* '?' for an option this verb knows can only mean its value is missing. */
                bool known = optopt >= 0x100 || (optopt > 0 && strchr(v->short_options, optopt));

                if (known && !strchr(opt, '='))
                        return log_error_errno(EINVAL, "option '%s' needs a value", opt);
                return log_error_errno(EINVAL, "unknown option '%s'; try 'boxctl %s --help'", opt, v->name);
        }
        default:
                return -EINVAL;
        }
}

static int parse_argv(const MachinesVerb *v, int argc, char *argv[], Args *a) {
        int c, r;

        a->signal = SIGTERM;
        a->kill_whom = KILL_ALL;
        opterr = 0;
        optind = 0;
        while ((c = getopt_long(argc, argv, v->short_options, v->options, NULL)) >= 0) {
                r = parse_option(v, c, argv, a);
                if (r < 0)
                        return r;
                if (a->help)
                        return 0;
        }
        a->names = argv + optind;

        if (v->names == MACHINE_NAMES_NONE && a->names[0])
                return log_error_errno(EINVAL, "unexpected argument '%s'; usage: boxctl %s %s", a->names[0],
                                       v->name, v->usage);
        if (v->names == MACHINE_NAMES_REQUIRED && !a->names[0])
                return log_error_errno(EINVAL, "no machine given; usage: boxctl %s %s; see 'boxctl list'",
                                       v->name, v->usage);
        return 0;
}

/* ---- the bus ---- */

static int bus_connect(sd_bus **ret) {
        int r = sd_bus_open_system(ret);

        if (r < 0)
                return log_error_errno(r, "cannot connect to the system bus: %m; is dbus-daemon running?");
        return 0;
}

int machines_log_bus_error(int r, const sd_bus_error *e, const char *verb, const char *name) {
        const char *sep = name ? " " : "";

        if (registry_error_is_absent(e)) {
                log_error("no machine registry on the system bus (%s); start boxd", e->name);
                return -ERRNO_NO_REGISTRY;
        }
        /* UnknownObject: the machine ended between two calls. */
        if (name && sd_bus_error_has_names(e, BUS_ERROR_NO_SUCH_MACHINE, SD_BUS_ERROR_UNKNOWN_OBJECT))
                return log_error_errno(r, "machine '%s': no such machine; see 'boxctl list'", name);
        if (sd_bus_error_has_names(e, SD_BUS_ERROR_ACCESS_DENIED, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED))
                return log_error_errno(r, "%s%s%s: permission denied: only root may control machines", verb, sep,
                                       strempty(name));
        if (sd_bus_error_is_set(e))
                return log_error_errno(r, "%s%s%s: %s", verb, sep, strempty(name), e->message ?: e->name);
        return log_error_errno(r, "%s%s%s: %m", verb, sep, strempty(name));
}

int machine_get_path(sd_bus *bus, const char *name, sd_bus_error *error, char **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path;
        int r;

        r = registry_client_call(bus, "GetMachine", error, &reply, "s", name);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return r;
        *ret = strdup(path);
        return *ret ? 0 : -ENOMEM;
}

int machines_get_leader(const char *verb, const char *name, pid_t *ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *path = NULL;
        uint32_t leader;
        int r;

        r = bus_connect(&bus);
        if (r < 0)
                return r;
        r = machine_get_path(bus, name, &error, &path);
        if (r >= 0)
                r = sd_bus_get_property_trivial(bus, MACHINE1_BUS_NAME, path, MACHINE1_MACHINE, "Leader",
                                                &error, 'u', &leader);
        if (r < 0)
                return machines_log_bus_error(r, &error, verb, name);
        if (leader <= 1)
                return log_error_errno(ESRCH, "%s %s: the registry knows no leader for it", verb, name);
        *ret = (pid_t) leader;
        return 0;
}

int machines_get_all_properties(sd_bus *bus, const char *path, const char *interface, sd_bus_error *error,
                                sd_bus_message **reply) {
        return sd_bus_call_method(bus, MACHINE1_BUS_NAME, path, DBUS_PROPERTIES, "GetAll", error, reply, "s",
                                  interface);
}

int machines_for_each_property(sd_bus_message *reply, PropertyFunc f, void *userdata) {
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *key, *type;

                r = sd_bus_message_read_basic(reply, 's', &key);
                if (r >= 0)
                        r = sd_bus_message_peek_type(reply, NULL, &type);
                if (r >= 0)
                        r = sd_bus_message_enter_container(reply, 'v', type);
                if (r >= 0)
                        r = f(reply, key, type, userdata);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(reply);
}

/* ---- what we learn about one machine ---- */

void machine_info_done(MachineInfo *mi) {
        free(mi->name);
        free(mi->class);
        free(mi->service);
        free(mi->unit);
        free(mi->root);
        free(mi->path);
        free(mi->os_id);
        free(mi->os_version);
        free(mi->os_pretty);
        strv_freep(&mi->addresses);
        *mi = (MachineInfo) {};
}

int machines_one_name_arg(int argc, char *argv[], const char *usage, const char **ret_name) {
        if (optind != argc - 1)
                return log_error_errno(EINVAL, "%s; usage: %s", optind >= argc ? "no machine given" : "one machine at a time",
                                       usage);
        if (!machine_name_is_valid(argv[optind]))
                return log_error_errno(EINVAL, "invalid machine name '%s'", argv[optind]);
        *ret_name = argv[optind];
        return 1;
}

int machines_set_string(char **dst, const char *s) {
        char *d = strdup(s);

        if (!d)
                return -ENOMEM;
        free(*dst);
        *dst = d;
        return 0;
}

static int machine_info_read_property(sd_bus_message *m, const char *key, const char *type, void *userdata) {
        static const struct {
                const char *key;
                size_t offset;
        } strings[] = {
                { "Name", offsetof(MachineInfo, name) },       { "Class", offsetof(MachineInfo, class) },
                { "Service", offsetof(MachineInfo, service) }, { "Unit", offsetof(MachineInfo, unit) },
                { "RootDirectory", offsetof(MachineInfo, root) },
        };
        MachineInfo *mi = userdata;
        const char *s;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(strings) && streq(type, "s"); i++)
                if (streq(key, strings[i].key)) {
                        r = sd_bus_message_read_basic(m, 's', &s);
                        return r < 0 ? r : machines_set_string((char **) ((uint8_t *) mi + strings[i].offset), s);
                }
        if (streq(key, "Leader") && streq(type, "u"))
                return sd_bus_message_read_basic(m, 'u', &mi->leader);
        if (streq(key, "Timestamp") && streq(type, "t"))
                return sd_bus_message_read_basic(m, 't', &mi->timestamp);
        if (streq(key, "Id") && streq(type, "ay")) {
                const void *p;
                size_t n;

                r = sd_bus_message_read_array(m, 'y', &p, &n);
                if (r >= 0 && n == sizeof(Id128))
                        memcpy(&mi->id, p, n);
                return r;
        }
        return sd_bus_message_skip(m, type);
}

int machine_info_fetch_properties(sd_bus *bus, MachineInfo *mi, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = machines_get_all_properties(bus, mi->path, MACHINE1_MACHINE, error, &reply);
        if (r < 0)
                return r;
        return machines_for_each_property(reply, machine_info_read_property, mi);
}

int machine_info_fetch_os_release(sd_bus *bus, MachineInfo *mi) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *k, *v;
        int r;

        r = registry_client_call(bus, "GetMachineOSRelease", &error, &reply, "s", mi->name);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "{ss}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(reply, "{ss}", &k, &v)) > 0) {
                char **dst = streq(k, "ID")          ? &mi->os_id
                             : streq(k, "VERSION_ID")  ? &mi->os_version
                             : streq(k, "PRETTY_NAME") ? &mi->os_pretty
                                                       : NULL;

                if (dst && machines_set_string(dst, v) < 0)
                        return -ENOMEM;
        }
        return r;
}

int machine_info_fetch_addresses(sd_bus *bus, MachineInfo *mi) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = registry_client_call(bus, "GetMachineAddresses", &error, &reply, "s", mi->name);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(iay)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'r', "iay")) > 0) {
                char buf[INET6_ADDRSTRLEN];
                int32_t family;
                const void *a;
                size_t n;

                r = sd_bus_message_read(reply, "i", &family);
                if (r >= 0)
                        r = sd_bus_message_read_array(reply, 'y', &a, &n);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
                if (!(family == AF_INET && n == 4) && !(family == AF_INET6 && n == 16))
                        continue;
                if (inet_ntop(family, a, buf, sizeof buf) && strv_push_dup(&mi->addresses, buf) < 0)
                        return -ENOMEM;
        }
        return r;
}

void machines_format_timestamp(uint64_t usec, char *buf, size_t n) {
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;

        if (!localtime_r(&t, &tm) || strftime(buf, n, "%a %Y-%m-%d %H:%M:%S %Z", &tm) == 0)
                snprintf(buf, n, "@%" PRIu64, usec / 1000000);
}

/* ---- the verbs ---- */

static const struct option options_list[] = {
        { "no-legend", no_argument, NULL, ARG_NO_LEGEND },
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        {},
};

static const struct option options_status[] = {
        { "full", no_argument, NULL, 'l' },
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        {},
};

static const struct option options_show[] = {
        { "property", required_argument, NULL, 'p' },
        { "value", no_argument, NULL, ARG_VALUE },
        { "help", no_argument, NULL, 'h' },
        {},
};

static const struct option options_action[] = {
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        {},
};

static const struct option options_kill[] = {
        { "signal", required_argument, NULL, 's' },
        { "kill-whom", required_argument, NULL, ARG_KILL_WHOM },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        {},
};

static const MachinesVerb verb_spec_list = {
        "list", options_list, "o:h", "[OPTIONS...]", MACHINE_NAMES_NONE, list_run, NULL, false,
        "List the machines the registry knows, with their OS and addresses.\n\n"
        "     --no-legend           Print neither the header nor the count\n"
        "  -o --output=MODE          table (the default) or json\n",
};

static const MachinesVerb verb_spec_status = {
        "status", options_status, "o:lh", "NAME...", MACHINE_NAMES_REQUIRED, NULL, status_one, true,
        "Show the state of machines, their use of memory, CPU, tasks and IO, and the\n"
        "processes of their cgroups.\n\n"
        "  -l --full                 Do not cut command lines to the terminal's width\n"
        "  -o --output=MODE          table (the default) or json: one object a machine\n",
};

static const MachinesVerb verb_spec_show = {
        "show", options_show, "p:h", "[NAME...] [OPTIONS...]", MACHINE_NAMES_OPTIONAL, show_registry, show_one, true,
        "Show the registry's properties of machines, or of the registry itself\n"
        "when no NAME is given, as Key=Value lines.\n\n"
        "  -p --property=NAME[,NAME...]\n"
        "                            Show only these properties (repeatable)\n"
        "     --value               Print the values only\n",
};

static const MachinesVerb verb_spec_poweroff = {
        "poweroff", options_action, "qh", "NAME...", MACHINE_NAMES_REQUIRED, NULL, poweroff_one, false,
        "Ask the init of machines to power off, as on a power button.\n\n"
        "  -q --quiet                Say nothing but errors\n",
};

static const MachinesVerb verb_spec_reboot = {
        "reboot", options_action, "qh", "NAME...", MACHINE_NAMES_REQUIRED, NULL, reboot_one, false,
        "Ask the init of machines to reboot.\n\n"
        "  -q --quiet                Say nothing but errors\n",
};

static const MachinesVerb verb_spec_terminate = {
        "terminate", options_action, "qh", "NAME...", MACHINE_NAMES_REQUIRED, NULL, terminate_one, false,
        "Kill every process of machines at once, without a clean shutdown.\n\n"
        "  -q --quiet                Say nothing but errors\n",
};

static const MachinesVerb verb_spec_kill = {
        "kill", options_kill, "s:qh", "NAME... [OPTIONS...]", MACHINE_NAMES_REQUIRED, NULL, kill_one, false,
        "Send a signal to the processes of machines.\n\n"
        "  -s --signal=SIGNAL        A name (TERM, SIGUSR1, RTMIN+4) or a number; TERM if not given\n"
        "     --kill-whom=WHOM       leader (PID 1 only) or all (every process, the default)\n"
        "  -q --quiet                Say nothing but errors\n",
};

/* ---- running a verb ---- */

static int run_each(sd_bus *bus, const MachinesVerb *v, const Args *a) {
        int ret = 0, r;

        for (char **n = a->names; *n; n++) {
                if (v->blank_line && n != a->names)
                        putchar('\n');
                r = v->run_one(bus, *n, a);
                if (r == -ERRNO_NO_REGISTRY)
                        return r;
                if (r < 0)
                        ret = r;
        }
        return ret;
}

static int machines_main(const MachinesVerb *v, int argc, char *argv[]) {
        _cleanup_(args_done) Args a = {};
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        /* Everything the command line can get wrong is found before the bus is asked anything. */
        r = parse_argv(v, argc, argv, &a);
        if (r < 0)
                return 1;
        if (a.help) {
                help(v);
                return 0;
        }
        r = bus_connect(&bus);
        if (r < 0)
                return 1;
        if (!a.names[0])
                r = v->run_all(bus, &a);
        else
                r = run_each(bus, v, &a);
        fflush(stdout);
        return r < 0 ? 1 : 0;
}

#define DEFINE_MACHINES_VERB(func, spec) \
        int func(int argc, char *argv[]) { \
                return machines_main(&(spec), argc, argv); \
        }

DEFINE_MACHINES_VERB(verb_list, verb_spec_list)
DEFINE_MACHINES_VERB(verb_status, verb_spec_status)
DEFINE_MACHINES_VERB(verb_show, verb_spec_show)
DEFINE_MACHINES_VERB(verb_poweroff, verb_spec_poweroff)
DEFINE_MACHINES_VERB(verb_reboot, verb_spec_reboot)
DEFINE_MACHINES_VERB(verb_terminate, verb_spec_terminate)
DEFINE_MACHINES_VERB(verb_kill, verb_spec_kill)
