/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <termios.h>

#include "console-client.h"
#include "console-server.h"
#include "pty-forward.h"
#include "util.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77 /* Linux 6.5, include/uapi/asm-generic/socket.h */
#endif

#define ESCAPE_CHAR 0x1d /* Ctrl-] */
#define ESCAPE_COUNT 3
#define ESCAPE_USEC (1000000ULL)

static int write_all(int fd, const void *buf, size_t n) {
        const char *p = buf;

        while (n > 0) {
                ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

                if (k < 0 && errno == ENOTSOCK)
                        k = write(fd, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN) {
                        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
                        (void) poll(&pfd, 1, -1);
                        continue;
                }
                if (k < 0)
                        return -errno;
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

static int send_frame(int fd, ConsoleFrameType type, const void *data, size_t n) {
        ConsoleFrameHeader h = { .type = (uint8_t) type, .len = (uint16_t) n };
        char buf[sizeof h + CONSOLE_FRAME_MAX];

        if (n > CONSOLE_FRAME_MAX)
                return -E2BIG;
        memcpy(buf, &h, sizeof h);
        memcpy(buf + sizeof h, data, n);
        return write_all(fd, buf, sizeof h + n);
}

static void window_size(uint16_t *rows, uint16_t *cols) {
        struct winsize ws = {};

        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0)
                (void) ioctl(STDIN_FILENO, TIOCGWINSZ, &ws);
        *rows = ws.ws_row;
        *cols = ws.ws_col;
}

/* A connection to MACHINE_NAME's console socket; -ENOENT when nobody serves
 * it (no socket, or one left by a supervisor that was killed). */
static int console_socket_connect(const char *machine_name) {
        _cleanup_free_ char *path = console_socket_path(machine_name);
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        if (!path)
                return -ENOMEM;
        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return errno == ECONNREFUSED ? -ENOENT : -errno;
        return TAKE_FD(fd);
}

int console_connect(const char *machine_name, bool read_only, int *ret_fd, pid_t *ret_holder) {
        _cleanup_close_ int fd = -EBADF;
        ConsoleHello hello = { .magic = CONSOLE_MAGIC, .read_only = read_only };
        ConsoleReply reply;
        size_t got = 0;

        fd = console_socket_connect(machine_name);
        if (fd < 0)
                return fd;
        window_size(&hello.rows, &hello.cols);
        if (write_all(fd, &hello, sizeof hello) < 0)
                return -ENOENT;
        while (got < sizeof reply) {
                ssize_t k = recv(fd, (char *) &reply + got, sizeof reply - got, 0);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return -ENOENT; /* it ended meanwhile */
                got += (size_t) k;
        }
        if (reply.magic != CONSOLE_MAGIC)
                return -EBADMSG;
        if (reply.status == CONSOLE_STATUS_BUSY) {
                *ret_holder = (pid_t) reply.pid;
                return -EBUSY;
        }
        if (reply.status != CONSOLE_STATUS_OK)
                return -EPROTO;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

typedef struct Escape {
        unsigned count;
        uint64_t first;
} Escape;

static bool escape_seen(Escape *e, const char *buf, size_t n) {
        for (size_t i = 0; i < n; i++) {
                uint64_t now;

                if (buf[i] != ESCAPE_CHAR) {
                        e->count = 0;
                        continue;
                }
                now = now_usec(CLOCK_MONOTONIC);
                if (e->count == 0 || now - e->first > ESCAPE_USEC) {
                        e->first = now;
                        e->count = 0;
                }
                if (++e->count >= ESCAPE_COUNT)
                        return true;
        }
        return false;
}

static int attach_loop(int fd, bool read_only, int sigfd, ConsoleEnd *ret_end) {
        bool in_open = true;
        Escape esc = {};

        for (;;) {
                struct pollfd p[3] = {
                        { .fd = fd, .events = POLLIN },
                        { .fd = sigfd, .events = POLLIN },
                        { .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN },
                };
                char buf[CONSOLE_FRAME_MAX];
                ssize_t k;
                int r;

                if (poll(p, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (p[1].revents & POLLIN) {
                        struct signalfd_siginfo si;

                        if (read(sigfd, &si, sizeof si) == sizeof si && si.ssi_signo != SIGWINCH) {
                                *ret_end = CONSOLE_END_DETACHED;
                                return 0;
                        }
                        if (!read_only) {
                                uint16_t ws[2];

                                window_size(&ws[0], &ws[1]);
                                (void) send_frame(fd, CONSOLE_FRAME_WINSIZE, ws, sizeof ws);
                        }
                }
                if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                        k = recv(fd, buf, sizeof buf, 0);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k <= 0) {
                                *ret_end = CONSOLE_END_CLOSED;
                                return 0;
                        }
                        r = write_all(STDOUT_FILENO, buf, (size_t) k);
                        if (r < 0)
                                return r;
                }
                if (in_open && (p[2].revents & (POLLIN | POLLHUP | POLLERR))) {
                        k = read(STDIN_FILENO, buf, sizeof buf);
                        if (k < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (k <= 0) {
                                in_open = false; /* keep showing the console */
                                continue;
                        }
                        if (escape_seen(&esc, buf, (size_t) k)) {
                                *ret_end = CONSOLE_END_DETACHED;
                                return 0;
                        }
                        if (!read_only) {
                                r = send_frame(fd, CONSOLE_FRAME_INPUT, buf, (size_t) k);
                                if (r < 0) {
                                        *ret_end = CONSOLE_END_CLOSED;
                                        return 0;
                                }
                        }
                }
        }
}

int console_attach(int fd, bool read_only, ConsoleEnd *ret_end) {
        _cleanup_close_ int sigfd = -EBADF;
        sigset_t mask, old;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGWINCH);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, &old) < 0)
                return -errno;
        sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sigfd < 0) {
                r = -errno;
                (void) sigprocmask(SIG_SETMASK, &old, NULL);
                return r;
        }
        /* Raw: every key goes to the machine, Ctrl-C too; only Ctrl-] x3 is ours. */
        (void) terminal_raw_begin();
        r = attach_loop(fd, read_only, sigfd, ret_end);
        terminal_raw_end();
        (void) sigprocmask(SIG_SETMASK, &old, NULL);
        return r;
}

int console_supervisor(const char *machine_name, pid_t *ret_pid, int *ret_pidfd) {
        _cleanup_close_ int fd = -EBADF, pidfd = -EBADF;
        struct ucred cred = {};
        socklen_t len = sizeof cred;

        fd = console_socket_connect(machine_name);
        if (fd < 0)
                return fd;
        /* The peer's pidfd (Linux 6.5) names the very process, even if its PID is reused. */
        len = sizeof(int);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0)
                pidfd = -EBADF;
        len = sizeof cred;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return -errno;
        if (pidfd < 0)
                pidfd = (int) syscall(SYS_pidfd_open, cred.pid, 0);
        if (pidfd < 0)
                return -errno;
        *ret_pid = cred.pid;
        *ret_pidfd = TAKE_FD(pidfd);
        return 0;
}
