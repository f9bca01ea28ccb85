/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cgroup-path.h"
#include "log.h"
#include "util.h"

/* trusted.*: only root can set it, and kernfs (cgroupfs, v1 and v2) keeps it. */
#define MADE_XATTR "trusted.boxctl.made"

int cgroup_path_clean(const char *path, char **ret) {
        _cleanup_free_ char *s = NULL;
        bool absolute = path[0] == '/';
        size_t n = 0;

        s = malloc(strlen(path) + 2);
        if (!s)
                return -ENOMEM;
        for (const char *p = path; *p;) {
                size_t k = strcspn(p, "/");

                if ((k == 1 && p[0] == '.') || k == 0)
                        ;
                else if (k == 2 && p[0] == '.' && p[1] == '.') {
                        char *slash;

                        if (n == 0)
                                return -EINVAL; /* above where it starts */
                        s[n] = '\0';
                        slash = strrchr(s, '/');
                        n = slash ? (size_t) (slash - s) : 0;
                } else {
                        if (n > 0)
                                s[n++] = '/';
                        memcpy(s + n, p, k);
                        n += k;
                }
                p += k;
                p += strspn(p, "/");
        }
        if (n == 0)
                return -EINVAL; /* the root, or our own cgroup */
        s[n] = '\0';
        if (absolute) {
                char *a = strjoin3("/", s, "");

                if (!a)
                        return -ENOMEM;
                free(s);
                s = a;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

static bool unit_part_ok(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.\\@", s[i]))
                        return false;
        return true;
}

int cgroup_path_from_systemd(const char *spec, char **ret) {
        const char *c1 = strchr(spec, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        _cleanup_free_ char *slice = NULL, *path = NULL;
        size_t sn, len = 0;

        if (!c2 || strchr(c2 + 1, ':') || isempty(c2 + 1))
                return -EINVAL;
        sn = (size_t) (c1 - spec);
        if (!unit_part_ok(spec, sn) || !unit_part_ok(c1 + 1, (size_t) (c2 - c1 - 1)) || !unit_part_ok(c2 + 1, strlen(c2 + 1)))
                return -EINVAL;
        slice = sn == 0 ? strdup("system.slice") : strndup(spec, sn);
        if (!slice)
                return -ENOMEM;
        sn = strlen(slice);
        if (sn <= STRLEN(".slice") || !streq(slice + sn - STRLEN(".slice"), ".slice") || slice[0] == '-' ||
            strstr(slice, "--") || slice[sn - STRLEN(".slice") - 1] == '-' || strchr(slice, '/'))
                return -EINVAL;
        /* "a-b.slice" lives in "a.slice": every "-" opens one level more. */
        path = malloc(sn * sn + strlen(c1) + 32);
        if (!path)
                return -ENOMEM;
        for (const char *d = slice; (d = strchr(d, '-')); d++)
                len += (size_t) sprintf(path + len, "/%.*s.slice", (int) (d - slice), slice);
        len += (size_t) sprintf(path + len, "/%s", slice);
        if (c2 > c1 + 1)
                sprintf(path + len, "/%.*s-%s.scope", (int) (c2 - c1 - 1), c1 + 1, c2 + 1);
        else
                sprintf(path + len, "/%s", c2 + 1);
        *ret = TAKE_PTR(path);
        return 0;
}

int cgroup_path_resolve(const char *own, const char *path, char **ret) {
        const char *o = own + strspn(own, "/");
        char *s;

        if (path[0] == '/')
                s = strdup(path + 1);
        else
                s = strjoin3(o, *o ? "/" : "", path);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static bool is_marked(int fd) {
        char v[8];

        return fgetxattr(fd, MADE_XATTR, v, sizeof v) > 0;
}

int cgroup_cpuset_inherit(int parent_fd, int child_fd) {
        static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *value = NULL, *current = NULL;
                int r;

                if (read_file_at(child_fd, files[i], 4096, &current) >= 0 && !isempty(current) && !streq(current, "\n"))
                        continue;
                r = read_file_at(parent_fd, files[i], 4096, &value);
                if (r < 0)
                        return r;
                r = write_file_at(child_fd, files[i], value, 0644);
                if (r < 0)
                        return r;
        }
        return 0;
}

int cgroup_path_make(int root_fd, const char *rel, bool cpuset, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *procs = NULL;

        fd = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        for (const char *p = rel; *p;) {
                size_t k = strcspn(p, "/");
                _cleanup_free_ char *name = strndup(p, k);
                _cleanup_close_ int child = -EBADF;
                bool made;

                if (!name)
                        return -ENOMEM;
                made = mkdirat(fd, name, 0755) >= 0;
                if (!made && errno != EEXIST)
                        return -errno;
                child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (child < 0)
                        return -errno;
                if (made && fsetxattr(child, MADE_XATTR, "1", 1, 0) < 0) {
                        int r = -errno;

                        (void) unlinkat(fd, name, AT_REMOVEDIR);
                        return r;
                }
                if (cpuset) {
                        int r = cgroup_cpuset_inherit(fd, child);

                        if (r < 0)
                                return r;
                }
                close(fd);
                fd = TAKE_FD(child);
                p += k;
                p += strspn(p, "/");
        }
        /* Another container's (or anyone's) cgroup with processes: not ours to share. */
        if (read_file_at(fd, "cgroup.procs", 4096, &procs) >= 0 && !isempty(procs))
                return -EBUSY;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int cgroup_remove_tree_at(int dir_fd, const char *name) {
        _cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        d = fdopendir(TAKE_FD(fd));
        if (!d)
                return -errno;
        while ((de = readdir(d)))
                if (de->d_type == DT_DIR && !streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        (void) cgroup_remove_tree_at(dirfd(d), de->d_name);
        for (int try = 0; try < 100; try++) {
                if (unlinkat(dir_fd, name, AT_REMOVEDIR) >= 0 || errno == ENOENT)
                        return 0;
                if (errno != EBUSY)
                        break;
                usleep(10 * 1000);
        }
        return -errno;
}

int cgroup_path_remove(int root_fd, const char *rel) {
        _cleanup_free_ char *p = strdup(rel);
        bool leaf = true;
        int ret = 0;

        if (!p)
                return -ENOMEM;
        for (;;) {
                _cleanup_close_ int fd = openat(root_fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                char *slash;
                int r;

                if (fd < 0)
                        return errno == ENOENT ? ret : -errno;
                if (!is_marked(fd))
                        return ret; /* there before us: left alone, and all above it */
                fd = safe_close(fd);
                if (leaf)
                        r = cgroup_remove_tree_at(root_fd, p);
                else
                        r = unlinkat(root_fd, p, AT_REMOVEDIR) < 0 ? -errno : 0;
                if (r == -EBUSY || r == -ENOTEMPTY)
                        return ret; /* another cgroup still below it */
                if (r < 0)
                        return log_debug_errno(r, "cannot remove cgroup %s: %m", p);
                leaf = false;
                slash = strrchr(p, '/');
                if (!slash)
                        return ret;
                *slash = '\0';
        }
}
