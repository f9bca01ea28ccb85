/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Runs a command inside a running machine: in its namespaces, its root, its
 * cgroup, under its capability bounding set and system call filter, as one
 * of its users. Needs nothing in the machine: no D-Bus, no agent. */
typedef struct EnterRequest {
        const char *machine_name; /* for messages */
        pid_t leader;             /* the machine's PID 1, as the host sees it */
        const char *cgroup_path;  /* absolute host path of the cgroup to join (the leader's) */
        const char *user;         /* a name or a number from the machine's /etc/passwd; NULL: root */
        bool exact_ids;           /* the GID and groups below, not the user's from /etc/passwd and /etc/group */
        gid_t gid;                /* with exact_ids */
        const gid_t *groups;      /* with exact_ids: the supplementary groups, n_groups of them */
        size_t n_groups;
        const char *cwd;          /* the working directory in the machine (it must exist); NULL: the user's home, or / */
        const void *extra_filter; /* a seccomp program (struct sock_filter[]) installed after the machine's own, or NULL */
        size_t n_extra_filter;    /* its instructions */
        unsigned extra_filter_flags; /* SECCOMP_FILTER_FLAG_* for it */
        const char *path;         /* the program to execute; NULL: argv[0], searched in $PATH */
        char **argv;              /* NULL or empty: PATH alone, or the user's shell as a login shell */
        char **setenv;            /* VAR=VALUE, over the defaults */
        const char *term;         /* $TERM to pass, or NULL */
        bool pty;                 /* a pty of the machine's own devpts as the command's terminal */
        bool login;               /* with pty: the machine's login(1) as root, whatever user, path and argv say */
        bool pty_only;            /* with pty: only open it, run nothing (the master is the result) */
        int stdio[3];             /* without pty: the fds that become the command's 0, 1 and 2 (set all three) */
        unsigned rlimit_nofile_soft; /* > 0: at most this soft RLIMIT_NOFILE for the command */
        unsigned pass_fds;        /* fds 3 up to 3 + pass_fds - 1 of ours go to the command as they are */
} EnterRequest;

typedef struct EnterProcess {
        pid_t pid;    /* the process that waits for the command, in the host's PID namespace */
        pid_t child;  /* the command itself (host PID) */
        int child_pidfd; /* a pidfd of it, to signal it without racing PID reuse; -EBADF if it ended */
        int master;   /* with pty: the pty's master, else -EBADF */
        int status;   /* on failure: the exit status of who failed (127: no such command) */
        char pty_name[64]; /* with pty: the terminal's name in the machine, /dev/pts/N */
} EnterProcess;

/* Starts the command. On success the command has been executed and *ret
 * says whom to wait for: ret->pid exits with the command's status (128+N for
 * signal N). On failure *ret_error says why in words, and nothing is left
 * running. A machine that keeps the command from starting for ENTER_TIMEOUT_USEC
 * (a frozen cgroup, a FIFO for /etc/passwd...) fails it with -ETIMEDOUT. */
#define ENTER_TIMEOUT_USEC (10ULL * 1000ULL * 1000ULL)
int machine_enter(const EnterRequest *req, EnterProcess *ret, char **ret_error);

/* The absolute host path of the cgroup (cgroup2) of machine LEADER: what
 * EnterRequest.cgroup_path wants. */
int enter_cgroup_path(pid_t leader, char **ret);

/* A user of the machine, from its own /etc/passwd. */
typedef struct EnterUser {
        uid_t uid;
        gid_t gid;
        char name[64];
        char home[PATH_MAX];
        char shell[PATH_MAX];
} EnterUser;

/* The parsers of the machine's /etc/passwd and /etc/group, whose contents the
 * machine's root controls; both modify the text in place. SPEC is a name or a
 * number; PASSWD may be NULL (no file), which only a number survives. -ESRCH:
 * no such name; -EINVAL: the number (uid_t) -1. */
int enter_parse_passwd(char *passwd, const char *spec, EnterUser *ret);
/* The GIDs of the groups that list U by name, other than its own, at most MAX. */
size_t enter_parse_group(char *group, const EnterUser *u, gid_t *groups, size_t max);
