/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A static test payload for resource limits, run inside machines (busybox's
 * tree has no libc):
 *
 *   limits-probe alloc MIB   allocate and touch MIB MiB, 1 MiB at a time, saying
 *                            "allocated N MiB" every 8; "survived" at the end
 *   limits-probe fork N      fork up to N children that wait; print "forked K"
 *                            and, when a fork failed, its errno name; then end
 *                            them all
 *   limits-probe hold        wait, without ever forking, until SIGUSR1; then
 *                            exit 0 (a payload that outlives a fork bomb in
 *                            its own machine, where a shell's `sleep` would
 *                            fail to fork and end it)
 *
 * Exit status 0 when it ran to the end, 1 on bad arguments. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int cmd_alloc(long mib) {
        for (long i = 1; i <= mib; i++) {
                char *p = malloc(1 << 20);

                if (!p) {
                        printf("malloc failed after %ld MiB\n", i - 1);
                        return 0;
                }
                memset(p, (int) i, 1 << 20); /* touch every page: it is charged only then */
                if (i % 8 == 0) {
                        printf("allocated %ld MiB\n", i);
                        fflush(stdout);
                }
        }
        printf("survived\n");
        return 0;
}

static int cmd_fork(long n) {
        int fds[2];
        long k = 0;
        int err = 0;

        /* The children wait for EOF on a pipe: they end with us. */
        if (pipe(fds) < 0)
                return 1;
        for (; k < n; k++) {
                pid_t pid = fork();

                if (pid < 0) {
                        err = errno;
                        break;
                }
                if (pid == 0) {
                        char c;

                        close(fds[1]);
                        (void) read(fds[0], &c, 1);
                        _exit(0);
                }
        }
        printf("forked %ld%s%s\n", k, err ? " " : "", err ? strerrorname_np(err) : "");
        fflush(stdout);
        close(fds[1]);
        while (wait(NULL) > 0)
                ;
        return 0;
}

static void on_usr1(int sig) {
        _exit(0);
}

static int cmd_hold(void) {
        struct sigaction sa = { .sa_handler = on_usr1 };

        if (sigaction(SIGUSR1, &sa, NULL) < 0)
                return 1;
        for (;;)
                pause();
}

int main(int argc, char *argv[]) {
        char *end;
        long n;

        if (argc == 2 && strcmp(argv[1], "hold") == 0)
                return cmd_hold();
        if (argc != 3)
                goto usage;
        n = strtol(argv[2], &end, 10);
        if (*end || n <= 0)
                goto usage;
        if (strcmp(argv[1], "alloc") == 0)
                return cmd_alloc(n);
        if (strcmp(argv[1], "fork") == 0)
                return cmd_fork(n);
usage:
        fprintf(stderr, "usage: limits-probe alloc MIB | fork N | hold\n");
        return 1;
}
