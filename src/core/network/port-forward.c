/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"
#include "port-forward.h"
#include "util.h"

#define BUFFER_SIZE (64 * 1024)
/* Beyond these we stop accepting (TCP) or drop new clients' datagrams (UDP)
 * until some go: a flood must not take all of boxctl's file descriptors. */
#define MAX_CONNECTIONS 1024
#define MAX_SESSIONS 1024
/* Work done per wake-up before the event loop gets a say again. */
#define BATCH 64

typedef union SockaddrUnion {
        struct sockaddr sa;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
        struct sockaddr_storage storage;
} SockaddrUnion;

typedef struct Direction {
        char buf[BUFFER_SIZE];
        size_t start, end; /* the bytes waiting are buf[start..end) */
        bool eof;          /* the reading side said EOF */
        bool shut;         /* ...and we passed it on with shutdown(SHUT_WR) */
} Direction;

typedef struct Connection Connection;
typedef struct UdpSession UdpSession;

struct PortForward {
        sd_event *event;
        PortSpec spec;
        struct sockaddr_in guest;
        int listen_fd;
        int family; /* of the listening socket */
        sd_event_source *listen_source;
        sd_event_source *resume_timer;
        bool accept_paused;
        Connection *connections;
        size_t n_connections;
        UdpSession *sessions;
        size_t n_sessions;
        uint64_t udp_idle_usec;
        char *udp_buf;
};

struct Connection {
        PortForward *forward;
        Connection *prev, *next;
        int fd[2]; /* [0] the client, [1] the guest */
        sd_event_source *source[2];
        bool connecting;
        Direction dir[2]; /* dir[i] carries what fd[i] sends to fd[!i] */
};

struct UdpSession {
        PortForward *forward;
        UdpSession *prev, *next;
        SockaddrUnion client;
        socklen_t client_len;
        /* Where the client sent to, so replies leave from that address. */
        bool has_local;
        union {
                struct in6_pktinfo in6;
                struct in_pktinfo in;
        } local;
        int fd; /* connected to the guest */
        sd_event_source *io, *timer;
};

#define LIST_PREPEND(head, item)                 \
        do {                                     \
                (item)->next = (head);           \
                if (head)                        \
                        (head)->prev = (item);   \
                (item)->prev = NULL;             \
                (head) = (item);                 \
        } while (0)

#define LIST_REMOVE(head, item)                           \
        do {                                              \
                if ((item)->next)                         \
                        (item)->next->prev = (item)->prev; \
                if ((item)->prev)                         \
                        (item)->prev->next = (item)->next; \
                else                                      \
                        (head) = (item)->next;            \
                (item)->next = (item)->prev = NULL;       \
        } while (0)

static int parse_port(const char *s, uint16_t *ret) {
        unsigned v;
        int r;

        if (isempty(s) || strspn(s, "0123456789") != strlen(s))
                return -EINVAL;
        r = parse_uint(s, &v);
        if (r == -ERANGE)
                return -ERANGE;
        if (r < 0)
                return -EINVAL;
        if (v < 1 || v > 65535)
                return -ERANGE;
        *ret = (uint16_t) v;
        return 0;
}

int port_spec_parse(const char *s, PortSpec *ret) {
        PortSpec spec = { .protocol = IPPROTO_TCP };
        _cleanup_free_ char *copy = NULL;
        char *host, *machine;
        int r;

        if (isempty(s))
                return -EINVAL;
        copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        host = copy;
        /* A protocol is there when the first field is not a number. */
        if (host[0] < '0' || host[0] > '9') {
                char *colon = strchr(host, ':');

                if (!colon)
                        return -EINVAL;
                *colon = '\0';
                if (streq(host, "tcp"))
                        spec.protocol = IPPROTO_TCP;
                else if (streq(host, "udp"))
                        spec.protocol = IPPROTO_UDP;
                else
                        return -EPROTONOSUPPORT;
                host = colon + 1;
        }
        machine = strchr(host, ':');
        if (machine)
                *machine++ = '\0';
        r = parse_port(host, &spec.host_port);
        if (r < 0)
                return r;
        if (machine) {
                if (strchr(machine, ':'))
                        return -EINVAL;
                r = parse_port(machine, &spec.machine_port);
                if (r < 0)
                        return r;
        } else
                spec.machine_port = spec.host_port;
        *ret = spec;
        return 0;
}

const char *port_protocol_to_string(int protocol) {
        return protocol == IPPROTO_TCP ? "tcp" : protocol == IPPROTO_UDP ? "udp" : NULL;
}

static void resume_accepting(PortForward *f) {
        if (f->accept_paused) {
                f->accept_paused = false;
                (void) sd_event_source_set_enabled(f->resume_timer, SD_EVENT_OFF);
                (void) sd_event_source_set_enabled(f->listen_source, SD_EVENT_ON);
        }
}

static int on_resume_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        resume_accepting(userdata);
        return 0;
}

/* The listener is level-triggered: while we cannot take a connection it would
 * wake us for ever. Resume when a connection goes, or in a second at the
 * latest (the shortage may be elsewhere in boxctl). */
static void pause_accepting(PortForward *f) {
        uint64_t now;

        f->accept_paused = true;
        (void) sd_event_source_set_enabled(f->listen_source, SD_EVENT_OFF);
        if (sd_event_now(f->event, CLOCK_MONOTONIC, &now) < 0)
                return;
        if (!f->resume_timer) {
                if (sd_event_add_time(f->event, &f->resume_timer, CLOCK_MONOTONIC, now + 1000000, 0,
                                      on_resume_timer, f) < 0)
                        return;
        } else
                (void) sd_event_source_set_time(f->resume_timer, now + 1000000);
        (void) sd_event_source_set_enabled(f->resume_timer, SD_EVENT_ONESHOT);
}

/* --- TCP --- */

static void connection_free(Connection *c, bool reset) {
        PortForward *f;

        if (!c)
                return;
        f = c->forward;
        for (size_t i = 0; i < 2; i++) {
                c->source[i] = sd_event_source_disable_unref(c->source[i]);
                if (reset && c->fd[i] >= 0) {
                        /* An abortive close sends RST: the peer learns it failed. */
                        struct linger l = { .l_onoff = 1, .l_linger = 0 };

                        (void) setsockopt(c->fd[i], SOL_SOCKET, SO_LINGER, &l, sizeof l);
                }
                c->fd[i] = safe_close(c->fd[i]);
        }
        LIST_REMOVE(f->connections, c);
        f->n_connections--;
        free(c);
        resume_accepting(f);
}

static bool direction_has_room(const Direction *d) {
        return !d->eof && (d->end < BUFFER_SIZE || d->start > 0);
}

static bool direction_has_data(const Direction *d) {
        return d->end > d->start;
}

/* Moves what it can of one direction: one read, one write, and the EOF on
 * once everything before it went. */
static int direction_pump(Connection *c, size_t i) {
        Direction *d = &c->dir[i];
        int from = c->fd[i], to = c->fd[!i];
        bool can_write = !(i == 0 && c->connecting);
        ssize_t n;

        if (direction_has_room(d)) {
                if (d->end == BUFFER_SIZE) {
                        memmove(d->buf, d->buf + d->start, d->end - d->start);
                        d->end -= d->start;
                        d->start = 0;
                }
                n = read(from, d->buf + d->end, BUFFER_SIZE - d->end);
                if (n > 0)
                        d->end += (size_t) n;
                else if (n == 0)
                        d->eof = true;
                else if (errno != EAGAIN && errno != EINTR)
                        return -errno;
        }
        if (can_write && direction_has_data(d)) {
                n = send(to, d->buf + d->start, d->end - d->start, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n > 0) {
                        d->start += (size_t) n;
                        if (d->start == d->end)
                                d->start = d->end = 0;
                } else if (n < 0 && errno != EAGAIN && errno != EINTR)
                        return -errno;
        }
        if (can_write && d->eof && !direction_has_data(d) && !d->shut) {
                if (shutdown(to, SHUT_WR) < 0 && errno != ENOTCONN)
                        return -errno;
                d->shut = true;
        }
        return 0;
}

static int connection_update_events(Connection *c) {
        for (size_t i = 0; i < 2; i++) {
                uint32_t events = 0;
                int r;

                if (i == 1 && c->connecting)
                        events = EPOLLOUT;
                else {
                        if (direction_has_room(&c->dir[i]))
                                events |= EPOLLIN;
                        if (direction_has_data(&c->dir[!i]))
                                events |= EPOLLOUT;
                }
                /* Off rather than waiting for nothing: epoll would still report
                 * HUP on a socket we are done reading, over and over. */
                if (events == 0) {
                        r = sd_event_source_set_enabled(c->source[i], SD_EVENT_OFF);
                        if (r < 0)
                                return r;
                        continue;
                }
                r = sd_event_source_set_io_events(c->source[i], events);
                if (r >= 0)
                        r = sd_event_source_set_enabled(c->source[i], SD_EVENT_ON);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int on_connection_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Connection *c = userdata;
        int r;

        if (c->connecting && fd == c->fd[1]) {
                int error = 0;
                socklen_t len = sizeof error;

                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
                        error = errno;
                if (error != 0) {
                        log_debug("Port forward %u: cannot connect to the machine's port %u: %s",
                                  c->forward->spec.host_port, c->forward->spec.machine_port, strerror(error));
                        connection_free(c, true);
                        return 0;
                }
                if (!(revents & EPOLLOUT))
                        return 0;
                c->connecting = false;
        }

        for (size_t i = 0; i < 2; i++) {
                r = direction_pump(c, i);
                if (r < 0) {
                        log_debug_errno(r, "Port forward %u: connection ends: %m", c->forward->spec.host_port);
                        connection_free(c, true);
                        return 0;
                }
        }
        if (c->dir[0].shut && c->dir[1].shut) {
                connection_free(c, false);
                return 0;
        }
        r = connection_update_events(c);
        if (r < 0)
                connection_free(c, true);
        return 0;
}

static int connection_new(PortForward *f, int client_fd) {
        _cleanup_close_ int fd = client_fd;
        Connection *c;
        int one = 1, r;

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->forward = f;
        c->fd[0] = TAKE_FD(fd);
        c->fd[1] = -EBADF;
        LIST_PREPEND(f->connections, c);
        f->n_connections++;

        c->fd[1] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c->fd[1] < 0) {
                r = -errno;
                goto fail;
        }
        /* Latency as the two ends want it: they do their own Nagle. */
        (void) setsockopt(c->fd[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        (void) setsockopt(c->fd[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(c->fd[1], (const struct sockaddr *) &f->guest, sizeof f->guest) < 0) {
                if (errno != EINPROGRESS) {
                        r = -errno;
                        goto fail;
                }
                c->connecting = true;
        }
        for (size_t i = 0; i < 2; i++) {
                r = sd_event_add_io(f->event, &c->source[i], c->fd[i], 0, on_connection_io, c);
                if (r < 0)
                        goto fail;
        }
        r = connection_update_events(c);
        if (r < 0)
                goto fail;
        return 0;
fail:
        connection_free(c, true);
        return r;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        PortForward *f = userdata;

        for (unsigned i = 0; i < BATCH; i++) {
                int cfd, r;

                if (f->n_connections >= MAX_CONNECTIONS) {
                        pause_accepting(f);
                        return 0;
                }
                cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0) {
                        if (errno == EINTR || errno == ECONNABORTED)
                                continue;
                        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                                log_debug_errno(errno, "Port forward %u: cannot accept: %m", f->spec.host_port);
                                pause_accepting(f);
                        }
                        return 0;
                }
                r = connection_new(f, cfd);
                if (r < 0)
                        log_debug_errno(r, "Port forward %u: cannot forward a connection: %m", f->spec.host_port);
        }
        return 0;
}

/* --- UDP --- */

static UdpSession *session_free(UdpSession *u) {
        if (!u)
                return NULL;
        u->io = sd_event_source_disable_unref(u->io);
        u->timer = sd_event_source_disable_unref(u->timer);
        u->fd = safe_close(u->fd);
        LIST_REMOVE(u->forward->sessions, u);
        u->forward->n_sessions--;
        free(u);
        return NULL;
}

static void session_touch(UdpSession *u) {
        uint64_t now;

        if (sd_event_now(u->forward->event, CLOCK_MONOTONIC, &now) < 0)
                return;
        (void) sd_event_source_set_time(u->timer, now + u->forward->udp_idle_usec);
        (void) sd_event_source_set_enabled(u->timer, SD_EVENT_ONESHOT);
}

static int on_session_idle(sd_event_source *s, uint64_t usec, void *userdata) {
        session_free(userdata);
        return 0;
}

static ssize_t session_reply(UdpSession *u, const void *data, size_t size) {
        PortForward *f = u->forward;
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
        } control = {};
        struct iovec iov = { .iov_base = (void *) data, .iov_len = size };
        struct msghdr mh = {
                .msg_name = &u->client,
                .msg_namelen = u->client_len,
                .msg_iov = &iov,
                .msg_iovlen = 1,
        };
        ssize_t n;

        if (u->has_local) {
                struct cmsghdr *c;

                mh.msg_control = &control;
                if (f->family == AF_INET6) {
                        struct in6_pktinfo pi = { .ipi6_addr = u->local.in6.ipi6_addr };

                        mh.msg_controllen = CMSG_SPACE(sizeof pi);
                        c = CMSG_FIRSTHDR(&mh);
                        *c = (struct cmsghdr) { .cmsg_len = CMSG_LEN(sizeof pi), .cmsg_level = IPPROTO_IPV6,
                                                .cmsg_type = IPV6_PKTINFO };
                        memcpy(CMSG_DATA(c), &pi, sizeof pi);
                } else {
                        struct in_pktinfo pi = { .ipi_spec_dst = u->local.in.ipi_addr };

                        mh.msg_controllen = CMSG_SPACE(sizeof pi);
                        c = CMSG_FIRSTHDR(&mh);
                        *c = (struct cmsghdr) { .cmsg_len = CMSG_LEN(sizeof pi), .cmsg_level = IPPROTO_IP,
                                                .cmsg_type = IP_PKTINFO };
                        memcpy(CMSG_DATA(c), &pi, sizeof pi);
                }
        }
        n = sendmsg(f->listen_fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno == EINVAL && u->has_local) {
                /* The source address went away meanwhile: let routing pick one. */
                mh.msg_control = NULL;
                mh.msg_controllen = 0;
                n = sendmsg(f->listen_fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
        }
        return n;
}

static int on_session_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        UdpSession *u = userdata;
        PortForward *f = u->forward;

        for (unsigned i = 0; i < BATCH; i++) {
                ssize_t n = recv(fd, f->udp_buf, BUFFER_SIZE, MSG_DONTWAIT);

                if (n < 0) {
                        /* ECONNREFUSED: the guest's port is closed (an ICMP error). */
                        if (errno == EINTR || errno == ECONNREFUSED)
                                continue;
                        break;
                }
                if (session_reply(u, f->udp_buf, (size_t) n) < 0)
                        log_debug_errno(errno, "Port forward udp %u: cannot answer a client: %m", f->spec.host_port);
                session_touch(u);
        }
        return 0;
}

static UdpSession *session_find(PortForward *f, const SockaddrUnion *a, socklen_t len) {
        for (UdpSession *u = f->sessions; u; u = u->next)
                if (u->client_len == len && memcmp(&u->client, a, len) == 0)
                        return u;
        return NULL;
}

static int session_new(PortForward *f, const SockaddrUnion *client, socklen_t len, UdpSession **ret) {
        UdpSession *u;
        uint64_t now;
        int r;

        u = calloc(1, sizeof *u);
        if (!u)
                return -ENOMEM;
        u->forward = f;
        memcpy(&u->client, client, len);
        u->client_len = len;
        u->fd = -EBADF;
        LIST_PREPEND(f->sessions, u);
        f->n_sessions++;

        u->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (u->fd < 0) {
                r = -errno;
                goto fail;
        }
        if (connect(u->fd, (const struct sockaddr *) &f->guest, sizeof f->guest) < 0) {
                r = -errno;
                goto fail;
        }
        r = sd_event_add_io(f->event, &u->io, u->fd, EPOLLIN, on_session_io, u);
        if (r < 0)
                goto fail;
        r = sd_event_now(f->event, CLOCK_MONOTONIC, &now);
        if (r < 0)
                goto fail;
        r = sd_event_add_time(f->event, &u->timer, CLOCK_MONOTONIC, now + f->udp_idle_usec, 0, on_session_idle, u);
        if (r < 0)
                goto fail;
        *ret = u;
        return 0;
fail:
        session_free(u);
        return r;
}

static void session_note_local(UdpSession *u, struct msghdr *mh) {
        for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
                if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
                    c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
                        memcpy(&u->local.in6, CMSG_DATA(c), sizeof(struct in6_pktinfo));
                        u->has_local = true;
                } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
                           c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
                        memcpy(&u->local.in, CMSG_DATA(c), sizeof(struct in_pktinfo));
                        u->has_local = true;
                }
        }
}

static int on_udp_datagram(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        PortForward *f = userdata;

        for (unsigned i = 0; i < BATCH; i++) {
                union {
                        struct cmsghdr align;
                        char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo))];
                } control;
                SockaddrUnion from = {};
                struct iovec iov = { .iov_base = f->udp_buf, .iov_len = BUFFER_SIZE };
                struct msghdr mh = {
                        .msg_name = &from,
                        .msg_namelen = sizeof from,
                        .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = &control,
                        .msg_controllen = sizeof control,
                };
                UdpSession *u;
                ssize_t n;

                n = recvmsg(fd, &mh, MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                u = session_find(f, &from, mh.msg_namelen);
                if (!u) {
                        if (f->n_sessions >= MAX_SESSIONS)
                                continue; /* dropped, as a full queue would */
                        if (session_new(f, &from, mh.msg_namelen, &u) < 0)
                                continue;
                }
                session_note_local(u, &mh);
                if (send(u->fd, f->udp_buf, (size_t) n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
                        log_debug_errno(errno, "Port forward udp %u: cannot pass a datagram on: %m", f->spec.host_port);
                session_touch(u);
        }
        return 0;
}

/* --- the listener --- */

static int listen_socket(const PortSpec *spec, int *ret_fd, int *ret_family) {
        int type = spec->protocol == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
        _cleanup_close_ int fd = -EBADF;
        SockaddrUnion a = {};
        socklen_t len;
        int family = AF_INET6, zero = 0, one = 1;

        fd = socket(AF_INET6, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0 && errno == EAFNOSUPPORT) {
                /* A kernel without IPv6: IPv4 only, then. */
                family = AF_INET;
                fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        }
        if (fd < 0)
                return -errno;

        if (family == AF_INET6) {
                /* One socket for both: 127.0.0.1 comes in as ::ffff:127.0.0.1. */
                if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) < 0)
                        return -errno;
                a.in6 = (struct sockaddr_in6) { .sin6_family = AF_INET6, .sin6_port = htons(spec->host_port),
                                                .sin6_addr = in6addr_any };
                len = sizeof a.in6;
        } else {
                a.in = (struct sockaddr_in) { .sin_family = AF_INET, .sin_port = htons(spec->host_port),
                                              .sin_addr.s_addr = htonl(INADDR_ANY) };
                len = sizeof a.in;
        }
        if (type == SOCK_STREAM) {
                /* Past connections in TIME_WAIT must not block a restart; a live
                 * listener still does (EADDRINUSE), as it should. */
                if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
                        return -errno;
        } else if (family == AF_INET6) {
                if (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one) < 0)
                        return -errno;
        } else if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) < 0)
                return -errno;

        if (bind(fd, &a.sa, len) < 0)
                return -errno;
        if (type == SOCK_STREAM && listen(fd, SOMAXCONN) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        *ret_family = family;
        return 0;
}

int port_forward_new(sd_event *e, const PortSpec *spec, struct in_addr guest, PortForward **ret) {
        _cleanup_(port_forward_freep) PortForward *f = NULL;
        int r;

        if (!e || !spec || (spec->protocol != IPPROTO_TCP && spec->protocol != IPPROTO_UDP) ||
            spec->host_port == 0 || spec->machine_port == 0)
                return -EINVAL;

        f = calloc(1, sizeof *f);
        if (!f)
                return -ENOMEM;
        f->event = sd_event_ref(e);
        f->spec = *spec;
        f->listen_fd = -EBADF;
        f->udp_idle_usec = PORT_FORWARD_UDP_IDLE_USEC;
        f->guest = (struct sockaddr_in) { .sin_family = AF_INET, .sin_port = htons(spec->machine_port),
                                          .sin_addr = guest };

        r = listen_socket(spec, &f->listen_fd, &f->family);
        if (r < 0)
                return r;
        if (spec->protocol == IPPROTO_UDP) {
                f->udp_buf = malloc(BUFFER_SIZE);
                if (!f->udp_buf)
                        return -ENOMEM;
        }
        r = sd_event_add_io(e, &f->listen_source, f->listen_fd, EPOLLIN,
                            spec->protocol == IPPROTO_TCP ? on_accept : on_udp_datagram, f);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(f);
        return 0;
}

PortForward *port_forward_free(PortForward *f) {
        if (!f)
                return NULL;
        while (f->connections)
                connection_free(f->connections, false);
        while (f->sessions)
                session_free(f->sessions);
        f->listen_source = sd_event_source_disable_unref(f->listen_source);
        f->resume_timer = sd_event_source_disable_unref(f->resume_timer);
        f->listen_fd = safe_close(f->listen_fd);
        sd_event_unref(f->event);
        free(f->udp_buf);
        free(f);
        return NULL;
}

void port_forward_set_udp_idle_timeout(PortForward *f, uint64_t usec) {
        f->udp_idle_usec = usec > 0 ? usec : PORT_FORWARD_UDP_IDLE_USEC;
}

size_t port_forward_n_connections(const PortForward *f) {
        return f ? f->n_connections + f->n_sessions : 0;
}
