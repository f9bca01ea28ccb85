/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "oci-state.h"
#include "process-util.h"
#include "util.h"

static const char *const status_table[_OCI_STATUS_MAX] = {
        [OCI_STATUS_CREATING] = "creating",
        [OCI_STATUS_CREATED] = "created",
        [OCI_STATUS_RUNNING] = "running",
        [OCI_STATUS_STOPPED] = "stopped",
        [OCI_STATUS_PAUSED] = "paused",
};

const char *oci_status_to_string(OciStatus s) {
        return s >= 0 && s < _OCI_STATUS_MAX ? status_table[s] : NULL;
}

OciStatus oci_status_from_string(const char *s) {
        for (int i = 0; s && i < _OCI_STATUS_MAX; i++)
                if (streq(s, status_table[i]))
                        return i;
        return _OCI_STATUS_INVALID;
}

/* runc's rule ([A-Za-z0-9_+.-]+), and a machine name too: the ID names the
 * container's cgroup scope. */
bool oci_id_is_valid(const char *id) {
        if (isempty(id) || strlen(id) > 64 || streq(id, ".") || streq(id, ".."))
                return false;
        for (const char *p = id; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      strchr("_+.-", *p)))
                        return false;
        return true;
}

void oci_state_done(OciState *s) {
        free(s->id);
        free(s->bundle);
        free(s->rootfs);
        free(s->created);
        free(s->annotations);
        strv_freep(&s->mount_points);
        strv_freep(&s->cgroup_paths);
        *s = (OciState) {};
}

int oci_state_dir_open(const char *root, const char *id, bool create, int *ret_fd) {
        _cleanup_close_ int root_fd = -EBADF, fd = -EBADF;

        /* As runc: the engine's --root may not exist yet, nor its parents
         * (containerd's shim: /run/containerd/runc/NAMESPACE). */
        if (create) {
                int r = mkdir_p(root, 0700);

                if (r < 0)
                        return r;
        }
        root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return -errno;
        if (create && mkdirat(root_fd, id, 0700) < 0)
                return -errno;
        fd = openat(root_fd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOTDIR || errno == ELOOP ? -ENOENT : -errno;
        if (flock(fd, LOCK_EX) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int oci_state_dir_remove(const char *root, const char *id) {
        _cleanup_close_ int root_fd = -EBADF, fd = -EBADF;
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;

        root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return -errno;
        fd = openat(root_fd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        d = fdopendir(TAKE_FD(fd));
        if (!d)
                return -errno;
        /* Only files of ours are in it, and the notify socket's directory. */
        (void) unlinkat(dirfd(d), OCI_NOTIFY_DIR "/" OCI_NOTIFY_SOCKET, 0);
        (void) unlinkat(dirfd(d), OCI_NOTIFY_DIR, AT_REMOVEDIR);
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        (void) unlinkat(dirfd(d), de->d_name, 0);
        if (unlinkat(root_fd, id, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

int oci_state_save(int dir_fd, const OciState *s) {
        json_object *o = json_object_new_object(), *mp = json_object_new_array();
        const char *text;
        int r;

        json_object_object_add(o, "id", json_object_new_string(s->id));
        json_object_object_add(o, "pid", json_object_new_int(s->pid));
        json_object_object_add(o, "pid_start", json_object_new_uint64(s->pid_start));
        json_object_object_add(o, "bundle", json_object_new_string(s->bundle));
        json_object_object_add(o, "rootfs", json_object_new_string(s->rootfs));
        json_object_object_add(o, "created", json_object_new_string(s->created));
        json_object_object_add(o, "terminal", json_object_new_boolean(s->terminal));
        json_object_object_add(o, "boot", json_object_new_boolean(s->boot));
        if (s->annotations)
                json_object_object_add(o, "annotations", json_tokener_parse(s->annotations));
        for (char **p = s->mount_points; p && *p; p++)
                json_object_array_add(mp, json_object_new_string(*p));
        json_object_object_add(o, "mount_points", mp);
        if (s->cgroup_paths) {
                json_object *cp = json_object_new_array();

                for (char **p = s->cgroup_paths; *p; p++)
                        json_object_array_add(cp, json_object_new_string(*p));
                json_object_object_add(o, "cgroup_paths", cp);
        }
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        /* Written whole, then renamed into place: a reader sees all of it or none. */
        r = write_file_at(dir_fd, OCI_STATE_FILE ".new", text, 0600);
        if (r >= 0 && renameat(dir_fd, OCI_STATE_FILE ".new", dir_fd, OCI_STATE_FILE) < 0)
                r = -errno;
        json_object_put(o);
        return r;
}

static int dup_string(json_object *o, const char *key, char **ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return -EBADMSG;
        *ret = strdup(json_object_get_string(v));
        return *ret ? 0 : -ENOMEM;
}

int oci_state_load(int dir_fd, OciState *ret) {
        _cleanup_free_ char *text = NULL;
        _cleanup_(oci_state_done) OciState s = {};
        json_object *o, *v;
        int r;

        r = read_file_at(dir_fd, OCI_STATE_FILE, 1024 * 1024, &text);
        if (r < 0)
                return r;
        o = json_tokener_parse(text);
        if (!o)
                return -EBADMSG;
        r = dup_string(o, "id", &s.id);
        if (r >= 0)
                r = dup_string(o, "bundle", &s.bundle);
        if (r >= 0)
                r = dup_string(o, "rootfs", &s.rootfs);
        if (r >= 0)
                r = dup_string(o, "created", &s.created);
        if (r >= 0) {
                s.pid = json_object_object_get_ex(o, "pid", &v) ? json_object_get_int(v) : 0;
                s.pid_start = json_object_object_get_ex(o, "pid_start", &v) ? json_object_get_uint64(v) : 0;
                s.terminal = json_object_object_get_ex(o, "terminal", &v) && json_object_get_boolean(v);
                s.boot = json_object_object_get_ex(o, "boot", &v) && json_object_get_boolean(v);
                if (json_object_object_get_ex(o, "annotations", &v) && json_object_is_type(v, json_type_object))
                        s.annotations = strdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                if (json_object_object_get_ex(o, "mount_points", &v) && json_object_is_type(v, json_type_array))
                        for (size_t i = 0; r >= 0 && i < json_object_array_length(v); i++)
                                r = strv_push_dup(&s.mount_points, json_object_get_string(json_object_array_get_idx(v, i)));
                if (json_object_object_get_ex(o, "cgroup_paths", &v) && json_object_is_type(v, json_type_array))
                        for (size_t i = 0; r >= 0 && i < json_object_array_length(v); i++)
                                r = strv_push_dup(&s.cgroup_paths, json_object_get_string(json_object_array_get_idx(v, i)));
        }
        json_object_put(o);
        if (r < 0)
                return r;
        *ret = s;
        s = (OciState) {};
        return 0;
}

bool oci_pid_alive(pid_t pid, uint64_t starttime) {
        _cleanup_free_ char *stat = NULL;
        char path[64], *p;
        uint64_t t;

        if (pid <= 0 || pid_starttime(pid, &t) < 0 || t != starttime)
                return false;
        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        if (read_file_at(AT_FDCWD, path, 4096, &stat) < 0)
                return false;
        p = strrchr(stat, ')');
        return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

const char *oci_state_cgroup(const OciState *s) {
        for (char **p = s->cgroup_paths; p && *p; p++)
                if (startswith(*p, "0::"))
                        return *p + 3;
        return NULL;
}

int oci_scope_open(const OciState *s, Cgroup **ret) {
        _cleanup_free_ char *unit = cgroup_unit_name(s->id), *path = NULL;

        if (oci_state_cgroup(s))
                return cgroup_machine_open(oci_state_cgroup(s), ret);
        if (!unit)
                return -ENOMEM;
        path = strjoin3("/" BOXCTL_CGROUP_SLICE "/", unit, "");
        if (!path)
                return -ENOMEM;
        return cgroup_machine_open(path, ret);
}

static bool scope_is_frozen(const OciState *s) {
        _cleanup_(cgroup_machine_freep) Cgroup *cg = NULL;

        return oci_scope_open(s, &cg) >= 0 && cgroup_machine_is_frozen(cg) > 0;
}

OciStatus oci_state_status(int dir_fd, const OciState *s) {
        if (!oci_pid_alive(s->pid, s->pid_start))
                return OCI_STATUS_STOPPED;
        /* As runc: a frozen container is paused, whether it was started or not. */
        if (scope_is_frozen(s))
                return OCI_STATUS_PAUSED;
        if (faccessat(dir_fd, OCI_EXEC_FIFO, F_OK, AT_SYMLINK_NOFOLLOW) >= 0)
                return OCI_STATUS_CREATED;
        return OCI_STATUS_RUNNING;
}

json_object *oci_state_to_json(const OciState *s, OciStatus status) {
        json_object *o = json_object_new_object();
        struct passwd *pw = getpwuid(geteuid());

        json_object_object_add(o, "ociVersion", json_object_new_string(OCI_SPEC_VERSION));
        json_object_object_add(o, "id", json_object_new_string(s->id));
        json_object_object_add(o, "pid", json_object_new_int(status == OCI_STATUS_STOPPED ? 0 : s->pid));
        json_object_object_add(o, "status", json_object_new_string(oci_status_to_string(status)));
        json_object_object_add(o, "bundle", json_object_new_string(s->bundle));
        json_object_object_add(o, "rootfs", json_object_new_string(s->rootfs));
        json_object_object_add(o, "created", json_object_new_string(s->created));
        json_object_object_add(o, "owner", json_object_new_string(pw ? pw->pw_name : ""));
        if (s->annotations)
                json_object_object_add(o, "annotations", json_tokener_parse(s->annotations));
        return o;
}
