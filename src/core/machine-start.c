/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "cgroup-v1.h"
#include "device-filter.h"
#include "host-limits.h"
#include "image.h"
#include "lock.h"
#include "log.h"
#include "machine-register.h"
#include "machine-start.h"
#include "mount-points.h"
#include "mount-util.h"
#include "ownership.h"
#include "stale.h"
#include "tree.h"
#include "userns.h"

/* Mount points the machine makes itself; a --bind or --tmpfs may not replace them. */
static const char *const reserved_destinations[] = {
        "/", "/proc", "/sys", "/dev", "/run", "/run/host", "/sys/fs/cgroup", "/dev/pts", "/dev/console",
};

/* ---- root backends ----
 *
 * What a machine's root is made of: a directory tree, or a disk image made
 * ready (locked, dissected, its partitions mounted detached). Each backend
 * opens its root, says where the machine attaches it, and closes it. */

typedef struct RootState {
        Image *image;
        char *staging; /* an image's root is attached here in the machine's namespace */
        int root_fd;   /* an image's assembled detached tree, or -EBADF */
} RootState;

typedef struct MachineInstance MachineInstance;

typedef struct RootBackend {
        const char *name;
        /* Opens the root (mi->root) and may take its lock (mi->lock);
         * names the machine when the settings do not. */
        int (*open)(MachineInstance *mi, char **ret_error);
        /* Whether the machine's mount points go into the root itself (a
         * directory's), or the machine makes its own (an image's, which is
         * left as it is). */
        bool writes_mount_points;
        /* Whether the tree's files can be chowned for a user namespace. */
        bool can_chown;
} RootBackend;

struct MachineInstance {
        Settings *settings;
        MachineHooks hooks;
        const RootBackend *backend;
        RootState root;
        Tree tree;
        TreeLock lock;
        UidRange range;
        Cgroup *cgroup;
        CgroupV1 *cgroup_v1;
        MountPoints mount_points;
        char *host_os_release;
        Machine machine;
        MachineRegistration registration;
};

static _printf_(3, 4) void notice(const MachineInstance *mi, MachineNotice kind, const char *fmt, ...) {
        _cleanup_free_ char *text = NULL;
        va_list ap;
        int r;

        if (!mi->hooks.notice)
                return;
        va_start(ap, fmt);
        r = vasprintf(&text, fmt, ap);
        va_end(ap);
        if (r >= 0)
                mi->hooks.notice(kind, text, mi->hooks.userdata);
}

static char *machine_name_from_image(const char *path) {
        static const char *const suffixes[] = { ".raw", ".img", ".image", ".squashfs", ".sqfs", ".erofs", ".ext4", ".btrfs", ".xfs" };
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
                size_t n = strlen(p), k = strlen(suffixes[i]);

                if (n > k && streq(p + n - k, suffixes[i])) {
                        p[n - k] = '\0';
                        break;
                }
        }
        return machine_name_from_path(p);
}

char *machine_name_default(const char *root) {
        struct stat st;

        if (stat(root, &st) >= 0 && (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)))
                return machine_name_from_image(root);
        return machine_name_from_path(root);
}

static int directory_open(MachineInstance *mi, char **ret_error) {
        /* The lock needs the tree's identity: taken in machine_prepare() once
         * the tree is open. */
        return 0;
}

/* Mounts the image's other partitions into its root, all still detached,
 * so that the tree can be looked at, and cloned per boot, as one. Partitions
 * with nowhere to go are left out, with a warning. */
static int image_assemble(const MachineInstance *mi, Image *img, char **ret_error) {
        const Settings *s = mi->settings;
        bool have_xbootldr = false;
        int r;

        for (size_t i = 0; i < img->n_mounts; i++)
                if (img->mounts[i].designator == PARTITION_XBOOTLDR)
                        have_xbootldr = true;
        for (size_t i = 0; i < img->n_mounts; i++) {
                ImageMount *im = &img->mounts[i];
                const char *where = im->where;

                if (!where && image_boot_mount_point(img->root_fd, im->designator, have_xbootldr, &where) < 0) {
                        notice(mi, MACHINE_NOTICE_WARNING, "%s: no empty /efi or /boot in its root: its %s partition is not mounted",
                               s->root, partition_designator_to_string(im->designator));
                        continue;
                }
                r = mount_attach(im->fd, img->root_fd, where);
                if (r == -ENOENT) {
                        notice(mi, MACHINE_NOTICE_WARNING, "%s: its root has no %s: that partition is not mounted", s->root, where);
                        continue;
                }
                if (r < 0)
                        return error_set(ret_error, r, "%s: cannot mount its %s partition on %s: %s", s->root,
                                         partition_designator_to_string(im->designator), where, strerror(-r));
        }
        return 0;
}

static int image_root_open(MachineInstance *mi, char **ret_error) {
        Settings *s = mi->settings;
        RootState *st = &mi->root;
        _cleanup_free_ char *holder = NULL, *error = NULL;
        int r;

        if (!s->machine_name) {
                s->machine_name = machine_name_from_image(s->root);
                if (!s->machine_name)
                        return error_set(ret_error, -EINVAL, "%s: cannot make a machine name from the image's name; give one with --machine=NAME", s->root);
        }
        if (s->ownership == OWNERSHIP_CHOWN)
                return error_set(ret_error, -EINVAL, "%s: an image's files are not chowned; use --private-users-ownership=idmap", s->root);
        r = image_lock(s->root, !s->read_only && !s->ephemeral, s->machine_name, &mi->lock, &holder);
        if (r == -EBUSY)
                return error_set(ret_error, r, "%s: busy: in use by %s", s->root,
                                 holder ?: "other machines (read-only); add --read-only to share it");
        if (r < 0)
                return error_set(ret_error, r, "%s: cannot lock the image: %s", s->root, strerror(-r));
        /* Ephemeral: the image is only read; writes go to the overlay. */
        r = image_open(s->root, s->read_only || s->ephemeral, &st->image, &error);
        if (r < 0)
                return error_set(ret_error, r, "%s", error ?: "cannot open the image");
        image_release_loops(st->image);
        r = image_assemble(mi, st->image, ret_error);
        if (r < 0)
                return r;
        st->root_fd = st->image->root_fd;
        r = runtime_dir_make("root", &st->staging);
        if (r < 0)
                return error_set(ret_error, r, "cannot make the staging directory for the image's root: %s", strerror(-r));
        return 0;
}

static const RootBackend root_directory = {
        .name = "directory",
        .open = directory_open,
        .writes_mount_points = true,
        .can_chown = true,
};

static const RootBackend root_image = {
        .name = "image",
        .open = image_root_open,
        .writes_mount_points = false,
        .can_chown = false,
};

static void root_state_done(RootState *st) {
        st->image = image_free(st->image);
        st->root_fd = -EBADF; /* the image's */
        free(st->staging);
        st->staging = NULL;
}

/* ---- checks of the settings ---- */

int settings_verify(const Settings *s, char **ret_error) {
        if (s->start_mode == START_RUN && strv_length(s->argv) == 0)
                return error_set(ret_error, -EINVAL, "no command given; usage: boxctl run PATH [OPTIONS...] -- COMMAND [ARGS...]");
        if (s->start_mode == START_BOOT && s->userns_mode == USERNS_FIXED && s->uid_size != UID_RANGE_SIZE)
                return error_set(ret_error, -EINVAL, "invalid --private-users: a booted OS needs all 65536 UIDs, not %u", s->uid_size);

        for (size_t i = 0; i < s->n_binds; i++) {
                BindMount *b = &s->binds[i];
                struct stat st;

                if (stat(b->source, &st) < 0)
                        return error_set(ret_error, -errno, "--bind source %s: %s", b->source, strerror(errno));
                if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
                        return error_set(ret_error, -EINVAL, "--bind source %s: only directories and regular files can be bound", b->source);
                for (size_t j = 0; j < ELEMENTSOF(reserved_destinations); j++)
                        if (streq(b->destination, reserved_destinations[j]))
                                return error_set(ret_error, -EINVAL, "--bind destination %s: reserved for the machine's own mounts", b->destination);
                for (size_t j = 0; j < i; j++)
                        if (streq(s->binds[j].destination, b->destination))
                                return error_set(ret_error, -EINVAL, "conflicting options: two --bind mounts on %s", b->destination);
                if (strv_contains(s->tmpfs, b->destination))
                        return error_set(ret_error, -EINVAL, "conflicting options: --bind and --tmpfs both on %s", b->destination);
                if (b->idmap == 1 && s->userns_mode == USERNS_NO)
                        return error_set(ret_error, -EINVAL, "--bind %s:%s:idmap: idmapping needs a user namespace (-U)", b->source, b->destination);
        }
        for (char **t = s->tmpfs; t && *t; t++) {
                for (size_t j = 0; j < ELEMENTSOF(reserved_destinations); j++)
                        if (streq(*t, reserved_destinations[j]))
                                return error_set(ret_error, -EINVAL, "--tmpfs destination %s: reserved for the machine's own mounts", *t);
                for (char **u = s->tmpfs; u < t; u++)
                        if (streq(*u, *t))
                                return error_set(ret_error, -EINVAL, "conflicting options: two --tmpfs on %s", *t);
        }
        return 0;
}

/* ---- the steps of machine_prepare() ---- */

static int tree_open_for(MachineInstance *mi, char **ret_error) {
        const Settings *s = mi->settings;
        TreeOpenFlags flags = (s->start_mode == START_BOOT ? TREE_WANT_INIT : 0) | (s->any_rootfs ? TREE_ANY_ROOTFS : 0);
        int r;

        if (mi->root.root_fd >= 0) {
                int fd = fcntl(mi->root.root_fd, F_DUPFD_CLOEXEC, 3);

                r = fd < 0 ? -errno : tree_open_fd(fd, flags, &mi->tree);
        } else
                r = tree_open(s->root, flags, &mi->tree);

        switch (r) {
        case 0:
                return 0;
        case -ENOTDIR:
                return error_set(ret_error, r, "%s: neither a directory nor a disk image", s->root);
        case -EBADE:
                return error_set(ret_error, r, "%s: no os-release found (looked for /etc/os-release, /usr/lib/os-release); is this an OS tree?", s->root);
        case -ENOEXEC:
                return error_set(ret_error, r, "%s: no init found (looked for %s, %s, %s)", s->root,
                                 tree_init_candidates[0], tree_init_candidates[1], tree_init_candidates[2]);
        case -ELOOP:
                return error_set(ret_error, r, "%s: refusing to boot the host's own root directory", s->root);
        default:
                return error_set(ret_error, r, "%s: %s", s->root, strerror(-r));
        }
}

static int decide_machine_id(MachineInstance *mi, char **ret_error) {
        const Settings *s = mi->settings;
        const Tree *t = &mi->tree;
        Machine *m = &mi->machine;
        _cleanup_free_ char *host = NULL;
        Id128 host_id = {};

        if (read_file_at(AT_FDCWD, "/etc/machine-id", 4096, &host) >= 0) {
                host[strcspn(host, "\n")] = '\0';
                (void) id128_from_string(host, &host_id);
        }

        if (!id128_is_null(&s->machine_id)) {
                m->id = s->machine_id;
                /* Shown over the tree's own, which stays as it is on disk. */
                m->bind_machine_id = !id128_is_null(&t->machine_id) &&
                                     memcmp(&t->machine_id, &s->machine_id, sizeof(Id128)) != 0;
        } else if (!id128_is_null(&t->machine_id))
                m->id = t->machine_id;
        else {
                /* An empty /etc/machine-id: systemd takes container_uuid from PID 1's
                 * environment (CONTAINER_INTERFACE.md), so the id we report is the one it uses. */
                int r = id128_randomize(&m->id);
                if (r < 0)
                        return error_set(ret_error, r, "cannot make a machine id: %s", strerror(-r));
        }
        if (!id128_is_null(&host_id) && memcmp(&host_id, &m->id, sizeof(Id128)) == 0)
                return error_set(ret_error, -EINVAL, "%s: its machine id is the host's own; give it another with --machine-id=ID", s->root);
        return 0;
}

/* The root: its backend opened, looked at as a tree; the machine's name and
 * id; the tree's lock. */
static int prepare_root(MachineInstance *mi, char **ret_error) {
        Settings *s = mi->settings;
        _cleanup_free_ char *holder = NULL;
        struct stat st;
        int r;

        if (stat(s->root, &st) < 0)
                return error_set(ret_error, -errno, "%s: %s", s->root, strerror(errno));
        if (s->image && S_ISDIR(st.st_mode))
                return error_set(ret_error, -EISDIR, "%s: --image given, but it is a directory; boot it without --image", s->root);
        mi->backend = S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) ? &root_image : &root_directory;
        r = mi->backend->open(mi, ret_error);
        if (r < 0)
                return r;
        mi->machine.image_root_fd = mi->root.root_fd;
        if (mi->root.staging)
                mi->machine.attach_path = mi->root.staging;

        r = tree_open_for(mi, ret_error);
        if (r < 0)
                return r;
        if (!s->machine_name) {
                s->machine_name = machine_name_from_path(s->root);
                if (!s->machine_name)
                        return error_set(ret_error, -EINVAL, "%s: cannot make a machine name from the directory's name; give one with --machine=NAME", s->root);
        }
        mi->machine.tree = &mi->tree;
        mi->machine.init_kind = s->start_mode == START_RUN ? INIT_STUB : mi->tree.init_kind;

        r = decide_machine_id(mi, ret_error);
        if (r < 0)
                return r;

        if (mi->backend != &root_directory)
                return 0; /* the image's lock is taken */
        /* Read-only and ephemeral machines do not write to the tree: they share it. */
        r = tree_lock_acquire(mi->tree.dev, mi->tree.ino, !s->read_only && !s->ephemeral, s->machine_name, &mi->lock, &holder);
        if (r == -EBUSY) {
                if (holder)
                        return error_set(ret_error, r, "%s: busy: in use by %s", s->root, holder);
                return error_set(ret_error, r, "%s: busy: in use read-only by other machines; add --read-only to share it", s->root);
        }
        if (r < 0)
                return error_set(ret_error, r, "%s: cannot lock the tree: %s", s->root, strerror(-r));
        return 0;
}

/* How the tree's files get their owners inside a user namespace: the one
 * place that decides it. Idmapped when the file system can and no chown
 * shift is half done; else chowned (the shift is idempotent and resumable),
 * or left alone. */
static int decide_ownership(MachineInstance *mi, char **ret_error) {
        const Settings *s = mi->settings;
        OwnershipMode mode = s->ownership;
        uint32_t pending;
        uint64_t changed = 0;
        int r;

        mi->machine.idmap_root = false;
        /* An image's file system is idmapped when the mount is made; a failure says so then. */
        if (!mi->backend->can_chown) {
                mi->machine.idmap_root = s->ownership != OWNERSHIP_OFF && s->userns_mode != USERNS_IDENTITY;
                return 0;
        }
        if (s->userns_mode == USERNS_IDENTITY && mode == OWNERSHIP_AUTO)
                mode = OWNERSHIP_OFF; /* UIDs map onto themselves */
        if (mode == OWNERSHIP_AUTO || mode == OWNERSHIP_IDMAP) {
                r = ownership_probe_idmap(s->root);
                if (r < 0)
                        return error_set(ret_error, r, "%s: cannot test whether its file system takes idmapped mounts: %s", s->root, strerror(-r));
                if (r > 0 && ownership_shift_pending(s->root, &pending) <= 0) {
                        mi->machine.idmap_root = true;
                        return 0;
                }
                if (mode == OWNERSHIP_IDMAP)
                        return error_set(ret_error, -EOPNOTSUPP, "%s: its file system cannot do idmapped mounts; use --private-users-ownership=chown", s->root);
                mode = OWNERSHIP_CHOWN;
        }
        if (mode != OWNERSHIP_CHOWN)
                return 0;

        bool resume = ownership_shift_pending(s->root, &pending) > 0;
        if (!resume && ownership_is_shifted(s->root, mi->range.base) > 0)
                return 0;

        /* Refuse a read-only tree before announcing a shift that cannot start. */
        struct statvfs sv;
        if (statvfs(s->root, &sv) >= 0 && (sv.f_flag & ST_RDONLY))
                r = -EROFS;
        else {
                if (resume)
                        notice(mi, MACHINE_NOTICE_WARNING, "%s: an earlier shift of its file owners (to %u) was interrupted; finishing it, to %u",
                               s->root, pending, mi->range.base);
                else
                        notice(mi, MACHINE_NOTICE_PROGRESS, "Shifting the owners of the files in %s to %u..%u (chown).", s->root,
                               mi->range.base, mi->range.base + UID_RANGE_SIZE - 1);
                r = ownership_shift(s->root, mi->range.base, mi->hooks.shift_progress, mi->hooks.userdata, &changed);
        }
        if (r == -EROFS && s->ownership == OWNERSHIP_CHOWN)
                return error_set(ret_error, r, "%s: cannot chown its files: read-only file system; try --private-users-ownership=idmap", s->root);
        if (r == -EROFS)
                return error_set(ret_error, r, "%s: its file system can neither take idmapped mounts nor be chowned (read-only)", s->root);
        if (r < 0)
                return error_set(ret_error, r, "%s: shifting its file owners failed: %s; the next start will finish it", s->root, strerror(-r));
        log_debug("Shifted the owners of %" PRIu64 " files.", changed);
        return 0;
}

/* -U: a UID range for the machine's life, and how its files get their owners. */
static int prepare_userns(MachineInstance *mi, char **ret_error) {
        const Settings *s = mi->settings;
        int r;

        if (s->userns_mode == USERNS_NO)
                return 0;
        r = uid_range_acquire(s->userns_mode, s->machine_name, s->uid_base, s->uid_size, &mi->range);
        if (r == -EBUSY)
                return error_set(ret_error, r, "UID range %u..%u: busy: another machine uses it; pick another base or use -U",
                                 s->uid_base, s->uid_base + s->uid_size - 1);
        if (r == -EADDRNOTAVAIL)
                return error_set(ret_error, r,
                                 "no free UID range for machine %s: the 256 ranges it may take are in use (locks in %s/uidranges); stop a machine that uses -U, or give this one a range with --private-users=BASE:SIZE",
                                 s->machine_name, runtime_dir());
        if (r < 0)
                return error_set(ret_error, r, "cannot reserve a UID range for machine %s: %s", s->machine_name, strerror(-r));
        mi->machine.uid_range = &mi->range;
        return decide_ownership(mi, ret_error);
}

/* The host-wide counters every machine draws on (host-limits.h): a systemd
 * guest that finds no inotify instance left fails in PID 1, obscurely, and
 * one that finds fewer than it needs runs with failed units. The first is
 * refused here with the limit's name and how to raise it, the second is
 * warned of. A probe, not a reservation: machines starting at the same
 * moment may all see the same free instances. */
static int prepare_host_limits(MachineInstance *mi, char **ret_error) {
        const Settings *s = mi->settings;
        _cleanup_free_ char *text = NULL;
        unsigned need = HOST_LIMITS_INOTIFY_PER_SYSTEMD, free_count = 0, limit = 0;
        int r;

        if (s->start_mode != START_BOOT || mi->tree.init_kind != INIT_SYSTEMD)
                return 0;
        r = host_limits_inotify_free(need, &free_count, &limit);
        if (r < 0) {
                log_debug_errno(r, "Cannot count the free inotify instances: %m");
                return 0;
        }
        if (free_count >= need)
                return 0;
        text = host_limits_inotify_message(s->machine_name, need, free_count, limit);
        if (!text)
                return -ENOMEM;
        if (free_count == 0)
                return error_set(ret_error, -EMFILE, "%s", text);
        notice(mi, MACHINE_NOTICE_WARNING, "%s; it may run with failed units", text);
        return 0;
}

/* The machine's cgroup, with its device policy. */
static int prepare_cgroup(MachineInstance *mi, char **ret_error) {
        const Settings *s = mi->settings;
        _cleanup_free_ char *why = NULL;
        int r;

        r = cgroup_machine_new_at(s->machine_name, s->cgroup_path, &mi->cgroup);
        if (r == -EBUSY && s->cgroup_path)
                return error_set(ret_error, r, "cgroup %s: busy: processes of another are in it", s->cgroup_path);
        if (r == -EBUSY)
                return error_set(ret_error, r, "machine %s: busy: a machine of that name is running", s->machine_name);
        if (r == -ENOMEDIUM)
                return error_set(ret_error, r, "this host has no cgroup2 hierarchy (looked at /sys/fs/cgroup and /sys/fs/cgroup/unified)");
        if (r < 0 && s->cgroup_path)
                return error_set(ret_error, r, "machine %s: cannot create its cgroup %s: %s", s->machine_name, s->cgroup_path, strerror(-r));
        if (r < 0)
                return error_set(ret_error, r, "machine %s: cannot create its cgroup: %s", s->machine_name, strerror(-r));
        mi->machine.cgroup = mi->cgroup;
        r = cgroup_v1_machine_new_at(s->machine_name, s->cgroup_path, &mi->cgroup_v1);
        if (r == -EBUSY && s->cgroup_path)
                return error_set(ret_error, r, "cgroup %s: busy in a cgroup v1 hierarchy: processes of another are in it", s->cgroup_path);
        if (r < 0)
                return error_set(ret_error, r, "machine %s: cannot make its cgroups in the host's cgroup v1 hierarchies: %s",
                                 s->machine_name, strerror(-r));
        mi->machine.cgroup_v1 = mi->cgroup_v1;
        r = cgroup_limits_apply(&s->limits, mi->cgroup, mi->cgroup_v1, &why);
        if (r < 0)
                return error_set(ret_error, r, "machine %s: %s", s->machine_name, why);
        r = device_filter_attach(mi->cgroup->fd, s->device_policy, &why);
        if (r < 0)
                return error_set(ret_error, r, "machine %s: cannot attach its device policy (a cgroup BPF program) to %s: %s%s%s",
                                 s->machine_name, mi->cgroup->path, strerror(-r), why ? "; " : "", strempty(why));
        /* An OCI container's rules, in the v1 devices hierarchy too where
         * the host has one: its devices.list is what runc's users (and
         * runtime-tools) read. boxctl's machines leave it allowing all: the
         * program above is their policy. */
        if (s->device_policy) {
                const char *v1_path;
                int v1_fd;

                if (cgroup_v1_controller_dir(mi->cgroup_v1, "devices", &v1_fd, &v1_path) >= 0) {
                        r = device_policy_write_v1(v1_fd, s->device_policy);
                        if (r < 0)
                                return error_set(ret_error, r, "machine %s: cannot write its device rules to its v1 devices cgroup %s: %s",
                                                 s->machine_name, v1_path, strerror(-r));
                }
        }
        return 0;
}

static char *read_host_os_release(void) {
        char *s = NULL;

        if (read_file_at(AT_FDCWD, "/etc/os-release", 64 * 1024, &s) < 0)
                (void) read_file_at(AT_FDCWD, "/usr/lib/os-release", 64 * 1024, &s);
        return s;
}

static int on_leader(Machine *m, pid_t leader, char **ret_error) {
        MachineInstance *mi = m->userdata;
        _cleanup_free_ char *warning = NULL;
        int r;

        /* A created machine outlives this process: machine_create() registers it. */
        if (!m->payload_wait_start) {
                r = machine_registration_add(&mi->registration, mi->settings, m, leader, &warning, ret_error);
                if (r < 0)
                        return r;
                if (warning)
                        notice(mi, MACHINE_NOTICE_WARNING, "%s", warning);
        }
        if (mi->hooks.namespaces_ready) {
                r = mi->hooks.namespaces_ready(leader, mi->hooks.userdata, ret_error);
                if (r < 0)
                        return r;
        }
        if (mi->hooks.started)
                mi->hooks.started(leader, mi->hooks.userdata);
        return 0;
}

static void on_end(Machine *m) {
        MachineInstance *mi = m->userdata;

        machine_registration_remove(&mi->registration, mi->settings->machine_name);
}

MachineInstance *machine_release(MachineInstance *mi) {
        if (!mi)
                return NULL;
        mount_points_cleanup(mi->tree.fd, &mi->mount_points);
        mi->cgroup = cgroup_machine_free(mi->cgroup);
        mi->cgroup_v1 = cgroup_v1_machine_free(mi->cgroup_v1); /* after the scope: empty by now */
        machine_registration_done(&mi->registration);
        uid_range_release(&mi->range);
        tree_lock_release(&mi->lock);
        tree_done(&mi->tree);
        root_state_done(&mi->root);
        free(mi->host_os_release);
        free(mi);
        return NULL;
}

int machine_prepare(Settings *s, const MachineHooks *hooks, MachineInstance **ret, char **ret_error) {
        _cleanup_(machine_releasep) MachineInstance *mi = NULL;
        _cleanup_free_ char *failed = NULL;
        int r;

        mi = calloc(1, sizeof *mi);
        if (!mi)
                return -ENOMEM;
        mi->settings = s;
        if (hooks)
                mi->hooks = *hooks;
        mi->root.root_fd = -EBADF;
        mi->tree = TREE_NULL;
        mi->lock = TREE_LOCK_NULL;
        mi->range = UID_RANGE_NULL;
        mi->registration = MACHINE_REGISTRATION_NULL;
        mi->machine = (Machine) {
                .settings = s,
                .on_leader = on_leader,
                .on_end = on_end,
                .userdata = mi,
                .image_root_fd = -EBADF,
                .attach_path = s->root,
                .payload_before_pivot = mi->hooks.payload_before_pivot,
                .payload_before_exec = mi->hooks.payload_before_exec,
                .payload_wait_start = mi->hooks.payload_wait_start,
                .payload_userdata = mi->hooks.userdata,
                .payload_keep_fd = mi->hooks.payload_wait_start ? mi->hooks.payload_keep_fd : -EBADF,
                .payload_pass_fds = mi->hooks.payload_pass_fds,
                .payload_keep_fd2 = mi->hooks.payload_wait_start ? mi->hooks.payload_keep_fd2 : -EBADF,
                .detached_master = -EBADF,
        };

        /* What SIGKILLed supervisors left (without boxd, nobody else removes it). */
        if (stale_sweep(NULL) < 0)
                log_debug("Could not sweep the leftovers of machines that ended.");
        r = prepare_root(mi, ret_error);
        if (r < 0)
                return r;
        r = prepare_host_limits(mi, ret_error);
        if (r < 0)
                return r;
        r = prepare_userns(mi, ret_error);
        if (r < 0)
                return r;
        r = prepare_cgroup(mi, ret_error);
        if (r < 0)
                return r;
        /* An ephemeral machine's mount points are made in its overlay, an
         * image's by the machine itself: neither touches the root. */
        if (mi->backend->writes_mount_points && !s->ephemeral) {
                r = mount_points_prepare(mi->tree.fd, s, &mi->mount_points, &failed);
                if (r < 0)
                        return error_set(ret_error, r, "%s: cannot create mount point %s in the tree: %s", s->root,
                                         strempty(failed), strerror(-r));
        }
        mi->host_os_release = read_host_os_release();
        mi->machine.host_os_release = mi->host_os_release;
        *ret = TAKE_PTR(mi);
        return 0;
}

int machine_boot(MachineInstance *mi, char **ret_error) {
        const Settings *s = mi->settings;
        Machine *m = &mi->machine;

        notice(mi, MACHINE_NOTICE_BOOTING, "Booting machine %s from %s (init: %s).", s->machine_name, s->root,
               mi->tree.init_path);
        for (;;) {
                MachineResult res = {};
                int r;

                if (s->console_mode == CONSOLE_INTERACTIVE && mi->hooks.console_begin)
                        mi->hooks.console_begin(mi->hooks.userdata);
                r = machine_run_once(m, &res, ret_error);
                if (s->console_mode == CONSOLE_INTERACTIVE && mi->hooks.console_end)
                        mi->hooks.console_end(mi->hooks.userdata);
                if (r < 0)
                        return r;

                switch (res.end) {
                case MACHINE_REBOOT:
                        if (s->no_reboot) {
                                notice(mi, MACHINE_NOTICE_ENDED, "Machine %s rebooted; not starting it again (--no-reboot).",
                                       s->machine_name);
                                return 0;
                        }
                        notice(mi, MACHINE_NOTICE_REBOOTING, "Machine %s is rebooting.", s->machine_name);
                        (void) cgroup_kill_and_wait(m->cgroup->path, 10 * 1000000ULL);
                        continue;
                case MACHINE_POWEROFF:
                        notice(mi, MACHINE_NOTICE_ENDED, "Machine %s powered off.", s->machine_name);
                        return 0;
                case MACHINE_EXITED:
                        notice(mi, MACHINE_NOTICE_ENDED, "Machine %s: init exited with status %d.", s->machine_name, res.status);
                        return res.status;
                case MACHINE_KILL_TIMEOUT:
                        notice(mi, MACHINE_NOTICE_ERROR, "machine %s did not power off within the kill timeout; killed it",
                               s->machine_name);
                        return res.status;
                case MACHINE_KILL_ESCAPE:
                        notice(mi, MACHINE_NOTICE_KILLED, "Machine %s killed (Ctrl-] pressed three times).", s->machine_name);
                        return res.status;
                case MACHINE_SIGNALED:
                default:
                        notice(mi, MACHINE_NOTICE_ENDED, "Machine %s: init was killed by signal %d.", s->machine_name,
                               res.status - 128);
                        return res.status;
                }
        }
}

/* The registry takes whoever registers for the machine's supervisor, and a
 * supervisor that is the leader's parent for one the machine cannot outlive
 * (boxd ends the machine when it goes: registry.c). A created machine's
 * creator returns at once and its leader passes to the engine's subreaper:
 * a child of ours registers it and goes, and the registry removes what is
 * left once the leader ends. Its answer comes back as errno plus text. */
static int register_created(MachineInstance *mi, pid_t leader, char **ret_error) {
        struct {
                int error;
                char text[512];
        } msg = {};
        _cleanup_close_pair_ int p[2] = { -EBADF, -EBADF };
        ssize_t n;
        pid_t pid;

        if (mi->settings->register_mode == REGISTER_NO)
                return 0;
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                _cleanup_free_ char *warning = NULL, *error = NULL;
                MachineRegistration reg = MACHINE_REGISTRATION_NULL;
                int r = machine_registration_add(&reg, mi->settings, &mi->machine, leader, &warning, &error);

                msg.error = r < 0 ? -r : 0;
                snprintf(msg.text, sizeof msg.text, "%s", strempty(r < 0 ? error : warning));
                _exit(write(p[1], &msg, sizeof msg) == sizeof msg ? EXIT_SUCCESS : EXIT_FAILURE);
        }
        p[1] = safe_close(p[1]);
        n = read(p[0], &msg, sizeof msg);
        (void) waitpid(pid, NULL, 0);
        if (n != (ssize_t) sizeof msg)
                return error_set(ret_error, -EIO, "machine %s: its registration ended without an answer", mi->settings->machine_name);
        if (msg.error != 0)
                return error_set(ret_error, -msg.error, "%s", msg.text);
        if (msg.text[0])
                notice(mi, MACHINE_NOTICE_WARNING, "%s", msg.text);
        return 0;
}

int machine_create(MachineInstance *mi, pid_t *ret_leader, int *ret_master, char **ret_error) {
        Machine *m = &mi->machine;
        MachineResult res = {};
        int r;

        if (!m->payload_wait_start)
                return -EINVAL;
        r = machine_run_once(m, &res, ret_error);
        if (r < 0)
                return r;
        r = register_created(mi, m->detached_leader, ret_error);
        if (r < 0) {
                m->detached_master = safe_close(m->detached_master);
                return r;
        }
        *ret_leader = m->detached_leader;
        *ret_master = TAKE_FD(m->detached_master);
        return 0;
}

int machine_cgroup_paths(const MachineInstance *mi, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *v2 = NULL;
        int r;

        r = cgroup_v1_machine_paths(mi->cgroup_v1, &l);
        if (r < 0)
                return r;
        v2 = strjoin3("0::", mi->cgroup->path + strlen(mi->cgroup->mount), "");
        if (!v2 || strv_push_dup(&l, v2) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

MachineInstance *machine_forget(MachineInstance *mi, char ***ret_mount_points) {
        if (!mi)
                return NULL;
        *ret_mount_points = TAKE_PTR(mi->mount_points.created);
        cgroup_machine_disown(mi->cgroup);
        mi->cgroup = cgroup_machine_free(mi->cgroup);
        mi->cgroup_v1 = cgroup_v1_machine_forget(mi->cgroup_v1);
        return machine_release(mi);
}
