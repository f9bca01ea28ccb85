/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/stat.h>

#include "log.h"
#include "missing-syscall.h"
#include "tree.h"

const char *const tree_init_candidates[] = {
        "/usr/lib/systemd/systemd",
        "/lib/systemd/systemd",
        "/sbin/init",
        NULL,
};

const char *const tree_os_release_candidates[] = {
        "/etc/os-release",
        "/usr/lib/os-release",
        NULL,
};

/* Opens PATH inside the tree as if the tree were "/": symlinks, absolute or
 * relative, cannot lead out of it. */
int tree_resolve(int tree_fd, const char *path, int flags, int *ret_fd) {
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        int fd;

        fd = sys_openat2(tree_fd, path, &how);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

/* Reads a regular file of the tree; a fifo or device planted there is refused
 * (O_NONBLOCK keeps the open itself from hanging on a fifo). */
static int tree_read_file(int tree_fd, const char *path, size_t max, char **ret) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        r = tree_resolve(tree_fd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK, &fd);
        if (r < 0)
                return r;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        r = read_fd(fd, max, ret);
        return r < 0 ? r : 0;
}

int tree_read_os_release(int tree_fd, char **ret) {
        for (const char *const *p = tree_os_release_candidates; *p; p++)
                if (tree_read_file(tree_fd, *p, 64 * 1024, ret) >= 0)
                        return 0;
        return -EBADE;
}

static int find_os_release(Tree *t) {
        return tree_read_os_release(t->fd, &t->os_release);
}

static int find_init(Tree *t) {
        for (const char *const *p = tree_init_candidates; *p; p++) {
                _cleanup_close_ int fd = -EBADF;
                struct stat st;

                if (tree_resolve(t->fd, *p, O_PATH, &fd) < 0)
                        continue;
                if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111))
                        continue;
                t->init_path = strdup(*p);
                if (!t->init_path)
                        return -ENOMEM;
                t->init_kind = init_kind_detect(fd);
                return 0;
        }
        return -ENOEXEC;
}

static void read_machine_id(Tree *t) {
        _cleanup_free_ char *s = NULL;
        int r;

        t->machine_id = (Id128) {};
        r = tree_read_file(t->fd, "/etc/machine-id", 4096, &s);
        t->machine_id_file = r >= 0;
        if (r < 0)
                return;
        s[strcspn(s, "\n")] = '\0';
        /* Empty or "uninitialized" (systemd's first-boot marker): no id yet. */
        (void) id128_from_string(s, &t->machine_id);
}

int tree_open(const char *path, TreeOpenFlags flags, Tree *ret) {
        int fd = open(path, O_PATH | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        return tree_open_fd(fd, flags, ret);
}

int tree_open_fd(int fd, TreeOpenFlags flags, Tree *ret) {
        Tree t = TREE_NULL;
        struct stat st, root_st;
        int r;

        t.fd = fd;
        if (fstat(t.fd, &st) < 0) {
                r = -errno;
                goto fail;
        }
        if (!S_ISDIR(st.st_mode)) {
                r = -ENOTDIR;
                goto fail;
        }
        if (stat("/", &root_st) >= 0 && root_st.st_dev == st.st_dev && root_st.st_ino == st.st_ino) {
                r = -ELOOP;
                goto fail;
        }
        t.dev = st.st_dev;
        t.ino = st.st_ino;

        r = find_os_release(&t);
        if (r < 0 && !(r == -EBADE && (flags & TREE_ANY_ROOTFS)))
                goto fail;
        if (flags & TREE_WANT_INIT) {
                r = find_init(&t);
                if (r < 0)
                        goto fail;
        }
        read_machine_id(&t);
        *ret = t;
        return 0;
fail:
        tree_done(&t);
        return r;
}

void tree_done(Tree *t) {
        safe_close(t->fd);
        free(t->os_release);
        free(t->init_path);
        *t = TREE_NULL;
}
