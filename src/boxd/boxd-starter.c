/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "boxd-starter.h"
#include "enabled.h"
#include "log.h"
#include "util.h"

typedef struct StartJob {
        Starter *starter;
        char *name;
        pid_t pid;
        int err_fd; /* the read end of the child's stderr */
        sd_event_source *source;
        uint64_t begin_usec;
} StartJob;

struct Starter {
        sd_event *event;
        Registry *registry;
        char *binary;
        const char *wait; /* "--wait=ready" or "--wait=registered" */
        unsigned concurrency, running, max_running;
        char **queue; /* names, in order */
        size_t n_queue, next;
        size_t n_started, n_failed;
        uint64_t begin_usec;
};

static StartJob *start_job_free(StartJob *j) {
        if (!j)
                return NULL;
        sd_event_source_unref(j->source);
        safe_close(j->err_fd);
        free(j->name);
        free(j);
        return NULL;
}

unsigned starter_default_concurrency(void) {
        cpu_set_t set;
        int n = 0;

        /* Measured with 20 busybox machines on 2 CPUs (test-enable.sh, boxd's
         * own summary line): 1 at once took 4.3 s, 2 4.2 s, 3 2.8-3.2 s, 4
         * 2.4 s, 8 2.4 s. A start waits on the bus and the file system as
         * much as on a CPU, so twice the CPUs keep them busy; beyond that
         * the starts only queue for them (each one took 0.43 s at 4, 0.88 s
         * at 8), with nothing gained in the total. That was the bound on
         * registration (--start-wait=registered). With the bound on whole
         * boots (ready, the default), bench/density.sh brought 100 Debian
         * machines up in 31.6 s four at a time against 32.7 s all
         * overlapping, with 10% less CPU; at 10 to 50 machines the waves
         * were 7 to 19% faster (bench/results.md). */
        if (sched_getaffinity(0, sizeof set, &set) >= 0)
                n = CPU_COUNT(&set);
        if (n <= 0)
                n = (int) sysconf(_SC_NPROCESSORS_ONLN);
        return 2 * (unsigned) MAX(n, 1);
}

int starter_new(sd_event *e, Registry *reg, const char *binary, unsigned concurrency, const char *wait,
                Starter **ret) {
        Starter *s;

        if (concurrency == 0 || !wait || (!streq(wait, "ready") && !streq(wait, "registered")))
                return -EINVAL;
        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->binary = strdup(binary);
        if (!s->binary) {
                free(s);
                return -ENOMEM;
        }
        s->event = sd_event_ref(e);
        s->registry = reg;
        s->concurrency = concurrency;
        s->wait = streq(wait, "ready") ? "--wait=ready" : "--wait=registered";
        *ret = s;
        return 0;
}

Starter *starter_free(Starter *s) {
        if (!s)
                return NULL;
        /* Children still running go on: each either registers its machine
         * or fails, and nobody is left to log which. */
        sd_event_unref(s->event);
        strv_freep(&s->queue);
        free(s->binary);
        free(s);
        return NULL;
}

/* The child's last non-empty line of stderr: boxctl says why in one. The fd
 * does not block: a grandchild (the machine's supervisor) may hold the pipe
 * a moment longer, and only what is there now counts. */
static void read_last_line(int fd, char *buf, size_t size) {
        char all[16 * 1024], *end, *start;
        size_t n = 0;

        for (;;) {
                ssize_t k;

                if (n == sizeof all - 1) { /* keep the end: the last line is what matters */
                        memmove(all, all + sizeof all / 2, sizeof all / 2 - 1);
                        n = sizeof all / 2 - 1;
                }
                k = read(fd, all + n, sizeof all - 1 - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                n += (size_t) k;
        }
        all[n] = '\0';
        end = all + n;
        while (end > all && (end[-1] == '\n' || end[-1] == ' '))
                *--end = '\0';
        start = strrchr(all, '\n');
        start = start ? start + 1 : all;
        n = MIN(strlen(start), size - 1);
        memcpy(buf, start, n);
        buf[n] = '\0';
}

static void starter_next(Starter *s);

static void starter_job_done(Starter *s) {
        s->running--;
        starter_next(s);
        if (s->running == 0 && s->next >= s->n_queue)
                log_info("Started %zu of %zu enabled machines in %.2f s, at most %u at once (limit %u).",
                         s->n_started, s->n_queue, (double) (now_usec(CLOCK_MONOTONIC) - s->begin_usec) / 1e6,
                         s->max_running, s->concurrency);
}

static int on_child_exit(sd_event_source *source, const siginfo_t *si, void *userdata) {
        StartJob *j = userdata;
        Starter *s = j->starter;
        double secs = (double) (now_usec(CLOCK_MONOTONIC) - j->begin_usec) / 1e6;

        if (si->si_code == CLD_EXITED && si->si_status == 0) {
                s->n_started++;
                log_info("Started enabled machine %s in %.2f s.", j->name, secs);
        } else {
                char line[512];

                read_last_line(j->err_fd, line, sizeof line);
                s->n_failed++;
                if (si->si_code == CLD_EXITED)
                        log_error("Failed to start enabled machine %s (exit status %d after %.2f s): %s", j->name,
                                  si->si_status, secs, line[0] ? line : "no message");
                else
                        log_error("Failed to start enabled machine %s: killed by signal %s after %.2f s", j->name,
                                  strsignal(si->si_status), secs);
        }
        start_job_free(j);
        starter_job_done(s);
        return 0;
}

static _noreturn_ void child_exec(const char *binary, const char *name, const char *wait, int err_fd) {
        char *argv[] = { (char *) binary, (char *) "start", (char *) name, (char *) wait, NULL };
        int null_fd;

        /* boxd blocks SIGCHLD, SIGTERM and SIGINT for its event loop; its
         * service manager's socket is boxd's, not for what it starts. */
        signals_reset_all();
        (void) unsetenv("NOTIFY_SOCKET");
        null_fd = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 || dup2(null_fd, STDOUT_FILENO) < 0 ||
            dup2(err_fd, STDERR_FILENO) < 0)
                _exit(EXIT_FAILURE);
        execv(binary, argv);
        dprintf(STDERR_FILENO, "cannot execute %s: %s\n", binary, strerror(errno));
        _exit(127);
}

static int starter_spawn(Starter *s, const char *name) {
        _cleanup_close_ int rfd = -EBADF, wfd = -EBADF;
        StartJob *j;
        int p[2], r;

        j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        *j = (StartJob) { .starter = s, .err_fd = -EBADF, .begin_usec = now_usec(CLOCK_MONOTONIC) };
        j->name = strdup(name);
        if (!j->name) {
                start_job_free(j);
                return -ENOMEM;
        }
        if (pipe2(p, O_CLOEXEC) < 0) {
                r = -errno;
                start_job_free(j);
                return r;
        }
        rfd = p[0];
        wfd = p[1];
        j->pid = fork();
        if (j->pid < 0) {
                r = -errno;
                start_job_free(j);
                return r;
        }
        if (j->pid == 0)
                child_exec(s->binary, name, s->wait, wfd);
        wfd = safe_close(wfd);
        (void) fd_nonblock(rfd, true);
        j->err_fd = TAKE_FD(rfd);
        r = sd_event_add_child(s->event, &j->source, j->pid, WEXITED, on_child_exit, j);
        if (r < 0) {
                /* Not watched, so not counted: reap it so that it is no zombie. */
                (void) waitpid(j->pid, NULL, 0);
                start_job_free(j);
                return r;
        }
        s->running++;
        s->max_running = MAX(s->max_running, s->running);
        log_debug("Starting enabled machine %s (PID %d; %u of at most %u starts running).", name, (int) j->pid,
                  s->running, s->concurrency);
        return 0;
}

static void starter_next(Starter *s) {
        while (s->running < s->concurrency && s->next < s->n_queue) {
                const char *name = s->queue[s->next++];
                int r = starter_spawn(s, name);

                if (r < 0) {
                        s->n_failed++;
                        log_error_errno(r, "Failed to start enabled machine %s: cannot run %s: %m", name, s->binary);
                }
        }
}

/* On a host booted with systemd, machines.target starts the enabled
 * machines (box@NAME.service, which "boxctl enable" puts in its wants):
 * a machine started from here would live in boxd.service's cgroup, under its
 * sandboxing (PrivateTmp=, NoNewPrivileges=), and die with it. */
static bool left_to_systemd(const char *name) {
        _cleanup_free_ char *p = NULL;

        if (!enabled_host_has_systemd())
                return false;
        if (enabled_systemd_wants_path(name, &p) >= 0 && access(p, F_OK) < 0)
                log_warning("Machine %s is enabled, but box@%s.service is not wanted by machines.target: "
                            "run 'boxctl enable %s' again for systemd to start it.", name, name, name);
        return true;
}

int starter_start_enabled(Starter *s) {
        _cleanup_strv_free_ char **names = NULL;
        int r;

        r = enabled_list(&names);
        if (r < 0)
                return r;
        for (char **n = names; *n; n++) {
                if (registry_find(s->registry, *n)) {
                        log_debug("Enabled machine %s runs already.", *n);
                        continue;
                }
                if (left_to_systemd(*n)) {
                        log_debug("Enabled machine %s is left to box@%s.service.", *n, *n);
                        continue;
                }
                if (strv_push_dup(&s->queue, *n) < 0)
                        return -ENOMEM;
                s->n_queue++;
        }
        s->begin_usec = now_usec(CLOCK_MONOTONIC);
        if (s->n_queue > 0)
                log_info("Starting %zu enabled machines, at most %u at once.", s->n_queue, s->concurrency);
        starter_next(s);
        return (int) s->n_queue;
}
