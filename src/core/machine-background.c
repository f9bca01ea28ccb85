/* SPDX-License-Identifier: LGPL-2.1-or-later */
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

static _noreturn_ void supervisor_main(Settings *s, const char *notify_socket) {
        _cleanup_(machine_releasep) MachineInstance *mi = NULL;
        _cleanup_free_ char *error = NULL, *log_path = NULL;
        Supervisor sv = { .settings = s };
        MachineHooks hooks = { .notice = on_notice, .userdata = &sv };
        sigset_t mask;
        int r, status;

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
                _exit(EXIT_FAILURE);
        }
        r = log_to_file(s->machine_name, &log_path);
        if (r < 0)
                log_debug_errno(r, "Cannot open the log file of machine %s: %m", s->machine_name);
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
        _exit(status < 0 ? EXIT_FAILURE : status);
}

/* ---- the parent: waits for the child's word ---- */

typedef struct Waiter {
        pid_t child;
        StartWait want;
        bool done;       /* what we wait for has come */
        char *error;     /* the child's X_BOXCTL_ERROR, or how the machine ended */
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

static void waiter_set_error(Waiter *w, const char *prefix, const char *text) {
        if (w->error)
                return; /* the first word is the one that says why */
        if (asprintf(&w->error, "%s%s", prefix, text) < 0)
                w->error = NULL;
}

/* Reads the datagrams waiting; only the child's count. */
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
                if (!cred || cred->pid != w->child)
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

/* Waits for the child's exit: it has powered the machine off and cleaned up. */
static int waiter_reap(Waiter *w, int fd, int *ret_status) {
        siginfo_t si = {};

        if (waitid(P_PID, (id_t) w->child, &si, WEXITED) < 0)
                return -errno;
        waiter_read(w, fd); /* its last words are queued by now */
        *ret_status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
        return 0;
}

int machine_background_start(Settings *s, char **ret_error) {
        _cleanup_close_ int fd = -EBADF, pidfd = -EBADF;
        _cleanup_free_ char *socket_name = NULL, *name = NULL;
        Waiter w = { .want = s->start_wait };
        uint64_t deadline;
        int r, status;

        /* For our own messages; the child decides the real one the same way. */
        name = s->machine_name ? strdup(s->machine_name) : machine_name_from_path(s->root);
        if (!name)
                return -ENOMEM;

        r = notify_socket_new(&fd, &socket_name);
        if (r < 0)
                return error_set(ret_error, r, "cannot make a socket to hear from machine %s: %s", name, strerror(-r));
        fflush(NULL);
        w.child = fork();
        if (w.child < 0)
                return error_set(ret_error, -errno, "cannot fork the supervisor of machine %s: %s", name, strerror(errno));
        if (w.child == 0)
                supervisor_main(s, socket_name);

        pidfd = (int) syscall(SYS_pidfd_open, w.child, 0);
        if (pidfd < 0)
                return error_set(ret_error, -errno, "cannot watch the supervisor of machine %s: %s", name, strerror(errno));
        deadline = now_usec(CLOCK_MONOTONIC) + s->wait_timeout_usec;
        for (;;) {
                struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = pidfd, .events = POLLIN } };
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                int timeout_ms;

                waiter_read(&w, fd);
                if (w.done) {
                        free(w.error);
                        return 0;
                }
                if (w.error)
                        break; /* it failed: the child cleans up and exits */
                if (now >= deadline) {
                        /* The supervisor powers the machine off, as on "boxctl stop". */
                        (void) kill(w.child, SIGTERM);
                        (void) waiter_reap(&w, fd, &status);
                        free(w.error);
                        return error_set(ret_error, -ETIMEDOUT, "machine %s was not %s within %g s (--wait-timeout); powered it off",
                                         name, w.want == START_WAIT_READY ? "ready" : "running",
                                         (double) s->wait_timeout_usec / 1e6);
                }
                timeout_ms = (int) MIN((deadline - now + 999) / 1000, (uint64_t) INT32_MAX);
                if (poll(p, 2, timeout_ms) < 0 && errno != EINTR)
                        return error_set(ret_error, -errno, "cannot wait for machine %s: %s", name, strerror(errno));
                if (p[1].revents & POLLIN)
                        break; /* the child exited */
        }
        r = waiter_reap(&w, fd, &status);
        if (w.done && !w.error) /* it got there, and ended at once */
                return 0;
        if (w.error)
                r = error_set(ret_error, -ECHILD, "%s", w.error);
        else if (r < 0)
                r = error_set(ret_error, r, "cannot wait for the supervisor of machine %s: %s", name, strerror(-r));
        else
                r = error_set(ret_error, -ECHILD, "the supervisor of machine %s exited with status %d before the machine ran",
                              name, status);
        free(w.error);
        return r;
}
