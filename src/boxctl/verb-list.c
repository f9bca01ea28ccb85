/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* boxctl list: the machines the registry knows, as a table or as JSON; with
 * --all also the enabled machines (enabled.h) that do not run. */
#include <inttypes.h>
#include <stdio.h>

#include "enabled.h"
#include "log.h"
#include "registry-client.h"
#include "verb-machines.h"
#include "verb-usage.h"
#include "verbs.h"

/* --all: taken off the command line by verb_list_main() before the shared
 * parser of the machine verbs (verb-machines.c) sees it. */
static bool arg_all = false;

typedef struct MachineTable {
        MachineInfo *items;
        size_t n;
        char **running; /* the names the registry listed */
        char **enabled;
} MachineTable;

static void machine_table_done(MachineTable *t) {
        for (size_t i = 0; i < t->n; i++)
                machine_info_done(&t->items[i]);
        free(t->items);
        strv_freep(&t->running);
        strv_freep(&t->enabled);
        *t = (MachineTable) {};
}

static bool row_running(const MachineTable *t, const MachineInfo *mi) {
        return strv_contains(t->running, mi->name);
}

static bool row_enabled(const MachineTable *t, const MachineInfo *mi) {
        return strv_contains(t->enabled, mi->name);
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
        if (machines_set_string(&mi->name, name) < 0 || machines_set_string(&mi->class, class) < 0 ||
            machines_set_string(&mi->service, service) < 0 || machines_set_string(&mi->path, path) < 0)
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
                return machines_log_bus_error(r, &error, "list", NULL);
        r = sd_bus_message_enter_container(reply, 'a', "(ssso)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ssso)", &name, &class, &service, &path)) > 0)
                r = machine_table_add(t, name, class, service, path);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_error_errno(r, "list: cannot parse the registry's reply: %m");
        for (size_t i = 0; i < t->n; i++)
                if (strv_push_dup(&t->running, t->items[i].name) < 0)
                        return log_oom();
        r = enabled_list(&t->enabled);
        if (r < 0) {
                /* Only --all depends on it: the running machines are listed anyway. */
                log_full_errno(arg_all ? LOG_WARNING : LOG_DEBUG, r, "list: cannot read %s/enabled: %m", enabled_config_dir());
                t->enabled = NULL;
        }
        for (char **e = t->enabled; arg_all && e && *e; e++)
                if (!strv_contains(t->running, *e)) {
                        r = machine_table_add(t, *e, "", "", ""); /* shown as "-" or null */
                        if (r < 0)
                                return log_oom();
                }
        if (t->n > 0)
                qsort(t->items, t->n, sizeof(MachineInfo), cmp_machine_info);

        /* A machine may end meanwhile, and a registry may not know all: what
         * cannot be had is left empty. */
        for (size_t i = 0; i < t->n; i++) {
                if (!row_running(t, &t->items[i]))
                        continue;
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

/* With --all, STATE and ENABLED come after MACHINE; without, the table is
 * machinectl's. */
#define LIST_COLUMNS_MAX 8

static size_t list_columns(void) {
        return arg_all ? 8 : 6;
}

static const char *row_state(const MachineTable *t, const MachineInfo *mi) {
        return row_running(t, mi) ? "running" : "stopped";
}

/* Row 0 is the header. */
static void table_row(const MachineTable *t, char **addresses, size_t row, const char *cells[LIST_COLUMNS_MAX]) {
        static const char *const header[] = { "MACHINE", "STATE", "ENABLED", "CLASS", "SERVICE", "OS", "VERSION", "ADDRESSES" };
        const MachineInfo *mi = row > 0 ? &t->items[row - 1] : NULL;
        size_t c = 0;

        cells[c++] = mi ? dash(mi->name) : header[0];
        if (arg_all) {
                cells[c++] = mi ? row_state(t, mi) : header[1];
                cells[c++] = mi ? (row_enabled(t, mi) ? "yes" : "no") : header[2];
        }
        cells[c++] = mi ? dash(mi->class) : header[3];
        cells[c++] = mi ? dash(mi->service) : header[4];
        cells[c++] = mi ? dash(mi->os_id) : header[5];
        cells[c++] = mi ? dash(mi->os_version) : header[6];
        cells[c++] = mi ? dash(addresses[row - 1]) : header[7];
}

static int print_table(const MachineTable *t, bool legend) {
        _cleanup_strv_free_ char **addresses = calloc(t->n + 1, sizeof(char *));
        size_t width[LIST_COLUMNS_MAX] = {}, n_columns = list_columns();
        /* The header only with a legend, and not over nothing. */
        size_t first = legend && t->n > 0 ? 0 : 1;
        const char *cells[LIST_COLUMNS_MAX];

        if (!addresses)
                return log_oom();
        for (size_t i = 0; i < t->n; i++) {
                addresses[i] = strv_join_space(t->items[i].addresses);
                if (!addresses[i])
                        return log_oom();
        }
        for (size_t row = first; row <= t->n; row++) {
                table_row(t, addresses, row, cells);
                for (size_t c = 0; c < n_columns; c++)
                        width[c] = MAX(width[c], strlen(cells[c]));
        }
        for (size_t row = first; row <= t->n; row++) {
                table_row(t, addresses, row, cells);
                for (size_t c = 0; c < n_columns - 1; c++)
                        printf("%-*s ", (int) width[c], cells[c]);
                printf("%s\n", cells[n_columns - 1]);
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

/* What a running machine uses; null where not known, and for a stopped one. */
static void print_json_usage(const MachineTable *t, const MachineInfo *mi) {
        CgroupUsage u = CGROUP_USAGE_NULL;

        if (row_running(t, mi) && mi->leader > 0)
                (void) machine_usage_read(mi, &u);
        usage_print_json_fields(&u);
}

/* "state" and "enabled" come with --all or without: a reader of the JSON
 * ignores the keys it does not know. */
static void print_json(const MachineTable *t) {
        putchar('[');
        for (size_t i = 0; i < t->n; i++) {
                const MachineInfo *mi = &t->items[i];

                fputs(i == 0 ? "\n  {\"machine\":" : ",\n  {\"machine\":", stdout);
                json_string(mi->name);
                fputs(",\"state\":", stdout);
                json_string(row_state(t, mi));
                printf(",\"enabled\":%s", row_enabled(t, mi) ? "true" : "false");
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
                print_json_usage(t, mi);
                putchar('}');
        }
        fputs(t->n > 0 ? "\n]\n" : "]\n", stdout);
}

int list_run(sd_bus *bus, const Args *a) {
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

/* "boxctl list": --all (-a) is this file's; the rest goes to the parser that
 * all the machine verbs share. */
int verb_list_main(int argc, char *argv[]) {
        _cleanup_free_ char **args = calloc((size_t) argc + 1, sizeof(char *));
        bool help = false, dashdash = false;
        int n = 0, r;

        if (!args)
                return log_oom() < 0 ? 1 : 0;
        for (int i = 0; i < argc; i++) {
                if (i > 0 && !dashdash && (streq(argv[i], "--all") || streq(argv[i], "-a"))) {
                        arg_all = true;
                        continue;
                }
                if (streq(argv[i], "--"))
                        dashdash = true;
                if (!dashdash && (streq(argv[i], "--help") || streq(argv[i], "-h")))
                        help = true;
                args[n++] = argv[i];
        }
        r = verb_list(n, args);
        if (help && r == 0)
                printf("  -a --all                  Also the enabled machines that do not run ('boxctl enable'),\n"
                       "                            with their STATE and whether ENABLED\n");
        return r;
}
