/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <poll.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cgroup.h"
#include "cgroup-v1.h"
#include "caps.h"
#include "enter.h"
#include "log.h"
#include "missing-syscall.h"
#include "process-util.h"
#include "seccomp-filter.h"
#include "util.h"

/* What the entering processes tell boxctl. PID names the command; MASTER
 * carries the pty's master; ERROR ends it. EOF without ERROR means the
 * command was executed (the socket is close-on-exec). */
typedef struct EnterMessage {
        enum { ENTER_PID = 1, ENTER_MASTER, ENTER_ERROR } type;
        int error;
        pid_t pid;
        char text[240];
} EnterMessage;

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static _printf_(4, 5) void enter_report(int sock, int error, int fd, const char *fmt, ...) {
        EnterMessage msg = { .type = ENTER_ERROR, .error = error < 0 ? -error : error };
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg.text, sizeof msg.text, fmt, ap);
        va_end(ap);
        if (fd >= 0)
                (void) send_fd_with_data(sock, fd, &msg, sizeof msg);
        else
                (void) send(sock, &msg, sizeof msg, MSG_NOSIGNAL);
}

#define enter_fail(sock, status, error, ...)                                \
        do {                                                                \
                enter_report((sock), (error), -EBADF, __VA_ARGS__);         \
                _exit(status);                                              \
        } while (0)

/* ---- the machine's users, from its own /etc/passwd and /etc/group ---- */

/* Splits a colon-separated line into at most N fields, in place. */
static size_t split_colons(char *line, char **fields, size_t n) {
        size_t i = 0;

        while (i < n) {
                fields[i++] = line;
                line = strchr(line, ':');
                if (!line)
                        break;
                *line++ = '\0';
        }
        return i;
}

/* A file of the machine's, which the machine's root controls: resolved in
 * its root without magic links, opened without blocking (a FIFO would hang
 * us), and only if it is a regular file. */
static int read_machine_file(const char *path, char **ret) {
        struct open_how how = {
                .flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        _cleanup_close_ int fd = sys_openat2(AT_FDCWD, path, &how);
        struct stat st;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        return read_fd(fd, 4 * 1024 * 1024, ret);
}

int enter_parse_passwd(char *passwd, const char *spec, EnterUser *ret) {
        unsigned num;
        bool by_number = parse_uint(spec, &num) >= 0;

        /* (uid_t) -1 tells setresuid() "leave it": it would stay root. */
        if (by_number && num == (unsigned) -1)
                return -EINVAL;
        for (char *l = passwd; l && *l;) {
                char *e = strchrnul(l, '\n'), *f[7];
                bool more = *e != '\0';
                unsigned uid, gid;

                *e = '\0';
                if (split_colons(l, f, 7) == 7 && parse_uint(f[2], &uid) >= 0 && parse_uint(f[3], &gid) >= 0 &&
                    uid != (unsigned) -1 && gid != (unsigned) -1 && strlen(f[0]) < sizeof ret->name &&
                    (by_number ? uid == num : streq(f[0], spec))) {
                        *ret = (EnterUser) { .uid = uid, .gid = gid };
                        snprintf(ret->name, sizeof ret->name, "%s", f[0]);
                        snprintf(ret->home, sizeof ret->home, "%s", isempty(f[5]) ? "/" : f[5]);
                        snprintf(ret->shell, sizeof ret->shell, "%s", isempty(f[6]) ? "/bin/sh" : f[6]);
                        return 0;
                }
                l = more ? e + 1 : NULL;
        }
        if (!by_number)
                return -ESRCH;
        /* A number nobody has: it may still run things, as nspawn's --user allows. */
        *ret = (EnterUser) { .uid = num, .gid = num };
        snprintf(ret->name, sizeof ret->name, "%u", num);
        snprintf(ret->home, sizeof ret->home, "/");
        snprintf(ret->shell, sizeof ret->shell, "/bin/sh");
        return 0;
}

/* Only the files: an NSS module of the machine's must not run in boxctl. */
static int user_lookup(const char *spec, EnterUser *ret) {
        _cleanup_free_ char *passwd = NULL;
        unsigned num;
        int r;

        r = read_machine_file("/etc/passwd", &passwd);
        /* Without the file only a number names a user. */
        if (r < 0 && !(r == -ENOENT && parse_uint(spec, &num) >= 0))
                return r;
        return enter_parse_passwd(passwd, spec, ret);
}

size_t enter_parse_group(char *group, const EnterUser *u, gid_t *groups, size_t max) {
        size_t n = 0;

        for (char *l = group; l && *l && n < max;) {
                char *e = strchrnul(l, '\n'), *f[4], *save = NULL;
                bool more = *e != '\0';
                unsigned gid;

                *e = '\0';
                if (split_colons(l, f, 4) == 4 && parse_uint(f[2], &gid) >= 0 && gid != u->gid)
                        for (char *m = strtok_r(f[3], ",", &save); m; m = strtok_r(NULL, ",", &save))
                                if (streq(m, u->name)) {
                                        groups[n++] = gid;
                                        break;
                                }
                l = more ? e + 1 : NULL;
        }
        return n;
}

/* The user's supplementary groups: those of /etc/group that list them. */
static int user_groups(const EnterUser *u, gid_t *groups, size_t max, size_t *ret_n) {
        _cleanup_free_ char *group = NULL;
        int r;

        r = read_machine_file("/etc/group", &group);
        if (r == -ENOENT) {
                *ret_n = 0;
                return 0;
        }
        if (r < 0)
                return r;
        *ret_n = enter_parse_group(group, u, groups, max);
        return 0;
}

/* ---- the command's process ---- */

static char **enter_environment(const EnterRequest *req, const EnterUser *u) {
        _cleanup_strv_free_ char **env = NULL;
        char buf[PATH_MAX + 16];

        const char *defaults[] = { "PATH=" DEFAULT_PATH, "HOME=", "USER=", "LOGNAME=", "SHELL=" };
        const char *values[] = { NULL, u->home, u->name, u->name, u->shell };

        for (size_t i = 0; i < ELEMENTSOF(defaults); i++) {
                snprintf(buf, sizeof buf, "%s%s", defaults[i], strempty(values[i]));
                if (strv_push_dup(&env, buf) < 0)
                        return NULL;
        }
        if (req->term) {
                snprintf(buf, sizeof buf, "TERM=%s", req->term);
                if (strv_push_dup(&env, buf) < 0)
                        return NULL;
        }
        /* --setenv replaces a default of the same name. */
        for (char **s = req->setenv; s && *s; s++) {
                size_t k = strcspn(*s, "=") + 1;
                size_t j = 0;

                for (char **d = env; *d; d++)
                        if (strncmp(*d, *s, k) != 0)
                                env[j++] = *d;
                        else
                                free(*d);
                env[j] = NULL;
                if (strv_push_dup(&env, *s) < 0)
                        return NULL;
        }
        return TAKE_PTR(env);
}

/* A pty from the machine's own devpts: the host's terminal never becomes
 * the command's (no TIOCSTI into the host's shell). */
static void command_take_pty(const EnterRequest *req, int sock) {
        _cleanup_close_ int master = -EBADF, slave = -EBADF;
        char name[64];

        struct open_how how = {
                .flags = O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        struct stat st;

        master = sys_openat2(AT_FDCWD, "/dev/ptmx", &how);
        if (master < 0)
                enter_fail(sock, EXIT_FAILURE, errno, "cannot open /dev/ptmx in machine %s: %m", req->machine_name);
        if (fstat(master, &st) < 0 || !S_ISCHR(st.st_mode))
                enter_fail(sock, EXIT_FAILURE, ENOTTY, "/dev/ptmx of machine %s is not a terminal multiplexer",
                           req->machine_name);
        if (fd_nonblock(master, false) < 0 || unlockpt(master) < 0 || ptsname_r(master, name, sizeof name) != 0)
                enter_fail(sock, EXIT_FAILURE, errno, "cannot set up a pty in machine %s: %m", req->machine_name);
        /* The peer from the master itself, not by a name the machine could swap. */
        slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                enter_fail(sock, EXIT_FAILURE, errno, "cannot open %s in machine %s: %m", name, req->machine_name);
        EnterMessage msg = { .type = ENTER_MASTER };
        snprintf(msg.text, sizeof msg.text, "%s", name);
        if (send_fd_with_data(sock, master, &msg, sizeof msg) < 0)
                _exit(EXIT_FAILURE);
        /* OpenMachinePTY: the master is all that was asked for. The slave
         * closes with us; whoever opens it by its name later gets it. */
        if (req->pty_only)
                _exit(EXIT_SUCCESS);
        if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)
                enter_fail(sock, EXIT_FAILURE, errno, "cannot make %s the terminal of the command: %m", name);
        if (dup2(slave, STDIN_FILENO) < 0 || dup2(slave, STDOUT_FILENO) < 0 || dup2(slave, STDERR_FILENO) < 0)
                enter_fail(sock, EXIT_FAILURE, errno, "cannot attach to %s: %m", name);
}

static _noreturn_ void command_main(const EnterRequest *req, const EnterUser *u, uint64_t bounding,
                                   const SeccompProgram *filter, int sock) {
        gid_t groups[64];
        size_t n_groups = 0;
        char **env, login[PATH_MAX + 1];
        char *shell_argv[] = { login, NULL };
        char *path_argv[] = { (char *) req->path, NULL };
        /* A login as at a console: login(1) asks for the name and the password. */
        char *login_argv[] = { (char *) "login", NULL };
        char **argv = req->login                 ? login_argv
                      : req->argv && req->argv[0] ? req->argv
                      : req->path                 ? path_argv
                                                  : shell_argv;
        const char *program = req->login ? argv[0] : req->path ?: argv == shell_argv ? u->shell : argv[0];
        int r;

        signals_reset_all();
        if (req->pty)
                command_take_pty(req, sock);
        else {
                /* Not in boxctl's session: the host's terminal, if one is
                 * still about, is nobody's controlling terminal here. */
                (void) setsid();
                for (int i = 0; i < 3; i++)
                        if (req->stdio[i] != i && dup2(req->stdio[i], i) < 0)
                                enter_fail(sock, EXIT_FAILURE, errno, "cannot set up the command's stdio: %m");
        }
        close_all_fds_from_except(3 + (int) req->pass_fds, (const int[]) { sock }, 1);
        fds_pass_on(req->pass_fds);
        umask(0022);
        if (req->rlimit_nofile_soft > 0) {
                struct rlimit rl;

                if (getrlimit(RLIMIT_NOFILE, &rl) >= 0 && rl.rlim_cur > req->rlimit_nofile_soft) {
                        rl.rlim_cur = req->rlimit_nofile_soft;
                        (void) setrlimit(RLIMIT_NOFILE, &rl);
                }
        }

        /* The bounding set is the machine's already (enter_main(), from the
         * host, while CAP_SETPCAP was ours), and caps_limit() took the rest. */
        /* While still root: loading a filter takes CAP_SYS_ADMIN, or
         * no_new_privs, which would break the machine's setuid programs. A
         * machine without CAP_SYS_ADMIN (an OCI config's capabilities, as
         * podman's) leaves only no_new_privs: its setuid programs gain
         * nothing in what we run there. */
        if (!(bounding & (UINT64_C(1) << CAP_SYS_ADMIN)) && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                enter_fail(sock, EXIT_FAILURE, errno, "cannot set no_new_privs for machine %s: %m", req->machine_name);
        r = seccomp_program_install(filter);
        if (r < 0)
                enter_fail(sock, EXIT_FAILURE, r, "cannot install the system call filter of machine %s: %s",
                           req->machine_name, strerror(-r));
        if (req->extra_filter) {
                struct sock_fprog prog = { .len = (unsigned short) req->n_extra_filter,
                                           .filter = (struct sock_filter *) req->extra_filter };

                if (req->n_extra_filter > BPF_MAXINSNS ||
                    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, req->extra_filter_flags, &prog) < 0)
                        enter_fail(sock, EXIT_FAILURE, req->n_extra_filter > BPF_MAXINSNS ? E2BIG : errno,
                                   "cannot install the container's own system call filter in machine %s: %m",
                                   req->machine_name);
        }
        if (req->exact_ids) {
                if (req->n_groups > ELEMENTSOF(groups))
                        enter_fail(sock, EXIT_FAILURE, E2BIG, "too many supplementary groups (%zu, at most %zu)",
                                   req->n_groups, ELEMENTSOF(groups));
                n_groups = req->n_groups;
                if (n_groups > 0)
                        memcpy(groups, req->groups, n_groups * sizeof(gid_t));
        } else if (u->uid != 0) {
                r = user_groups(u, groups, ELEMENTSOF(groups), &n_groups);
                if (r < 0)
                        enter_fail(sock, EXIT_FAILURE, r, "cannot read /etc/group of machine %s: %s", req->machine_name,
                                   r == -EBADFD ? "not a regular file" : strerror(-r));
        }
        gid_t gid = req->exact_ids ? req->gid : u->gid;
        if (setgroups(n_groups, groups) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(u->uid, u->uid, u->uid) < 0)
                enter_fail(sock, EXIT_FAILURE, errno, "cannot become user %s in machine %s: %m", u->name,
                           req->machine_name);
        r = caps_limit(bounding);
        if (r < 0)
                enter_fail(sock, EXIT_FAILURE, r, "cannot limit the capabilities to those of machine %s: %s",
                           req->machine_name, strerror(-r));
        if (req->cwd) {
                if (chdir(req->cwd) < 0)
                        enter_fail(sock, EXIT_FAILURE, errno, "cannot change to directory %s in machine %s: %m", req->cwd,
                                   req->machine_name);
        } else if (chdir(u->home) < 0 && chdir("/") < 0)
                enter_fail(sock, EXIT_FAILURE, errno, "cannot change to / in machine %s: %m", req->machine_name);

        env = enter_environment(req, u);
        if (!env)
                enter_fail(sock, EXIT_FAILURE, ENOMEM, "out of memory");
        /* A login shell: argv[0] is "-" and the shell's name. */
        snprintf(login, sizeof login, "-%s", strrchr(u->shell, '/') ? strrchr(u->shell, '/') + 1 : u->shell);
        environ = env; /* execvp() searches the PATH of environ */
        if (strchr(program, '/'))
                execve(program, argv, env);
        else
                execvp(program, argv);
        r = errno;
        enter_fail(sock, r == ENOENT ? 127 : 126, r, "cannot run %s in machine %s: %s", program,
                   req->machine_name, strerror(r));
}

/* ---- joining: runs in a child of boxctl ---- */

static int read_bounding_set(pid_t pid, uint64_t *ret) {
        _cleanup_free_ char *status = NULL;
        char path[64];
        const char *p;
        int r;

        snprintf(path, sizeof path, "/proc/%d/status", (int) pid);
        r = read_file_at(AT_FDCWD, path, 64 * 1024, &status);
        if (r < 0)
                return r;
        p = strstr(status, "\nCapBnd:");
        if (!p)
                return -ENODATA;
        errno = 0;
        *ret = strtoull(p + STRLEN("\nCapBnd:"), NULL, 16);
        return errno ? -errno : 0;
}

static bool same_namespace(pid_t pid, const char *type) {
        char path[64], own[64];
        struct stat a, b;

        snprintf(path, sizeof path, "/proc/%d/ns/%s", (int) pid, type);
        snprintf(own, sizeof own, "/proc/self/ns/%s", type);
        return stat(path, &a) >= 0 && stat(own, &b) >= 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static _noreturn_ void enter_main(const EnterRequest *req, int pidfd, int sock) {
        _cleanup_close_ int root_fd = -EBADF;
        const char *name = req->machine_name, *user;
        char path[PATH_MAX];
        uint64_t bounding;
        _cleanup_strv_free_ char **filter_items = NULL;
        _cleanup_(seccomp_program_freep) SeccompProgram *filter = NULL;
        bool userns;
        int flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWCGROUP;
        EnterUser u;
        pid_t child;
        int r, status;

        /* Ctrl-C on a shared terminal is the command's, and boxctl passes
         * on the rest: this process only waits. */
        (void) signal(SIGINT, SIG_IGN);
        (void) signal(SIGQUIT, SIG_IGN);
        (void) signal(SIGTERM, SIG_IGN);
        (void) signal(SIGHUP, SIG_IGN);
        /* Nothing of boxctl's or boxd's goes in (the bus connection, other
         * machines' fds) but stdio, the relays and the socket; and no
         * ptrace or /proc access to us for the machine's processes until
         * the command runs (execve() resets that). */
        (void) prctl(PR_SET_DUMPABLE, 0);
        close_all_fds_from_except(3 + (int) req->pass_fds,
                                  (const int[]) { sock, pidfd, req->stdio[0], req->stdio[1], req->stdio[2] }, 5);

        /* Into the leader's cgroup first, from the host: the command is then
         * the machine's to account, limit, and kill with it. */
        snprintf(path, sizeof path, "%s/cgroup.procs", req->cgroup_path);
        r = write_string_file(path, "0");
        if (r < 0)
                enter_fail(sock, EXIT_FAILURE, r, "cannot join the cgroup %s of machine %s: %s", req->cgroup_path,
                           name, strerror(-r));
        r = cgroup_v1_join(req->leader);
        if (r < 0)
                enter_fail(sock, EXIT_FAILURE, r, "cannot join the cgroup v1 cgroups of machine %s: %s", name,
                           strerror(-r));
        snprintf(path, sizeof path, "/proc/%d/root", (int) req->leader);
        root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                enter_fail(sock, EXIT_FAILURE, errno, "cannot open the root of machine %s: %m", name);
        r = read_bounding_set(req->leader, &bounding);
        if (r < 0)
                enter_fail(sock, EXIT_FAILURE, r, "cannot read the capabilities of machine %s: %s", name, strerror(-r));
        /* Its bounding set now, from the host: dropping from it takes
         * CAP_SETPCAP, which the machine may lack (an OCI config's
         * capabilities), and caps_limit() below takes from us what it lacks. */
        r = caps_apply_bounding(bounding);
        if (r < 0)
                enter_fail(sock, EXIT_FAILURE, r, "cannot limit the capabilities to those of machine %s: %s", name,
                           strerror(-r));
        /* The machine's own filter: its capabilities and its --system-call-filter=. */
        r = seccomp_machine_record_load(name, &filter_items);
        if (r >= 0)
                r = seccomp_program_get(NULL, bounding, filter_items, &filter);
        if (r < 0)
                enter_fail(sock, EXIT_FAILURE, r, "cannot build the system call filter of machine %s: %s", name,
                           strerror(-r));
        /* All of that was the leader's, not a process that took its PID. */
        if (sys_pidfd_send_signal(pidfd, 0) < 0)
                enter_fail(sock, EXIT_FAILURE, errno, "machine %s has ended", name);

        userns = !same_namespace(req->leader, "user");
        if (userns)
                flags |= CLONE_NEWUSER;
        if (setns(pidfd, flags) < 0)
                enter_fail(sock, EXIT_FAILURE, errno, "cannot enter the namespaces of machine %s: %m", name);
        /* Its root first: a machine whose bounding set lacks CAP_SYS_CHROOT
         * (an OCI config's capabilities) would not let us chroot after the
         * limit below. */
        if (fchdir(root_fd) < 0 || chroot(".") < 0 || chdir("/") < 0)
                enter_fail(sock, EXIT_FAILURE, errno, "cannot enter the root of machine %s: %m", name);
        /* From here the machine can see us (its mount namespace, and soon
         * its PID namespace): hold no capability it lacks, but for the two
         * the change of user takes (command_main() gives them up after it,
         * if the machine lacks them: an OCI config's capabilities). */
        r = caps_limit(bounding | (UINT64_C(1) << CAP_SETUID) | (UINT64_C(1) << CAP_SETGID));
        if (r < 0)
                enter_fail(sock, EXIT_FAILURE, r, "cannot limit the capabilities to those of machine %s: %s", name,
                           strerror(-r));
        /* In the machine's user namespace we are its overflow user until we
         * take its root, which the map makes the machine's base UID. */
        if (userns && (setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0 || setresuid(0, 0, 0) < 0))
                enter_fail(sock, EXIT_FAILURE, errno, "cannot become root of machine %s: %m", name);

        /* A login and a bare pty are root's, by number: a machine without
         * /etc/passwd still has one. */
        user = req->login || req->pty_only ? "0" : req->user ?: "root";
        r = user_lookup(user, &u);
        if (r == -ESRCH)
                enter_fail(sock, EXIT_FAILURE, r, "machine %s has no user '%s' in its /etc/passwd", name, user);
        if (r == -EINVAL)
                enter_fail(sock, EXIT_FAILURE, r, "'%s' is not a valid user for machine %s", user, name);
        if (r == -EBADFD)
                enter_fail(sock, EXIT_FAILURE, r, "/etc/passwd of machine %s is not a regular file", name);
        if (r < 0)
                enter_fail(sock, EXIT_FAILURE, r, "cannot read /etc/passwd of machine %s: %s", name, strerror(-r));

        /* A PID namespace takes the children of who joins it, not the joiner. */
        child = fork();
        if (child < 0) {
                r = errno;
                /* A PID namespace whose init is gone takes no new process. */
                if (sys_pidfd_send_signal(pidfd, 0) < 0)
                        enter_fail(sock, EXIT_FAILURE, r, "machine %s has ended", name);
                enter_fail(sock, EXIT_FAILURE, r, "cannot start a process in machine %s: %s", name, strerror(r));
        }
        if (child == 0)
                command_main(req, &u, bounding, filter, sock);
        root_fd = safe_close(root_fd);
        safe_close(pidfd);
        /* The fds passed on are the command's alone (a pipe's write end
         * kept here would keep its reader from seeing EOF). */
        if (req->pass_fds > 0)
                (void) close_range(3, 3 + req->pass_fds - 1, 0);

        EnterMessage msg = { .type = ENTER_PID, .pid = child };
        (void) send(sock, &msg, sizeof msg, MSG_NOSIGNAL);
        safe_close(sock);
        while (waitpid(child, &status, 0) < 0)
                if (errno != EINTR)
                        _exit(EXIT_FAILURE);
        _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* ---- boxctl's side ---- */

int enter_cgroup_path(pid_t leader, char **ret) {
        _cleanup_free_ char *cg = NULL;
        CgroupLayout layout;
        const char *mount;
        char *p;
        int r;

        r = cgroup_layout_detect(&layout, &mount);
        if (r < 0)
                return r;
        r = pid_cgroup2_path(leader, &cg);
        if (r < 0)
                return r;
        p = strjoin3(mount, streq(cg, "/") ? "" : cg, "");
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

static int wait_exit_status(pid_t pid) {
        int status;

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void enter_abort(pid_t pid, int child_pidfd) {
        if (child_pidfd >= 0)
                (void) sys_pidfd_send_signal(child_pidfd, SIGKILL);
        (void) kill(pid, SIGKILL);
}

/* One message, waiting at most until DEADLINE: its size, 0 at EOF, or < 0. */
static ssize_t recv_message(int sock, uint64_t deadline, int *fd, EnterMessage *msg) {
        for (;;) {
                struct pollfd p = { .fd = sock, .events = POLLIN };
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                int r;

                if (now >= deadline)
                        return -ETIMEDOUT;
                r = poll(&p, 1, (int) ((deadline - now + 999) / 1000));
                if (r < 0 && errno != EINTR)
                        return -errno;
                if (r > 0)
                        return recv_fd_with_data(sock, fd, msg, sizeof *msg);
        }
}

int machine_enter(const EnterRequest *req, EnterProcess *ret, char **ret_error) {
        _cleanup_close_ int pidfd = -EBADF, master = -EBADF, child_pidfd = -EBADF;
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + ENTER_TIMEOUT_USEC;
        int pair[2];
        pid_t pid, child = 0;
        EnterMessage msg;
        ssize_t n;
        int r;

        *ret = (EnterProcess) { .master = -EBADF, .child_pidfd = -EBADF };
        pidfd = (int) syscall(SYS_pidfd_open, req->leader, 0);
        if (pidfd < 0) {
                r = -errno;
                return asprintf(ret_error, "machine %s has ended", req->machine_name) < 0 ? -ENOMEM : r;
        }
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                r = -errno;
                safe_close(pair[0]);
                safe_close(pair[1]);
                return r;
        }
        if (pid == 0) {
                safe_close(pair[0]);
                enter_main(req, pidfd, pair[1]);
        }
        safe_close(pair[1]);

        /* Until EOF: the command's PID, perhaps a master, perhaps an error. */
        for (;;) {
                int fd = -EBADF;

                n = recv_message(pair[0], deadline, &fd, &msg);
                if (n == 0) {
                        safe_close(fd); /* an fd that came with an empty message */
                        break;
                }
                if (n > 0 && (size_t) n != sizeof msg)
                        n = -EBADMSG;
                if (n < 0) {
                        safe_close(fd);
                        enter_abort(pid, child_pidfd);
                        safe_close(pair[0]);
                        ret->status = wait_exit_status(pid);
                        if (n == -ETIMEDOUT)
                                return asprintf(ret_error, "machine %s did not let the command in within %llu s",
                                                req->machine_name, ENTER_TIMEOUT_USEC / 1000000ULL) < 0 ? -ENOMEM : -ETIMEDOUT;
                        return asprintf(ret_error, "cannot hear from the process entering machine %s: %s",
                                        req->machine_name, strerror((int) -n)) < 0 ? -ENOMEM : (int) n;
                }
                if (msg.type == ENTER_PID) {
                        safe_close(fd); /* a PID comes alone */
                        child = msg.pid;
                        /* Before it can end: the waiter reaps it only after it ran. */
                        safe_close(child_pidfd);
                        child_pidfd = (int) syscall(SYS_pidfd_open, child, 0);
                } else if (msg.type == ENTER_MASTER) {
                        safe_close(master);
                        master = fd;
                        memcpy(ret->pty_name, msg.text, sizeof ret->pty_name);
                        ret->pty_name[sizeof ret->pty_name - 1] = '\0';
                } else {
                        safe_close(fd);
                        msg.text[sizeof msg.text - 1] = '\0';
                        *ret_error = strdup(msg.text);
                        safe_close(pair[0]);
                        ret->status = wait_exit_status(pid);
                        /* Only a real errno: 0 or less would read as success. */
                        return msg.error > 0 && msg.error < 4096 ? -msg.error : -EIO;
                }
        }
        safe_close(pair[0]);
        if (child <= 0 || (req->pty && master < 0)) {
                enter_abort(pid, child_pidfd);
                ret->status = wait_exit_status(pid);
                return asprintf(ret_error, "the process entering machine %s died before it ran the command",
                                req->machine_name) < 0 ? -ENOMEM : -ECHILD;
        }
        ret->pid = pid;
        ret->child = child;
        ret->child_pidfd = TAKE_FD(child_pidfd);
        ret->master = TAKE_FD(master);
        return 0;
}
