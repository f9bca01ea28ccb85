/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>

#include "lock.h"
#include "log.h"
#include "machine-background.h"
#include "machine-start.h"
#include "systemd-unit.h"
#include "util.h"

/* ---- the child: the detached supervisor ---- */

typedef struct Supervisor {
        const Settings *settings;
        char *last_words; /* how the machine ended, for a parent still waiting */
} Supervisor;

static void on_notice(MachineNotice kind, const char *text, void *userdata) {
        Supervisor *sv = userdata;

        /* To the log file: nobody's terminal. */
        log_info("%s", text);
        if (kind == MACHINE_NOTICE_ENDED || kind == MACHINE_NOTICE_ERROR || kind == MACHINE_NOTICE_KILLED) {
                free(sv->last_words);
                sv->last_words = strdup(text);
        }
}

static void report_error(const char *text) {
        /* One line: the parent prints it as it is. */
        _cleanup_free_ char *line = strdup(text);

        if (!line)
                return;
        line[strcspn(line, "\n")] = '\0';
        /* And to our stderr: the journal, for a unit that nobody waits for. */
        log_error("%s", line);
        (void) sd_notifyf(false, "X_BOXCTL_ERROR=%s", line);
}

/* stdout and stderr to RUNTIME_DIR/logs/NAME.log from now on. */
static int log_to_file(const char *machine_name, char **ret_path) {
        _cleanup_free_ char *dir = NULL, *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = runtime_dir_make("logs", &dir);
        if (r < 0)
                return r;
        if (asprintf(&path, "%s/%s.log", dir, machine_name) < 0)
                return -ENOMEM;
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0)
                return -errno;
        if (dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
                return -errno;
        *ret_path = TAKE_PTR(path);
        return 0;
}

static int detach_stdio(void) {
        _cleanup_close_ int fd = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);

        if (fd < 0)
                return -errno;
        for (int i = STDIN_FILENO; i <= STDERR_FILENO; i++)
                if (dup2(fd, i) < 0)
                        return -errno;
        return 0;
}

/* The supervisor's work, wherever it runs: prepares and boots the machine,
 * tells $NOTIFY_SOCKET how it goes, cleans up. LOG_FILE: send stdout and
 * stderr to RUNTIME_DIR/logs/NAME.log (a unit's go to the journal instead).
 * Returns the status to exit with. */
static int supervise(Settings *s, bool log_file) {
        _cleanup_(machine_releasep) MachineInstance *mi = NULL;
        _cleanup_free_ char *error = NULL, *log_path = NULL;
        Supervisor sv = { .settings = s };
        MachineHooks hooks = { .notice = on_notice, .userdata = &sv };
        sigset_t mask;
        int r, status;

        /* A power-off request before the machine's event loop runs waits for it. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        (void) sigprocmask(SIG_BLOCK, &mask, NULL);
        (void) signal(SIGPIPE, SIG_IGN);

        r = machine_prepare(s, &hooks, &mi, &error);
        if (r < 0) {
                report_error(error ?: "cannot prepare the machine");
                return EXIT_FAILURE;
        }
        if (log_file) {
                r = log_to_file(s->machine_name, &log_path);
                if (r < 0)
                        log_debug_errno(r, "Cannot open the log file of machine %s: %m", s->machine_name);
        }
        status = machine_boot(mi, &error);
        if (status < 0)
                report_error(error ?: "cannot start the machine");
        else if (sv.last_words)
                /* Read only by a parent that still waits: the machine ended first. */
                (void) sd_notifyf(false, "X_BOXCTL_ENDED=%s", sv.last_words);
        mi = machine_release(mi);
        if (log_path)
                (void) unlink(log_path);
        free(sv.last_words);
        return status < 0 ? EXIT_FAILURE : status;
}

static _noreturn_ void supervisor_main(Settings *s, const char *notify_socket) {
        /* A session of our own and no terminal: closing the one that started
         * us sends us nothing. Nothing of the caller's but what we open. */
        if (setsid() < 0 || detach_stdio() < 0)
                _exit(EXIT_FAILURE);
        /* Nor the caller's directory: that would keep its file system busy.
         * Every path in S is absolute. */
        if (chdir("/") < 0)
                _exit(EXIT_FAILURE);
        close_all_fds_but(-EBADF, -EBADF);
        if (setenv("NOTIFY_SOCKET", notify_socket, 1) < 0)
                _exit(EXIT_FAILURE);
        _exit(supervise(s, true));
}

int machine_background_supervise(Settings *s, const char *report_socket) {
        /* systemd made our session, stdio (the journal) and environment. */
        if (chdir("/") < 0)
                return -errno;
        if (report_socket && setenv("NOTIFY_SOCKET", report_socket, 1) < 0)
                return -errno;
        return supervise(s, false);
}

/* ---- the starter: waits for the supervisor's word ---- */

typedef struct Waiter {
        pid_t supervisor; /* whose messages count; 0: anyone's (the unit's socket is root's alone) */
        int pidfd;        /* the supervisor's, POLLIN once it has exited */
        bool own_child;   /* forked by us: reaped with waitid(); else a unit's main process */
        const char *name; /* the machine's */
        const char *unit; /* the unit it runs as, or NULL */
        StartWait want;
        bool done;        /* what we wait for has come */
        char *error;      /* the supervisor's X_BOXCTL_ERROR, or how the machine ended */
} Waiter;

static int notify_socket_new(int *ret_fd, char **ret_name) {
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        uint64_t rnd = 0;
        char name[80];
        int one = 1;

        (void) getrandom(&rnd, sizeof rnd, GRND_NONBLOCK);
        snprintf(name, sizeof name, "boxctl-start/%d/%016" PRIx64, (int) getpid(), rnd);
        memcpy(sa.sun_path + 1, name, strlen(name));
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &sa, (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name))) < 0)
                return -errno;
        if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0)
                return -errno;
        *ret_name = malloc(strlen(name) + 2);
        if (!*ret_name)
                return -ENOMEM;
        (*ret_name)[0] = '@';
        strcpy(*ret_name + 1, name);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* What starters that were killed left in DIR: sockets nobody is bound to
 * any more (a datagram socket refuses a connection then). */
static void report_sockets_sweep(const char *dir) {
        _cleanup_closedir_ DIR *d = opendir(dir);
        struct dirent *de;

        while (d && (de = readdir(d))) {
                _cleanup_close_ int fd = -EBADF;
                struct sockaddr_un sa = { .sun_family = AF_UNIX };

                if (de->d_type != DT_SOCK || (size_t) snprintf(sa.sun_path, sizeof sa.sun_path, "%s/%s", dir, de->d_name) >= sizeof sa.sun_path)
                        continue;
                fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                if (fd >= 0 && connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0 && errno == ECONNREFUSED)
                        (void) unlinkat(dirfd(d), de->d_name, 0);
        }
}

/* A unit's supervisor is not our child, and does not share our network
 * namespace for sure: its socket is a file, RUNTIME_DIR/start/NAME.RANDOM,
 * in a directory only root may enter, so only root can send to it. */
static int report_socket_new(const char *machine_name, int *ret_fd, char **ret_path) {
        _cleanup_free_ char *dir = NULL, *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        uint64_t rnd = 0;
        int one = 1, r;

        r = runtime_dir_make("start", &dir);
        if (r < 0)
                return r;
        if (chmod(dir, 0700) < 0)
                return -errno;
        report_sockets_sweep(dir);
        (void) getrandom(&rnd, sizeof rnd, GRND_NONBLOCK);
        if (asprintf(&path, "%s/%s.%016" PRIx64, dir, machine_name, rnd) < 0)
                return -ENOMEM;
        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return -errno;
        if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0) {
                r = -errno;
                (void) unlink(path);
                return r;
        }
        *ret_fd = TAKE_FD(fd);
        *ret_path = TAKE_PTR(path);
        return 0;
}

static void waiter_set_error(Waiter *w, const char *prefix, const char *text) {
        if (w->error)
                return; /* the first word is the one that says why */
        if (asprintf(&w->error, "%s%s", prefix, text) < 0)
                w->error = NULL;
}

/* Reads the datagrams waiting; only the supervisor's count. */
static void waiter_read(Waiter *w, int fd) {
        for (;;) {
                char buf[4096], control[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * 8)];
                struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf - 1 };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
                const struct ucred *cred = NULL;
                ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return;
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS)
                                cred = (const struct ucred *) CMSG_DATA(c);
                        else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                                for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++)
                                        safe_close(((int *) CMSG_DATA(c))[i]);
                }
                if (!cred || (w->supervisor > 0 ? cred->pid != w->supervisor : cred->uid != 0))
                        continue;
                buf[n] = '\0';
                for (char *line = buf, *next; line && *line; line = next) {
                        const char *v;

                        next = strchr(line, '\n');
                        if (next)
                                *next++ = '\0';
                        if (streq(line, "READY=1") || streq(line, "X_BOXCTL_STATE=ready"))
                                w->done = true;
                        else if (streq(line, "X_BOXCTL_STATE=running") && w->want == START_WAIT_REGISTERED)
                                w->done = true;
                        else if ((v = startswith(line, "X_BOXCTL_ERROR=")))
                                waiter_set_error(w, "", v);
                        else if ((v = startswith(line, "X_BOXCTL_ENDED=")))
                                waiter_set_error(w, "the machine ended before it was ready: ", v);
                }
        }
}

/* Waits for the supervisor's exit: it has powered the machine off and
 * cleaned up. *ret_status is -1 for a unit's (systemd reaps it). */
static int waiter_reap(Waiter *w, int fd, int *ret_status) {
        if (w->own_child) {
                siginfo_t si = {};

                if (waitid(P_PID, (id_t) w->supervisor, &si, WEXITED) < 0)
                        return -errno;
                *ret_status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
        } else {
                struct pollfd p = { .fd = w->pidfd, .events = POLLIN };

                while (w->pidfd >= 0 && poll(&p, 1, -1) < 0)
                        if (errno != EINTR)
                                return -errno;
                *ret_status = -1;
        }
        waiter_read(w, fd); /* its last words are queued by now */
        return 0;
}

static int waiter_signal(Waiter *w, int sig) {
        if (w->pidfd < 0)
                return 0; /* gone already */
        if (syscall(SYS_pidfd_send_signal, w->pidfd, sig, NULL, 0) < 0)
                return errno == ESRCH ? 0 : -errno;
        return 0;
}

/* Until the supervisor has said what W waits for (0), or has failed, or the
 * timeout has passed (it is then told to power the machine off). */
static int waiter_run(Waiter *w, int fd, uint64_t timeout_usec, char **ret_error) {
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + timeout_usec;
        int r, status = -1;

        for (;;) {
                struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = w->pidfd, .events = POLLIN } };
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                int timeout_ms;

                waiter_read(w, fd);
                if (w->done) {
                        free(w->error);
                        return 0;
                }
                if (w->error || w->pidfd < 0)
                        break; /* it failed, or has exited: the supervisor cleans up and exits */
                if (now >= deadline) {
                        /* The supervisor powers the machine off, as on "boxctl stop". */
                        (void) waiter_signal(w, SIGTERM);
                        (void) waiter_reap(w, fd, &status);
                        free(w->error);
                        return error_set(ret_error, -ETIMEDOUT, "machine %s was not %s within %g s (--wait-timeout); powered it off",
                                         w->name, w->want == START_WAIT_READY ? "ready" : "running",
                                         (double) timeout_usec / 1e6);
                }
                timeout_ms = (int) MIN((deadline - now + 999) / 1000, (uint64_t) INT32_MAX);
                if (poll(p, 2, timeout_ms) < 0 && errno != EINTR) {
                        r = error_set(ret_error, -errno, "cannot wait for machine %s: %s", w->name, strerror(errno));
                        free(w->error);
                        return r;
                }
                if (p[1].revents & POLLIN)
                        break; /* the supervisor exited */
        }
        r = waiter_reap(w, fd, &status);
        if (w->done && !w->error) /* it got there, and ended at once */
                return 0;
        if (w->error)
                r = error_set(ret_error, -ECHILD, "%s", w->error);
        else if (r < 0)
                r = error_set(ret_error, r, "cannot wait for the supervisor of machine %s: %s", w->name, strerror(-r));
        else if (status >= 0)
                r = error_set(ret_error, -ECHILD, "the supervisor of machine %s exited with status %d before the machine ran",
                              w->name, status);
        else
                r = error_set(ret_error, -ECHILD, "the supervisor of machine %s (unit %s) exited before the machine ran; see 'journalctl -u %s'",
                              w->name, w->unit, w->unit);
        free(w->error);
        return r;
}

static int start_forked(Settings *s, const char *name, char **ret_error) {
        _cleanup_close_ int fd = -EBADF, pidfd = -EBADF;
        _cleanup_free_ char *socket_name = NULL;
        Waiter w = { .want = s->start_wait, .own_child = true, .name = name };
        int r;

        r = notify_socket_new(&fd, &socket_name);
        if (r < 0)
                return error_set(ret_error, r, "cannot make a socket to hear from machine %s: %s", name, strerror(-r));
        fflush(NULL);
        w.supervisor = fork();
        if (w.supervisor < 0)
                return error_set(ret_error, -errno, "cannot fork the supervisor of machine %s: %s", name, strerror(errno));
        if (w.supervisor == 0)
                supervisor_main(s, socket_name);

        pidfd = (int) syscall(SYS_pidfd_open, w.supervisor, 0);
        if (pidfd < 0)
                return error_set(ret_error, -errno, "cannot watch the supervisor of machine %s: %s", name, strerror(errno));
        w.pidfd = pidfd;
        return waiter_run(&w, fd, s->wait_timeout_usec, ret_error);
}

/* The variables of boxctl's own that the supervisor must see as we do (where
 * the pool, the configuration and the runtime directory are, the log level),
 * and the bus it registers on. */
static int unit_environment(char ***ret) {
        _cleanup_strv_free_ char **env = calloc(1, sizeof(char *));

        if (!env)
                return -ENOMEM;
        for (char **e = environ; e && *e; e++)
                if ((startswith(*e, "BOXCTL_") || startswith(*e, "DBUS_SYSTEM_BUS_ADDRESS=")) &&
                    strv_push_dup(&env, *e) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(env);
        return 0;
}

static int unit_argv(char *const *start_args, const char *report_path, char ***ret) {
        _cleanup_strv_free_ char **argv = calloc(1, sizeof(char *));
        _cleanup_free_ char *exe = NULL, *opt = NULL;

        if (!argv)
                return -ENOMEM;
        /* This very binary, wherever it is installed. */
        exe = realpath("/proc/self/exe", NULL);
        if (!exe)
                return -errno;
        opt = strjoin3("--supervise=", report_path, "");
        if (!opt || strv_push_dup(&argv, exe) < 0 || strv_push_dup(&argv, "start") < 0 || strv_push_dup(&argv, opt) < 0)
                return -ENOMEM;
        for (char *const *a = start_args; a && *a; a++)
                if (strv_push_dup(&argv, *a) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(argv);
        return 0;
}

static void unlink_freep(char **p) {
        if (*p)
                (void) unlink(*p);
        free(*p);
}

static int start_as_unit(Settings *s, char *const *start_args, const char *name, char **ret_error) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(unlink_freep) char *report_path = NULL;
        _cleanup_free_ char *unit = NULL, *cwd = NULL;
        _cleanup_strv_free_ char **argv = NULL, **env = NULL;
        _cleanup_close_ int fd = -EBADF, pidfd = -EBADF;
        Waiter w = { .want = s->start_wait, .name = name, .pidfd = -EBADF };
        TransientUnit u = {};
        char description[128];
        int r;

        r = sd_bus_open_system(&bus);
        if (r < 0)
                return -ENOTCONN; /* no bus to ask systemd on: the caller falls back */
        r = systemd_unit_transient_name(name, &unit);
        if (r < 0)
                return error_set(ret_error, r, "cannot name the unit of machine %s: %s", name, strerror(-r));
        w.unit = unit;
        r = report_socket_new(name, &fd, &report_path);
        if (r < 0)
                return error_set(ret_error, r, "cannot make a socket to hear from machine %s: %s", name, strerror(-r));
        r = unit_argv(start_args, report_path, &argv);
        if (r >= 0)
                r = unit_environment(&env);
        if (r < 0)
                return error_set(ret_error, r, "cannot make the unit of machine %s: %s", name, strerror(-r));
        /* A relative PATH or --bind source means the same to the unit as to us. */
        cwd = getcwd(NULL, 0);
        snprintf(description, sizeof description, "Machine %s (boxctl)", name);
        u = (TransientUnit) {
                .name = unit,
                .description = description,
                .argv = argv,
                .environment = env,
                .working_directory = cwd,
                /* Its own --kill-timeout first, then systemd's SIGKILL. */
                .timeout_stop_usec = s->kill_timeout_usec + 15ULL * 1000000ULL,
        };
        r = systemd_unit_start_transient(bus, &u, ret_error);
        if (r == -EEXIST)
                return error_set(ret_error, -EBUSY, "machine %s: busy: unit %s is loaded already (the machine runs, or is stopping; see 'boxctl list')",
                                 name, unit);
        if (r < 0)
                return r;

        r = systemd_unit_main_pid(bus, unit, &w.supervisor);
        if (r < 0)
                return error_set(ret_error, r, "cannot ask systemd for the main process of unit %s: %s", unit, strerror(-r));
        if (w.supervisor > 0) {
                pid_t again = 0;

                pidfd = (int) syscall(SYS_pidfd_open, w.supervisor, 0);
                if (pidfd < 0 && errno != ESRCH)
                        return error_set(ret_error, -errno, "cannot watch the supervisor of machine %s: %s", name, strerror(errno));
                /* The PID could have been another's by the time we opened it. */
                if (pidfd >= 0 && (systemd_unit_main_pid(bus, unit, &again) < 0 || again != w.supervisor))
                        pidfd = safe_close(pidfd);
        }
        if (pidfd < 0)
                w.supervisor = 0; /* it has exited: only its last words are left, from root */
        w.pidfd = pidfd;
        return waiter_run(&w, fd, s->wait_timeout_usec, ret_error);
}

int machine_background_start(Settings *s, char *const *start_args, char **ret_error) {
        _cleanup_free_ char *name = NULL;
        int r;

        /* For our own messages; the supervisor decides the real one the same way. */
        name = s->machine_name ? strdup(s->machine_name) : machine_name_from_path(s->root);
        if (!name)
                return -ENOMEM;

        /* Where systemd is PID 1, it tracks the machine as a unit of its own,
         * so that systemctl, the journal and a shutdown of the host see it. */
        if (systemd_unit_host()) {
                r = start_as_unit(s, start_args, name, ret_error);
                if (r != -ENOTCONN)
                        return r;
                log_debug("No system bus to ask systemd on; machine %s gets a detached supervisor.", name);
        }
        return start_forked(s, name, ret_error);
}
