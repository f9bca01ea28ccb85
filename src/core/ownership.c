/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <endian.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/xattr.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "log.h"
#include "mount-util.h"
#include "ownership.h"
#include "userns.h"
#include "util.h"

#define SHIFT_XATTR "trusted.boxctl.uidshift"

int ownership_shift_pending(const char *root, uint32_t *ret_base) {
        char buf[32];
        ssize_t n = lgetxattr(root, SHIFT_XATTR, buf, sizeof buf - 1);

        if (n < 0)
                return errno == ENODATA || errno == ENOTSUP ? 0 : -errno;
        buf[n] = '\0';
        *ret_base = (uint32_t) strtoul(buf, NULL, 10);
        return 1;
}

int ownership_is_shifted(const char *root, uint32_t base) {
        struct stat st;
        uint32_t pending;

        if (ownership_shift_pending(root, &pending) > 0)
                return 0;
        if (lstat(root, &st) < 0)
                return -errno;
        return st.st_uid == base && st.st_gid == base;
}

#define PROGRESS_EVERY 4096 /* files */

typedef struct Walk {
        uint32_t base;
        dev_t dev;
        OwnershipProgress progress;
        void *userdata;
        uint64_t seen, changed;
} Walk;

/* The on-disk format of system.posix_acl_*: a version, then entries. */
#define ACL_EA_VERSION 2
#define ACL_TAG_USER 0x02
#define ACL_TAG_GROUP 0x08

typedef struct AclEntry {
        uint16_t tag, perm;
        uint32_t id;
} __attribute__((packed)) AclEntry;

/* A path for the xattr calls, which have no *at() form. */
static void xattr_path(int dirfd, const char *name, char buf[static PATH_MAX]) {
        if (dirfd == AT_FDCWD)
                snprintf(buf, PATH_MAX, "%s", name);
        else
                snprintf(buf, PATH_MAX, "/proc/self/fd/%d/%s", dirfd, name);
}

static uint32_t shifted(uint32_t base, uint32_t id) {
        return base + id % UID_RANGE_SIZE;
}

/* POSIX ACLs name users and groups: shift them as the owners are. Idempotent,
 * like the owners' shift, so a resumed shift may do it again. */
static int shift_acl(const char *path, const char *xname, uint32_t base) {
        static uint8_t buf[64 * 1024];
        bool changed = false;
        ssize_t n;

        n = lgetxattr(path, xname, buf, sizeof buf);
        if (n < 0)
                return errno == ENODATA || errno == EOPNOTSUPP ? 0 : -errno;
        if (n < 4 || (n - 4) % (ssize_t) sizeof(AclEntry) != 0 || le32toh(*(uint32_t *) buf) != ACL_EA_VERSION)
                return -EBADMSG;
        for (AclEntry *e = (AclEntry *) (buf + 4); (uint8_t *) e < buf + n; e++) {
                uint16_t tag = le16toh(e->tag);
                uint32_t id = le32toh(e->id);

                if ((tag == ACL_TAG_USER || tag == ACL_TAG_GROUP) && shifted(base, id) != id) {
                        e->id = htole32(shifted(base, id));
                        changed = true;
                }
        }
        if (changed && lsetxattr(path, xname, buf, (size_t) n, 0) < 0)
                return -errno;
        return 0;
}

/* chown() takes a file's capabilities away. Written back in their v3 form,
 * whose root UID is the machine's root, they work in its user namespace. */
static int caps_restore(const char *path, const uint8_t *old, size_t n, uint32_t base) {
        struct vfs_ns_cap_data v3 = {};
        uint32_t magic = le32toh(((const struct vfs_cap_data *) old)->magic_etc);
        uint32_t rootid = 0;
        size_t words;

        switch (magic & VFS_CAP_REVISION_MASK) {
        case VFS_CAP_REVISION_1:
                words = VFS_CAP_U32_1;
                break;
        case VFS_CAP_REVISION_2:
                words = VFS_CAP_U32_2;
                break;
        case VFS_CAP_REVISION_3:
                words = VFS_CAP_U32_3;
                rootid = le32toh(((const struct vfs_ns_cap_data *) old)->rootid);
                break;
        default:
                return -EBADMSG;
        }
        if (n < sizeof(uint32_t) + words * 2 * sizeof(uint32_t))
                return -EBADMSG;
        v3.magic_etc = htole32(VFS_CAP_REVISION_3 | (magic & VFS_CAP_FLAGS_EFFECTIVE));
        memcpy(v3.data, ((const struct vfs_cap_data *) old)->data, words * 2 * sizeof(uint32_t));
        v3.rootid = htole32(shifted(base, rootid));
        if (lsetxattr(path, XATTR_NAME_CAPS, &v3, sizeof v3, 0) < 0)
                return -errno;
        return 0;
}

static int shift_one(Walk *w, int dirfd, const char *name, const struct stat *st) {
        uid_t uid = shifted(w->base, st->st_uid);
        gid_t gid = shifted(w->base, st->st_gid);
        uint8_t caps[sizeof(struct vfs_ns_cap_data)];
        ssize_t n_caps = -1;
        char path[PATH_MAX];
        int r;

        /* Symlinks have neither ACLs nor capabilities. */
        if (!S_ISLNK(st->st_mode)) {
                xattr_path(dirfd, name, path);
                r = shift_acl(path, XATTR_NAME_POSIX_ACL_ACCESS, w->base);
                if (r >= 0 && S_ISDIR(st->st_mode))
                        r = shift_acl(path, XATTR_NAME_POSIX_ACL_DEFAULT, w->base);
                if (r < 0)
                        return r;
        }
        if (st->st_uid == uid && st->st_gid == gid)
                return 0;
        if (S_ISREG(st->st_mode)) {
                n_caps = lgetxattr(path, XATTR_NAME_CAPS, caps, sizeof caps);
                if (n_caps < 0 && errno != ENODATA && errno != EOPNOTSUPP)
                        return -errno;
        }
        if (fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW | (isempty(name) ? AT_EMPTY_PATH : 0)) < 0)
                return -errno;
        /* chown() drops set-user-ID and set-group-ID bits: put them back. */
        if (S_ISREG(st->st_mode) && (st->st_mode & (S_ISUID | S_ISGID)) &&
            fchmodat(dirfd, name, st->st_mode & 07777, 0) < 0)
                return -errno;
        if (n_caps > 0) {
                r = caps_restore(path, caps, (size_t) n_caps, w->base);
                if (r < 0)
                        return r;
        }
        w->changed++;
        return 0;
}

static int walk_dir(Walk *w, int dfd) {
        _cleanup_closedir_ DIR *d = fdopendir(dfd);
        struct dirent *de;

        if (!d) {
                safe_close(dfd);
                return -errno;
        }
        while ((de = readdir(d))) {
                struct stat st;
                int r;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                if (st.st_dev != w->dev)
                        continue; /* another file system mounted here: not ours to shift */
                r = shift_one(w, dirfd(d), de->d_name, &st);
                if (r < 0)
                        return r;
                if (w->progress && ++w->seen % PROGRESS_EVERY == 0)
                        w->progress(w->seen, false, w->userdata);
                if (S_ISDIR(st.st_mode)) {
                        int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

                        if (sub < 0)
                                return -errno;
                        r = walk_dir(w, sub);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int ownership_shift(const char *root, uint32_t base, OwnershipProgress progress, void *userdata,
                    uint64_t *ret_changed) {
        Walk w = { .base = base, .progress = progress, .userdata = userdata };
        char buf[32];
        struct stat st;
        int fd, r;

        fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0) {
                r = -errno;
                safe_close(fd);
                return r;
        }
        w.dev = st.st_dev;

        /* Mark the tree first: if we are interrupted, the next start sees it. */
        snprintf(buf, sizeof buf, "%" PRIu32, base);
        if (fsetxattr(fd, SHIFT_XATTR, buf, strlen(buf), 0) < 0) {
                r = -errno;
                safe_close(fd);
                return r;
        }
        r = walk_dir(&w, fd); /* takes fd */
        if (progress && w.seen >= PROGRESS_EVERY)
                progress(w.seen, true, userdata);
        if (r < 0)
                return r;
        /* The top last: its owner is what says "shifted". */
        r = shift_one(&w, AT_FDCWD, root, &st);
        if (r < 0)
                return r;
        if (lremovexattr(root, SHIFT_XATTR) < 0)
                return -errno;
        if (ret_changed)
                *ret_changed = w.changed;
        return 0;
}

int ownership_probe_idmap(const char *path) {
        _cleanup_close_ int mfd = -EBADF, ufd = -EBADF;
        _cleanup_close_pair_ int ready[2] = { -EBADF, -EBADF }, done[2] = { -EBADF, -EBADF };
        char p[64], c;
        pid_t pid;
        int r;

        /* A throw-away user namespace with a mapping, to try an idmapped mount
         * with. The child says when it has its namespace; no polling. */
        if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(done, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                ready[0] = safe_close(ready[0]);
                done[1] = safe_close(done[1]);
                if (unshare(CLONE_NEWUSER) < 0)
                        _exit(EXIT_FAILURE);
                if (write(ready[1], "r", 1) != 1)
                        _exit(EXIT_FAILURE);
                (void) read(done[0], &c, 1); /* until the parent is done looking */
                _exit(EXIT_SUCCESS);
        }
        ready[1] = safe_close(ready[1]);
        done[0] = safe_close(done[0]);
        snprintf(p, sizeof p, "/proc/%d/ns/user", (int) pid);
        /* EOF instead of a byte: the child could not make its namespace. */
        r = read(ready[0], &c, 1) == 1 ? 0 : -EPERM;
        if (r >= 0)
                r = userns_write_maps(pid, UID_PICK_MIN, 1);
        if (r >= 0) {
                ufd = open(p, O_RDONLY | O_CLOEXEC);
                r = ufd < 0 ? -errno : 0;
        }
        if (r >= 0)
                r = mount_clone(AT_FDCWD, path, false, 0, &mfd);
        if (r >= 0) {
                r = mount_set_idmap(mfd, ufd, false);
                r = r >= 0 ? 1 : r == -EINVAL ? 0 : r;
        }
        done[1] = safe_close(done[1]);
        (void) waitpid(pid, NULL, 0);
        return r;
}
