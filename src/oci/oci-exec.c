/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "enter-session.h"
#include "oci-config.h"
#include "oci-log.h"
#include "oci-seccomp.h"
#include "oci-state.h"
#include "oci-verbs.h"
#include "process-util.h"
#include "util.h"

/* exec and ps: a running container's processes. exec goes in as
 * "boxctl shell" does (machine_enter(): the container's namespaces, root,
 * cgroup, bounding set and system call filter). */

typedef struct ExecArgs {
        const char *process;
        const char *console_socket;
        const char *pid_file;
        const char *cwd;
        const char *user;
        gid_t *additional_gids;
        size_t n_additional_gids;
        char **env;
        bool tty, detach;
        unsigned pass_fds;
        const char *id;
        char **argv;
} ExecArgs;

static int parse_exec_args(int argc, char *argv[], ExecArgs *a) {
        static const struct option options[] = {
                { "process", required_argument, NULL, 'p' },
                { "console-socket", required_argument, NULL, 'c' },
                { "pid-file", required_argument, NULL, 'P' },
                { "cwd", required_argument, NULL, 'w' },
                { "user", required_argument, NULL, 'u' },
                { "env", required_argument, NULL, 'e' },
                { "tty", no_argument, NULL, 't' },
                { "detach", no_argument, NULL, 'd' },
                { "preserve-fds", required_argument, NULL, 'F' },
                { "process-label", required_argument, NULL, 'L' },
                { "apparmor", required_argument, NULL, 'A' },
                { "no-new-privs", no_argument, NULL, 'N' },
                { "cap", required_argument, NULL, 'C' },
                { "additional-gids", required_argument, NULL, 'g' },
                {}
        };
        int c;

        optind = 1;
        /* "+": the command's own options are its own. */
        while ((c = getopt_long(argc, argv, "+p:tdu:e:g:", options, NULL)) >= 0)
                switch (c) {
                case 'p':
                        a->process = optarg;
                        break;
                case 'c':
                        a->console_socket = optarg;
                        break;
                case 'P':
                        a->pid_file = optarg;
                        break;
                case 'w':
                        a->cwd = optarg;
                        break;
                case 'u':
                        a->user = optarg;
                        break;
                case 'e':
                        if (strv_push_dup(&a->env, optarg) < 0)
                                return oci_error(ENOMEM, "out of memory");
                        break;
                case 'g': {
                        unsigned gid;
                        gid_t *n;

                        if (parse_uint(optarg, &gid) < 0 || gid == (unsigned) -1)
                                return oci_error(EINVAL, "--additional-gids %s: not a group ID", optarg);
                        n = reallocarray(a->additional_gids, a->n_additional_gids + 1, sizeof(gid_t));
                        if (!n)
                                return oci_error(ENOMEM, "out of memory");
                        a->additional_gids = n;
                        a->additional_gids[a->n_additional_gids++] = gid;
                        break;
                }
                case 't':
                        a->tty = true;
                        break;
                case 'd':
                        a->detach = true;
                        break;
                case 'F':
                        if (oci_parse_preserve_fds(optarg, &a->pass_fds) < 0)
                                return -EINVAL;
                        break;
                case 'L':
                case 'A':
                case 'N':
                case 'C':
                        break;
                default:
                        return -EINVAL;
                }
        if (optind >= argc)
                return oci_error(EINVAL, "\"exec\" requires a container ID");
        a->id = argv[optind];
        a->argv = argv + optind + 1;
        if (!a->process && !*a->argv)
                return oci_error(EINVAL, "exec: give the process as --process FILE or as arguments after the ID");
        return 0;
}

static int connect_console(const char *path, int *ret_fd) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        if (stat(path, &st) < 0)
                return oci_error(errno, "console socket %s: %s", path, strerror(errno));
        if (!S_ISSOCK(st.st_mode))
                return oci_error(ENOTSOCK, "console socket %s: not a socket", path);
        if (strlen(path) >= sizeof sa.sun_path)
                return oci_error(ENAMETOOLONG, "console socket %s: path too long", path);
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return oci_error(errno, "console socket %s: cannot connect: %s", path, strerror(errno));
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int write_pid_file(const char *path, pid_t pid) {
        char text[32];
        int r;

        snprintf(text, sizeof text, "%d", (int) pid);
        r = write_file_at(AT_FDCWD, path, text, 0644);
        if (r < 0)
                return oci_error(r, "--pid-file %s: %s", path, strerror(-r));
        return 0;
}

static int exec_on_our_terminal(const ExecArgs *a, const OciState *st, EnterRequest *req) {
        _cleanup_free_ char *error = NULL;
        EnterSession session = ENTER_SESSION_INIT;
        int r;

        req->term = getenv("TERM") ?: "xterm";
        r = enter_session_prepare(&session, req);
        if (r < 0) {
                r = oci_error(r, "container %s: cannot set up the terminal: %s", st->id, strerror(-r));
                goto finish;
        }
        r = machine_enter(req, &session.proc, &error);
        enter_session_entered(&session);
        if (r < 0) {
                r = oci_error(r, "container %s: %s", st->id, error ?: strerror(-r));
                goto finish;
        }
        if (a->pid_file) {
                r = write_pid_file(a->pid_file, session.proc.pid);
                if (r < 0) {
                        enter_session_signal(&session, SIGKILL);
                        goto finish;
                }
        }
        r = enter_session_run(&session);
        if (r < 0) {
                enter_session_signal(&session, SIGKILL);
                r = oci_error(r, "container %s: the terminal: %s", st->id, strerror(-r));
                goto finish;
        }
        r = session.status;
finish:
        enter_session_done(&session);
        return r;
}

static int exec_process(const ExecArgs *a, const OciState *st, const OciConfig *p, const OciSeccomp *filter,
                        int console_fd) {
        _cleanup_free_ char *cg = NULL, *cgroup_path = NULL, *error = NULL, *user = NULL;
        _cleanup_strv_free_ char **env = NULL;
        EnterProcess proc = { .master = -EBADF, .child_pidfd = -EBADF };
        CgroupLayout layout;
        const char *mount;
        int r, status;

        r = cgroup_layout_detect(&layout, &mount);
        if (r >= 0)
                r = pid_cgroup2_path(st->pid, &cg);
        if (r < 0)
                return oci_error(r, "container %s: cannot find its cgroup: %s", st->id, strerror(-r));
        cgroup_path = strjoin3(mount, streq(cg, "/") ? "" : cg, "");
        /* Whom to run as: --process's user exactly (uid, gid,
         * additionalGids), or --user UID[:GID] (with a GID: that and
         * --additional-gids; without: the user's groups from the machine's
         * /etc/passwd and /etc/group, as boxctl shell does). */
        bool exact_ids = !!a->process;
        gid_t gid = p->gid;
        const gid_t *groups = p->additional_gids;
        size_t n_groups = p->n_additional_gids;
        if (!a->process && a->user) {
                const char *colon = strchr(a->user, ':');
                unsigned g;

                user = colon ? strndup(a->user, colon - a->user) : strdup(a->user);
                if (colon) {
                        if (parse_uint(colon + 1, &g) < 0 || g == (unsigned) -1)
                                return oci_error(EINVAL, "--user %s: the group is not a number", a->user);
                        exact_ids = true;
                        gid = g;
                        groups = a->additional_gids;
                        n_groups = a->n_additional_gids;
                }
        } else if (asprintf(&user, "%u", (unsigned) p->uid) < 0)
                user = NULL;
        if (!cgroup_path || !user)
                return oci_error(ENOMEM, "out of memory");
        env = strv_copy(p->env);
        for (char **e = a->env; e && *e; e++)
                if (strv_push_dup(&env, *e) < 0)
                        return oci_error(ENOMEM, "out of memory");
        EnterRequest req = {
                .machine_name = st->id,
                .leader = st->pid,
                .cgroup_path = cgroup_path,
                .user = user,
                .exact_ids = exact_ids,
                .gid = gid,
                .groups = groups,
                .n_groups = n_groups,
                .cwd = a->cwd ?: (a->process ? p->cwd : NULL),
                .extra_filter = filter->insns,
                .n_extra_filter = filter->n_insns,
                .extra_filter_flags = filter->flags,
                .argv = p->args,
                .setenv = env,
                .term = "xterm",
                .pty = p->terminal,
                .stdio = { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO },
                .pass_fds = a->pass_fds,
        };
        /* A terminal and no console socket: ours, forwarded until the
         * command ends, as "boxctl shell" does (runc's foreground tty). */
        if (p->terminal && console_fd < 0)
                return exec_on_our_terminal(a, st, &req);
        r = machine_enter(&req, &proc, &error);
        if (r < 0)
                return oci_error(r, "container %s: %s", st->id, error ?: strerror(-r));
        if (proc.master >= 0) {
                (void) fd_nonblock(proc.master, false);
                r = send_fd_with_data(console_fd, proc.master, "/dev/ptmx", strlen("/dev/ptmx"));
                safe_close(proc.master);
                if (r < 0)
                        return oci_error(r, "console socket %s: cannot send the terminal: %s", a->console_socket, strerror(-r));
        }
        safe_close(proc.child_pidfd);
        /* Whom the engine waits for: the waiter, which exits with the command's status. */
        if (a->pid_file) {
                r = write_pid_file(a->pid_file, proc.pid);
                if (r < 0)
                        return r;
        }
        if (a->detach)
                return 0;
        if (waitpid(proc.pid, &status, 0) < 0)
                return oci_error(errno, "container %s: cannot wait for the command: %s", st->id, strerror(errno));
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int verb_exec(int argc, char *argv[]) {
        _cleanup_(oci_config_done) OciConfig p = {};
        _cleanup_(oci_state_done) OciState st = {};
        _cleanup_(oci_seccomp_done) OciSeccomp filter = {};
        _cleanup_close_ int dir_fd = -EBADF, console_fd = -EBADF;
        _cleanup_free_ char *error = NULL;
        ExecArgs a = {};
        int r;

        r = parse_exec_args(argc, argv, &a);
        if (r < 0)
                goto finish;
        if (a.process) {
                _cleanup_free_ char *text = NULL;

                r = read_file_at(AT_FDCWD, a.process, 16 * 1024 * 1024, &text);
                if (r < 0) {
                        r = oci_error(r, "--process %s: %s", a.process, strerror(-r));
                        goto finish;
                }
                r = oci_process_parse(text, &p, &error);
                if (r < 0) {
                        r = oci_error(r, "--process %s: %s", a.process, error);
                        goto finish;
                }
        } else {
                p.args = strv_copy(a.argv);
                p.terminal = a.tty;
                if (!p.args || strv_push_dup(&p.env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") < 0) {
                        r = oci_error(ENOMEM, "out of memory");
                        goto finish;
                }
        }
        /* runc's rule: a terminal of our own needs us to stay. */
        if (p.terminal && !a.console_socket && a.detach) {
                r = oci_error(EINVAL, "cannot allocate tty if runc will detach without setting console socket");
                goto finish;
        }
        if (a.console_socket && !p.terminal) {
                r = oci_error(EINVAL, "cannot use console socket if runc will not detach or allocate tty");
                goto finish;
        }
        if (a.console_socket) {
                r = connect_console(a.console_socket, &console_fd);
                if (r < 0)
                        goto finish;
        }
        r = oci_container_open("exec", a.id, &dir_fd, &st);
        if (r < 0)
                goto finish;
        if (oci_state_status(dir_fd, &st) == OCI_STATUS_PAUSED) {
                r = oci_error(EINVAL, "cannot exec in a paused container");
                goto finish;
        }
        if (oci_state_status(dir_fd, &st) != OCI_STATUS_RUNNING) {
                r = oci_error(ESRCH, "cannot exec in a container that is not running (%s)", oci_status_to_string(oci_state_status(dir_fd, &st)));
                goto finish;
        }
        /* The container's linux.seccomp applies to what runs in it later too. */
        r = oci_seccomp_load(dir_fd, &filter);
        if (r < 0) {
                r = oci_error(r, "container %s: cannot read its saved linux.seccomp: %s", st.id, strerror(-r));
                goto finish;
        }
        /* The lock is for changes of the container; an exec may last. */
        dir_fd = safe_close(dir_fd);
        r = exec_process(&a, &st, &p, &filter, console_fd);
finish:
        strv_freep(&a.env);
        free(a.additional_gids);
        return r < 0 ? 1 : r;
}

int verb_ps(int argc, char *argv[]) {
        static const struct option options[] = {
                { "format", required_argument, NULL, 'f' },
                {}
        };
        _cleanup_(oci_state_done) OciState st = {};
        _cleanup_close_ int dir_fd = -EBADF;
        _cleanup_free_ char *cg = NULL, *procs = NULL, *path = NULL;
        CgroupLayout layout;
        const char *mount;
        bool json = false;
        int c, r;

        optind = 1;
        while ((c = getopt_long(argc, argv, "+f:", options, NULL)) >= 0)
                if (c == 'f' && (streq(optarg, "json") || streq(optarg, "table")))
                        json = streq(optarg, "json");
                else
                        return c == 'f' ? (oci_error(EINVAL, "invalid format option: %s", optarg), 1) : 1;
        if (optind >= argc)
                return oci_error(EINVAL, "\"ps\" requires a container ID"), 1;
        if (oci_container_open("ps", argv[optind], &dir_fd, &st) < 0)
                return 1;
        if (oci_state_status(dir_fd, &st) == OCI_STATUS_STOPPED)
                return json ? (printf("[]\n"), 0) : 0;
        r = cgroup_layout_detect(&layout, &mount);
        if (r >= 0)
                r = pid_cgroup2_path(st.pid, &cg);
        if (r >= 0) {
                path = strjoin3(mount, cg, "/cgroup.procs");
                r = path ? read_file_at(AT_FDCWD, path, 4 * 1024 * 1024, &procs) : -ENOMEM;
        }
        if (r < 0)
                return oci_error(r, "container %s: cannot read its processes: %s", st.id, strerror(-r)), 1;
        if (json) {
                json_object *a = json_object_new_array();

                for (char *l = strtok(procs, "\n"); l; l = strtok(NULL, "\n"))
                        json_object_array_add(a, json_object_new_int(atoi(l)));
                printf("%s\n", json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
                json_object_put(a);
                return 0;
        }
        printf("%-8s %s\n", "PID", "CMD");
        for (char *l = strtok(procs, "\n"); l; l = strtok(NULL, "\n")) {
                _cleanup_free_ char *cmd = NULL;
                char p[64];

                snprintf(p, sizeof p, "/proc/%s/comm", l);
                if (read_file_at(AT_FDCWD, p, 4096, &cmd) >= 0)
                        cmd[strcspn(cmd, "\n")] = '\0';
                printf("%-8s %s\n", l, strempty(cmd));
        }
        return 0;
}
