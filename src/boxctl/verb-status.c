/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* boxctl status: a machine as the registry knows it, and the processes of its
 * cgroup, which it reads from the host itself. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <time.h>

#include "cgroup.h"
#include "log.h"
#include "process-util.h"
#include "registry-client.h"
#include "verb-machines.h"
#include "verb-usage.h"
#include "verbs.h"

/* ---- status: the machine ---- */

static int fetch_uid_shift(sd_bus *bus, const char *name, uint32_t *ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = registry_client_call(bus, "GetMachineUIDShift", &error, &reply, "s", name);
        if (r < 0)
                return r;
        return sd_bus_message_read(reply, "u", ret);
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
                machines_format_timestamp(mi->timestamp, since, sizeof since);
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

/* The machine's cgroup, absolute: the one named after the machine's unit at
 * or above its leader's (systemd inside moves itself to init.scope), else
 * its leader's. */
static int machine_cgroup_find(const MachineInfo *mi, char **ret) {
        _cleanup_(cgroup_machine_freep) Cgroup *cg = NULL;
        int r;

        r = cgroup_machine_open_leader((pid_t) mi->leader, mi->unit, &cg);
        if (r == -ENOENT)
                r = cgroup_machine_open_leader((pid_t) mi->leader, NULL, &cg);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(cg->path);
        return 0;
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

/* -o json: one object per machine, the usage numbers null where unknown. */
static void print_status_json(const MachineInfo *mi, uint32_t uid_shift) {
        CgroupUsage u = CGROUP_USAGE_NULL;

        if (mi->leader > 0)
                (void) machine_usage_read(mi, &u);
        fputs("{\"machine\":", stdout);
        usage_print_json_string(mi->name);
        fputs(",\"leader\":", stdout);
        if (mi->leader > 0)
                printf("%" PRIu32, mi->leader);
        else
                fputs("null", stdout);
        fputs(",\"class\":", stdout);
        usage_print_json_string(isempty(mi->class) ? NULL : mi->class);
        fputs(",\"root\":", stdout);
        usage_print_json_string(isempty(mi->root) ? NULL : mi->root);
        fputs(",\"unit\":", stdout);
        usage_print_json_string(isempty(mi->unit) ? NULL : mi->unit);
        fputs(",\"os\":", stdout);
        usage_print_json_string(isempty(mi->os_id) ? NULL : mi->os_id);
        printf(",\"uid_shift\":%" PRIu32, uid_shift);
        usage_print_json_fields(&u);
        fputs("}\n", stdout);
}

int status_one(sd_bus *bus, const char *name, const Args *a) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(machine_info_done) MachineInfo mi = {};
        CgroupUsage usage;
        uint32_t shift = 0;
        int r;

        if (machines_set_string(&mi.name, name) < 0)
                return log_oom();
        r = machine_get_path(bus, name, &error, &mi.path);
        if (r >= 0)
                r = machine_info_fetch_properties(bus, &mi, &error);
        if (r < 0)
                return machines_log_bus_error(r, &error, "status", name);
        (void) machine_info_fetch_os_release(bus, &mi);
        (void) machine_info_fetch_addresses(bus, &mi);
        (void) fetch_uid_shift(bus, name, &shift);

        if (a->json) {
                print_status_json(&mi, shift);
                return 0;
        }
        print_status_fields(&mi, shift);
        if (mi.leader > 0 && machine_usage_read(&mi, &usage) >= 0)
                usage_print_status(&usage);
        print_status_processes(&mi, a->full);
        return 0;
}
