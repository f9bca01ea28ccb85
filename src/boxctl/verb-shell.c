/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* "boxctl shell NAME [CMD...]": a shell, or a command, inside a running
 * machine. Unlike "machinectl shell", which asks the machine's own systemd
 * over D-Bus to start it, boxctl joins the machine from the host: its
 * namespaces, root and cgroup, its capability bounding set and system call
 * filter. Any init works, and nothing needs to run inside. Only finding the
 * machine by name goes over the host's bus, to the registry. */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "enter-session.h"
#include "log.h"
#include "registry.h"
#include "verbs.h"

enum {
        ARG_PTY = 0x100,
        ARG_PIPE,
};

typedef struct ShellArgs {
        const char *name;
        const char *user;
        char **setenv;
        char **argv; /* points into argv */
        int pty;     /* -1: when stdin and stdout are terminals */
        bool login;  /* "boxctl login": the machine's login(1) on a new pty */
        const char *verb;
} ShellArgs;

static void help(void) {
        printf("Usage: boxctl shell [OPTIONS] NAME [COMMAND [ARGS...]]\n\n"
               "Run COMMAND inside the running machine NAME, or the user's login shell.\n"
               "Joins the machine's namespaces, root and cgroup from the host; nothing\n"
               "needs to run inside the machine. Exits with the command's status.\n\n"
               "  -u --uid=USER            Run as USER (a name or a UID of the machine's\n"
               "                           /etc/passwd; default root)\n"
               "  -E --setenv=VAR=VALUE    Set an environment variable (may repeat)\n"
               "     --pty                 Give the command a pty of the machine's own\n"
               "                           (the default when stdin and stdout are terminals)\n"
               "     --pipe                Pass stdin, stdout and stderr straight through\n"
               "  -h --help                Show this help\n\n"
               "Examples:\n"
               "  boxctl shell debian-root\n"
               "  boxctl shell -u nobody debian-root -- id\n");
}

static bool env_assignment_is_valid(const char *s) {
        const char *eq = strchr(s, '=');

        if (!eq || eq == s)
                return false;
        for (const char *p = s; p < eq; p++)
                if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                      (p > s && *p >= '0' && *p <= '9')))
                        return false;
        return true;
}

/* 1: go on; 0: done (help); < 0: error, logged. */
static int parse_argv(int argc, char *argv[], ShellArgs *a) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "uid", required_argument, NULL, 'u' },
                { "setenv", required_argument, NULL, 'E' },
                { "pty", no_argument, NULL, ARG_PTY },
                { "pipe", no_argument, NULL, ARG_PIPE },
                {},
        };
        int c;

        a->pty = -1;
        opterr = 0;
        optind = 0;
        /* "+": options end at the machine's name; what follows is the command's. */
        while ((c = getopt_long(argc, argv, "+hu:E:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case 'u':
                        if (isempty(optarg) || strchr(optarg, ':') || strchr(optarg, '\n'))
                                return log_error_errno(EINVAL, "invalid --uid '%s': expected a user name or a UID", optarg);
                        a->user = optarg;
                        break;
                case 'E':
                        if (!env_assignment_is_valid(optarg))
                                return log_error_errno(EINVAL, "invalid --setenv '%s': expected VAR=VALUE", optarg);
                        if (strv_push_dup(&a->setenv, optarg) < 0)
                                return log_oom();
                        break;
                case ARG_PTY:
                        a->pty = 1;
                        break;
                case ARG_PIPE:
                        a->pty = 0;
                        break;
                case '?':
                        if (optopt == 'u' || optopt == 'E')
                                return log_error_errno(EINVAL, "option '%s' needs a value; try 'boxctl shell --help'",
                                                       argv[optind - 1]);
                        return log_error_errno(EINVAL, "unknown option '%s'; try 'boxctl shell --help'",
                                               argv[optind - 1]);
                default:
                        return log_error_errno(EINVAL, "try 'boxctl shell --help'");
                }
        if (optind >= argc)
                return log_error_errno(EINVAL, "no machine given; usage: boxctl shell [OPTIONS] NAME [COMMAND...]; see 'boxctl list'");
        a->name = argv[optind++];
        if (!machine_name_is_valid(a->name))
                return log_error_errno(EINVAL, "invalid machine name '%s'", a->name);
        if (optind < argc && streq(argv[optind], "--"))
                optind++;
        a->argv = argv + optind;
        return 1;
}

/* What "shell" and "login" share once their arguments are parsed: into the
 * machine, the command's terminal forwarded to ours, its status back. */
static int shell_run(ShellArgs *a) {
        _cleanup_free_ char *cgroup_path = NULL, *error = NULL;
        EnterSession sh = ENTER_SESSION_INIT;
        pid_t leader;
        int r;

        if (geteuid() != 0) {
                r = log_error_errno(EPERM, "%s %s: only root may enter machines", a->verb, a->name);
                goto finish;
        }
        r = machines_get_leader(a->verb, a->name, &leader);
        if (r < 0)
                goto finish;
        r = enter_cgroup_path(leader, &cgroup_path);
        if (r < 0) {
                r = log_error_errno(r, "%s %s: cannot find the machine's cgroup: %m", a->verb, a->name);
                goto finish;
        }

        if (a->pty < 0)
                a->pty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
        EnterRequest req = {
                .machine_name = a->name,
                .leader = leader,
                .cgroup_path = cgroup_path,
                .user = a->user,
                .argv = a->argv,
                .setenv = a->setenv,
                .term = a->pty ? (getenv("TERM") ?: "vt220") : getenv("TERM"),
                .pty = a->pty,
                .login = a->login,
        };
        r = enter_session_prepare(&sh, &req);
        if (r < 0) {
                r = log_error_errno(r, "%s %s: cannot make pipes for the terminal: %m", a->verb, a->name);
                goto finish;
        }
        r = machine_enter(&req, &sh.proc, &error);
        enter_session_entered(&sh);
        if (r < 0) {
                log_error("%s %s: %s", a->verb, a->name, error ?: strerror(-r));
                r = sh.proc.status > 0 ? sh.proc.status : 1;
                goto finish;
        }
        if (a->login)
                fprintf(stderr, "Connected to machine %s. Press ^] three times within 1s to exit session.\n",
                        a->name);
        r = enter_session_run(&sh);
        if (r < 0) {
                enter_session_signal(&sh, SIGKILL);
                r = log_error_errno(r, "%s %s: %m", a->verb, a->name);
                goto finish;
        }
        r = sh.status;
        /* Leaving a login is how a login ends: not a failure. */
        if (a->login && sh.escaped) {
                fprintf(stderr, "\nConnection to machine %s terminated.\n", a->name);
                r = 0;
        }
finish:
        enter_session_done(&sh);
        return r < 0 ? 1 : r;
}

int verb_shell(int argc, char *argv[]) {
        ShellArgs a = { .verb = "shell" };
        int r;

        r = parse_argv(argc, argv, &a);
        if (r > 0)
                r = shell_run(&a);
        strv_freep(&a.setenv);
        return r < 0 ? 1 : r;
}

static void login_help(void) {
        printf("Usage: boxctl login [OPTIONS] NAME\n\n"
               "Log in to the running machine NAME: its own login(1) asks for a user and\n"
               "a password on a new terminal of the machine's, as at its console. Joins the\n"
               "machine from the host: nothing needs to run inside it. Press ^] three times\n"
               "within a second to leave.\n\n"
               "  -h --help                Show this help\n\n"
               "Examples:\n"
               "  boxctl login debian-root\n");
}

/* 1: go on; 0: done (help); < 0: error, logged. */
static int login_parse_argv(int argc, char *argv[], ShellArgs *a) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;

        opterr = 0;
        optind = 0;
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        login_help();
                        return 0;
                default:
                        return log_error_errno(EINVAL, "unknown option '%s'; try 'boxctl login --help'",
                                               argv[optind - 1]);
                }
        if (optind >= argc)
                return log_error_errno(EINVAL, "no machine given; usage: boxctl login NAME; see 'boxctl list'");
        if (optind + 1 < argc)
                return log_error_errno(EINVAL, "login takes one machine, not also '%s'; usage: boxctl login NAME",
                                       argv[optind + 1]);
        a->name = argv[optind];
        if (!machine_name_is_valid(a->name))
                return log_error_errno(EINVAL, "invalid machine name '%s'", a->name);
        /* A login is for a person at a terminal; commands go through "shell". */
        if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
                return log_error_errno(ENOTTY, "login %s: %s is not a terminal; use 'boxctl shell' to run commands",
                                       a->name, isatty(STDIN_FILENO) ? "stdout" : "stdin");
        return 1;
}

int verb_login(int argc, char *argv[]) {
        ShellArgs a = { .verb = "login", .login = true, .pty = 1 };
        int r;

        r = login_parse_argv(argc, argv, &a);
        if (r > 0)
                r = shell_run(&a);
        return r < 0 ? 1 : r;
}
