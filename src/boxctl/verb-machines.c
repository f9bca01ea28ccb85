/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The verbs about running machines: list, status, show, poweroff, reboot,
 * terminate and kill. Like machinectl, they only talk to the machine registry
 * on the system bus (org.freedesktop.machine1: boxd, or systemd-machined), so
 * they see every machine it knows, whoever started it. Only status looks at
 * the host itself, for the processes of the machine's cgroup. */
#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <time.h>

#include "cgroup.h"
#include "log.h"
#include "machine1-names.h"
#include "registry-client.h"
#include "registry.h"
#include "verbs.h"

#define DBUS_PROPERTIES "org.freedesktop.DBus.Properties"

/* Returned by log_bus_error() when nobody serves the registry: no use going
 * on with the next machine. */
#define ERRNO_NO_REGISTRY EHOSTDOWN

typedef enum MachinesVerb {
        MV_LIST,
        MV_STATUS,
        MV_SHOW,
        MV_POWEROFF,
        MV_REBOOT,
        MV_TERMINATE,
        MV_KILL,
        _MV_MAX,
} MachinesVerb;

enum {
        ARG_NO_LEGEND = 0x100,
        ARG_VALUE,
        ARG_KILL_WHOM,
};

/* The command line of one verb. */
typedef struct Args {
        bool help, no_legend, json, value, full, quiet;
        char **properties; /* show -p */
        int signal;        /* kill -s */
        KillWhom kill_whom;
        char **names; /* points into argv */
} Args;

static void args_done(Args *a) {
        strv_freep(&a->properties);
}

/* ---- per-verb options and help ---- */

static const struct option options_list[] = {
        { "no-legend", no_argument, NULL, ARG_NO_LEGEND },
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        {},
};

static const struct option options_status[] = {
        { "full", no_argument, NULL, 'l' },
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

typedef struct VerbSpec {
        const char *name;
        const struct option *options;
        const char *short_options;
        const char *usage; /* after "boxctl NAME " */
        const char *text;  /* what it does, and its options */
} VerbSpec;

static const VerbSpec verb_specs[_MV_MAX] = {
        [MV_LIST] = { "list", options_list, "o:h", "[OPTIONS...]",
                      "List the machines the registry knows, with their OS and addresses.\n\n"
                      "     --no-legend           Print neither the header nor the count\n"
                      "  -o --output=MODE          table (the default) or json\n" },
        [MV_STATUS] = { "status", options_status, "lh", "NAME...",
                        "Show the state of machines and the processes of their cgroups.\n\n"
                        "  -l --full                 Do not cut command lines to the terminal's width\n" },
        [MV_SHOW] = { "show", options_show, "p:h", "[NAME...] [OPTIONS...]",
                      "Show the registry's properties of machines, or of the registry itself\n"
                      "when no NAME is given, as Key=Value lines.\n\n"
                      "  -p --property=NAME[,NAME...]\n"
                      "                            Show only these properties (repeatable)\n"
                      "     --value               Print the values only\n" },
        [MV_POWEROFF] = { "poweroff", options_action, "qh", "NAME...",
                          "Ask the init of machines to power off, as on a power button.\n\n"
                          "  -q --quiet                Say nothing but errors\n" },
        [MV_REBOOT] = { "reboot", options_action, "qh", "NAME...",
                        "Ask the init of machines to reboot.\n\n"
                        "  -q --quiet                Say nothing but errors\n" },
        [MV_TERMINATE] = { "terminate", options_action, "qh", "NAME...",
                           "Kill every process of machines at once, without a clean shutdown.\n\n"
                           "  -q --quiet                Say nothing but errors\n" },
        [MV_KILL] = { "kill", options_kill, "s:qh", "NAME... [OPTIONS...]",
                      "Send a signal to the processes of machines.\n\n"
                      "  -s --signal=SIGNAL        A name (TERM, SIGUSR1, RTMIN+4) or a number; TERM if not given\n"
                      "     --kill-whom=WHOM       leader (PID 1 only) or all (every process, the default)\n"
                      "  -q --quiet                Say nothing but errors\n" },
};

static void help(MachinesVerb v) {
        printf("Usage: boxctl %s %s\n\n%s"
               "  -h --help                 Show this help\n",
               verb_specs[v].name, verb_specs[v].usage, verb_specs[v].text);
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

static int parse_option(MachinesVerb v, int c, char *argv[], Args *a) {
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
                bool known = optopt >= 0x100 || (optopt > 0 && strchr(verb_specs[v].short_options, optopt));

                if (known && !strchr(opt, '='))
                        return log_error_errno(EINVAL, "option '%s' needs a value", opt);
                return log_error_errno(EINVAL, "unknown option '%s'; try 'boxctl %s --help'", opt, verb_specs[v].name);
        }
        default:
                return -EINVAL;
        }
}

static int parse_argv(MachinesVerb v, int argc, char *argv[], Args *a) {
        int c, r;

        a->signal = SIGTERM;
        a->kill_whom = KILL_ALL;
        opterr = 0;
        optind = 0;
        while ((c = getopt_long(argc, argv, verb_specs[v].short_options, verb_specs[v].options, NULL)) >= 0) {
                r = parse_option(v, c, argv, a);
                if (r < 0)
                        return r;
                if (a->help)
                        return 0;
        }
        a->names = argv + optind;

        if (v == MV_LIST && a->names[0])
                return log_error_errno(EINVAL, "unexpected argument '%s'; usage: boxctl list %s", a->names[0],
                                       verb_specs[v].usage);
        if (v != MV_LIST && v != MV_SHOW && !a->names[0])
                return log_error_errno(EINVAL, "no machine given; usage: boxctl %s %s; see 'boxctl list'",
                                       verb_specs[v].name, verb_specs[v].usage);
        return 0;
}

/* ---- the bus ---- */

static int bus_connect(sd_bus **ret) {
        int r = sd_bus_open_system(ret);

        if (r < 0)
                return log_error_errno(r, "cannot connect to the system bus: %m; is dbus-daemon running?");
        return 0;
}

/* One line for a call that failed, naming what was asked ("poweroff foo") and why. */
static int log_bus_error(int r, const sd_bus_error *e, const char *verb, const char *name) {
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

static int machine_get_path(sd_bus *bus, const char *name, sd_bus_error *error, char **ret) {
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
                return log_bus_error(r, &error, verb, name);
        if (leader <= 1)
                return log_error_errno(ESRCH, "%s %s: the registry knows no leader for it", verb, name);
        *ret = (pid_t) leader;
        return 0;
}

static int get_all_properties(sd_bus *bus, const char *path, const char *interface, sd_bus_error *error,
                              sd_bus_message **reply) {
        return sd_bus_call_method(bus, MACHINE1_BUS_NAME, path, DBUS_PROPERTIES, "GetAll", error, reply, "s",
                                  interface);
}

typedef int (*PropertyFunc)(sd_bus_message *m, const char *key, const char *type, void *userdata);

/* Calls F for each entry of a GetAll reply, F positioned inside the variant:
 * it must read the value or skip it. */
static int for_each_property(sd_bus_message *reply, PropertyFunc f, void *userdata) {
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

typedef struct MachineInfo {
        char *name, *class, *service, *unit, *root, *path;
        char *os_id, *os_version, *os_pretty;
        char **addresses;
        Id128 id;
        uint32_t leader;
        uint64_t timestamp;
} MachineInfo;

static void machine_info_done(MachineInfo *mi) {
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

static int set_string(char **dst, const char *s) {
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
                        return r < 0 ? r : set_string((char **) ((uint8_t *) mi + strings[i].offset), s);
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

static int machine_info_fetch_properties(sd_bus *bus, MachineInfo *mi, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = get_all_properties(bus, mi->path, MACHINE1_MACHINE, error, &reply);
        if (r < 0)
                return r;
        return for_each_property(reply, machine_info_read_property, mi);
}

/* ID, VERSION_ID and PRETTY_NAME. Fails e.g. for a machine without os-release. */
static int machine_info_fetch_os_release(sd_bus *bus, MachineInfo *mi) {
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

                if (dst && set_string(dst, v) < 0)
                        return -ENOMEM;
        }
        return r;
}

/* Fails with NotSupported when the machine shares the host's network. */
static int machine_info_fetch_addresses(sd_bus *bus, MachineInfo *mi) {
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

static int fetch_uid_shift(sd_bus *bus, const char *name, uint32_t *ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = registry_client_call(bus, "GetMachineUIDShift", &error, &reply, "s", name);
        if (r < 0)
                return r;
        return sd_bus_message_read(reply, "u", ret);
}

/* ---- list ---- */

typedef struct MachineTable {
        MachineInfo *items;
        size_t n;
} MachineTable;

static void machine_table_done(MachineTable *t) {
        for (size_t i = 0; i < t->n; i++)
                machine_info_done(&t->items[i]);
        free(t->items);
        *t = (MachineTable) {};
}

static int cmp_machine_info(const void *a, const void *b) {
        return strcmp(((const MachineInfo *) a)->name, ((const MachineInfo *) b)->name);
}

static int machine_table_add(MachineTable *t, const char *name, const char *class, const char *service,
                             const char *path) {
        MachineInfo *items = reallocarray(t->items, t->n + 1, sizeof(MachineInfo));
        MachineInfo *mi;

        if (!items)
                return -ENOMEM;
        t->items = items;
        mi = &t->items[t->n++];
        *mi = (MachineInfo) {};
        if (set_string(&mi->name, name) < 0 || set_string(&mi->class, class) < 0 ||
            set_string(&mi->service, service) < 0 || set_string(&mi->path, path) < 0)
                return -ENOMEM;
        return 0;
}

static int machine_table_fetch(sd_bus *bus, bool want_properties, MachineTable *t) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *name, *class, *service, *path;
        int r;

        r = registry_client_call(bus, "ListMachines", &error, &reply, NULL);
        if (r < 0)
                return log_bus_error(r, &error, "list", NULL);
        r = sd_bus_message_enter_container(reply, 'a', "(ssso)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ssso)", &name, &class, &service, &path)) > 0)
                r = machine_table_add(t, name, class, service, path);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_error_errno(r, "list: cannot parse the registry's reply: %m");
        if (t->n > 0)
                qsort(t->items, t->n, sizeof(MachineInfo), cmp_machine_info);

        /* A machine may end meanwhile, and a registry may not know all: what
         * cannot be had is left empty. */
        for (size_t i = 0; i < t->n; i++) {
                (void) machine_info_fetch_os_release(bus, &t->items[i]);
                (void) machine_info_fetch_addresses(bus, &t->items[i]);
                if (want_properties) {
                        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                        (void) machine_info_fetch_properties(bus, &t->items[i], &e);
                }
        }
        return 0;
}

static const char *dash(const char *s) {
        return isempty(s) ? "-" : s;
}

static char *strv_join_space(char **l) {
        size_t n = 1;
        char *s, *p;

        for (char **i = l; i && *i; i++)
                n += strlen(*i) + 1;
        s = p = malloc(n);
        if (!s)
                return NULL;
        *p = '\0';
        for (char **i = l; i && *i; i++)
                p = stpcpy(stpcpy(p, i == l ? "" : " "), *i);
        return s;
}

#define LIST_COLUMNS 6

/* Row 0 is the header. */
static void table_row(const MachineTable *t, char **addresses, size_t row, const char *cells[LIST_COLUMNS]) {
        static const char *const header[LIST_COLUMNS] = { "MACHINE", "CLASS", "SERVICE", "OS", "VERSION", "ADDRESSES" };
        const MachineInfo *mi = row > 0 ? &t->items[row - 1] : NULL;

        if (!mi) {
                memcpy(cells, header, sizeof header);
                return;
        }
        cells[0] = dash(mi->name);
        cells[1] = dash(mi->class);
        cells[2] = dash(mi->service);
        cells[3] = dash(mi->os_id);
        cells[4] = dash(mi->os_version);
        cells[5] = dash(addresses[row - 1]);
}

static int print_table(const MachineTable *t, bool legend) {
        _cleanup_strv_free_ char **addresses = calloc(t->n + 1, sizeof(char *));
        size_t width[LIST_COLUMNS] = {};
        /* The header only with a legend, and not over nothing. */
        size_t first = legend && t->n > 0 ? 0 : 1;
        const char *cells[LIST_COLUMNS];

        if (!addresses)
                return log_oom();
        for (size_t i = 0; i < t->n; i++) {
                addresses[i] = strv_join_space(t->items[i].addresses);
                if (!addresses[i])
                        return log_oom();
        }
        for (size_t row = first; row <= t->n; row++) {
                table_row(t, addresses, row, cells);
                for (size_t c = 0; c < LIST_COLUMNS; c++)
                        width[c] = MAX(width[c], strlen(cells[c]));
        }
        for (size_t row = first; row <= t->n; row++) {
                table_row(t, addresses, row, cells);
                for (size_t c = 0; c < LIST_COLUMNS - 1; c++)
                        printf("%-*s ", (int) width[c], cells[c]);
                printf("%s\n", cells[LIST_COLUMNS - 1]);
        }
        if (legend && t->n == 0)
                printf("No machines.\n");
        else if (legend)
                printf("\n%zu machines listed.\n", t->n);
        return 0;
}

/* A JSON string, or null for NULL. D-Bus strings are valid UTF-8 already. */
static void json_string(const char *s) {
        if (!s) {
                fputs("null", stdout);
                return;
        }
        putchar('"');
        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;

                if (c == '"' || c == '\\')
                        printf("\\%c", c);
                else if (c == '\n')
                        fputs("\\n", stdout);
                else if (c == '\t')
                        fputs("\\t", stdout);
                else if (c == '\r')
                        fputs("\\r", stdout);
                else if (c < 0x20 || c == 0x7f)
                        printf("\\u%04x", c);
                else
                        putchar(c);
        }
        putchar('"');
}

static const char *null_if_empty(const char *s) {
        return isempty(s) ? NULL : s;
}

static void print_json(const MachineTable *t) {
        putchar('[');
        for (size_t i = 0; i < t->n; i++) {
                const MachineInfo *mi = &t->items[i];

                fputs(i == 0 ? "\n  {\"machine\":" : ",\n  {\"machine\":", stdout);
                json_string(mi->name);
                fputs(",\"class\":", stdout);
                json_string(null_if_empty(mi->class));
                fputs(",\"service\":", stdout);
                json_string(null_if_empty(mi->service));
                fputs(",\"os\":", stdout);
                json_string(null_if_empty(mi->os_id));
                fputs(",\"version\":", stdout);
                json_string(null_if_empty(mi->os_version));
                fputs(",\"addresses\":[", stdout);
                for (char **a = mi->addresses; a && *a; a++) {
                        if (a != mi->addresses)
                                putchar(',');
                        json_string(*a);
                }
                fputs("],\"leader\":", stdout);
                if (mi->leader > 0)
                        printf("%" PRIu32, mi->leader);
                else
                        fputs("null", stdout);
                fputs(",\"root\":", stdout);
                json_string(null_if_empty(mi->root));
                putchar('}');
        }
        fputs(t->n > 0 ? "\n]\n" : "]\n", stdout);
}

static int run_list(sd_bus *bus, const Args *a) {
        _cleanup_(machine_table_done) MachineTable t = {};
        int r;

        r = machine_table_fetch(bus, a->json, &t);
        if (r < 0)
                return r;
        if (a->json) {
                print_json(&t);
                return 0;
        }
        return print_table(&t, !a->no_legend);
}

/* ---- status: the machine ---- */

static void format_timestamp(uint64_t usec, char *buf, size_t n) {
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;

        if (!localtime_r(&t, &tm) || strftime(buf, n, "%a %Y-%m-%d %H:%M:%S %Z", &tm) == 0)
                snprintf(buf, n, "@%" PRIu64, usec / 1000000);
}

static void format_ago(uint64_t usec, char *buf, size_t n) {
        uint64_t now = now_usec(CLOCK_REALTIME), s;

        if (usec >= now) {
                snprintf(buf, n, "just now");
                return;
        }
        s = (now - usec) / 1000000;
        if (s < 60)
                snprintf(buf, n, "%" PRIu64 "s ago", s);
        else if (s < 3600)
                snprintf(buf, n, "%" PRIu64 "min %" PRIu64 "s ago", s / 60, s % 60);
        else if (s < 86400)
                snprintf(buf, n, "%" PRIu64 "h %" PRIu64 "min ago", s / 3600, s % 3600 / 60);
        else
                snprintf(buf, n, "%" PRIu64 "d %" PRIu64 "h ago", s / 86400, s % 86400 / 3600);
}

/* Bytes a terminal would act on, from a machine's process, become '?'. */
static void sanitize(char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) s[i] < ' ' || s[i] == 0x7f)
                        s[i] = '?';
}

static char *process_comm(pid_t pid) {
        char path[64], *s = NULL;
        int n;

        snprintf(path, sizeof path, "/proc/%d/comm", (int) pid);
        n = read_file_at(AT_FDCWD, path, 4096, &s);
        if (n < 0)
                return NULL;
        while (n > 0 && s[n - 1] == '\n')
                s[--n] = '\0';
        sanitize(s, (size_t) n);
        return s;
}

static void print_field(const char *label, const char *value) {
        printf("%16s: %s\n", label, value);
}

static void print_status_fields(const MachineInfo *mi, uint32_t uid_shift) {
        char hex[33], since[128], ago[64];

        fputs(mi->name, stdout);
        if (!id128_is_null(&mi->id)) {
                id128_to_hex(&mi->id, hex);
                printf("(%s)", hex);
        }
        putchar('\n');
        if (mi->timestamp > 0) {
                format_timestamp(mi->timestamp, since, sizeof since);
                format_ago(mi->timestamp, ago, sizeof ago);
                printf("%16s: %s; %s\n", "Since", since, ago);
        }
        if (mi->leader > 0) {
                _cleanup_free_ char *comm = process_comm((pid_t) mi->leader);
                printf("%16s: %" PRIu32 " (%s)\n", "Leader", mi->leader, comm ?: "n/a");
        }
        if (!isempty(mi->service))
                printf("%16s: %s%s%s\n", "Service", mi->service, isempty(mi->class) ? "" : "; class ",
                       strempty(mi->class));
        else if (!isempty(mi->class))
                print_field("Class", mi->class);
        if (!isempty(mi->root))
                print_field("Root", mi->root);
        for (char **a = mi->addresses; a && *a; a++)
                print_field(a == mi->addresses ? "Address" : "", *a);
        if (!isempty(mi->os_pretty) || !isempty(mi->os_id))
                print_field("OS", isempty(mi->os_pretty) ? mi->os_id : mi->os_pretty);
        if (uid_shift > 0)
                printf("%16s: %" PRIu32 "\n", "UID Shift", uid_shift);
        if (!isempty(mi->unit))
                print_field("Unit", mi->unit);
}

/* ---- status: the processes of the machine's cgroup ---- */

#define TREE_INDENT 18 /* under the value column of the fields above */

/* The machine's cgroup, absolute: its leader's, or above it the one named
 * after the machine's unit (systemd inside moves itself to init.scope). */
static int machine_cgroup_find(const MachineInfo *mi, char **ret) {
        _cleanup_free_ char *cg = NULL;
        CgroupLayout layout;
        const char *mount;
        size_t ul = strlen(strempty(mi->unit));
        int r;

        r = cgroup_layout_detect(&layout, &mount);
        if (r < 0)
                return r;
        r = pid_cgroup2_path((pid_t) mi->leader, &cg);
        if (r < 0)
                return r;
        for (char *e = cg + strlen(cg); ul > 0 && e > cg;) {
                char *slash = memrchr(cg, '/', (size_t) (e - cg));

                if (!slash)
                        break;
                if ((size_t) (e - slash - 1) == ul && strneq(slash + 1, mi->unit, ul)) {
                        *e = '\0';
                        break;
                }
                e = slash;
        }
        *ret = strjoin3(mount, streq(cg, "/") ? "" : cg, "");
        return *ret ? 0 : -ENOMEM;
}

static char *process_cmdline(pid_t pid) {
        _cleanup_free_ char *s = NULL, *comm = NULL;
        char path[64], *b;
        int n;

        snprintf(path, sizeof path, "/proc/%d/cmdline", (int) pid);
        n = read_file_at(AT_FDCWD, path, 64 * 1024, &s);
        while (n > 0 && s[n - 1] == '\0')
                n--;
        if (n > 0) {
                for (int i = 0; i < n; i++)
                        if (s[i] == '\0')
                                s[i] = ' ';
                s[n] = '\0';
                sanitize(s, (size_t) n);
                return TAKE_PTR(s);
        }
        /* Kernel threads and zombies have none: the name in brackets, as ps(1) shows it. */
        comm = process_comm(pid);
        if (asprintf(&b, "[%s]", comm ?: "?") < 0)
                return NULL;
        return b;
}

/* S in at most COLS columns (0: no limit), cut with "…"; a UTF-8 character counts as one column. */
static void print_ellipsized(const char *s, size_t cols) {
        size_t n = 0, k = 0;

        for (const char *p = s; *p; p++)
                n += ((unsigned char) *p & 0xC0) != 0x80;
        if (cols == 0 || n <= cols) {
                fputs(s, stdout);
                return;
        }
        for (; *s; s++) {
                if (((unsigned char) *s & 0xC0) != 0x80 && k++ == cols - 1)
                        break;
                putchar(*s);
        }
        fputs("…", stdout);
}

static void print_process(pid_t pid, const char *prefix, size_t prefix_cols, bool last, unsigned width) {
        _cleanup_free_ char *cmd = process_cmdline(pid);
        char num[16];
        long cols;

        snprintf(num, sizeof num, "%d ", (int) pid);
        printf("%s%s%s", prefix, last ? "└─" : "├─", num);
        /* What is left of the line after the prefix, the branch (2 columns) and the PID. */
        cols = (long) width - (long) prefix_cols - 2 - (long) strlen(num);
        print_ellipsized(cmd ?: "?", width == 0 ? 0 : (size_t) MAX(cols, 1L));
        putchar('\n');
}

static int read_pids(const char *cgroup, pid_t **ret, size_t *ret_n) {
        _cleanup_free_ char *procs = strjoin3(cgroup, "/", "cgroup.procs"), *s = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        int r;

        if (!procs)
                return -ENOMEM;
        r = read_file_at(AT_FDCWD, procs, 4 * 1024 * 1024, &s);
        if (r < 0)
                return r;
        for (char *save = NULL, *w = strtok_r(s, "\n", &save); w; w = strtok_r(NULL, "\n", &save)) {
                pid_t *np = reallocarray(pids, n + 1, sizeof(pid_t));

                if (!np)
                        return -ENOMEM;
                pids = np;
                pids[n++] = (pid_t) atoi(w);
        }
        *ret = TAKE_PTR(pids);
        *ret_n = n;
        return 0;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The child cgroups that hold processes, sorted by name. */
static int read_children(const char *cgroup, char ***ret) {
        _cleanup_closedir_ DIR *d = opendir(cgroup);
        _cleanup_strv_free_ char **l = NULL;
        struct dirent *de;

        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                _cleanup_free_ char *sub = NULL;

                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                sub = strjoin3(cgroup, "/", de->d_name);
                if (!sub)
                        return -ENOMEM;
                if (cgroup_is_populated(sub) > 0 && strv_push_dup(&l, de->d_name) < 0)
                        return -ENOMEM;
        }
        if (l)
                qsort(l, strv_length(l), sizeof(char *), cmp_str);
        *ret = TAKE_PTR(l);
        return 0;
}

/* Processes first, then each child cgroup as a branch, as systemd-cgls draws it. */
static int print_cgroup_tree(const char *cgroup, const char *prefix, size_t prefix_cols, unsigned width) {
        _cleanup_free_ pid_t *pids = NULL;
        _cleanup_strv_free_ char **children = NULL;
        size_t n_pids = 0, n_children;
        int r;

        r = read_pids(cgroup, &pids, &n_pids);
        if (r < 0)
                return r;
        r = read_children(cgroup, &children);
        if (r < 0)
                return r;
        n_children = strv_length(children);
        for (size_t i = 0; i < n_pids; i++)
                print_process(pids[i], prefix, prefix_cols, i == n_pids - 1 && n_children == 0, width);
        for (size_t i = 0; i < n_children; i++) {
                bool last = i == n_children - 1;
                _cleanup_free_ char *sub = strjoin3(cgroup, "/", children[i]);
                _cleanup_free_ char *sub_prefix = strjoin3(prefix, last ? "  " : "│ ", "");

                if (!sub || !sub_prefix)
                        return -ENOMEM;
                printf("%s%s", prefix, last ? "└─" : "├─");
                print_ellipsized(children[i], width == 0 ? 0 : (size_t) MAX((long) width - (long) prefix_cols - 2, 1L));
                putchar('\n');
                r = print_cgroup_tree(sub, sub_prefix, prefix_cols + 2, width);
                if (r < 0 && r != -ENOENT) /* a cgroup that went away meanwhile */
                        return r;
        }
        return 0;
}

static unsigned terminal_width(void) {
        struct winsize ws = {};

        if (!isatty(STDOUT_FILENO))
                return 0;
        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0)
                return 80;
        return ws.ws_col;
}

static void print_status_processes(const MachineInfo *mi, bool full) {
        _cleanup_free_ char *cg = NULL;
        char prefix[TREE_INDENT + 1];
        int r;

        if (mi->leader == 0)
                return;
        r = machine_cgroup_find(mi, &cg);
        if (r >= 0) {
                memset(prefix, ' ', TREE_INDENT);
                prefix[TREE_INDENT] = '\0';
                r = print_cgroup_tree(cg, prefix, TREE_INDENT, full ? 0 : terminal_width());
        }
        if (r < 0)
                log_warning_errno(r, "status %s: cannot show the processes of its cgroup: %m", mi->name);
}

static int status_one(sd_bus *bus, const char *name, const Args *a) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(machine_info_done) MachineInfo mi = {};
        uint32_t shift = 0;
        int r;

        if (set_string(&mi.name, name) < 0)
                return log_oom();
        r = machine_get_path(bus, name, &error, &mi.path);
        if (r >= 0)
                r = machine_info_fetch_properties(bus, &mi, &error);
        if (r < 0)
                return log_bus_error(r, &error, "status", name);
        (void) machine_info_fetch_os_release(bus, &mi);
        (void) machine_info_fetch_addresses(bus, &mi);
        (void) fetch_uid_shift(bus, name, &shift);

        print_status_fields(&mi, shift);
        print_status_processes(&mi, a->full);
        return 0;
}

/* ---- show ---- */

static bool endswith(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);

        return a >= b && streq(s + a - b, suffix);
}

static int print_basic(sd_bus_message *m, char type, const char *key) {
        union {
                const char *s;
                int b;
                uint8_t y;
                int16_t n;
                uint16_t q;
                int32_t i;
                uint32_t u;
                int64_t x;
                uint64_t t;
                double d;
        } v;
        char buf[128];
        int r;

        r = sd_bus_message_read_basic(m, type, &v);
        if (r <= 0)
                return r;
        switch (type) {
        case 's': case 'o': case 'g': fputs(v.s, stdout); break;
        case 'b': fputs(v.b ? "yes" : "no", stdout); break;
        case 'y': printf("%u", v.y); break;
        case 'n': printf("%" PRIi16, v.n); break;
        case 'q': printf("%" PRIu16, v.q); break;
        case 'i': printf("%" PRIi32, v.i); break;
        case 'u': printf("%" PRIu32, v.u); break;
        case 'x': printf("%" PRIi64, v.x); break;
        case 'd': printf("%g", v.d); break;
        case 't':
                /* As systemctl shows them: a wall-clock time, empty when unset. */
                if (key && endswith(key, "Timestamp")) {
                        if (v.t > 0 && v.t != UINT64_MAX) {
                                format_timestamp(v.t, buf, sizeof buf);
                                fputs(buf, stdout);
                        }
                } else
                        printf("%" PRIu64, v.t);
                break;
        }
        return 1;
}

static int print_array(sd_bus_message *m, const char *type, const char *key) {
        int r;

        if (streq(type, "ay")) {
                const uint8_t *p;
                size_t n;

                /* Ids (16 bytes) as 32 hex digits, as /etc/machine-id has them; any bytes alike. */
                r = sd_bus_message_read_array(m, 'y', (const void **) &p, &n);
                for (size_t i = 0; r >= 0 && i < n; i++)
                        printf("%02x", p[i]);
                return r;
        }
        r = sd_bus_message_enter_container(m, 'a', type + 1);
        if (r < 0)
                return r;
        for (size_t i = 0;; i++) {
                r = sd_bus_message_at_end(m, false);
                if (r < 0)
                        return r;
                if (r > 0)
                        break;
                if (i > 0)
                        putchar(' ');
                r = print_basic(m, type[1], NULL);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_exit_container(m);
}

static bool type_is_printable(const char *type) {
        static const char basic[] = "sogbynqiuxtd";
        const char *t = type[0] == 'a' ? type + 1 : type;

        return t[0] != '\0' && t[1] == '\0' && strchr(basic, t[0]);
}

static int show_property(sd_bus_message *m, const char *key, const char *type, void *userdata) {
        const Args *a = userdata;
        int r;

        if ((a->properties && !strv_contains(a->properties, key)) || !type_is_printable(type))
                return sd_bus_message_skip(m, type);
        if (!a->value)
                printf("%s=", key);
        r = type[0] == 'a' ? print_array(m, type, key) : print_basic(m, type[0], key);
        putchar('\n');
        return r;
}

static int show_one(sd_bus *bus, const char *name, const Args *a) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *path = NULL;
        int r;

        if (name)
                r = machine_get_path(bus, name, &error, &path);
        else
                r = (path = strdup(MACHINE1_PATH)) ? 0 : -ENOMEM;
        if (r >= 0)
                r = get_all_properties(bus, path, name ? MACHINE1_MACHINE : MACHINE1_MANAGER, &error, &reply);
        if (r < 0)
                return log_bus_error(r, &error, "show", name);
        r = for_each_property(reply, show_property, (void *) a);
        if (r < 0)
                return log_error_errno(r, "show%s%s: cannot parse the registry's reply: %m", name ? " " : "",
                                       strempty(name));
        return 0;
}

/* ---- poweroff, reboot, terminate, kill ---- */

static int act_one(sd_bus *bus, MachinesVerb v, const char *name, const Args *a) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        switch (v) {
        case MV_POWEROFF:
                /* What systemd takes as a power-off request; boxd translates it for other inits. */
                r = registry_client_call(bus, "KillMachine", &error, NULL, "ssi", name, "leader", SIGRTMIN + 4);
                break;
        case MV_REBOOT:
                r = registry_client_call(bus, "KillMachine", &error, NULL, "ssi", name, "leader", SIGINT);
                break;
        case MV_TERMINATE:
                r = registry_client_call(bus, "TerminateMachine", &error, NULL, "s", name);
                break;
        case MV_KILL:
                r = registry_client_call(bus, "KillMachine", &error, NULL, "ssi", name,
                                         kill_whom_to_string(a->kill_whom), a->signal);
                break;
        default:
                return -EINVAL;
        }
        if (r < 0)
                return log_bus_error(r, &error, verb_specs[v].name, name);
        return 0;
}

/* ---- the verbs ---- */

static int run_each(sd_bus *bus, MachinesVerb v, const Args *a) {
        int ret = 0, r;

        for (char **n = a->names; *n; n++) {
                switch (v) {
                case MV_STATUS:
                        if (n != a->names)
                                putchar('\n');
                        r = status_one(bus, *n, a);
                        break;
                case MV_SHOW:
                        if (n != a->names)
                                putchar('\n');
                        r = show_one(bus, *n, a);
                        break;
                default:
                        r = act_one(bus, v, *n, a);
                }
                if (r == -ERRNO_NO_REGISTRY)
                        return r;
                if (r < 0)
                        ret = r;
        }
        return ret;
}

static int machines_main(MachinesVerb v, int argc, char *argv[]) {
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
        if (v == MV_LIST)
                r = run_list(bus, &a);
        else if (v == MV_SHOW && !a.names[0])
                r = show_one(bus, NULL, &a);
        else
                r = run_each(bus, v, &a);
        fflush(stdout);
        return r < 0 ? 1 : 0;
}

int verb_list(int argc, char *argv[]) {
        return machines_main(MV_LIST, argc, argv);
}

int verb_status(int argc, char *argv[]) {
        return machines_main(MV_STATUS, argc, argv);
}

int verb_show(int argc, char *argv[]) {
        return machines_main(MV_SHOW, argc, argv);
}

int verb_poweroff(int argc, char *argv[]) {
        return machines_main(MV_POWEROFF, argc, argv);
}

int verb_reboot(int argc, char *argv[]) {
        return machines_main(MV_REBOOT, argc, argv);
}

int verb_terminate(int argc, char *argv[]) {
        return machines_main(MV_TERMINATE, argc, argv);
}

int verb_kill(int argc, char *argv[]) {
        return machines_main(MV_KILL, argc, argv);
}
