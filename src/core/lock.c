/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
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
                        /* Held only for a moment by a releaser or a sweep that
                         * has unlinked it since: a new file is at the path. */
                        if (fstat(fd, &a) >= 0 && a.st_nlink == 0)
                                continue;
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

static bool is_lock_name(const char *name) {
        size_t n = strlen(name);

        return n > STRLEN(".lock") && streq(name + n - STRLEN(".lock"), ".lock");
}

int lock_file_remove_unheld(int dir_fd, const char *name) {
        _cleanup_close_ int fd = -EBADF;
        struct stat a, b;

        fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? 0 : -errno;
        /* Still the file at the path: not one a taker has made since. */
        if (fstat(fd, &a) < 0)
                return -errno;
        if (!S_ISREG(a.st_mode) || fstatat(dir_fd, name, &b, AT_SYMLINK_NOFOLLOW) < 0 ||
            a.st_ino != b.st_ino || a.st_dev != b.st_dev)
                return 0;
        if (unlinkat(dir_fd, name, 0) < 0)
                return errno == ENOENT ? 0 : -errno;
        return 1;
}

int lock_dir_sweep(const char *subdir, size_t *ret_removed) {
        _cleanup_free_ char *path = strjoin3(runtime_dir(), "/", subdir);
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        size_t n = 0;
        int ret = 0;

        if (!path)
                return -ENOMEM;
        d = opendir(path);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(d))) {
                int r;

                if (de->d_type != DT_REG || !is_lock_name(de->d_name))
                        continue;
                r = lock_file_remove_unheld(dirfd(d), de->d_name);
                if (r > 0)
                        n++;
                else if (r < 0 && ret == 0)
                        ret = r;
        }
        if (ret_removed)
                *ret_removed = n;
        return ret;
}
