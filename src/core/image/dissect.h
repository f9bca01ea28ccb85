/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "gpt.h"
#include "macro.h"

/* What a disk image is and what of it to mount, read with libblkid from an fd
 * the caller opened (O_RDONLY is enough: nothing is ever written).
 *
 *   GPT   partitions by the Discoverable Partitions Specification: the root of
 *         the requested architecture (else its secondary one, x86 for x86-64),
 *         /usr of the same architecture, /home, /srv, /var, /var/tmp, ESP,
 *         XBOOTLDR; no-auto (bit 63) partitions skipped, read-only (bit 60)
 *         honoured; a single generic Linux partition is the root when no root
 *         partition exists.
 *   MBR   the one Linux (0x83) partition is the root.
 *   bare  an ext2/3/4, btrfs, xfs, squashfs or erofs file system: the root.
 *
 * The ESP and XBOOTLDR are listed only when they hold a FAT file system; they
 * are optional for a boot, so anything wrong with them is not an error. */

typedef enum ImageKind {
        IMAGE_GPT,
        IMAGE_MBR,
        IMAGE_FILESYSTEM,
        _IMAGE_KIND_MAX,
        _IMAGE_KIND_INVALID = -EINVAL,
} ImageKind;

typedef struct DissectedPartition {
        bool found;
        int partno;          /* number in the table, from 1; 0 for a bare file system */
        Architecture arch;   /* root and /usr of a GPT; _ARCHITECTURE_INVALID otherwise */
        uint64_t offset;     /* bytes from the start of the image */
        uint64_t size;       /* bytes */
        char *fstype;        /* as blkid and the kernel name it: "ext4", "squashfs", "vfat" */
        char *fs_uuid;
        char *fs_label;
        char *part_uuid;     /* GPT only */
        char *part_label;    /* GPT only */
        char *type;          /* GPT type UUID (lowercase), "0x83" (MBR), NULL (bare) */
        uint64_t gpt_flags;
        bool read_only;      /* GPT read-only flag, or a read-only file system */
} DissectedPartition;

typedef struct DissectedImage {
        ImageKind kind;
        uint64_t size;       /* of the whole image, bytes */
        DissectedPartition partitions[_PARTITION_DESIGNATOR_MAX];
} DissectedImage;

/* On failure, *ret_error (when ret_error is not NULL) gets a one-line message
 * saying what was expected and what was found, or NULL (-ENOMEM, read errors);
 * it is left alone on success. The message does not name the image: the
 * caller prefixes it. Errors:
 *   -EBADMSG      not a disk image: no partition table or file system we know
 *                 (random bytes, text, a compressed or qcow2 file, empty file),
 *                 or a partition table type other than GPT and MBR
 *   -EUCLEAN      damaged partition table: a protective MBR without a readable
 *                 GPT (zeroed, or a header pointing past the end: truncated),
 *                 a partition past the end of the image, conflicting signatures
 *   -ENXIO        no root partition for ARCH (the message names the
 *                 architectures it has roots for), or no single Linux partition
 *   -EMEDIUMTYPE  a partition to mount holds no file system, a damaged one, or
 *                 one we do not boot (LUKS, swap, ntfs, ...)
 *   -ENOTUNIQ     several candidates and nothing to choose between them
 *                 (two generic Linux partitions, two MBR Linux partitions)
 *   others        -errno of a failed read, -ENOMEM
 * ARCH: the architecture to boot; _ARCHITECTURE_INVALID for the native one. */
int dissect_image_fd(int fd, Architecture arch, DissectedImage **ret, char **ret_error);
DissectedImage *dissected_image_free(DissectedImage *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(DissectedImage *, dissected_image_free);

const char *image_kind_to_string(ImageKind k);
ImageKind image_kind_from_string(const char *s);

/* The file systems we mount for root, /usr, /home, /srv, /var and /var/tmp. */
bool dissect_fstype_supported(const char *fstype);
/* squashfs and erofs: mounted read-only whatever was asked. */
bool dissect_fstype_read_only(const char *fstype);
