/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>

#include "console-server.h"
#include "lock.h"
#include "log.h"
#include "util.h"

/* A reader that falls this far behind is dropped rather than let the
 * supervisor's memory grow with the console's output. */
#define CLIENT_BACKLOG_MAX (4U * CONSOLE_SCROLLBACK)
#define INPUT_PENDING_MAX 4096U

typedef struct Client Client;

struct Client {
        ConsoleServer *server;
        Client *next;
        int fd;
        pid_t pid;
        sd_event_source *src;
        bool accepted, read_only;
        char in[sizeof(ConsoleFrameHeader) + CONSOLE_FRAME_MAX];
        size_t in_len;
        char *out;
        size_t out_len;
};

struct ConsoleServer {
        sd_event *event;
        int master;
        sd_event_source *master_src;
        bool master_readable, master_writable;
        int listen_fd;
        sd_event_source *listen_src;
        char *path;
        Client *clients;
        Client *writer;
        char ring[CONSOLE_SCROLLBACK];
        size_t ring_start, ring_len;
        char pending[INPUT_PENDING_MAX]; /* typed, not yet taken by the pty */
        size_t pending_len;
};

char *console_socket_path(const char *machine_name) {
        char *p = NULL;

        if (asprintf(&p, "%s/consoles/%s", runtime_dir(), machine_name) < 0)
                return NULL;
        return p;
}

static void ring_append(ConsoleServer *s, const char *buf, size_t n) {
        while (n > 0) {
                size_t end = (s->ring_start + s->ring_len) % CONSOLE_SCROLLBACK;
                size_t chunk = MIN(n, CONSOLE_SCROLLBACK - end);

                /* When full, what is overwritten is the oldest. */
                memcpy(s->ring + end, buf, chunk);
                s->ring_len += chunk;
                if (s->ring_len > CONSOLE_SCROLLBACK) {
                        s->ring_start = (s->ring_start + s->ring_len - CONSOLE_SCROLLBACK) % CONSOLE_SCROLLBACK;
                        s->ring_len = CONSOLE_SCROLLBACK;
                }
                buf += chunk;
                n -= chunk;
        }
}

static void client_free(Client *c) {
        ConsoleServer *s = c->server;

        for (Client **p = &s->clients; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        break;
                }
        if (s->writer == c)
                s->writer = NULL;
        sd_event_source_disable_unref(c->src);
        safe_close(c->fd);
        free(c->out);
        free(c);
}

/* Sends what can go now; the rest waits for EPOLLOUT. < 0: drop the client. */
static int client_flush(Client *c) {
        while (c->out_len > 0) {
                ssize_t k = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);

                if (k < 0 && (errno == EAGAIN || errno == EINTR))
                        break;
                if (k < 0)
                        return -errno;
                memmove(c->out, c->out + k, c->out_len - (size_t) k);
                c->out_len -= (size_t) k;
        }
        return sd_event_source_set_io_events(c->src, EPOLLIN | (c->out_len > 0 ? EPOLLOUT : 0));
}

static int client_queue(Client *c, const void *data, size_t n) {
        char *p;

        if (c->out_len + n > CLIENT_BACKLOG_MAX)
                return -ENOBUFS;
        p = realloc(c->out, c->out_len + n);
        if (!p)
                return -ENOMEM;
        c->out = p;
        memcpy(c->out + c->out_len, data, n);
        c->out_len += n;
        return 0;
}

static void broadcast(ConsoleServer *s, const char *buf, size_t n) {
        Client *next;

        for (Client *c = s->clients; c; c = next) {
                next = c->next;
                if (!c->accepted)
                        continue;
                if (client_queue(c, buf, n) < 0 || client_flush(c) < 0) {
                        log_debug("Dropping console client %d: it does not keep up.", (int) c->pid);
                        client_free(c);
                }
        }
}

static void shovel(ConsoleServer *s) {
        bool progress;

        do {
                progress = false;
                if (s->master_readable) {
                        char buf[4096];
                        ssize_t k = read(s->master, buf, sizeof buf);

                        /* EAGAIN, or EIO while nobody in the machine holds its
                         * console open: wait for the next edge. */
                        if (k <= 0)
                                s->master_readable = false;
                        else {
                                ring_append(s, buf, (size_t) k);
                                broadcast(s, buf, (size_t) k);
                                progress = true;
                        }
                }
                if (s->pending_len > 0 && s->master_writable) {
                        ssize_t k = write(s->master, s->pending, s->pending_len);

                        if (k < 0 && (errno == EAGAIN || errno == EINTR || errno == EIO))
                                s->master_writable = false;
                        else if (k < 0)
                                s->pending_len = 0;
                        else {
                                memmove(s->pending, s->pending + k, s->pending_len - (size_t) k);
                                s->pending_len -= (size_t) k;
                                progress = true;
                        }
                }
        } while (progress);
}

static int on_master(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        ConsoleServer *s = userdata;

        if (revents & (EPOLLIN | EPOLLHUP))
                s->master_readable = true;
        if (revents & EPOLLOUT)
                s->master_writable = true;
        shovel(s);
        return 0;
}

static void handle_frame(ConsoleServer *s, Client *c, const ConsoleFrameHeader *h, const char *data) {
        if (c != s->writer)
                return; /* read-only: output only */
        if (h->type == CONSOLE_FRAME_INPUT) {
                size_t n = MIN((size_t) h->len, INPUT_PENDING_MAX - s->pending_len);

                /* More than a pty takes in one go while the machine is busy:
                 * the excess is lost, as on a serial line. */
                memcpy(s->pending + s->pending_len, data, n);
                s->pending_len += n;
                shovel(s);
        } else if (h->type == CONSOLE_FRAME_WINSIZE && h->len == 4) {
                struct winsize ws = {};
                uint16_t v[2];

                memcpy(v, data, sizeof v);
                ws.ws_row = v[0];
                ws.ws_col = v[1];
                if (ws.ws_row > 0 && ws.ws_col > 0)
                        (void) ioctl(s->master, TIOCSWINSZ, &ws);
        }
}

static int client_accept_hello(ConsoleServer *s, Client *c) {
        ConsoleHello hello;
        ConsoleReply reply = { .magic = CONSOLE_MAGIC, .status = CONSOLE_STATUS_OK };

        memcpy(&hello, c->in, sizeof hello);
        memmove(c->in, c->in + sizeof hello, c->in_len - sizeof hello);
        c->in_len -= sizeof hello;
        if (hello.magic != CONSOLE_MAGIC || hello.read_only > 1) {
                reply.status = CONSOLE_STATUS_REFUSED;
                (void) send(c->fd, &reply, sizeof reply, MSG_NOSIGNAL | MSG_DONTWAIT);
                return -EBADMSG;
        }
        c->read_only = hello.read_only;
        if (!c->read_only && s->writer) {
                reply.status = CONSOLE_STATUS_BUSY;
                reply.pid = (int32_t) s->writer->pid;
                (void) send(c->fd, &reply, sizeof reply, MSG_NOSIGNAL | MSG_DONTWAIT);
                return -EBUSY;
        }
        if (client_queue(c, &reply, sizeof reply) < 0)
                return -ENOMEM;
        /* The scroll-back first, oldest byte first. */
        size_t first = MIN(s->ring_len, CONSOLE_SCROLLBACK - s->ring_start);
        if (client_queue(c, s->ring + s->ring_start, first) < 0 ||
            client_queue(c, s->ring, s->ring_len - first) < 0)
                return -ENOMEM;
        c->accepted = true;
        if (!c->read_only) {
                s->writer = c;
                if (hello.rows > 0 && hello.cols > 0) {
                        struct winsize ws = { .ws_row = hello.rows, .ws_col = hello.cols };
                        (void) ioctl(s->master, TIOCSWINSZ, &ws);
                }
        }
        return client_flush(c);
}

static int on_client(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        Client *c = userdata;
        ConsoleServer *s = c->server;
        ssize_t k;

        if (revents & EPOLLOUT && client_flush(c) < 0)
                goto drop;
        if (!(revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                return 0;
        k = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, MSG_DONTWAIT);
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (k <= 0)
                goto drop;
        c->in_len += (size_t) k;

        if (!c->accepted) {
                if (c->in_len < sizeof(ConsoleHello))
                        return 0;
                if (client_accept_hello(s, c) < 0)
                        goto drop;
        }
        for (;;) {
                ConsoleFrameHeader h;
                size_t total;

                if (c->in_len < sizeof h)
                        break;
                memcpy(&h, c->in, sizeof h);
                if (h.len > CONSOLE_FRAME_MAX)
                        goto drop;
                total = sizeof h + h.len;
                if (c->in_len < total)
                        break;
                handle_frame(s, c, &h, c->in + sizeof h);
                memmove(c->in, c->in + total, c->in_len - total);
                c->in_len -= total;
        }
        return 0;
drop:
        client_free(c);
        return 0;
}

static int on_listen(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        ConsoleServer *s = userdata;
        struct ucred cred = {};
        socklen_t len = sizeof cred;
        _cleanup_close_ int cfd = -EBADF;
        Client *c;
        int r;

        cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (cfd < 0)
                return 0;
        /* The socket is root's, 0600; be sure anyway. */
        if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != 0)
                return 0;
        c = calloc(1, sizeof *c);
        if (!c)
                return 0;
        c->server = s;
        c->pid = cred.pid;
        c->fd = TAKE_FD(cfd);
        r = sd_event_add_io(s->event, &c->src, c->fd, EPOLLIN, on_client, c);
        if (r < 0) {
                safe_close(c->fd);
                free(c);
                return 0;
        }
        c->next = s->clients;
        s->clients = c;
        return 0;
}

static int listen_on(const char *path, int *ret) {
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        (void) unlink(path);
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return -errno;
        if (chmod(path, 0600) < 0 || listen(fd, 16) < 0) {
                int r = -errno;
                (void) unlink(path);
                return r;
        }
        *ret = TAKE_FD(fd);
        return 0;
}

int console_server_new(sd_event *e, int master, const char *machine_name, ConsoleServer **ret) {
        _cleanup_(console_server_freep) ConsoleServer *s = NULL;
        _cleanup_free_ char *dir = NULL;
        int r;

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(e);
        s->master = master;
        s->listen_fd = -EBADF;
        s->master_readable = s->master_writable = true;

        r = runtime_dir_make("consoles", &dir);
        if (r < 0)
                return r;
        /* Only root may attach, whatever the runtime directory's mode. */
        if (chmod(dir, 0700) < 0)
                return -errno;
        s->path = console_socket_path(machine_name);
        if (!s->path)
                return -ENOMEM;
        r = listen_on(s->path, &s->listen_fd);
        if (r < 0) {
                free(s->path);
                s->path = NULL;
                return r;
        }
        r = fd_nonblock(master, true);
        if (r < 0)
                return r;
        r = sd_event_add_io(e, &s->master_src, master, EPOLLIN | EPOLLOUT | EPOLLET, on_master, s);
        if (r < 0)
                return r;
        r = sd_event_add_io(e, &s->listen_src, s->listen_fd, EPOLLIN, on_listen, s);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

ConsoleServer *console_server_free(ConsoleServer *s) {
        if (!s)
                return NULL;
        /* The machine's last words go to whoever is still attached. */
        if (s->master_src) {
                s->master_readable = true;
                shovel(s);
        }
        while (s->clients) {
                Client *c = s->clients;

                if (c->accepted)
                        (void) client_flush(c); /* best effort: a slow reader loses the end */
                client_free(c);
        }
        sd_event_source_disable_unref(s->master_src);
        sd_event_source_disable_unref(s->listen_src);
        safe_close(s->listen_fd);
        if (s->path)
                (void) unlink(s->path);
        free(s->path);
        sd_event_unref(s->event);
        free(s);
        return NULL;
}
