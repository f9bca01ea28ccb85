/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A static test payload: tries, from inside a machine, things its root must
 * not be able to do, and prints one line per try: "NAME ok (reason)" when the
 * kernel refused, "NAME LEAK" when it allowed it. Exit status: the number of
 * leaks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <unistd.h>

static int leaks;

static void report(const char *name, int r) {
        if (r < 0)
                printf("%s ok (%s)\n", name, strerror(errno));
        else {
                printf("%s LEAK\n", name);
                leaks++;
        }
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

int main(int argc, char *argv[]) {
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
