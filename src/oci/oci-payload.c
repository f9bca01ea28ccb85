/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mount-util.h"
#include "oci-payload.h"
#include "util.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static _printf_(4, 5) int fail(char *error, size_t size, int r, const char *fmt, ...) {
        char what[160];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        snprintf(error, size, "%s: %s", what, strerror(-r));
        return r;
}

/* The mounts config.json asks for that the machine does not make: an
 * mqueue elsewhere than /dev/mqueue. */
static int mount_late(const OciConfig *c, char *error, size_t size) {
        for (size_t i = 0; i < c->n_mounts; i++) {
                const OciMount *mt = &c->mounts[i];

                if (!mt->type)
                        continue;
                if (streq(mt->type, "mqueue") && !streq(mt->destination, "/dev/mqueue")) {
                        /* /dev/mqueue is the machine's own (Settings.api_order). */
                        (void) mkdir(mt->destination, 0755);
                        if (mount("mqueue", mt->destination, "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                                return fail(error, size, -errno, "cannot mount mqueue on %s", mt->destination);
                }
        }
        return 0;
}

/* A directory gets an empty read-only tmpfs over it, anything else
 * /dev/null; a path that is not there needs nothing. */
static int mask_paths(const OciConfig *c, char *error, size_t size) {
        for (char **p = c->masked_paths; p && *p; p++) {
                struct stat st;

                if (lstat(*p, &st) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return fail(error, size, -errno, "maskedPaths: %s", *p);
                }
                if (S_ISDIR(st.st_mode) ? mount("tmpfs", *p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0") < 0
                                        : mount("/dev/null", *p, NULL, MS_BIND, NULL) < 0)
                        return fail(error, size, -errno, "cannot mask %s", *p);
        }
        return 0;
}

static int readonly_paths(const OciConfig *c, char *error, size_t size) {
        for (char **p = c->readonly_paths; p && *p; p++) {
                struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY };

                if (mount(*p, *p, NULL, MS_BIND | MS_REC, NULL) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return fail(error, size, -errno, "cannot bind %s for readonlyPaths", *p);
                }
                if (mount_setattr(AT_FDCWD, *p, AT_RECURSIVE, &a, sizeof a) < 0)
                        return fail(error, size, -errno, "cannot make %s read-only", *p);
        }
        return 0;
}

/* linux.sysctl, through a proc of our own: the machine's /proc/sys is
 * read-only by now. Which namespace a value lands in is the writer's
 * (net.* its network namespace, kernel.shm* its IPC one): ours. */
static int apply_sysctl(const OciConfig *c, char *error, size_t size) {
        _cleanup_close_ int proc_fd = -EBADF;
        int r;

        if (!c->sysctl)
                return 0;
        r = mount_fs_new("proc", NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, &proc_fd);
        if (r < 0)
                return fail(error, size, r, "linux.sysctl: cannot mount a proc to write to");
        for (char **kv = c->sysctl; kv[0] && kv[1]; kv += 2) {
                _cleanup_free_ char *path = strjoin3("sys/", kv[0], "");
                _cleanup_close_ int fd = -EBADF;
                size_t n = strlen(kv[1]);

                if (!path)
                        return fail(error, size, -ENOMEM, "linux.sysctl");
                for (char *p = path; *p; p++)
                        if (*p == '.')
                                *p = '/';
                fd = openat(proc_fd, path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0)
                        return fail(error, size, -errno, "linux.sysctl: cannot set %s", kv[0]);
                if (write(fd, kv[1], n) != (ssize_t) n)
                        return fail(error, size, errno > 0 ? -errno : -EIO, "linux.sysctl: cannot set %s to %s", kv[0], kv[1]);
        }
        return 0;
}

/* linux.rootfsPropagation, on the root once every mount is made. */
static int root_propagation(const OciConfig *c, char *error, size_t size) {
        if (c->rootfs_propagation != 0 && mount(NULL, "/", NULL, c->rootfs_propagation, NULL) < 0)
                return fail(error, size, -errno, "linux.rootfsPropagation: cannot set it on /");
        return 0;
}

/* linux.seccomp, on top of the machine's own filter (oci-seccomp.h). */
static int install_seccomp(const OciConfig *c, char *error, size_t size) {
        int r = oci_seccomp_install(&c->seccomp);

        return r < 0 ? fail(error, size, r, "linux.seccomp: cannot install the filter") : 0;
}

static int process_limits(const OciConfig *c, char *error, size_t size) {
        for (size_t i = 0; i < c->n_rlimits; i++) {
                struct rlimit rl = { .rlim_cur = c->rlimits[i].soft, .rlim_max = c->rlimits[i].hard };

                if (setrlimit(c->rlimits[i].resource, &rl) < 0)
                        return fail(error, size, -errno, "cannot set process.rlimits[%zu]", i);
        }
        if (c->have_oom_score_adj) {
                char v[16];

                snprintf(v, sizeof v, "%d", c->oom_score_adj);
                if (write_string_file("/proc/self/oom_score_adj", v) < 0)
                        return fail(error, size, -errno, "cannot set process.oomScoreAdj to %s", v);
        }
        if (c->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return fail(error, size, -errno, "cannot set %s", "process.noNewPrivileges");
        return 0;
}

static int switch_user(const OciConfig *c, char *error, size_t size) {
        /* The capabilities the config gives a user other than root survive the change (apply_caps()). */
        if (c->have_process_caps && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return fail(error, size, -errno, "cannot set %s", "PR_SET_KEEPCAPS");
        if (setgroups(c->n_additional_gids, c->additional_gids) < 0)
                return fail(error, size, -errno, "cannot set %s", "process.user.additionalGids");
        if (setresgid(c->gid, c->gid, c->gid) < 0)
                return fail(error, size, -errno, "cannot set %s", "process.user.gid");
        if (setresuid(c->uid, c->uid, c->uid) < 0)
                return fail(error, size, -errno, "cannot set %s", "process.user.uid");
        /* Changed credentials made us undumpable, which takes /proc/self/fd
         * from us: exec.fifo is opened through it. execve() sets it again anyway. */
        if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
                return fail(error, size, -errno, "cannot become %s again", "dumpable");
        return 0;
}

static void caps_set_flag_mask(cap_t caps, cap_flag_t flag, uint64_t mask) {
        for (cap_value_t v = 0; v < 64; v++)
                if ((mask & (UINT64_C(1) << v)) && CAP_IS_SUPPORTED(v))
                        (void) cap_set_flag(caps, flag, 1, &v, CAP_SET);
}

/* process.capabilities' effective, permitted, inheritable and ambient sets,
 * after the user change (the bounding set is the machine's). What execve()
 * makes of them is the kernel's rule: root gets the bounding set, another
 * user the ambient one. */
static int apply_caps(const OciConfig *c, char *error, size_t size) {
        uint64_t have = 0, permitted, inheritable, ambient;
        cap_t caps;
        int r = 0;

        if (!c->have_process_caps)
                return 0;
        /* What we hold is the most we can give (this host's root may lack
         * some: CAP_SYS_RESOURCE in a container); the rest is left out, as
         * capabilities this kernel lacks are. */
        caps = cap_get_proc();
        if (!caps)
                return fail(error, size, -errno, "cannot read %s", "the capabilities");
        for (cap_value_t v = 0; v < 64 && CAP_IS_SUPPORTED(v); v++) {
                cap_flag_value_t f = CAP_CLEAR;

                if (cap_get_flag(caps, v, CAP_PERMITTED, &f) >= 0 && f == CAP_SET)
                        have |= UINT64_C(1) << v;
        }
        cap_free(caps);
        ambient = c->ambient & have;
        permitted = (c->permitted | c->effective | ambient) & have;
        inheritable = (c->inheritable | ambient) & have;
        caps = cap_init();
        if (!caps)
                return fail(error, size, -ENOMEM, "cannot set %s", "process.capabilities");
        caps_set_flag_mask(caps, CAP_EFFECTIVE, c->effective & have);
        caps_set_flag_mask(caps, CAP_PERMITTED, permitted);
        caps_set_flag_mask(caps, CAP_INHERITABLE, inheritable);
        if (cap_set_proc(caps) < 0)
                r = fail(error, size, -errno, "cannot set %s", "process.capabilities");
        cap_free(caps);
        for (cap_value_t v = 0; r >= 0 && v < 64; v++)
                if ((ambient & (UINT64_C(1) << v)) &&
                    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long) v, 0, 0) < 0)
                        r = fail(error, size, -errno, "cannot raise ambient capability %d", (int) v);
        return r;
}

/* The executable, looked up as execvp() will, so that a missing one fails
 * the create rather than the start (in runc's words). */
static int find_executable(const OciConfig *c, char *error, size_t size) {
        const char *name = c->args[0], *path = DEFAULT_PATH;

        if (strchr(name, '/')) {
                if (access(name, X_OK) < 0) {
                        snprintf(error, size, "exec: \"%s\": stat %s: %s", name, name, strerror(errno));
                        return -errno;
                }
                return 0;
        }
        for (char **e = c->env; e && *e; e++)
                if (startswith(*e, "PATH="))
                        path = *e + 5;
        for (const char *p = path; p && *p;) {
                size_t n = strcspn(p, ":");
                char full[4096];
                struct stat st;

                snprintf(full, sizeof full, "%.*s/%s", (int) n, n > 0 ? p : ".", name);
                if (stat(full, &st) >= 0 && S_ISREG(st.st_mode) && access(full, X_OK) >= 0)
                        return 0;
                p += n;
                if (*p == ':')
                        p++;
        }
        snprintf(error, size, "exec: \"%s\": executable file not found in $PATH", name);
        return -ENOENT;
}

/* A container in a mount namespace not its own (none listed: the caller's;
 * or one joined by path). Its mounts are made as always, in a namespace of
 * its own, then its whole tree is cloned as a detached mount tree, and the
 * process moves into the namespace it is to be in with its root in that
 * tree (chroot(2) needs no mount of the namespace). Nothing is mounted in
 * that namespace, so delete has nothing to undo there, and the tree goes
 * with the container's last process. runc 1.1 instead mounts the rootfs and
 * every mount of the config in that namespace and chroots (pivots, when
 * joined) into them, and leaves them there after delete. What differs:
 * mounts made later in the namespace do not reach the container, and its
 * /proc/self/mountinfo lists none (the kernel shows a namespace's mounts
 * only below the reader's root, and the tree is not in it). */
static int enter_mount_namespace(const OciPayload *p, char *error, size_t size) {
        _cleanup_close_ int tree = -EBADF;

        if (p->mntns_fd < 0)
                return 0;
        tree = open_tree(AT_FDCWD, "/", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        if (tree < 0)
                return fail(error, size, -errno, "cannot clone the container's root as a detached tree: %s", strerror(errno));
        if (setns(p->mntns_fd, CLONE_NEWNS) < 0)
                return fail(error, size, -errno, "cannot join the mount namespace: %s", strerror(errno));
        if (fchdir(tree) < 0 || chroot(".") < 0 || chdir("/") < 0)
                return fail(error, size, -errno, "cannot change root to the container's tree: %s", strerror(errno));
        return 0;
}

int oci_payload_before_exec(const Machine *m, void *userdata, char *error, size_t size) {
        const OciPayload *p = userdata;
        const OciConfig *c = p->config;
        int r;

        r = mount_late(c, error, size);
        if (r >= 0)
                r = apply_sysctl(c, error, size);
        if (r >= 0)
                r = mask_paths(c, error, size);
        if (r >= 0)
                r = readonly_paths(c, error, size);
        if (r >= 0)
                r = root_propagation(c, error, size);
        if (r >= 0)
                r = enter_mount_namespace(p, error, size);
        if (r >= 0)
                r = process_limits(c, error, size);
        /* As runc: without no_new_privs, installing a filter takes
         * CAP_SYS_ADMIN, which a user other than root is about to lose. */
        if (r >= 0 && !c->no_new_privileges)
                r = install_seccomp(c, error, size);
        if (r >= 0)
                r = switch_user(c, error, size);
        if (r >= 0)
                r = apply_caps(c, error, size);
        if (r >= 0 && c->no_new_privileges)
                r = install_seccomp(c, error, size);
        if (r < 0)
                return r;
        if (chdir(c->cwd) < 0)
                return fail(error, size, -errno, "process.cwd: cannot change to %s", c->cwd);
        return find_executable(c, error, size);
}

int oci_payload_before_pivot(const Machine *m, void *userdata, char *error, size_t size) {
        const OciPayload *p = userdata;

        return oci_hooks_run(&p->config->hooks, OCI_HOOK_CREATE_CONTAINER, p->state_creating, error, size);
}

int oci_payload_wait_start(const Machine *m, void *userdata, int *ret_exec_fd) {
        const OciPayload *p = userdata;
        char path[64], error[512], go = OCI_FIFO_GO;
        _cleanup_close_ int fd = -EBADF;
        int r;

        /* Blocks until "start" opens it for reading. */
        snprintf(path, sizeof path, "/proc/self/fd/%d", p->fifo_fd);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = oci_hooks_run(&p->config->hooks, OCI_HOOK_START_CONTAINER, p->state_created, error, sizeof error);
        if (r < 0) {
                /* "start" says it; the container stops here, for "delete". */
                char msg[1 + sizeof error];
                int n = snprintf(msg, sizeof msg, "%c%s", OCI_FIFO_FAILED, error);

                (void) !write(fd, msg, (size_t) MIN(n, (int) sizeof msg - 1));
                return r;
        }
        if (write(fd, &go, 1) != 1)
                return -EIO;
        /* Open until the process is executed: "start" waits for that. */
        *ret_exec_fd = TAKE_FD(fd);
        return 0;
}
