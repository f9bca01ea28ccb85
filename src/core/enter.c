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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "caps.h"
#include "enter.h"
#include "log.h"
#include "missing-syscall.h"
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

typedef struct User {
        uid_t uid;
        gid_t gid;
        char name[64];
        char home[PATH_MAX];
        char shell[PATH_MAX];
} User;

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

/* Only the files: an NSS module of the machine's must not run in boxctl. */
static int user_lookup(const char *spec, User *ret) {
        _cleanup_free_ char *passwd = NULL;
        unsigned num;
        bool by_number = parse_uint(spec, &num) >= 0;
        int r;

        r = read_file_at(AT_FDCWD, "/etc/passwd", 4 * 1024 * 1024, &passwd);
        if (r < 0 && !(r == -ENOENT && by_number))
                return r;
        for (char *l = passwd; l && *l;) {
                char *e = strchrnul(l, '\n'), *f[7];
                bool more = *e != '\0';
                unsigned uid, gid;

                *e = '\0';
                if (split_colons(l, f, 7) == 7 && parse_uint(f[2], &uid) >= 0 && parse_uint(f[3], &gid) >= 0 &&
                    (by_number ? uid == num : streq(f[0], spec))) {
                        *ret = (User) { .uid = uid, .gid = gid };
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
        *ret = (User) { .uid = num, .gid = num };
        snprintf(ret->name, sizeof ret->name, "%u", num);
        snprintf(ret->home, sizeof ret->home, "/");
        snprintf(ret->shell, sizeof ret->shell, "/bin/sh");
        return 0;
}

/* The user's supplementary groups: those of /etc/group that list them. */
static int user_groups(const User *u, gid_t *groups, size_t max, size_t *ret_n) {
        _cleanup_free_ char *group = NULL;
        size_t n = 0;
        int r;

        r = read_file_at(AT_FDCWD, "/etc/group", 4 * 1024 * 1024, &group);
        if (r == -ENOENT) {
                *ret_n = 0;
                return 0;
        }
        if (r < 0)
                return r;
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
        *ret_n = n;
        return 0;
}

/* ---- the command's process ---- */

static char **enter_environment(const EnterRequest *req, const User *u) {
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

        master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                enter_fail(sock, EXIT_FAILURE, errno, "cannot open /dev/ptmx in machine %s: %m", req->machine_name);
        if (unlockpt(master) < 0 || ptsname_r(master, name, sizeof name) != 0)
                enter_fail(sock, EXIT_FAILURE, errno, "cannot set up a pty in machine %s: %m", req->machine_name);
        slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                enter_fail(sock, EXIT_FAILURE, errno, "cannot open %s in machine %s: %m", name, req->machine_name);
        EnterMessage msg = { .type = ENTER_MASTER };
        snprintf(msg.text, sizeof msg.text, "%s", name);
        if (send_fd_with_data(sock, master, &msg, sizeof msg) < 0)
                _exit(EXIT_FAILURE);
        if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)
                enter_fail(sock, EXIT_FAILURE, errno, "cannot make %s the terminal of the command: %m", name);
        if (dup2(slave, STDIN_FILENO) < 0 || dup2(slave, STDOUT_FILENO) < 0 || dup2(slave, STDERR_FILENO) < 0)
                enter_fail(sock, EXIT_FAILURE, errno, "cannot attach to %s: %m", name);
}

static _noreturn_ void command_main(const EnterRequest *req, const User *u, uint64_t bounding, int sock) {
        gid_t groups[64];
        size_t n_groups = 0;
        char **env, login[PATH_MAX + 1];
        char *shell_argv[] = { login, NULL };
        char *path_argv[] = { (char *) req->path, NULL };
        char **argv = req->argv && req->argv[0] ? req->argv : req->path ? path_argv : shell_argv;
        const char *program = req->path ?: argv == shell_argv ? u->shell : argv[0];
        sigset_t none;
        int r;

        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) signal(sig, SIG_DFL);
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);

        if (req->pty)
                command_take_pty(req, sock);

        r = caps_apply_bounding(bounding);
        if (r < 0)
                enter_fail(sock, EXIT_FAILURE, r, "cannot limit the capabilities to those of machine %s",
                           req->machine_name);
        /* While still root: loading a filter takes CAP_SYS_ADMIN, or
         * no_new_privs, which would break the machine's setuid programs. */
        r = seccomp_apply_machine_filter();
        if (r < 0)
                enter_fail(sock, EXIT_FAILURE, r, "cannot install the system call filter of machine %s",
                           req->machine_name);
        if (u->uid != 0) {
                r = user_groups(u, groups, ELEMENTSOF(groups), &n_groups);
                if (r < 0)
                        enter_fail(sock, EXIT_FAILURE, r, "cannot read /etc/group of machine %s", req->machine_name);
        }
        if (setgroups(n_groups, groups) < 0 || setresgid(u->gid, u->gid, u->gid) < 0 ||
            setresuid(u->uid, u->uid, u->uid) < 0)
                enter_fail(sock, EXIT_FAILURE, errno, "cannot become user %s in machine %s: %m", u->name,
                           req->machine_name);
        if (chdir(u->home) < 0 && chdir("/") < 0)
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
        const char *name = req->machine_name;
        char path[PATH_MAX];
        uint64_t bounding;
        bool userns;
        int flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWCGROUP;
        User u;
        pid_t child;
        int r, status;

        /* Ctrl-C on a shared terminal is the command's, and boxctl passes
         * on the rest: this process only waits. */
        (void) signal(SIGINT, SIG_IGN);
        (void) signal(SIGQUIT, SIG_IGN);
        (void) signal(SIGTERM, SIG_IGN);
        (void) signal(SIGHUP, SIG_IGN);

        /* Into the leader's cgroup first, from the host: the command is then
         * the machine's to account, limit, and kill with it. */
        snprintf(path, sizeof path, "%s/cgroup.procs", req->cgroup_path);
        r = write_string_file(path, "0");
        if (r < 0)
                enter_fail(sock, EXIT_FAILURE, r, "cannot join the cgroup %s of machine %s: %s", req->cgroup_path,
                           name, strerror(-r));
        snprintf(path, sizeof path, "/proc/%d/root", (int) req->leader);
        root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                enter_fail(sock, EXIT_FAILURE, errno, "cannot open the root of machine %s: %m", name);
        r = read_bounding_set(req->leader, &bounding);
        if (r < 0)
                enter_fail(sock, EXIT_FAILURE, r, "cannot read the capabilities of machine %s", name);
        /* All of that was the leader's, not a process that took its PID. */
        if (sys_pidfd_send_signal(pidfd, 0) < 0)
                enter_fail(sock, EXIT_FAILURE, errno, "machine %s has ended", name);

        userns = !same_namespace(req->leader, "user");
        if (userns)
                flags |= CLONE_NEWUSER;
        if (setns(pidfd, flags) < 0)
                enter_fail(sock, EXIT_FAILURE, errno, "cannot enter the namespaces of machine %s: %m", name);
        if (fchdir(root_fd) < 0 || chroot(".") < 0 || chdir("/") < 0)
                enter_fail(sock, EXIT_FAILURE, errno, "cannot enter the root of machine %s: %m", name);
        /* In the machine's user namespace we are its overflow user until we
         * take its root, which the map makes the machine's base UID. */
        if (userns && (setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0 || setresuid(0, 0, 0) < 0))
                enter_fail(sock, EXIT_FAILURE, errno, "cannot become root of machine %s: %m", name);

        r = user_lookup(req->user ?: "root", &u);
        if (r == -ESRCH)
                enter_fail(sock, EXIT_FAILURE, r, "machine %s has no user '%s' in its /etc/passwd", name,
                           req->user ?: "root");
        if (r < 0)
                enter_fail(sock, EXIT_FAILURE, r, "cannot read /etc/passwd of machine %s: %s", name, strerror(-r));

        /* A PID namespace takes the children of who joins it, not the joiner. */
        child = fork();
        if (child < 0)
                enter_fail(sock, EXIT_FAILURE, errno, "fork: %m");
        if (child == 0)
                command_main(req, &u, bounding, sock);

        EnterMessage msg = { .type = ENTER_PID, .pid = child };
        (void) send(sock, &msg, sizeof msg, MSG_NOSIGNAL);
        safe_close(sock);
        while (waitpid(child, &status, 0) < 0)
                if (errno != EINTR)
                        _exit(EXIT_FAILURE);
        _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* ---- boxctl's side ---- */

static int wait_exit_status(pid_t pid) {
        int status;

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int machine_enter(const EnterRequest *req, EnterProcess *ret, char **ret_error) {
        _cleanup_close_ int pidfd = -EBADF, master = -EBADF;
        int pair[2];
        pid_t pid, child = 0;
        EnterMessage msg;
        ssize_t n;
        int r;

        *ret = (EnterProcess) { .master = -EBADF };
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

                n = recv_fd_with_data(pair[0], &fd, &msg, sizeof msg);
                if (n <= 0 || (size_t) n != sizeof msg) {
                        safe_close(fd);
                        break;
                }
                if (msg.type == ENTER_PID)
                        child = msg.pid;
                else if (msg.type == ENTER_MASTER) {
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
                        return -(msg.error ?: EIO);
                }
        }
        safe_close(pair[0]);
        if (n < 0 || child <= 0) {
                r = n < 0 ? (int) n : -ECHILD;
                ret->status = wait_exit_status(pid);
                return asprintf(ret_error, "the process entering machine %s died before it ran the command",
                                req->machine_name) < 0 ? -ENOMEM : r;
        }
        ret->pid = pid;
        ret->child = child;
        ret->master = TAKE_FD(master);
        return 0;
}
