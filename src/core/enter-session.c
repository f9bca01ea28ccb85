/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "enter-session.h"
#include "missing-syscall.h"
#include "pty-forward.h"
#include "util.h"

static const int session_signals[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGWINCH };
static const int forwarded_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT };

static void relay_close(EnterRelay *r) {
        r->source = sd_event_source_disable_unref(r->source);
        r->pipe = safe_close(r->pipe);
}

static bool write_all(int fd, const char *buf, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, buf, n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return false;
                buf += k;
                n -= (size_t) k;
        }
        return true;
}

/* Copies what is there from FROM to TO; false at EOF or on an error. */
static bool relay_copy(int from, int to) {
        char buf[4096];
        ssize_t n = read(from, buf, sizeof buf);

        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return true;
        return n > 0 && write_all(to, buf, (size_t) n);
}

static int on_relay(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        EnterRelay *r = userdata;
        bool in = r->ours == STDIN_FILENO;

        if (!relay_copy(in ? r->ours : r->pipe, in ? r->pipe : r->ours))
                relay_close(r); /* for stdin: the command sees EOF */
        return 0;
}

static int relays_start(EnterSession *s) {
        for (size_t i = 0; i < ELEMENTSOF(s->relays); i++) {
                EnterRelay *r = &s->relays[i];
                int fd = r->ours == STDIN_FILENO ? r->ours : r->pipe;

                if (r->pipe < 0)
                        continue;
                if (fd_nonblock(fd, true) < 0)
                        return -errno;
                int k = sd_event_add_io(s->event, &r->source, fd, EPOLLIN, on_relay, r);
                if (k < 0)
                        return k;
        }
        return 0;
}

/* After the command: what it wrote and we have not copied yet. */
static void relays_drain(EnterSession *s) {
        for (size_t i = 0; i < ELEMENTSOF(s->relays); i++) {
                EnterRelay *r = &s->relays[i];

                if (r->pipe >= 0 && r->ours != STDIN_FILENO) {
                        (void) fd_nonblock(r->pipe, true);
                        for (;;) {
                                char buf[4096];
                                ssize_t n = read(r->pipe, buf, sizeof buf);

                                if (n <= 0 || !write_all(r->ours, buf, (size_t) n))
                                        break;
                        }
                }
                relay_close(r);
        }
        /* Our stdin goes back to blocking, as the terminal's other users expect. */
        (void) fd_nonblock(STDIN_FILENO, false);
}

void enter_session_signal(EnterSession *s, int sig) {
        if (s->proc.child_pidfd >= 0)
                (void) sys_pidfd_send_signal(s->proc.child_pidfd, sig);
}

static int on_forward_signal(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata) {
        enter_session_signal(userdata, (int) si->ssi_signo);
        return 0;
}

static int on_winch(sd_event_source *src, const struct signalfd_siginfo *si, void *userdata) {
        EnterSession *s = userdata;

        if (s->forward)
                pty_forward_resize(s->forward);
        return 0;
}

static void on_escape(PtyForward *f, void *userdata) {
        EnterSession *s = userdata;

        s->escaped = true;
        enter_session_signal(s, SIGKILL);
}

static int on_exit_(sd_event_source *src, const siginfo_t *si, void *userdata) {
        EnterSession *s = userdata;

        s->status = si->si_code == CLD_EXITED ? si->si_status : 128 + si->si_status;
        return sd_event_exit(s->event, 0);
}

int enter_session_prepare(EnterSession *s, EnterRequest *req) {
        sigset_t mask;

        /* Blocked before the fork: the event loop takes them as signalfds. */
        sigemptyset(&mask);
        for (size_t i = 0; i < ELEMENTSOF(session_signals); i++)
                sigaddset(&mask, session_signals[i]);
        (void) sigprocmask(SIG_BLOCK, &mask, NULL);
        (void) signal(SIGPIPE, SIG_IGN);

        for (int i = 0; i < 3; i++) {
                int p[2];

                req->stdio[i] = i;
                if (req->pty || !isatty(i))
                        continue;
                if (pipe2(p, O_CLOEXEC) < 0)
                        return -errno;
                /* stdin: the command reads p[0]; stdout, stderr: it writes p[1]. */
                s->command_ends[i] = i == STDIN_FILENO ? p[0] : p[1];
                s->relays[i].pipe = i == STDIN_FILENO ? p[1] : p[0];
                req->stdio[i] = s->command_ends[i];
        }
        return 0;
}

void enter_session_entered(EnterSession *s) {
        for (size_t i = 0; i < ELEMENTSOF(s->command_ends); i++)
                s->command_ends[i] = safe_close(s->command_ends[i]);
}

int enter_session_run(EnterSession *s) {
        int r;

        r = sd_event_new(&s->event);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(forwarded_signals); i++) {
                r = sd_event_add_signal(s->event, NULL, forwarded_signals[i], on_forward_signal, s);
                if (r < 0)
                        return r;
        }
        r = sd_event_add_signal(s->event, NULL, SIGWINCH, on_winch, s);
        if (r < 0)
                return r;
        r = sd_event_add_child(s->event, NULL, s->proc.pid, WEXITED, on_exit_, s);
        if (r < 0)
                return r;
        if (s->proc.master >= 0) {
                r = pty_forward_new(s->event, s->proc.master, CONSOLE_INTERACTIVE, on_escape, s, &s->forward);
                if (r < 0)
                        return r;
                s->proc.master = -EBADF; /* the forward owns it */
                /* Every key goes to the machine's pty, whose line discipline
                 * echoes, edits and signals; ours would echo a password and
                 * hold ^]^]^] back until a newline. */
                (void) terminal_raw_begin();
        }
        r = relays_start(s);
        if (r >= 0)
                r = sd_event_loop(s->event);
        terminal_raw_end();
        relays_drain(s);
        return r;
}

void enter_session_done(EnterSession *s) {
        s->forward = pty_forward_free(s->forward);
        s->proc.master = safe_close(s->proc.master);
        s->event = sd_event_unref(s->event);
        for (size_t i = 0; i < ELEMENTSOF(s->relays); i++)
                relay_close(&s->relays[i]);
        enter_session_entered(s);
        s->proc.child_pidfd = safe_close(s->proc.child_pidfd);
}
