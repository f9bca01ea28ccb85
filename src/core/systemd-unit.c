/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "systemd-unit.h"
#include "util.h"

#define SYSTEMD_BUS_NAME "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER "org.freedesktop.systemd1.Manager"

/* How long a job of ours may take before we stop waiting for systemd. */
#define JOB_TIMEOUT_USEC (60ULL * 1000000ULL)

bool systemd_unit_host(void) {
        const char *e = getenv("BOXCTL_SYSTEMD_UNITS");
        struct stat st;

        if (e && parse_boolean(e) == 0)
                return false;
        return lstat("/run/systemd/system", &st) >= 0 && S_ISDIR(st.st_mode);
}

int systemd_unit_transient_name(const char *machine_name, char **ret) {
        return asprintf(ret, "box-%s.service", machine_name) < 0 ? -ENOMEM : 0;
}

int systemd_unit_template_name(const char *machine_name, char **ret) {
        return asprintf(ret, "box@%s.service", machine_name) < 0 ? -ENOMEM : 0;
}

static int append_exec_start(sd_bus_message *m, char **argv) {
        int r;

        r = sd_bus_message_open_container(m, 'r', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", "ExecStart");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "a(sasb)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sasb)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'r', "sasb");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", argv[0]);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, argv);
        if (r >= 0)
                r = sd_bus_message_append(m, "b", 0);
        for (int i = 0; i < 4 && r >= 0; i++)
                r = sd_bus_message_close_container(m);
        return r;
}

static int append_properties(sd_bus_message *m, const TransientUnit *u) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "(sv)(sv)(sv)(sv)(sv)(sv)",
                                  "Description", "s", u->description,
                                  "Type", "s", "exec",
                                  /* SIGTERM to the supervisor alone: it powers the machine
                                   * off, as on "boxctl stop"; the rest is killed after that. */
                                  "KillMode", "s", "mixed",
                                  "Slice", "s", "machine.slice",
                                  /* Gone once it ends, failed or not: "boxctl start" of the
                                   * same name can make it again. */
                                  "CollectMode", "s", "inactive-or-failed",
                                  "TimeoutStopUSec", "t", u->timeout_stop_usec);
        if (r >= 0 && u->working_directory)
                r = sd_bus_message_append(m, "(sv)", "WorkingDirectory", "s", u->working_directory);
        if (r >= 0 && u->environment && u->environment[0]) {
                r = sd_bus_message_open_container(m, 'r', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "Environment");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "as");
                if (r >= 0)
                        r = sd_bus_message_append_strv(m, u->environment);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0)
                r = append_exec_start(m, u->argv);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

typedef struct JobWait {
        const char *job;
        char *result; /* set when JobRemoved for JOB came */
} JobWait;

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        JobWait *w = userdata;
        const char *path = NULL, *unit = NULL, *result = NULL;
        uint32_t id;

        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
                return 0;
        if (w->job && streq(path, w->job) && !w->result)
                w->result = strdup(result);
        return 0;
}

/* Until JobRemoved for W->job has come: its result. */
static int job_wait(sd_bus *bus, JobWait *w) {
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + JOB_TIMEOUT_USEC;
        int r;

        for (;;) {
                uint64_t now;

                if (w->result)
                        return 0;
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return r;
                if (r > 0)
                        continue;
                now = now_usec(CLOCK_MONOTONIC);
                if (now >= deadline)
                        return -ETIMEDOUT;
                r = sd_bus_wait(bus, deadline - now);
                if (r < 0 && r != -EINTR)
                        return r;
        }
}

int systemd_unit_start_transient(sd_bus *bus, const TransientUnit *u, char **ret_error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        JobWait w = {};
        const char *job;
        int r;

        /* The match first: the job may end before the call returns. */
        r = sd_bus_match_signal(bus, &slot, SYSTEMD_BUS_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER, "JobRemoved",
                                on_job_removed, &w);
        if (r < 0)
                return error_set(ret_error, r, "cannot watch systemd's jobs: %s", strerror(-r));
        r = sd_bus_call_method(bus, SYSTEMD_BUS_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER, "Subscribe", &error, NULL, NULL);
        if (r < 0)
                return error_set(ret_error, r, "cannot subscribe to systemd's signals: %s", error.message ?: strerror(-r));

        r = sd_bus_message_new_method_call(bus, &m, SYSTEMD_BUS_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER, "StartTransientUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", u->name, "fail");
        if (r >= 0)
                r = append_properties(m, u);
        if (r >= 0)
                r = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r < 0)
                return error_set(ret_error, r, "cannot make the call for unit %s: %s", u->name, strerror(-r));
        r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r < 0) {
                if (sd_bus_error_has_name(&error, "org.freedesktop.systemd1.UnitExists"))
                        r = -EEXIST;
                return error_set(ret_error, r, "systemd refused unit %s: %s", u->name, error.message ?: strerror(-r));
        }
        r = sd_bus_message_read(reply, "o", &job);
        if (r < 0)
                return error_set(ret_error, r, "cannot read systemd's answer for unit %s: %s", u->name, strerror(-r));
        w.job = job;
        r = job_wait(bus, &w);
        if (r < 0)
                return error_set(ret_error, r, "cannot wait for the start of unit %s: %s", u->name, strerror(-r));
        if (!streq(w.result, "done")) {
                r = error_set(ret_error, -ECHILD, "unit %s did not start (%s); see 'journalctl -u %s'", u->name, w.result,
                              u->name);
                free(w.result);
                return r;
        }
        free(w.result);
        return 0;
}

static int unit_path(sd_bus *bus, const char *unit, char **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *path;
        int r;

        r = sd_bus_call_method(bus, SYSTEMD_BUS_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER, "GetUnit", &error, &reply, "s", unit);
        if (r < 0)
                return sd_bus_error_has_name(&error, "org.freedesktop.systemd1.NoSuchUnit") ? -ENOENT : r;
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return r;
        *ret = strdup(path);
        return *ret ? 0 : -ENOMEM;
}

int systemd_unit_main_pid(sd_bus *bus, const char *unit, pid_t *ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL;
        uint32_t pid = 0;
        int r;

        r = unit_path(bus, unit, &path);
        if (r == -ENOENT) {
                *ret = 0;
                return 0;
        }
        if (r < 0)
                return r;
        r = sd_bus_get_property_trivial(bus, SYSTEMD_BUS_NAME, path, "org.freedesktop.systemd1.Service", "MainPID",
                                        &error, 'u', &pid);
        if (r < 0)
                return r;
        *ret = (pid_t) pid;
        return 0;
}

int systemd_unit_active_state(sd_bus *bus, const char *unit, char **ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL;
        int r;

        r = unit_path(bus, unit, &path);
        if (r == -ENOENT) {
                *ret = strdup("not-found");
                return *ret ? 0 : -ENOMEM;
        }
        if (r < 0)
                return r;
        return sd_bus_get_property_string(bus, SYSTEMD_BUS_NAME, path, "org.freedesktop.systemd1.Unit", "ActiveState",
                                          &error, ret);
}

int systemd_unit_stop(sd_bus *bus, const char *unit) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        return sd_bus_call_method(bus, SYSTEMD_BUS_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER, "StopUnit", &error, NULL, "ss",
                                  unit, "replace");
}

int systemd_unit_daemon_reload(sd_bus *bus) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        /* It answers once the reload is done; that may take a while on a big host. */
        return sd_bus_call_method(bus, SYSTEMD_BUS_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER, "Reload", &error, NULL, NULL);
}

int systemd_unit_find_file(const char *unit_file, const char *fallback_dir, char **ret) {
        static const char *const dirs[] = {
                "/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system",
                "/usr/lib/systemd/system", "/lib/systemd/system",
        };

        for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
                _cleanup_free_ char *p = strjoin3(dirs[i], "/", unit_file);
                struct stat st;

                if (!p)
                        return -ENOMEM;
                /* A link to /dev/null is a masked unit, not the file. */
                if (stat(p, &st) >= 0 && S_ISREG(st.st_mode)) {
                        *ret = TAKE_PTR(p);
                        return 0;
                }
        }
        *ret = strjoin3(fallback_dir, "/", unit_file);
        return *ret ? 0 : -ENOMEM;
}
