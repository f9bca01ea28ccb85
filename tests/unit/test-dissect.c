/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dissect, gpt and image: the images of tests/fixtures/make-images.sh are
 * dissected (designators, file systems, flags, offsets; a distinct error and a
 * clear message for each damaged one), then opened, mounted in a child's
 * private mount namespace and read. Needs root (skips otherwise): loop devices
 * and mounts. No mount outlives the child that made it; loop devices carry
 * autoclear, and an atexit sweep detaches any a failed check left behind.
 * The images are never written: their sha256 sums are compared at the end.
 * BOXCTL_TEST_IMAGE_TREE=DIR tests images of DIR instead of the busybox tree. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "dissect.h"
#include "image.h"
#include "mount-util.h"
#include "tap.h"
#include "tree.h"
#include "util.h"

#define WAIT_USEC (5 * 1000 * 1000)

static char images[512];
static char tmp[] = "/var/tmp/boxctl-test-dissect.XXXXXX";

static const char *img(const char *name) {
        static char p[4][640];
        static unsigned i;

        i = (i + 1) % ELEMENTSOF(p);
        snprintf(p[i], sizeof p[i], "%s/%s", strchr(name, '/') ? tmp : images,
                 strchr(name, '/') ? strchr(name, '/') + 1 : name);
        return p[i];
}

static bool has(const char *s, const char *sub) {
        return s && strstr(s, sub);
}

/* Output of a shell command, trailing newline stripped; NULL on failure. */
static char *run(const char *cmd) {
        char buf[4096] = "", *out = NULL;
        size_t n = 0;
        FILE *f = popen(cmd, "re");

        if (!f)
                return NULL;
        n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = '\0';
        if (pclose(f) != 0)
                return NULL;
        while (n > 0 && buf[n - 1] == '\n')
                buf[--n] = '\0';
        out = strdup(buf);
        return out;
}

/* Offset and size of partition PARTNO of IMAGE, from the fixture's MANIFEST. */
static bool manifest(const char *image, int partno, uint64_t *ret_offset, uint64_t *ret_size) {
        char p[600], name[128];
        unsigned long long o, s;
        int n;
        FILE *f;
        bool found = false;

        snprintf(p, sizeof p, "%s/MANIFEST", images);
        f = fopen(p, "re");
        if (!f)
                return false;
        while (!found && fscanf(f, "%127s %d %llu %llu", name, &n, &o, &s) == 4)
                if (streq(name, image) && n == partno) {
                        *ret_offset = o;
                        *ret_size = s;
                        found = true;
                }
        fclose(f);
        return found;
}

/* Detaches every loop device backed by a file under DIR. Returns how many. */
static int sweep(const char *dir) {
        _cleanup_closedir_ DIR *d = opendir("/sys/block");
        struct dirent *de;
        int n = 0;

        while (d && (de = readdir(d))) {
                char b[4096] = "", p[128];
                int nr, fd;
                FILE *f;

                if (sscanf(de->d_name, "loop%d", &nr) != 1)
                        continue;
                snprintf(p, sizeof p, "/sys/block/loop%d/loop/backing_file", nr);
                f = fopen(p, "re");
                if (!f)
                        continue;
                if (!fgets(b, sizeof b, f))
                        b[0] = '\0';
                fclose(f);
                if (!startswith(b, dir))
                        continue;
                n++;
                snprintf(p, sizeof p, "/dev/loop%d", nr);
                fd = open(p, O_RDONLY | O_CLOEXEC);
                if (fd >= 0) {
                        (void) ioctl(fd, LOOP_CLR_FD);
                        close(fd);
                }
        }
        return n;
}

static void cleanup(void) {
        char cmd[128];

        if ((images[0] && sweep(images) > 0) | (sweep(tmp) > 0))
                printf("# swept loop devices a failed check left behind\n");
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
        if (system(cmd) != 0)
                printf("# could not remove %s\n", tmp);
}

static int dissect_path(const char *path, Architecture arch, DissectedImage **ret,
                        char **ret_error) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        return dissect_image_fd(fd, arch, ret, ret_error);
}

static void test_tables(void) {
        PartitionDesignator d;
        Architecture a;

        for (int i = 0; i < _ARCHITECTURE_MAX; i++)
                if (architecture_from_string(architecture_to_string(i)) != i)
                        CHECK(!"architecture round trip");
        for (int i = 0; i < _PARTITION_DESIGNATOR_MAX; i++)
                if (partition_designator_from_string(partition_designator_to_string(i)) != i)
                        CHECK(!"designator round trip");
        for (int i = 0; i < _IMAGE_KIND_MAX; i++)
                if (image_kind_from_string(image_kind_to_string(i)) != i)
                        CHECK(!"image kind round trip");
        CHECK(architecture_from_string("x86_64") == _ARCHITECTURE_INVALID);
#if defined(__x86_64__)
        CHECK(architecture_native() == ARCHITECTURE_X86_64);
        CHECK(architecture_secondary(ARCHITECTURE_X86_64) == ARCHITECTURE_X86);
#endif
        CHECK_STREQ(partition_designator_mount_point(PARTITION_TMP), "/var/tmp");
        CHECK(partition_designator_mount_point(PARTITION_ESP) == NULL);

        CHECK(gpt_type_lookup("4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", &d, &a) == 0 &&
              d == PARTITION_ROOT && a == ARCHITECTURE_X86_64);
        CHECK(gpt_type_lookup("b921b045-1df0-41c3-af44-4c6f280d3fae", &d, &a) == 0 &&
              d == PARTITION_ROOT && a == ARCHITECTURE_ARM64);
        CHECK(gpt_type_lookup("8484680c-9521-48c6-9c11-b0720656f69e", &d, &a) == 0 &&
              d == PARTITION_USR && a == ARCHITECTURE_X86_64);
        CHECK(gpt_type_lookup(GPT_TYPE_ESP, &d, &a) == 0 && d == PARTITION_ESP && a < 0);
        CHECK(gpt_type_lookup(GPT_TYPE_TMP, &d, &a) == 0 && d == PARTITION_TMP);
        CHECK(gpt_type_lookup(GPT_TYPE_SWAP, &d, &a) == -ENOENT);
        CHECK(gpt_type_lookup(GPT_TYPE_LINUX_GENERIC, &d, &a) == -ENOENT);
}

static void test_dissect_gpt(void) {
        _cleanup_(dissected_image_freep) DissectedImage *m = NULL;
        _cleanup_free_ char *err = NULL;
        const DissectedPartition *p;
        uint64_t off = 0, size = 0;

        CHECK(dissect_path(img("gpt.raw"), _ARCHITECTURE_INVALID, &m, &err) == 0);
        if (!m) {
                printf("# %s\n", strempty(err));
                return;
        }
        CHECK(m->kind == IMAGE_GPT);

        p = &m->partitions[PARTITION_ROOT];
        CHECK(p->found && p->partno == 2 && p->arch == ARCHITECTURE_X86_64);
        CHECK_STREQ(p->fstype, "ext4");
        CHECK_STREQ(p->type, "4f68bce3-e8cd-4db1-96e7-fbcaf984b709");
        CHECK_STREQ(p->part_label, "root-x86-64");
        CHECK_STREQ(p->fs_label, "boxctl");
        CHECK(p->fs_uuid && p->part_uuid);
        CHECK(manifest("gpt.raw", 2, &off, &size) && p->offset == off && p->size >= size &&
              p->size % (1024 * 1024) == 0);
        CHECK(!p->read_only);

        p = &m->partitions[PARTITION_USR];
        CHECK(p->found && p->partno == 3 && p->arch == ARCHITECTURE_X86_64);
        CHECK_STREQ(p->fstype, "squashfs");
        CHECK(p->read_only); /* a read-only file system */
        CHECK(manifest("gpt.raw", 3, &off, &size) && p->offset == off);

        p = &m->partitions[PARTITION_VAR];
        CHECK(p->found && p->partno == 4 && !p->read_only && p->arch < 0);
        CHECK_STREQ(p->fstype, "ext4");
        CHECK(manifest("gpt.raw", 4, &off, &size) && p->offset == off);

        p = &m->partitions[PARTITION_SRV];
        CHECK(p->found && p->partno == 5 && p->read_only && (p->gpt_flags & GPT_FLAG_READ_ONLY));

        p = &m->partitions[PARTITION_ESP];
        CHECK(p->found && p->partno == 1);
        CHECK_STREQ(p->fstype, "vfat");

        CHECK(!m->partitions[PARTITION_HOME].found); /* no-auto */
        CHECK(!m->partitions[PARTITION_TMP].found);
        CHECK(!m->partitions[PARTITION_XBOOTLDR].found);
}

static void test_dissect_simple(void) {
        static const struct {
                const char *name;
                ImageKind kind;
                const char *fstype;
                int partno;
                bool read_only;
        } cases[] = {
                { "gpt-generic.raw", IMAGE_GPT, "ext4", 1, false },
                { "mbr.raw", IMAGE_MBR, "ext4", 1, false },
                { "ext4.raw", IMAGE_FILESYSTEM, "ext4", 0, false },
                { "btrfs.raw", IMAGE_FILESYSTEM, "btrfs", 0, false },
                { "squashfs.raw", IMAGE_FILESYSTEM, "squashfs", 0, true },
                { "erofs.raw", IMAGE_FILESYSTEM, "erofs", 0, true },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(dissected_image_freep) DissectedImage *m = NULL;
                _cleanup_free_ char *err = NULL;
                const DissectedPartition *p;
                struct stat st = {};
                uint64_t off = 0, size = 0;

                printf("# %s\n", cases[i].name);
                CHECK(dissect_path(img(cases[i].name), _ARCHITECTURE_INVALID, &m, &err) == 0);
                if (!m) {
                        printf("# %s\n", strempty(err));
                        continue;
                }
                p = &m->partitions[PARTITION_ROOT];
                CHECK(m->kind == cases[i].kind);
                CHECK(p->found && p->partno == cases[i].partno);
                CHECK(p->read_only == cases[i].read_only);
                CHECK_STREQ(p->fstype, cases[i].fstype);
                if (cases[i].partno == 0)
                        CHECK(stat(img(cases[i].name), &st) == 0 && p->offset == 0 &&
                              p->size == (uint64_t) st.st_size && !p->type);
                else
                        CHECK(manifest(cases[i].name, 1, &off, &size) && p->offset == off &&
                              p->size >= size);
                for (int d = PARTITION_USR; d < _PARTITION_DESIGNATOR_MAX; d++)
                        if (m->partitions[d].found)
                                CHECK(!"only a root");
        }
        {
                _cleanup_(dissected_image_freep) DissectedImage *m = NULL;

                CHECK(dissect_path(img("mbr.raw"), _ARCHITECTURE_INVALID, &m, NULL) == 0 && m &&
                      has(m->partitions[PARTITION_ROOT].type, "0x83"));
        }
        {
                _cleanup_(dissected_image_freep) DissectedImage *m = NULL;

                CHECK(dissect_path(img("gpt-generic.raw"), _ARCHITECTURE_INVALID, &m, NULL) == 0 && m &&
                      has(m->partitions[PARTITION_ROOT].type, GPT_TYPE_LINUX_GENERIC) &&
                      m->partitions[PARTITION_ROOT].arch < 0);
        }
        {
                /* The arm64 image is fine for arm64. */
                _cleanup_(dissected_image_freep) DissectedImage *m = NULL;

                CHECK(dissect_path(img("gpt-arm64.raw"), ARCHITECTURE_ARM64, &m, NULL) == 0 && m &&
                      m->partitions[PARTITION_ROOT].arch == ARCHITECTURE_ARM64);
        }
}

static void test_dissect_bad(void) {
        static const struct {
                const char *name;
                int error;
                const char *says[3];
        } cases[] = {
                { "truncated.raw", -EUCLEAN, { "GPT header", "truncated", "expects" } },
                { "zeroed.raw", -EUCLEAN, { "protective MBR", "expected a GPT header", "only zeros" } },
                { "random.raw", -EBADMSG, { "not a disk image", "expected", "found data" } },
                { "text.raw", -EBADMSG, { "not a disk image", "expected", "found a text file" } },
                { "gpt-arm64.raw", -ENXIO, { "root partition for arm64", "none for x86-64", NULL } },
                { "gpt-nofs.raw", -EMEDIUMTYPE, { "partition 1 (root)", "no file system", "expected ext4" } },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(dissected_image_freep) DissectedImage *m = NULL;
                _cleanup_free_ char *err = NULL;
                int r;

                r = dissect_path(img(cases[i].name), ARCHITECTURE_X86_64, &m, &err);
                printf("# %s: %d %s\n", cases[i].name, r, strempty(err));
                CHECK(r == cases[i].error && !m);
                for (size_t j = 0; j < ELEMENTSOF(cases[i].says) && cases[i].says[j]; j++)
                        if (!has(err, cases[i].says[j])) {
                                printf("# missing \"%s\"\n", cases[i].says[j]);
                                CHECK(!"message says what was expected and found");
                        }
        }

        /* Neither a file nor a device; an empty file. */
        {
                _cleanup_close_ int fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                _cleanup_free_ char *err = NULL;
                DissectedImage *m = NULL;

                CHECK(dissect_image_fd(fd, _ARCHITECTURE_INVALID, &m, &err) == -EBADMSG &&
                      has(err, "directory"));
        }
        {
                _cleanup_free_ char *err = NULL;
                DissectedImage *m = NULL;
                int fd;

                fd = open(img("t/empty"), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
                CHECK(dissect_image_fd(fd, _ARCHITECTURE_INVALID, &m, &err) == -EBADMSG &&
                      has(err, "empty"));
                safe_close(fd);
        }
}

/* In a child with a private mount namespace: attaches the image's mounts on
 * a directory and checks what should be there. Returns the child's verdict:
 * a string of '1'/'0', one per check of CHECKS. */
enum {
        CHILD_OS_RELEASE,
        CHILD_USR,
        CHILD_VAR,
        CHILD_SRV,
        CHILD_WRITE_VAR, /* as expected: works read-write, EROFS read-only */
        _CHILD_MAX,
};

static bool child_checks(const Image *image, const char *where, bool expect_rw, bool partitions,
                         char res[static _CHILD_MAX]) {
        _cleanup_close_ int root = -EBADF;
        _cleanup_free_ char *os = NULL;
        char p[700];
        int fd;

        memset(res, '1', _CHILD_MAX);
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return false;
        if (move_mount(image->root_fd, "", AT_FDCWD, where, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return false;
        root = open(where, O_PATH | O_DIRECTORY | O_CLOEXEC);
        for (size_t i = 0; i < image->n_mounts; i++)
                if (image->mounts[i].where &&
                    mount_attach(image->mounts[i].fd, root, image->mounts[i].where) < 0)
                        return false;
        res[CHILD_OS_RELEASE] = tree_read_os_release(root, &os) == 0 && has(os, "ID=") ? '1' : '0';
        if (!partitions)
                return true;
        snprintf(p, sizeof p, "%s/usr/boxctl-usr-partition", where);
        res[CHILD_USR] = access(p, F_OK) == 0 ? '1' : '0';
        snprintf(p, sizeof p, "%s/var/boxctl-var-partition", where);
        res[CHILD_VAR] = access(p, F_OK) == 0 ? '1' : '0';
        snprintf(p, sizeof p, "%s/srv/boxctl-srv-partition", where);
        res[CHILD_SRV] = access(p, F_OK) == 0 ? '1' : '0';
        snprintf(p, sizeof p, "%s/var/written-by-test", where);
        fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (expect_rw)
                res[CHILD_WRITE_VAR] = fd >= 0 ? '1' : '0';
        else
                res[CHILD_WRITE_VAR] = fd < 0 && errno == EROFS ? '1' : '0';
        safe_close(fd);
        return true;
}

static void mount_in_child(const Image *image, bool expect_rw, bool partitions) {
        static const char *const names[_CHILD_MAX] = {
                "os-release readable", "/usr partition mounted", "/var partition mounted",
                "/srv partition mounted", "/var writable as expected",
        };
        _cleanup_close_pair_ int p[2] = { -EBADF, -EBADF };
        char where[600], res[_CHILD_MAX + 1] = "";
        pid_t pid;

        snprintf(where, sizeof where, "%s/mnt", tmp);
        (void) mkdir(where, 0755);
        CHECK(pipe2(p, O_CLOEXEC) == 0);
        pid = fork();
        if (pid == 0) {
                char r[_CHILD_MAX];
                bool ok = child_checks(image, where, expect_rw, partitions, r);

                if (!ok)
                        memset(r, '0', sizeof r);
                _exit(write(p[1], r, sizeof r) == sizeof r ? 0 : 1);
        }
        p[1] = safe_close(p[1]);
        CHECK(read(p[0], res, _CHILD_MAX) == _CHILD_MAX);
        CHECK(waitpid(pid, NULL, 0) == pid);
        for (int i = 0; i < (partitions ? _CHILD_MAX : 1); i++) {
                printf("# child: %s\n", names[i]);
                CHECK(res[i] == '1');
        }
}

/* Closes everything of IMAGE and checks its loop devices go. */
static void free_and_check_released(Image *image) {
        struct {
                int nr;
                uint64_t seq;
        } loops[_PARTITION_DESIGNATOR_MAX];
        size_t n = image->n_loops;

        for (size_t i = 0; i < n; i++) {
                loops[i].nr = image->loops[i].nr;
                loops[i].seq = image->loops[i].diskseq;
        }
        image_free(image);
        for (size_t i = 0; i < n; i++)
                CHECK(loop_device_wait_released(loops[i].nr, loops[i].seq, WAIT_USEC) == 0);
}

static void test_image_gpt(void) {
        _cleanup_free_ char *err = NULL;
        Image *image = NULL;
        const char *where = NULL;
        char cmd[1400];
        int r;

        /* Read-only, straight from the cache. */
        CHECK(image_open(img("gpt.raw"), true, &image, &err) == 0);
        if (!image) {
                printf("# %s\n", strempty(err));
                return;
        }
        CHECK(image->root_fd >= 0 && image->root_read_only);
        /* /srv, /usr, /var: lexical order puts parents first; the ESP only where the
         * kernel can mount FAT. */
        CHECK(image->n_mounts >= 3 && streq(image->mounts[0].where, "/srv") &&
              streq(image->mounts[1].where, "/usr") && streq(image->mounts[2].where, "/var"));
        for (size_t i = 0; i < image->n_mounts; i++)
                CHECK(image->mounts[i].read_only && image->mounts[i].fd >= 0);
        CHECK(image->n_loops == image->n_mounts + 1);
        CHECK(image_boot_mount_point(image->root_fd, PARTITION_ESP, false, &where) == 0 &&
              where && streq(where, "/efi"));
        CHECK(image_boot_mount_point(image->root_fd, PARTITION_ESP, true, &where) == 0 &&
              where && streq(where, "/efi"));
        /* The busybox tree has no /boot, Debian's an empty one. */
        r = image_boot_mount_point(image->root_fd, PARTITION_XBOOTLDR, false, &where);
        CHECK(r == -ENOENT || (r == 0 && streq(where, "/boot")));
        CHECK(image_boot_mount_point(image->root_fd, PARTITION_USR, false, &where) == -EINVAL);
        image_release_loops(image);
        mount_in_child(image, false, true);
        free_and_check_released(image);

        /* Read-write, on a copy: squashfs /usr and the flagged /srv stay read-only. */
        snprintf(cmd, sizeof cmd, "cp --sparse=always '%s' '%s'", img("gpt.raw"), img("t/gpt.raw"));
        CHECK(system(cmd) == 0);
        image = NULL;
        CHECK(image_open(img("t/gpt.raw"), false, &image, &err) == 0);
        if (!image) {
                printf("# %s\n", strempty(err));
                return;
        }
        CHECK(!image->root_read_only);
        CHECK(image->n_mounts >= 3 && image->mounts[0].read_only && image->mounts[1].read_only &&
              !image->mounts[2].read_only);
        image_release_loops(image);
        mount_in_child(image, true, true);
        free_and_check_released(image);
}

static void test_image_read_only_file(void) {
        _cleanup_free_ char *err = NULL;
        Image *image = NULL;
        char cmd[1400];

        snprintf(cmd, sizeof cmd, "cp --sparse=always '%s' '%s' && chmod 0444 '%s'",
                 img("ext4.raw"), img("t/ro.raw"), img("t/ro.raw"));
        CHECK(system(cmd) == 0);
        CHECK(image_open(img("t/ro.raw"), false, &image, &err) == -EROFS && !image);
        printf("# %s\n", strempty(err));
        CHECK(has(err, img("t/ro.raw")) && has(err, "is read-only") && has(err, "--read-only"));
        CHECK(image_open(img("t/ro.raw"), true, &image, NULL) == 0 && image);
        if (image) {
                image_release_loops(image);
                mount_in_child(image, false, false);
                free_and_check_released(image);
        }

        /* A squashfs needs no write access even for a read-write boot. */
        snprintf(cmd, sizeof cmd, "cp '%s' '%s' && chmod 0444 '%s'", img("squashfs.raw"),
                 img("t/ro.squashfs"), img("t/ro.squashfs"));
        CHECK(system(cmd) == 0);
        image = NULL;
        CHECK(image_open(img("t/ro.squashfs"), false, &image, NULL) == 0 && image && image->root_read_only);
        image_free(image);
}

/* Whether this kernel's erofs mounts a file without a loop device. */
static bool kernel_erofs_by_file(void) {
        return system("{ zcat /proc/config.gz || cat /boot/config-$(uname -r); } 2>/dev/null | "
                      "grep -qx CONFIG_EROFS_FS_BACKED_BY_FILE=y") == 0;
}

/* Each bare image, with the loop devices the kernel makes us use (LOOP_ONLY:
 * BOXCTL_IMAGE_LOOP=1, a loop device for erofs too). */
static void test_image_simple_with(bool loop_only) {
        static const char *const names[] = {
                "gpt-generic.raw", "mbr.raw", "ext4.raw", "btrfs.raw", "squashfs.raw", "erofs.raw",
        };
        bool by_file = !loop_only && kernel_erofs_by_file();

        if (loop_only)
                CHECK(setenv("BOXCTL_IMAGE_LOOP", "1", 1) == 0);
        CHECK(image_file_mounts_enabled() == !loop_only);
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_free_ char *err = NULL;
                Image *image = NULL;
                size_t loops = by_file && streq(names[i], "erofs.raw") ? 0 : 1;

                printf("# image_open %s%s: %zu loop device(s)\n", names[i],
                       loop_only ? " (BOXCTL_IMAGE_LOOP=1)" : "", loops);
                CHECK(image_open(img(names[i]), true, &image, &err) == 0 && image);
                if (!image) {
                        printf("# %s\n", strempty(err));
                        continue;
                }
                CHECK(image->n_mounts == 0 && image->n_loops == loops && image->root_read_only);
                image_release_loops(image);
                mount_in_child(image, false, false);
                free_and_check_released(image);
        }
        CHECK(unsetenv("BOXCTL_IMAGE_LOOP") == 0);
}

static void test_image_simple(void) {
        test_image_simple_with(false);
        test_image_simple_with(true);
}

/* erofs as the root partition of a GPT: from the file at its offset
 * ("fsoffset", Linux 6.16) where the kernel can; a partition shorter than its
 * erofs is refused as truncated. */
static void test_image_gpt_erofs(void) {
        static const char *const layouts[] = { "", "cut" };
        char cmd[2000];

        for (size_t i = 0; i < ELEMENTSOF(layouts); i++) {
                _cleanup_free_ char *err = NULL;
                bool cut = !isempty(layouts[i]);
                Image *image = NULL;
                int r;

                /* Partition 1 from 1 MiB, as long as the erofs (or 64 KiB). */
                snprintf(cmd, sizeof cmd,
                         "set -e; e='%s'; g='%s'; s=$(( ($(stat -c %%s \"$e\") + 511) / 512 )); "
                         "rm -f \"$g\"; truncate -s $(( (s + 4096) * 512 )) \"$g\"; "
                         "printf 'label: gpt\\nstart=2048, size=%%d, type=%s\\n' %s | sfdisk -q \"$g\"; "
                         "dd if=\"$e\" of=\"$g\" bs=512 seek=2048 conv=notrunc status=none",
                         img("erofs.raw"), img("t/gpt-erofs.raw"), "4f68bce3-e8cd-4db1-96e7-fbcaf984b709",
                         cut ? "128" : "$s");
                CHECK(system(cmd) == 0);
                r = image_open(img("t/gpt-erofs.raw"), true, &image, &err);
                if (cut) {
                        printf("# %s\n", strempty(err));
                        CHECK(r == -EMEDIUMTYPE && !image &&
                              has(err, "partition 1 (root) holds a truncated erofs file system (65536 bytes of its"));
                        continue;
                }
                CHECK(r == 0 && image);
                if (!image) {
                        printf("# %s\n", strempty(err));
                        continue;
                }
                printf("# gpt-erofs.raw: %zu loop device(s)\n", image->n_loops);
                CHECK(image->n_loops == (kernel_erofs_by_file() ? 0u : 1u) && image->root_read_only);
                image_release_loops(image);
                mount_in_child(image, false, false);
                free_and_check_released(image);
        }
}

static void test_image_bad(void) {
        _cleanup_free_ char *err = NULL, *err2 = NULL;
        Image *image = NULL;

        /* blkid (< 2.39) takes the damaged superblock for ext4; the kernel does not. */
        CHECK(image_open(img("gpt-badfs.raw"), true, &image, &err) == -EMEDIUMTYPE && !image);
        printf("# %s\n", strempty(err));
        CHECK(has(err, "gpt-badfs.raw") && has(err, "damaged"));
        CHECK(image_open(img("random.raw"), true, &image, &err2) == -EBADMSG && !image);
        CHECK(has(err2, "random.raw") && has(err2, "not a disk image"));

        /* An erofs cut short: the kernel would mount it (from the file or a
         * loop device) and fail only on what lies past the cut. */
        {
                _cleanup_free_ char *err3 = NULL;
                char cmd[1400];

                snprintf(cmd, sizeof cmd, "head -c 200000 '%s' >'%s'", img("erofs.raw"), img("t/erofs-cut.raw"));
                CHECK(system(cmd) == 0);
                CHECK(image_open(img("t/erofs-cut.raw"), true, &image, &err3) == -EMEDIUMTYPE && !image);
                printf("# %s\n", strempty(err3));
                CHECK(has(err3, "erofs-cut.raw") && has(err3, "truncated erofs file system (200000 bytes of its"));
        }
}

/* A boxctl that is SIGKILLed after attaching the mounts leaves nothing. */
static void test_image_sigkill(void) {
        _cleanup_close_pair_ int p[2] = { -EBADF, -EBADF };
        struct {
                int nr;
                uint64_t seq;
        } loops[_PARTITION_DESIGNATOR_MAX] = {};
        char where[600];
        ssize_t n;
        pid_t pid;

        snprintf(where, sizeof where, "%s/mnt", tmp);
        CHECK(pipe2(p, O_CLOEXEC) == 0);
        pid = fork();
        if (pid == 0) {
                Image *image = NULL;

                if (image_open(img("gpt.raw"), true, &image, NULL) < 0)
                        _exit(1);
                for (size_t i = 0; i < image->n_loops; i++) {
                        loops[i].nr = image->loops[i].nr;
                        loops[i].seq = image->loops[i].diskseq;
                }
                image_release_loops(image);
                if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
                    move_mount(image->root_fd, "", AT_FDCWD, where, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                        _exit(1);
                if (write(p[1], loops, sizeof(loops[0]) * image->n_loops) < 0)
                        _exit(1);
                pause();
                _exit(0);
        }
        p[1] = safe_close(p[1]);
        n = read(p[0], loops, sizeof loops);
        CHECK(n > 0);
        kill(pid, SIGKILL);
        CHECK(waitpid(pid, NULL, 0) == pid);
        for (ssize_t i = 0; i < n / (ssize_t) sizeof(loops[0]); i++)
                CHECK(loop_device_wait_released(loops[i].nr, loops[i].seq, WAIT_USEC) == 0);
}

static void test_image_lock(void) {
        TreeLock a = TREE_LOCK_NULL, b = TREE_LOCK_NULL;
        char rt[600];

        snprintf(rt, sizeof rt, "%s/run", tmp);
        setenv("BOXCTL_RUNTIME_DIR", rt, 1);
        CHECK(image_lock(img("gpt.raw"), true, "one", &a, NULL) == 0);
        CHECK(image_lock(img("gpt.raw"), false, "two", &b, NULL) == -EBUSY);
        tree_lock_release(&a);
        CHECK(image_lock(img("gpt.raw"), false, "one", &a, NULL) == 0);
        CHECK(image_lock(img("gpt.raw"), false, "two", &b, NULL) == 0);
        tree_lock_release(&a);
        tree_lock_release(&b);
        CHECK(image_lock(tmp, true, "dir", &a, NULL) == -EISDIR);
}

int main(void) {
        _cleanup_free_ char *path = NULL, *before = NULL, *after = NULL;
        const char *src = getenv("BOXCTL_SRCDIR");
        char cmd[1200];

        if (geteuid() != 0) {
                printf("1..0 # SKIP loop devices and mounts need root\n");
                return 0;
        }
        if (!mkdtemp(tmp)) {
                printf("Bail out! mkdtemp: %m\n");
                return 1;
        }
        atexit(cleanup);
        /* BOXCTL_TEST_IMAGE_TREE: images of another tree (the Debian fixture). */
        snprintf(cmd, sizeof cmd, "mkdir -p '%s/t' && '%s/tests/fixtures/make-images.sh' %s", tmp,
                 isempty(src) ? "." : src, strempty(getenv("BOXCTL_TEST_IMAGE_TREE")));
        path = run(cmd);
        if (!path || !*path) {
                printf("Bail out! tests/fixtures/make-images.sh failed\n");
                return 1;
        }
        snprintf(images, sizeof images, "%s", path);
        printf("# images in %s\n", images);
        snprintf(cmd, sizeof cmd, "cd '%s' && sha256sum *.raw", images);
        before = run(cmd);
        CHECK(before != NULL);

        test_tables();
        test_dissect_gpt();
        test_dissect_simple();
        test_dissect_bad();
        test_image_gpt();
        test_image_read_only_file();
        test_image_simple();
        test_image_gpt_erofs();
        test_image_bad();
        test_image_sigkill();
        test_image_lock();

        /* Nothing written to any image, nothing left attached. */
        after = run(cmd);
        CHECK(before && after && streq(before, after));
        CHECK(sweep(images) == 0);
        CHECK(sweep(tmp) == 0);
        return tap_done();
}
