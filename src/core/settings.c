/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <string.h>

#include "settings.h"
#include "string-table.h"

static const char *const start_mode_table[_START_MODE_MAX] = {
        [START_BOOT] = "boot",
        [START_RUN] = "run",
};

static const char *const console_mode_table[_CONSOLE_MODE_MAX] = {
        [CONSOLE_INTERACTIVE] = "interactive",
        [CONSOLE_READ_ONLY] = "read-only",
        [CONSOLE_PASSIVE] = "passive",
        [CONSOLE_PIPE] = "pipe",
        [CONSOLE_BACKGROUND] = "background",
};

static const char *const start_wait_table[_START_WAIT_MAX] = {
        [START_WAIT_REGISTERED] = "registered",
        [START_WAIT_READY] = "ready",
};

static const char *const register_mode_table[_REGISTER_MODE_MAX] = {
        [REGISTER_AUTO] = "auto",
        [REGISTER_YES] = "yes",
        [REGISTER_NO] = "no",
};

DEFINE_STRING_TABLE(start_mode, StartMode, start_mode_table, _START_MODE_MAX)
DEFINE_STRING_TABLE(console_mode, ConsoleMode, console_mode_table, _CONSOLE_MODE_MAX)
DEFINE_STRING_TABLE(start_wait, StartWait, start_wait_table, _START_WAIT_MAX)
DEFINE_STRING_TABLE(register_mode, RegisterMode, register_mode_table, _REGISTER_MODE_MAX)

/* By where each is mounted. */
static const char *const api_mount_table[_API_MOUNT_MAX] = {
        [API_MOUNT_PROC] = "/proc",
        [API_MOUNT_SYS] = "/sys",
        [API_MOUNT_DEV] = "/dev",
        [API_MOUNT_MQUEUE] = "/dev/mqueue",
};
DEFINE_STRING_TABLE(api_mount, ApiMount, api_mount_table, _API_MOUNT_MAX)

void settings_done(Settings *s) {
        free(s->root);
        free(s->machine_name);
        free(s->hostname);
        free(s->uid_map);
        free(s->gid_map);
        free(s->cgroup_path);
        for (size_t i = 0; i < s->n_ns_join; i++)
                free(s->ns_join[i].path);
        free(s->ns_join);
        strv_freep(&s->argv);
        strv_freep(&s->environment);
        settings_free_binds(s);
        for (size_t i = 0; s->tmpfs_options && i < strv_length(s->tmpfs); i++)
                free(s->tmpfs_options[i].data);
        free(s->tmpfs_options);
        strv_freep(&s->tmpfs);
        free(s->tmpfs_at);
        strv_freep(&s->syscall_filter);
        free(s->network_bridge);
        free(s->network_zone);
        free(s->ports);
        cgroup_limits_done(&s->limits);
        if (s->device_policy)
                device_policy_done(s->device_policy);
        free(s->device_policy);
        for (size_t i = 0; i < s->n_device_nodes; i++)
                free(s->device_nodes[i].path);
        free(s->device_nodes);
        *s = (Settings) {};
}

void settings_free_binds(Settings *s) {
        for (size_t i = 0; i < s->n_binds; i++) {
                free(s->binds[i].source);
                free(s->binds[i].destination);
        }
        free(s->binds);
        s->binds = NULL;
        s->n_binds = 0;
}

int settings_add_port(Settings *s, const char *spec) {
        PortSpec p, *n;
        int r;

        r = port_spec_parse(spec, &p);
        if (r < 0)
                return r;
        n = reallocarray(s->ports, s->n_ports + 1, sizeof(PortSpec));
        if (!n)
                return -ENOMEM;
        s->ports = n;
        s->ports[s->n_ports++] = p;
        return 0;
}

/* SRC[:DST[:OPTIONS]], OPTIONS a comma-separated list of ro, rw, idmap, noidmap.
 * DST defaults to SRC. Paths must be absolute and DST normalized; SRC is made
 * absolute by the caller beforehand when it was relative. */
int settings_add_bind(Settings *s, const char *spec, bool read_only) {
        _cleanup_free_ char *src = NULL, *dst = NULL;
        const char *colon, *rest = NULL;
        BindMount *n;

        colon = strchr(spec, ':');
        src = colon ? strndup(spec, (size_t) (colon - spec)) : strdup(spec);
        if (!src)
                return -ENOMEM;
        if (colon) {
                const char *c2 = strchr(colon + 1, ':');

                dst = c2 ? strndup(colon + 1, (size_t) (c2 - colon - 1)) : strdup(colon + 1);
                if (!dst)
                        return -ENOMEM;
                rest = c2 ? c2 + 1 : NULL;
        } else {
                dst = strdup(src);
                if (!dst)
                        return -ENOMEM;
        }
        int idmap = -1;
        if (rest) {
                _cleanup_free_ char *opts = strdup(rest);
                char *save = NULL;

                if (!opts)
                        return -ENOMEM;
                if (isempty(opts))
                        return -EINVAL;
                for (char *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
                        if (streq(o, "ro"))
                                read_only = true;
                        else if (streq(o, "rw"))
                                read_only = false;
                        else if (streq(o, "idmap"))
                                idmap = 1;
                        else if (streq(o, "noidmap"))
                                idmap = 0;
                        else
                                return -EINVAL;
                }
        }
        if (isempty(src) || isempty(dst) || !path_is_normalized_absolute(dst) ||
            !path_is_absolute(src))
                return -EINVAL;

        n = reallocarray(s->binds, s->n_binds + 1, sizeof(BindMount));
        if (!n)
                return -ENOMEM;
        s->binds = n;
        s->binds[s->n_binds++] = (BindMount) {
                .source = TAKE_PTR(src),
                .destination = TAKE_PTR(dst),
                .read_only = read_only,
                .idmap = idmap,
        };
        return 0;
}

/* The machine name a tree gets when none is given: its directory's base name,
 * with characters that a hostname may not hold turned into '-'. NULL when
 * nothing usable remains. */
char *machine_name_from_path(const char *path) {
        size_t n;
        const char *b = path_basename_ref(path, &n);
        _cleanup_free_ char *s = NULL;
        size_t j = 0;

        if (n == 0 || (n == 1 && b[0] == '/'))
                return NULL;
        s = malloc(MIN(n, (size_t) 64) + 1);
        if (!s)
                return NULL;
        for (size_t i = 0; i < n && j < 64; i++) {
                char c = b[i];

                if (!isascii(c) || !(isalnum(c) || c == '.'))
                        c = '-';
                if ((c == '-' || c == '.') && (j == 0 || s[j - 1] == '-' || s[j - 1] == '.'))
                        continue;
                s[j++] = c;
        }
        while (j > 0 && (s[j - 1] == '-' || s[j - 1] == '.'))
                j--;
        s[j] = '\0';
        if (!machine_name_is_valid(s))
                return NULL;
        return TAKE_PTR(s);
}
