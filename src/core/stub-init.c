/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include "stub-init.h"

static volatile pid_t main_pid;

static const int forwarded_signals[] = {
        SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGALRM,
};

static void forward_signal(int sig) {
        if (main_pid > 0)
                (void) kill(main_pid, sig);
}

void stub_init_exec(char **argv, char **envp, bool controlling_tty) {
        extern char **environ;
        sigset_t none;

        for (size_t i = 0; i < ELEMENTSOF(forwarded_signals); i++)
                (void) signal(forwarded_signals[i], SIG_DFL);
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);

        /* EPERM: a session leader already (the payload, executed as it is). */
        if ((setsid() >= 0 || errno == EPERM) && controlling_tty)
                (void) ioctl(STDIN_FILENO, TIOCSCTTY, 0);

        /* execvp() looks PATH up in environ, so the machine's environment must be it. */
        environ = envp;
        execvp(argv[0], argv);
        fprintf(stderr, "boxctl: %s: %s\n", argv[0],
                errno == ENOENT ? "command not found in the machine" : strerror(errno));
        _exit(errno == ENOENT ? 127 : 126);
}

void stub_init_run(char **argv, char **envp, bool controlling_tty, int ready_fd, unsigned pass_fds) {
        struct sigaction sa = { .sa_handler = forward_signal, .sa_flags = SA_RESTART };
        sigset_t all, none;
        pid_t pid;

        sigfillset(&all);
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &all, NULL);
        for (size_t i = 0; i < ELEMENTSOF(forwarded_signals); i++)
                (void) sigaction(forwarded_signals[i], &sa, NULL);

        pid = fork();
        if (pid < 0) {
                fprintf(stderr, "boxctl: cannot start %s: %s\n", argv[0], strerror(errno));
                _exit(126);
        }
        if (pid == 0)
                stub_init_exec(argv, envp, controlling_tty);
        main_pid = pid;
        safe_close(ready_fd);
        /* The fds passed on are the command's: a pipe's write end kept
         * here would keep its reader from seeing EOF. */
        if (pass_fds > 0)
                (void) close_range(3, 3 + pass_fds - 1, 0);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);

        for (;;) {
                int status;
                pid_t p = waitpid(-1, &status, 0);

                if (p < 0) {
                        if (errno == EINTR)
                                continue;
                        _exit(126); /* ECHILD: cannot happen while main_pid lives */
                }
                if (p != pid)
                        continue; /* an orphan we inherited */
                if (WIFEXITED(status))
                        _exit(WEXITSTATUS(status));
                _exit(128 + WTERMSIG(status));
        }
}
