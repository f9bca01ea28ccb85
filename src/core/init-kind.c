/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "init-kind.h"
#include "log.h"
#include "missing-syscall.h"
#include "string-table.h"
#include "util.h"

static const char *const init_kind_table[_INIT_KIND_MAX] = {
        [INIT_SYSTEMD] = "systemd",
        [INIT_BUSYBOX] = "busybox",
        [INIT_SYSVINIT] = "sysvinit",
        [INIT_STUB] = "boxctl-stub",
        [INIT_UNKNOWN] = "unknown",
};

DEFINE_STRING_TABLE(init_kind, InitKind, init_kind_table, _INIT_KIND_MAX)

static bool mem_contains(const void *hay, size_t n, const char *needle) {
        return memmem(hay, n, needle, strlen(needle)) != NULL;
}

InitKind init_kind_detect(int fd) {
        _cleanup_close_ int rfd = -EBADF;
        char path[64], target[4096];
        struct stat st;
        ssize_t l;
        void *m;
        InitKind k = INIT_UNKNOWN;

        /* The name the symlinks led to says most: /sbin/init -> /lib/systemd/systemd,
         * /sbin/init -> /bin/busybox. */
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        l = readlink(path, target, sizeof target - 1);
        if (l > 0) {
                size_t n;
                const char *b;

                target[l] = '\0';
                b = path_basename_ref(target, &n);
                if (streq(b, "systemd"))
                        return INIT_SYSTEMD;
                if (streq(b, "busybox"))
                        return INIT_BUSYBOX;
        }

        /* Otherwise the binary's own strings: sysvinit exports INIT_VERSION to its
         * children, busybox prints "BusyBox v" in its banner. */
        rfd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (rfd < 0 || fstat(rfd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
            st.st_size > 64 * 1024 * 1024)
                return INIT_UNKNOWN;
        m = mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_PRIVATE, rfd, 0);
        if (m == MAP_FAILED)
                return INIT_UNKNOWN;
        if (mem_contains(m, (size_t) st.st_size, "BusyBox v"))
                k = INIT_BUSYBOX;
        else if (mem_contains(m, (size_t) st.st_size, "INIT_VERSION=sysvinit"))
                k = INIT_SYSVINIT;
        else if (mem_contains(m, (size_t) st.st_size, "systemd.unit="))
                k = INIT_SYSTEMD;
        munmap(m, (size_t) st.st_size);
        return k;
}

int init_kind_signal(InitKind k, PowerAction action) {
        switch (k) {
        case INIT_SYSTEMD:
                return action == POWER_OFF ? SIGRTMIN + 4 : SIGRTMIN + 5;
        case INIT_BUSYBOX:
                return action == POWER_OFF ? SIGUSR2 : SIGTERM;
        case INIT_SYSVINIT:
                return 0;
        case INIT_STUB:
        case INIT_UNKNOWN:
                return action == POWER_OFF ? SIGTERM : -EOPNOTSUPP;
        default:
                return -EINVAL;
        }
}

/* The request sysvinit reads from its fifo (sysvinit's initreq.h). */
#define INIT_MAGIC 0x03091969
#define INIT_CMD_RUNLVL 1
struct init_request {
        int magic;
        int cmd;
        int runlevel;
        int sleeptime;
        char data[368];
};

static int sysvinit_request(pid_t leader, PowerAction action) {
        struct init_request req = {
                .magic = INIT_MAGIC,
                .cmd = INIT_CMD_RUNLVL,
                .runlevel = action == POWER_OFF ? '0' : '6',
        };
        _cleanup_close_ int root = -EBADF, fd = -EBADF;
        char path[64];
        int r;

        /* The fifo lives in the machine's /run: reach it through the leader's root,
         * never following a link out of it. */
        snprintf(path, sizeof path, "/proc/%d/root", (int) leader);
        root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return -errno;
        struct open_how how = {
                .flags = O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        fd = sys_openat2(root, "/run/initctl", &how);
        if (fd < 0) {
                how.flags = O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
                fd = sys_openat2(root, "/dev/initctl", &how);
        }
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISFIFO(st.st_mode))
                return -EBADFD;
        r = (int) write(fd, &req, sizeof req);
        if (r < 0)
                return -errno;
        return r == (int) sizeof req ? 0 : -EIO;
}

int init_request_power(InitKind k, pid_t leader, int pidfd, PowerAction action) {
        int sig = init_kind_signal(k, action);

        if (sig < 0)
                return sig;
        if (sig == 0)
                return sysvinit_request(leader, action);
        if (sys_pidfd_send_signal(pidfd, sig) < 0)
                return -errno;
        return 0;
}
