/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* loop-util: attach with offset, size limit, read-only and autoclear; detach
 * explicitly, by closing, and by SIGKILL; racing attachers. Needs root (skips
 * otherwise). Every device it attaches is backed by a file in its own temp
 * directory, and an atexit sweep detaches any such device a failed check
 * left behind. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "loop-util.h"
#include "tap.h"
#include "util.h"

#define WAIT_USEC (5 * 1000 * 1000)
#define MiB (1024 * 1024)

static char dir[] = "/var/tmp/boxctl-test-loop.XXXXXX";
static char file[128];

/* Contents of /sys/block/loopN/ATTR, newline stripped; "" if none. */
static void sys_attr(int nr, const char *attr, char *buf, size_t size) {
        char p[128];
        FILE *f;

        buf[0] = '\0';
        snprintf(p, sizeof p, "/sys/block/loop%d/%s", nr, attr);
        f = fopen(p, "re");
        if (!f)
                return;
        if (!fgets(buf, (int) size, f))
                buf[0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        fclose(f);
}

/* Detaches every loop device backed by a file of ours. Returns how many. */
static int sweep(void) {
        _cleanup_closedir_ DIR *d = opendir("/sys/block");
        struct dirent *de;
        int n = 0;

        while (d && (de = readdir(d))) {
                char b[4096], p[64];
                int nr, fd;

                if (sscanf(de->d_name, "loop%d", &nr) != 1)
                        continue;
                sys_attr(nr, "loop/backing_file", b, sizeof b);
                if (!startswith(b, dir))
                        continue;
                n++;
                snprintf(p, sizeof p, "/dev/loop%d", nr);
                fd = open(p, O_RDONLY | O_CLOEXEC);
                if (fd >= 0) {
                        (void) ioctl(fd, LOOP_CLR_FD);
                        close(fd);
                }
        }
        return n;
}

static void cleanup(void) {
        char cmd[256];

        if (sweep() > 0)
                printf("# swept loop devices a failed check left behind\n");
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
                printf("# could not remove %s\n", dir);
}

static void test_attach_detach(void) {
        _cleanup_close_ int rw = -EBADF, ro = -EBADF;
        LoopDevice d = LOOP_DEVICE_NULL;
        char b[4096], want[16], got[16];
        int nr;

        rw = open(file, O_RDWR | O_CLOEXEC);
        ro = open(file, O_RDONLY | O_CLOEXEC);
        CHECK(rw >= 0 && ro >= 0);

        CHECK(loop_device_attach(rw, 1 * MiB, 2 * MiB, 0, &d) == 0);
        nr = d.nr;
        CHECK(nr >= 0 && d.fd >= 0 && d.path && startswith(d.path, "/dev/loop"));
        CHECK(!d.read_only && d.offset == 1 * MiB && d.size == 2 * MiB);
        sys_attr(nr, "loop/backing_file", b, sizeof b);
        CHECK_STREQ(b, file);
        sys_attr(nr, "loop/offset", b, sizeof b);
        CHECK_STREQ(b, "1048576");
        sys_attr(nr, "loop/sizelimit", b, sizeof b);
        CHECK_STREQ(b, "2097152");
        sys_attr(nr, "loop/autoclear", b, sizeof b);
        CHECK_STREQ(b, "1");
        sys_attr(nr, "loop/partscan", b, sizeof b);
        CHECK_STREQ(b, "0");
        sys_attr(nr, "size", b, sizeof b); /* 512-byte sectors */
        CHECK_STREQ(b, "4096");
        sys_attr(nr, "ro", b, sizeof b);
        CHECK_STREQ(b, "0");
        /* The device shows the file from the offset on. */
        CHECK(pread(rw, want, sizeof want, 1 * MiB) == sizeof want);
        CHECK(pread(d.fd, got, sizeof got, 0) == sizeof got && memcmp(want, got, sizeof want) == 0);
        printf("# loop%d direct I/O: %s\n", nr, d.direct_io ? "yes" : "no");

        CHECK(loop_device_released(nr, d.diskseq) == 0);
        CHECK(loop_device_detach(&d) == 0);
        CHECK(loop_device_wait_released(nr, d.diskseq, WAIT_USEC) == 0);
        loop_device_done(&d);

        /* Read-only: the kernel enforces it. */
        CHECK(loop_device_attach(ro, 0, 0, LOOP_READ_ONLY | LOOP_DIRECT_IO, &d) == 0);
        CHECK(d.read_only);
        printf("# loop%d direct I/O asked: %s\n", d.nr, d.direct_io ? "yes" : "no");
        sys_attr(d.nr, "ro", b, sizeof b);
        CHECK_STREQ(b, "1");
        sys_attr(d.nr, "size", b, sizeof b);
        CHECK_STREQ(b, "8192");
        {
                int ro_flag = 0;

                CHECK(ioctl(d.fd, BLKROGET, &ro_flag) == 0 && ro_flag == 1);
        }
        nr = d.nr;
        {
                uint64_t seq = d.diskseq;

                loop_device_done(&d); /* closing our only fd: autoclear detaches it */
                CHECK(loop_device_wait_released(nr, seq, WAIT_USEC) == 0);
        }

        /* Bad requests. */
        CHECK(loop_device_attach(ro, 0, 0, 0, &d) == -EROFS);
        CHECK(loop_device_attach(rw, 8 * MiB, 1, 0, &d) == -EINVAL);
        CHECK(loop_device_attach(rw, 4 * MiB, 8 * MiB, 0, &d) == -EINVAL);
}

/* Autoclear waits for the last opener: a second fd (a mount, in real use). */
static void test_autoclear_last_user(void) {
        _cleanup_close_ int rw = open(file, O_RDWR | O_CLOEXEC), other = -EBADF;
        LoopDevice d = LOOP_DEVICE_NULL;
        uint64_t seq;
        int nr;

        CHECK(loop_device_attach(rw, 0, 0, 0, &d) == 0);
        nr = d.nr;
        seq = d.diskseq;
        other = open(d.path, O_RDONLY | O_CLOEXEC);
        CHECK(other >= 0);
        loop_device_unref(&d);
        CHECK(loop_device_released(nr, seq) == 0);
        other = safe_close(other);
        CHECK(loop_device_wait_released(nr, seq, WAIT_USEC) == 0);
        loop_device_done(&d);

        /* LOOP_CLR_FD while someone else holds it only arms autoclear. */
        CHECK(loop_device_attach(rw, 0, 0, 0, &d) == 0);
        nr = d.nr;
        seq = d.diskseq;
        other = open(d.path, O_RDONLY | O_CLOEXEC);
        CHECK(loop_device_detach(&d) == 0);
        CHECK(loop_device_released(nr, seq) == 0);
        other = safe_close(other);
        CHECK(loop_device_wait_released(nr, seq, WAIT_USEC) == 0);
        loop_device_done(&d);
}

/* A SIGKILLed holder leaves nothing. */
static void test_sigkill(void) {
        _cleanup_close_pair_ int p[2] = { -EBADF, -EBADF };
        struct {
                int nr;
                uint64_t seq;
        } msg = { -1, 0 };
        pid_t pid;
        int status;

        CHECK(pipe2(p, O_CLOEXEC) == 0);
        pid = fork();
        if (pid == 0) {
                LoopDevice d = LOOP_DEVICE_NULL;
                int fd = open(file, O_RDWR | O_CLOEXEC);

                if (loop_device_attach(fd, 0, 0, 0, &d) == 0) {
                        msg.nr = d.nr;
                        msg.seq = d.diskseq;
                }
                if (write(p[1], &msg, sizeof msg) < 0)
                        _exit(1);
                pause();
                _exit(0);
        }
        CHECK(read(p[0], &msg, sizeof msg) == sizeof msg);
        CHECK(msg.nr >= 0 && loop_device_released(msg.nr, msg.seq) == 0);
        kill(pid, SIGKILL);
        CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status));
        CHECK(msg.nr >= 0 && loop_device_wait_released(msg.nr, msg.seq, WAIT_USEC) == 0);
}

/* Attachers in parallel each get a device of their own (LOOP_CTL_GET_FREE
 * hands the same one out until it is configured: EBUSY, retry). */
static void test_race(void) {
        enum { CHILDREN = 6, EACH = 3 };
        _cleanup_close_pair_ int res[2] = { -EBADF, -EBADF }, go[2] = { -EBADF, -EBADF };
        struct {
                int nr;
                uint64_t seq;
        } nrs[CHILDREN * EACH];
        int n = 0, ok = 0, distinct = 1;
        pid_t pids[CHILDREN];

        CHECK(pipe2(res, O_CLOEXEC) == 0 && pipe2(go, O_CLOEXEC) == 0);
        for (int c = 0; c < CHILDREN; c++) {
                pids[c] = fork();
                if (pids[c] == 0) {
                        LoopDevice d[EACH];
                        int fd = open(file, O_RDWR | O_CLOEXEC);
                        char x;

                        close(go[1]);
                        for (int i = 0; i < EACH; i++) {
                                bool a = loop_device_attach(fd, 0, 0, 0, &d[i]) == 0;

                                nrs[0].nr = a ? d[i].nr : -1;
                                nrs[0].seq = a ? d[i].diskseq : 0;
                                if (write(res[1], &nrs[0], sizeof nrs[0]) < 0)
                                        _exit(1);
                        }
                        /* Hold them all until every child has its own. */
                        if (read(go[0], &x, 1) < 0)
                                _exit(1);
                        _exit(0);
                }
        }
        close(go[0]);
        go[0] = -EBADF;
        for (; n < CHILDREN * EACH; n++)
                if (read(res[0], &nrs[n], sizeof nrs[n]) != sizeof nrs[n])
                        break;
        for (int i = 0; i < n; i++) {
                ok += nrs[i].nr >= 0;
                for (int j = 0; j < i; j++)
                        distinct = distinct && nrs[i].nr != nrs[j].nr;
        }
        CHECK(n == CHILDREN * EACH && ok == n);
        CHECK(distinct);
        go[1] = safe_close(go[1]);
        for (int c = 0; c < CHILDREN; c++)
                (void) waitpid(pids[c], NULL, 0);
        for (int i = 0; i < n; i++)
                if (nrs[i].nr >= 0)
                        CHECK(loop_device_wait_released(nrs[i].nr, nrs[i].seq, WAIT_USEC) == 0);
}

int main(void) {
        char cmd[256];

        if (geteuid() != 0) {
                printf("1..0 # SKIP loop devices need root\n");
                return 0;
        }
        if (!mkdtemp(dir)) {
                printf("Bail out! mkdtemp: %m\n");
                return 1;
        }
        atexit(cleanup);
        snprintf(file, sizeof file, "%s/backing", dir);
        /* 4 MiB of distinct bytes, so an offset shows. */
        snprintf(cmd, sizeof cmd, "head -c %d /dev/urandom > '%s'", 4 * MiB, file);
        CHECK(system(cmd) == 0);

        test_attach_detach();
        test_autoclear_last_user();
        test_sigkill();
        test_race();

        CHECK(sweep() == 0); /* nothing of ours left attached */
        return tap_done();
}
