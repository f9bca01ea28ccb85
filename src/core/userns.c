/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "lock.h"
#include "log.h"
#include "string-table.h"
#include "userns.h"
#include "util.h"

static const char *const userns_mode_table[_USERNS_MODE_MAX] = {
        [USERNS_NO] = "no",
        [USERNS_PICK] = "pick",
        [USERNS_IDENTITY] = "identity",
        [USERNS_FIXED] = "fixed",
};

static const char *const ownership_mode_table[_OWNERSHIP_MODE_MAX] = {
        [OWNERSHIP_AUTO] = "auto",
        [OWNERSHIP_IDMAP] = "idmap",
        [OWNERSHIP_CHOWN] = "chown",
        [OWNERSHIP_OFF] = "off",
};

DEFINE_STRING_TABLE(userns_mode, UserNamespaceMode, userns_mode_table, _USERNS_MODE_MAX)

DEFINE_STRING_TABLE(ownership_mode, OwnershipMode, ownership_mode_table, _OWNERSHIP_MODE_MAX)

static int parse_u32(const char *s, uint32_t *ret) {
        unsigned long long v;
        char *end;

        if (isempty(s) || s[0] == '-' || s[0] == '+')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 0); /* 0x80000 and 524288 alike */
        if (errno > 0 || *end != '\0')
                return -EINVAL;
        if (v > UINT32_MAX)
                return -ERANGE;
        *ret = (uint32_t) v;
        return 0;
}

int userns_parse(const char *s, UserNamespaceMode *ret_mode, uint32_t *ret_base, uint32_t *ret_size) {
        _cleanup_free_ char *copy = NULL;
        uint32_t base, size = UID_RANGE_SIZE;
        char *colon;
        int b, r;

        if (streq(s, "pick")) {
                *ret_mode = USERNS_PICK;
                return 0;
        }
        if (streq(s, "identity")) {
                *ret_mode = USERNS_IDENTITY;
                *ret_base = 0;
                *ret_size = UID_RANGE_SIZE;
                return 0;
        }
        b = parse_boolean(s);
        if (b >= 0) {
                *ret_mode = b ? USERNS_PICK : USERNS_NO;
                return 0;
        }
        copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        colon = strchr(copy, ':');
        if (colon) {
                *colon = '\0';
                r = parse_u32(colon + 1, &size);
                if (r < 0)
                        return r;
                if (size == 0 || size > UID_RANGE_SIZE)
                        return -ERANGE;
        }
        r = parse_u32(copy, &base);
        if (r < 0)
                return r;
        if (base % UID_RANGE_SIZE != 0)
                return -EDOM;
        if (base < UID_PICK_MIN || base > UID_PICK_MAX)
                return -ERANGE;
        *ret_mode = USERNS_FIXED;
        *ret_base = base;
        *ret_size = size;
        return 0;
}

/* FNV-1a: small, and stable across versions, which is all this needs. */
static uint64_t fnv1a(const char *s) {
        uint64_t h = UINT64_C(0xcbf29ce484222325);

        for (; *s; s++) {
                h ^= (uint8_t) *s;
                h *= UINT64_C(0x100000001b3);
        }
        return h;
}

uint32_t uid_range_candidate(const char *machine_name, unsigned n) {
        uint64_t slots = (UID_PICK_MAX - UID_PICK_MIN) / UID_RANGE_SIZE + 1;

        return UID_PICK_MIN + (uint32_t) ((fnv1a(machine_name) + n) % slots) * UID_RANGE_SIZE;
}

/* A range whose first or last id names a user or group here belongs to someone. */
static bool range_names_someone(uint32_t base, uint32_t size) {
        uint32_t ids[] = { base, base + size - 1 };

        for (size_t i = 0; i < ELEMENTSOF(ids); i++)
                if (getpwuid((uid_t) ids[i]) || getgrgid((gid_t) ids[i]))
                        return true;
        return false;
}

static int range_lock(uint32_t base, UidRange *ret) {
        _cleanup_free_ char *dir = NULL, *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = runtime_dir_make("uidranges", &dir);
        if (r < 0)
                return r;
        if (asprintf(&path, "%s/%" PRIu32 ".lock", dir, base) < 0)
                return -ENOMEM;
        for (;;) {
                struct stat a, b;

                fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0600);
                if (fd < 0)
                        return -errno;
                if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                        return errno == EWOULDBLOCK ? -EBUSY : -errno;
                /* The holder unlinks the file on release: make sure ours is still there. */
                if (fstat(fd, &a) >= 0 && stat(path, &b) >= 0 && a.st_ino == b.st_ino)
                        break;
                fd = safe_close(fd);
        }
        ret->lock_fd = TAKE_FD(fd);
        ret->lock_path = TAKE_PTR(path);
        return 0;
}

int uid_range_acquire(UserNamespaceMode mode, const char *machine_name, uint32_t base, uint32_t size,
                      UidRange *ret) {
        UidRange r = UID_RANGE_NULL;
        int q;

        switch (mode) {
        case USERNS_IDENTITY:
                *ret = (UidRange) { .base = 0, .size = UID_RANGE_SIZE, .lock_fd = -EBADF };
                return 0;
        case USERNS_FIXED:
                q = range_lock(base, &r);
                if (q < 0)
                        return q;
                r.base = base;
                r.size = size;
                *ret = r;
                return 0;
        case USERNS_PICK:
                for (unsigned n = 0; n < 256; n++) {
                        uint32_t c = uid_range_candidate(machine_name, n);

                        if (range_names_someone(c, UID_RANGE_SIZE))
                                continue;
                        q = range_lock(c, &r);
                        if (q == -EBUSY)
                                continue;
                        if (q < 0)
                                return q;
                        r.base = c;
                        r.size = UID_RANGE_SIZE;
                        *ret = r;
                        return 0;
                }
                return -EADDRNOTAVAIL;
        default:
                return -EINVAL;
        }
}

void uid_range_release(UidRange *r) {
        if (r->lock_fd >= 0) {
                (void) unlink(r->lock_path);
                safe_close(r->lock_fd);
        }
        free(r->lock_path);
        *r = UID_RANGE_NULL;
}

int userns_write_map_text(pid_t pid, const char *uid_map, const char *gid_map) {
        char path[64];
        int r;

        snprintf(path, sizeof path, "/proc/%d/uid_map", (int) pid);
        r = write_string_file(path, uid_map);
        if (r < 0)
                return r;
        snprintf(path, sizeof path, "/proc/%d/gid_map", (int) pid);
        return write_string_file(path, gid_map);
}

int userns_write_maps(pid_t pid, uint32_t base, uint32_t size) {
        char path[64], line[64];
        int r;

        snprintf(line, sizeof line, "0 %" PRIu32 " %" PRIu32 "\n", base, size);
        snprintf(path, sizeof path, "/proc/%d/uid_map", (int) pid);
        r = write_string_file(path, line);
        if (r < 0)
                return r;
        snprintf(path, sizeof path, "/proc/%d/gid_map", (int) pid);
        return write_string_file(path, line);
}
