/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <grp.h>
#include <net/if.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "cgroup-v1.h"
#include "caps.h"
#include "console-server.h"
#include "dev-setup.h"
#include "ephemeral.h"
#include "init-watch.h"
#include "lock.h"
#include "log.h"
#include "machine.h"
#include "missing-syscall.h"
#include "mount-setup.h"
#include "mount-util.h"
#include "network-guard.h"
#include "network.h"
#include "port-forward.h"
#include "pty-forward.h"
#include "seccomp-filter.h"
#include "stub-init.h"
#include "tree.h"

/* Where a booted machine's init finds $NOTIFY_SOCKET (as systemd-nspawn puts it). */
#define GUEST_NOTIFY_SOCKET "/run/host/notify"

static const char *const machine_end_table[_MACHINE_END_MAX] = {
        [MACHINE_POWEROFF] = "poweroff",
        [MACHINE_REBOOT] = "reboot",
        [MACHINE_EXITED] = "exited",
        [MACHINE_SIGNALED] = "signaled",
        [MACHINE_KILL_TIMEOUT] = "kill-timeout",
        [MACHINE_KILL_ESCAPE] = "kill-escape",
};

const char *machine_end_to_string(MachineEnd e) {
        return e >= 0 && e < _MACHINE_END_MAX ? machine_end_table[e] : NULL;
}

/* What the payload tells the host over the sync socket. READY may carry the
 * console's pty master; EOF afterwards means init was executed. */
typedef struct SyncMessage {
        enum { SYNC_READY = 1, SYNC_ERROR } type;
        int error;
        char text[240];
} SyncMessage;

static const int handled_signals[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGWINCH };

/* ---- the payload side: runs as PID 1 of the new namespaces ---- */

static _noreturn_ _printf_(3, 4) void payload_fail(int sock, int error, const char *fmt, ...) {
        SyncMessage msg = { .type = SYNC_ERROR, .error = error < 0 ? -error : error };
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg.text, sizeof msg.text, fmt, ap);
        va_end(ap);
        (void) send(sock, &msg, sizeof msg, MSG_NOSIGNAL);
        _exit(EXIT_FAILURE);
}

static char **payload_environment(const Machine *m) {
        const Settings *s = m->settings;
        _cleanup_strv_free_ char **env = NULL;
        char uuid[37], buf[128];
        const char *term = getenv("TERM");

        id128_to_uuid(&m->id, uuid);
        snprintf(buf, sizeof buf, "container_uuid=%s", uuid);
        if (strv_push_dup(&env, "container=boxctl") < 0 || strv_push_dup(&env, buf) < 0 ||
            strv_push_dup(&env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") < 0)
                return NULL;
        snprintf(buf, sizeof buf, "TERM=%s",
                 s->console_mode == CONSOLE_INTERACTIVE && !isempty(term) && strlen(term) < 64 ? term : "vt220");
        if (strv_push_dup(&env, buf) < 0)
                return NULL;
        if (s->notify_ready && s->start_mode == START_BOOT &&
            strv_push_dup(&env, "NOTIFY_SOCKET=" GUEST_NOTIFY_SOCKET) < 0)
                return NULL;
        if (s->start_mode == START_RUN &&
            (strv_push_dup(&env, "HOME=/root") < 0 || strv_push_dup(&env, "USER=root") < 0 ||
             strv_push_dup(&env, "LOGNAME=root") < 0))
                return NULL;
        for (char **e = s->environment; e && *e; e++) {
                /* A later K=V replaces an earlier one of the same K. */
                size_t kl = strcspn(*e, "=");

                for (char **o = env; *o; o++)
                        if (strneq(*o, *e, kl) && (*o)[kl] == '=') {
                                char *d = strdup(*e);

                                if (!d)
                                        return NULL;
                                free(*o);
                                *o = d;
                                goto next;
                        }
                if (strv_push_dup(&env, *e) < 0)
                        return NULL;
        next:;
        }
        return TAKE_PTR(env);
}

static char **payload_argv(const Machine *m) {
        _cleanup_strv_free_ char **argv = NULL;

        if (m->settings->start_mode == START_RUN)
                return strv_copy(m->settings->argv);
        if (strv_push_dup(&argv, m->tree->init_path) < 0)
                return NULL;
        for (char **a = m->settings->argv; a && *a; a++)
                if (strv_push_dup(&argv, *a) < 0)
                        return NULL;
        return TAKE_PTR(argv);
}

/* In a user namespace we start as its overflow user: become its root. */
static int payload_become_root(int sock) {
        struct pollfd p = { .fd = sock, .events = POLLRDHUP };

        if (setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0 || setresuid(0, 0, 0) < 0)
                return -errno;
        /* A change of credentials clears the parent-death signal: set it
         * again, then look whether boxctl died in between (its end of the
         * socket is closed then; getppid() says 0 across a PID namespace). */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                return -errno;
        if (poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP)))
                _exit(EXIT_FAILURE);
        return 0;
}

/* A new network namespace has only lo, and down. */
static int payload_loopback_up(void) {
        struct ifreq ifr = { .ifr_name = "lo" };
        _cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -errno;
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return -errno;
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                return -errno;
        return 0;
}

/* With --console=pipe the payload gets boxctl's stdio as it is. A file or a
 * pipe of the host is what the caller meant to hand over; a directory would
 * be a directory of the host inside the machine, a way out of its root
 * (fchdir(), openat(): CVE-2024-21626). */
static void payload_check_stdio(const Machine *m, int sock) {
        if (m->settings->console_mode != CONSOLE_PIPE)
                return;
        for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
                static const char *const names[] = { "stdin", "stdout", "stderr" };
                struct stat st;

                if (fstat(fd, &st) >= 0 && S_ISDIR(st.st_mode))
                        payload_fail(sock, EISDIR,
                                     "the %s boxctl was given is a directory, which --console=pipe would hand to machine %s",
                                     names[fd], m->settings->machine_name);
        }
}

/* The machine's file system, from the mounts the host side sent. */
static int payload_build_root(const Machine *m, int sock, int tree_fd, const int *mntfds) {
        const Settings *s = m->settings;
        const char *step = NULL;
        char mid[33];
        int root_fd = -EBADF, r;

        payload_check_stdio(m, sock);
        umask(0);
        id128_to_hex(&m->id, mid);
        MountContext mc = {
                .settings = s,
                .root_path = s->root,
                .host_os_release = m->host_os_release,
                .machine_id = m->bind_machine_id ? mid : NULL,
                .tree_fd = tree_fd,
                .root_mntfd = mntfds[0],
                .bind_mntfds = mntfds + 1,
                .make_mount_points = s->ephemeral || m->image_root_fd >= 0,
        };
        r = mount_setup(&mc, &root_fd, &step);
        if (r == -ELOOP || r == -ENOTDIR)
                payload_fail(sock, r, "%s: %s in the tree is %s; it must be a directory", s->root, step,
                             r == -ELOOP ? "a symlink" : "not a directory");
        if (r < 0)
                payload_fail(sock, r, "cannot mount %s in machine %s", step, s->machine_name);
        return root_fd;
}

/* A session of our own, the console as stdio (and, for boot, as the
 * controlling terminal), then the capability and system call limits. */
static void payload_console_and_limits(const Machine *m, const SeccompProgram *filter, int sock, bool pty) {
        const Settings *s = m->settings;
        int r;

        if (setsid() < 0)
                payload_fail(sock, errno, "setsid");
        if (pty) {
                int fd = open("/dev/console", O_RDWR | O_CLOEXEC | O_NOCTTY);

                if (fd < 0)
                        payload_fail(sock, errno, "cannot open /dev/console of machine %s", s->machine_name);
                if (dup2(fd, STDIN_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
                        payload_fail(sock, errno, "cannot attach to /dev/console");
                safe_close(fd);
                /* For "run", the command's own session takes the console as its
                 * terminal (a terminal controls one session only). */
                if (s->start_mode == START_BOOT && ioctl(STDIN_FILENO, TIOCSCTTY, 0) < 0)
                        payload_fail(sock, errno, "cannot make /dev/console the controlling terminal");
        }
        r = caps_apply_bounding(s->capabilities);
        if (r < 0)
                payload_fail(sock, r, "cannot limit the capabilities of machine %s", s->machine_name);
        r = seccomp_program_install(filter);
        if (r < 0)
                payload_fail(sock, r, "cannot install the system call filter of machine %s", s->machine_name);
}

/* The supervisor's notify socket, bound over a file made in the machine's
 * own /run/host (a tmpfs), before the root is switched. */
static int payload_bind_notify(int root_fd, int socket_fd) {
        _cleanup_close_ int mfd = -EBADF, host = -EBADF, f = -EBADF;
        int r;

        r = mount_clone(socket_fd, "", false, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, &mfd);
        if (r < 0)
                return r;
        r = tree_resolve(root_fd, "/run/host", O_PATH | O_DIRECTORY, &host);
        if (r < 0)
                return r;
        f = openat(host, "notify", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (f < 0)
                return -errno;
        return mount_attach(mfd, root_fd, GUEST_NOTIFY_SOCKET);
}

/* The CLONE_NEW* types the machine joins rather than makes. */
static int ns_joined(const Settings *s) {
        int t = 0;

        for (size_t i = 0; i < s->n_ns_join; i++)
                t |= s->ns_join[i].type;
        return t;
}

static _noreturn_ void payload_main(const Machine *m, const SeccompProgram *filter, int sock, const char *notify_path) {
        const Settings *s = m->settings;
        _cleanup_close_ int root_fd = -EBADF, master = -EBADF, tree_fd = -EBADF, notify_fd = -EBADF;
        int mntfds[1 + 63];
        size_t n_mntfds = ELEMENTSOF(mntfds);
        char go;
        const char *hostname = s->hostname ?: s->machine_name;
        /* A UTS namespace not its own keeps its name unless one is asked for. */
        bool set_hostname = s->hostname || !((s->ns_shared | ns_joined(s)) & CLONE_NEWUTS);
        char **argv, **envp;
        bool pty = s->console_mode != CONSOLE_PIPE;
        size_t failed;
        int r;

        /* Die with boxctl: a machine nobody supervises would be left behind. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                _exit(EXIT_FAILURE);
        /* The host has work to do first (uid maps, the mounts of the tree and
         * the binds, network links): "go" brings those mounts. If boxctl died
         * before the prctl(), this ends with EOF. */
        if (recv_fds_with_data(sock, mntfds, &n_mntfds, &go, 1) != 1 || n_mntfds != 1 + s->n_binds)
                _exit(EXIT_FAILURE);
        /* The tree's top in our own mount namespace (the host's fd is of another
         * one), opened while our file system UID is still the host's root: as
         * root of a user namespace we might not get through the directories
         * above it any more. */
        tree_fd = open(m->attach_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (tree_fd < 0)
                payload_fail(sock, errno, "cannot open %s", m->attach_path);
        /* Likewise the notify socket, whose directory is root's alone. */
        if (notify_path) {
                notify_fd = open(notify_path, O_PATH | O_CLOEXEC | O_NOFOLLOW);
                if (notify_fd < 0)
                        payload_fail(sock, errno, "cannot open the notify socket %s", notify_path);
        }
        if (m->uid_range && payload_become_root(sock) < 0)
                payload_fail(sock, errno, "cannot become root in the user namespace of machine %s", s->machine_name);

        if (s->private_network && payload_loopback_up() < 0)
                payload_fail(sock, errno, "cannot bring up lo in machine %s", s->machine_name);

        root_fd = payload_build_root(m, sock, tree_fd, mntfds);
        if (notify_fd >= 0) {
                r = payload_bind_notify(root_fd, notify_fd);
                if (r < 0)
                        payload_fail(sock, r, "cannot bind the notify socket into machine %s at %s", s->machine_name,
                                     GUEST_NOTIFY_SOCKET);
        }

        r = dev_setup_nodes(root_fd, s->device_nodes, s->n_device_nodes, &failed);
        if (r < 0)
                payload_fail(sock, r, "cannot make device node %s in machine %s: %s", s->device_nodes[failed].path,
                             s->machine_name, strerror(-r));

        if (pty) {
                r = dev_setup_console(root_fd, &master);
                if (r < 0)
                        payload_fail(sock, r, "cannot set up the console of machine %s", s->machine_name);
        }
        SyncMessage ready = { .type = SYNC_READY };
        r = send_fd_with_data(sock, master, &ready, sizeof ready);
        if (r < 0)
                _exit(EXIT_FAILURE);
        master = safe_close(master);

        if (m->payload_before_pivot) {
                char error[200] = "";

                r = m->payload_before_pivot(m, m->payload_userdata, error, sizeof error);
                if (r < 0)
                        payload_fail(sock, r, "%s", error);
        }
        r = mount_switch_root(root_fd);
        if (r < 0)
                payload_fail(sock, r, "cannot switch to the root of machine %s", s->machine_name);
        if (set_hostname && sethostname(hostname, strlen(hostname)) < 0)
                payload_fail(sock, errno, "cannot set hostname %s", hostname);

        payload_console_and_limits(m, filter, sock, pty);

        argv = payload_argv(m);
        envp = payload_environment(m);
        if (!argv || !envp)
                payload_fail(sock, ENOMEM, "out of memory");
        umask(0022);
        signals_reset_all();
        /* Nothing of the caller's goes in but stdio (and the fds it asked
         * to pass on): an fd it left open (without O_CLOEXEC) would be a
         * way out of the machine. */
        close_all_fds_from_except(3 + (int) m->payload_pass_fds,
                                  (const int[]) { sock, m->payload_keep_fd, m->payload_keep_fd2 }, 3);
        fds_pass_on(m->payload_pass_fds);
        if (m->payload_before_exec) {
                char error[200] = "";

                r = m->payload_before_exec(m, m->payload_userdata, error, sizeof error);
                if (r < 0)
                        payload_fail(sock, r, "%s", error);
        }
        if (m->payload_wait_start) {
                /* Created: our caller returns now and its start comes later,
                 * from another process. */
                if (prctl(PR_SET_PDEATHSIG, 0) < 0)
                        payload_fail(sock, errno, "cannot detach machine %s from its creator", s->machine_name);
                sock = safe_close(sock);
                if (m->payload_wait_start(m, m->payload_userdata, &sock) < 0)
                        _exit(EXIT_FAILURE);
                /* sock is now the fd that tells the start the process was
                 * executed: the stub's copy closes after its fork, the
                 * process's own at its execve(). */
        }

        if (s->start_mode == START_RUN && ((s->ns_shared | ns_joined(s)) & CLONE_NEWPID))
                stub_init_exec(argv, envp, pty);
        if (s->start_mode == START_RUN)
                stub_init_run(argv, envp, pty, sock, m->payload_pass_fds);
        execve(argv[0], argv, envp);
        payload_fail(sock, errno, "cannot execute %s in machine %s", argv[0], s->machine_name);
}

/* ---- the host side ---- */

typedef struct Run {
        Machine *machine;
        sd_event *event;
        pid_t leader;
        int pidfd;
        PtyForward *forward;
        ConsoleServer *console;      /* CONSOLE_BACKGROUND: served to "boxctl console" */
        int notify_fd;               /* the guest's $NOTIFY_SOCKET, or -EBADF */
        char *notify_path;
        sd_event_source *notify_src;
        InitWatch *init_watch;       /* an init that says nothing: its first child's end */
        bool ready_reported;
        sd_event_source *kill_timer;
        bool poweroff_requested, killed_by_timeout, killed_by_escape;
        MachineResult result;
        NetworkLink link;
        NetworkGuard guard;
        PortForward *forwards[64];
        size_t n_forwards;
} Run;

/* ---- what the supervisor tells its own manager on $NOTIFY_SOCKET: the
 * parent of a background start, or systemd (boot --notify-ready) ---- */

static void run_report_running(Run *run) {
        const Settings *s = run->machine->settings;

        if (s->notify_ready)
                (void) sd_notifyf(false, "STATUS=Machine %s is running.\nX_BOXCTL_STATE=running", s->machine_name);
}

static void run_report_ready(Run *run) {
        const Settings *s = run->machine->settings;

        if (!s->notify_ready || run->ready_reported)
                return;
        run->ready_reported = true;
        (void) sd_notifyf(false, "READY=1\nSTATUS=Machine %s is ready.\nX_BOXCTL_STATE=ready", s->machine_name);
}

static void on_init_done(InitWatch *w, void *userdata) {
        Run *run = userdata;

        run->init_watch = init_watch_free(run->init_watch);
        run_report_ready(run);
}

/* The guest's datagrams: READY=1 is all we listen for. Any fds they bring
 * are closed. */
static int on_guest_notify(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        Run *run = userdata;

        for (;;) {
                char buf[4096], control[CMSG_SPACE(sizeof(int) * 16)];
                struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf - 1 };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
                ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return 0;
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                                for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++)
                                        safe_close(((int *) CMSG_DATA(c))[i]);
                buf[n] = '\0';
                for (char *line = buf, *next; line && *line; line = next) {
                        next = strchr(line, '\n');
                        if (next)
                                *next++ = '\0';
                        if (streq(line, "READY=1"))
                                run_report_ready(run);
                }
        }
}

/* RUNTIME_DIR/notify/NAME: a datagram socket the payload binds into the
 * machine at GUEST_NOTIFY_SOCKET. The socket is writable by all, as the
 * machine's root may be an unprivileged user of the host (-U); its directory
 * is root's alone, so that no user of the host can reach it by its path and
 * say READY=1 for a machine (the bind mount inside does not go through it). */
static int guest_notify_open(Run *run) {
        const Settings *s = run->machine->settings;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_free_ char *dir = NULL, *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = runtime_dir_make("notify", &dir);
        if (r < 0)
                return r;
        if (chmod(dir, 0700) < 0)
                return -errno;
        path = strjoin3(dir, "/", s->machine_name);
        if (!path)
                return -ENOMEM;
        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        (void) unlink(path);
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return -errno;
        if (chmod(path, 0666) < 0) {
                r = -errno;
                (void) unlink(path);
                return r;
        }
        run->notify_fd = TAKE_FD(fd);
        run->notify_path = TAKE_PTR(path);
        return 0;
}

static void guest_notify_close(Run *run) {
        run->notify_src = sd_event_source_disable_unref(run->notify_src);
        run->notify_fd = safe_close(run->notify_fd);
        if (run->notify_path)
                (void) unlink(run->notify_path);
        free(run->notify_path);
        run->notify_path = NULL;
        run->init_watch = init_watch_free(run->init_watch);
}

static void run_kill(Run *run) {
        if (sys_pidfd_send_signal(run->pidfd, SIGKILL) < 0 && errno != ESRCH)
                log_debug("Could not kill machine %s: %m", run->machine->settings->machine_name);
}

static int on_kill_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Run *run = userdata;

        run->killed_by_timeout = true;
        run_kill(run);
        return 0;
}

static int on_terminate(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Run *run = userdata;
        Machine *m = run->machine;
        int r;

        if (run->poweroff_requested) {
                /* Asked twice: stop waiting. */
                run_kill(run);
                return 0;
        }
        run->poweroff_requested = true;
        r = init_request_power(m->init_kind, run->leader, run->pidfd, POWER_OFF);
        if (r < 0) {
                log_debug_errno(r, "Cannot ask %s init to power off (%m), killing it.",
                                init_kind_to_string(m->init_kind));
                run->killed_by_timeout = true;
                run_kill(run);
                return 0;
        }
        r = sd_event_add_time_relative(run->event, &run->kill_timer, CLOCK_MONOTONIC,
                                       m->settings->kill_timeout_usec, 0, on_kill_timeout, run);
        if (r < 0)
                run_kill(run);
        return 0;
}

static int on_winch(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Run *run = userdata;

        if (run->forward)
                pty_forward_resize(run->forward);
        return 0;
}

static void on_escape(PtyForward *f, void *userdata) {
        Run *run = userdata;

        run->killed_by_escape = true;
        run_kill(run);
}

static int on_leader_exit(sd_event_source *s, const siginfo_t *si, void *userdata) {
        Run *run = userdata;
        MachineResult *res = &run->result;

        if (si->si_code == CLD_EXITED) {
                res->status = si->si_status;
                res->end = si->si_status == 0 ? MACHINE_POWEROFF : MACHINE_EXITED;
        } else if (si->si_status == SIGINT) {
                /* reboot(2) in a PID namespace: POWER_OFF and HALT end its init by SIGINT... */
                res->end = MACHINE_POWEROFF;
                res->status = 0;
        } else if (si->si_status == SIGHUP) {
                /* ...and RESTART by SIGHUP. */
                res->end = MACHINE_REBOOT;
                res->status = 0;
        } else {
                res->end = run->killed_by_escape    ? MACHINE_KILL_ESCAPE
                           : run->killed_by_timeout ? MACHINE_KILL_TIMEOUT
                                                    : MACHINE_SIGNALED;
                res->status = 128 + si->si_status;
        }
        return sd_event_exit(run->event, 0);
}

static int run_event_loop(Run *run, int master) {
        Machine *m = run->machine;
        int r;

        for (size_t i = 1; i < ELEMENTSOF(handled_signals); i++) {
                int sig = handled_signals[i];

                r = sd_event_add_signal(run->event, NULL, sig, sig == SIGWINCH ? on_winch : on_terminate, run);
                if (r < 0)
                        return r;
        }
        r = sd_event_add_child_pidfd(run->event, NULL, run->pidfd, WEXITED, on_leader_exit, run);
        if (r < 0)
                return r;
        if (master >= 0 && m->settings->console_mode == CONSOLE_BACKGROUND) {
                r = console_server_new(run->event, master, m->settings->machine_name, &run->console);
                if (r < 0)
                        return r;
        } else if (master >= 0) {
                r = pty_forward_new(run->event, master, m->settings->console_mode, on_escape, run,
                                    &run->forward);
                if (r < 0)
                        return r;
        }
        if (run->notify_fd >= 0) {
                r = sd_event_add_io(run->event, &run->notify_src, run->notify_fd, EPOLLIN, on_guest_notify, run);
                if (r < 0)
                        return r;
        }
        /* Init runs, and its console can be attached to. */
        run_report_running(run);
        /* An init that says nothing, and no watch of it: running is all we can know. */
        if (m->init_kind != INIT_SYSTEMD && !run->init_watch)
                run_report_ready(run);
        return sd_event_loop(run->event);
}

int machine_wait_for_payload(int sock, int *ret_master, char **ret_error) {
        bool ready = false;

        for (;;) {
                /* Any message may carry an fd, even an empty or malformed
                 * one: closed on every way out but READY's. */
                _cleanup_close_ int fd = -EBADF;
                SyncMessage msg;
                ssize_t n;

                n = recv_fd_with_data(sock, &fd, &msg, sizeof msg);
                if (n < 0)
                        return (int) n;
                if (n == 0) {
                        if (ready)
                                return 1;
                        *ret_error = strdup("the machine's payload died while it was being set up");
                        return -ECHILD;
                }
                if ((size_t) n != sizeof msg)
                        return -EBADMSG;
                if (msg.type == SYNC_READY) {
                        ready = true;
                        safe_close(*ret_master);
                        *ret_master = TAKE_FD(fd);
                        continue;
                }
                msg.text[sizeof msg.text - 1] = '\0';
                *ret_error = strdup(msg.text);
                /* An errno, else EIO: never 0 or more, which would read as
                 * success, nor -INT_MIN. */
                return msg.error > 0 && msg.error < 4096 ? -msg.error : -EIO;
        }
}

static void close_fds(int *fds, size_t n) {
        for (size_t i = 0; i < n; i++)
                fds[i] = safe_close(fds[i]);
}

/* The tree's mount and the binds' mounts, made here on the host side, where
 * idmapping them is allowed, then handed to the payload. */
static int host_make_mounts(Machine *m, pid_t leader, int *fds, char **ret_error) {
        const Settings *s = m->settings;
        _cleanup_close_ int userns_fd = -EBADF;
        int r;

        if (m->uid_range) {
                char path[64];

                snprintf(path, sizeof path, "/proc/%d/ns/user", (int) leader);
                userns_fd = open(path, O_RDONLY | O_CLOEXEC);
                if (userns_fd < 0)
                        return -errno;
        }
        if (s->ephemeral) {
                _cleanup_close_ int lower = -EBADF;

                /* In a user namespace the lower layer is what gets idmapped (an
                 * overlay mount itself cannot be); the upper layer then gets the
                 * owners the machine's root writes. */
                if (m->idmap_root) {
                        r = m->image_root_fd >= 0 ? mount_clone(m->image_root_fd, "", true, MOUNT_ATTR_RDONLY, &lower)
                                                  : mount_clone(AT_FDCWD, s->root, true, MOUNT_ATTR_RDONLY, &lower);
                        if (r >= 0)
                                r = mount_set_idmap(lower, userns_fd, true);
                        if (r < 0)
                                return asprintf(ret_error, "%s: cannot make an idmapped mount of the tree", s->root) < 0 ? -ENOMEM : r;
                }
                /* A fresh overlay each boot: a reboot starts from the pristine tree too. */
                r = ephemeral_overlay(lower >= 0 ? lower : m->image_root_fd >= 0 ? m->image_root_fd : m->tree->fd,
                                      m->uid_range ? (uid_t) m->uid_range->base : 0, &fds[0]);
                if (r < 0)
                        return asprintf(ret_error, "%s: cannot make the ephemeral overlay over it", s->root) < 0 ? -ENOMEM : r;
                if (s->read_only) {
                        struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY };

                        if (mount_setattr(fds[0], "", AT_EMPTY_PATH, &a, sizeof a) < 0)
                                return -errno;
                }
        } else if (m->image_root_fd >= 0) {
                /* A fresh copy of the image's assembled tree each boot. */
                r = mount_clone(m->image_root_fd, "", true, s->read_only ? MOUNT_ATTR_RDONLY : 0, &fds[0]);
                if (r < 0)
                        return asprintf(ret_error, "%s: cannot clone the image's mounts", s->root) < 0 ? -ENOMEM : r;
        } else {
                r = mount_clone(AT_FDCWD, s->root, true, s->read_only ? MOUNT_ATTR_RDONLY : 0, &fds[0]);
                if (r < 0)
                        return asprintf(ret_error, "cannot clone the mount of %s", s->root) < 0 ? -ENOMEM : r;
        }
        if (m->idmap_root && !s->ephemeral) {
                r = mount_set_idmap(fds[0], userns_fd, true);
                if (r < 0)
                        return asprintf(ret_error, "%s: cannot make an idmapped mount of the tree%s", s->root,
                                        r == -EINVAL ? " (its file system cannot do that)" : "") < 0 ? -ENOMEM : r;
        }
        for (size_t i = 0; i < s->n_binds; i++) {
                const BindMount *b = &s->binds[i];

                r = mount_clone(AT_FDCWD, b->source, true, b->attr_set | (b->read_only ? MOUNT_ATTR_RDONLY : 0), &fds[1 + i]);
                if (r < 0)
                        return asprintf(ret_error, "--bind source %s: cannot clone its mount", b->source) < 0 ? -ENOMEM : r;
                if (m->uid_range && b->idmap != 0) {
                        r = mount_set_idmap(fds[1 + i], userns_fd, true);
                        if (r < 0)
                                return asprintf(ret_error, "--bind source %s: cannot make an idmapped mount of it%s (add :noidmap to bind it as it is)",
                                                b->source, r == -EINVAL ? "; its file system cannot do that" : "") < 0 ? -ENOMEM : r;
                }
        }
        return 0;
}

/* The machine's network, made from here: the veth with its guest end in the
 * machine's namespace, both ends configured, the port forwards. */
static int host_setup_network(Run *run, char **ret_error) {
        Machine *m = run->machine;
        const Settings *s = m->settings;
        NetworkRequest req = {
                .mode = s->network_mode,
                .machine_name = s->machine_name,
                .bridge = s->network_bridge,
                .zone = s->network_zone,
                .pool = s->network_pool,
        };
        int r;

        if (s->network_mode == NETWORK_NONE)
                return 0;
        /* The guard first, so that nothing we make exists unguarded. */
        r = network_guard_start(&req, &run->guard);
        if (r < 0)
                return asprintf(ret_error, "cannot start the network guard of machine %s", s->machine_name) < 0 ? -ENOMEM : r;
        r = network_setup_host(&req, run->leader, &run->link, ret_error);
        if (r < 0)
                return r;
        (void) network_guard_watch(&run->guard, &run->link);
        r = network_setup_guest(run->leader, &run->link, ret_error);
        if (r < 0)
                return r;
        m->host_ifindex = network_host_ifindex(&run->link);
        for (size_t i = 0; i < s->n_ports && i < ELEMENTSOF(run->forwards); i++) {
                r = port_forward_new(run->event, &s->ports[i], run->link.guest_ipv4, &run->forwards[i]);
                if (r == -EADDRINUSE)
                        return asprintf(ret_error, "--port %u: host port %u is already in use", s->ports[i].host_port,
                                        s->ports[i].host_port) < 0 ? -ENOMEM : r;
                if (r < 0)
                        return asprintf(ret_error, "--port %u: cannot listen on it", s->ports[i].host_port) < 0 ? -ENOMEM : r;
                run->n_forwards++;
        }
        return 0;
}

static void host_teardown_network(Run *run) {
        for (size_t i = 0; i < run->n_forwards; i++)
                run->forwards[i] = port_forward_free(run->forwards[i]);
        run->n_forwards = 0;
        (void) network_teardown(&run->link);
        (void) network_guard_done(&run->guard);
        run->machine->host_ifindex = 0;
}

/* What the host does between clone and registration: the user namespace's
 * maps, the cgroup's delegation, the network. */
static int host_prepare_namespaces(Run *run, char **ret_error) {
        Machine *m = run->machine;
        const Settings *s = m->settings;
        int r;

        if (m->uid_range) {
                r = s->uid_map && s->gid_map ? userns_write_map_text(run->leader, s->uid_map, s->gid_map)
                                             : userns_write_maps(run->leader, m->uid_range->base, m->uid_range->size);
                if (r < 0)
                        return asprintf(ret_error, "cannot write the UID map of machine %s", s->machine_name) < 0 ? -ENOMEM : r;
                r = cgroup_delegate(m->cgroup->path, m->uid_range->base, m->uid_range->base);
                if (r < 0)
                        return asprintf(ret_error, "cannot hand cgroup %s to the machine's root", m->cgroup->path) < 0 ? -ENOMEM : r;
        }
        return host_setup_network(run, ret_error);
}

/* The mounts, sent with "go". */
static int host_prepare(Machine *m, pid_t leader, int sock, char **ret_error) {
        const Settings *s = m->settings;
        int fds[1 + 63];
        size_t n = 1 + s->n_binds;
        int r;

        if (n > ELEMENTSOF(fds))
                return asprintf(ret_error, "too many --bind mounts (at most %zu)", ELEMENTSOF(fds) - 1) < 0 ? -ENOMEM : -E2BIG;
        for (size_t i = 0; i < n; i++)
                fds[i] = -EBADF;

        r = host_make_mounts(m, leader, fds, ret_error);
        if (r >= 0)
                r = send_fds_with_data(sock, fds, n, "g", 1);
        close_fds(fds, n);
        return r;
}

/* Kills the payload (and so its PID namespace) and reaps it. */
static void payload_reap(int pidfd) {
        siginfo_t si;

        (void) sys_pidfd_send_signal(pidfd, SIGKILL);
        (void) waitid(P_PIDFD, (id_t) pidfd, &si, WEXITED);
}

int machine_run_once(Machine *m, MachineResult *ret, char **ret_error) {
        _cleanup_close_pair_ int pair[2] = { -EBADF, -EBADF };
        _cleanup_close_ int pidfd = -EBADF, master = -EBADF;
        NamespaceSaved ns_saved = {};
        Run run = { .machine = m, .pidfd = -EBADF, .notify_fd = -EBADF, .link = NETWORK_LINK_NULL, .guard = NETWORK_GUARD_NULL };
        _cleanup_(seccomp_program_freep) SeccompProgram *filter = NULL;
        const Settings *s = m->settings;
        bool want_notify = s->notify_ready && s->start_mode == START_BOOT;
        sigset_t mask;
        int r;

        /* Compiled (or read from the cache) here, installed by the payload. */
        r = seccomp_program_get(NULL, s->capabilities, s->syscall_filter, &filter);
        if (r < 0)
                return error_set(ret_error, r, "cannot build the system call filter of machine %s: %s",
                                 s->machine_name, strerror(-r));

        /* sd-event takes signals through a signalfd and the child through its
         * pidfd: both need the signals blocked, before the fork so none is lost. */
        sigemptyset(&mask);
        for (size_t i = 0; i < ELEMENTSOF(handled_signals); i++)
                sigaddset(&mask, handled_signals[i]);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return -errno;
        /* Before the clone: port forwards join it before the machine starts. */
        r = sd_event_new(&run.event);
        if (r < 0)
                return r;
        /* For "boxctl shell", which enters with the same filter. */
        r = seccomp_machine_record_save(s->machine_name, s->syscall_filter);
        if (r < 0) {
                sd_event_unref(run.event);
                return error_set(ret_error, r, "cannot record the system call filter of machine %s: %s",
                                 s->machine_name, strerror(-r));
        }

        if (want_notify) {
                r = guest_notify_open(&run);
                if (r < 0) {
                        sd_event_unref(run.event);
                        seccomp_machine_record_remove(s->machine_name);
                        return error_set(ret_error, r, "cannot make the notify socket of machine %s: %s",
                                         s->machine_name, strerror(-r));
                }
        }

        struct clone_args args = {
                /* With CLONE_NEWUSER the user namespace comes first, and owns the others. */
                .flags = (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP |
                          CLONE_INTO_CGROUP | CLONE_PIDFD | (m->uid_range ? CLONE_NEWUSER : 0) |
                          (m->settings->private_network ? CLONE_NEWNET : 0)) & ~(uint64_t) (s->ns_shared | ns_joined(s)),
                .pidfd = (uint64_t) (uintptr_t) &pidfd,
                .exit_signal = SIGCHLD,
                .cgroup = (uint64_t) m->cgroup->fd,
        };
        /* The child starts in the machine's v1 cgroups, so that its cgroup
         * namespace is rooted there (see cgroup-v1.h); we go back at once. */
        r = cgroup_v1_enter(m->cgroup_v1, 0);
        if (r < 0)
                (void) error_set(ret_error, r, "cannot move machine %s into its cgroup v1 cgroups: %s", s->machine_name,
                                 strerror(-r));
        /* The namespaces it joins: ours for the clone, left right after it. */
        if (r >= 0) {
                r = namespace_join_enter(s->ns_join, s->n_ns_join, &ns_saved);
                if (r < 0)
                        (void) error_set(ret_error, r, "machine %s: cannot join the namespaces it names: %s", s->machine_name,
                                         strerror(-r));
        }
        run.leader = r < 0 ? -1 : (pid_t) sys_clone3(&args);
        if (run.leader < 0 && r >= 0)
                r = -errno;
        if (run.leader != 0) {
                (void) namespace_join_leave(&ns_saved);
                (void) cgroup_v1_leave(m->cgroup_v1, 0);
        }
        if (r < 0) {
                guest_notify_close(&run);
                sd_event_unref(run.event);
                seccomp_machine_record_remove(s->machine_name);
                return r;
        }
        if (run.leader == 0) {
                pair[0] = safe_close(pair[0]);
                payload_main(m, filter, pair[1], run.notify_path);
        }
        pair[1] = safe_close(pair[1]);
        run.pidfd = pidfd;
        /* Before init executes, so that its first fork is not missed. */
        if (want_notify && m->init_kind != INIT_SYSTEMD) {
                r = init_watch_new(run.event, run.leader, on_init_done, &run, &run.init_watch);
                if (r < 0)
                        log_debug_errno(r, "Cannot watch the init of machine %s (%m); it is ready once it runs.",
                                        s->machine_name);
        }

        r = host_prepare_namespaces(&run, ret_error);
        if (r >= 0 && m->on_leader)
                r = m->on_leader(m, run.leader, ret_error);
        if (r < 0) {
                payload_reap(pidfd);
                host_teardown_network(&run);
                guest_notify_close(&run);
                sd_event_unref(run.event);
                seccomp_machine_record_remove(s->machine_name);
                return r;
        }
        r = host_prepare(m, run.leader, pair[0], ret_error);
        if (r >= 0)
                r = machine_wait_for_payload(pair[0], &master, ret_error);
        if (r >= 0 && m->payload_wait_start) {
                /* Created: it waits for a start that is not ours to give. */
                m->detached_leader = run.leader;
                m->detached_master = TAKE_FD(master);
        } else if (r >= 0)
                r = run_event_loop(&run, master);
        run.forward = pty_forward_free(run.forward);
        run.console = console_server_free(run.console);
        sd_event_source_disable_unref(run.kill_timer);
        if (r < 0)
                payload_reap(pidfd);
        host_teardown_network(&run);
        guest_notify_close(&run);
        sd_event_unref(run.event);
        if (m->on_end)
                m->on_end(m);
        seccomp_machine_record_remove(s->machine_name);
        if (r < 0)
                return r;
        *ret = run.result;
        return 0;
}
