/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* boxctl poweroff, reboot, terminate and kill: requests to the registry,
 * which passes them to the machine's init or to every process it has; and
 * stop, a power-off that waits for the machine's end. */
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>

#include "console-client.h"
#include "log.h"
#include "registry-client.h"
#include "verb-machines.h"
#include "verbs.h"

static int kill_machine(sd_bus *bus, const char *verb, const char *name, const char *whom, int sig) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = registry_client_call(bus, "KillMachine", &error, NULL, "ssi", name, whom, sig);
        if (r < 0)
                return machines_log_bus_error(r, &error, verb, name);
        return 0;
}

int poweroff_one(sd_bus *bus, const char *name, const Args *a) {
        /* What systemd takes as a power-off request; boxd translates it for other inits. */
        return kill_machine(bus, "poweroff", name, "leader", SIGRTMIN + 4);
}

int reboot_one(sd_bus *bus, const char *name, const Args *a) {
        return kill_machine(bus, "reboot", name, "leader", SIGINT);
}

int kill_one(sd_bus *bus, const char *name, const Args *a) {
        return kill_machine(bus, "kill", name, kill_whom_to_string(a->kill_whom), a->signal);
}

int terminate_one(sd_bus *bus, const char *name, const Args *a) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = registry_client_call(bus, "TerminateMachine", &error, NULL, "s", name);
        if (r < 0)
                return machines_log_bus_error(r, &error, "terminate", name);
        return 0;
}

/* ---- boxctl stop: a power-off, and its end awaited ---- */

static void stop_help(void) {
        printf("Usage: boxctl stop NAME [OPTIONS...]\n\n"
               "Ask machine NAME to power off, and wait until it has ended; kill it when\n"
               "it takes longer than the kill timeout. Exits 0 when it powered off.\n\n"
               "     --kill-timeout=SECS   Wait this long before SIGKILL (30s)\n"
               "  -h --help                Show this help\n");
}

/* Waits for PIDFD to become readable (its process has ended) until USEC passes. 1: ended; 0: not yet. */
static int pidfd_wait(int pidfd, uint64_t usec) {
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + usec;

        for (;;) {
                struct pollfd p = { .fd = pidfd, .events = POLLIN };
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                int k;

                if (now >= deadline)
                        return 0;
                k = poll(&p, 1, (int) MIN((deadline - now + 999) / 1000, (uint64_t) INT32_MAX));
                if (k < 0 && errno != EINTR)
                        return -errno;
                if (k > 0)
                        return 1;
        }
}

static int stop_parse(int argc, char *argv[], uint64_t *kill_timeout, const char **ret_name) {
        static const struct option options[] = {
                { "kill-timeout", required_argument, NULL, 'K' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;

        opterr = 0;
        optind = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        stop_help();
                        return 0;
                case 'K':
                        if (parse_seconds(optarg, kill_timeout) < 0)
                                return log_error_errno(EINVAL, "invalid --kill-timeout '%s': expected seconds, like 30 or 1.5s", optarg);
                        break;
                default:
                        if (optopt == 'K')
                                return log_error_errno(EINVAL, "option '%s' needs a value", argv[optind - 1]);
                        return log_error_errno(EINVAL, "unknown option '%s'; try 'boxctl stop --help'", argv[optind - 1]);
                }
        return machines_one_name_arg(argc, argv, "boxctl stop NAME [--kill-timeout=SECS]", ret_name);
}

int verb_stop(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_close_ int leader_fd = -EBADF, supervisor_fd = -EBADF;
        uint64_t kill_timeout = 30ULL * 1000000ULL;
        const char *name = NULL;
        pid_t leader, supervisor;
        int r;

        r = stop_parse(argc, argv, &kill_timeout, &name);
        if (r <= 0)
                return r < 0 ? 1 : 0;
        if (geteuid() != 0) {
                log_error("boxctl stop needs root");
                return 1;
        }
        r = machines_get_leader("stop", name, &leader);
        if (r < 0)
                return 1;
        leader_fd = (int) syscall(SYS_pidfd_open, leader, 0);
        if (leader_fd < 0 && errno == ESRCH)
                return 0; /* it ended meanwhile */
        if (leader_fd < 0) {
                log_error_errno(errno, "stop %s: cannot watch its leader (PID %d): %m", name, (int) leader);
                return 1;
        }
        /* A background machine's supervisor: it has cleaned up once it exits. */
        if (console_supervisor(name, &supervisor, &supervisor_fd) < 0)
                supervisor_fd = -EBADF;

        r = sd_bus_open_system(&bus);
        if (r < 0) {
                log_error_errno(r, "cannot connect to the system bus: %m; is dbus-daemon running?");
                return 1;
        }
        r = poweroff_one(bus, name, NULL);
        if (r < 0)
                return 1;
        r = pidfd_wait(leader_fd, kill_timeout);
        if (r < 0) {
                log_error_errno(r, "stop %s: cannot wait for it: %m", name);
                return 1;
        }
        if (r == 0) {
                (void) syscall(SYS_pidfd_send_signal, leader_fd, SIGKILL, NULL, 0);
                (void) pidfd_wait(leader_fd, 10ULL * 1000000ULL);
                if (supervisor_fd >= 0)
                        (void) pidfd_wait(supervisor_fd, kill_timeout);
                log_error("machine %s did not power off within %g s; killed it", name, (double) kill_timeout / 1e6);
                return 1;
        }
        if (supervisor_fd >= 0 && pidfd_wait(supervisor_fd, kill_timeout) == 0) {
                log_error("machine %s powered off, but its supervisor (PID %d) did not exit", name, (int) supervisor);
                return 1;
        }
        return 0;
}
