/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <json-c/json.h>

#include "oci-config.h"
#include "util.h"

static const struct {
        const char *name;
        int resource;
} rlimit_table[] = {
        { "RLIMIT_AS", RLIMIT_AS },           { "RLIMIT_CORE", RLIMIT_CORE },
        { "RLIMIT_CPU", RLIMIT_CPU },         { "RLIMIT_DATA", RLIMIT_DATA },
        { "RLIMIT_FSIZE", RLIMIT_FSIZE },     { "RLIMIT_LOCKS", RLIMIT_LOCKS },
        { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
        { "RLIMIT_NICE", RLIMIT_NICE },       { "RLIMIT_NOFILE", RLIMIT_NOFILE },
        { "RLIMIT_NPROC", RLIMIT_NPROC },     { "RLIMIT_RSS", RLIMIT_RSS },
        { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },   { "RLIMIT_RTTIME", RLIMIT_RTTIME },
        { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
};

static const char *const namespace_types[] = {
        "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time",
};
static const int namespace_flags[] = {
        CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWUSER, CLONE_NEWCGROUP, CLONE_NEWTIME,
};

void oci_config_done(OciConfig *c) {
        free(c->oci_version);
        free(c->root_path);
        strv_freep(&c->args);
        strv_freep(&c->env);
        free(c->cwd);
        free(c->additional_gids);
        free(c->rlimits);
        free(c->hostname);
        free(c->uid_map);
        free(c->gid_map);
        free(c->cgroups_path);
        for (size_t i = 0; i < c->n_ns_paths; i++)
                free(c->ns_paths[i].path);
        for (size_t i = 0; i < c->n_mounts; i++) {
                free(c->mounts[i].destination);
                free(c->mounts[i].type);
                free(c->mounts[i].source);
                strv_freep(&c->mounts[i].options);
        }
        free(c->mounts);
        strv_freep(&c->masked_paths);
        strv_freep(&c->readonly_paths);
        strv_freep(&c->sysctl);
        oci_seccomp_done(&c->seccomp);
        free(c->annotations);
        cgroup_limits_done(&c->limits);
        strv_freep(&c->unapplied);
        oci_hooks_done(&c->hooks);
        for (size_t i = 0; i < c->n_devices; i++)
                free(c->devices[i].path);
        free(c->devices);
        free(c->device_rules);
        *c = (OciConfig) {};
}

/* A field of OBJ, NULL when absent (or null). A present field of another
 * type than TYPE is an error naming PATH.KEY. */
static int get_field(json_object *obj, const char *path, const char *key, json_type type, json_object **ret, char **ret_error) {
        json_object *v = NULL;
        static const char *const type_names[] = {
                [json_type_null] = "null", [json_type_boolean] = "a boolean", [json_type_double] = "a number",
                [json_type_int] = "an integer", [json_type_object] = "an object", [json_type_array] = "an array",
                [json_type_string] = "a string",
        };

        *ret = NULL;
        if (!obj || !json_object_object_get_ex(obj, key, &v) || !v)
                return 0;
        if (json_object_get_type(v) != type && !(type == json_type_double && json_object_is_type(v, json_type_int)))
                return error_set(ret_error, -EINVAL, "%s%s%s: not %s", path, *path ? "." : "", key, type_names[type]);
        *ret = v;
        return 1;
}

static int get_string(json_object *obj, const char *path, const char *key, char **ret, char **ret_error) {
        json_object *v;
        int r = get_field(obj, path, key, json_type_string, &v, ret_error);

        if (r <= 0)
                return r;
        free(*ret);
        *ret = strdup(json_object_get_string(v));
        return *ret ? 1 : -ENOMEM;
}

static int get_bool(json_object *obj, const char *path, const char *key, bool *ret, char **ret_error) {
        json_object *v;
        int r = get_field(obj, path, key, json_type_boolean, &v, ret_error);

        if (r > 0)
                *ret = json_object_get_boolean(v);
        return r;
}

/* An unsigned integer no larger than MAX. */
static int get_uint(json_object *obj, const char *path, const char *key, uint64_t max, uint64_t *ret, char **ret_error) {
        json_object *v;
        int r = get_field(obj, path, key, json_type_int, &v, ret_error);
        int64_t i;

        if (r <= 0)
                return r;
        i = json_object_get_int64(v);
        if (i < 0 && json_object_get_uint64(v) <= INT64_MAX)
                return error_set(ret_error, -EINVAL, "%s.%s: %" PRIi64 " is negative", path, key, i);
        if (json_object_get_uint64(v) > max)
                return error_set(ret_error, -ERANGE, "%s.%s: %" PRIu64 " is out of range", path, key, json_object_get_uint64(v));
        *ret = json_object_get_uint64(v);
        return 1;
}

static int get_strv(json_object *obj, const char *path, const char *key, char ***ret, char **ret_error) {
        _cleanup_strv_free_ char **l = NULL;
        json_object *v;
        int r = get_field(obj, path, key, json_type_array, &v, ret_error);

        if (r <= 0)
                return r;
        for (size_t i = 0; i < json_object_array_length(v); i++) {
                json_object *e = json_object_array_get_idx(v, i);

                if (!json_object_is_type(e, json_type_string))
                        return error_set(ret_error, -EINVAL, "%s.%s[%zu]: not a string", path, key, i);
                if (strv_push_dup(&l, json_object_get_string(e)) < 0)
                        return -ENOMEM;
        }
        strv_freep(&*ret);
        *ret = TAKE_PTR(l);
        if (!*ret)
                *ret = calloc(1, sizeof(char *));
        return *ret ? 1 : -ENOMEM;
}

static int parse_root(json_object *top, OciConfig *c, char **ret_error) {
        json_object *root;
        int r;

        r = get_field(top, "", "root", json_type_object, &root, ret_error);
        if (r < 0)
                return r;
        if (r == 0)
                return error_set(ret_error, -EINVAL, "root: missing");
        r = get_string(root, "root", "path", &c->root_path, ret_error);
        if (r < 0)
                return r;
        if (r == 0 || isempty(c->root_path))
                return error_set(ret_error, -EINVAL, "root.path: missing");
        r = get_bool(root, "root", "readonly", &c->root_readonly, ret_error);
        return r < 0 ? r : 0;
}

/* One of process.capabilities' sets: a mask of 1 << CAP_*. An unknown
 * capability is one this kernel lacks: left out, as runc does. */
static int parse_cap_set(json_object *caps, const char *key, bool *ret_have, uint64_t *ret, char **ret_error) {
        json_object *set;
        int r;

        r = get_field(caps, "process.capabilities", key, json_type_array, &set, ret_error);
        if (r <= 0)
                return r;
        *ret_have = true;
        *ret = 0;
        for (size_t i = 0; i < json_object_array_length(set); i++) {
                json_object *e = json_object_array_get_idx(set, i);
                cap_value_t v;

                if (!json_object_is_type(e, json_type_string))
                        return error_set(ret_error, -EINVAL, "process.capabilities.%s[%zu]: not a string", key, i);
                if (cap_from_name(json_object_get_string(e), &v) < 0 || v >= 64)
                        continue;
                *ret |= UINT64_C(1) << v;
        }
        return 0;
}

static int parse_capabilities(json_object *process, OciConfig *c, char **ret_error) {
        json_object *caps;
        bool have_effective = false, have_permitted = false, have_inheritable = false, have_ambient = false;
        int r;

        r = get_field(process, "process", "capabilities", json_type_object, &caps, ret_error);
        if (r <= 0)
                return r;
        if (parse_cap_set(caps, "bounding", &c->have_bounding, &c->bounding, ret_error) < 0 ||
            parse_cap_set(caps, "effective", &have_effective, &c->effective, ret_error) < 0 ||
            parse_cap_set(caps, "permitted", &have_permitted, &c->permitted, ret_error) < 0 ||
            parse_cap_set(caps, "inheritable", &have_inheritable, &c->inheritable, ret_error) < 0 ||
            parse_cap_set(caps, "ambient", &have_ambient, &c->ambient, ret_error) < 0)
                return -EINVAL;
        c->have_process_caps = have_effective || have_permitted || have_inheritable || have_ambient;
        return 0;
}

static int parse_rlimits(json_object *process, OciConfig *c, char **ret_error) {
        json_object *rl;
        int r;

        r = get_field(process, "process", "rlimits", json_type_array, &rl, ret_error);
        if (r <= 0)
                return r;
        c->rlimits = calloc(json_object_array_length(rl) + 1, sizeof(OciRlimit));
        if (!c->rlimits)
                return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length(rl); i++) {
                json_object *e = json_object_array_get_idx(rl, i);
                _cleanup_free_ char *type = NULL;
                char path[64];
                OciRlimit *l = &c->rlimits[c->n_rlimits];
                size_t k;

                snprintf(path, sizeof path, "process.rlimits[%zu]", i);
                if (!json_object_is_type(e, json_type_object))
                        return error_set(ret_error, -EINVAL, "%s: not an object", path);
                r = get_string(e, path, "type", &type, ret_error);
                if (r < 0)
                        return r;
                for (k = 0; type && k < ELEMENTSOF(rlimit_table); k++)
                        if (streq(type, rlimit_table[k].name))
                                break;
                if (!type || k >= ELEMENTSOF(rlimit_table))
                        return error_set(ret_error, -EINVAL, "%s.type: %s is not a resource limit", path, strempty(type));
                l->resource = rlimit_table[k].resource;
                if (get_uint(e, path, "soft", UINT64_MAX, &l->soft, ret_error) < 0 ||
                    get_uint(e, path, "hard", UINT64_MAX, &l->hard, ret_error) < 0)
                        return -EINVAL;
                if (l->soft > l->hard)
                        return error_set(ret_error, -EINVAL, "%s: soft limit %" PRIu64 " above hard limit %" PRIu64, path, l->soft, l->hard);
                c->n_rlimits++;
        }
        return 0;
}

static int parse_user(json_object *process, OciConfig *c, char **ret_error) {
        json_object *user, *gids;
        uint64_t v;
        int r;

        r = get_field(process, "process", "user", json_type_object, &user, ret_error);
        if (r <= 0)
                return r;
        r = get_uint(user, "process.user", "uid", UINT32_MAX - 1, &v, ret_error);
        if (r < 0)
                return r;
        c->uid = r > 0 ? (uid_t) v : 0;
        r = get_uint(user, "process.user", "gid", UINT32_MAX - 1, &v, ret_error);
        if (r < 0)
                return r;
        c->gid = r > 0 ? (gid_t) v : 0;
        r = get_field(user, "process.user", "additionalGids", json_type_array, &gids, ret_error);
        if (r <= 0)
                return r;
        c->additional_gids = calloc(json_object_array_length(gids) + 1, sizeof(gid_t));
        if (!c->additional_gids)
                return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length(gids); i++) {
                json_object *e = json_object_array_get_idx(gids, i);

                if (!json_object_is_type(e, json_type_int) || json_object_get_int64(e) < 0 ||
                    json_object_get_int64(e) >= UINT32_MAX)
                        return error_set(ret_error, -EINVAL, "process.user.additionalGids[%zu]: not a group ID", i);
                c->additional_gids[c->n_additional_gids++] = (gid_t) json_object_get_int64(e);
        }
        return 0;
}

static int parse_process(json_object *top, OciConfig *c, char **ret_error) {
        json_object *process;
        uint64_t v;
        int r;

        r = get_field(top, "", "process", json_type_object, &process, ret_error);
        if (r < 0)
                return r;
        if (r == 0)
                return error_set(ret_error, -EINVAL, "process: missing (it is needed to create a container)");
        if (get_bool(process, "process", "terminal", &c->terminal, ret_error) < 0 ||
            get_strv(process, "process", "args", &c->args, ret_error) < 0 ||
            get_strv(process, "process", "env", &c->env, ret_error) < 0 ||
            get_string(process, "process", "cwd", &c->cwd, ret_error) < 0 ||
            get_bool(process, "process", "noNewPrivileges", &c->no_new_privileges, ret_error) < 0)
                return -EINVAL;
        if (strv_length(c->args) == 0)
                return error_set(ret_error, -EINVAL, "process.args: missing or empty");
        if (isempty(c->cwd))
                return error_set(ret_error, -EINVAL, "process.cwd: missing");
        if (!path_is_absolute(c->cwd))
                return error_set(ret_error, -EINVAL, "process.cwd: %s is not an absolute path", c->cwd);
        for (char **e = c->env; e && *e; e++)
                if (!strchr(*e, '=') || **e == '=')
                        return error_set(ret_error, -EINVAL, "process.env[%zu]: %s is not KEY=VALUE", (size_t) (e - c->env), *e);
        r = get_field(process, "process", "oomScoreAdj", json_type_int, &(json_object *) { NULL }, ret_error);
        if (r < 0)
                return r;
        if (r > 0) {
                json_object *o = json_object_object_get(process, "oomScoreAdj");
                int64_t i = json_object_get_int64(o);

                if (i < -1000 || i > 1000)
                        return error_set(ret_error, -ERANGE, "process.oomScoreAdj: %" PRIi64 " is out of range (-1000..1000)", i);
                c->have_oom_score_adj = true;
                c->oom_score_adj = (int) i;
        }
        (void) v;
        r = parse_user(process, c, ret_error);
        if (r >= 0)
                r = parse_capabilities(process, c, ret_error);
        if (r >= 0)
                r = parse_rlimits(process, c, ret_error);
        return r;
}

static int parse_mounts(json_object *top, OciConfig *c, char **ret_error) {
        json_object *mounts;
        int r;

        r = get_field(top, "", "mounts", json_type_array, &mounts, ret_error);
        if (r <= 0)
                return r;
        c->mounts = calloc(json_object_array_length(mounts) + 1, sizeof(OciMount));
        if (!c->mounts)
                return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length(mounts); i++) {
                json_object *e = json_object_array_get_idx(mounts, i);
                OciMount *m = &c->mounts[c->n_mounts++];
                char path[64];

                snprintf(path, sizeof path, "mounts[%zu]", i);
                if (!json_object_is_type(e, json_type_object))
                        return error_set(ret_error, -EINVAL, "%s: not an object", path);
                if (get_string(e, path, "destination", &m->destination, ret_error) < 0 ||
                    get_string(e, path, "type", &m->type, ret_error) < 0 ||
                    get_string(e, path, "source", &m->source, ret_error) < 0 ||
                    get_strv(e, path, "options", &m->options, ret_error) < 0)
                        return -EINVAL;
                if (isempty(m->destination))
                        return error_set(ret_error, -EINVAL, "%s.destination: missing", path);
        }
        return 0;
}

static int parse_namespaces(json_object *linux_, OciConfig *c, char **ret_error) {
        json_object *nss;
        int r;

        r = get_field(linux_, "linux", "namespaces", json_type_array, &nss, ret_error);
        if (r <= 0)
                return r;
        for (size_t i = 0; i < json_object_array_length(nss); i++) {
                json_object *e = json_object_array_get_idx(nss, i);
                _cleanup_free_ char *type = NULL, *nspath = NULL;
                char path[64];
                bool joined;
                size_t k;

                snprintf(path, sizeof path, "linux.namespaces[%zu]", i);
                if (!json_object_is_type(e, json_type_object))
                        return error_set(ret_error, -EINVAL, "%s: not an object", path);
                if (get_string(e, path, "type", &type, ret_error) < 0 || get_string(e, path, "path", &nspath, ret_error) < 0)
                        return -EINVAL;
                for (k = 0; type && k < ELEMENTSOF(namespace_types); k++)
                        if (streq(type, namespace_types[k]))
                                break;
                if (!type || k >= ELEMENTSOF(namespace_types))
                        return error_set(ret_error, -EINVAL, "%s.type: %s is not a namespace type", path, type ? type : "(missing)");
                joined = !isempty(nspath);
                if (joined) {
                        /* Joined by the process that clones the init (namespace-join.h), or a
                         * mount namespace by the payload at its end (oci-payload.c). Not a
                         * user namespace: the container's root is idmapped for, and its maps
                         * written into, one boxctl-oci makes. */
                        if (streq(type, "user"))
                                return error_set(ret_error, -EOPNOTSUPP,
                                                 "%s.path: joining a user namespace (%s) is not supported: the container's root is idmapped for a user namespace boxctl-oci makes",
                                                 path, nspath);
                        if (!path_is_absolute(nspath))
                                return error_set(ret_error, -EINVAL, "%s.path: %s is not an absolute path", path, nspath);
                        for (size_t j = 0; j < c->n_ns_paths; j++)
                                if (c->ns_paths[j].type == namespace_flags[k])
                                        return error_set(ret_error, -EINVAL, "%s: a second %s namespace", path, type);
                        if (c->n_ns_paths >= ELEMENTSOF(c->ns_paths))
                                return -E2BIG;
                        c->ns_paths[c->n_ns_paths++] = (typeof(c->ns_paths[0])) { .index = i, .type = namespace_flags[k], .path = TAKE_PTR(nspath) };
                }
                if (streq(type, "ipc"))
                        c->ns_ipc = true;
                else if (streq(type, "uts"))
                        c->ns_uts = true;
                else if (streq(type, "user"))
                        c->ns_user = true;
                else if (streq(type, "network"))
                        c->ns_network = true;
                else if (streq(type, "pid"))
                        c->ns_pid = true;
                else if (streq(type, "mount"))
                        c->ns_mount = true;
                else if (streq(type, "cgroup"))
                        c->ns_cgroup = true;
                else if (streq(type, "time") && !joined)
                        return error_set(ret_error, -EOPNOTSUPP, "%s: a new time namespace is not supported (one joined by path is)", path);
        }
        return 0;
}

/* The kernel takes at most this many lines in a uid_map (Linux 4.15). */
#define MAP_RANGES_MAX 340

static bool ranges_overlap(uint64_t a, uint64_t an, uint64_t b, uint64_t bn) {
        return a < b + bn && b < a + an;
}

/* uidMappings or gidMappings as the kernel's map text ("CID HID SIZE" a
 * line), checked as the kernel would (no two ranges overlapping on either
 * side), and the range that maps container ID 0: the machine's root, whose
 * host ID owns the rootfs's idmapped view. 1 when given, 0 when absent. */
static int parse_mapping(json_object *linux_, const char *key, char **ret_text, uint32_t *ret_host, uint32_t *ret_size,
                         char **ret_error) {
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ uint64_t (*ranges)[3] = NULL;
        json_object *maps;
        size_t n, len = 0;
        bool have_root = false;
        int r;

        r = get_field(linux_, "linux", key, json_type_array, &maps, ret_error);
        if (r <= 0)
                return r;
        n = json_object_array_length(maps);
        if (n == 0)
                return error_set(ret_error, -EINVAL, "linux.%s: empty", key);
        if (n > MAP_RANGES_MAX)
                return error_set(ret_error, -E2BIG, "linux.%s: %zu ranges; the kernel takes at most %d", key, n, MAP_RANGES_MAX);
        ranges = calloc(n, sizeof *ranges);
        text = malloc(n * 3 * 12 + 1);
        if (!ranges || !text)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(maps, i);
                uint64_t cid = 0, hid = 0, size = 0;
                char path[64];

                snprintf(path, sizeof path, "linux.%s[%zu]", key, i);
                if (!json_object_is_type(e, json_type_object))
                        return error_set(ret_error, -EINVAL, "%s: not an object", path);
                if (get_uint(e, path, "containerID", UINT32_MAX, &cid, ret_error) < 0 ||
                    get_uint(e, path, "hostID", UINT32_MAX, &hid, ret_error) < 0 ||
                    get_uint(e, path, "size", UINT32_MAX, &size, ret_error) < 0)
                        return -EINVAL;
                if (size == 0)
                        return error_set(ret_error, -EINVAL, "%s.size: missing or 0", path);
                if (hid + size - 1 > UINT32_MAX - 1)
                        return error_set(ret_error, -ERANGE, "%s: hostID %" PRIu64 " + size %" PRIu64 " is out of range", path, hid, size);
                if (cid + size - 1 > UINT32_MAX - 1)
                        return error_set(ret_error, -ERANGE, "%s: containerID %" PRIu64 " + size %" PRIu64 " is out of range", path, cid, size);
                for (size_t k = 0; k < i; k++) {
                        if (ranges_overlap(cid, size, ranges[k][0], ranges[k][2]))
                                return error_set(ret_error, -EINVAL, "%s: its container IDs overlap those of linux.%s[%zu]", path, key, k);
                        if (ranges_overlap(hid, size, ranges[k][1], ranges[k][2]))
                                return error_set(ret_error, -EINVAL, "%s: its host IDs overlap those of linux.%s[%zu]", path, key, k);
                }
                ranges[i][0] = cid;
                ranges[i][1] = hid;
                ranges[i][2] = size;
                len += (size_t) sprintf(text + len, "%" PRIu64 " %" PRIu64 " %" PRIu64 "\n", cid, hid, size);
                if (cid == 0) {
                        have_root = true;
                        *ret_host = (uint32_t) hid;
                        *ret_size = (uint32_t) size;
                }
        }
        if (!have_root)
                return error_set(ret_error, -EOPNOTSUPP, "linux.%s: no range maps container ID 0 (the container's root)", key);
        *ret_text = TAKE_PTR(text);
        return 1;
}

/* A signed integer field (-1 is "no limit" in linux.resources): 1 with *RET set, 0 when absent. */
static int get_int64(json_object *obj, const char *path, const char *key, int64_t *ret, char **ret_error) {
        json_object *v;
        int r = get_field(obj, path, key, json_type_int, &v, ret_error);

        if (r > 0)
                *ret = json_object_get_int64(v);
        return r;
}

/* VALUE for limit K, through the core's parser (and its ranges). */
static int set_limit(CgroupLimits *l, CgroupLimit k, const char *path, const char *value, char **ret_error) {
        int r = cgroup_limits_parse(l, k, value);

        if (r == -ERANGE || r == -EINVAL)
                return error_set(ret_error, -EINVAL, "%s: %s is out of range (%s)", path, value, cgroup_limit_range(k));
        return r;
}

static int set_limit_u64(CgroupLimits *l, CgroupLimit k, const char *path, uint64_t v, char **ret_error) {
        char buf[32];

        snprintf(buf, sizeof buf, "%" PRIu64, v);
        return set_limit(l, k, path, buf, ret_error);
}

/* A signed field where -1 (and 0) is "none": 1 with *RET > 0, 0 when
 * absent or none; below -1 is refused. */
static int get_limit(json_object *obj, const char *path, const char *key, int64_t *ret, char **ret_error) {
        int64_t v = 0;
        int r = get_int64(obj, path, key, &v, ret_error);

        if (r <= 0)
                return r;
        if (v < -1)
                return error_set(ret_error, -EINVAL, "%s.%s: %" PRIi64 " is not a limit (bytes, or -1)", path, key, v);
        *ret = v;
        return v > 0;
}

/* The rest of memory: reservation (MemoryLow=), and runc's cgroup v1 knobs. */
static int parse_memory_extras(json_object *mem, OciConfig *c, char **ret_error) {
        CgroupExtras *e = &c->limits.extras;
        int64_t reservation = 0, kernel_tcp = 0, kernel = 0;
        uint64_t swappiness = 0;
        int r;

        r = get_limit(mem, "linux.resources.memory", "reservation", &reservation, ret_error);
        if (r > 0)
                r = set_limit_u64(&c->limits, CGROUP_LIMIT_MEMORY_LOW, "linux.resources.memory.reservation", (uint64_t) reservation, ret_error);
        if (r < 0)
                return r;
        r = get_uint(mem, "linux.resources.memory", "swappiness", UINT64_MAX, &swappiness, ret_error);
        if (r < 0)
                return r;
        if (r > 0) {
                if (swappiness > 100)
                        return error_set(ret_error, -EINVAL, "linux.resources.memory.swappiness: %" PRIu64 " is out of range (0 to 100)", swappiness);
                e->has_swappiness = true;
                e->swappiness = swappiness;
        }
        if (get_bool(mem, "linux.resources.memory", "disableOOMKiller", &e->disable_oom_killer, ret_error) < 0)
                return -EINVAL;
        r = get_limit(mem, "linux.resources.memory", "kernelTCP", &kernel_tcp, ret_error);
        if (r < 0)
                return r;
        if (r > 0) {
                e->has_kmem_tcp = true;
                e->kmem_tcp = (uint64_t) kernel_tcp;
        }
        /* Linux 5.16 stopped enforcing memory.kmem.limit_in_bytes and 6.x
         * takes a write and ignores it (measured on 6.18): nothing to apply
         * it with. runc 1.1 ignores the field too. */
        r = get_limit(mem, "linux.resources.memory", "kernel", &kernel, ret_error);
        if (r < 0)
                return r;
        if (r > 0 && strv_push_dup(&c->unapplied, "linux.resources.memory.kernel (the kernel no longer limits kernel memory apart)") < 0)
                return -ENOMEM;
        return 0;
}

/* memory.limit and memory.swap (memory plus swap, as runc's; cgroup2's
 * memory.swap.max is the swap alone); -1 is no limit. */
static int parse_memory(json_object *res, OciConfig *c, char **ret_error) {
        CgroupLimits *l = &c->limits;
        json_object *mem;
        int64_t limit = -1, swap = -1;
        int r;

        r = get_field(res, "linux.resources", "memory", json_type_object, &mem, ret_error);
        if (r <= 0)
                return r;
        if (get_int64(mem, "linux.resources.memory", "limit", &limit, ret_error) < 0 ||
            get_int64(mem, "linux.resources.memory", "swap", &swap, ret_error) < 0)
                return -EINVAL;
        if (limit == 0 || limit < -1)
                return error_set(ret_error, -EINVAL, "linux.resources.memory.limit: %" PRIi64 " is not a limit (bytes, or -1)", limit);
        if (swap == 0 || swap < -1)
                return error_set(ret_error, -EINVAL, "linux.resources.memory.swap: %" PRIi64 " is not a limit (bytes, or -1)", swap);
        if (limit > 0) {
                r = set_limit_u64(l, CGROUP_LIMIT_MEMORY_MAX, "linux.resources.memory.limit", (uint64_t) limit, ret_error);
                if (r < 0)
                        return r;
        }
        if (swap > 0) {
                if (limit < 0 || swap < limit)
                        return error_set(ret_error, -EINVAL,
                                         "linux.resources.memory.swap: %" PRIi64 " is below memory.limit (it counts memory and swap together)", swap);
                l->value[CGROUP_LIMIT_MEMORY_SWAP_MAX] = (uint64_t) (swap - limit);
                l->set |= UINT32_C(1) << CGROUP_LIMIT_MEMORY_SWAP_MAX;
        } else if (swap == -1 && limit > 0) {
                l->value[CGROUP_LIMIT_MEMORY_SWAP_MAX] = CGROUP_LIMIT_INFINITY;
                l->set |= UINT32_C(1) << CGROUP_LIMIT_MEMORY_SWAP_MAX;
        }
        return parse_memory_extras(mem, c, ret_error);
}

/* cpu.cpus and cpu.mems through the core's list parser. */
static int parse_cpu_lists(json_object *cpu, CgroupLimits *l, char **ret_error) {
        static const struct {
                const char *key;
                CgroupLimit k;
        } lists[] = { { "cpus", CGROUP_LIMIT_ALLOWED_CPUS }, { "mems", CGROUP_LIMIT_ALLOWED_MEMORY_NODES } };

        for (size_t i = 0; i < ELEMENTSOF(lists); i++) {
                json_object *v;
                int r = get_field(cpu, "linux.resources.cpu", lists[i].key, json_type_string, &v, ret_error);

                if (r < 0)
                        return r;
                /* "": none, as runc takes it */
                if (r == 0 || isempty(json_object_get_string(v)))
                        continue;
                r = cgroup_limits_parse(l, lists[i].k, json_object_get_string(v));
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return error_set(ret_error, -EINVAL, "linux.resources.cpu.%s: \"%s\" is not a list of %s", lists[i].key,
                                         json_object_get_string(v), cgroup_limit_range(lists[i].k));
        }
        return 0;
}

/* realtimeRuntime/realtimePeriod and idle: runc's knobs (CgroupExtras). */
static int parse_cpu_extras(json_object *cpu, CgroupExtras *e, char **ret_error) {
        int64_t runtime = 0, idle = 0;
        uint64_t period = 0;
        int r;

        r = get_int64(cpu, "linux.resources.cpu", "realtimeRuntime", &runtime, ret_error);
        if (r < 0)
                return r;
        if (r > 0 && runtime != 0) {
                if (runtime < -1)
                        return error_set(ret_error, -EINVAL, "linux.resources.cpu.realtimeRuntime: %" PRIi64 " is out of range (µs, or -1)", runtime);
                e->has_rt_runtime = true;
                e->rt_runtime = runtime;
        }
        r = get_uint(cpu, "linux.resources.cpu", "realtimePeriod", UINT64_MAX, &period, ret_error);
        if (r < 0)
                return r;
        if (r > 0 && period != 0) {
                if (period > (uint64_t) INT32_MAX)
                        return error_set(ret_error, -EINVAL, "linux.resources.cpu.realtimePeriod: %" PRIu64 " is out of range (1 to 2147483647 µs)", period);
                e->has_rt_period = true;
                e->rt_period = period;
        }
        r = get_int64(cpu, "linux.resources.cpu", "idle", &idle, ret_error);
        if (r < 0)
                return r;
        if (r > 0) {
                if (idle != 0 && idle != 1)
                        return error_set(ret_error, -EINVAL, "linux.resources.cpu.idle: %" PRIi64 " is out of range (0 or 1)", idle);
                e->has_idle = true;
                e->idle = idle;
        }
        return 0;
}

/* cpu.shares as systemd maps CPUWeight= onto v1 (1024 is 100), so that a
 * v1 host gets back the shares asked for; cpu.quota and cpu.period as the
 * core keeps them (CPUQuota and CPUQuotaPeriodSec), exact per period. */
static int parse_cpu(json_object *res, CgroupLimits *l, char **ret_error) {
        json_object *cpu;
        uint64_t shares = 0, period = 0;
        int64_t quota = 0;
        int r;

        r = get_field(res, "linux.resources", "cpu", json_type_object, &cpu, ret_error);
        if (r <= 0)
                return r;
        if (get_uint(cpu, "linux.resources.cpu", "shares", UINT64_MAX, &shares, ret_error) < 0 ||
            get_int64(cpu, "linux.resources.cpu", "quota", &quota, ret_error) < 0 ||
            get_uint(cpu, "linux.resources.cpu", "period", UINT64_MAX, &period, ret_error) < 0)
                return -EINVAL;
        if (shares > 0) {
                r = set_limit_u64(l, CGROUP_LIMIT_CPU_WEIGHT, "linux.resources.cpu.shares",
                                  MIN(MAX(shares * 100 / 1024, CGROUP_WEIGHT_MIN), CGROUP_WEIGHT_MAX), ret_error);
                if (r < 0)
                        return r;
        }
        if (period != 0 && (period < CGROUP_CPU_PERIOD_MIN || period > CGROUP_CPU_PERIOD_MAX))
                return error_set(ret_error, -EINVAL, "linux.resources.cpu.period: %" PRIu64 " is out of range (1000 to 1000000 µs)", period);
        if (quota < -1)
                return error_set(ret_error, -EINVAL, "linux.resources.cpu.quota: %" PRIi64 " is not a quota (µs per period, or -1)", quota);
        if (quota > 0) {
                r = cgroup_limits_set_cpu_quota(l, (uint64_t) quota, period ?: CGROUP_CPU_PERIOD_USEC);
                if (r < 0)
                        return error_set(ret_error, -EINVAL,
                                         "linux.resources.cpu.quota: %" PRIi64 " is out of range (1000 µs or more per period, "
                                         "below 1000 CPUs' worth)", quota);
        } else if (period > 0) {
                /* a period alone: the quota stays as it is (none, for a new container) */
                l->value[CGROUP_LIMIT_CPU_QUOTA_PERIOD] = period;
                l->set |= UINT32_C(1) << CGROUP_LIMIT_CPU_QUOTA_PERIOD;
        }
        r = parse_cpu_lists(cpu, l, ret_error);
        if (r < 0)
                return r;
        return parse_cpu_extras(cpu, &l->extras, ret_error);
}

/* network: net_cls.classid and net_prio.ifpriomap (cgroup v1's; whether the
 * host has them is checked when the container is made). */
static int parse_network(json_object *res, CgroupExtras *e, char **ret_error) {
        json_object *net, *prios;
        uint64_t classid = 0;
        int r;

        r = get_field(res, "linux.resources", "network", json_type_object, &net, ret_error);
        if (r <= 0)
                return r;
        r = get_uint(net, "linux.resources.network", "classID", UINT32_MAX, &classid, ret_error);
        if (r < 0)
                return r;
        if (r > 0) {
                e->has_classid = true;
                e->classid = (uint32_t) classid;
        }
        r = get_field(net, "linux.resources.network", "priorities", json_type_array, &prios, ret_error);
        if (r < 0)
                return r;
        for (size_t i = 0; r > 0 && i < json_object_array_length(prios); i++) {
                json_object *p = json_object_array_get_idx(prios, i);
                _cleanup_free_ char *name = NULL, *line = NULL;
                uint64_t prio = 0;
                char path[64];

                snprintf(path, sizeof path, "linux.resources.network.priorities[%zu]", i);
                if (!json_object_is_type(p, json_type_object))
                        return error_set(ret_error, -EINVAL, "%s: not an object", path);
                if (get_string(p, path, "name", &name, ret_error) < 0 || get_uint(p, path, "priority", UINT32_MAX, &prio, ret_error) < 0)
                        return -EINVAL;
                if (isempty(name) || strlen(name) >= 16 || strpbrk(name, " /\n"))
                        return error_set(ret_error, -EINVAL, "%s.name: \"%s\" is not a network interface name", path, strempty(name));
                if (asprintf(&line, "%s %" PRIu64, name, prio) < 0)
                        return -ENOMEM;
                r = strv_push_dup(&e->ifpriomap, line);
                if (r < 0)
                        return r;
                r = 1;
        }
        return 0;
}

/* blockIO.weight (10..1000) onto io.weight's range as runc maps it;
 * throttle{Read,Write}BpsDevice onto the core's bandwidth limits. */
static int parse_block_io(json_object *res, CgroupLimits *l, char **ret_error) {
        static const struct {
                const char *key;
                char rw;
        } throttles[] = { { "throttleReadBpsDevice", 'r' }, { "throttleWriteBpsDevice", 'w' } };
        json_object *bio, *devs;
        uint64_t weight = 0;
        int r;

        r = get_field(res, "linux.resources", "blockIO", json_type_object, &bio, ret_error);
        if (r <= 0)
                return r;
        if (get_uint(bio, "linux.resources.blockIO", "weight", 1000, &weight, ret_error) < 0)
                return -EINVAL;
        if (weight > 0) {
                if (weight < 10)
                        return error_set(ret_error, -EINVAL, "linux.resources.blockIO.weight: %" PRIu64 " is out of range (10 to 1000)", weight);
                r = set_limit_u64(l, CGROUP_LIMIT_IO_WEIGHT, "linux.resources.blockIO.weight", 1 + (weight - 10) * 9999 / 990, ret_error);
                if (r < 0)
                        return r;
        }
        for (size_t t = 0; t < ELEMENTSOF(throttles); t++) {
                r = get_field(bio, "linux.resources.blockIO", throttles[t].key, json_type_array, &devs, ret_error);
                if (r < 0)
                        return r;
                for (size_t i = 0; r > 0 && i < json_object_array_length(devs); i++) {
                        json_object *e = json_object_array_get_idx(devs, i);
                        uint64_t major = 0, minor = 0, rate = 0;
                        char path[96], spec[96];
                        int q;

                        snprintf(path, sizeof path, "linux.resources.blockIO.%s[%zu]", throttles[t].key, i);
                        if (!json_object_is_type(e, json_type_object))
                                return error_set(ret_error, -EINVAL, "%s: not an object", path);
                        if (get_uint(e, path, "major", UINT32_MAX, &major, ret_error) < 0 ||
                            get_uint(e, path, "minor", UINT32_MAX, &minor, ret_error) < 0 ||
                            get_uint(e, path, "rate", UINT64_MAX - 1, &rate, ret_error) < 0)
                                return -EINVAL;
                        snprintf(spec, sizeof spec, "%" PRIu64 ":%" PRIu64 ":%c:%" PRIu64, major, minor, throttles[t].rw, rate);
                        q = cgroup_limits_parse_io_max(l, spec);
                        if (q == -ENOENT || q == -ENOTBLK || q == -EISDIR)
                                return error_set(ret_error, q, "%s: device %" PRIu64 ":%" PRIu64 ": %s", path, major, minor,
                                                 q == -EISDIR ? "a partition (the kernel limits whole disks only)" : strerror(-q));
                        if (q < 0)
                                return error_set(ret_error, q, "%s: %s", path, strerror(-q));
                }
        }
        return 0;
}

/* hugepageLimits: [{"pageSize": "2MB", "limit": BYTES}] */
static int parse_hugepages(json_object *res, CgroupLimits *l, char **ret_error) {
        json_object *hp;
        int r;

        r = get_field(res, "linux.resources", "hugepageLimits", json_type_array, &hp, ret_error);
        if (r <= 0)
                return r;
        for (size_t i = 0; i < json_object_array_length(hp); i++) {
                json_object *e = json_object_array_get_idx(hp, i);
                _cleanup_free_ char *size = NULL;
                uint64_t limit = 0;
                char path[64];

                snprintf(path, sizeof path, "linux.resources.hugepageLimits[%zu]", i);
                if (!json_object_is_type(e, json_type_object))
                        return error_set(ret_error, -EINVAL, "%s: not an object", path);
                if (get_string(e, path, "pageSize", &size, ret_error) < 0 || get_uint(e, path, "limit", UINT64_MAX - 1, &limit, ret_error) < 0)
                        return -EINVAL;
                r = cgroup_limits_add_hugetlb(l, strempty(size), limit);
                if (r == -EINVAL)
                        return error_set(ret_error, r, "%s.pageSize: \"%s\" is not a page size (like 2MB or 1GB)", path, strempty(size));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Whether RES.KEY (or RES.KEY.SUB) is there and asks for anything: not
 * null, an empty object or an empty array. */
static bool resource_given(json_object *res, const char *key, const char *sub) {
        json_object *v;

        if (!json_object_object_get_ex(res, key, &v) || !v)
                return false;
        if (sub && (!json_object_is_type(v, json_type_object) || !json_object_object_get_ex(v, sub, &v) || !v))
                return false;
        if (json_object_is_type(v, json_type_object))
                return json_object_object_length(v) > 0;
        if (json_object_is_type(v, json_type_array))
                return json_object_array_length(v) > 0;
        return true;
}

/* linux.resources onto the core's limits (cgroup-limits.h), which writes them
 * where the host keeps each controller (cgroup2, or a hybrid host's v1).
 * What boxctl cannot apply is refused, as the runtime spec asks ("If the
 * runtime cannot apply a property as specified in the configuration, it
 * MUST generate an error"): rdma and unified. memory.kernel is left out
 * instead, said with --debug (the kernel no longer applies it; runc 1.1
 * ignores it too). devices are the machine's own device policy. */
static int parse_resources(json_object *linux_, OciConfig *c, char **ret_error) {
        static const char *const refused[] = { "rdma", "unified" };
        json_object *res, *pids;
        int64_t pids_limit = 0;
        int r;

        r = get_field(linux_, "linux", "resources", json_type_object, &res, ret_error);
        if (r <= 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(refused); i++)
                if (resource_given(res, refused[i], NULL))
                        return error_set(ret_error, -EOPNOTSUPP, "linux.resources.%s: not supported by boxctl-oci: it cannot apply it",
                                         refused[i]);
        r = get_field(res, "linux.resources", "pids", json_type_object, &pids, ret_error);
        if (r < 0 || (r > 0 && get_int64(pids, "linux.resources.pids", "limit", &pids_limit, ret_error) < 0))
                return -EINVAL;
        /* 0 and -1: no limit */
        if (pids_limit > 0 && set_limit_u64(&c->limits, CGROUP_LIMIT_TASKS_MAX, "linux.resources.pids.limit", (uint64_t) pids_limit, ret_error) < 0)
                return -EINVAL;
        r = parse_memory(res, c, ret_error);
        if (r >= 0)
                r = parse_cpu(res, &c->limits, ret_error);
        if (r >= 0)
                r = parse_block_io(res, &c->limits, ret_error);
        if (r >= 0)
                r = parse_network(res, &c->limits.extras, ret_error);
        if (r >= 0)
                r = parse_hugepages(res, &c->limits, ret_error);
        return r;
}

/* Whether linux.namespaces asks for a new TYPE namespace. */
static bool wants_namespace(json_object *linux_, const char *type) {
        json_object *nss, *t, *p;

        if (!json_object_object_get_ex(linux_, "namespaces", &nss) || !json_object_is_type(nss, json_type_array))
                return false;
        for (size_t i = 0; i < json_object_array_length(nss); i++) {
                json_object *e = json_object_array_get_idx(nss, i);

                if (json_object_object_get_ex(e, "type", &t) && json_object_is_type(t, json_type_string) &&
                    streq(json_object_get_string(t), type) &&
                    !(json_object_object_get_ex(e, "path", &p) && !isempty(json_object_get_string(p))))
                        return true;
        }
        return false;
}

/* Which namespace a sysctl lives in, by runc's rules (libcontainer's
 * validator): NULL with *ret_why set when it is the host's alone. */
static const char *sysctl_namespace(const char *key, const char **ret_why) {
        static const char *const ipc_keys[] = {
                "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
        };

        for (size_t i = 0; i < ELEMENTSOF(ipc_keys); i++)
                if (streq(key, ipc_keys[i]))
                        return "ipc";
        if (startswith(key, "fs.mqueue."))
                return "ipc";
        if (startswith(key, "net."))
                return "network";
        if (streq(key, "kernel.domainname"))
                return "uts";
        *ret_why = streq(key, "kernel.hostname") ? "is not allowed as it conflicts with the OCI \"hostname\" field"
                                                 : "is not in a separate kernel namespace";
        return NULL;
}

static bool sysctl_key_is_valid(const char *key) {
        if (isempty(key) || key[0] == '.' || key[strlen(key) - 1] == '.' || strstr(key, ".."))
                return false;
        for (const char *p = key; *p; p++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.", *p))
                        return false;
        return true;
}

/* linux.sysctl: written by the container's init in its own namespaces;
 * a key that would reach the host's is refused, as runc does. */
static int parse_sysctl(json_object *linux_, OciConfig *c, char **ret_error) {
        json_object *obj;
        int r;

        r = get_field(linux_, "linux", "sysctl", json_type_object, &obj, ret_error);
        if (r <= 0)
                return r;
        json_object_object_foreach(obj, key, value) {
                const char *ns, *why = NULL;

                if (!sysctl_key_is_valid(key))
                        return error_set(ret_error, -EINVAL, "linux.sysctl: \"%s\" is not a sysctl name", key);
                if (!value || !json_object_is_type(value, json_type_string))
                        return error_set(ret_error, -EINVAL, "linux.sysctl.%s: not a string", key);
                ns = sysctl_namespace(key, &why);
                if (!ns)
                        return error_set(ret_error, -EINVAL, "linux.sysctl: sysctl \"%s\" %s", key, why);
                if (!wants_namespace(linux_, ns))
                        return error_set(ret_error, -EINVAL, "linux.sysctl: sysctl \"%s\" is not allowed in the host's %s namespace",
                                         key, ns);
                if (strv_push_dup(&c->sysctl, key) < 0 || strv_push_dup(&c->sysctl, json_object_get_string(value)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int parse_rootfs_propagation(json_object *linux_, OciConfig *c, char **ret_error) {
        static const struct {
                const char *name;
                unsigned long flags;
        } table[] = {
                { "private", MS_PRIVATE },       { "rprivate", MS_PRIVATE | MS_REC },
                { "shared", MS_SHARED },         { "rshared", MS_SHARED | MS_REC },
                { "slave", MS_SLAVE },           { "rslave", MS_SLAVE | MS_REC },
                { "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
        };
        _cleanup_free_ char *v = NULL;
        int r;

        r = get_string(linux_, "linux", "rootfsPropagation", &v, ret_error);
        if (r <= 0 || isempty(v))
                return r;
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(v, table[i].name)) {
                        c->rootfs_propagation = table[i].flags;
                        return 0;
                }
        return error_set(ret_error, -EINVAL, "linux.rootfsPropagation: \"%s\" is not a propagation "
                         "(shared, slave, private, unbindable, or one of them with \"r\" before it)", v);
}

/* A device number: absent is ANY (-1 for a rule's wildcard); else 0..2^32-1. */
static int get_device_number(json_object *e, const char *path, const char *key, int64_t any, int64_t *ret, char **ret_error) {
        uint64_t v;
        int r = get_uint(e, path, key, UINT32_MAX, &v, ret_error);

        if (r < 0)
                return r;
        *ret = r > 0 ? (int64_t) v : any;
        return r;
}

/* A node's path: absolute, in /dev (runc makes it wherever the path says;
 * we keep a config from writing into the rootfs itself), and clean. */
static bool device_path_is_valid(const char *p) {
        const char *rest = startswith(p, "/dev/");

        if (!rest || !*rest || !path_is_normalized_absolute(p) || p[strlen(p) - 1] == '/')
                return false;
        for (const char *c = p; *c; c++)
                if (c[0] == '/' && c[1] == '/')
                        return false;
        return true;
}

/* linux.devices: the nodes to make in the container's /dev. */
static int parse_devices(json_object *linux_, OciConfig *c, char **ret_error) {
        json_object *devs;
        int r;

        r = get_field(linux_, "linux", "devices", json_type_array, &devs, ret_error);
        if (r <= 0)
                return r;
        c->devices = calloc(json_object_array_length(devs) + 1, sizeof *c->devices);
        if (!c->devices)
                return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length(devs); i++) {
                json_object *e = json_object_array_get_idx(devs, i);
                DeviceNode *d = &c->devices[c->n_devices];
                _cleanup_free_ char *type = NULL;
                int64_t major, minor;
                uint64_t mode = 0666, uid = 0, gid = 0;
                char path[64];

                snprintf(path, sizeof path, "linux.devices[%zu]", i);
                if (!json_object_is_type(e, json_type_object))
                        return error_set(ret_error, -EINVAL, "%s: not an object", path);
                if (get_string(e, path, "path", &d->path, ret_error) < 0 || get_string(e, path, "type", &type, ret_error) < 0)
                        return -EINVAL;
                c->n_devices++;
                if (!d->path)
                        return error_set(ret_error, -EINVAL, "%s.path: missing", path);
                if (!device_path_is_valid(d->path))
                        return error_set(ret_error, -EINVAL, "%s.path: %s is not a clean absolute path below /dev", path, d->path);
                for (size_t j = 0; j + 1 < c->n_devices; j++)
                        if (streq(c->devices[j].path, d->path))
                                return error_set(ret_error, -EINVAL, "%s.path: %s is linux.devices[%zu]'s too", path, d->path, j);
                if (!type || strlen(type) != 1 || !strchr("cbup", type[0]))
                        return error_set(ret_error, -EINVAL, "%s.type: %s is not a device type (c, b, u or p)", path,
                                         type ?: "(missing)");
                d->type = type[0] == 'u' ? 'c' : type[0];
                if (get_device_number(e, path, "major", -1, &major, ret_error) < 0 ||
                    get_device_number(e, path, "minor", -1, &minor, ret_error) < 0 ||
                    get_uint(e, path, "fileMode", UINT32_MAX, &mode, ret_error) < 0 ||
                    get_uint(e, path, "uid", UINT32_MAX - 1, &uid, ret_error) < 0 ||
                    get_uint(e, path, "gid", UINT32_MAX - 1, &gid, ret_error) < 0)
                        return -EINVAL;
                if (d->type != 'p' && (major < 0 || minor < 0))
                        return error_set(ret_error, -EINVAL, "%s: a device of type %s needs major and minor", path, type);
                d->major = major < 0 ? 0 : (uint32_t) major;
                d->minor = minor < 0 ? 0 : (uint32_t) minor;
                d->mode = (mode_t) mode & 07777; /* as runc: the type bits are the type field's */
                d->uid = (uid_t) uid;
                d->gid = (gid_t) gid;
        }
        return 0;
}

/* linux.resources.devices: the device cgroup's rules, in order. */
static int parse_device_rules(json_object *linux_, OciConfig *c, char **ret_error) {
        json_object *res, *rules;
        int r;

        r = get_field(linux_, "linux", "resources", json_type_object, &res, ret_error);
        if (r > 0)
                r = get_field(res, "linux.resources", "devices", json_type_array, &rules, ret_error);
        if (r <= 0)
                return r;
        c->device_rules = calloc(json_object_array_length(rules) + 1, sizeof *c->device_rules);
        if (!c->device_rules)
                return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length(rules); i++) {
                json_object *e = json_object_array_get_idx(rules, i);
                DeviceRule *d = &c->device_rules[c->n_device_rules++];
                _cleanup_free_ char *type = NULL, *access = NULL;
                char path[64];

                snprintf(path, sizeof path, "linux.resources.devices[%zu]", i);
                if (!json_object_is_type(e, json_type_object))
                        return error_set(ret_error, -EINVAL, "%s: not an object", path);
                r = get_bool(e, path, "allow", &d->allow, ret_error);
                if (r == 0)
                        return error_set(ret_error, -EINVAL, "%s.allow: missing", path);
                if (r < 0 || get_string(e, path, "type", &type, ret_error) < 0 ||
                    get_string(e, path, "access", &access, ret_error) < 0 ||
                    get_device_number(e, path, "major", -1, &d->major, ret_error) < 0 ||
                    get_device_number(e, path, "minor", -1, &d->minor, ret_error) < 0)
                        return -EINVAL;
                if (type && (strlen(type) != 1 || !strchr("abc", type[0])))
                        return error_set(ret_error, -EINVAL, "%s.type: %s is not a device cgroup type (a, b or c)", path, type);
                d->type = type ? type[0] : 'a';
                /* As runc: an empty access is an error, not "none". */
                if (device_access_from_string(access, &d->access) < 0)
                        return error_set(ret_error, -EINVAL, "%s.access: \"%s\" is not some of r, w and m", path, strempty(access));
        }
        return 0;
}

static int parse_linux(json_object *top, OciConfig *c, char **ret_error) {
        json_object *linux_, *seccomp;
        int r;

        r = get_field(top, "", "linux", json_type_object, &linux_, ret_error);
        if (r <= 0)
                return r;
        r = parse_namespaces(linux_, c, ret_error);
        if (r < 0)
                return r;
        r = parse_mapping(linux_, "uidMappings", &c->uid_map, &c->uid_host, &c->uid_size, ret_error);
        if (r < 0)
                return r;
        if (r > 0) {
                r = parse_mapping(linux_, "gidMappings", &c->gid_map, &c->gid_host, &c->gid_size, ret_error);
                if (r < 0)
                        return r;
                if (r == 0)
                        return error_set(ret_error, -EINVAL, "linux.gidMappings: missing beside linux.uidMappings");
                /* The rootfs is seen through one idmapped mount, host ID
                 * uid_host as the container's 0 for users and groups alike. */
                if (c->gid_host != c->uid_host)
                        return error_set(ret_error, -EOPNOTSUPP,
                                         "linux.gidMappings: container ID 0 maps to host ID %" PRIu32 ", linux.uidMappings to %" PRIu32 "; they must be the same",
                                         c->gid_host, c->uid_host);
                c->have_mappings = true;
        }
        /* Its mounts are made in a mount namespace its user namespace owns;
         * that one cannot move into another (setns(2) takes CAP_SYS_ADMIN
         * where the other was made). */
        /* proc(5) is mounted only by the user namespace that owns the PID
         * namespace: the host's is not the container's. */
        if (c->ns_user && !c->ns_pid)
                return error_set(ret_error, -EOPNOTSUPP,
                                 "linux.namespaces: a user namespace without a PID namespace is not supported (its /proc could not be mounted)");
        if (c->ns_user && !c->ns_mount)
                return error_set(ret_error, -EOPNOTSUPP, "linux.namespaces: a user namespace without a mount namespace of the container's own is not supported");
        for (size_t i = 0; c->ns_user && i < c->n_ns_paths; i++)
                if (c->ns_paths[i].type == CLONE_NEWNS)
                        return error_set(ret_error, -EOPNOTSUPP,
                                         "linux.namespaces[%zu].path: joining a mount namespace with a user namespace is not supported", c->ns_paths[i].index);
        if (c->ns_user && !c->have_mappings)
                return error_set(ret_error, -EINVAL, "linux.uidMappings: missing with a user namespace");
        if (c->have_mappings && !c->ns_user)
                return error_set(ret_error, -EINVAL, "linux.uidMappings: given without a user namespace in linux.namespaces");
        if (get_string(linux_, "linux", "cgroupsPath", &c->cgroups_path, ret_error) < 0)
                return -EINVAL;
        if (get_strv(linux_, "linux", "maskedPaths", &c->masked_paths, ret_error) < 0 ||
            get_strv(linux_, "linux", "readonlyPaths", &c->readonly_paths, ret_error) < 0)
                return -EINVAL;
        for (char **p = c->masked_paths; p && *p; p++)
                if (!path_is_absolute(*p))
                        return error_set(ret_error, -EINVAL, "linux.maskedPaths[%zu]: %s is not an absolute path", (size_t) (p - c->masked_paths), *p);
        for (char **p = c->readonly_paths; p && *p; p++)
                if (!path_is_absolute(*p))
                        return error_set(ret_error, -EINVAL, "linux.readonlyPaths[%zu]: %s is not an absolute path", (size_t) (p - c->readonly_paths), *p);
        r = parse_sysctl(linux_, c, ret_error);
        if (r >= 0)
                r = parse_rootfs_propagation(linux_, c, ret_error);
        if (r >= 0)
                r = parse_devices(linux_, c, ret_error);
        if (r >= 0)
                r = parse_device_rules(linux_, c, ret_error);
        if (r >= 0)
                r = get_field(linux_, "linux", "seccomp", json_type_object, &seccomp, ret_error);
        if (r > 0)
                r = oci_seccomp_compile(seccomp, &c->seccomp, ret_error);
        if (r < 0)
                return r;
        return parse_resources(linux_, c, ret_error);
}

int oci_config_parse(const char *text, OciConfig *ret, char **ret_error) {
        _cleanup_(oci_config_done) OciConfig c = {};
        json_tokener *tok;
        json_object *top, *ann;
        enum json_tokener_error jerr;
        int r;

        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        top = json_tokener_parse_ex(tok, text, (int) strlen(text));
        jerr = json_tokener_get_error(tok);
        if (!top || jerr != json_tokener_success) {
                r = error_set(ret_error, -EINVAL, "not valid JSON: %s at offset %zu",
                              json_tokener_error_desc(jerr == json_tokener_success ? json_tokener_continue : jerr),
                              json_tokener_get_parse_end(tok));
                json_tokener_free(tok);
                json_object_put(top);
                return r;
        }
        json_tokener_free(tok);
        if (!json_object_is_type(top, json_type_object)) {
                json_object_put(top);
                return error_set(ret_error, -EINVAL, "not a JSON object");
        }
        r = get_string(top, "", "ociVersion", &c.oci_version, ret_error);
        if (r == 0)
                r = error_set(ret_error, -EINVAL, "ociVersion: missing");
        if (r >= 0)
                r = parse_root(top, &c, ret_error);
        if (r >= 0)
                r = parse_process(top, &c, ret_error);
        if (r >= 0)
                r = get_string(top, "", "hostname", &c.hostname, ret_error);
        if (r >= 0)
                r = parse_mounts(top, &c, ret_error);
        if (r >= 0)
                r = parse_linux(top, &c, ret_error);
        if (r >= 0) {
                json_object *hooks = NULL;

                (void) json_object_object_get_ex(top, "hooks", &hooks);
                r = oci_hooks_parse(hooks, &c.hooks, ret_error);
        }
        if (r >= 0)
                r = get_field(top, "", "annotations", json_type_object, &ann, ret_error);
        if (r > 0) {
                json_object *v;

                c.annotations = strdup(json_object_to_json_string_ext(ann, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                if (!c.annotations)
                        r = -ENOMEM;
                c.boot_annotation = (json_object_object_get_ex(ann, "org.boxctl.boot", &v) && json_object_is_type(v, json_type_string) &&
                                     streq(json_object_get_string(v), "true")) ||
                                    (json_object_object_get_ex(ann, "io.boxctl.machine", &v) && json_object_is_type(v, json_type_string) &&
                                     streq(json_object_get_string(v), "boot"));
        }
        json_object_put(top);
        if (r < 0)
                return r;
        *ret = c;
        c = (OciConfig) {};
        return 0;
}

/* A system container: its process is an init, or an annotation says so. It
 * boots as "boxctl boot" does: the tree's init as PID 1 (not the stub), the
 * machine interface, and registered with boxd when a bus is there. */
bool oci_config_wants_boot(const OciConfig *c) {
        static const char *const inits[] = { "/sbin/init", "/lib/systemd/systemd", "/usr/lib/systemd/systemd" };

        for (size_t i = 0; i < ELEMENTSOF(inits); i++)
                if (streq(c->args[0], inits[i]))
                        return true;
        return c->boot_annotation;
}

int oci_process_parse(const char *text, OciConfig *ret, char **ret_error) {
        _cleanup_(oci_config_done) OciConfig c = {};
        json_object *proc, *top;
        int r;

        proc = json_tokener_parse(text);
        if (!proc)
                return error_set(ret_error, -EINVAL, "not valid JSON");
        if (!json_object_is_type(proc, json_type_object)) {
                json_object_put(proc);
                return error_set(ret_error, -EINVAL, "not a JSON object");
        }
        /* The same checks as config.json's "process", and the same paths in errors. */
        top = json_object_new_object();
        json_object_object_add(top, "process", proc);
        r = parse_process(top, &c, ret_error);
        json_object_put(top);
        if (r < 0)
                return r;
        *ret = c;
        c = (OciConfig) {};
        return 0;
}
