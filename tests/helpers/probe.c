/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A static test payload: tries, from inside a machine, things its root must
 * not be able to do, and prints one line per try: "NAME ok (ERRNO: reason)"
 * when the kernel refused, "NAME LEAK" when it allowed it. Exit status: the
 * number of leaks.
 *
 *   probe [MAJ:MIN]          the basic set (test-userns)
 *   probe exe PID...|all     open /proc/PID/exe for writing (CVE-2019-5736)
 *   probe exe-watch MSEC     the same on every process that appears meanwhile
 *   probe fds PID...|self    each fd, the cwd and root of PID: inside? (CVE-2024-21626)
 *   probe tiocsti            TIOCSTI on fds 0-2 (CVE-2017-5226)
 *   probe cgroup-v1 CTRL...  mount a v1 hierarchy, write its release_agent (CVE-2022-0492)
 *   probe kernel MAJ:MIN     sysrq, kcore, modules, kexec, handles, syslog, kmsg, block devices
 *   probe notify TEXT        send TEXT to $NOTIFY_SOCKET, as sd_notify() does (not a try:
 *                            exit 0 when sent)
 *
 * A system call counts as refused only with EPERM, EACCES or ENOSYS: any other
 * error means the permission check was passed and an argument failed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int leaks;

static const char *errno_name(int e) {
        const char *n = strerrorname_np(e);

        return n ?: "E?";
}

static void report(const char *name, int r) {
        if (r < 0)
                printf("%s ok (%s: %s)\n", name, errno_name(errno), strerror(errno));
        else {
                printf("%s LEAK\n", name);
                leaks++;
        }
}

/* For system calls: refused means a permission error, nothing else. */
static void report_syscall(const char *name, long r) {
        if (r < 0 && (errno == EPERM || errno == EACCES || errno == ENOSYS))
                printf("%s ok (%s: %s)\n", name, errno_name(errno), strerror(errno));
        else {
                if (r < 0)
                        printf("%s LEAK (got past the permission check: %s)\n", name, errno_name(errno));
                else
                        printf("%s LEAK\n", name);
                leaks++;
        }
}

static __attribute__((format(printf, 2, 3))) void reportf(int r, const char *fmt, ...) {
        int saved = errno;
        char name[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(name, sizeof name, fmt, ap);
        va_end(ap);
        errno = saved;
        report(name, r);
}

/* Opens PATH for writing and writes one byte: the kernel must refuse one of the two. */
static int write_one(const char *path, const char *byte) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -1;
        n = write(fd, byte, 1);
        close(fd);
        return n == 1 ? 0 : -1;
}

/* Opens PATH and reads one byte: an empty mask counts as refused. */
static int read_one(const char *path) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        char c;
        ssize_t n;

        if (fd < 0)
                return -1;
        n = read(fd, &c, 1);
        close(fd);
        if (n == 0)
                errno = ENODATA;
        return n == 1 ? 0 : -1;
}

static int basic(int argc, char *argv[]) {
        struct {
                struct file_handle fh;
                unsigned char data[128];
        } h = { .fh.handle_bytes = 128 };
        struct timeval tv;
        int mount_id;

        report("mknod-block-device", mknod("/tmp/probe-blk", S_IFBLK | 0600, makedev(7, 0)));
        (void) unlink("/tmp/probe-blk");
        /* Creating a node is one thing, using it another: the device policy must stop both. */
        if (argc > 1) {
                unsigned maj, min;

                if (sscanf(argv[1], "%u:%u", &maj, &min) == 2 &&
                    (mknod("/probe-disk", S_IFBLK | 0600, makedev(maj, min)) >= 0 || errno == EEXIST))
                        report("open-host-disk", open("/probe-disk", O_RDONLY | O_CLOEXEC));
                else
                        report("open-host-disk", -1);
                (void) unlink("/probe-disk");
        }
        report("init-module", (int) syscall(SYS_init_module, "", (unsigned long) 0, ""));
        report("write-sysrq-trigger", write_one("/proc/sysrq-trigger", "h"));
        report("write-proc-sys", write_one("/proc/sys/kernel/ostype", "x"));
        report("write-sys", write_one("/sys/kernel/uevent_helper", "x"));
        /* open_by_handle_at() would reach any file of the host's file system. */
        if (name_to_handle_at(AT_FDCWD, "/", &h.fh, &mount_id, 0) < 0)
                report("open-by-handle", -1);
        else
                report("open-by-handle", open_by_handle_at(AT_FDCWD, &h.fh, O_RDONLY));
        gettimeofday(&tv, NULL);
        report("set-clock", settimeofday(&tv, NULL));
        return leaks;
}

/* ---- CVE-2019-5736: a manager's binary, reached through /proc/PID/exe ---- */

static void exe_try(long pid) {
        char path[64], fdpath[64];
        int fd, wfd;

        snprintf(path, sizeof path, "/proc/%ld/exe", pid);
        /* Straight, and through an O_PATH fd reopened later, as runc's attack did. */
        fd = open(path, O_WRONLY | O_CLOEXEC);
        reportf(fd, "exe-write pid %ld", pid);
        if (fd >= 0)
                close(fd);
        fd = open(path, O_PATH | O_CLOEXEC);
        if (fd < 0) {
                reportf(-1, "exe-reopen pid %ld", pid);
                return;
        }
        snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", fd);
        wfd = open(fdpath, O_WRONLY | O_CLOEXEC);
        reportf(wfd, "exe-reopen pid %ld", pid);
        if (wfd >= 0)
                close(wfd);
        close(fd);
}

static bool is_pid(const char *s) {
        return *s && strspn(s, "0123456789") == strlen(s);
}

static int exe(int argc, char *argv[]) {
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "all") == 0) {
                        DIR *d = opendir("/proc");

                        for (struct dirent *de; d && (de = readdir(d));)
                                if (is_pid(de->d_name) && atol(de->d_name) != getpid())
                                        exe_try(atol(de->d_name));
                        if (d)
                                closedir(d);
                } else
                        exe_try(atol(argv[i]));
        }
        return leaks;
}

static long now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Every process that appears within MSEC: a manager's process entering the
 * machine is one only for a moment, before it executes the command. */
static int exe_watch(int argc, char *argv[]) {
        long end = now_ms() + (argc > 1 ? atol(argv[1]) : 1000), tries = 0, etxtbsy = 0, eacces = 0;
        static bool leaked[1 << 22];

        printf("exe-watch ready\n");
        fflush(stdout);
        while (now_ms() < end) {
                DIR *d = opendir("/proc");

                for (struct dirent *de; d && (de = readdir(d));) {
                        long pid;
                        char path[64];
                        int fd;

                        if (!is_pid(de->d_name))
                                continue;
                        pid = atol(de->d_name);
                        if (pid == getpid() || pid >= (long) sizeof leaked)
                                continue;
                        snprintf(path, sizeof path, "/proc/%ld/exe", pid);
                        fd = open(path, O_WRONLY | O_CLOEXEC);
                        tries++;
                        if (fd >= 0) {
                                close(fd);
                                if (!leaked[pid])
                                        printf("exe-watch pid %ld LEAK\n", pid);
                                leaked[pid] = true;
                                leaks++;
                        } else if (errno == ETXTBSY)
                                etxtbsy++;
                        else if (errno == EACCES)
                                eacces++;
                }
                if (d)
                        closedir(d);
        }
        printf("exe-watch %ld tries, %ld ETXTBSY, %ld EACCES, %d leaks\n", tries, etxtbsy, eacces, leaks);
        return leaks;
}

/* ---- CVE-2024-21626: a host fd or directory reaching into the machine ---- */

/* The mount ids of our mount namespace. */
static bool mount_known(long id) {
        FILE *f = fopen("/proc/self/mountinfo", "re");
        char line[4096];
        bool found = false;

        while (f && !found && fgets(line, sizeof line, f))
                found = atol(line) == id;
        if (f)
                fclose(f);
        return found;
}

static long fdinfo_mnt_id(const char *pid, const char *fd) {
        char path[128], line[256];
        long id = -1;
        FILE *f;

        snprintf(path, sizeof path, "/proc/%s/fdinfo/%s", pid, fd);
        f = fopen(path, "re");
        while (f && fgets(line, sizeof line, f))
                if (strncmp(line, "mnt_id:", 7) == 0)
                        id = atol(line + 7);
        if (f)
                fclose(f);
        return id;
}

static long path_mnt_id(const char *path) {
        struct statx stx;

        if (statx(AT_FDCWD, path, 0, STATX_MNT_ID, &stx) < 0 || !(stx.stx_mask & STATX_MNT_ID))
                return -1;
        return (long) stx.stx_mnt_id;
}

/* A file object is inside when its mount is one of ours and its path, seen
 * from our root, is reachable ("(unreachable)" otherwise, or a path outside). */
static void check_object(const char *pid, const char *what, const char *link, long mnt_id, bool stdio) {
        char target[4096] = "";
        ssize_t n = readlink(link, target, sizeof target - 1);
        struct stat st;
        bool pathlike, inside;

        if (n < 0) {
                printf("fds %s %s unreadable (%s)\n", pid, what, errno_name(errno));
                return;
        }
        target[n] = '\0';
        /* The caller's stdio is handed over on purpose (--console=pipe): a
         * file or a pipe of the host is fine there, a directory is a way out. */
        if (stdio && stat(link, &st) >= 0 && !S_ISDIR(st.st_mode)) {
                printf("fds %s %s -> %s stdio\n", pid, what, target);
                return;
        }
        pathlike = target[0] == '/' || strncmp(target, "(unreachable)", 13) == 0;
        inside = !pathlike || (target[0] == '/' && mnt_id >= 0 && mount_known(mnt_id));
        printf("fds %s %s -> %s %s\n", pid, what, target, inside ? "inside" : "OUTSIDE LEAK");
        if (!inside)
                leaks++;
}

static void fds_of(const char *pid) {
        char dir[64], link[128], what[64];
        DIR *d;

        snprintf(dir, sizeof dir, "/proc/%s/fd", pid);
        d = opendir(dir);
        if (!d) {
                printf("fds %s unreadable (%s)\n", pid, errno_name(errno));
                return;
        }
        for (struct dirent *de; (de = readdir(d));) {
                if (!is_pid(de->d_name) || (strcmp(pid, "self") == 0 && atoi(de->d_name) == dirfd(d)))
                        continue;
                snprintf(link, sizeof link, "%s/%s", dir, de->d_name);
                snprintf(what, sizeof what, "fd %s", de->d_name);
                check_object(pid, what, link, fdinfo_mnt_id(pid, de->d_name), atoi(de->d_name) <= 2);
        }
        closedir(d);
        snprintf(link, sizeof link, "/proc/%s/cwd", pid);
        check_object(pid, "cwd", link, path_mnt_id(link), false);
        snprintf(link, sizeof link, "/proc/%s/root", pid);
        check_object(pid, "root", link, path_mnt_id(link), false);
}

static int fds(int argc, char *argv[]) {
        char buf[4096];

        /* Our own cwd as the kernel tells it to us: "(unreachable)" or ENOENT when outside. */
        if (!getcwd(buf, sizeof buf))
                printf("fds getcwd failed (%s) OUTSIDE LEAK\n", errno_name(errno)), leaks++;
        else
                printf("fds getcwd %s\n", buf);
        for (int i = 1; i < argc; i++)
                fds_of(argv[i]);
        return leaks;
}

/* ---- CVE-2017-5226: typing into the terminal we were given ---- */

static int tiocsti(int argc, char *argv[]) {
        /* The test looks for this in its terminal's input. */
        static const char text[] = "boxctl-tiocsti-marker\n";

        for (int fd = 0; fd <= 2; fd++) {
                char name[32];
                long r = 0;

                snprintf(name, sizeof name, "tiocsti-fd%d", fd);
                if (!isatty(fd)) {
                        printf("%s ok (not a terminal: %s)\n", name, errno_name(errno));
                        continue;
                }
                for (const char *c = text; *c && r >= 0; c++)
                        r = ioctl(fd, TIOCSTI, c);
                report_syscall(name, r);
        }
        return leaks;
}

/* ---- CVE-2022-0492: a cgroup v1 release_agent, run by the host's kernel as its root ---- */

static void cgroup_v1_try(const char *options) {
        char dir[128], agent[160], old[4096] = "";
        ssize_t n = 0;
        int fd;

        snprintf(dir, sizeof dir, "/tmp/probe-cgroup-%s", options);
        for (char *c = dir + 5; *c; c++)
                if (*c == ',' || *c == '=')
                        *c = '-';
        (void) mkdir(dir, 0755);
        if (mount("cgroup", dir, "cgroup", 0, options) < 0) {
                reportf(-1, "cgroup-v1 %s release-agent", options);
                (void) rmdir(dir);
                return;
        }
        printf("cgroup-v1 %s mounted\n", options);
        snprintf(agent, sizeof agent, "%s/release_agent", dir);
        /* Its own value back: a write that goes through changes nothing. */
        fd = open(agent, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                n = read(fd, old, sizeof old - 1);
                close(fd);
        }
        if (n > 0 && old[n - 1] == '\n')
                n--;
        fd = open(agent, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
                if (write(fd, n > 0 ? old : "\n", n > 0 ? (size_t) n : 1) < 0)
                        close(fd), fd = -1;
                else
                        close(fd);
        }
        reportf(fd, "cgroup-v1 %s release-agent", options);
        (void) umount2(dir, MNT_DETACH);
        (void) rmdir(dir);
}

static int cgroup_v1(int argc, char *argv[]) {
        for (int i = 1; i < argc; i++)
                cgroup_v1_try(argv[i]);
        return leaks;
}

/* ---- the kernel's own interfaces ---- */

static void device_try(const char *name, mode_t type, unsigned maj, unsigned min) {
        static const char *const dirs[] = { "/", "/dev/", "/tmp/" };

        for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
                char path[128];
                int fd;

                snprintf(path, sizeof path, "%sprobe-%s", dirs[i], name);
                (void) unlink(path);
                if (mknod(path, type | 0600, makedev(maj, min)) < 0) {
                        printf("%s mknod in %s refused (%s)\n", name, dirs[i], errno_name(errno));
                        continue;
                }
                fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
                reportf(fd, "%s open-read in %s", name, dirs[i]);
                if (fd >= 0)
                        close(fd);
                fd = open(path, O_WRONLY | O_CLOEXEC | O_NONBLOCK);
                reportf(fd, "%s open-write in %s", name, dirs[i]);
                if (fd >= 0)
                        close(fd);
                (void) unlink(path);
        }
}

static int kernel(int argc, char *argv[]) {
        struct {
                struct file_handle fh;
                unsigned char data[128];
        } h = { .fh.handle_bytes = 128 };
        unsigned maj = 0, min = 0;
        char buf[256];
        int mount_id;

        report("sysrq-trigger-write", write_one("/proc/sysrq-trigger", "h"));
        report("kcore-read", read_one("/proc/kcore"));
        /* Where sysrq-trigger and kcore are not built in, these show that the masks hold. */
        report("kallsyms-read", read_one("/proc/kallsyms"));
        report("keys-read", read_one("/proc/keys"));
        report("timer_list-read", read_one("/proc/timer_list"));
        report("kmsg-read", read_one("/dev/kmsg"));
        report("kmsg-write", write_one("/dev/kmsg", "\n"));
        device_try("kmsg", S_IFCHR, 1, 11);
        device_try("mem", S_IFCHR, 1, 1);
        if (argc > 1 && sscanf(argv[1], "%u:%u", &maj, &min) == 2)
                device_try("host-disk", S_IFBLK, maj, min);
        device_try("loop0", S_IFBLK, 7, 0);
        report_syscall("init_module", syscall(SYS_init_module, NULL, 0UL, ""));
        report_syscall("finit_module", syscall(SYS_finit_module, -1, "", 0));
        report_syscall("delete_module", syscall(SYS_delete_module, "probe_no_such_module", 0));
        report_syscall("kexec_load", syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0UL));
        report_syscall("kexec_file_load", syscall(SYS_kexec_file_load, -1, -1, 0UL, "", 0UL));
        /* SYSLOG_ACTION_READ_ALL (3) reads the kernel log without clearing it. */
        report_syscall("syslog-read-all", klogctl(3, buf, sizeof buf));
        if (name_to_handle_at(AT_FDCWD, "/", &h.fh, &mount_id, 0) < 0)
                printf("open_by_handle_at ok (no handle: %s)\n", errno_name(errno));
        else
                report_syscall("open_by_handle_at", open_by_handle_at(AT_FDCWD, &h.fh, O_RDONLY | O_CLOEXEC));
        return leaks;
}

static int notify(int argc, char *argv[]) {
        const char *path = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        if (argc < 2 || !path || strlen(path) >= sizeof sa.sun_path) {
                fprintf(stderr, "probe notify: no TEXT, or no usable $NOTIFY_SOCKET\n");
                return 2;
        }
        strcpy(sa.sun_path, path);
        if (sa.sun_path[0] == '@')
                sa.sun_path[0] = '\0';
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || sendto(fd, argv[1], strlen(argv[1]), 0, (struct sockaddr *) &sa,
                             (socklen_t) (offsetof(struct sockaddr_un, sun_path) + strlen(path))) < 0) {
                fprintf(stderr, "probe notify: %s: %s\n", path, strerror(errno));
                return 1;
        }
        close(fd);
        return 0;
}

static const struct {
        const char *name;
        int (*run)(int argc, char *argv[]);
} verbs[] = {
        { "notify", notify },
        { "exe", exe },
        { "exe-watch", exe_watch },
        { "fds", fds },
        { "tiocsti", tiocsti },
        { "cgroup-v1", cgroup_v1 },
        { "kernel", kernel },
};

int main(int argc, char *argv[]) {
        setvbuf(stdout, NULL, _IOLBF, 0);
        for (size_t i = 0; argc > 1 && i < sizeof verbs / sizeof verbs[0]; i++)
                if (strcmp(argv[1], verbs[i].name) == 0)
                        return verbs[i].run(argc - 1, argv + 1);
        return basic(argc, argv);
}
