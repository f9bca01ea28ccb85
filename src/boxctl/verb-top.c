/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* boxctl top: the running machines' use of CPU, memory, tasks and IO,
 * refreshed every --delay and sorted by a column, as systemd-cgtop shows
 * cgroups. The machines come from the registry (ListMachines), their counters
 * from their cgroups (verb-usage.h); the rates and the order are computed in
 * the core (usage-top.h). On a terminal it takes the alternate screen and
 * reads keys; with --batch, or when stdout is not a terminal, it prints one
 * table after the other. */
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "registry-client.h"
#include "usage-top.h"
#include "verb-machines.h"
#include "verb-usage.h"
#include "verbs.h"

/* The alternate screen (xterm's private mode 1049) and the cursor (DECTCEM). */
#define ANSI_SCREEN_ENTER "\033[?1049h\033[?25l"
#define ANSI_SCREEN_LEAVE "\033[?25h\033[?1049l"
#define ANSI_HOME "\033[H"
#define ANSI_ERASE_LINE "\033[K"
#define ANSI_ERASE_BELOW "\033[J"
#define ANSI_BOLD "\033[1m"
#define ANSI_NORMAL "\033[0m"

static uint64_t arg_delay = 1000000;
static TopOrder arg_order = TOP_ORDER_CPU;
static unsigned arg_iterations = 0; /* 0: until q */
static bool arg_batch = false;
static bool arg_legend = true;

enum {
        ARG_ORDER = 0x100,
        ARG_NO_LEGEND,
};

static void help(void) {
        printf("Usage: boxctl top [OPTIONS...]\n\n"
               "Show the running machines' use of CPU, memory, tasks and IO, refreshed\n"
               "every --delay, the busiest first, as systemd-cgtop shows cgroups. CPU%% is\n"
               "of one CPU (200%% is two busy CPUs). CPU%% and the IO rates need two\n"
               "samples: the first refresh shows '-' for them.\n\n"
               "  -d --delay=SECONDS        Time between refreshes: 1 (the default), 0.5, 500ms, 2s\n"
               "     --order=COLUMN         Sort by cpu (the default), memory, tasks, io or name\n"
               "  -n --iterations=N         Exit after N refreshes\n"
               "  -b --batch                No screen control: print each table after the one\n"
               "                            before (the default when stdout is not a terminal)\n"
               "     --no-legend            Print neither the header nor the summary\n"
               "  -h --help                 Show this help\n\n"
               "Keys on a terminal: c, m, t, i or n sort by CPU%%, memory, tasks, IO or name;\n"
               "q quits.\n");
}

/* 1: go on; 0: help was shown; < 0: an error, logged. */
static int parse_argv(int argc, char *argv[]) {
        static const struct option options[] = {
                { "delay", required_argument, NULL, 'd' },
                { "order", required_argument, NULL, ARG_ORDER },
                { "iterations", required_argument, NULL, 'n' },
                { "batch", no_argument, NULL, 'b' },
                { "no-legend", no_argument, NULL, ARG_NO_LEGEND },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c, r;

        arg_batch = !isatty(STDOUT_FILENO);
        opterr = 0;
        optind = 0;
        while ((c = getopt_long(argc, argv, "d:n:bh", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case 'd':
                        r = top_parse_delay(optarg, &arg_delay);
                        if (r == -ERANGE)
                                return log_error_errno(r, "invalid --delay '%s': out of range; use 10ms to 1 day", optarg);
                        if (r < 0)
                                return log_error_errno(r, "invalid --delay '%s': use seconds, like 1, 0.5 or 500ms", optarg);
                        break;
                case ARG_ORDER:
                        arg_order = top_order_from_string(optarg);
                        if (arg_order < 0)
                                return log_error_errno(EINVAL, "invalid --order '%s': use cpu, memory, tasks, io or name",
                                                       optarg);
                        break;
                case 'n':
                        r = top_parse_iterations(optarg, &arg_iterations);
                        if (r < 0)
                                return log_error_errno(r, "invalid --iterations '%s': use a number of refreshes, 1 or more",
                                                       optarg);
                        break;
                case 'b':
                        arg_batch = true;
                        break;
                case ARG_NO_LEGEND:
                        arg_legend = false;
                        break;
                case '?': {
                        const char *opt = argv[optind - 1];
                        /* '?' for an option we know can only mean its value is missing. */
                        bool known = optopt >= 0x100 || (optopt > 0 && strchr("dn", optopt));

                        if (known && !strchr(opt, '='))
                                return log_error_errno(EINVAL, "option '%s' needs a value", opt);
                        return log_error_errno(EINVAL, "unknown option '%s'; try 'boxctl top --help'", opt);
                }
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return log_error_errno(EINVAL, "unexpected argument '%s'; usage: boxctl top [OPTIONS...]", argv[optind]);
        return 1;
}

/* ---- the samples ---- */

typedef struct Samples {
        TopSample *items;
        size_t n;
} Samples;

static void samples_done(Samples *s) {
        top_samples_free(s->items, s->n);
        *s = (Samples) {};
}

/* One machine's counters; one that ended since the registry listed it, or
 * whose cgroups cannot be read, is left out or shown with '-'. */
static int samples_add(sd_bus *bus, Samples *s, const char *name, const char *path) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(machine_info_done) MachineInfo mi = {};
        CgroupUsage u = CGROUP_USAGE_NULL;
        TopSample *items;
        int r;

        if (machines_set_string(&mi.name, name) < 0 || machines_set_string(&mi.path, path) < 0)
                return -ENOMEM;
        r = machine_info_fetch_properties(bus, &mi, &error);
        if (r < 0) {
                log_debug_errno(r, "top: machine %s ended meanwhile, or has no properties: %m", name);
                return 0;
        }
        r = machine_usage_read(&mi, &u);
        if (r < 0)
                log_debug_errno(r, "top: cannot read the cgroups of machine %s: %m", name);
        items = reallocarray(s->items, s->n + 1, sizeof(TopSample));
        if (!items)
                return -ENOMEM;
        s->items = items;
        s->items[s->n] = (TopSample) {
                .name = TAKE_PTR(mi.name),
                .leader = mi.leader,
                .timestamp = now_usec(CLOCK_MONOTONIC),
                .usage = u,
        };
        s->n++;
        return 0;
}

/* The registry's running machines, but the host itself (systemd-machined
 * lists it as ".host", of class "host"). On failure, *WHY says why, for the
 * caller to print once the screen is back. */
static int samples_take(sd_bus *bus, Samples *ret, char **why) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(samples_done) Samples s = {};
        const char *name, *class, *service, *path;
        int r;

        r = registry_client_call(bus, "ListMachines", &error, &reply, NULL);
        if (r < 0) {
                if (registry_error_is_absent(&error))
                        return error_set(why, -ERRNO_NO_REGISTRY, "no machine registry on the system bus (%s); start boxd",
                                         error.name);
                return error_set(why, r, "top: cannot list the machines: %s",
                                 sd_bus_error_is_set(&error) ? (error.message ?: error.name) : strerror(-r));
        }
        r = sd_bus_message_enter_container(reply, 'a', "(ssso)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ssso)", &name, &class, &service, &path)) > 0)
                if (!streq(class, "host"))
                        r = samples_add(bus, &s, name, path);
        if (r == -ENOMEM)
                return error_set(why, r, "out of memory");
        if (r < 0)
                return error_set(why, r, "top: cannot parse the registry's reply: %s", strerror(-r));
        *ret = s;
        s = (Samples) {};
        return 0;
}

/* ---- the table ---- */

enum { COL_MACHINE, COL_TASKS, COL_CPU, COL_MEMORY, COL_IO_READ, COL_IO_WRITE, _COL_MAX };

static const char *const column_title[_COL_MAX] = { "MACHINE", "TASKS", "CPU%", "MEMORY", "IO-READ/s", "IO-WRITE/s" };

static const char *format_count(char *buf, size_t n, uint64_t v) {
        if (v == TOP_UNKNOWN)
                return "-";
        snprintf(buf, n, "%" PRIu64, v);
        return buf;
}

static const char *format_size(char *buf, size_t n, uint64_t v) {
        return v == TOP_UNKNOWN ? "-" : usage_format_bytes(buf, n, v);
}

static const char *format_percent(char *buf, size_t n, double v) {
        if (v < 0)
                return "-";
        snprintf(buf, n, "%.1f", v);
        return buf;
}

typedef struct Cells {
        char buf[_COL_MAX][32];
        const char *cell[_COL_MAX];
} Cells;

static void row_cells(const TopRow *r, Cells *c) {
        c->cell[COL_MACHINE] = r->name;
        c->cell[COL_TASKS] = format_count(c->buf[COL_TASKS], sizeof c->buf[0], r->tasks);
        c->cell[COL_CPU] = format_percent(c->buf[COL_CPU], sizeof c->buf[0], r->cpu_percent);
        c->cell[COL_MEMORY] = format_size(c->buf[COL_MEMORY], sizeof c->buf[0], r->memory);
        c->cell[COL_IO_READ] = format_size(c->buf[COL_IO_READ], sizeof c->buf[0], r->io_read_rate);
        c->cell[COL_IO_WRITE] = format_size(c->buf[COL_IO_WRITE], sizeof c->buf[0], r->io_write_rate);
}

/* One line of the table into F, the machine's name left, the numbers right,
 * cut to COLUMNS (0: no limit) so that a narrow terminal does not wrap it. */
static void print_line(FILE *f, const char *const cell[_COL_MAX], const size_t width[_COL_MAX], size_t columns,
                       const char *eol) {
        char line[512];
        int n;

        n = snprintf(line, sizeof line, "%-*s %*s %*s %*s %*s %*s", (int) width[0], cell[0], (int) width[1], cell[1],
                     (int) width[2], cell[2], (int) width[3], cell[3], (int) width[4], cell[4], (int) width[5], cell[5]);
        if (n < 0)
                return;
        if (columns > 0 && (size_t) n > columns)
                line[columns] = '\0';
        fputs(line, f);
        fputs(eol, f);
}

typedef struct Screen {
        bool interactive;     /* the alternate screen is ours */
        bool raw;             /* stdin's terminal mode is changed: SAVED is what to restore */
        struct termios saved;
        int signal_fd;
} Screen;

/* The whole table: in batch mode after the one before, else over the screen,
 * cut to its size. */
static void draw(const Screen *scr, TopRow *rows, size_t n, bool first) {
        size_t width[_COL_MAX] = {}, columns = 0, lines = SIZE_MAX;
        const char *eol = scr->interactive ? ANSI_ERASE_LINE "\n" : "\n";
        struct winsize ws = {};
        Cells c;

        for (size_t i = 0; i < _COL_MAX; i++)
                width[i] = strlen(column_title[i]);
        for (size_t i = 0; i < n; i++) {
                row_cells(&rows[i], &c);
                for (size_t j = 0; j < _COL_MAX; j++)
                        width[j] = MAX(width[j], strlen(c.cell[j]));
        }
        if (scr->interactive) {
                if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) >= 0 && ws.ws_row > 0) {
                        columns = ws.ws_col;
                        /* The status line, a blank one and the header. */
                        lines = ws.ws_row > (arg_legend ? 3 : 0) ? ws.ws_row - (arg_legend ? 3 : 0) : 0;
                }
                fputs(ANSI_HOME, stdout);
        } else if (!first)
                putchar('\n');

        if (arg_legend && scr->interactive) {
                char line[256];
                int k;

                k = snprintf(line, sizeof line, "%zu machine%s, sorted by %s, every %gs. Keys: c m t i n sort, q quits.", n,
                             n == 1 ? "" : "s", top_order_to_string(arg_order), (double) arg_delay / 1e6);
                if (k > 0 && columns > 0 && (size_t) k > columns)
                        line[columns] = '\0';
                printf("%s%s%s", line, eol, eol);
        }
        if (arg_legend) {
                if (scr->interactive)
                        fputs(ANSI_BOLD, stdout);
                print_line(stdout, column_title, width, columns, scr->interactive ? ANSI_NORMAL ANSI_ERASE_LINE "\n" : "\n");
        }
        for (size_t i = 0; i < n && i < lines; i++) {
                row_cells(&rows[i], &c);
                print_line(stdout, c.cell, width, columns, eol);
        }
        if (arg_legend && n == 0)
                printf("No machines running.%s", eol);
        else if (arg_legend && !scr->interactive)
                printf("\n%zu machine%s, sorted by %s.\n", n, n == 1 ? "" : "s", top_order_to_string(arg_order));
        if (scr->interactive)
                fputs(ANSI_ERASE_BELOW, stdout);
        fflush(stdout);
}

/* ---- the terminal ---- */

static void screen_leave(Screen *scr) {
        if (scr->interactive) {
                fputs(ANSI_SCREEN_LEAVE, stdout);
                fflush(stdout);
                scr->interactive = false;
        }
        if (scr->raw) {
                (void) tcsetattr(STDIN_FILENO, TCSANOW, &scr->saved);
                scr->raw = false;
        }
}

/* Keys one at a time, not echoed; ^C and ^Z still send their signals, which
 * come to the loop (screen_signals()) so that the terminal is restored. */
static int screen_enter(Screen *scr) {
        if (isatty(STDIN_FILENO)) {
                struct termios t;

                if (tcgetattr(STDIN_FILENO, &scr->saved) < 0)
                        return -errno;
                t = scr->saved;
                t.c_lflag &= ~(ICANON | ECHO);
                t.c_cc[VMIN] = 1;
                t.c_cc[VTIME] = 0;
                if (tcsetattr(STDIN_FILENO, TCSANOW, &t) < 0)
                        return -errno;
                scr->raw = true;
        }
        fputs(ANSI_SCREEN_ENTER, stdout);
        fflush(stdout);
        scr->interactive = true;
        return 0;
}

static void screen_done(Screen *scr) {
        screen_leave(scr);
        scr->signal_fd = safe_close(scr->signal_fd);
}

/* The signals that end us or stop us, and SIGWINCH, through a signalfd: the
 * terminal must be given back before we go. */
static int screen_signals(Screen *scr) {
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGQUIT);
        sigaddset(&mask, SIGTSTP);
        sigaddset(&mask, SIGWINCH);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        scr->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        return scr->signal_fd < 0 ? -errno : 0;
}

/* What happened while we waited. */
typedef enum Event {
        EVENT_TIMEOUT,
        EVENT_REDRAW, /* a new order, a new size, back from a stop */
        EVENT_QUIT,
        EVENT_SIGNAL, /* the signal is in *RET_SIGNAL */
} Event;

static Event on_key(char key) {
        TopOrder o;

        if (key == 'q' || key == 'Q')
                return EVENT_QUIT;
        o = top_order_from_key(key);
        if (o < 0)
                return EVENT_TIMEOUT; /* any other key: nothing */
        arg_order = o;
        return EVENT_REDRAW;
}

static Event on_signal(Screen *scr, int *ret_signal) {
        struct signalfd_siginfo si;

        if (read(scr->signal_fd, &si, sizeof si) != sizeof si)
                return EVENT_TIMEOUT;
        if (si.ssi_signo == SIGWINCH)
                return EVENT_REDRAW;
        if (si.ssi_signo == SIGTSTP) {
                /* Stop with the terminal as it was, take it again on SIGCONT. */
                screen_leave(scr);
                (void) kill(getpid(), SIGSTOP);
                (void) screen_enter(scr);
                return EVENT_REDRAW;
        }
        *ret_signal = (int) si.ssi_signo;
        return EVENT_SIGNAL;
}

/* Waits until DEADLINE (CLOCK_MONOTONIC µs) for a key or a signal. */
static Event wait_event(Screen *scr, uint64_t deadline, int *ret_signal) {
        for (;;) {
                struct pollfd p[2] = {
                        { .fd = scr->signal_fd, .events = POLLIN },
                        { .fd = scr->raw ? STDIN_FILENO : -1, .events = POLLIN },
                };
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                Event e;
                char key;
                int r;

                if (now >= deadline)
                        return EVENT_TIMEOUT;
                r = poll(p, 2, (int) MIN((deadline - now + 999) / 1000, (uint64_t) INT32_MAX));
                if (r < 0 && errno != EINTR)
                        return EVENT_TIMEOUT;
                if (r <= 0)
                        continue;
                if (p[0].revents & POLLIN) {
                        e = on_signal(scr, ret_signal);
                        if (e != EVENT_TIMEOUT)
                                return e;
                }
                if (p[1].revents & (POLLHUP | POLLERR))
                        return EVENT_QUIT; /* the terminal went away */
                if (p[1].revents & POLLIN) {
                        if (read(STDIN_FILENO, &key, 1) != 1)
                                return EVENT_QUIT;
                        e = on_key(key);
                        if (e != EVENT_TIMEOUT)
                                return e;
                }
        }
}

/* ---- the loop ---- */

/* Batch mode: nothing to read but the time. */
static void sleep_until(uint64_t deadline) {
        for (uint64_t now; (now = now_usec(CLOCK_MONOTONIC)) < deadline;)
                (void) poll(NULL, 0, (int) MIN((deadline - now + 999) / 1000, (uint64_t) INT32_MAX));
}

/* 0 after -n refreshes or q; 128 + the signal that ended it; < 0 with *WHY. */
static int top_loop(sd_bus *bus, Screen *scr, char **why) {
        _cleanup_(top_state_done) TopState state = {};
        _cleanup_free_ TopRow *rows = NULL;
        int r, sig = 0;

        for (uint64_t refresh = 1;; refresh++) {
                _cleanup_(samples_done) Samples s = {};
                uint64_t deadline;
                size_t n;

                r = samples_take(bus, &s, why);
                if (r < 0)
                        return r;
                free(TAKE_PTR(rows));
                n = TAKE_GENERIC(s.n, size_t, 0);
                r = top_state_update(&state, TAKE_PTR(s.items), n, &rows);
                if (r < 0)
                        return error_set(why, r, "out of memory");
                top_rows_sort(rows, n, arg_order);
                draw(scr, rows, n, refresh == 1);
                if (arg_iterations > 0 && refresh >= arg_iterations)
                        return 0;

                deadline = now_usec(CLOCK_MONOTONIC) + arg_delay;
                if (scr->signal_fd < 0) {
                        sleep_until(deadline);
                        continue;
                }
                for (Event e; (e = wait_event(scr, deadline, &sig)) != EVENT_TIMEOUT;) {
                        if (e == EVENT_QUIT)
                                return 0;
                        if (e == EVENT_SIGNAL)
                                return 128 + sig;
                        /* A new order or size: the same numbers again, without waiting for new ones. */
                        top_rows_sort(rows, n, arg_order);
                        draw(scr, rows, n, false);
                }
        }
}

int verb_top(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(screen_done) Screen scr = { .signal_fd = -EBADF };
        _cleanup_free_ char *why = NULL;
        int r;

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? 1 : 0;
        r = sd_bus_open_system(&bus);
        if (r < 0) {
                log_error_errno(r, "cannot connect to the system bus: %m; is dbus-daemon running?");
                return 1;
        }
        if (!arg_batch) {
                r = screen_signals(&scr);
                if (r >= 0)
                        r = screen_enter(&scr);
                if (r < 0) {
                        screen_done(&scr);
                        log_error_errno(r, "top: cannot set up the terminal: %m");
                        return 1;
                }
        }
        r = top_loop(bus, &scr, &why);
        /* Errors only once the terminal is back: on the alternate screen they would be lost with it. */
        screen_done(&scr);
        if (r < 0) {
                if (why)
                        log_error("%s", why);
                else
                        log_error_errno(r, "top: %m");
                return 1;
        }
        return r;
}
