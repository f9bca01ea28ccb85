/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "caps.h"
#include "cgroup-path.h"
#include "machine-start.h"
#include "mount-points.h"
#include "namespace-join.h"
#include "oci-config.h"
#include "oci-log.h"
#include "oci-payload.h"
#include "oci-seccomp.h"
#include "oci-state.h"
#include "oci-verbs.h"
#include "process-util.h"
#include "stale.h"
#include "util.h"

/* Mounts the machine makes itself, whatever config.json says of them. */
static const struct {
        const char *type, *destination;
} own_mounts[] = {
        { "proc", "/proc" },     { "sysfs", "/sys" },          { "devpts", "/dev/pts" }, { "tmpfs", "/dev" },
        { "tmpfs", "/dev/shm" }, { "tmpfs", "/run" },          { "cgroup", "/sys/fs/cgroup" },
        { "cgroup2", "/sys/fs/cgroup" }, { "bind", "/dev/console" },
};

typedef struct CreateArgs {
        const char *bundle;
        const char *pid_file;
        const char *console_socket;
        const char *id;
        unsigned pass_fds;
} CreateArgs;

static int parse_create_args(int argc, char *argv[], CreateArgs *a) {
        static const struct option options[] = {
                { "bundle", required_argument, NULL, 'b' },
                { "pid-file", required_argument, NULL, 'p' },
                { "console-socket", required_argument, NULL, 'c' },
                { "no-pivot", no_argument, NULL, 'P' },
                { "no-new-keyring", no_argument, NULL, 'K' },
                { "preserve-fds", required_argument, NULL, 'F' },
                {}
        };
        int c;

        *a = (CreateArgs) { .bundle = "." };
        optind = 1;
        while ((c = getopt_long(argc, argv, "b:", options, NULL)) >= 0)
                switch (c) {
                case 'b':
                        a->bundle = optarg;
                        break;
                case 'p':
                        a->pid_file = optarg;
                        break;
                case 'c':
                        a->console_socket = optarg;
                        break;
                case 'P':
                case 'K':
                        break;
                case 'F':
                        if (oci_parse_preserve_fds(optarg, &a->pass_fds) < 0)
                                return -EINVAL;
                        break;
                default:
                        return -EINVAL;
                }
        if (argc - optind != 1)
                return oci_error(EINVAL, "\"create\" requires exactly 1 argument(s)");
        a->id = argv[optind];
        if (!oci_id_is_valid(a->id))
                return oci_error(EINVAL, "invalid id format: %s", a->id);
        return 0;
}

static bool mount_has_option(const OciMount *m, const char *opt) {
        return strv_contains(m->options, opt);
}

/* A mount's flags: "ro" (and "rro": a bind's read-only is recursive
 * anyway), "nosuid", "nodev", "noexec". Others ("rw", "relatime", ...) are
 * the defaults or not ours to apply. */
static unsigned mount_attr_from_options(const OciMount *m) {
        unsigned attr = 0;

        for (char **o = m->options; o && *o; o++)
                if (streq(*o, "ro") || streq(*o, "rro"))
                        attr |= MOUNT_ATTR_RDONLY;
                else if (streq(*o, "nosuid"))
                        attr |= MOUNT_ATTR_NOSUID;
                else if (streq(*o, "nodev"))
                        attr |= MOUNT_ATTR_NODEV;
                else if (streq(*o, "noexec"))
                        attr |= MOUNT_ATTR_NOEXEC;
        return attr;
}

/* The last propagation option, as runc takes them: "[r]shared", "[r]slave",
 * "[r]private", "[r]unbindable". */
static void mount_propagation_from_options(const OciMount *m, BindMount *b) {
        static const struct {
                const char *name;
                unsigned long flag;
        } table[] = {
                { "shared", MS_SHARED }, { "slave", MS_SLAVE }, { "private", MS_PRIVATE }, { "unbindable", MS_UNBINDABLE },
        };

        for (char **o = m->options; o && *o; o++)
                for (size_t k = 0; k < ELEMENTSOF(table); k++) {
                        bool rec = (*o)[0] == 'r' && streq(*o + 1, table[k].name);

                        if (!rec && !streq(*o, table[k].name))
                                continue;
                        b->propagation = table[k].flag;
                        b->propagation_recursive = rec;
                }
}

static int add_bind(Settings *s, const char *bundle, size_t index, const OciMount *m, char **ret_error) {
        unsigned attr = mount_attr_from_options(m);
        BindMount *b;
        struct stat st;
        char *src;

        if (isempty(m->source))
                return error_set(ret_error, -EINVAL, "mounts[%zu].source: a bind mount on %s needs a source", index, m->destination);
        src = path_is_absolute(m->source) ? strdup(m->source) : strjoin3(bundle, "/", m->source);
        if (!src)
                return -ENOMEM;
        if (stat(src, &st) < 0) {
                int r = error_set(ret_error, -errno, "mounts[%zu].source: %s (bound on %s): %s", index, src, m->destination,
                                  strerror(errno));

                free(src);
                return r;
        }
        b = realloc(s->binds, (s->n_binds + 1) * sizeof *b);
        if (!b) {
                free(src);
                return -ENOMEM;
        }
        s->binds = b;
        b = &s->binds[s->n_binds++];
        *b = (BindMount) {
                .source = src,
                .destination = strdup(m->destination),
                .read_only = attr & MOUNT_ATTR_RDONLY,
                .idmap = mount_has_option(m, "idmap") || mount_has_option(m, "ridmap") ? 1 : 0,
                .attr_set = attr & ~MOUNT_ATTR_RDONLY,
        };
        mount_propagation_from_options(m, b);
        return b->destination ? 0 : -ENOMEM;
}

/* A tmpfs, in the config's order among the binds (Settings.tmpfs_at), with
 * its flags, its "key=value" options as the file system takes them, and
 * tmpcopyup. */
static int add_tmpfs(Settings *s, const OciMount *m) {
        size_t n = strv_length(s->tmpfs);
        size_t *at = realloc(s->tmpfs_at, (n + 1) * sizeof *at);
        TmpfsOptions *o;
        int r;

        if (!at)
                return -ENOMEM;
        s->tmpfs_at = at;
        at[n] = s->n_binds;
        o = realloc(s->tmpfs_options, (n + 1) * sizeof *o);
        if (!o)
                return -ENOMEM;
        s->tmpfs_options = o;
        o[n] = (TmpfsOptions) { .attr_set = mount_attr_from_options(m), .copy_up = mount_has_option(m, "tmpcopyup") };
        for (char **opt = m->options; opt && *opt; opt++) {
                char *d;

                if (!strchr(*opt, '='))
                        continue;
                d = o[n].data ? strjoin3(o[n].data, ",", *opt) : strdup(*opt);
                if (!d) {
                        free(o[n].data);
                        return -ENOMEM;
                }
                free(o[n].data);
                o[n].data = d;
        }
        r = strv_push_dup(&s->tmpfs, m->destination);
        if (r < 0)
                free(o[n].data);
        return r;
}

/* The machine makes its /proc, /sys, /dev and /dev/mqueue in the order
 * config.json lists them, as runc does. */
static void api_order_add(Settings *s, const char *destination) {
        ApiMount m = api_mount_from_string(destination);

        if (m < 0 || s->n_api_order >= ELEMENTSOF(s->api_order))
                return;
        for (size_t i = 0; i < s->n_api_order; i++)
                if (s->api_order[i] == m)
                        return;
        s->api_order[s->n_api_order++] = m;
}

/* config.json's mounts onto the machine's: binds, tmpfs; those the machine
 * makes itself are left to it, in the config's order; an mqueue elsewhere than
 * /dev/mqueue is the payload's. */
static int map_mounts(const OciConfig *c, const char *bundle, Settings *s, char **ret_error) {
        for (size_t i = 0; i < c->n_mounts; i++) {
                const OciMount *m = &c->mounts[i];
                bool bind = (m->type && streq(m->type, "bind")) || mount_has_option(m, "bind") || mount_has_option(m, "rbind");
                const char *type = bind ? "bind" : m->type;
                bool own = false;
                int r;

                if (!path_is_absolute(m->destination))
                        return error_set(ret_error, -EINVAL, "mounts[%zu].destination: %s is not an absolute path", i, m->destination);
                for (size_t k = 0; k < ELEMENTSOF(own_mounts); k++)
                        if (type && streq(type, own_mounts[k].type) && streq(m->destination, own_mounts[k].destination))
                                own = true;
                if (own || (type && streq(type, "mqueue"))) {
                        api_order_add(s, m->destination);
                        /* podman's --systemd=always: the image's /run in the machine's own */
                        if (type && streq(type, "tmpfs") && streq(m->destination, "/run") && mount_has_option(m, "tmpcopyup"))
                                s->run_copy_up = true;
                        continue;
                }
                /* The machine has a cgroup2 of its own there, whatever the
                 * host's layout (podman binds a hybrid host's name=systemd). */
                if (startswith(m->destination, "/sys/fs/cgroup/")) {
                        oci_debug("mounts[%zu]: a %s mount on %s (the machine's own cgroup) is left out", i, strempty(type), m->destination);
                        continue;
                }
                if (!type)
                        return error_set(ret_error, -EINVAL, "mounts[%zu].type: missing", i);
                /* Those in the machine's own /run and /dev (podman's
                 * /run/.containerenv, Kubernetes' /dev/termination-log) go
                 * into what the machine made there (mount-setup.c). */
                if (streq(type, "bind"))
                        r = add_bind(s, bundle, i, m, ret_error);
                else if (streq(type, "tmpfs"))
                        r = add_tmpfs(s, m);
                else
                        return error_set(ret_error, -EOPNOTSUPP, "mounts[%zu]: a %s mount on %s is not supported", i, type, m->destination);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* linux.resources: moved into the settings, for the core to write into the
 * machine's cgroups (cgroup-limits.h). net_cls and net_prio are cgroup v1
 * controllers only: on a host that has not mounted them (or on pure
 * cgroup2) the container is refused here, before anything is made. */
static int map_resources(OciConfig *c, Settings *s, char **ret_error) {
        static const struct {
                const char *controller, *field;
        } net[] = { { "net_cls", "linux.resources.network.classID" }, { "net_prio", "linux.resources.network.priorities" } };

        for (size_t i = 0; i < ELEMENTSOF(net); i++) {
                bool wanted = i == 0 ? c->limits.extras.has_classid : c->limits.extras.ifpriomap != NULL;
                int r;

                if (!wanted)
                        continue;
                r = cgroup_controller_where(net[i].controller);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        return error_set(ret_error, -EOPNOTSUPP,
                                         "%s: cannot be applied: this host has no %s controller (no cgroup v1 hierarchy "
                                         "of it is mounted, and cgroup2 has none)", net[i].field, net[i].controller);
        }
        s->limits = c->limits;
        c->limits = (CgroupLimits) {};
        for (char **u = c->unapplied; u && *u; u++)
                oci_debug("%s: not applied", *u);
        return 0;
}

/* linux.cgroupsPath with runc's rules: "slice:prefix:name" with
 * --systemd-cgroup, else a cgroupfs path (absolute: below each hierarchy's
 * root; relative: below our own cgroup). Empty: the machine's own scope. */
static int map_cgroups_path(const OciConfig *c, Settings *s, char **ret_error) {
        int r;

        if (isempty(c->cgroups_path))
                return 0;
        if (oci_globals.systemd_cgroup) {
                r = cgroup_path_from_systemd(c->cgroups_path, &s->cgroup_path);
                if (r == -EINVAL)
                        return error_set(ret_error, r, "linux.cgroupsPath: expected cgroupsPath to be of format \"slice:prefix:name\" for systemd cgroups, got \"%s\" instead",
                                         c->cgroups_path);
                return r;
        }
        r = cgroup_path_clean(c->cgroups_path, &s->cgroup_path);
        if (r == -EINVAL)
                return error_set(ret_error, r, "linux.cgroupsPath: %s does not name a cgroup below where it starts (a \"..\" goes above it, or nothing is left)",
                                 c->cgroups_path);
        return r;
}

/* linux.namespaces: those joined by path, each checked to be a namespace of
 * its entry's type; those not listed (IPC, UTS) are ours, shared. */
static int map_namespaces(OciConfig *c, Settings *s, char **ret_error) {
        s->ns_join = calloc(c->n_ns_paths + 1, sizeof *s->ns_join);
        if (!s->ns_join)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_ns_paths; i++) {
                _cleanup_close_ int fd = -EBADF;
                const char *p = c->ns_paths[i].path;
                size_t k = c->ns_paths[i].index;
                int type = 0, r;

                r = namespace_open(p, c->ns_paths[i].type, &fd, &type);
                if (r == -ENOTTY)
                        return error_set(ret_error, r, "linux.namespaces[%zu].path: %s is not a namespace", k, p);
                if (r == -EMEDIUMTYPE)
                        return error_set(ret_error, r, "linux.namespaces[%zu].path: %s is a %s namespace, not %s", k, p,
                                         namespace_type_to_string(type) ?: "another", namespace_type_to_string(c->ns_paths[i].type));
                if (r < 0)
                        return error_set(ret_error, r, "linux.namespaces[%zu].path: %s: %s", k, p, strerror(-r));
                /* The payload's to join, at its end: open_mount_namespace(). */
                if (c->ns_paths[i].type == CLONE_NEWNS)
                        continue;
                if (c->ns_paths[i].type == CLONE_NEWNET)
                        s->private_network = false;
                s->ns_join[s->n_ns_join++] = (NamespaceJoin) { .type = c->ns_paths[i].type, .path = TAKE_PTR(c->ns_paths[i].path) };
        }
        /* Not listed: the caller's, as the runtime spec says. Without a PID
         * namespace of its own the container has no PID 1 to be: its process
         * is executed as it is (no stub init), and its cgroup is how kill
         * --all and delete find the rest of it. */
        s->ns_shared = (c->ns_ipc ? 0 : CLONE_NEWIPC) | (c->ns_uts ? 0 : CLONE_NEWUTS) | (c->ns_pid ? 0 : CLONE_NEWPID) |
                       (c->ns_cgroup ? 0 : CLONE_NEWCGROUP);
        if (!c->ns_uts && !isempty(c->hostname))
                return error_set(ret_error, -EINVAL, "unable to set hostname without a private UTS namespace");
        if (!c->ns_uts) { /* "": nothing to set in the host's */
                free(s->hostname);
                s->hostname = NULL;
        }
        return 0;
}

/* linux.devices and linux.resources.devices: the nodes, and the device
 * policy runc would give (the config's rules, then its defaults but those
 * of the nodes the config gives itself). */
static int map_devices(OciConfig *c, Settings *s) {
        _cleanup_strv_free_ char **paths = NULL;
        int r;

        s->device_policy = calloc(1, sizeof *s->device_policy);
        if (!s->device_policy)
                return -ENOMEM;
        for (size_t i = 0; i < c->n_device_rules; i++) {
                r = device_policy_apply(s->device_policy, &c->device_rules[i]);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < c->n_devices; i++)
                if (strv_push_dup(&paths, c->devices[i].path) < 0)
                        return -ENOMEM;
        r = device_policy_add_defaults(s->device_policy, paths);
        if (r < 0)
                return r;
        s->device_nodes = TAKE_PTR(c->devices);
        s->n_device_nodes = c->n_devices;
        c->n_devices = 0;
        return 0;
}

/* Who drove us, for the registry's Service: podman marks its containers
 * io.container.manager=libpod (and io.podman.annotations.*; it sets some
 * io.kubernetes.cri-o.* too, so it is asked first); containerd's CRI sets
 * io.kubernetes.cri.*, and "ctr run" sets no annotation at all, but its shim
 * v2 keeps the bundle in STATE/io.containerd.runtime.v2.task/NS/ID. Anyone
 * else: "oci". */
static const char *engine_service(const OciConfig *c, const char *bundle) {
        json_object *ann = c->annotations ? json_tokener_parse(c->annotations) : NULL;
        const char *service = NULL;

        if (ann && json_object_is_type(ann, json_type_object)) {
                json_object_object_foreach(ann, key, v) {
                        if ((streq(key, "io.container.manager") && json_object_is_type(v, json_type_string) &&
                             streq(json_object_get_string(v), "libpod")) ||
                            startswith(key, "io.podman.annotations.")) {
                                service = "podman";
                                break;
                        }
                        if (startswith(key, "io.kubernetes.cri."))
                                service = "containerd";
                }
        }
        json_object_put(ann);
        if (!service && strstr(bundle, "/io.containerd.runtime.v2.task/"))
                service = "containerd";
        return service ?: "oci";
}

/* A capability we do not hold cannot be given, and the spec wants a
 * property that cannot be applied refused, as runc refuses it (this host's
 * root may lack CAP_SYS_RESOURCE, say). In a user namespace of its own the
 * container's root gets every one, of that namespace. Capabilities this
 * kernel does not know are left out, as runc leaves them. */
static int check_caps_held(const OciConfig *c, char **ret_error) {
        const struct {
                const char *name;
                bool given;
                uint64_t mask;
        } sets[] = {
                { "bounding", c->have_bounding, c->bounding },
                { "effective", c->have_process_caps, c->effective },
                { "permitted", c->have_process_caps, c->permitted },
                { "inheritable", c->have_process_caps, c->inheritable },
                { "ambient", c->have_process_caps, c->ambient },
        };
        uint64_t held, missing;

        if (c->have_mappings)
                return 0;
        held = caps_held();
        for (size_t i = 0; i < ELEMENTSOF(sets); i++) {
                if (!sets[i].given)
                        continue;
                missing = sets[i].mask & caps_all() & ~held;
                if (missing == 0)
                        continue;
                _cleanup_free_ char *names = caps_to_string(missing);
                for (char *p = names; p && *p; p++)
                        *p = (char) toupper((unsigned char) *p);
                return error_set(ret_error, -EPERM,
                                 "process.capabilities.%s: %s cannot be given: boxctl-oci does not hold it itself; leave it out, or give the container a user namespace",
                                 sets[i].name, names ? names : "some");
        }
        return 0;
}

static int settings_from_config(OciConfig *c, const char *id, const char *bundle, const char *rootfs, Settings *s,
                                char **ret_error) {
        int r;

        r = check_caps_held(c, ret_error);
        if (r < 0)
                return r;

        *s = (Settings) {
                .start_mode = START_RUN,
                .console_mode = c->terminal ? CONSOLE_PASSIVE : CONSOLE_PIPE,
                .register_mode = REGISTER_NO,
                .userns_mode = c->have_mappings ? USERNS_FIXED : USERNS_NO,
                .uid_base = c->uid_host,
                .uid_size = MIN(c->uid_size, c->gid_size),
                .ownership = OWNERSHIP_IDMAP,
                .private_network = c->ns_network,
                .network_mode = NETWORK_NONE,
                .read_only = c->root_readonly,
                .capabilities = c->have_bounding ? c->bounding : caps_default(),
                .quiet = true,
                .any_rootfs = true,
                .binds_in_order = true,
        };
        s->root = strdup(rootfs);
        s->machine_name = strdup(id);
        s->hostname = c->hostname ? strdup(c->hostname) : NULL;
        if (c->have_mappings) {
                s->uid_map = strdup(c->uid_map);
                s->gid_map = strdup(c->gid_map);
                if (!s->uid_map || !s->gid_map)
                        return -ENOMEM;
        }
        if (oci_config_wants_boot(c)) {
                /* The init is the tree's, as boot finds it; the rest are its arguments. */
                s->start_mode = START_BOOT;
                s->register_mode = REGISTER_AUTO;
                s->register_service = engine_service(c, bundle);
                s->argv = strv_copy(c->args + 1);
        } else
                s->argv = strv_copy(c->args);
        s->environment = c->env ? strv_copy(c->env) : NULL;
        r = map_resources(c, s, ret_error);
        if (r < 0)
                return r;
        r = map_cgroups_path(c, s, ret_error);
        if (r < 0)
                return r;
        if (!s->root || !s->machine_name || (c->hostname && !s->hostname) || !s->argv || (c->env && !s->environment))
                return -ENOMEM;
        r = map_namespaces(c, s, ret_error);
        if (r < 0)
                return r;
        r = map_devices(c, s);
        if (r < 0)
                return r;
        return map_mounts(c, bundle, s, ret_error);
}

static int read_config(const char *bundle, OciConfig *ret) {
        _cleanup_free_ char *text = NULL, *error = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        fd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return oci_error(errno, "bundle %s: %s", bundle, strerror(errno));
        r = read_file_at(fd, "config.json", 16 * 1024 * 1024, &text);
        if (r == -ENOENT)
                return oci_error(r, "JSON specification file config.json not found in bundle %s", bundle);
        if (r < 0)
                return oci_error(r, "bundle %s: cannot read config.json: %s", bundle, strerror(-r));
        r = oci_config_parse(text, ret, &error);
        if (r < 0)
                return oci_error(r, "%s/config.json: %s", bundle, error ?: strerror(-r));
        return 0;
}

/* The console socket, connected before anything is made. */
static int console_connect(const char *path, int *ret_fd) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        if (stat(path, &st) < 0)
                return oci_error(errno, "console socket %s: %s", path, strerror(errno));
        if (!S_ISSOCK(st.st_mode))
                return oci_error(ENOTSOCK, "console socket %s: not a socket", path);
        if (strlen(path) >= sizeof sa.sun_path)
                return oci_error(ENAMETOOLONG, "console socket %s: path too long", path);
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return oci_error(errno, "console socket %s: %s", path, strerror(errno));
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return oci_error(errno, "console socket %s: cannot connect: %s", path, strerror(errno));
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int write_pid_file(const char *path, pid_t pid) {
        _cleanup_free_ char *tmp = NULL;
        char text[32];
        int r;

        snprintf(text, sizeof text, "%d", (int) pid);
        if (asprintf(&tmp, "%s.boxctl-oci.tmp", path) < 0)
                return -ENOMEM;
        r = write_file_at(AT_FDCWD, tmp, text, 0644);
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                (void) unlink(tmp);
        return r;
}

static char *now_rfc3339(void) {
        struct timespec ts;
        struct tm tm;
        char buf[64];

        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), ".%09ldZ", ts.tv_nsec);
        return strdup(buf);
}

/* After a failed create: what it made goes. */
static void undo_create(const char *id, const char *rootfs, char **mount_points, char **cgroup_paths) {
        _cleanup_close_ int tree_fd = -EBADF;

        (void) (cgroup_paths ? stale_cgroups_remove(id, cgroup_paths) : stale_machine_remove(id, NULL));
        if (mount_points && rootfs) {
                MountPoints mp = { .created = mount_points };

                tree_fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (tree_fd >= 0)
                        mount_points_cleanup(tree_fd, &mp);
        }
        (void) oci_state_dir_remove(oci_globals.root, id);
}

/* A system container that no registry lists (no bus, no boxd) still runs: said with --debug. */
static void on_notice(MachineNotice kind, const char *text, void *userdata) {
        oci_debug("%s", text);
}

static char *state_text(const OciState *st, OciStatus status) {
        json_object *o = oci_state_to_json(st, status);
        char *text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));

        json_object_put(o);
        return text;
}

/* prestart, then createRuntime: here, in our namespaces, with the leader's made. */
static int on_namespaces_ready(pid_t leader, void *userdata, char **ret_error) {
        const OciPayload *p = userdata;
        const OciHooks *h = &p->config->hooks;
        OciState st = *p->state;
        _cleanup_free_ char *state = NULL;
        char error[512];
        int r;

        if (h->n[OCI_HOOK_PRESTART] == 0 && h->n[OCI_HOOK_CREATE_RUNTIME] == 0)
                return 0;
        st.pid = leader;
        state = state_text(&st, OCI_STATUS_CREATING);
        if (!state)
                return -ENOMEM;
        r = oci_hooks_run(h, OCI_HOOK_PRESTART, state, error, sizeof error);
        if (r >= 0)
                r = oci_hooks_run(h, OCI_HOOK_CREATE_RUNTIME, state, error, sizeof error);
        if (r < 0)
                return error_set(ret_error, r, "%s", error);
        return 0;
}

/* runc's notify socket: when we are run with $NOTIFY_SOCKET (podman
 * --sdnotify=container, a systemd unit of Type=notify), the process gets
 * NOTIFY_SOCKET=/run/notify/notify.sock, a bind of ROOT/ID/notify, where
 * start listens until READY=1 comes and passes it on to ours with the
 * container's MAINPID. */
static int setup_notify(Settings *s, int dir_fd, char **ret_error) {
        const char *host = getenv("NOTIFY_SOCKET");
        char proc[64];
        _cleanup_free_ char *source = NULL;
        BindMount *b;
        size_t n = 0;
        int r;

        if (isempty(host))
                return 0;
        if (mkdirat(dir_fd, OCI_NOTIFY_DIR, 0755) < 0 && errno != EEXIST)
                return error_set(ret_error, -errno, "cannot make the notify socket's directory: %s", strerror(errno));
        r = write_file_at(dir_fd, OCI_NOTIFY_HOST, host, 0600);
        if (r < 0)
                return error_set(ret_error, r, "cannot save $NOTIFY_SOCKET: %s", strerror(-r));
        snprintf(proc, sizeof proc, "/proc/self/fd/%d/" OCI_NOTIFY_DIR, dir_fd);
        source = realpath(proc, NULL);
        if (!source)
                return error_set(ret_error, -errno, "cannot find the notify socket's directory: %s", strerror(errno));
        b = realloc(s->binds, (s->n_binds + 1) * sizeof *b);
        if (!b)
                return -ENOMEM;
        s->binds = b;
        s->binds[s->n_binds++] = (BindMount) { .source = TAKE_PTR(source), .destination = strdup("/run/notify") };
        if (!s->binds[s->n_binds - 1].destination)
                return -ENOMEM;
        /* Ours, in place of any the config has. */
        for (size_t i = 0; s->environment && s->environment[i]; i++)
                if (startswith(s->environment[i], "NOTIFY_SOCKET="))
                        free(s->environment[i]);
                else
                        s->environment[n++] = s->environment[i];
        if (s->environment)
                s->environment[n] = NULL;
        if (strv_push_dup(&s->environment, "NOTIFY_SOCKET=/run/notify/" OCI_NOTIFY_SOCKET) < 0)
                return -ENOMEM;
        return 0;
}

/* The mount namespace the container is to end in when it is not its own:
 * ours when none is listed, or the one joined by path (oci-payload.c). */
static int open_mount_namespace(const OciConfig *c, int *ret_fd) {
        *ret_fd = -EBADF;
        if (!c->ns_mount) {
                *ret_fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
                return *ret_fd < 0 ? -errno : 0;
        }
        for (size_t i = 0; i < c->n_ns_paths; i++)
                if (c->ns_paths[i].type == CLONE_NEWNS)
                        return namespace_open(c->ns_paths[i].path, CLONE_NEWNS, ret_fd, NULL);
        return 0;
}

/* Everything after the state directory exists; the caller removes it on failure. */
static int create_machine(const CreateArgs *a, const char *bundle, OciConfig *c, int dir_fd, int console_fd) {
        _cleanup_(settings_done) Settings s = {};
        _cleanup_(machine_releasep) MachineInstance *mi = NULL;
        _cleanup_(oci_state_done) OciState st = {};
        _cleanup_free_ char *error = NULL, *rootfs = NULL;
        _cleanup_close_ int fifo_fd = -EBADF, master = -EBADF, mntns_fd = -EBADF;
        _cleanup_free_ char *state_creating = NULL, *state_created = NULL;
        OciPayload payload = { .config = c, .state = &st, .mntns_fd = -EBADF };
        pid_t leader;
        int r;

        rootfs = path_is_absolute(c->root_path) ? strdup(c->root_path) : strjoin3(bundle, "/", c->root_path);
        if (!rootfs)
                return oci_error(ENOMEM, "out of memory");
        /* What the hooks are told, before there is a leader. */
        st.id = strdup(a->id);
        st.bundle = strdup(bundle);
        st.rootfs = strdup(rootfs);
        st.created = now_rfc3339();
        st.annotations = c->annotations ? strdup(c->annotations) : NULL;
        if (!st.id || !st.bundle || !st.rootfs || !st.created || (c->annotations && !st.annotations))
                return oci_error(ENOMEM, "out of memory");
        st.pid = 1;
        state_creating = state_text(&st, OCI_STATUS_CREATING);
        state_created = state_text(&st, OCI_STATUS_CREATED);
        if (!state_creating || !state_created)
                return oci_error(ENOMEM, "out of memory");
        payload.state_creating = state_creating;
        payload.state_created = state_created;
        r = settings_from_config(c, a->id, bundle, rootfs, &s, &error);
        if (r >= 0)
                r = setup_notify(&s, dir_fd, &error);
        if (r >= 0)
                r = settings_verify(&s, &error);
        if (r < 0)
                return oci_error(r, "%s/config.json: %s", bundle, error ?: strerror(-r));

        if (mkfifoat(dir_fd, OCI_EXEC_FIFO, 0600) < 0)
                return oci_error(errno, "container %s: cannot make its exec fifo: %s", a->id, strerror(errno));
        /* Written by the container's root, which may be another user (-U). */
        if (fchmodat(dir_fd, OCI_EXEC_FIFO, 0622, 0) < 0)
                return oci_error(errno, "container %s: cannot make its exec fifo: %s", a->id, strerror(errno));
        fifo_fd = openat(dir_fd, OCI_EXEC_FIFO, O_PATH | O_CLOEXEC);
        if (fifo_fd < 0)
                return oci_error(errno, "container %s: cannot open its exec fifo: %s", a->id, strerror(errno));
        payload.fifo_fd = fifo_fd;
        r = open_mount_namespace(c, &mntns_fd);
        if (r < 0)
                return oci_error(r, "container %s: cannot open the mount namespace it is to be in: %s", a->id, strerror(-r));
        payload.mntns_fd = mntns_fd;

        MachineHooks hooks = {
                .notice = on_notice,
                .userdata = &payload,
                .payload_before_pivot = c->hooks.n[OCI_HOOK_CREATE_CONTAINER] > 0 ? oci_payload_before_pivot : NULL,
                .payload_before_exec = oci_payload_before_exec,
                .payload_wait_start = oci_payload_wait_start,
                .payload_keep_fd = fifo_fd,
                .payload_pass_fds = a->pass_fds,
                .payload_keep_fd2 = mntns_fd,
                .namespaces_ready = on_namespaces_ready,
        };
        r = machine_prepare(&s, &hooks, &mi, &error);
        if (r >= 0)
                r = machine_create(mi, &leader, &master, &error);
        if (r < 0)
                return oci_error(r, "container %s: %s", a->id, error ?: strerror(-r));

        st.pid = leader;
        st.terminal = c->terminal;
        st.boot = s.start_mode == START_BOOT;
        if (s.cgroup_path) {
                r = machine_cgroup_paths(mi, &st.cgroup_paths);
                if (r < 0)
                        return oci_error(r, "container %s: %s", a->id, strerror(-r));
        }
        mi = machine_forget(TAKE_PTR(mi), &st.mount_points);
        if (r >= 0 && pid_starttime(leader, &st.pid_start) < 0)
                r = oci_error(ESRCH, "container %s: its init died while it was created", a->id);
        if (r >= 0 && console_fd >= 0) {
                /* The engine reads it as runc's: blocking. */
                (void) fd_nonblock(master, false);
                r = send_fd_with_data(console_fd, master, "/dev/ptmx", strlen("/dev/ptmx"));
                if (r < 0)
                        (void) oci_error(r, "console socket %s: cannot send the terminal: %s", a->console_socket, strerror(-r));
        }
        if (r >= 0) {
                r = oci_state_save(dir_fd, &st);
                if (r < 0)
                        (void) oci_error(r, "container %s: cannot save its state: %s", a->id, strerror(-r));
        }
        /* For start's poststart and delete's poststop. */
        if (r >= 0 && c->hooks.json) {
                r = write_file_at(dir_fd, OCI_HOOKS_FILE, c->hooks.json, 0600);
                if (r < 0)
                        (void) oci_error(r, "container %s: cannot save its hooks: %s", a->id, strerror(-r));
        }
        if (r >= 0 && a->pid_file) {
                r = write_pid_file(a->pid_file, leader);
                if (r < 0)
                        (void) oci_error(r, "--pid-file %s: %s", a->pid_file, strerror(-r));
        }
        if (r < 0) {
                undo_create(a->id, st.rootfs, st.mount_points, st.cgroup_paths);
                return r;
        }
        oci_debug("container %s created: pid %d", a->id, (int) leader);
        return 0;
}

int verb_create(int argc, char *argv[]) {
        _cleanup_(oci_config_done) OciConfig c = {};
        _cleanup_free_ char *bundle = NULL, *error = NULL;
        _cleanup_close_ int dir_fd = -EBADF, console_fd = -EBADF;
        CreateArgs a;
        int r;

        r = parse_create_args(argc, argv, &a);
        if (r < 0)
                return 1;
        bundle = realpath(a.bundle, NULL);
        if (!bundle) {
                (void) oci_error(errno, "bundle %s: %s", a.bundle, strerror(errno));
                return 1;
        }
        r = read_config(bundle, &c);
        if (r < 0)
                return 1;
        r = oci_hooks_check(&c.hooks, &error);
        if (r < 0) {
                (void) oci_error(r, "%s/config.json: %s", bundle, error);
                return 1;
        }
        if (c.terminal && !a.console_socket) {
                (void) oci_error(EINVAL, "cannot allocate tty if runc will detach without setting console socket");
                return 1;
        }
        if (!c.terminal && a.console_socket) {
                (void) oci_error(EINVAL, "cannot use console socket if runc will not detach or allocate tty");
                return 1;
        }
        if (a.console_socket && console_connect(a.console_socket, &console_fd) < 0)
                return 1;

        r = oci_state_dir_open(oci_globals.root, a.id, true, &dir_fd);
        if (r == -EEXIST) {
                (void) oci_error(r, "container with given ID already exists: %s", a.id);
                return 1;
        }
        if (r < 0) {
                (void) oci_error(r, "cannot make the state directory %s/%s: %s", oci_globals.root, a.id, strerror(-r));
                return 1;
        }
        r = oci_seccomp_save(dir_fd, &c.seccomp);
        if (r < 0)
                r = oci_error(r, "container %s: cannot save its linux.seccomp for exec: %s", a.id, strerror(-r));
        else
                r = create_machine(&a, bundle, &c, dir_fd, console_fd);
        if (r < 0) {
                (void) oci_state_dir_remove(oci_globals.root, a.id);
                return 1;
        }
        return 0;
}
