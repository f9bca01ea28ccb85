/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "netlink-util.h"
#include "network-guard.h"
#include "util.h"

#define GUARD_GIVE_UP_USEC (30 * UINT64_C(1000000))
#define GUARD_POLL_USEC (100 * UINT64_C(1000))

enum {
        GUARD_WATCH = 'w', /* + int ifindex */
        GUARD_DONE = 'd',
};

/* After boxctl's death: wait for our port to go, then remove the bridge if
 * no port is left. The order matters: of several machines whose ports vanish
 * one after the other, the guard of the last sees them all gone. */
static void guard_cleanup(const char *zone, int ifindex) {
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + GUARD_GIVE_UP_USEC;

        for (;;) {
                bool gone = false;
                int r;

                if (ifindex > 0) {
                        _cleanup_mnl_socket_ struct mnl_socket *nl = NULL;
                        NetlinkLink l;

                        gone = netlink_open(&nl) >= 0 && netlink_get_link(nl, ifindex, NULL, &l) == -ENODEV;
                }
                r = network_zone_remove_if_empty(zone);
                if (r != 0 || gone || now_usec(CLOCK_MONOTONIC) > deadline)
                        return;
                (void) usleep(GUARD_POLL_USEC);
        }
}

static _noreturn_ void guard_main(const char *zone, int parent_pidfd, int sock) {
        struct pollfd p[2] = {
                { .fd = sock, .events = POLLIN },
                { .fd = parent_pidfd, .events = POLLIN },
        };
        int ifindex = 0;

        for (;;) {
                char msg[1 + sizeof(int)];
                ssize_t n;

                if (poll(p, parent_pidfd >= 0 ? 2 : 1, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                /* The socket first: "done" and then a normal exit make both readable. */
                if (p[0].revents) {
                        n = recv(sock, msg, sizeof msg, MSG_DONTWAIT);
                        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (n > 0 && msg[0] == GUARD_DONE)
                                _exit(EXIT_SUCCESS);
                        if (n == (ssize_t) sizeof msg && msg[0] == GUARD_WATCH) {
                                memcpy(&ifindex, msg + 1, sizeof ifindex);
                                continue;
                        }
                        if (n <= 0)
                                break; /* EOF: boxctl is gone */
                        continue;
                }
                if (p[1].revents)
                        break; /* boxctl died (the socket may live on in a child of it) */
        }
        guard_cleanup(zone, ifindex);
        _exit(EXIT_SUCCESS);
}

int network_guard_start(const NetworkRequest *req, NetworkGuard *ret) {
        _cleanup_close_pair_ int pair[2] = { -EBADF, -EBADF };
        _cleanup_close_ int pidfd = -EBADF;
        char zone[NETWORK_ZONE_NAME_MAX + 1];
        pid_t pid;

        if (req->mode != NETWORK_ZONE) {
                *ret = NETWORK_GUARD_NULL;
                return 0;
        }
        if (!network_zone_name_is_valid(req->zone))
                return -EINVAL;
        snprintf(zone, sizeof zone, "%s", req->zone);

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return -errno;
        /* Opened here, not in the child: by then our PID might already be gone. */
        pidfd = (int) syscall(SYS_pidfd_open, getpid(), 0);
        if (pidfd < 0)
                log_debug("No pidfd for the network guard (%m); it watches its socket only.");

        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                sigset_t none;
                int null;

                pair[0] = safe_close(pair[0]);
                sigemptyset(&none);
                (void) sigprocmask(SIG_SETMASK, &none, NULL);
                /* Out of the terminal's process group (Ctrl-C is boxctl's to
                 * handle), deaf to hangups and stop requests meant for boxctl. */
                (void) setpgid(0, 0);
                (void) signal(SIGHUP, SIG_IGN);
                (void) signal(SIGINT, SIG_IGN);
                (void) signal(SIGTERM, SIG_IGN);
                (void) signal(SIGPIPE, SIG_IGN);
                (void) prctl(PR_SET_NAME, "boxctl-netguard");
                (void) chdir("/");
                /* Hold nothing of boxctl's: not its terminal or output pipes
                 * (someone may wait for their EOF), not its sockets or locks. */
                null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (null >= 0) {
                        (void) dup2(null, STDIN_FILENO);
                        (void) dup2(null, STDOUT_FILENO);
                        (void) dup2(null, STDERR_FILENO);
                        if (null > STDERR_FILENO)
                                safe_close(null);
                }
                close_all_fds_but(pidfd, pair[1]);
                guard_main(zone, pidfd, pair[1]);
        }
        pair[1] = safe_close(pair[1]);
        *ret = (NetworkGuard) { .pid = pid, .fd = TAKE_FD(pair[0]) };
        return 0;
}

int network_guard_watch(NetworkGuard *g, const NetworkLink *link) {
        char msg[1 + sizeof(int)] = { GUARD_WATCH };
        int ifindex = network_host_ifindex(link);

        if (g->pid <= 0 || g->fd < 0)
                return 0;
        memcpy(msg + 1, &ifindex, sizeof ifindex);
        if (send(g->fd, msg, sizeof msg, MSG_NOSIGNAL) < 0)
                return -errno;
        return 0;
}

int network_guard_done(NetworkGuard *g) {
        char msg = GUARD_DONE;
        int r = 0;

        if (g->pid <= 0) {
                g->fd = safe_close(g->fd);
                return 0;
        }
        if (send(g->fd, &msg, 1, MSG_NOSIGNAL) < 0)
                r = -errno; /* it died already; reap it all the same */
        g->fd = safe_close(g->fd);
        while (waitpid(g->pid, NULL, 0) < 0)
                if (errno != EINTR) {
                        if (r >= 0)
                                r = -errno;
                        break;
                }
        *g = NETWORK_GUARD_NULL;
        return r;
}
