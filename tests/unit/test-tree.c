/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "lock.h"
#include "mount-points.h"
#include "tap.h"
#include "tree.h"

static char base[] = "/tmp/boxctl-test-tree.XXXXXX";

/* Runs CMD with $P set to ARG. */
static void sh(const char *cmd, const char *arg) {
        setenv("P", arg, 1);
        if (system(cmd) != 0)
                printf("# command failed: %s\n", cmd);
}

static void test_tree_open(void) {
        char p[256];
        Tree t = TREE_NULL;

        snprintf(p, sizeof p, "%s/none", base);
        CHECK(tree_open(p, TREE_WANT_INIT, &t) == -ENOENT);

        snprintf(p, sizeof p, "%s/file", base);
        sh("touch $P", p);
        CHECK(tree_open(p, TREE_WANT_INIT, &t) == -ENOTDIR);

        snprintf(p, sizeof p, "%s/empty", base);
        sh("mkdir -p $P", p);
        CHECK(tree_open(p, TREE_WANT_INIT, &t) == -EBADE);
        /* An OCI bundle's rootfs needs none, but an init still when it boots. */
        CHECK(tree_open(p, TREE_ANY_ROOTFS, &t) == 0);
        CHECK(t.os_release == NULL);
        tree_done(&t);
        CHECK(tree_open(p, TREE_ANY_ROOTFS | TREE_WANT_INIT, &t) == -ENOEXEC);

        /* os-release but no init: fine for "run", not for "boot". */
        snprintf(p, sizeof p, "%s/noinit", base);
        sh("mkdir -p $P/etc && echo ID=test > $P/etc/os-release", p);
        CHECK(tree_open(p, TREE_WANT_INIT, &t) == -ENOEXEC);
        CHECK(tree_open(p, 0, &t) == 0);
        CHECK(t.machine_id_file == false);
        tree_done(&t);

        /* os-release as a fifo is not read (and does not hang). */
        snprintf(p, sizeof p, "%s/fifo", base);
        sh("mkdir -p $P/etc $P/usr/lib && mkfifo $P/etc/os-release", p);
        CHECK(tree_open(p, 0, &t) == -EBADE);

        /* An absolute symlink must resolve inside the tree, not on the host. */
        snprintf(p, sizeof p, "%s/escape", base);
        sh("mkdir -p $P/etc && ln -s /etc/os-release $P/etc/os-release", p);
        CHECK(tree_open(p, 0, &t) == -EBADE);
        sh("mkdir -p $P/sbin && ln -s ../../../../../../bin/busybox $P/sbin/init && echo ID=x > $P/os", p);
        sh("mkdir -p $P/usr/lib && mv $P/os $P/usr/lib/os-release", p);
        /* os-release found via /usr/lib; init points outside the tree: not found. */
        CHECK(tree_open(p, TREE_WANT_INIT, &t) == -ENOEXEC);

        /* busybox init, via a relative link, with a machine id. */
        snprintf(p, sizeof p, "%s/bb", base);
        sh("mkdir -p $P/bin $P/sbin $P/etc && cp /bin/busybox $P/bin/", p);
        sh("ln -s ../bin/busybox $P/sbin/init && echo ID=bb > $P/etc/os-release", p);
        sh("echo 0123456789abcdef0123456789abcdef > $P/etc/machine-id", p);
        CHECK(tree_open(p, TREE_WANT_INIT, &t) == 0);
        CHECK(t.init_kind == INIT_BUSYBOX);
        CHECK_STREQ(t.init_path, "/sbin/init");
        CHECK(t.machine_id_file);
        CHECK(t.machine_id.bytes[0] == 0x01 && t.machine_id.bytes[15] == 0xef);
        tree_done(&t);

        /* systemd found first, by name. */
        sh("mkdir -p $P/usr/lib/systemd && cp /bin/true $P/usr/lib/systemd/systemd", p);
        sh("echo uninitialized > $P/etc/machine-id", p);
        CHECK(tree_open(p, TREE_WANT_INIT, &t) == 0);
        CHECK(t.init_kind == INIT_SYSTEMD);
        CHECK_STREQ(t.init_path, "/usr/lib/systemd/systemd");
        CHECK(t.machine_id_file && id128_is_null(&t.machine_id));
        tree_done(&t);

        /* A non-executable init is not an init. */
        sh("chmod -x $P/usr/lib/systemd/systemd", p);
        CHECK(tree_open(p, TREE_WANT_INIT, &t) == 0);
        CHECK_STREQ(t.init_path, "/sbin/init");
        tree_done(&t);

        CHECK(tree_open("/", 0, &t) == -ELOOP);
}

static void test_mount_points(void) {
        char p[256], probe[300];
        Settings s = {};
        MountPoints mp = {};
        char *failed = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;
        struct stat st;

        snprintf(p, sizeof p, "%s/mp", base);
        sh("mkdir -p $P/proc $P/dev", p);
        fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
        CHECK(settings_add_bind(&s, "/etc/hostname:/srv/a/b/file", false) == 0);
        CHECK(settings_add_bind(&s, "/etc:/srv/a/dir", false) == 0);
        CHECK(strv_push_dup(&s.tmpfs, "/scratch") == 0);
        CHECK(mount_points_prepare(fd, &s, &mp, &failed) == 0);
        snprintf(probe, sizeof probe, "%s/srv/a/b/file", p);
        CHECK(stat(probe, &st) == 0 && S_ISREG(st.st_mode));
        snprintf(probe, sizeof probe, "%s/srv/a/dir", p);
        CHECK(stat(probe, &st) == 0 && S_ISDIR(st.st_mode));
        snprintf(probe, sizeof probe, "%s/run", p);
        CHECK(stat(probe, &st) == 0 && S_ISDIR(st.st_mode));
        CHECK(strv_contains(mp.created, "/srv") && !strv_contains(mp.created, "/proc"));
        mount_points_cleanup(fd, &mp);
        snprintf(probe, sizeof probe, "%s/srv", p);
        CHECK(stat(probe, &st) < 0 && errno == ENOENT);
        snprintf(probe, sizeof probe, "%s/run", p);
        CHECK(stat(probe, &st) < 0 && errno == ENOENT);
        snprintf(probe, sizeof probe, "%s/proc", p);
        CHECK(stat(probe, &st) == 0);
        settings_done(&s);

        /* A destination behind a symlink is resolved inside the tree... */
        sh("mkdir -p $P/target && ln -s /target $P/in && ln -s /tmp/boxctl-must-not-exist $P/out", p);
        CHECK(settings_add_bind(&s, "/etc:/in/x", false) == 0);
        r = mount_points_prepare(fd, &s, &mp, &failed);
        if (r < 0)
                printf("# %s: %s\n", failed, strerror(-r));
        CHECK(r == 0);
        snprintf(probe, sizeof probe, "%s/target/x", p);
        CHECK(stat(probe, &st) == 0 && S_ISDIR(st.st_mode));
        mount_points_cleanup(fd, &mp);
        CHECK(stat(probe, &st) < 0);
        settings_done(&s);

        /* ...and one behind a dangling symlink is refused, never made on the host. */
        CHECK(settings_add_bind(&s, "/etc:/out/x", false) == 0);
        CHECK(mount_points_prepare(fd, &s, &mp, &failed) < 0);
        CHECK_STREQ(failed, "/out/x");
        free(failed);
        CHECK(stat("/tmp/boxctl-must-not-exist", &st) < 0 && errno == ENOENT);
        mount_points_cleanup(fd, &mp);
        settings_done(&s);

        /* Below the tree's /run, /tmp and /dev (also through /var/run -> /run)
         * nothing is made: the machine's own tmpfs hides them; it makes those. */
        sh("mkdir -p $P/var && ln -s ../run $P/var/run", p);
        CHECK(settings_add_bind(&s, "/etc:/run/x/y", false) == 0);
        CHECK(settings_add_bind(&s, "/etc/hostname:/dev/f", false) == 0);
        CHECK(settings_add_bind(&s, "/etc:/var/run/secrets/z", false) == 0);
        CHECK(settings_add_bind(&s, "/etc:/srv/q", false) == 0);
        CHECK(strv_push_dup(&s.tmpfs, "/tmp/t") == 0);
        CHECK(mount_points_prepare(fd, &s, &mp, &failed) == 0);
        snprintf(probe, sizeof probe, "%s/srv/q", p);
        CHECK(stat(probe, &st) == 0 && S_ISDIR(st.st_mode));
        CHECK(strv_contains(mp.created, "/run") && strv_contains(mp.created, "/tmp"));
        CHECK(!strv_contains(mp.created, "/run/x") && !strv_contains(mp.created, "/dev/f") &&
              !strv_contains(mp.created, "/var/run/secrets") && !strv_contains(mp.created, "/tmp/t"));
        snprintf(probe, sizeof probe, "%s/run/secrets", p);
        CHECK(stat(probe, &st) < 0 && errno == ENOENT);
        mount_points_cleanup(fd, &mp);
        settings_done(&s);
}

static void test_lock(void) {
        char rt[300];
        TreeLock a = TREE_LOCK_NULL, b = TREE_LOCK_NULL, c = TREE_LOCK_NULL;
        char *holder = NULL;
        struct stat st;

        snprintf(rt, sizeof rt, "%s/runtime", base);
        setenv("BOXCTL_RUNTIME_DIR", rt, 1);

        CHECK(tree_lock_acquire(1, 42, true, "one", &a, NULL) == 0);
        CHECK(tree_lock_acquire(1, 42, true, "two", &b, &holder) == -EBUSY);
        CHECK(holder && strstr(holder, "machine one"));
        free(holder);
        holder = NULL;
        CHECK(tree_lock_acquire(1, 42, false, "two", &b, &holder) == -EBUSY);
        free(holder);
        CHECK(stat(a.path, &st) == 0);
        tree_lock_release(&a);
        CHECK(a.fd < 0);

        /* Shared locks coexist; a writer is refused; the last one out removes the file. */
        CHECK(tree_lock_acquire(1, 42, false, "r1", &a, NULL) == 0);
        CHECK(tree_lock_acquire(1, 42, false, "r2", &b, NULL) == 0);
        CHECK(tree_lock_acquire(1, 42, true, "w", &c, NULL) == -EBUSY);
        tree_lock_release(&a);
        CHECK(stat(b.path, &st) == 0);
        tree_lock_release(&b);
        snprintf(rt, sizeof rt, "%s/runtime/locks/tree-0:1-42.lock", base);
        CHECK(stat(rt, &st) < 0 && errno == ENOENT);
        unsetenv("BOXCTL_RUNTIME_DIR");
}

int main(void) {
        if (!mkdtemp(base))
                return 1;
        test_tree_open();
        test_mount_points();
        test_lock();
        sh("rm -rf $P", base);
        return tap_done();
}
