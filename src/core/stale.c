/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "cgroup.h"
#include "cgroup-v1.h"
#include "lock.h"
#include "log.h"
#include "seccomp-filter.h"
#include "stale.h"
#include "util.h"

/* How long an empty scope is left alone: a supervisor opens its scope right
 * after making it (cgroupfs_create()), and holds it open from then on. */
#define STALE_GRACE_USEC (5 * 1000000ULL)
/* What is left in a dead machine's scope (a helper outside its PID
 * namespace) is killed; the wait for it to go is short: boxd waits on it. */
#define STALE_KILL_TIMEOUT_USEC (1 * 1000000ULL)

static char *scope_relative(const char *machine_name) {
        _cleanup_free_ char *unit = cgroup_unit_name(machine_name);

        return unit ? strjoin3("/" BOXCTL_CGROUP_SLICE "/", unit, "") : NULL;
}

/* Some process has the directory open: the supervisor of a machine keeps its
 * scope open (Cgroup.fd) for the machine's life, reboots included, whatever
 * mount namespace it is in; a dead one has no files. */
static bool dir_held(const char *path) {
        _cleanup_closedir_ DIR *proc = NULL;
        struct dirent *de;
        struct stat want;

        if (stat(path, &want) < 0)
                return false;
        proc = opendir("/proc");
        if (!proc)
                return true; /* cannot tell: the safe answer */
        while ((de = readdir(proc))) {
                _cleanup_closedir_ DIR *fds = NULL;
                _cleanup_free_ char *dir = NULL;
                struct dirent *fe;

                if (de->d_name[0] < '1' || de->d_name[0] > '9')
                        continue;
                dir = strjoin3("/proc/", de->d_name, "/fd");
                if (!dir)
                        return true;
                fds = opendir(dir);
                if (!fds)
                        continue; /* gone meanwhile */
                while ((fe = readdir(fds))) {
                        struct stat st;

                        if (fe->d_name[0] == '.')
                                continue;
                        if (fstatat(dirfd(fds), fe->d_name, &st, 0) >= 0 && st.st_dev == want.st_dev &&
                            st.st_ino == want.st_ino)
                                return true;
                }
        }
        return false;
}

static bool dir_young(const char *path) {
        struct statx sx;
        struct timespec now;
        uint64_t born, t;

        if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BTIME | STATX_MTIME, &sx) < 0)
                return false; /* gone */
        born = (sx.stx_mask & STATX_BTIME) ? (uint64_t) sx.stx_btime.tv_sec * 1000000ULL + sx.stx_btime.tv_nsec / 1000
                                           : (uint64_t) sx.stx_mtime.tv_sec * 1000000ULL + sx.stx_mtime.tv_nsec / 1000;
        if (clock_gettime(CLOCK_REALTIME, &now) < 0)
                return true;
        t = (uint64_t) now.tv_sec * 1000000ULL + now.tv_nsec / 1000;
        return t < born + STALE_GRACE_USEC;
}

static void runtime_file_remove(const char *subdir, const char *name, const char *suffix) {
        _cleanup_free_ char *dir = strjoin3(runtime_dir(), "/", subdir), *path = NULL;

        if (dir)
                path = strjoin3(dir, "/", name);
        if (path && suffix) {
                char *p = strjoin3(path, suffix, "");

                free(path);
                path = p;
        }
        if (path && unlink(path) < 0 && errno != ENOENT)
                log_debug("Cannot remove %s: %m", path);
}

/* What machine.c and machine-background.c make for a machine while it runs,
 * all after its scope: see guest_notify_open(), console_server_new(),
 * log_to_file(), seccomp_machine_record_save(). */
static void runtime_files_remove(const char *machine_name) {
        runtime_file_remove("consoles", machine_name, NULL);
        runtime_file_remove("notify", machine_name, NULL);
        runtime_file_remove("logs", machine_name, ".log");
        seccomp_machine_record_remove(machine_name);
}

static void locks_sweep(void) {
        static const char *const dirs[] = { "locks", "uidranges" };

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                size_t n = 0;
                int r = lock_dir_sweep(dirs[i], &n);

                if (r < 0)
                        log_debug_errno(r, "Cannot sweep %s/%s: %m", runtime_dir(), dirs[i]);
                else if (n > 0)
                        log_debug("Removed %zu lock files nobody held from %s/%s.", n, runtime_dir(), dirs[i]);
        }
}

/* Empties and removes the cgroup2 scope REL unless a live process holds it. */
static int scope_remove(const char *rel) {
        _cleanup_(cgroup_machine_freep) Cgroup *cg = NULL;
        int r;

        r = cgroup_machine_open(rel, &cg);
        if (r < 0)
                return r;
        if (access(cg->path, F_OK) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (dir_held(cg->path))
                return -EBUSY;
        r = cgroup_machine_destroy(cg, STALE_KILL_TIMEOUT_USEC);
        return r == -ENOENT ? 0 : r;
}

int stale_machine_remove(const char *machine_name, const char *cgroup) {
        _cleanup_free_ char *rel = scope_relative(machine_name);
        const char *below;
        int r, ret = 0;

        if (!rel)
                return -ENOMEM;
        /* A registered machine's cgroup is where its leader was (in the
         * scope, or below it once the guest's init moved itself): only a
         * machine scope of that name is the machine's own to remove. */
        below = cgroup ? startswith(cgroup, rel) : NULL;
        if (!cgroup || (below && (*below == '\0' || *below == '/'))) {
                r = scope_remove(rel);
                if (r == -EBUSY)
                        return r;
                if (r < 0)
                        ret = log_debug_errno(r, "Cannot remove the scope of machine %s: %m", machine_name);
        }
        r = cgroup_v1_machine_remove(machine_name);
        if (r < 0 && ret == 0)
                ret = log_debug_errno(r, "Cannot remove the v1 cgroups of machine %s: %m", machine_name);
        runtime_files_remove(machine_name);
        locks_sweep();
        return ret;
}

int stale_cgroups_remove(const char *machine_name, char *const *paths) {
        int r, ret = 0;

        for (char *const *p = paths; p && *p; p++) {
                _cleanup_(cgroup_machine_freep) Cgroup *cg = NULL;
                const char *v2 = startswith(*p, "0::");

                if (!v2)
                        continue;
                r = cgroup_machine_open_named(v2, &cg);
                if (r >= 0)
                        r = cgroup_machine_destroy(cg, 10 * 1000000ULL);
                if (r < 0 && r != -ENOENT && ret == 0)
                        ret = log_debug_errno(r, "Cannot remove cgroup %s of machine %s: %m", v2, machine_name);
        }
        r = cgroup_v1_paths_remove(paths);
        if (r < 0 && ret == 0)
                ret = r;
        runtime_files_remove(machine_name);
        locks_sweep();
        return ret;
}

/* ---- the sweep ---- */

static bool has_scope(const char *machine_name, void *userdata) {
        const char *mount = userdata;
        _cleanup_free_ char *rel = scope_relative(machine_name), *path = NULL;

        if (!rel)
                return true;
        path = strjoin3(mount, "", rel);
        return !path || access(path, F_OK) >= 0;
}

static size_t scopes_sweep(const char *mount) {
        _cleanup_free_ char *slice = strjoin3(mount, "/", BOXCTL_CGROUP_SLICE);
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        size_t n = 0;

        if (!slice)
                return 0;
        d = opendir(slice);
        if (!d)
                return 0;
        while ((de = readdir(d))) {
                _cleanup_free_ char *name = NULL, *path = NULL, *rel = NULL;

                if (de->d_type != DT_DIR || cgroup_unit_to_machine_name(de->d_name, &name) < 0)
                        continue;
                path = strjoin3(slice, "/", de->d_name);
                rel = strjoin3("/" BOXCTL_CGROUP_SLICE "/", de->d_name, "");
                if (!path || !rel)
                        break;
                /* Cheapest first: most scopes are of machines that run. */
                if (cgroup_is_populated(path) != 0 || dir_young(path))
                        continue;
                if (scope_remove(rel) < 0)
                        continue;
                log_debug("Removed the empty scope %s left by a machine that ended.", path);
                (void) cgroup_v1_machine_remove(name);
                runtime_files_remove(name);
                n++;
        }
        return n;
}

/* Runtime files of machines without a scope: each is made after the scope
 * and removed before it goes. */
static void files_sweep(const char *mount, const char *subdir, const char *prefix, const char *suffix) {
        _cleanup_free_ char *dir = strjoin3(runtime_dir(), "/", subdir);
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        if (!dir || !(d = opendir(dir)))
                return;
        while ((de = readdir(d))) {
                _cleanup_free_ char *name = NULL;
                const char *p = startswith(de->d_name, prefix);
                size_t n, ns = suffix ? strlen(suffix) : 0;

                if (!p || de->d_name[0] == '.' || de->d_type == DT_DIR)
                        continue;
                n = strlen(p);
                if (n <= ns || (suffix && !streq(p + n - ns, suffix)))
                        continue;
                name = strndup(p, n - ns);
                if (!name || has_scope(name, (void *) mount))
                        continue;
                /* A record being written (seccomp_machine_record_save()): NAME.tmp. */
                n = strlen(name);
                if (n > STRLEN(".tmp") && streq(name + n - STRLEN(".tmp"), ".tmp")) {
                        name[n - STRLEN(".tmp")] = '\0';
                        if (has_scope(name, (void *) mount))
                                continue;
                }
                if (unlinkat(dirfd(d), de->d_name, 0) >= 0)
                        log_debug("Removed %s/%s, left by machine %s.", dir, de->d_name, name);
        }
}

int stale_sweep(size_t *ret_removed) {
        CgroupLayout layout;
        const char *mount;
        size_t n;
        int r;

        r = cgroup_layout_detect(&layout, &mount);
        if (r < 0)
                return r;
        n = scopes_sweep(mount);
        r = cgroup_v1_sweep(has_scope, (void *) mount);
        if (r < 0)
                log_debug_errno(r, "Cannot sweep the v1 cgroups: %m");
        files_sweep(mount, "consoles", "", NULL);
        files_sweep(mount, "notify", "", NULL);
        files_sweep(mount, "logs", "", ".log");
        files_sweep(mount, "seccomp", "machine-", NULL);
        locks_sweep();
        if (ret_removed)
                *ret_removed = n;
        return 0;
}
