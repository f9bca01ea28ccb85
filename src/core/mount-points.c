/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/stat.h>

#include "log.h"
#include "mount-points.h"
#include "mount-setup.h"
#include "tree.h"

static MountPointParent *parent_find(MountPoints *mp, const char *path) {
        for (size_t i = 0; i < mp->n_parents; i++)
                if (streq(mp->parents[i].path, path))
                        return &mp->parents[i];
        return NULL;
}

/* Before we make an entry in directory PARENT_FD (PATH in the tree): its times. */
static int parent_note_before(MountPoints *mp, int parent_fd, const char *path) {
        MountPointParent *n;
        struct stat st;

        if (parent_find(mp, path))
                return 0;
        if (fstat(parent_fd, &st) < 0)
                return -errno;
        n = realloc(mp->parents, (mp->n_parents + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        mp->parents = n;
        n = &mp->parents[mp->n_parents];
        *n = (MountPointParent) { .before = { st.st_atim, st.st_mtim }, .after = st.st_mtim };
        n->path = strdup(path);
        if (!n->path)
                return -ENOMEM;
        mp->n_parents++;
        return 0;
}

static void parent_note_after(MountPoints *mp, int parent_fd, const char *path) {
        MountPointParent *n = parent_find(mp, path);
        struct stat st;

        if (n && fstat(parent_fd, &st) >= 0)
                n->after = st.st_mtim;
}

static bool timespec_eq(struct timespec a, struct timespec b) {
        return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* The tree's directories that the machine covers with a tmpfs of its own
 * (/run, /tmp, /dev): a mount point below one is made in that tmpfs by the
 * machine itself (mount-setup.c), never in the tree, where it would be hidden
 * anyway. Found by identity, so that a path through a symlink (/var/run ->
 * /run) counts too. */
static const char *const covered_dirs[] = { "/run", "/tmp", "/dev" };

typedef struct CoveredDirs {
        dev_t dev[ELEMENTSOF(covered_dirs)];
        ino_t ino[ELEMENTSOF(covered_dirs)];
        size_t n;
} CoveredDirs;

static void covered_dirs_find(int tree_fd, CoveredDirs *ret) {
        *ret = (CoveredDirs) {};
        for (size_t i = 0; i < ELEMENTSOF(covered_dirs); i++) {
                struct stat st;

                if (fstatat(tree_fd, covered_dirs[i] + 1, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                ret->dev[ret->n] = st.st_dev;
                ret->ino[ret->n++] = st.st_ino;
        }
}

static bool covered_dirs_has(const CoveredDirs *c, int fd) {
        struct stat st;

        if (!c || fstat(fd, &st) < 0)
                return false;
        for (size_t i = 0; i < c->n; i++)
                if (c->dev[i] == st.st_dev && c->ino[i] == st.st_ino)
                        return true;
        return false;
}

/* Creates PATH inside the tree, each missing component a directory except the
 * last when !last_is_dir. Nothing is made at or below a directory of STOP. */
static int make_path(int tree_fd, const char *path, bool last_is_dir, const CoveredDirs *stop, MountPoints *mp) {
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
                        *ls = '\0';
                        r = parent_note_before(mp, parent, isempty(p) ? "/" : p);
                        *ls = '/';
                        if (r < 0)
                                return r;
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
                        *ls = '\0';
                        parent_note_after(mp, parent, isempty(p) ? "/" : p);
                        *ls = '/';
                        r = strv_push_dup(&mp->created, p);
                        if (r < 0)
                                return r;
                } else if (r < 0)
                        return r;
                else if (covered_dirs_has(stop, fd))
                        return 0;
                if (last)
                        return 0;
                *slash = '/';
        }
}

int mount_points_prepare(int tree_fd, const Settings *s, MountPoints *mp,
                         char **ret_failed) {
        CoveredDirs covered;
        int r;

        for (size_t i = 0; i < mount_api_dirs_n; i++) {
                struct stat st;

                /* Something else in its place (a symlink, a file) is left for
                 * mount_setup() to refuse, with the reason. */
                if (fstatat(tree_fd, mount_api_dirs[i] + 1, &st, AT_SYMLINK_NOFOLLOW) >= 0 && !S_ISDIR(st.st_mode))
                        continue;
                r = make_path(tree_fd, mount_api_dirs[i], true, NULL, mp);
                if (r < 0) {
                        *ret_failed = strdup(mount_api_dirs[i]);
                        return r;
                }
        }
        covered_dirs_find(tree_fd, &covered);
        for (size_t i = 0; i < s->n_binds; i++) {
                struct stat st;

                if (stat(s->binds[i].source, &st) < 0)
                        return -errno;
                r = make_path(tree_fd, s->binds[i].destination, S_ISDIR(st.st_mode), &covered, mp);
                if (r < 0) {
                        *ret_failed = strdup(s->binds[i].destination);
                        return r;
                }
        }
        for (char **t = s->tmpfs; t && *t; t++) {
                r = make_path(tree_fd, *t, true, &covered, mp);
                if (r < 0) {
                        *ret_failed = strdup(*t);
                        return r;
                }
        }
        return 0;
}

/* The directories we made entries in get their times back, unless someone
 * else changed them meanwhile (the machine wrote there) or an entry of ours
 * stays. */
static bool *parents_untouched(int tree_fd, const MountPoints *mp) {
        bool *u = calloc(mp->n_parents + 1, sizeof(bool));

        for (size_t i = 0; u && i < mp->n_parents; i++) {
                _cleanup_close_ int fd = -EBADF;
                struct stat st;

                u[i] = tree_resolve(tree_fd, mp->parents[i].path, O_PATH | O_DIRECTORY, &fd) >= 0 &&
                       fstat(fd, &st) >= 0 && timespec_eq(st.st_mtim, mp->parents[i].after);
        }
        return u;
}

static void parents_restore(int tree_fd, MountPoints *mp, const bool *untouched) {
        for (size_t i = mp->n_parents; i > 0; i--) {
                MountPointParent *n = &mp->parents[i - 1];
                _cleanup_close_ int fd = -EBADF;

                if (untouched && untouched[i - 1] &&
                    tree_resolve(tree_fd, n->path, O_RDONLY | O_DIRECTORY, &fd) >= 0 &&
                    futimens(fd, n->before) < 0)
                        log_debug("Left the times of %s as they are: %m", n->path);
        }
}

void mount_points_cleanup(int tree_fd, MountPoints *mp) {
        _cleanup_free_ bool *untouched = parents_untouched(tree_fd, mp);
        bool all_gone = true;

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
                        if (unlinkat(parent, ls + 1, AT_REMOVEDIR) < 0) {
                                log_debug("Left %s/%s in place: %m", p, ls + 1);
                                all_gone = false;
                        }
                } else if (S_ISREG(st.st_mode) && st.st_size == 0)
                        (void) unlinkat(parent, ls + 1, 0);
                else
                        all_gone = false;
        }
        if (all_gone)
                parents_restore(tree_fd, mp, untouched);
        mount_points_forget(mp);
}

void mount_points_forget(MountPoints *mp) {
        strv_freep(&mp->created);
        for (size_t i = 0; i < mp->n_parents; i++)
                free(mp->parents[i].path);
        free(mp->parents);
        mp->parents = NULL;
        mp->n_parents = 0;
}
