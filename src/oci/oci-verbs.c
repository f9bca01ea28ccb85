/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cgroup.h"
#include "init-kind.h"
#include "missing-syscall.h"
#include "mount-points.h"
#include "oci-hooks.h"
#include "oci-log.h"
#include "oci-payload.h"
#include "oci-state.h"
#include "oci-verbs.h"
#include "stale.h"
#include "util.h"

static int open_container(const char *verb, int argc, char *argv[], int *ret_fd, OciState *ret) {
        if (argc - optind < 1)
                return oci_error(EINVAL, "\"%s\" requires a container ID", verb);
        return oci_container_open(verb, argv[optind], ret_fd, ret);
}

int oci_parse_preserve_fds(const char *arg, unsigned *ret) {
        unsigned n;

        if (parse_uint(arg, &n) < 0 || n > OCI_PRESERVE_FDS_MAX)
                return oci_error(EINVAL, "--preserve-fds=%s: not a number of file descriptors (0 to %u)", arg,
                                 OCI_PRESERVE_FDS_MAX);
        for (unsigned fd = 3; fd < 3 + n; fd++)
                if (fcntl((int) fd, F_GETFD) < 0)
                        return oci_error(EBADF, "--preserve-fds=%s: file descriptor %u is not open", arg, fd);
        *ret = n;
        return 0;
}

int oci_container_open(const char *verb, const char *id, int *ret_fd, OciState *ret) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (!oci_id_is_valid(id))
                return oci_error(EINVAL, "invalid id format: %s", id);
        r = oci_state_dir_open(oci_globals.root, id, false, &fd);
        if (r == -ENOENT)
                return oci_error(r, "container %s does not exist", id);
        if (r < 0)
                return oci_error(r, "container %s: cannot open its state in %s: %s", id, oci_globals.root, strerror(-r));
        r = oci_state_load(fd, ret);
        if (r == -ENOENT)
                return oci_error(r, "container %s does not exist (its create did not finish)", id);
        if (r < 0)
                return oci_error(r, "container %s: cannot read its state: %s", id, strerror(-r));
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* Options of verbs that take none: --help is all. */
static int parse_no_options(int argc, char *argv[]) {
        static const struct option options[] = { {} };

        optind = 1;
        if (getopt_long(argc, argv, "", options, NULL) >= 0)
                return -EINVAL;
        return 0;
}

/* The hooks create saved (TEXT, NULL: none), those of KIND each run with the
 * state in STATUS; one that fails is a warning, and the rest still run. */
static void run_warn_hooks(const char *text, const OciState *st, OciHookKind kind, OciStatus status) {
        _cleanup_(oci_hooks_done) OciHooks h = {};
        _cleanup_free_ char *error = NULL;
        const char *state;
        json_object *o;
        int r;

        if (!text)
                return;
        r = oci_hooks_parse_text(text, &h, &error);
        if (r < 0) {
                oci_warn("container %s: cannot read its %s hooks: %s", st->id, oci_hook_kind_to_string(kind), error ?: strerror(-r));
                return;
        }
        if (h.n[kind] == 0)
                return;
        o = oci_state_to_json(st, status);
        state = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        for (size_t i = 0; i < h.n[kind]; i++) {
                char msg[512];

                if (oci_hook_run(&h, kind, i, state, msg, sizeof msg) < 0)
                        oci_warn("container %s: %s", st->id, msg);
        }
        json_object_put(o);
}

static char *hooks_text(int dir_fd) {
        char *text = NULL;

        (void) read_file_at(dir_fd, OCI_HOOKS_FILE, 16 * 1024 * 1024, &text);
        return text;
}

/* The init opens the fifo for writing when it gets there, runs the
 * startContainer hooks and writes one byte; its end closes when the process
 * is executed. */
static int wait_exec(const OciState *st, int fifo) {
        char buf[512];
        size_t got = 0;

        for (;;) {
                struct pollfd p = { .fd = fifo, .events = POLLIN };
                ssize_t n;

                if (poll(&p, 1, 100) < 0 && errno != EINTR)
                        return oci_error(errno, "container %s: %s", st->id, strerror(errno));
                n = read(fifo, buf + got, sizeof buf - 1 - got);
                if (n > 0) {
                        got += (size_t) n;
                        if (got < sizeof buf - 1)
                                continue;
                        n = 0; /* a full buffer: an error text, cut */
                }
                if (n == 0 && got > 0) {
                        /* No writer any more: executed, or failed and gone. */
                        buf[got] = '\0';
                        if (buf[0] == OCI_FIFO_GO)
                                return 0;
                        return oci_error(EPROTO, "container %s: %s", st->id, buf[0] == OCI_FIFO_FAILED ? buf + 1 : "its init failed");
                }
                if (n < 0 && errno != EAGAIN && errno != EINTR)
                        return oci_error(errno, "container %s: cannot read its exec fifo: %s", st->id, strerror(errno));
                if (got == 0 && !oci_pid_alive(st->pid, st->pid_start))
                        return oci_error(ESRCH, "container %s: its init died before it was started", st->id);
        }
}

/* The notify socket create set up (setup_notify() there), bound now, before
 * the process runs, so that nothing it sends is lost. 0 and *ret_fd -EBADF:
 * none. */
static int notify_listen(int dir_fd, const OciState *st, int *ret_fd, char **ret_host) {
        _cleanup_free_ char *host = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int r;

        *ret_fd = -EBADF;
        r = read_file_at(dir_fd, OCI_NOTIFY_HOST, PATH_MAX, &host);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return oci_error(r, "container %s: cannot read its notify socket's target: %s", st->id, strerror(-r));
        /* Ours, if we have one now: the caller's own manager. */
        if (!isempty(getenv("NOTIFY_SOCKET"))) {
                free(host);
                host = strdup(getenv("NOTIFY_SOCKET"));
                if (!host)
                        return oci_error(ENOMEM, "out of memory");
        }
        snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/" OCI_NOTIFY_DIR "/" OCI_NOTIFY_SOCKET, dir_fd);
        (void) unlink(sa.sun_path);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return oci_error(errno, "container %s: cannot make its notify socket: %s", st->id, strerror(errno));
        /* Its root may be another user (a user namespace). */
        (void) chmod(sa.sun_path, 0777);
        *ret_fd = TAKE_FD(fd);
        *ret_host = TAKE_PTR(host);
        return 0;
}

/* Waits until the process sends READY=1 (or ends), and passes that on to
 * HOST with MAINPID, as runc does; what else it sends before is dropped. */
static int notify_forward(int fd, const char *host, const OciState *st) {
        _cleanup_close_ int pidfd = pidfd_open(st->pid, 0), out = -EBADF;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char buf[4096], msg[64];

        for (;;) {
                struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = pidfd, .events = POLLIN } };
                ssize_t n;

                if (poll(p, pidfd >= 0 ? 2 : 1, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return oci_error(errno, "container %s: %s", st->id, strerror(errno));
                }
                n = recv(fd, buf, sizeof buf - 1, 0);
                if (n > 0) {
                        buf[n] = '\0';
                        if (strstr(buf, "READY=1") == buf || strstr(buf, "\nREADY=1"))
                                break;
                        continue;
                }
                if (p[1].revents & POLLIN) {
                        oci_debug("container %s: its init ended before it said READY=1", st->id);
                        return 0;
                }
        }
        if (strlen(host) >= sizeof sa.sun_path)
                return oci_error(ENAMETOOLONG, "$NOTIFY_SOCKET %s: path too long", host);
        strcpy(sa.sun_path, host);
        if (sa.sun_path[0] == '@')
                sa.sun_path[0] = '\0';
        snprintf(msg, sizeof msg, "MAINPID=%d\nREADY=1\n", (int) st->pid);
        out = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (out < 0 || sendto(out, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *) &sa,
                              (socklen_t) (offsetof(struct sockaddr_un, sun_path) + strlen(host))) < 0)
                return oci_error(errno, "container %s: cannot pass READY=1 on to %s: %s", st->id, host, strerror(errno));
        return 0;
}

int verb_start(int argc, char *argv[]) {
        _cleanup_(oci_state_done) OciState st = {};
        _cleanup_close_ int dir_fd = -EBADF, fifo = -EBADF, notify_fd = -EBADF;
        _cleanup_free_ char *hooks = NULL, *notify_host = NULL;
        int r;

        if (parse_no_options(argc, argv) < 0 || open_container("start", argc, argv, &dir_fd, &st) < 0)
                return 1;
        switch (oci_state_status(dir_fd, &st)) {
        case OCI_STATUS_CREATED:
                break;
        case OCI_STATUS_STOPPED:
                (void) oci_error(EINVAL, "cannot start a container that has stopped");
                return 1;
        case OCI_STATUS_RUNNING:
                (void) oci_error(EINVAL, "cannot start an already running container");
                return 1;
        default:
                (void) oci_error(EINVAL, "cannot start a container in the %s state", oci_status_to_string(oci_state_status(dir_fd, &st)));
                return 1;
        }
        /* Non-blocking: the init holds the other end open for writing once
         * it waits, and it is alive (checked above). */
        fifo = openat(dir_fd, OCI_EXEC_FIFO, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fifo < 0) {
                (void) oci_error(errno, "container %s: cannot open its exec fifo: %s", st.id, strerror(errno));
                return 1;
        }
        if (notify_listen(dir_fd, &st, &notify_fd, &notify_host) < 0)
                return 1;
        r = wait_exec(&st, fifo);
        (void) unlinkat(dir_fd, OCI_EXEC_FIFO, 0);
        if (r < 0)
                return 1;
        hooks = hooks_text(dir_fd);
        run_warn_hooks(hooks, &st, OCI_HOOK_POSTSTART, OCI_STATUS_RUNNING);
        /* Not holding the container's lock while its process gets ready. */
        dir_fd = safe_close(dir_fd);
        if (notify_fd >= 0 && notify_forward(notify_fd, notify_host, &st) < 0)
                return 1;
        return 0;
}

int verb_state(int argc, char *argv[]) {
        _cleanup_(oci_state_done) OciState st = {};
        _cleanup_close_ int dir_fd = -EBADF;
        json_object *o;

        if (parse_no_options(argc, argv) < 0 || open_container("state", argc, argv, &dir_fd, &st) < 0)
                return 1;
        o = oci_state_to_json(&st, oci_state_status(dir_fd, &st));
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        return 0;
}

int verb_list(int argc, char *argv[]) {
        static const struct option options[] = {
                { "format", required_argument, NULL, 'f' },
                { "quiet", no_argument, NULL, 'q' },
                {}
        };
        _cleanup_(closedirp) DIR *d = NULL;
        json_object *all = json_object_new_array();
        bool json = false, quiet = false;
        struct dirent *de;
        int c;

        optind = 1;
        while ((c = getopt_long(argc, argv, "f:q", options, NULL)) >= 0)
                switch (c) {
                case 'f':
                        if (!streq(optarg, "json") && !streq(optarg, "table"))
                                return oci_error(EINVAL, "invalid format option: %s", optarg), 1;
                        json = streq(optarg, "json");
                        break;
                case 'q':
                        quiet = true;
                        break;
                default:
                        return 1;
                }
        d = opendir(oci_globals.root);
        if (!d && errno != ENOENT) {
                (void) oci_error(errno, "cannot list %s: %s", oci_globals.root, strerror(errno));
                return 1;
        }
        if (!json && !quiet)
                printf("%-12s %-8s %-10s %-40s %-32s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
        while (d && (de = readdir(d))) {
                _cleanup_(oci_state_done) OciState st = {};
                _cleanup_close_ int fd = -EBADF;
                OciStatus status;

                if (de->d_name[0] == '.' || !oci_id_is_valid(de->d_name))
                        continue;
                if (oci_state_dir_open(oci_globals.root, de->d_name, false, &fd) < 0 || oci_state_load(fd, &st) < 0)
                        continue;
                status = oci_state_status(fd, &st);
                if (quiet)
                        printf("%s\n", st.id);
                else if (json)
                        json_object_array_add(all, oci_state_to_json(&st, status));
                else {
                        json_object *o = oci_state_to_json(&st, status);

                        printf("%-12s %-8d %-10s %-40s %-32s %s\n", st.id, status == OCI_STATUS_STOPPED ? 0 : (int) st.pid,
                               oci_status_to_string(status), st.bundle, st.created,
                               json_object_get_string(json_object_object_get(o, "owner")));
                        json_object_put(o);
                }
        }
        if (json)
                printf("%s\n", json_object_to_json_string_ext(all, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(all);
        return 0;
}

static int parse_signal(const char *s) {
        unsigned n;

        if (parse_uint(s, &n) >= 0)
                return n > 0 && n < _NSIG ? (int) n : -EINVAL;
        if (strncasecmp(s, "SIG", 3) == 0)
                s += 3;
        for (int i = 1; i < _NSIG; i++) {
                const char *name = sigabbrev_np(i);

                if (name && strcasecmp(name, s) == 0)
                        return i;
        }
        if (strncasecmp(s, "RTMIN+", 6) == 0 && parse_uint(s + 6, &n) >= 0 && SIGRTMIN + (int) n <= SIGRTMAX)
                return SIGRTMIN + (int) n;
        return -EINVAL;
}

/* SIG to the init, by pidfd (a PID reused since is not it), or to all. */
static int signal_container(const OciState *st, int sig, bool all) {
        _cleanup_close_ int pidfd = -EBADF;

        if (all) {
                _cleanup_(cgroup_machine_freep) Cgroup *cg = NULL;
                int r = oci_scope_open(st, &cg);

                return r < 0 ? r : cgroup_machine_kill(cg, sig);
        }
        pidfd = pidfd_open(st->pid, 0);
        if (pidfd < 0)
                return -errno;
        if (!oci_pid_alive(st->pid, st->pid_start))
                return -ESRCH;
        /* A system container's init takes SIGTERM as something else (busybox:
         * reboot) or not at all (systemd): an engine's stop is its power-off,
         * asked in the way its kind understands, as "boxctl poweroff" does. */
        if (st->boot && sig == SIGTERM) {
                _cleanup_close_ int exe = -EBADF;
                char path[64];

                snprintf(path, sizeof path, "/proc/%d/exe", (int) st->pid);
                exe = open(path, O_PATH | O_CLOEXEC);
                if (exe >= 0)
                        return init_request_power(init_kind_detect(exe), st->pid, pidfd, POWER_OFF);
        }
        return sys_pidfd_send_signal(pidfd, sig) < 0 ? -errno : 0;
}

int verb_kill(int argc, char *argv[]) {
        static const struct option options[] = {
                { "all", no_argument, NULL, 'a' },
                {}
        };
        _cleanup_(oci_state_done) OciState st = {};
        _cleanup_close_ int dir_fd = -EBADF;
        bool all = false;
        int c, sig = SIGTERM, r;

        optind = 1;
        while ((c = getopt_long(argc, argv, "a", options, NULL)) >= 0)
                if (c == 'a')
                        all = true;
                else
                        return 1;
        if (argc - optind > 2)
                return oci_error(EINVAL, "\"kill\" takes a container ID and a signal"), 1;
        if (argc - optind == 2) {
                sig = parse_signal(argv[optind + 1]);
                if (sig < 0)
                        return oci_error(EINVAL, "invalid signal: %s", argv[optind + 1]), 1;
        }
        if (open_container("kill", argc, argv, &dir_fd, &st) < 0)
                return 1;
        if (oci_state_status(dir_fd, &st) == OCI_STATUS_STOPPED) {
                (void) oci_error(ESRCH, "container not running");
                return 1;
        }
        r = signal_container(&st, sig, all);
        if (r == -ESRCH) {
                (void) oci_error(r, "container not running");
                return 1;
        }
        if (r < 0) {
                (void) oci_error(r, "container %s: cannot send signal %d: %s", st.id, sig, strerror(-r));
                return 1;
        }
        return 0;
}

#define FREEZE_TIMEOUT_USEC (UINT64_C(10) * 1000 * 1000)

/* pause and resume: the scope's cgroup2 freezer, on either layout (a hybrid
 * host's unified hierarchy has cgroup.freeze without any controller). */
static int set_frozen(const char *verb, int argc, char *argv[], bool freeze) {
        _cleanup_(cgroup_machine_freep) Cgroup *cg = NULL;
        _cleanup_(oci_state_done) OciState st = {};
        _cleanup_close_ int dir_fd = -EBADF;
        OciStatus status;
        int r;

        if (parse_no_options(argc, argv) < 0 || open_container(verb, argc, argv, &dir_fd, &st) < 0)
                return 1;
        status = oci_state_status(dir_fd, &st);
        /* runc's words: libcontainer's ErrNotRunning (for a paused one too) and ErrNotPaused. */
        if (freeze && status != OCI_STATUS_RUNNING && status != OCI_STATUS_CREATED)
                return oci_error(EINVAL, "container not running"), 1;
        if (!freeze && status != OCI_STATUS_PAUSED)
                return oci_error(EINVAL, "container not paused"), 1;
        r = oci_scope_open(&st, &cg);
        if (r >= 0)
                r = cgroup_machine_freeze(cg, freeze, FREEZE_TIMEOUT_USEC);
        if (r == -EOPNOTSUPP)
                return oci_error(r, "container %s: cannot %s: the kernel has no cgroup2 freezer (cgroup.freeze, Linux 5.2)", st.id, verb), 1;
        if (r < 0) {
                /* Half frozen is worse than not: back to running. */
                if (freeze && cg)
                        (void) cgroup_machine_freeze(cg, false, FREEZE_TIMEOUT_USEC);
                return oci_error(r, "container %s: cannot %s: %s", st.id, verb, strerror(-r)), 1;
        }
        return 0;
}

int verb_pause(int argc, char *argv[]) {
        return set_frozen("pause", argc, argv, true);
}

int verb_resume(int argc, char *argv[]) {
        return set_frozen("resume", argc, argv, false);
}

/* Everything create made: the init and what is left in its cgroups, those
 * cgroups, the mount points it made in the rootfs, the state. */
static int destroy_container(const OciState *st) {
        _cleanup_(cgroup_machine_freep) Cgroup *cg = NULL;
        _cleanup_close_ int tree_fd = -EBADF, pidfd = -EBADF;
        int r;

        pidfd = pidfd_open(st->pid, 0);
        if (pidfd >= 0 && oci_pid_alive(st->pid, st->pid_start)) {
                struct pollfd p = { .fd = pidfd, .events = POLLIN };

                (void) sys_pidfd_send_signal(pidfd, SIGKILL);
                (void) poll(&p, 1, 10 * 1000);
        }
        /* A paused container: SIGKILL reaches frozen tasks; thawed, nothing
         * of it waits to be run again when the scope is emptied. As runc. */
        if (oci_scope_open(st, &cg) >= 0 && cgroup_machine_is_frozen(cg) > 0)
                (void) cgroup_machine_freeze(cg, false, FREEZE_TIMEOUT_USEC);
        /* EBUSY: someone has the scope open, as boxd has while it removes
         * what a machine that ended left (a system container registers
         * with it): that ends soon, and the scope with it. */
        for (int try = 0;; try++) {
                r = st->cgroup_paths ? stale_cgroups_remove(st->id, st->cgroup_paths) : stale_machine_remove(st->id, NULL);
                if (r != -EBUSY || try >= 100)
                        break;
                usleep(50 * 1000);
        }
        if (r < 0 && r != -ENOENT)
                return oci_error(r, "container %s: cannot remove its cgroups: %s", st->id, strerror(-r));
        if (st->mount_points) {
                MountPoints mp = { .created = strv_copy(st->mount_points) };

                tree_fd = open(st->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (tree_fd >= 0)
                        mount_points_cleanup(tree_fd, &mp);
                strv_freep(&mp.created);
        }
        r = oci_state_dir_remove(oci_globals.root, st->id);
        if (r < 0)
                return oci_error(r, "container %s: cannot remove its state: %s", st->id, strerror(-r));
        return 0;
}

int verb_delete(int argc, char *argv[]) {
        static const struct option options[] = {
                { "force", no_argument, NULL, 'f' },
                {}
        };
        _cleanup_(oci_state_done) OciState st = {};
        _cleanup_close_ int dir_fd = -EBADF;
        _cleanup_free_ char *hooks = NULL;
        bool force = false;
        OciStatus status;
        int c, r;

        optind = 1;
        while ((c = getopt_long(argc, argv, "f", options, NULL)) >= 0)
                if (c == 'f')
                        force = true;
                else
                        return 1;
        if (argc - optind == 1 && oci_id_is_valid(argv[optind])) {
                /* A create that did not finish left a directory without state: --force takes it. */
                r = oci_state_dir_open(oci_globals.root, argv[optind], false, &dir_fd);
                if (r >= 0 && oci_state_load(dir_fd, &st) == -ENOENT) {
                        if (!force)
                                return oci_error(ENOENT, "container %s does not exist (its create did not finish)", argv[optind]), 1;
                        (void) stale_machine_remove(argv[optind], NULL);
                        return oci_state_dir_remove(oci_globals.root, argv[optind]) < 0 ? 1 : 0;
                }
                if (r == -ENOENT && force)
                        return 0;
                dir_fd = safe_close(dir_fd);
                oci_state_done(&st);
        }
        if (open_container("delete", argc, argv, &dir_fd, &st) < 0)
                return 1;
        status = oci_state_status(dir_fd, &st);
        /* A created container (never started) is deleted, its init killed, as
         * runc 1.1 does: the runtime spec (and runtime-tools' "delete"
         * program) want an error, but containerd's shim deletes a created
         * task without --force and needs that to work. */
        if ((status == OCI_STATUS_RUNNING || status == OCI_STATUS_PAUSED) && !force) {
                (void) oci_error(EBUSY, "cannot delete container %s that is not stopped: %s", st.id, oci_status_to_string(status));
                return 1;
        }
        /* Read before the state directory goes with it. */
        hooks = hooks_text(dir_fd);
        if (destroy_container(&st) < 0)
                return 1;
        run_warn_hooks(hooks, &st, OCI_HOOK_POSTSTOP, OCI_STATUS_STOPPED);
        return 0;
}

int verb_features(int argc, char *argv[]) {
        json_object *o = json_object_new_object(), *linux_ = json_object_new_object(), *ns = json_object_new_array(),
                    *mext = json_object_new_object(), *idmap = json_object_new_object();
        static const char *const namespaces[] = { "cgroup", "ipc", "mount", "network", "pid", "user", "uts" };

        json_object_object_add(o, "ociVersionMin", json_object_new_string("1.0.0"));
        json_object_object_add(o, "ociVersionMax", json_object_new_string("1.1.0"));
        for (size_t i = 0; i < ELEMENTSOF(namespaces); i++)
                json_object_array_add(ns, json_object_new_string(namespaces[i]));
        json_object_object_add(linux_, "namespaces", ns);
        json_object_object_add(idmap, "enabled", json_object_new_boolean(true));
        json_object_object_add(mext, "idmap", idmap);
        json_object_object_add(linux_, "mountExtensions", mext);
        json_object_object_add(o, "linux", linux_);
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        return 0;
}
