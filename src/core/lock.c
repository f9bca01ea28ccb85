/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "lock.h"
#include "log.h"
#include "util.h"

const char *runtime_dir(void) {
        /* Tests point this at a directory of their sandbox. */
        const char *e = getenv("BOXCTL_RUNTIME_DIR");

        return isempty(e) ? BOXCTL_RUNTIME_DIR : e;
}

int runtime_dir_make(const char *subdir, char **ret) {
        _cleanup_free_ char *p = NULL;

        if (mkdir(runtime_dir(), 0755) < 0 && errno != EEXIST)
                return -errno;
        p = strjoin3(runtime_dir(), "/", subdir);
        if (!p)
                return -ENOMEM;
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
                return -errno;
        *ret = TAKE_PTR(p);
        return 0;
}

int tree_lock_acquire(dev_t dev, ino_t ino, bool exclusive, const char *machine_name,
                      TreeLock *ret, char **ret_holder) {
        _cleanup_free_ char *dir = NULL, *path = NULL;
        int r;

        r = runtime_dir_make("locks", &dir);
        if (r < 0)
                return r;
        if (asprintf(&path, "%s/tree-%u:%u-%llu.lock", dir, major(dev), minor(dev),
                     (unsigned long long) ino) < 0)
                return -ENOMEM;

        /* The last holder unlinks the file on release, so after taking the lock
         * make sure the file we hold is still the one at the path. */
        for (;;) {
                _cleanup_close_ int fd = -EBADF;
                struct stat a, b;

                fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0600);
                if (fd < 0)
                        return -errno;
                if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) < 0) {
                        if (errno != EWOULDBLOCK)
                                return -errno;
                        if (ret_holder) {
                                _cleanup_free_ char *h = NULL;

                                if (read_fd(fd, 256, &h) >= 0 && !isempty(h)) {
                                        h[strcspn(h, "\n")] = '\0';
                                        *ret_holder = TAKE_PTR(h);
                                } else
                                        *ret_holder = NULL;
                        }
                        return -EBUSY;
                }
                if (fstat(fd, &a) < 0)
                        return -errno;
                if (stat(path, &b) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
                        continue;

                if (exclusive) {
                        char info[128];

                        snprintf(info, sizeof info, "machine %s (boxctl PID %d)\n",
                                 machine_name, (int) getpid());
                        if (ftruncate(fd, 0) < 0 || pwrite(fd, info, strlen(info), 0) < 0)
                                log_debug("Could not note the holder in %s: %m", path);
                }
                *ret = (TreeLock) { .fd = TAKE_FD(fd), .path = TAKE_PTR(path) };
                return 0;
        }
}

void tree_lock_release(TreeLock *l) {
        if (l->fd >= 0) {
                /* Only the last holder can take it exclusively, and it removes the file. */
                if (flock(l->fd, LOCK_EX | LOCK_NB) >= 0)
                        (void) unlink(l->path);
                safe_close(l->fd);
        }
        free(l->path);
        *l = TREE_LOCK_NULL;
}
