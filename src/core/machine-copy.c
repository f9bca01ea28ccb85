// SPDX-License-Identifier: LGPL-2.1-or-later
/* copy-to and copy-from: a file or a tree between the host and a running
 * machine, with owners (shifted through the machine's user namespace),
 * modes, times and xattrs, by pool-copy.c's copy. The machine's side is only
 * ever reached through directory fds resolved inside its root. */
#include <errno.h>
#include <fcntl.h>
#include <linux/securebits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "machine-copy.h"
#include "missing-syscall.h"
#include "pool.h"
#include "pool-copy.h"
#include "util.h"

/* What a job's process writes to its pipe once, before it exits. */
typedef struct JobResult {
        int error; /* a positive errno, 0 for success */
        char text[512];
} JobResult;

/* ---- jobs ---- */

int machine_job_start(MachineJobFunc f, const void *userdata, pid_t *ret_pid, int *ret_fd) {
        int p[2];
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                int r = -errno;

                safe_close(p[0]);
                safe_close(p[1]);
                return r;
        }
        if (pid == 0) {
                _cleanup_free_ char *error = NULL;
                JobResult res = {};
                int r;

                safe_close(p[0]);
                /* Not the caller's blocked signals (boxd blocks SIGCHLD and
                 * SIGTERM for its event loop): a kill ends the job, and the
                 * guard of its temporary cleans up after it. */
                signals_reset_all();
                r = f(userdata, &error);
                if (r < 0) {
                        res.error = -r;
                        snprintf(res.text, sizeof res.text, "%s", error ?: strerror(-r));
                }
                (void) write(p[1], &res, sizeof res);
                _exit(r < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
        }
        safe_close(p[1]);
        *ret_pid = pid;
        *ret_fd = p[0];
        return 0;
}

int machine_job_result(int fd, int status, char **ret_error) {
        JobResult res = {};
        ssize_t n;

        (void) fd_nonblock(fd, true);
        n = read(fd, &res, sizeof res);
        safe_close(fd);
        if (n != (ssize_t) sizeof res) {
                if (WIFSIGNALED(status))
                        return error_set(ret_error, -EINTR, "the process doing it was killed by signal %d",
                                         WTERMSIG(status));
                return error_set(ret_error, -EIO, "the process doing it ended without a word");
        }
        if (res.error == 0)
                return 0;
        res.text[sizeof res.text - 1] = '\0';
        return error_set(ret_error, res.error > 0 && res.error < 4096 ? -res.error : -EIO, "%s", res.text);
}

int machine_job_wait(pid_t pid, int fd, char **ret_error) {
        int status;

        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        int r = -errno;

                        safe_close(fd);
                        return error_set(ret_error, r, "cannot wait for process %d: %s", (int) pid, strerror(-r));
                }
        return machine_job_result(fd, status, ret_error);
}

/* ---- the machine ---- */

void machine_access_done(MachineAccess *a) {
        a->pidfd = safe_close(a->pidfd);
        a->root_fd = safe_close(a->root_fd);
}

int machine_access_open(const char *name, pid_t leader, MachineAccess *ret, char **ret_error) {
        _cleanup_close_ int pidfd = -EBADF, root_fd = -EBADF;
        uint32_t base, count;
        char path[64];
        int r;

        pidfd = (int) syscall(SYS_pidfd_open, leader, 0);
        if (pidfd < 0)
                return error_set(ret_error, -ESRCH, "machine %s is not running (it has ended)", name);
        /* A zombie leader, or one whose namespaces are going, has no root any more. */
        snprintf(path, sizeof path, "/proc/%d/root", (int) leader);
        root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return error_set(ret_error, -ESRCH, "machine %s is not running (it is stopping or has ended)", name);
        r = machine_read_uid_shift(leader, &base, &count);
        if (r < 0)
                return error_set(ret_error, r, "cannot read the UID map of machine %s: %s", name, strerror(-r));
        /* All of that was the leader's, not a process that took its PID since. */
        if (sys_pidfd_send_signal(pidfd, 0) < 0)
                return error_set(ret_error, -ESRCH, "machine %s is not running (it has ended)", name);
        *ret = (MachineAccess) {
                .pidfd = TAKE_FD(pidfd),
                .root_fd = TAKE_FD(root_fd),
                .uid_base = base,
                .uid_count = count,
        };
        return 0;
}

int machine_read_uid_shift(pid_t leader, uint32_t *ret_base, uint32_t *ret_count) {
        _cleanup_free_ char *s = NULL;
        char path[64];
        unsigned inside, outside, count;
        int r;

        snprintf(path, sizeof path, "/proc/%d/uid_map", (int) leader);
        r = read_file_at(AT_FDCWD, path, 4096, &s);
        if (r < 0)
                return r;
        /* "0 BASE SIZE" when root inside is BASE outside; the host's own is "0 0 4294967295". */
        if (sscanf(s, "%u %u %u", &inside, &outside, &count) != 3 || inside != 0)
                return -EBADMSG;
        *ret_base = outside;
        *ret_count = outside == 0 ? 0 : count;
        return 0;
}

int machine_become_root_fs(uint32_t base) {
        int bits = prctl(PR_GET_SECUREBITS);

        if (base == 0)
                return 0;
        /* Without it, a file system UID other than 0 drops CAP_CHOWN,
         * CAP_DAC_OVERRIDE, CAP_FOWNER... (capabilities(7), "Effect of user
         * ID changes on capabilities"). */
        if (bits < 0 || prctl(PR_SET_SECUREBITS, bits | SECBIT_NO_SETUID_FIXUP) < 0)
                return -errno;
        (void) setfsgid(base);
        (void) setfsuid(base);
        if ((uid_t) setfsuid((uid_t) -1) != base || (gid_t) setfsgid((gid_t) -1) != base)
                return -EPERM;
        return 0;
}

int machine_path_split(const char *path, char **ret_dir, char **ret_base) {
        _cleanup_free_ char *p = NULL, *dir = NULL, *base = NULL;
        char *slash;
        size_t n;

        if (!path || !path_is_absolute(path))
                return -EINVAL;
        p = strdup(path);
        if (!p)
                return -ENOMEM;
        for (n = strlen(p); n > 1 && p[n - 1] == '/'; n--)
                p[n - 1] = '\0';
        slash = strrchr(p, '/');
        base = strdup(slash + 1);
        if (!base)
                return -ENOMEM;
        if (isempty(base) || streq(base, ".") || streq(base, ".."))
                return -EINVAL;
        dir = slash == p ? strdup("/") : strndup(p, (size_t) (slash - p));
        if (!dir)
                return -ENOMEM;
        *ret_dir = TAKE_PTR(dir);
        *ret_base = TAKE_PTR(base);
        return 0;
}

/* A directory of the machine's, resolved in its root, never through a magic
 * link (/proc/self/root inside would be the host's view of nothing good). */
int machine_open_dir(int root_fd, const char *path, int *ret_fd) {
        struct open_how how = {
                .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        int fd = sys_openat2(root_fd, path, &how);

        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

/* ---- copy ---- */

static const char *side(const MachineCopy *c, bool machine_side, char *buf, size_t size) {
        if (machine_side)
                snprintf(buf, size, "in machine %s", c->machine_name);
        else
                snprintf(buf, size, "on the host");
        return buf;
}

static int copy_run(const void *userdata, char **ret_error) {
        const MachineCopy *c = userdata;
        _cleanup_(pool_temp_done) PoolTemp t = POOL_TEMP_NULL;
        _cleanup_(machine_access_done) MachineAccess m = MACHINE_ACCESS_NULL;
        _cleanup_close_ int src_dir = -EBADF, dst_dir = -EBADF;
        _cleanup_free_ char *src_parent = NULL, *src_base = NULL, *dst_parent = NULL, *dst_base = NULL;
        const char *dst = isempty(c->destination) ? c->source : c->destination;
        const char *name = c->machine_name;
        bool src_in_machine = c->copy_from, dst_in_machine = !c->copy_from;
        char where_src[128], where_dst[128];
        CopyIdShift shift;
        struct stat st;
        bool exists;
        int r;

        side(c, src_in_machine, where_src, sizeof where_src);
        side(c, dst_in_machine, where_dst, sizeof where_dst);
        r = machine_path_split(c->source, &src_parent, &src_base);
        if (r == -EINVAL)
                return error_set(ret_error, r, "source '%s' %s is not an absolute path to a file or directory other than /",
                                 c->source, where_src);
        if (r >= 0)
                r = machine_path_split(dst, &dst_parent, &dst_base);
        if (r == -EINVAL)
                return error_set(ret_error, r, "destination '%s' %s is not an absolute path to a file or directory other than /",
                                 dst, where_dst);
        if (r < 0)
                return r;

        r = machine_access_open(name, c->leader, &m, ret_error);
        if (r < 0)
                return r;

        if (src_in_machine)
                r = machine_open_dir(m.root_fd, src_parent, &src_dir);
        else {
                src_dir = open(src_parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                r = src_dir < 0 ? -errno : 0;
        }
        if (r >= 0 && fstatat(src_dir, src_base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                r = -errno;
        if (r == -ENOENT || r == -ENOTDIR)
                return error_set(ret_error, r, "source %s does not exist %s", c->source, where_src);
        if (r < 0)
                return error_set(ret_error, r, "cannot open source %s %s: %s", c->source, where_src, strerror(-r));

        if (dst_in_machine)
                r = machine_open_dir(m.root_fd, dst_parent, &dst_dir);
        else {
                dst_dir = open(dst_parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                r = dst_dir < 0 ? -errno : 0;
        }
        if (r == -ENOENT || r == -ENOTDIR)
                return error_set(ret_error, r, "the directory %s of destination %s does not exist %s", dst_parent, dst,
                                 where_dst);
        if (r < 0)
                return error_set(ret_error, r, "cannot open the directory %s of destination %s %s: %s", dst_parent, dst,
                                 where_dst, strerror(-r));
        exists = fstatat(dst_dir, dst_base, &st, AT_SYMLINK_NOFOLLOW) >= 0;
        if (exists && !c->replace)
                return error_set(ret_error, -EEXIST, "destination %s exists %s (--force replaces it)", dst, where_dst);

        /* Owners: a machine's UID U is the host's BASE + U; one that the other
         * side cannot hold becomes the machine's "nobody". */
        if (c->copy_from)
                shift = (CopyIdShift) { .from = m.uid_base, .to = 0, .count = m.uid_count, .overflow = 65534 };
        else
                shift = (CopyIdShift) {
                        .from = 0, .to = m.uid_base, .count = m.uid_count, .overflow = m.uid_base + 65534
                };
        if (dst_in_machine) {
                r = machine_become_root_fs(m.uid_base);
                if (r < 0)
                        return error_set(ret_error, r, "cannot take the file system UID of machine %s's root: %s",
                                         name, strerror(-r));
        }

        r = pool_temp_make(dst_dir, dst_base, POOL_TEMP_NAME, &t);
        if (r >= 0)
                r = copy_entry_at(src_dir, src_base, dst_dir, t.temp, m.uid_count > 0 ? &shift : NULL);
        if (r < 0)
                return error_set(ret_error, r, "cannot copy %s %s to %s %s: %s", c->source, where_src, dst, where_dst,
                                 strerror(-r));
        /* Replaced whole: the old one is swapped out under the temporary name,
         * which pool_temp_done() removes. */
        if (exists) {
                if (renameat2(dst_dir, t.temp, dst_dir, dst_base, RENAME_EXCHANGE) >= 0) {
                        (void) fsync(dst_dir);
                        return 0;
                }
                if (errno != ENOENT) /* ENOENT: gone meanwhile, put in place below */
                        return error_set(ret_error, -errno, "cannot replace %s %s: %m", dst, where_dst);
        }
        r = pool_temp_commit(&t);
        if (r == -EEXIST)
                return error_set(ret_error, r, "destination %s exists %s (--force replaces it)", dst, where_dst);
        if (r < 0)
                return error_set(ret_error, r, "cannot put %s in place %s: %s", dst, where_dst, strerror(-r));
        return 0;
}

int machine_copy_start(const MachineCopy *c, pid_t *ret_pid, int *ret_fd) {
        return machine_job_start(copy_run, c, ret_pid, ret_fd);
}

int machine_copy(const MachineCopy *c, char **ret_error) {
        pid_t pid;
        int fd, r;

        r = machine_copy_start(c, &pid, &fd);
        if (r < 0)
                return error_set(ret_error, r, "cannot start the copy: %s", strerror(-r));
        return machine_job_wait(pid, fd, ret_error);
}
