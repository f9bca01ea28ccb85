/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* boxd: the machine registry on the system bus, speaking systemd-machined's
 * org.freedesktop.machine1 API for hosts where machined does not run. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "boxd-starter.h"
#include "lock.h"
#include "log.h"
#include "machine1-names.h"
#include "registry-bus.h"
#include "registry.h"
#include "util.h"


#ifndef BOXCTL_BINDIR
#define BOXCTL_BINDIR "/usr/bin"
#endif

/* How many "boxctl start" of enabled machines run at once; 0: the default. */
static unsigned arg_start_concurrency = 0;
/* What each of those starts waits for before its slot is free: "ready" (the
 * default) bounds how many machines boot at once, "registered" only how many
 * are being set up, and the boots then all overlap (bench/start.sh measures
 * both). */
static const char *arg_start_wait = "ready";

static void help(void) {
        printf("Usage: boxd [--help] [--version] [--start-concurrency=N] [--start-wait=ready|registered]\n\n"
               "The boxctl machine registry: serves org.freedesktop.machine1 on the system bus\n"
               "(or the bus DBUS_SYSTEM_BUS_ADDRESS names). Its state lives in %s/machines,\n"
               "so a restarted boxd knows the machines that still run.\n\n"
               "At start it starts the enabled machines ('boxctl enable') that do not run,\n"
               "with 'boxctl start NAME --wait=ready' ($BOXCTL_BINARY, else %s/boxctl).\n\n"
               "     --start-concurrency=N  At most N of those starts at once\n"
               "                            ($BOXD_START_CONCURRENCY; default: twice the CPUs, here %u)\n"
               "     --start-wait=ready|registered\n"
               "                            What a start waits for before the next may begin:\n"
               "                            the guest ready (default; a guest not ready within\n"
               "                            90 s is powered off, as 'boxctl start --wait=ready'\n"
               "                            does), or only registered ($BOXD_START_WAIT)\n",
               runtime_dir(), BOXCTL_BINDIR, starter_default_concurrency());
}

static int parse_concurrency(const char *s, const char *what) {
        unsigned u;

        if (parse_uint(s, &u) < 0 || u == 0 || u > 4096)
                return log_error_errno(EINVAL, "invalid %s '%s': expected a number from 1 to 4096", what, s);
        arg_start_concurrency = u;
        return 0;
}

static int parse_start_wait(const char *s, const char *what) {
        if (!streq(s, "ready") && !streq(s, "registered"))
                return log_error_errno(EINVAL, "invalid %s '%s': expected ready or registered", what, s);
        arg_start_wait = streq(s, "ready") ? "ready" : "registered";
        return 0;
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_START_CONCURRENCY = 0x100, ARG_START_WAIT };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { "start-concurrency", required_argument, NULL, ARG_START_CONCURRENCY },
                { "start-wait", required_argument, NULL, ARG_START_WAIT },
                {},
        };
        const char *e = getenv("BOXD_START_CONCURRENCY");
        int c;

        if (!isempty(e) && parse_concurrency(e, "$BOXD_START_CONCURRENCY") < 0)
                return -EINVAL;
        e = getenv("BOXD_START_WAIT");
        if (!isempty(e) && parse_start_wait(e, "$BOXD_START_WAIT") < 0)
                return -EINVAL;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case 'V':
                        printf("boxd %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_START_CONCURRENCY:
                        if (parse_concurrency(optarg, "--start-concurrency") < 0)
                                return -EINVAL;
                        break;
                case ARG_START_WAIT:
                        if (parse_start_wait(optarg, "--start-wait") < 0)
                                return -EINVAL;
                        break;
                default:
                        return log_error_errno(EINVAL, "unknown option '%s'; try 'boxd --help'", argv[optind - 1]);
                }
        if (optind < argc)
                return log_error_errno(EINVAL, "unexpected argument '%s'; try 'boxd --help'", argv[optind]);
        return 1;
}

/* The daemon: the registry outlives its bus connection. When the dbus-daemon
 * goes away (restarted, say) boxd keeps watching its machines and connects
 * again once a bus is there, with the same registry: the machines are listed
 * again, and nothing a machine's end must clean up is missed meanwhile. */
typedef struct Boxd {
        sd_event *event;
        sd_bus *bus; /* NULL while disconnected */
        Registry *reg;
        sd_event_source *reconnect;
        unsigned reconnect_tries;
} Boxd;

/* From 50 ms up to 1 s between attempts: a restarted dbus-daemon is
 * usually back within a second. */
#define RECONNECT_FIRST_USEC (50 * 1000ULL)
#define RECONNECT_MAX_USEC (1000 * 1000ULL)

static void on_leader_gone(Registry *r, RegMachine *m, void *userdata) {
        Boxd *b = userdata;

        log_info("Machine %s ended (leader %d exited).", m->name, (int) m->leader);
        if (m->abandoned)
                log_info("Its supervisor (PID %d) is gone too: removing its scope, cgroups, locks and runtime files.",
                         (int) m->supervisor);
        if (b->bus)
                registry_bus_emit_removed(b->bus, m);
}

static int on_disconnected(sd_bus_message *msg, void *userdata, sd_bus_error *error);
static int on_reconnect(sd_event_source *s, uint64_t usec, void *userdata);

/* Connects, puts the API on the bus and takes the name. -EEXIST: another
 * registry has the name. */
static int bus_connect(Boxd *b, bool first) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        r = sd_bus_open_system(&bus);
        if (r < 0)
                return log_full_errno(first ? LOG_ERR : LOG_DEBUG, r, "cannot connect to the system bus: %m");
        r = sd_bus_match_signal_async(bus, NULL, "org.freedesktop.DBus.Local", "/org/freedesktop/DBus/Local",
                                      "org.freedesktop.DBus.Local", "Disconnected", on_disconnected, NULL, b);
        if (r < 0)
                return log_error_errno(r, "cannot watch the bus connection: %m");
        r = registry_bus_register(bus, b->reg);
        if (r < 0)
                return log_error_errno(r, "cannot put the machine1 API on the bus: %m");
        r = sd_bus_request_name(bus, MACHINE1_BUS_NAME, 0);
        if (r == -EEXIST)
                return r;
        if (r < 0)
                return log_error_errno(r, "cannot own %s on the system bus: %m", MACHINE1_BUS_NAME);
        r = sd_bus_attach_event(bus, b->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "cannot attach the bus to the event loop: %m");
        b->bus = TAKE_PTR(bus);
        return 0;
}

static void bus_drop(Boxd *b) {
        if (!b->bus)
                return;
        (void) sd_bus_detach_event(b->bus);
        b->bus = sd_bus_close_unref(b->bus);
}

static int schedule_reconnect(Boxd *b) {
        uint64_t delay = RECONNECT_FIRST_USEC << MIN(b->reconnect_tries, 5u);

        b->reconnect = sd_event_source_disable_unref(b->reconnect);
        /* An accuracy of 0 would mean the default, 250 ms. */
        return sd_event_add_time_relative(b->event, &b->reconnect, CLOCK_MONOTONIC, MIN(delay, RECONNECT_MAX_USEC),
                                          10 * 1000, on_reconnect, b);
}

static int on_disconnected(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Boxd *b = userdata;
        int r;

        log_info("Lost the system bus; watching the machines on, and connecting again when it is back.");
        b->reconnect_tries = 0;
        /* Not here: the bus is dispatching this very message. */
        r = schedule_reconnect(b);
        if (r < 0) {
                log_error_errno(r, "cannot schedule a new connection to the system bus: %m");
                return sd_event_exit(b->event, 1);
        }
        return 0;
}

static int on_reconnect(sd_event_source *s, uint64_t usec, void *userdata) {
        Boxd *b = userdata;
        int r;

        bus_drop(b);
        r = bus_connect(b, false);
        if (r == -EEXIST) {
                /* Activated while we were away, it adopted our machines from
                 * the state directory: one registry is enough. */
                log_info("Another registry took %s meanwhile; leaving the machines to it.", MACHINE1_BUS_NAME);
                return sd_event_exit(b->event, 0);
        }
        if (r < 0) {
                b->reconnect_tries++;
                r = schedule_reconnect(b);
                if (r < 0) {
                        log_error_errno(r, "cannot schedule a new connection to the system bus: %m");
                        return sd_event_exit(b->event, 1);
                }
                return 0;
        }
        b->reconnect = sd_event_source_disable_unref(b->reconnect);
        log_info("Serving %s again, on the new bus, with %zu machines.", MACHINE1_BUS_NAME, b->reg->n_machines);
        return 0;
}

/* One pidfd per machine: lift the soft limit on open files to the hard one
 * (no privilege needed), or a thousand machines would exhaust the default 1024. */
static void raise_nofile_limit(void) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
                return;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                log_debug("Cannot raise RLIMIT_NOFILE: %m");
}

/* The enabled machines, started from the event loop once the bus is served. */
static int start_enabled(sd_event *event, Registry *reg, Starter **ret) {
        const char *binary = getenv("BOXCTL_BINARY");
        _cleanup_(starter_freep) Starter *s = NULL;
        int r;

        r = starter_new(event, reg, isempty(binary) ? BOXCTL_BINDIR "/boxctl" : binary,
                        arg_start_concurrency ?: starter_default_concurrency(), arg_start_wait, &s);
        if (r < 0)
                return log_error_errno(r, "cannot set up the start of enabled machines: %m");
        r = starter_start_enabled(s);
        if (r < 0)
                /* The registry serves on: only the enabled machines are missed. */
                log_error_errno(r, "cannot read the enabled machines: %m");
        *ret = TAKE_PTR(s);
        return 0;
}

static int run(void) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(registry_freep) Registry *reg = NULL;
        _cleanup_(starter_freep) Starter *starter = NULL;
        _cleanup_free_ char *state = NULL;
        Boxd b = {};
        size_t adopted = 0, dropped = 0;
        sigset_t mask;
        int r;

        raise_nofile_limit();
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGCHLD); /* for the processes of OpenMachineShell, watched by the event loop */
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "cannot block signals: %m");

        r = sd_event_default(&event);
        if (r < 0)
                return log_error_errno(r, "cannot make an event loop: %m");
        (void) sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL);
        (void) sd_event_add_signal(event, NULL, SIGINT, NULL, NULL);
        b.event = event;

        r = runtime_dir_make("machines", &state);
        if (r < 0)
                return log_error_errno(r, "cannot make the state directory: %m");
        r = registry_new(event, state, on_leader_gone, &b, &reg);
        if (r < 0)
                return log_error_errno(r, "cannot set up the registry in %s: %m", state);
        b.reg = reg;
        r = registry_load(reg, &adopted, &dropped);
        if (r < 0)
                return log_error_errno(r, "cannot read %s: %m", state);

        r = bus_connect(&b, true);
        if (r == -EEXIST)
                log_error_errno(r, "%s is already owned on the system bus: is systemd-machined (or another boxd) running?",
                                MACHINE1_BUS_NAME);
        if (r < 0)
                goto finish;

        log_info("Serving %s; %zu machines adopted, %zu gone since the last run dropped.",
                 MACHINE1_BUS_NAME, adopted, dropped);
        (void) sd_notify(false, "READY=1\nSTATUS=Serving org.freedesktop.machine1");
        (void) start_enabled(event, reg, &starter);

        r = sd_event_loop(event);
        if (r < 0)
                log_error_errno(r, "event loop failed: %m");
        else
                r = r == 0 ? 0 : -EIO;
        (void) sd_notify(false, "STOPPING=1");
finish:
        b.reconnect = sd_event_source_disable_unref(b.reconnect);
        if (b.bus) {
                (void) sd_bus_flush(b.bus);
                bus_drop(&b);
        }
        return r;
}

int main(int argc, char *argv[]) {
        int r;

        log_set_program("boxd");
        log_parse_environment();
        /* A host name lookup of ours must not ask us over the bus (src/nss/). */
        (void) setenv(BOXCTL_NSS_BYPASS_ENV, "1", 1);
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? 1 : 0;
        return run() < 0 ? 1 : 0;
}
