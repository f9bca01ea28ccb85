/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caps.h"
#include "enabled.h"
#include "lock.h"
#include "seccomp-filter.h"
#include "settings-file.h"
#include "string-table.h"

#define SETTINGS_FILE_MAX (64U * 1024U)
#define SETTINGS_FILE_SUFFIX ".box"

static const char *const settings_mode_table[_SETTINGS_MODE_MAX] = {
        [SETTINGS_MODE_YES] = "yes",
        [SETTINGS_MODE_NO] = "no",
        [SETTINGS_MODE_TRUSTED] = "trusted",
        [SETTINGS_MODE_OVERRIDE] = "override",
};

DEFINE_STRING_TABLE(settings_mode, SettingsMode, settings_mode_table, _SETTINGS_MODE_MAX)

SettingsFile *settings_file_free(SettingsFile *f) {
        if (!f)
                return NULL;
        free(f->path);
        settings_done(&f->settings);
        free(f);
        return NULL;
}

static void *mfree(void *p) {
        free(p);
        return NULL;
}

/* ---- the keys ---- */

/* A key's parser: 0, or -EINVAL (-ENOMEM) with *ret_reason saying why. */
typedef int (*KeyParser)(SettingsFile *f, const char *key, const char *value, char **ret_reason);
/* Whether VALUE would widen the machine's access to the host. */
typedef bool (*KeyWidens)(const char *key, const char *value);

typedef struct KeyDef {
        const char *section;
        const char *key;
        SettingField field; /* _SETTING_FIELD_INVALID: a limit, which CgroupLimits.set records */
        KeyParser parse;
        KeyWidens widens;   /* NULL: never */
} KeyDef;

static bool widens_always(const char *key, const char *value) {
        return true;
}

static bool widens_weight(const char *key, const char *value) {
        CgroupLimits l = {};
        CgroupLimit k = cgroup_limit_from_string(key);

        return k >= 0 && cgroup_limits_parse(&l, k, value) >= 0 && l.value[k] > 100;
}

static bool widens_filter(const char *key, const char *value) {
        return value[0] != '~' && !isempty(value);
}

static bool widens_private_users(const char *key, const char *value) {
        UserNamespaceMode m;
        uint32_t base, size;

        return userns_parse(value, &m, &base, &size) >= 0 && m == USERNS_FIXED;
}

static int parse_bool_into(const char *value, bool *ret, char **ret_reason) {
        int b = parse_boolean(value);

        if (b < 0)
                return error_set(ret_reason, -EINVAL, "expected yes or no");
        *ret = b;
        return 0;
}

static int key_boot(SettingsFile *f, const char *key, const char *value, char **ret_reason) {
        return parse_bool_into(value, &f->boot, ret_reason);
}

static int key_notify_ready(SettingsFile *f, const char *key, const char *value, char **ret_reason) {
        return parse_bool_into(value, &f->settings.notify_ready, ret_reason);
}

static int key_no_reboot(SettingsFile *f, const char *key, const char *value, char **ret_reason) {
        return parse_bool_into(value, &f->settings.no_reboot, ret_reason);
}

static int key_read_only(SettingsFile *f, const char *key, const char *value, char **ret_reason) {
        return parse_bool_into(value, &f->settings.read_only, ret_reason);
}

static int key_ephemeral(SettingsFile *f, const char *key, const char *value, char **ret_reason) {
        return parse_bool_into(value, &f->settings.ephemeral, ret_reason);
}

static int key_private(SettingsFile *f, const char *key, const char *value, char **ret_reason) {
        return parse_bool_into(value, &f->settings.private_network, ret_reason);
}

/* Words separated by white space; "..." and '...' quote, a backslash takes
 * the next character as it is. */
static int split_words(const char *s, char ***ret, char **ret_reason) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *w = malloc(strlen(s) + 1);

        if (!w)
                return -ENOMEM;
        for (const char *p = s;;) {
                size_t n = 0;
                char quote = 0;

                p += strspn(p, " \t");
                if (!*p)
                        break;
                for (; *p && (quote || !strchr(" \t", *p)); p++) {
                        if (*p == '\\') {
                                if (!p[1])
                                        return error_set(ret_reason, -EINVAL, "a backslash at the end");
                                w[n++] = *++p;
                        } else if (quote && *p == quote)
                                quote = 0;
                        else if (!quote && (*p == '"' || *p == '\''))
                                quote = *p;
                        else
                                w[n++] = *p;
                }
                if (quote)
                        return error_set(ret_reason, -EINVAL, "a quote (%c) that is not closed", quote);
                w[n] = '\0';
                if (strv_push_dup(&l, w) < 0)
                        return -ENOMEM;
        }
        if (!l) {
                l = calloc(1, sizeof(char *));
                if (!l)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int key_parameters(SettingsFile *f, const char *key, const char *value, char **ret_reason) {
        char **l = NULL;
        int r;

        r = split_words(value, &l, ret_reason);
        if (r < 0)
                return r;
        strv_freep(&f->settings.argv);
        f->settings.argv = l;
        return 0;
}

static int key_environment(SettingsFile *f, const char *key, const char *value, char **ret_reason) {
        if (isempty(value)) {
                strv_freep(&f->settings.environment);
                return 0;
        }
        if (!strchr(value, '=') || value[0] == '=')
                return error_set(ret_reason, -EINVAL, "expected NAME=VALUE");
        return strv_push_dup(&f->settings.environment, value);
}

static int key_private_users(SettingsFile *f, const char *key, const char *value, char **ret_reason) {
        Settings *s = &f->settings;
        int r;

        r = userns_parse(value, &s->userns_mode, &s->uid_base, &s->uid_size);
        if (r == -EDOM)
                return error_set(ret_reason, -EINVAL, "the base must be a multiple of 65536");
        if (r == -ERANGE)
                return error_set(ret_reason, -EINVAL, "the base must lie in 0x%x..0x%x and the size in 1..65536",
                                 UID_PICK_MIN, UID_PICK_MAX);
        if (r < 0)
                return error_set(ret_reason, -EINVAL, "use pick, identity, yes, no, or BASE[:SIZE]");
        return 0;
}

static int key_ownership(SettingsFile *f, const char *key, const char *value, char **ret_reason) {
        OwnershipMode m = ownership_mode_from_string(value);

        if (m < 0)
                return error_set(ret_reason, -EINVAL, "use auto, idmap, chown or off");
        f->settings.ownership = m;
        return 0;
}

static int replace_string(char **p, const char *value) {
        char *c = strdup(value);

        if (!c)
                return -ENOMEM;
        free(*p);
        *p = c;
        return 0;
}

static int key_hostname(SettingsFile *f, const char *key, const char *value, char **ret_reason) {
        if (!machine_name_is_valid(value))
                return error_set(ret_reason, -EINVAL, "use 1-64 letters, digits, '-' and '.'");
        return replace_string(&f->settings.hostname, value);
}

static int key_machine_id(SettingsFile *f, const char *key, const char *value, char **ret_reason) {
        if (id128_from_string(value, &f->settings.machine_id) < 0 || id128_is_null(&f->settings.machine_id))
                return error_set(ret_reason, -EINVAL, "expected 32 hexadecimal digits, not all zero");
        return 0;
}

static int key_syscall_filter(SettingsFile *f, const char *key, const char *value, char **ret_reason) {
        _cleanup_free_ char *bad = NULL;
        int r;

        r = syscall_filter_parse(value, &f->settings.syscall_filter, &bad);
        if (r == -EINVAL && !isempty(bad))
                return error_set(ret_reason, r, "unknown system call or group '%s'", bad);
        if (r == -EINVAL)
                return error_set(ret_reason, r, "use [~]@GROUP|NAME...");
        if (r == -E2BIG)
                return error_set(ret_reason, -EINVAL, "too many items");
        return r;
}

static int key_capability(SettingsFile *f, const char *key, const char *value, char **ret_reason) {
        _cleanup_free_ char *list = strdup(value), *bad = NULL;
        uint64_t m;
        int r;

        if (!list)
                return -ENOMEM;
        /* nspawn separates them with spaces, our option with commas: both. */
        for (char *c = list; *c; c++)
                if (*c == ' ' || *c == '\t')
                        *c = ',';
        r = caps_parse(list, &m, &bad);
        if (r == -EINVAL)
                return error_set(ret_reason, r, "unknown capability '%s'", strempty(bad));
        if (r < 0)
                return r;
        if (streq(key, "Capability"))
                f->given.cap_keep |= m;
        else
                f->given.cap_drop |= m;
        return 0;
}

static int key_kill_timeout(SettingsFile *f, const char *key, const char *value, char **ret_reason) {
        if (parse_seconds(value, &f->settings.kill_timeout_usec) < 0)
                return error_set(ret_reason, -EINVAL, "expected seconds, like 30 or 1.5s");
        return 0;
}

static int key_bind(SettingsFile *f, const char *key, const char *value, char **ret_reason) {
        Settings *s = &f->settings;
        int r;

        if (isempty(value)) {
                settings_free_binds(s);
                return 0;
        }
        /* Relative to what? Not to the current directory of whoever starts the machine. */
        if (!path_is_absolute(value))
                return error_set(ret_reason, -EINVAL, "the source must be an absolute path");
        r = settings_add_bind(s, value, streq(key, "BindReadOnly"));
        if (r == -EINVAL)
                return error_set(ret_reason, r, "expected SRC[:DST[:ro|rw]] with an absolute, normalized DST");
        return r;
}

static int key_tmpfs(SettingsFile *f, const char *key, const char *value, char **ret_reason) {
        if (isempty(value)) {
                strv_freep(&f->settings.tmpfs);
                return 0;
        }
        /* nspawn's PATH:OPTIONS is not taken: no path with a ':' rather than a wrong mount. */
        if (!path_is_normalized_absolute(value) || strchr(value, ':'))
                return error_set(ret_reason, -EINVAL, "expected an absolute, normalized path (no options)");
        return strv_push_dup(&f->settings.tmpfs, value);
}

/* VirtualEthernet=, Bridge=, Zone=: one choice, the last one made. */
static int key_network(SettingsFile *f, const char *key, const char *value, char **ret_reason) {
        Settings *s = &f->settings;
        NetworkMode mode;
        int r;

        if (streq(key, "VirtualEthernet")) {
                bool veth = false;

                r = parse_bool_into(value, &veth, ret_reason);
                if (r < 0)
                        return r;
                mode = veth ? NETWORK_VETH : NETWORK_NONE;
        } else if (streq(key, "Zone")) {
                if (!network_zone_name_is_valid(value))
                        return error_set(ret_reason, -EINVAL, "at most 12 letters, digits, '-' and '_'");
                mode = NETWORK_ZONE;
        } else {
                if (isempty(value) || strlen(value) >= IFNAMSIZ || strpbrk(value, "/ \t:"))
                        return error_set(ret_reason, -EINVAL, "not an interface name");
                mode = NETWORK_BRIDGE;
        }
        s->network_bridge = mfree(s->network_bridge);
        s->network_zone = mfree(s->network_zone);
        if (mode == NETWORK_ZONE || mode == NETWORK_BRIDGE) {
                r = replace_string(mode == NETWORK_ZONE ? &s->network_zone : &s->network_bridge, value);
                if (r < 0)
                        return r;
        }
        s->network_mode = mode;
        return 0;
}

static int key_port(SettingsFile *f, const char *key, const char *value, char **ret_reason) {
        Settings *s = &f->settings;
        int r;

        if (isempty(value)) {
                s->ports = mfree(s->ports);
                s->n_ports = 0;
                return 0;
        }
        r = settings_add_port(s, value);
        if (r < 0 && r != -ENOMEM)
                return error_set(ret_reason, -EINVAL, "expected [tcp|udp:]HOSTPORT[:MACHINEPORT], ports 1..65535");
        return r;
}

static int key_limit(SettingsFile *f, const char *key, const char *value, char **ret_reason) {
        CgroupLimit k = cgroup_limit_from_string(key);
        int r;

        r = cgroup_limits_parse(&f->settings.limits, k, value);
        if (r == -ERANGE)
                return error_set(ret_reason, -EINVAL, "out of range; use %s", cgroup_limit_range(k));
        if (r < 0)
                return error_set(ret_reason, -EINVAL, "use %s", cgroup_limit_range(k));
        return 0;
}

static int key_io_max(SettingsFile *f, const char *key, const char *value, char **ret_reason) {
        CgroupLimits *l = &f->settings.limits;
        _cleanup_free_ char *a = NULL;
        int r;

        if (isempty(value)) {
                l->io_max = mfree(l->io_max);
                l->n_io_max = 0;
                return 0;
        }
        a = strjoin3(key, "=", value);
        if (!a)
                return -ENOMEM;
        r = cgroup_limits_parse_property(l, a);
        if (r >= 0 || r == -ENOMEM)
                return r;
        return error_set(ret_reason, -EINVAL, "%s", cgroup_limits_io_max_error(r) ?: "use DEVICE BYTES, like /dev/vda 10M");
}

static const KeyDef keys[] = {
        { "Exec", "Boot", SETTING_BOOT, key_boot, NULL },
        { "Exec", "Parameters", SETTING_PARAMETERS, key_parameters, NULL },
        { "Exec", "Environment", SETTING_ENVIRONMENT, key_environment, NULL },
        { "Exec", "PrivateUsers", SETTING_PRIVATE_USERS, key_private_users, widens_private_users },
        { "Exec", "Hostname", SETTING_HOSTNAME, key_hostname, NULL },
        { "Exec", "MachineID", SETTING_MACHINE_ID, key_machine_id, NULL },
        { "Exec", "SystemCallFilter", SETTING_SYSCALL_FILTER, key_syscall_filter, widens_filter },
        { "Exec", "NotifyReady", SETTING_NOTIFY_READY, key_notify_ready, NULL },
        { "Exec", "Capability", SETTING_CAPABILITY, key_capability, widens_always },
        { "Exec", "DropCapability", SETTING_CAPABILITY, key_capability, NULL },
        { "Exec", "KillTimeoutSec", SETTING_KILL_TIMEOUT, key_kill_timeout, NULL },
        { "Exec", "NoReboot", SETTING_NO_REBOOT, key_no_reboot, NULL },
        { "Files", "ReadOnly", SETTING_READ_ONLY, key_read_only, NULL },
        { "Files", "Ephemeral", SETTING_EPHEMERAL, key_ephemeral, NULL },
        { "Files", "Bind", SETTING_BINDS, key_bind, widens_always },
        { "Files", "BindReadOnly", SETTING_BINDS, key_bind, widens_always },
        { "Files", "TemporaryFileSystem", SETTING_TMPFS, key_tmpfs, NULL },
        { "Files", "PrivateUsersOwnership", SETTING_OWNERSHIP, key_ownership, NULL },
        { "Network", "Private", SETTING_PRIVATE_NETWORK, key_private, NULL },
        { "Network", "VirtualEthernet", SETTING_NETWORK, key_network, widens_always },
        { "Network", "Bridge", SETTING_NETWORK, key_network, widens_always },
        { "Network", "Zone", SETTING_NETWORK, key_network, widens_always },
        { "Network", "Port", SETTING_PORTS, key_port, widens_always },
        { "ResourceLimits", "MemoryMax", _SETTING_FIELD_INVALID, key_limit, NULL },
        { "ResourceLimits", "MemoryHigh", _SETTING_FIELD_INVALID, key_limit, NULL },
        { "ResourceLimits", "MemorySwapMax", _SETTING_FIELD_INVALID, key_limit, NULL },
        { "ResourceLimits", "CPUWeight", _SETTING_FIELD_INVALID, key_limit, widens_weight },
        { "ResourceLimits", "CPUQuota", _SETTING_FIELD_INVALID, key_limit, NULL },
        { "ResourceLimits", "TasksMax", _SETTING_FIELD_INVALID, key_limit, NULL },
        { "ResourceLimits", "IOWeight", _SETTING_FIELD_INVALID, key_limit, widens_weight },
        { "ResourceLimits", "MemoryLow", _SETTING_FIELD_INVALID, key_limit, NULL },
        { "ResourceLimits", "CPUQuotaPeriodSec", _SETTING_FIELD_INVALID, key_limit, NULL },
        { "ResourceLimits", "AllowedCPUs", _SETTING_FIELD_INVALID, key_limit, NULL },
        { "ResourceLimits", "AllowedMemoryNodes", _SETTING_FIELD_INVALID, key_limit, NULL },
        { "ResourceLimits", "IOReadBandwidthMax", SETTING_IO_MAX, key_io_max, NULL },
        { "ResourceLimits", "IOWriteBandwidthMax", SETTING_IO_MAX, key_io_max, NULL },
};

static bool section_is_known(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (streq(keys[i].section, name))
                        return true;
        return false;
}

static const KeyDef *key_find(const char *section, const char *key) {
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (streq(keys[i].section, section) && streq(keys[i].key, key))
                        return &keys[i];
        return NULL;
}

/* ---- the file ---- */

static char *strip(char *s) {
        size_t n;

        s += strspn(s, " \t\r");
        n = strlen(s);
        while (n > 0 && strchr(" \t\r", s[n - 1]))
                s[--n] = '\0';
        return s;
}

static int warn(char ***warnings, const char *fmt, ...) _printf_(2, 3);
static int warn(char ***warnings, const char *fmt, ...) {
        _cleanup_free_ char *m = NULL;
        va_list ap;
        int r;

        if (!warnings)
                return 0;
        va_start(ap, fmt);
        r = vasprintf(&m, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return strv_push_dup(warnings, m);
}

typedef struct ParseContext {
        SettingsFile *f;
        SettingsFile *ignored; /* what untrusted keys set: checked, then thrown away */
        char **ignored_keys;   /* their names, "Bind=", once each */
        char **warnings;
        char section[64];      /* "" before the first; "?" in an unknown one */
} ParseContext;

static int parse_assignment(ParseContext *c, unsigned line, char *text, char **ret_error) {
        const char *path = c->f->path;
        _cleanup_free_ char *reason = NULL;
        char *eq = strchr(text, '='), *key, *value;
        const KeyDef *d;
        SettingsFile *target;
        int r;

        if (!eq)
                return error_set(ret_error, -EINVAL, "%s:%u: expected KEY=VALUE or [SECTION], found '%.60s'", path, line, text);
        *eq = '\0';
        key = strip(text);
        value = strip(eq + 1);
        if (isempty(key))
                return error_set(ret_error, -EINVAL, "%s:%u: an assignment without a key", path, line);
        if (streq(c->section, "?"))
                return 0; /* warned about the section once */
        if (isempty(c->section))
                return warn(&c->warnings, "%s:%u: %.60s= outside of any section, ignored", path, line, key);
        d = key_find(c->section, key);
        if (!d)
                return warn(&c->warnings, "%s:%u: unknown key %.60s= in [%s], ignored", path, line, key, c->section);

        target = !c->f->trusted && d->widens && d->widens(key, value) ? c->ignored : c->f;
        r = d->parse(target, key, value, &reason);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return error_set(ret_error, -EINVAL, "%s:%u: invalid %s= '%.60s': %s", path, line, key, value,
                                 strempty(reason));
        if (target == c->ignored) {
                _cleanup_free_ char *k = strjoin3(key, "=", "");

                if (!k)
                        return -ENOMEM;
                if (!strv_contains(c->ignored_keys, k) && strv_push_dup(&c->ignored_keys, k) < 0)
                        return -ENOMEM;
                return 0;
        }
        if (d->field >= 0)
                target->given.fields |= UINT32_C(1) << d->field;
        return 0;
}

static int parse_line(ParseContext *c, unsigned line, char *text, char **ret_error) {
        const char *path = c->f->path;
        char *l = strip(text);
        size_t n = strlen(l);

        if (n == 0 || l[0] == '#' || l[0] == ';')
                return 0;
        /* What we show of a line must not drive the terminal it is shown on. */
        for (const char *q = l; *q; q++)
                if (((unsigned char) *q < ' ' && *q != '\t') || *q == 0x7f)
                        return error_set(ret_error, -EINVAL, "%s:%u: a control character (0x%02x); not a text file",
                                         path, line, (unsigned char) *q);
        if (l[0] != '[')
                return parse_assignment(c, line, l, ret_error);
        if (l[n - 1] != ']')
                return error_set(ret_error, -EINVAL, "%s:%u: a section header without its ']': '%.60s'", path, line, l);
        l[n - 1] = '\0';
        l++;
        if (isempty(l) || strpbrk(l, "[] \t") || strlen(l) >= sizeof c->section)
                return error_set(ret_error, -EINVAL, "%s:%u: invalid section name '[%.60s]'", path, line, l);
        if (!section_is_known(l)) {
                strcpy(c->section, "?");
                return warn(&c->warnings, "%s:%u: unknown section [%.60s], ignored", path, line, l);
        }
        snprintf(c->section, sizeof c->section, "%s", l);
        return 0;
}

int settings_file_parse(const char *path, const char *text, size_t size, bool trusted, SettingsFile **ret,
                        char ***ret_warnings, char **ret_error) {
        _cleanup_(settings_file_freep) SettingsFile *f = NULL, *ignored = NULL;
        _cleanup_strv_free_ char **ignored_keys = NULL, **warnings = NULL;
        _cleanup_free_ char *copy = NULL;
        ParseContext c = {};
        unsigned line = 0;
        char *p, *nl;
        int r;

        const char *nul = memchr(text, '\0', size);
        if (nul) {
                size_t at = 1;

                for (const char *q = text; q < nul; q++)
                        at += *q == '\n';
                return error_set(ret_error, -EINVAL, "%s:%zu: a NUL byte; not a text file", path, at);
        }
        f = calloc(1, sizeof *f);
        ignored = calloc(1, sizeof *ignored);
        copy = strndup(text, size);
        if (!f || !ignored || !copy)
                return -ENOMEM;
        f->path = strdup(path);
        ignored->path = strdup(path);
        if (!f->path || !ignored->path)
                return -ENOMEM;
        f->trusted = trusted;
        c.f = f;
        c.ignored = ignored;
        for (p = copy; p; p = nl) {
                nl = strchr(p, '\n');
                if (nl)
                        *nl++ = '\0';
                line++;
                r = parse_line(&c, line, p, ret_error);
                if (r < 0) {
                        strv_freep(&c.warnings);
                        strv_freep(&c.ignored_keys);
                        return r;
                }
        }
        warnings = TAKE_PTR(c.warnings);
        ignored_keys = TAKE_PTR(c.ignored_keys);
        if (ignored_keys) {
                _cleanup_free_ char *list = NULL;
                size_t n = 0;

                for (char **k = ignored_keys; *k; k++)
                        n += strlen(*k) + 2;
                list = calloc(1, n + 1);
                if (!list)
                        return -ENOMEM;
                for (char **k = ignored_keys; *k; k++) {
                        if (k != ignored_keys)
                                strcat(list, ", ");
                        strcat(list, *k);
                }
                r = warn(&warnings, "%s: ignoring %s: a settings file beside the image may not widen the machine's "
                         "access to the host (put it in %s or %s, or use --settings=trusted)",
                         path, list, enabled_config_dir(), runtime_dir());
                if (r < 0)
                        return r;
        }
        if (ret_warnings)
                *ret_warnings = TAKE_PTR(warnings);
        *ret = TAKE_PTR(f);
        return 0;
}

int settings_file_load(const char *path, bool trusted, SettingsFile **ret, char ***ret_warnings, char **ret_error) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *text = NULL;
        struct stat st;
        int r;

        /* One beside the image is no symlink to somewhere else on the host, whose
         * lines the errors would show; O_NONBLOCK: a FIFO there must not hang us. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (trusted ? 0 : O_NOFOLLOW));
        if (fd < 0 && errno == ELOOP && !trusted)
                return error_set(ret_error, -ELOOP, "%s: a symlink; a settings file beside the image must be a regular file", path);
        if (fd < 0)
                return error_set(ret_error, -errno, "%s: %s", path, strerror(errno));
        if (fstat(fd, &st) < 0)
                return error_set(ret_error, -errno, "%s: %s", path, strerror(errno));
        if (!S_ISREG(st.st_mode))
                return error_set(ret_error, -EINVAL, "%s: not a regular file", path);
        r = read_fd(fd, SETTINGS_FILE_MAX, &text);
        if (r == -EFBIG)
                return error_set(ret_error, r, "%s: larger than %u KiB; not a settings file", path, SETTINGS_FILE_MAX / 1024);
        if (r < 0)
                return error_set(ret_error, r, "%s: %s", path, strerror(-r));
        /* read_fd() ends the text at its first NUL byte: show the parser that one. */
        size_t n = strlen(text);
        return settings_file_parse(path, text, n < (size_t) st.st_size ? n + 1 : n, trusted, ret, ret_warnings, ret_error);
}

int settings_file_find(const char *name, const char *beside, char **ret_path, bool *ret_trusted) {
        const char *dirs[] = { enabled_config_dir(), runtime_dir(), beside };

        if (!machine_name_is_valid(name))
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_free_ char *p = NULL;

                if (!dirs[i])
                        continue;
                p = strjoin3(dirs[i], "/", name);
                if (!p)
                        return -ENOMEM;
                char *q = strjoin3(p, SETTINGS_FILE_SUFFIX, "");
                if (!q)
                        return -ENOMEM;
                free(p);
                p = q;
                if (faccessat(AT_FDCWD, p, F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return -errno;
                }
                *ret_path = TAKE_PTR(p);
                *ret_trusted = i < 2;
                return 0;
        }
        return -ENOENT;
}

/* ---- merging ---- */

static void move_strv(char ***dst, char ***src) {
        strv_freep(dst);
        *dst = TAKE_PTR(*src);
}

static void move_string(char **dst, char **src) {
        free(*dst);
        *dst = TAKE_PTR(*src);
}

static void move_field(Settings *s, SettingsGiven *given, SettingsFile *f, SettingField field) {
        Settings *o = &f->settings;

        switch (field) {
        case SETTING_BOOT: /* the verb says */
                break;
        case SETTING_PARAMETERS:
                move_strv(&s->argv, &o->argv);
                break;
        case SETTING_ENVIRONMENT:
                move_strv(&s->environment, &o->environment);
                break;
        case SETTING_PRIVATE_USERS:
                s->userns_mode = o->userns_mode;
                s->uid_base = o->uid_base;
                s->uid_size = o->uid_size;
                break;
        case SETTING_OWNERSHIP:
                s->ownership = o->ownership;
                break;
        case SETTING_HOSTNAME:
                move_string(&s->hostname, &o->hostname);
                break;
        case SETTING_MACHINE_ID:
                s->machine_id = o->machine_id;
                break;
        case SETTING_SYSCALL_FILTER:
                move_strv(&s->syscall_filter, &o->syscall_filter);
                break;
        case SETTING_NOTIFY_READY:
                s->notify_ready = o->notify_ready;
                break;
        case SETTING_CAPABILITY:
                given->cap_keep = f->given.cap_keep;
                given->cap_drop = f->given.cap_drop;
                break;
        case SETTING_KILL_TIMEOUT:
                s->kill_timeout_usec = o->kill_timeout_usec;
                break;
        case SETTING_NO_REBOOT:
                s->no_reboot = o->no_reboot;
                break;
        case SETTING_READ_ONLY:
                s->read_only = o->read_only;
                break;
        case SETTING_EPHEMERAL:
                s->ephemeral = o->ephemeral;
                break;
        case SETTING_BINDS:
                settings_free_binds(s);
                s->binds = TAKE_PTR(o->binds);
                s->n_binds = o->n_binds;
                o->n_binds = 0;
                break;
        case SETTING_TMPFS:
                move_strv(&s->tmpfs, &o->tmpfs);
                break;
        case SETTING_PRIVATE_NETWORK:
                s->private_network = o->private_network;
                break;
        case SETTING_NETWORK:
                s->network_mode = o->network_mode;
                move_string(&s->network_bridge, &o->network_bridge);
                move_string(&s->network_zone, &o->network_zone);
                break;
        case SETTING_PORTS:
                free(s->ports);
                s->ports = TAKE_PTR(o->ports);
                s->n_ports = o->n_ports;
                o->n_ports = 0;
                break;
        case SETTING_IO_MAX:
                free(s->limits.io_max);
                s->limits.io_max = TAKE_PTR(o->limits.io_max);
                s->limits.n_io_max = o->limits.n_io_max;
                o->limits.n_io_max = 0;
                break;
        default:
                return;
        }
        given->fields |= UINT32_C(1) << field;
}

void settings_file_merge(Settings *s, SettingsGiven *given, SettingsFile *f, bool file_wins) {
        for (SettingField i = 0; i < _SETTING_FIELD_MAX; i++)
                if (settings_given(&f->given, i) && (file_wins || !settings_given(given, i)))
                        move_field(s, given, f, i);
        for (CgroupLimit k = 0; k < _CGROUP_LIMIT_MAX; k++)
                if (cgroup_limits_is_set(&f->settings.limits, k) && (file_wins || !cgroup_limits_is_set(&s->limits, k)))
                        cgroup_limits_move(&s->limits, &f->settings.limits, k);
}
