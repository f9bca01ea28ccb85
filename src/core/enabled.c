/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "enabled.h"
#include "pool.h"
#include "settings.h"
#include "systemd-unit.h"
#include "util.h"

#ifndef BOXCTL_CONFIG_DIR
#define BOXCTL_CONFIG_DIR "/etc/boxctl"
#endif
/* Where meson installs box@.service; the link points at it when systemd's
 * unit directories do not hold it. */
#ifndef BOXCTL_UNIT_DIR
#define BOXCTL_UNIT_DIR "/usr/lib/systemd/system"
#endif
#ifndef BOXCTL_SYSTEMD_UNIT_DIR
#define BOXCTL_SYSTEMD_UNIT_DIR "/etc/systemd/system"
#endif

const char *enabled_config_dir(void) {
        const char *e = getenv("BOXCTL_CONFIG_DIR");

        return isempty(e) ? BOXCTL_CONFIG_DIR : e;
}

const char *enabled_pool_dir(void) {
        return pool_default_dir();
}

static char *enabled_dir(void) {
        return strjoin3(enabled_config_dir(), "/", "enabled");
}

static int pool_has(const char *name) {
        PoolImage *i = NULL;
        int r;

        /* NAME or NAME.raw, as "boxctl start NAME" finds it. */
        r = pool_image_find(NULL, name, false, &i);
        pool_image_free(i);
        return r;
}

static int enabled_resolve_path(const char *arg, char **ret_name) {
        _cleanup_free_ char *path = NULL, *pool = NULL, *name = NULL;
        char *slash;

        path = realpath(arg, NULL);
        if (!path)
                return -errno;
        pool = realpath(enabled_pool_dir(), NULL);
        if (!pool)
                return -EXDEV; /* no pool: nothing is in it */
        slash = strrchr(path, '/');
        *slash = '\0';
        if (!streq(isempty(path) ? "/" : path, pool))
                return -EXDEV;
        if (!machine_name_is_valid(slash + 1))
                return -EINVAL;
        name = strdup(slash + 1);
        if (!name)
                return -ENOMEM;
        *ret_name = TAKE_PTR(name);
        return 0;
}

int enabled_resolve(const char *arg, char **ret_name) {
        _cleanup_free_ char *name = NULL;
        int r;

        if (isempty(arg))
                return -EINVAL;
        if (!strchr(arg, '/')) {
                struct stat st;

                /* A NAME, as "boxctl start NAME" takes it; or, as start
                 * takes it too, a file of that name here. */
                r = machine_name_is_valid(arg) ? pool_has(arg) : -EINVAL;
                if (r < 0 && lstat(arg, &st) >= 0)
                        return enabled_resolve_path(arg, ret_name);
                if (r < 0)
                        return r;
                name = strdup(arg);
                if (!name)
                        return -ENOMEM;
                *ret_name = TAKE_PTR(name);
                return 0;
        }
        return enabled_resolve_path(arg, ret_name);
}

int enabled_add(const char *name) {
        _cleanup_free_ char *dir = enabled_dir(), *tmp = NULL;
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        int r;

        if (!dir)
                return -ENOMEM;
        if (!machine_name_is_valid(name))
                return -EINVAL;
        r = mkdir_p(dir, 0755);
        if (r < 0)
                return r;
        dfd = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        if (faccessat(dfd, name, F_OK, AT_SYMLINK_NOFOLLOW) >= 0)
                return 0;
        /* Made under a name no reader takes for a machine's, then renamed: an
         * entry is there whole or not at all. */
        if (asprintf(&tmp, ".#%s.%d", name, (int) getpid()) < 0)
                return -ENOMEM;
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644);
        if (fd < 0)
                return -errno;
        if (fsync(fd) < 0 || renameat(dfd, tmp, dfd, name) < 0) {
                r = -errno;
                (void) unlinkat(dfd, tmp, 0);
                return r;
        }
        (void) fsync(dfd);
        return 1;
}

int enabled_remove(const char *name) {
        _cleanup_free_ char *dir = enabled_dir();
        _cleanup_close_ int dfd = -EBADF;

        if (!dir)
                return -ENOMEM;
        if (!machine_name_is_valid(name))
                return -EINVAL;
        dfd = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (dfd < 0)
                return errno == ENOENT ? 0 : -errno;
        if (unlinkat(dfd, name, 0) < 0)
                return errno == ENOENT ? 0 : -errno;
        (void) fsync(dfd);
        return 1;
}

bool enabled_contains(const char *name) {
        _cleanup_free_ char *dir = enabled_dir(), *p = NULL;

        if (!dir || !machine_name_is_valid(name))
                return false;
        p = strjoin3(dir, "/", name);
        return p && access(p, F_OK) >= 0;
}

static int cmp_string(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int enabled_list(char ***ret) {
        _cleanup_free_ char *dir = enabled_dir();
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        if (!dir)
                return -ENOMEM;
        l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        d = opendir(dir);
        if (!d && errno != ENOENT)
                return -errno;
        while (d && (errno = 0, de = readdir(d)))
                /* Skips ".", ".." and half-made entries (".#NAME.PID"). */
                if (machine_name_is_valid(de->d_name) && de->d_name[0] != '.' && strv_push_dup(&l, de->d_name) < 0)
                        return -ENOMEM;
        if (d && errno != 0)
                return -errno;
        qsort(l, strv_length(l), sizeof(char *), cmp_string);
        *ret = TAKE_PTR(l);
        return 0;
}

int enabled_systemd_wants_path(const char *name, char **ret) {
        if (asprintf(ret, "%s/machines.target.wants/box@%s.service", BOXCTL_SYSTEMD_UNIT_DIR, name) < 0)
                return -ENOMEM;
        return 0;
}

bool enabled_host_has_systemd(void) {
        return systemd_unit_host();
}

int enabled_systemd_link(const char *name, bool enable, char **ret_link, char **ret_target) {
        _cleanup_free_ char *link = NULL, *dir = NULL, *target = NULL;
        int r;

        if (!machine_name_is_valid(name))
                return -EINVAL;
        r = enabled_systemd_wants_path(name, &link);
        if (r < 0)
                return r;
        if (!enable) {
                if (unlink(link) >= 0)
                        r = 1;
                else if (errno == ENOENT)
                        r = 0;
                else
                        return -errno;
        } else {
                /* As "systemctl enable box@NAME" links it: to the template's file. */
                r = systemd_unit_find_file("box@.service", BOXCTL_UNIT_DIR, &target);
                if (r < 0)
                        return r;
                dir = strdup(link);
                if (!dir)
                        return -ENOMEM;
                *strrchr(dir, '/') = '\0';
                r = mkdir_p(dir, 0755);
                if (r < 0)
                        return r;
                if (symlink(target, link) < 0) {
                        if (errno != EEXIST)
                                return -errno;
                        r = 0;
                } else
                        r = 1;
        }
        if (ret_link)
                *ret_link = TAKE_PTR(link);
        if (ret_target)
                *ret_target = TAKE_PTR(target);
        return r;
}
