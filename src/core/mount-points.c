/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/stat.h>

#include "log.h"
#include "mount-points.h"
#include "mount-setup.h"
#include "tree.h"

/* Creates PATH inside the tree, each missing component a directory except the
 * last when !last_is_dir. */
static int make_path(int tree_fd, const char *path, bool last_is_dir, MountPoints *mp) {
        _cleanup_free_ char *p = strdup(path);
        char *slash;

        if (!p)
                return -ENOMEM;
        for (char *c = p + 1;; c = slash + 1) {
                _cleanup_close_ int fd = -EBADF, parent = -EBADF;
                const char *base;
                bool last;
                int r;

                slash = strchr(c, '/');
                last = !slash;
                if (slash)
                        *slash = '\0';
                if (*c == '\0') {
                        if (last)
                                return 0;
                        *slash = '/';
                        continue;
                }
                r = tree_resolve(tree_fd, p, O_PATH, &fd);
                if (r == -ENOENT) {
                        /* The parent exists (made in an earlier round). */
                        char *ls = strrchr(p, '/');

                        *ls = '\0';
                        r = tree_resolve(tree_fd, isempty(p) ? "/" : p, O_PATH | O_DIRECTORY, &parent);
                        *ls = '/';
                        if (r < 0)
                                return r;
                        base = ls + 1;
                        if (!last || last_is_dir)
                                r = mkdirat(parent, base, 0755) < 0 ? -errno : 0;
                        else {
                                /* An empty file for a file bind mount; openat() on an O_PATH dir fd is fine. */
                                int ffd = openat(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0644);
                                r = ffd < 0 ? -errno : 0;
                                safe_close(ffd);
                        }
                        if (r < 0)
                                return r;
                        r = strv_push_dup(&mp->created, p);
                        if (r < 0)
                                return r;
                } else if (r < 0)
                        return r;
                if (last)
                        return 0;
                *slash = '/';
        }
}

int mount_points_prepare(int tree_fd, const Settings *s, MountPoints *mp,
                         char **ret_failed) {
        int r;

        for (size_t i = 0; i < mount_api_dirs_n; i++) {
                struct stat st;

                /* Something else in its place (a symlink, a file) is left for
                 * mount_setup() to refuse, with the reason. */
                if (fstatat(tree_fd, mount_api_dirs[i] + 1, &st, AT_SYMLINK_NOFOLLOW) >= 0 && !S_ISDIR(st.st_mode))
                        continue;
                r = make_path(tree_fd, mount_api_dirs[i], true, mp);
                if (r < 0) {
                        *ret_failed = strdup(mount_api_dirs[i]);
                        return r;
                }
        }
        for (size_t i = 0; i < s->n_binds; i++) {
                struct stat st;

                if (stat(s->binds[i].source, &st) < 0)
                        return -errno;
                r = make_path(tree_fd, s->binds[i].destination, S_ISDIR(st.st_mode), mp);
                if (r < 0) {
                        *ret_failed = strdup(s->binds[i].destination);
                        return r;
                }
        }
        for (char **t = s->tmpfs; t && *t; t++) {
                r = make_path(tree_fd, *t, true, mp);
                if (r < 0) {
                        *ret_failed = strdup(*t);
                        return r;
                }
        }
        return 0;
}

void mount_points_cleanup(int tree_fd, MountPoints *mp) {
        for (size_t n = strv_length(mp->created); n > 0; n--) {
                _cleanup_close_ int parent = -EBADF;
                char *p = mp->created[n - 1], *ls = strrchr(p, '/');
                struct stat st;

                *ls = '\0';
                if (tree_resolve(tree_fd, isempty(p) ? "/" : p, O_PATH | O_DIRECTORY, &parent) < 0)
                        continue;
                if (fstatat(parent, ls + 1, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        if (unlinkat(parent, ls + 1, AT_REMOVEDIR) < 0)
                                log_debug("Left %s/%s in place: %m", p, ls + 1);
                } else if (S_ISREG(st.st_mode) && st.st_size == 0)
                        (void) unlinkat(parent, ls + 1, 0);
        }
        strv_freep(&mp->created);
}
