/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>

#include "log.h"
#include "pty-forward.h"
#include "util.h"

#define BUFFER_SIZE 4096
#define ESCAPE_CHAR 0x1d /* Ctrl-] */
#define ESCAPE_COUNT 3
#define ESCAPE_USEC (1000000ULL)

struct PtyForward {
        sd_event *event;
        int master;
        int in_fd;  /* our stdin, or -EBADF when nothing is read */
        int out_fd; /* our stdout, or -EBADF when output is dropped */
        sd_event_source *master_src, *in_src, *out_src;

        /* Edge-triggered readiness: set by an event, cleared by EAGAIN. */
        bool in_readable, master_readable, master_writable, out_writable;
        bool in_done, out_done;
        int in_flags_saved, out_flags_saved;

        char in_buf[BUFFER_SIZE], out_buf[BUFFER_SIZE];
        size_t in_len, out_len;

        unsigned escape_count;
        uint64_t escape_first;
        PtyForwardEscapeHandler on_escape;
        void *userdata;
};

static struct termios saved_termios;
static bool termios_saved;

int terminal_raw_begin(void) {
        struct termios raw;

        if (termios_saved || !isatty(STDIN_FILENO))
                return 0;
        if (tcgetattr(STDIN_FILENO, &saved_termios) < 0)
                return -errno;
        raw = saved_termios;
        /* Output too: the machine's pty already turned its "\n" into "\r\n". */
        cfmakeraw(&raw);
        if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) < 0)
                return -errno;
        termios_saved = true;
        return 1;
}

void terminal_raw_end(void) {
        if (!termios_saved)
                return;
        (void) tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
        termios_saved = false;
}

static void note_escape(PtyForward *f, const char *buf, size_t n) {
        for (size_t i = 0; i < n; i++) {
                uint64_t now;

                if (buf[i] != ESCAPE_CHAR) {
                        f->escape_count = 0;
                        continue;
                }
                now = now_usec(CLOCK_MONOTONIC);
                if (f->escape_count == 0 || now - f->escape_first > ESCAPE_USEC) {
                        f->escape_first = now;
                        f->escape_count = 0;
                }
                if (++f->escape_count >= ESCAPE_COUNT && f->on_escape) {
                        f->escape_count = 0;
                        f->on_escape(f, f->userdata);
                }
        }
}

static bool again(int err) {
        return err == EAGAIN || err == EINTR;
}

static void shovel(PtyForward *f) {
        bool progress;

        do {
                ssize_t k;

                progress = false;

                if (f->in_fd >= 0 && !f->in_done && f->in_readable && f->in_len < BUFFER_SIZE) {
                        k = read(f->in_fd, f->in_buf + f->in_len, BUFFER_SIZE - f->in_len);
                        if (k < 0 && again(errno))
                                f->in_readable = false;
                        else if (k <= 0) {
                                /* EOF on stdin: stop reading, keep showing the console. */
                                f->in_done = true;
                                f->in_src = sd_event_source_disable_unref(f->in_src);
                        } else {
                                note_escape(f, f->in_buf + f->in_len, (size_t) k);
                                f->in_len += (size_t) k;
                                progress = true;
                        }
                }

                if (f->in_len > 0 && f->master_writable) {
                        k = write(f->master, f->in_buf, f->in_len);
                        if (k < 0 && (again(errno) || errno == EIO))
                                /* EIO: no one has the console open right now; keep the bytes. */
                                f->master_writable = false;
                        else if (k < 0)
                                f->in_len = 0;
                        else {
                                memmove(f->in_buf, f->in_buf + k, f->in_len - (size_t) k);
                                f->in_len -= (size_t) k;
                                progress = true;
                        }
                }

                if (f->master_readable && f->out_len < BUFFER_SIZE) {
                        k = read(f->master, f->out_buf + f->out_len, BUFFER_SIZE - f->out_len);
                        if (k <= 0)
                                /* EAGAIN, or EIO while no one holds the console: wait for the next edge. */
                                f->master_readable = false;
                        else {
                                f->out_len += (size_t) k;
                                progress = true;
                        }
                }

                if (f->out_len > 0 && (f->out_fd < 0 || f->out_done)) {
                        f->out_len = 0; /* passive, or our stdout is gone */
                        progress = true;
                } else if (f->out_len > 0 && f->out_writable) {
                        k = write(f->out_fd, f->out_buf, f->out_len);
                        if (k < 0 && again(errno))
                                f->out_writable = false;
                        else if (k < 0)
                                f->out_done = true;
                        else {
                                memmove(f->out_buf, f->out_buf + k, f->out_len - (size_t) k);
                                f->out_len -= (size_t) k;
                                progress = true;
                        }
                }
        } while (progress);
}

static int on_master(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        PtyForward *f = userdata;

        if (revents & (EPOLLIN | EPOLLHUP))
                f->master_readable = true;
        if (revents & EPOLLOUT)
                f->master_writable = true;
        shovel(f);
        return 0;
}

static int on_in(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        PtyForward *f = userdata;

        f->in_readable = true;
        shovel(f);
        return 0;
}

static int on_out(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        PtyForward *f = userdata;

        if (revents & (EPOLLHUP | EPOLLERR))
                f->out_done = true;
        f->out_writable = true;
        shovel(f);
        return 0;
}

static int add_io(PtyForward *f, int fd, uint32_t events, sd_event_io_handler_t cb, sd_event_source **ret) {
        int r;

        r = sd_event_add_io(f->event, ret, fd, events | EPOLLET, cb, f);
        if (r == -EPERM) {
                /* A regular file or /dev/null cannot be polled: it is always ready. */
                *ret = NULL;
                return 0;
        }
        return r;
}

int pty_forward_new(sd_event *e, int master, ConsoleMode mode, PtyForwardEscapeHandler on_escape,
                    void *userdata, PtyForward **ret) {
        _cleanup_(pty_forward_freep) PtyForward *f = NULL;
        int r;

        f = calloc(1, sizeof(PtyForward));
        if (!f)
                return -ENOMEM;
        f->event = sd_event_ref(e);
        f->master = master;
        f->in_fd = mode == CONSOLE_INTERACTIVE ? STDIN_FILENO : -EBADF;
        f->out_fd = (mode == CONSOLE_INTERACTIVE || mode == CONSOLE_READ_ONLY) ? STDOUT_FILENO : -EBADF;
        f->on_escape = on_escape;
        f->userdata = userdata;
        f->in_flags_saved = f->out_flags_saved = -1;
        f->master_writable = f->out_writable = f->in_readable = true;

        r = fd_nonblock(master, true);
        if (r < 0)
                return r;
        r = add_io(f, master, EPOLLIN | EPOLLOUT, on_master, &f->master_src);
        if (r < 0)
                return r;
        if (f->in_fd >= 0) {
                f->in_flags_saved = fcntl(f->in_fd, F_GETFL);
                (void) fd_nonblock(f->in_fd, true);
                r = add_io(f, f->in_fd, EPOLLIN, on_in, &f->in_src);
                if (r < 0)
                        return r;
        }
        if (f->out_fd >= 0) {
                f->out_flags_saved = fcntl(f->out_fd, F_GETFL);
                (void) fd_nonblock(f->out_fd, true);
                r = add_io(f, f->out_fd, EPOLLOUT, on_out, &f->out_src);
                if (r < 0)
                        return r;
        }
        pty_forward_resize(f);
        *ret = TAKE_PTR(f);
        return 0;
}

void pty_forward_resize(PtyForward *f) {
        struct winsize ws;

        if (f->in_fd < 0)
                return;
        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0)
                return;
        (void) ioctl(f->master, TIOCSWINSZ, &ws);
}

PtyForward *pty_forward_free(PtyForward *f) {
        if (!f)
                return NULL;

        /* What the machine wrote last (its shutdown messages) is still in the pty. */
        f->master_readable = true;
        if (f->out_fd >= 0 && !f->out_done) {
                (void) fd_nonblock(f->out_fd, false);
                f->out_writable = true;
        }
        f->in_readable = false;
        shovel(f);

        sd_event_source_disable_unref(f->master_src);
        sd_event_source_disable_unref(f->in_src);
        sd_event_source_disable_unref(f->out_src);
        if (f->in_flags_saved >= 0)
                (void) fcntl(f->in_fd, F_SETFL, f->in_flags_saved);
        if (f->out_flags_saved >= 0)
                (void) fcntl(f->out_fd, F_SETFL, f->out_flags_saved);
        sd_event_unref(f->event);
        free(f);
        return NULL;
}
