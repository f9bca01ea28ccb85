/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* boxctl show: the registry's properties of machines, or of the registry
 * itself, as Key=Value lines. */
#include <inttypes.h>
#include <stdio.h>

#include "log.h"
#include "machine1-names.h"
#include "verb-machines.h"
#include "verbs.h"

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
                                machines_format_timestamp(v.t, buf, sizeof buf);
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

/* Machine NAME, or the registry itself when NAME is NULL. */
int show_one(sd_bus *bus, const char *name, const Args *a) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *path = NULL;
        int r;

        if (name)
                r = machine_get_path(bus, name, &error, &path);
        else
                r = (path = strdup(MACHINE1_PATH)) ? 0 : -ENOMEM;
        if (r >= 0)
                r = machines_get_all_properties(bus, path, name ? MACHINE1_MACHINE : MACHINE1_MANAGER, &error, &reply);
        if (r < 0)
                return machines_log_bus_error(r, &error, "show", name);
        r = machines_for_each_property(reply, show_property, (void *) a);
        if (r < 0)
                return log_error_errno(r, "show%s%s: cannot parse the registry's reply: %m", name ? " " : "",
                                       strempty(name));
        return 0;
}

int show_registry(sd_bus *bus, const Args *a) {
        return show_one(bus, NULL, a);
}
