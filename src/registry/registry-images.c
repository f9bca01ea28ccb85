/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The image half of org.freedesktop.machine1: the pool (src/core/pool/) as
 * systemd-machined serves /var/lib/machines, so that the stock machinectl's
 * list-images, image-status, clone, rename, remove and read-only work
 * against boxd. The pool is boxd's $BOXCTL_POOL, else /var/lib/machines
 * (pool_default_dir()), the same rule as boxctl's.
 *
 * Reading is open to everyone, changing is root's (registry_check_root()),
 * as for machines. A clone copies a whole tree where the file system has no
 * snapshot or reflink, so it runs in a process of its own (a job of
 * machine-copy.c) and the reply waits for its end; the rest are quick. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "machine-copy.h"
#include "machine1-names.h"
#include "pool.h"
#include "pool-copy.h"
#include "registry-bus.h"
#include "registry-images.h"
#include "tree.h"
#include "util.h"

static int image_path(const char *name, char **ret) {
        return sd_bus_path_encode(MACHINE1_IMAGE_PREFIX, name, ret);
}

/* The error a pool function's R means for image NAME, in machined's words
 * where it has them. */
static int image_error(sd_bus_error *error, int r, const char *name, const char *verb) {
        switch (r) {
        case -EINVAL:
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "Invalid image name '%s' (letters, digits, '-' and '.', at most 64).", name);
        case -ENOENT:
                return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_IMAGE, "No image '%s' known", name);
        case -EEXIST:
                return sd_bus_error_setf(error, SD_BUS_ERROR_FILE_EXISTS,
                                         "The pool %s holds an image '%s' already.", pool_default_dir(), name);
        case -EBUSY:
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "Image '%s' is busy: a machine runs from it.", name);
        case -EROFS:
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "Image '%s' is read-only.", name);
        default:
                return sd_bus_error_set_errnof(error, r, "Cannot %s image '%s': %m", verb, name);
        }
}

/* ---- the manager's calls ---- */

int registry_method_list_images(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        PoolImage **images = NULL;
        size_t n = 0;
        int r;

        r = pool_list(NULL, false, true, &images, &n);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot list the pool %s: %m", pool_default_dir());
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssbttto)");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_free_ char *path = NULL;
                const PoolImage *im = images[i];

                r = image_path(im->name, &path);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "(ssbttto)", im->name, pool_image_type_to_string(im->type),
                                                  im->read_only, im->crtime, im->mtime, im->usage, path);
        }
        pool_image_array_free(images, n);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

int registry_method_get_image(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(pool_image_freep) PoolImage *im = NULL;
        _cleanup_free_ char *path = NULL;
        const char *name;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        r = pool_image_find(NULL, name, false, &im);
        if (r < 0)
                return image_error(error, r, name, "find");
        r = image_path(im->name, &path);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, "o", path);
}

static int do_remove(sd_bus_message *msg, const char *name, sd_bus_error *error) {
        int r = registry_check_root(msg, error);

        if (r != 0)
                return r;
        r = pool_image_remove(NULL, name);
        if (r < 0)
                return image_error(error, r, name, "remove");
        return sd_bus_reply_method_return(msg, NULL);
}

static int do_rename(sd_bus_message *msg, const char *name, const char *new_name, sd_bus_error *error) {
        int r = registry_check_root(msg, error);

        if (r != 0)
                return r;
        if (!pool_image_name_is_valid(new_name))
                return image_error(error, -EINVAL, new_name, "rename");
        r = pool_image_rename(NULL, name, new_name);
        if (r == -EEXIST)
                return image_error(error, r, new_name, "rename");
        if (r < 0)
                return image_error(error, r, name, "rename");
        return sd_bus_reply_method_return(msg, NULL);
}

static int do_mark_read_only(sd_bus_message *msg, const char *name, int read_only, sd_bus_error *error) {
        int r = registry_check_root(msg, error);

        if (r != 0)
                return r;
        r = pool_image_set_read_only(NULL, name, read_only);
        if (r == -ENOTTY || r == -EOPNOTSUPP)
                return sd_bus_error_setf(error, SD_BUS_ERROR_NOT_SUPPORTED,
                                         "Image '%s': its file system cannot mark a directory read-only.", name);
        if (r < 0)
                return image_error(error, r, name, "mark read-only");
        return sd_bus_reply_method_return(msg, NULL);
}

/* A clone in a job's process: its arguments, copied for the child. */
typedef struct CloneJob {
        char *name, *new_name;
        bool read_only;
} CloneJob;


static int clone_run(const void *userdata, char **ret_error) {
        const CloneJob *j = userdata;
        int r;

        r = pool_image_clone(NULL, j->name, j->new_name, NULL, NULL);
        if (r == -EEXIST)
                return error_set(ret_error, r, "The pool %s holds an image '%s' already.", pool_default_dir(),
                                 j->new_name);
        if (r == -ENOENT)
                return error_set(ret_error, r, "No image '%s' known", j->name);
        if (r == -EBUSY)
                return error_set(ret_error, r, "Image '%s' is busy: a machine runs from it read-write.", j->name);
        if (r < 0)
                return error_set(ret_error, r, "Cannot clone image '%s' as '%s': %s", j->name, j->new_name,
                                 strerror(-r));
        if (j->read_only) {
                r = pool_image_set_read_only(NULL, j->new_name, true);
                if (r < 0)
                        return error_set(ret_error, r, "Cloned '%s' as '%s', but cannot mark it read-only: %s",
                                         j->name, j->new_name, strerror(-r));
        }
        return 0;
}

static int do_clone(sd_bus_message *msg, Registry *reg, const char *name, const char *new_name, int read_only,
                    sd_bus_error *error) {
        _cleanup_(pool_image_freep) PoolImage *im = NULL;
        CloneJob job = { .name = (char *) name, .new_name = (char *) new_name, .read_only = read_only };
        pid_t pid;
        int fd, r;

        r = registry_check_root(msg, error);
        if (r != 0)
                return r;
        if (!pool_image_name_is_valid(new_name))
                return image_error(error, -EINVAL, new_name, "clone");
        /* The quick refusals here, with the same words as the job's. */
        r = pool_image_find(NULL, name, false, &im);
        if (r < 0)
                return image_error(error, r, name, "clone");
        r = machine_job_start(clone_run, &job, &pid, &fd);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot start cloning image '%s': %m", name);
        r = registry_reply_at_job_end(reg, msg, pid, fd, BUS_ERROR_NO_SUCH_IMAGE);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot watch the clone of image '%s': %m", name);
        return 1;
}

/* What a directory image says of itself: its os-release, hostname, machine
 * id. A disk image would have to be dissected and mounted; boxd does not. */
static int open_tree_image(const char *name, int *ret_fd, sd_bus_error *error) {
        _cleanup_(pool_image_freep) PoolImage *im = NULL;
        int fd, r;

        r = pool_image_find(NULL, name, false, &im);
        if (r < 0)
                return image_error(error, r, name, "open");
        if (im->type != POOL_IMAGE_DIRECTORY && im->type != POOL_IMAGE_SUBVOLUME)
                return sd_bus_error_setf(error, SD_BUS_ERROR_NOT_SUPPORTED,
                                         "Image '%s' is a disk image: boxd reads only directory images.", name);
        fd = open(im->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return sd_bus_error_set_errnof(error, errno, "Cannot open image '%s': %m", name);
        *ret_fd = fd;
        return 0;
}

static int do_os_release(sd_bus_message *msg, const char *name, sd_bus_error *error) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *what = NULL;
        int r;

        r = open_tree_image(name, &fd, error);
        if (r < 0 || sd_bus_error_is_set(error))
                return r;
        what = strjoin3("Image ", name, "");
        if (!what)
                return -ENOMEM;
        return registry_reply_os_release(msg, fd, what, error);
}

/* The first line of FILE in the image, resolved inside it. */
static int read_image_line(const char *name, const char *file, char **ret, sd_bus_error *error) {
        _cleanup_close_ int fd = -EBADF, ffd = -EBADF;
        _cleanup_free_ char *text = NULL;
        ssize_t n;
        int r;

        r = open_tree_image(name, &fd, error);
        if (r < 0 || sd_bus_error_is_set(error))
                return r < 0 ? r : -EIO;
        r = tree_resolve(fd, file, O_RDONLY, &ffd);
        if (r >= 0) {
                text = calloc(1, 4097);
                if (!text)
                        return -ENOMEM;
                n = read(ffd, text, 4096);
                r = n < 0 ? -errno : 0;
        }
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Image '%s' has no %s: %m", name, file);
        text[strcspn(text, "\n")] = '\0';
        *ret = TAKE_PTR(text);
        return 0;
}

static int do_hostname(sd_bus_message *msg, const char *name, sd_bus_error *error) {
        _cleanup_free_ char *h = NULL;
        int r = read_image_line(name, "/etc/hostname", &h, error);

        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, "s", h);
}

static int do_machine_id(sd_bus_message *msg, const char *name, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *s = NULL;
        uint8_t id[16];
        int r = read_image_line(name, "/etc/machine-id", &s, error);

        if (r < 0)
                return r;
        if (strlen(s) != 32)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "Image '%s' has no valid machine id.", name);
        for (size_t i = 0; i < 16; i++) {
                unsigned v;

                if (sscanf(s + 2 * i, "%2x", &v) != 1)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "Image '%s' has no valid machine id.",
                                                 name);
                id[i] = (uint8_t) v;
        }
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_append_array(reply, 'y', id, sizeof id);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

#define READ_NAME(msg, name)                                     \
        do {                                                     \
                int _r = sd_bus_message_read(msg, "s", &(name)); \
                if (_r < 0)                                      \
                        return _r;                               \
        } while (0)

int registry_method_remove_image(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        const char *name;

        READ_NAME(msg, name);
        return do_remove(msg, name, error);
}

int registry_method_rename_image(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        const char *name, *new_name;
        int r = sd_bus_message_read(msg, "ss", &name, &new_name);

        if (r < 0)
                return r;
        return do_rename(msg, name, new_name, error);
}

int registry_method_clone_image(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        const char *name, *new_name;
        int read_only, r;

        r = sd_bus_message_read(msg, "ssb", &name, &new_name, &read_only);
        if (r < 0)
                return r;
        return do_clone(msg, userdata, name, new_name, read_only, error);
}

int registry_method_mark_image_read_only(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        const char *name;
        int read_only, r;

        r = sd_bus_message_read(msg, "sb", &name, &read_only);
        if (r < 0)
                return r;
        return do_mark_read_only(msg, name, read_only, error);
}

int registry_method_get_image_os_release(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        const char *name;

        READ_NAME(msg, name);
        return do_os_release(msg, name, error);
}

int registry_method_get_image_hostname(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        const char *name;

        READ_NAME(msg, name);
        return do_hostname(msg, name, error);
}

int registry_method_get_image_machine_id(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        const char *name;

        READ_NAME(msg, name);
        return do_machine_id(msg, name, error);
}

/* ---- the image objects: /org/freedesktop/machine1/image/NAME ---- */

/* The image an object path names, looked up afresh on each call: the pool
 * changes under boxd (boxctl works on it directly). */
static int image_name_of(const char *path, char **ret) {
        _cleanup_free_ char *name = NULL;
        int r = sd_bus_path_decode(path, MACHINE1_IMAGE_PREFIX, &name);

        if (r <= 0)
                return r < 0 ? r : -ENOENT;
        *ret = TAKE_PTR(name);
        return 0;
}

static int image_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                             sd_bus_error *error) {
        _cleanup_(pool_image_freep) PoolImage *im = NULL;
        _cleanup_free_ char *name = NULL;

        if (image_name_of(path, &name) < 0 || !pool_image_name_is_valid(name))
                return 0;
        if (pool_image_find(NULL, name, false, &im) < 0)
                return 0;
        *found = userdata;
        return 1;
}

static int image_enumerate(sd_bus *bus, const char *path, void *userdata, char ***ret, sd_bus_error *error) {
        _cleanup_strv_free_ char **l = NULL;
        PoolImage **images = NULL;
        size_t n = 0;
        int r;

        r = pool_list(NULL, false, false, &images, &n);
        if (r < 0)
                return r;
        l = calloc(n + 1, sizeof *l);
        r = l ? 0 : -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = image_path(images[i]->name, &l[i]);
        pool_image_array_free(images, n);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}

static int image_property(sd_bus *bus, const char *path, const char *interface, const char *property,
                          sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        _cleanup_(pool_image_freep) PoolImage *im = NULL;
        _cleanup_free_ char *name = NULL;
        bool usage = streq(property, "Usage") || streq(property, "UsageExclusive");
        int r;

        r = image_name_of(path, &name);
        if (r >= 0)
                r = pool_image_find(NULL, name, usage, &im);
        if (r < 0)
                return image_error(error, r, name ?: path, "read");
        if (streq(property, "Name"))
                return sd_bus_message_append(reply, "s", im->name);
        if (streq(property, "Path"))
                return sd_bus_message_append(reply, "s", im->path);
        if (streq(property, "Type"))
                return sd_bus_message_append(reply, "s", pool_image_type_to_string(im->type));
        if (streq(property, "ReadOnly"))
                return sd_bus_message_append(reply, "b", im->read_only);
        if (streq(property, "CreationTimestamp"))
                return sd_bus_message_append(reply, "t", im->crtime);
        if (streq(property, "ModificationTimestamp"))
                return sd_bus_message_append(reply, "t", im->mtime);
        if (usage)
                return sd_bus_message_append(reply, "t", im->usage);
        /* Limit, LimitExclusive: boxd sets no quota. */
        return sd_bus_message_append(reply, "t", UINT64_MAX);
}

/* The object methods: the manager's, with the name from the path. */
#define OBJECT_NAME(msg, name)                                                      \
        do {                                                                        \
                int _r = image_name_of(sd_bus_message_get_path(msg), &(name));      \
                if (_r < 0)                                                         \
                        return _r;                                                  \
        } while (0)

static int imethod_remove(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *name = NULL;

        OBJECT_NAME(msg, name);
        return do_remove(msg, name, error);
}

static int imethod_rename(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *name = NULL;
        const char *new_name;
        int r;

        OBJECT_NAME(msg, name);
        r = sd_bus_message_read(msg, "s", &new_name);
        if (r < 0)
                return r;
        return do_rename(msg, name, new_name, error);
}

static int imethod_clone(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *name = NULL;
        const char *new_name;
        int read_only, r;

        OBJECT_NAME(msg, name);
        r = sd_bus_message_read(msg, "sb", &new_name, &read_only);
        if (r < 0)
                return r;
        return do_clone(msg, userdata, name, new_name, read_only, error);
}

static int imethod_mark_read_only(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *name = NULL;
        int read_only, r;

        OBJECT_NAME(msg, name);
        r = sd_bus_message_read(msg, "b", &read_only);
        if (r < 0)
                return r;
        return do_mark_read_only(msg, name, read_only, error);
}

static int imethod_get_os_release(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *name = NULL;

        OBJECT_NAME(msg, name);
        return do_os_release(msg, name, error);
}

static int imethod_get_hostname(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *name = NULL;

        OBJECT_NAME(msg, name);
        return do_hostname(msg, name, error);
}

static int imethod_get_machine_id(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *name = NULL;

        OBJECT_NAME(msg, name);
        return do_machine_id(msg, name, error);
}

static const sd_bus_vtable image_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", image_property, 0, 0),
        SD_BUS_PROPERTY("Path", "s", image_property, 0, 0),
        SD_BUS_PROPERTY("Type", "s", image_property, 0, 0),
        SD_BUS_PROPERTY("ReadOnly", "b", image_property, 0, 0),
        SD_BUS_PROPERTY("CreationTimestamp", "t", image_property, 0, 0),
        SD_BUS_PROPERTY("ModificationTimestamp", "t", image_property, 0, 0),
        SD_BUS_PROPERTY("Usage", "t", image_property, 0, 0),
        SD_BUS_PROPERTY("Limit", "t", image_property, 0, 0),
        SD_BUS_PROPERTY("UsageExclusive", "t", image_property, 0, 0),
        SD_BUS_PROPERTY("LimitExclusive", "t", image_property, 0, 0),
        SD_BUS_METHOD("Remove", NULL, NULL, imethod_remove, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Rename", SD_BUS_ARGS("s", new_name), SD_BUS_NO_RESULT, imethod_rename,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Clone", SD_BUS_ARGS("s", new_name, "b", read_only), SD_BUS_NO_RESULT, imethod_clone,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("MarkReadOnly", SD_BUS_ARGS("b", read_only), SD_BUS_NO_RESULT, imethod_mark_read_only,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetHostname", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", hostname), imethod_get_hostname,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetMachineID", SD_BUS_NO_ARGS, SD_BUS_RESULT("ay", id), imethod_get_machine_id,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetOSRelease", SD_BUS_NO_ARGS, SD_BUS_RESULT("a{ss}", fields), imethod_get_os_release,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

int registry_images_register(sd_bus *bus, Registry *r) {
        int q;

        q = sd_bus_add_fallback_vtable(bus, NULL, MACHINE1_IMAGE_PREFIX, MACHINE1_IMAGE, image_vtable,
                                       image_object_find, r);
        if (q < 0)
                return q;
        return sd_bus_add_node_enumerator(bus, NULL, MACHINE1_IMAGE_PREFIX, image_enumerate, r);
}
