/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <blkid.h>
#include <endian.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dissect.h"
#include "string-table.h"
#include "log.h"
#include "util.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(blkid_probe, blkid_free_probe);
#define _cleanup_blkid_probe_ _cleanup_(blkid_free_probep)

#define SUPPORTED_FS_TEXT "ext4 (ext2, ext3), btrfs, xfs, squashfs or erofs"

static const char *const image_kind_table[_IMAGE_KIND_MAX] = {
        [IMAGE_GPT] = "gpt",
        [IMAGE_MBR] = "mbr",
        [IMAGE_FILESYSTEM] = "filesystem",
};

DEFINE_STRING_TABLE(image_kind, ImageKind, image_kind_table, _IMAGE_KIND_MAX)

bool dissect_fstype_supported(const char *fstype) {
        static const char *const ok[] = { "ext4", "ext3", "ext2", "btrfs", "xfs", "squashfs", "erofs" };

        for (size_t i = 0; fstype && i < ELEMENTSOF(ok); i++)
                if (streq(fstype, ok[i]))
                        return true;
        return false;
}

bool dissect_fstype_read_only(const char *fstype) {
        return fstype && (streq(fstype, "squashfs") || streq(fstype, "erofs"));
}

static void partition_done(DissectedPartition *p) {
        free(p->fstype);
        free(p->fs_uuid);
        free(p->fs_label);
        free(p->part_uuid);
        free(p->part_label);
        free(p->type);
        *p = (DissectedPartition) { .arch = _ARCHITECTURE_INVALID };
}

DissectedImage *dissected_image_free(DissectedImage *d) {
        if (!d)
                return NULL;
        for (int i = 0; i < _PARTITION_DESIGNATOR_MAX; i++)
                partition_done(&d->partitions[i]);
        free(d);
        return NULL;
}

static int strdup_or_null(const char *s, char **ret) {
        *ret = NULL;
        if (!s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int probe_new(int fd, uint64_t offset, uint64_t size, unsigned sector_size,
                     blkid_probe *ret) {
        _cleanup_blkid_probe_ blkid_probe pr = NULL;

        errno = 0;
        pr = blkid_new_probe();
        if (!pr)
                return errno > 0 ? -errno : -ENOMEM;
        errno = 0;
        if (blkid_probe_set_device(pr, fd, (blkid_loff_t) offset, (blkid_loff_t) size) < 0)
                return errno > 0 ? -errno : -EIO;
        if (sector_size != 0 && blkid_probe_set_sectorsize(pr, sector_size) < 0)
                return -EIO;
        *ret = TAKE_PTR(pr);
        return 0;
}

static const char *probe_value(blkid_probe pr, const char *name) {
        const char *v = NULL;

        if (blkid_probe_lookup_value(pr, name, &v, NULL) < 0)
                return NULL;
        return v;
}

/* A file system found in one partition. */
typedef struct FsProbe {
        char *fstype, *uuid, *label;
} FsProbe;

static void fs_probe_done(FsProbe *f) {
        free(f->fstype);
        free(f->uuid);
        free(f->label);
}

/* erofs's superblock says how many blocks the file system has; a file
 * system that ends past its partition (or file) is truncated. The kernel
 * mounts such an erofs, from a loop device and from a file alike (Linux 6.18),
 * and the machine then fails on whatever it reads past the end ("no
 * os-release found"), so say it here. Layout: erofs_fs.h, struct
 * erofs_super_block at byte 1024. An image with 48-bit block numbers (Linux
 * 6.15 and later) keeps the high bits elsewhere: not checked. */
#define EROFS_SUPER_OFFSET 1024
#define EROFS_SUPER_MAGIC_V1 0xE0F5E1E2U
#define EROFS_FEATURE_INCOMPAT_48BIT 0x00000080U

static int erofs_check_size(int fd, uint64_t offset, uint64_t size, char **ret_error) {
        uint8_t sb[128];
        uint32_t magic, blocks, incompat;
        uint64_t need;
        ssize_t k;

        k = pread(fd, sb, sizeof sb, (off_t) (offset + EROFS_SUPER_OFFSET));
        if (k < 0)
                return -errno;
        if (k < (ssize_t) sizeof sb)
                return error_set(ret_error, -EMEDIUMTYPE,
                            "holds a truncated erofs file system (it ends inside its superblock)");
        memcpy(&magic, sb, 4);
        memcpy(&blocks, sb + 36, 4);
        memcpy(&incompat, sb + 80, 4);
        if (le32toh(magic) != EROFS_SUPER_MAGIC_V1 || (le32toh(incompat) & EROFS_FEATURE_INCOMPAT_48BIT) ||
            sb[12] < 9 || sb[12] > 16)
                return 0; /* the kernel judges what we do not know */
        need = (uint64_t) le32toh(blocks) << sb[12];
        if (need > size)
                return error_set(ret_error, -EMEDIUMTYPE,
                            "holds a truncated erofs file system (%" PRIu64 " bytes of its %" PRIu64 ")",
                            size, need);
        return 0;
}

/* What is at OFFSET: 0 and *ret for a file system we mount (or, with
 * WANT_VFAT, FAT); else -EMEDIUMTYPE and a message starting with "holds". */
static int probe_fs(int fd, uint64_t offset, uint64_t size, bool want_vfat, FsProbe *ret,
                    char **ret_error) {
        _cleanup_blkid_probe_ blkid_probe pr = NULL;
        const char *type, *usage;
        int r;

        r = probe_new(fd, offset, size, 0, &pr);
        if (r < 0)
                return r;
        blkid_probe_enable_superblocks(pr, 1);
        blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_USAGE |
                                                      BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID);
        blkid_probe_enable_partitions(pr, 0);
        errno = 0;
        r = blkid_do_safeprobe(pr);
        if (r == -2)
                return error_set(ret_error, -EMEDIUMTYPE,
                            "holds several file system signatures at once (damaged or half overwritten)");
        if (r < 0)
                return errno > 0 ? -errno : -EIO;
        if (r == 1) {
                /* Maybe a known file system whose superblock checksum is wrong. */
                blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_BADCSUM);
                if (blkid_do_safeprobe(pr) == 0 && (type = probe_value(pr, "TYPE")))
                        return error_set(ret_error, -EMEDIUMTYPE,
                                    "holds a damaged %s file system (superblock checksum mismatch)", type);
                return error_set(ret_error, -EMEDIUMTYPE,
                            "holds no file system blkid recognises (expected " SUPPORTED_FS_TEXT ")");
        }

        type = probe_value(pr, "TYPE");
        usage = probe_value(pr, "USAGE");
        if (usage && streq(usage, "crypto"))
                return error_set(ret_error, -EMEDIUMTYPE,
                            "is encrypted (%s); encrypted partitions are not supported", strempty(type));
        if (!type || !(dissect_fstype_supported(type) || (want_vfat && streq(type, "vfat"))))
                return error_set(ret_error, -EMEDIUMTYPE, "holds %s%s, not " SUPPORTED_FS_TEXT,
                            type ? "a file system of type " : "something of usage ",
                            type ?: strempty(usage));
        if (streq(type, "erofs")) {
                r = erofs_check_size(fd, offset, size, ret_error);
                if (r < 0)
                        return r;
        }

        *ret = (FsProbe) {};
        if (strdup_or_null(type, &ret->fstype) < 0 ||
            strdup_or_null(probe_value(pr, "UUID"), &ret->uuid) < 0 ||
            strdup_or_null(probe_value(pr, "LABEL"), &ret->label) < 0) {
                fs_probe_done(ret);
                return -ENOMEM;
        }
        return 0;
}

/* One entry of a partition table, before we know if it is to be used. */
typedef struct Candidate {
        int partno;
        PartitionDesignator designator;
        Architecture arch;
        uint64_t offset, size, flags;
        const char *type, *uuid, *label; /* owned by the probe */
} Candidate;

static int partition_fill(DissectedPartition *p, const Candidate *c, const char *type,
                          FsProbe *fs) {
        *p = (DissectedPartition) {
                .found = true,
                .partno = c->partno,
                .arch = c->arch,
                .offset = c->offset,
                .size = c->size,
                .fstype = TAKE_PTR(fs->fstype),
                .fs_uuid = TAKE_PTR(fs->uuid),
                .fs_label = TAKE_PTR(fs->label),
                .gpt_flags = c->flags,
        };
        if (strdup_or_null(c->uuid, &p->part_uuid) < 0 ||
            strdup_or_null(c->label, &p->part_label) < 0 || strdup_or_null(type, &p->type) < 0)
                return -ENOMEM;
        if (p->type)
                for (char *s = p->type; *s; s++)
                        *s = (char) (*s >= 'A' && *s <= 'Z' ? *s - 'A' + 'a' : *s);
        p->read_only = dissect_fstype_read_only(p->fstype) ||
                       (c->designator != PARTITION_ESP && c->designator != PARTITION_XBOOTLDR &&
                        (c->flags & GPT_FLAG_READ_ONLY));
        return 0;
}

/* Probes the file system of candidate C and records it as D. */
static int use_candidate(DissectedImage *m, int fd, const Candidate *c, PartitionDesignator d,
                         const char *type, char **ret_error) {
        _cleanup_free_ char *why = NULL;
        FsProbe fs = {};
        bool optional = d == PARTITION_ESP || d == PARTITION_XBOOTLDR;
        int r;

        r = probe_fs(fd, c->offset, c->size, optional, &fs, &why);
        if (r == -EMEDIUMTYPE && optional) {
                log_debug("Ignoring partition %d (%s): it %s", c->partno,
                          partition_designator_to_string(d), strempty(why));
                return 0;
        }
        if (r == -EMEDIUMTYPE) {
                if (c->partno == 0)
                        return error_set(ret_error, r, "the image %s", strempty(why));
                return error_set(ret_error, r, "partition %d (%s) %s", c->partno,
                            partition_designator_to_string(d), strempty(why));
        }
        if (r < 0)
                return r;
        r = partition_fill(&m->partitions[d], c, type, &fs);
        fs_probe_done(&fs);
        return r;
}

/* The best root (or /usr) of ARCH: not no-auto, highest version in its label
 * (A/B updates), the first on a tie; NULL if none. */
static const Candidate *pick_versioned(const Candidate *cands, size_t n, PartitionDesignator d,
                                       Architecture arch) {
        const Candidate *best = NULL;

        if (arch < 0)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                const Candidate *c = cands + i;

                if (c->designator != d || c->arch != arch || (c->flags & GPT_FLAG_NO_AUTO))
                        continue;
                if (!best || strverscmp(strempty(c->label), strempty(best->label)) > 0)
                        best = c;
        }
        return best;
}

static const Candidate *pick_first(const Candidate *cands, size_t n, PartitionDesignator d) {
        for (size_t i = 0; i < n; i++) {
                const Candidate *c = cands + i;
                /* The ESP and XBOOTLDR have no no-auto flag; UEFI's "no block
                 * I/O protocol" says firmware (and so we) should leave it alone. */
                uint64_t skip = d == PARTITION_ESP || d == PARTITION_XBOOTLDR
                                        ? GPT_FLAG_NO_BLOCK_IO_PROTOCOL
                                        : GPT_FLAG_NO_AUTO;

                if (c->designator == d && !(c->flags & skip))
                        return c;
        }
        return NULL;
}

/* Appends ", WORD" to *s (or WORD when empty). */
static int strappend(char **s, const char *word) {
        char *n;

        if (asprintf(&n, "%s%s%s", strempty(*s), isempty(*s) ? "" : ", ", word) < 0)
                return -ENOMEM;
        free(*s);
        *s = n;
        return 0;
}

/* -ENXIO: why no root partition was found, from what was. */
static int explain_no_root(const Candidate *cands, size_t n, Architecture arch,
                           char **ret_error) {
        _cleanup_free_ char *roots = NULL, *all = NULL;
        bool seen[_ARCHITECTURE_MAX] = {}, noauto = false, usr = false;
        const char *a = architecture_to_string(arch);

        for (size_t i = 0; i < n; i++) {
                const Candidate *c = cands + i;
                char word[96];

                /* Roots of ARCH that were not taken are all marked no-auto. */
                if (c->designator == PARTITION_ROOT && c->arch == arch)
                        noauto = true;
                else if (c->designator == PARTITION_ROOT && !seen[c->arch]) {
                        seen[c->arch] = true;
                        if (strappend(&roots, architecture_to_string(c->arch)) < 0)
                                return -ENOMEM;
                }
                if (c->designator == PARTITION_USR && c->arch == arch)
                        usr = true;
                if (c->designator >= 0)
                        snprintf(word, sizeof word, "%d: %s%s%s", c->partno,
                                 partition_designator_to_string(c->designator),
                                 c->arch >= 0 ? " " : "",
                                 c->arch >= 0 ? architecture_to_string(c->arch) : "");
                else
                        snprintf(word, sizeof word, "%d: type %s", c->partno, strempty(c->type));
                if (strappend(&all, word) < 0)
                        return -ENOMEM;
        }

        if (noauto)
                return error_set(ret_error, -ENXIO,
                            "GPT: the root partition for %s is marked no-auto (attribute bit 63), so it is not used", a);
        if (roots)
                return error_set(ret_error, -ENXIO,
                            "GPT: the image has a root partition for %s, none for %s", roots, a);
        if (usr)
                return error_set(ret_error, -ENXIO,
                            "GPT: the image has a /usr partition for %s but no root partition; /usr-only images are not supported", a);
        return error_set(ret_error, -ENXIO,
                    "GPT: expected a root partition for %s (type %s) or a single generic Linux partition, found %s",
                    a, gpt_root_type(arch), all ?: "no partitions");
}

static int read_candidates(blkid_partlist pl, uint64_t image_size, bool gpt, Candidate **ret,
                           size_t *ret_n, char **ret_error) {
        _cleanup_free_ Candidate *cands = NULL;
        int n = blkid_partlist_numof_partitions(pl);

        cands = calloc(MAX(n, 1), sizeof(Candidate));
        if (!cands)
                return -ENOMEM;
        for (int i = 0; i < n; i++) {
                blkid_partition par = blkid_partlist_get_partition(pl, i);
                Candidate *c = cands + i;

                *c = (Candidate) {
                        .partno = blkid_partition_get_partno(par),
                        .designator = _PARTITION_DESIGNATOR_INVALID,
                        .arch = _ARCHITECTURE_INVALID,
                        /* libblkid counts in 512-byte sectors whatever the table's own size. */
                        .offset = (uint64_t) blkid_partition_get_start(par) * 512,
                        .size = (uint64_t) blkid_partition_get_size(par) * 512,
                        .type = gpt ? blkid_partition_get_type_string(par) : NULL,
                        .uuid = gpt ? blkid_partition_get_uuid(par) : NULL,
                        .label = gpt ? blkid_partition_get_name(par) : NULL,
                        .flags = gpt ? blkid_partition_get_flags(par) : 0,
                };
                if (c->offset > image_size || c->size > image_size - c->offset)
                        return error_set(ret_error, -EUCLEAN,
                                    "partition %d ends at byte %llu, past the end of the image (%llu bytes): truncated?",
                                    c->partno, (unsigned long long) (c->offset + c->size),
                                    (unsigned long long) image_size);
                if (gpt)
                        (void) gpt_type_lookup(c->type, &c->designator, &c->arch);
        }
        *ret = TAKE_PTR(cands);
        *ret_n = (size_t) MAX(n, 0);
        return 0;
}

static int dissect_gpt(DissectedImage *m, int fd, blkid_partlist pl, Architecture arch,
                       char **ret_error) {
        _cleanup_free_ Candidate *cands = NULL;
        const Candidate *root, *c;
        Candidate generic = {};
        size_t n, n_generic = 0;
        int r;

        r = read_candidates(pl, m->size, true, &cands, &n, ret_error);
        if (r < 0)
                return r;

        root = pick_versioned(cands, n, PARTITION_ROOT, arch) ?:
               pick_versioned(cands, n, PARTITION_ROOT, architecture_secondary(arch));
        for (size_t i = 0; !root && i < n; i++)
                if (cands[i].type && strcasecmp(cands[i].type, GPT_TYPE_LINUX_GENERIC) == 0 &&
                    !(cands[i].flags & GPT_FLAG_NO_AUTO)) {
                        generic = cands[i];
                        generic.designator = PARTITION_ROOT;
                        n_generic++;
                }
        if (!root && n_generic > 1)
                return error_set(ret_error, -ENOTUNIQ,
                            "GPT: no root partition for %s and %zu generic Linux partitions: cannot tell which one is the root",
                            architecture_to_string(arch), n_generic);
        if (!root && n_generic == 1)
                root = &generic;
        if (!root)
                return explain_no_root(cands, n, arch, ret_error);

        r = use_candidate(m, fd, root, PARTITION_ROOT, root->type, ret_error);
        if (r < 0)
                return r;
        /* /usr must match the root's architecture. */
        c = pick_versioned(cands, n, PARTITION_USR, root->arch >= 0 ? root->arch : arch);
        if (c && (r = use_candidate(m, fd, c, PARTITION_USR, c->type, ret_error)) < 0)
                return r;
        for (PartitionDesignator d = PARTITION_HOME; d < _PARTITION_DESIGNATOR_MAX; d++) {
                c = pick_first(cands, n, d);
                if (c && (r = use_candidate(m, fd, c, d, c->type, ret_error)) < 0)
                        return r;
        }
        return 0;
}

static int dissect_mbr(DissectedImage *m, int fd, blkid_partlist pl, char **ret_error) {
        _cleanup_free_ Candidate *cands = NULL;
        _cleanup_free_ char *found = NULL;
        const Candidate *root = NULL;
        size_t n, n_linux = 0;
        int r;

        r = read_candidates(pl, m->size, false, &cands, &n, ret_error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                blkid_partition par = blkid_partlist_get_partition(pl, (int) i);
                int t = blkid_partition_get_type(par);
                char word[32];

                snprintf(word, sizeof word, "%d: 0x%02x", cands[i].partno, (unsigned) t);
                if (strappend(&found, word) < 0)
                        return -ENOMEM;
                if (t == 0x83 && !blkid_partition_is_extended(par)) {
                        root = cands + i;
                        n_linux++;
                }
        }
        if (n_linux > 1)
                return error_set(ret_error, -ENOTUNIQ,
                            "MBR: %zu Linux (0x83) partitions: cannot tell which one is the root (found %s)",
                            n_linux, found);
        if (!root)
                return error_set(ret_error, -ENXIO,
                            "MBR: expected a Linux (0x83) partition for the root, found %s",
                            found ?: "no partitions");
        return use_candidate(m, fd, root, PARTITION_ROOT, "0x83", ret_error);
}

/* Why libblkid saw a protective MBR but no GPT: read the headers ourselves. */
static int explain_pmbr(int fd, uint64_t size, char **ret_error) {
        uint8_t h[512];
        uint64_t alternate, last_usable;

        if (pread(fd, h, sizeof h, 512) != (ssize_t) sizeof h || memcmp(h, "EFI PART", 8) != 0)
                return error_set(ret_error, -EUCLEAN,
                            "damaged partition table: expected a GPT header at byte 512 after the protective MBR, found %s (zeroed or overwritten?)",
                            h[0] == 0 && memcmp(h, h + 1, sizeof h - 1) == 0 ? "only zeros" : "other data");
        memcpy(&alternate, h + 32, 8);
        memcpy(&last_usable, h + 48, 8);
        alternate = le64toh(alternate);
        last_usable = le64toh(last_usable);
        if (alternate >= size / 512 || last_usable >= size / 512)
                return error_set(ret_error, -EUCLEAN,
                            "damaged partition table: the GPT header expects a disk of at least %llu bytes, the image has %llu (truncated?)",
                            (unsigned long long) ((MAX(alternate, last_usable) + 1) * 512),
                            (unsigned long long) size);
        return error_set(ret_error, -EUCLEAN,
                    "damaged partition table: the GPT header at byte 512 fails its checks (bad checksum or partition array), and so does the backup at the end");
}

/* A hint for "not a disk image": what the first bytes look like. */
static const char *sniff(int fd) {
        static const struct {
                size_t offset;
                const char *magic;
                size_t len;
                const char *what;
        } magics[] = {
                { 0, "QFI\xfb", 4, "a qcow2 image (convert it: qemu-img convert -O raw)" },
                { 0, "KDMV", 4, "a VMDK image (convert it: qemu-img convert -O raw)" },
                { 0, "vhdxfile", 8, "a VHDX image (convert it: qemu-img convert -O raw)" },
                { 0, "\x1f\x8b", 2, "gzip-compressed data (decompress it first)" },
                { 0, "\xfd" "7zXZ", 6, "xz-compressed data (decompress it first)" },
                { 0, "\x28\xb5\x2f\xfd", 4, "zstd-compressed data (decompress it first)" },
                { 0, "BZh", 3, "bzip2-compressed data (decompress it first)" },
                { 257, "ustar", 5, "a tar archive (unpack it and boot the directory)" },
                { 0, "PK\x03\x04", 4, "a zip archive" },
        };
        uint8_t b[4096];
        ssize_t n = pread(fd, b, sizeof b, 0);
        bool text = n > 0, zero = n > 0;

        if (n < 0)
                return "unreadable data";
        for (size_t i = 0; i < ELEMENTSOF(magics); i++)
                if ((size_t) n >= magics[i].offset + magics[i].len &&
                    memcmp(b + magics[i].offset, magics[i].magic, magics[i].len) == 0)
                        return magics[i].what;
        for (ssize_t i = 0; i < n; i++) {
                text = text && (b[i] >= 0x20 || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') &&
                       b[i] != 0x7f;
                zero = zero && b[i] == 0;
        }
        return text ? "a text file" : zero ? "only zeros at the start" : "data of no known format";
}

static int whole_probe(int fd, char **ret_error, blkid_probe *ret) {
        _cleanup_blkid_probe_ blkid_probe pr = NULL;
        int r;

        r = probe_new(fd, 0, 0, 0, &pr);
        if (r < 0)
                return r;
        blkid_probe_enable_superblocks(pr, 1);
        blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_USAGE);
        blkid_probe_enable_partitions(pr, 1);
        errno = 0;
        r = blkid_do_safeprobe(pr);
        if (r == -2)
                return error_set(ret_error, -EUCLEAN,
                            "conflicting signatures: the image looks like several file systems or partition tables at once");
        if (r < 0)
                return errno > 0 ? -errno : -EIO;
        if (r == 1)
                return error_set(ret_error, -EBADMSG,
                            "not a disk image: expected a GPT or MBR partition table or an " SUPPORTED_FS_TEXT " file system, found %s",
                            sniff(fd));
        *ret = TAKE_PTR(pr);
        return 0;
}

/* The partition table at sector size SECTOR_SIZE (0: libblkid's choice);
 * -ENOENT if there is no GPT or MBR at that size. */
static int table_dissect(DissectedImage *m, int fd, unsigned sector_size, Architecture arch,
                         char **ret_error) {
        _cleanup_blkid_probe_ blkid_probe pr = NULL;
        blkid_partlist pl;
        blkid_parttable t;
        const char *pttype;
        int r;

        r = probe_new(fd, 0, 0, sector_size, &pr);
        if (r < 0)
                return r;
        blkid_probe_enable_partitions(pr, 1);
        errno = 0;
        pl = blkid_probe_get_partitions(pr);
        t = pl ? blkid_partlist_get_table(pl) : NULL;
        pttype = t ? blkid_parttable_get_type(t) : NULL;
        if (!pttype || !(streq(pttype, "gpt") || streq(pttype, "dos")))
                return -ENOENT;
        m->kind = streq(pttype, "gpt") ? IMAGE_GPT : IMAGE_MBR;
        return m->kind == IMAGE_GPT ? dissect_gpt(m, fd, pl, arch, ret_error)
                                    : dissect_mbr(m, fd, pl, ret_error);
}

static int image_size(int fd, uint64_t *ret, char **ret_error) {
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISREG(st.st_mode))
                *ret = (uint64_t) st.st_size;
        else if (S_ISBLK(st.st_mode)) {
                if (ioctl(fd, BLKGETSIZE64, ret) < 0)
                        return -errno;
        } else
                return error_set(ret_error, -EBADMSG,
                            "not a disk image: expected a regular file or a block device, found a %s",
                            S_ISDIR(st.st_mode) ? "directory" : "special file");
        if (*ret == 0)
                return error_set(ret_error, -EBADMSG, "not a disk image: the file is empty");
        return 0;
}

static int dissect_whole(DissectedImage *m, int fd, Architecture arch, char **ret_error) {
        _cleanup_blkid_probe_ blkid_probe pr = NULL;
        const char *fstype, *pttype;
        int r;

        if (arch < 0)
                return error_set(ret_error, -EAFNOSUPPORT,
                            "the Discoverable Partitions Specification has no types for this CPU architecture");
        r = image_size(fd, &m->size, ret_error);
        if (r < 0)
                return r;
        r = whole_probe(fd, ret_error, &pr);
        if (r < 0)
                return r;

        fstype = probe_value(pr, "TYPE");
        pttype = probe_value(pr, "PTTYPE");
        if (fstype) {
                Candidate whole = { .designator = PARTITION_ROOT, .arch = _ARCHITECTURE_INVALID,
                                    .size = m->size };

                m->kind = IMAGE_FILESYSTEM;
                return use_candidate(m, fd, &whole, PARTITION_ROOT, NULL, ret_error);
        }
        if (pttype && (streq(pttype, "gpt") || streq(pttype, "dos")))
                return table_dissect(m, fd, 0, arch, ret_error);
        if (pttype && streq(pttype, "PMBR")) {
                /* A GPT written for 4096-byte sectors has its header at byte
                 * 4096; libblkid assumes 512 for a regular file. */
                r = m->size % 4096 == 0 ? table_dissect(m, fd, 4096, arch, ret_error) : -ENOENT;
                return r == -ENOENT ? explain_pmbr(fd, m->size, ret_error) : r;
        }
        return error_set(ret_error, -EBADMSG,
                    "not a disk image: expected a GPT or MBR partition table, found a partition table of type '%s'",
                    strempty(pttype));
}

int dissect_image_fd(int fd, Architecture arch, DissectedImage **ret, char **ret_error) {
        _cleanup_(dissected_image_freep) DissectedImage *m = NULL;
        _cleanup_free_ char *error = NULL;
        int r;

        m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        for (int i = 0; i < _PARTITION_DESIGNATOR_MAX; i++)
                m->partitions[i].arch = _ARCHITECTURE_INVALID;
        r = dissect_whole(m, fd, arch < 0 ? architecture_native() : arch, &error);
        if (r < 0) {
                if (ret_error)
                        *ret_error = TAKE_PTR(error);
                return r;
        }
        *ret = TAKE_PTR(m);
        return 0;
}
