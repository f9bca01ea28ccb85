/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* boxctl list: the machines the registry knows, as a table or as JSON. */
#include <inttypes.h>
#include <stdio.h>

#include "log.h"
#include "registry-client.h"
#include "verb-machines.h"
#include "verbs.h"

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
