/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "dissect.h"
#include "lock.h"
#include "loop-util.h"

/* A disk image made ready to boot: dissected, one loop device per partition
 * to mount (none for an erofs one where the kernel reads the image file
 * itself: Linux 6.12), and a detached mount (fsopen + fsmount) on each. Nothing is
 * attached anywhere: the caller moves the mounts into the machine's tree with
 * move_mount(), root first, then `mounts` in array order (parents before
 * children: /var before /var/tmp), then the ESP/XBOOTLDR where
 * image_boot_mount_point() says. The fds can be passed to (or inherited by)
 * a process in another mount namespace.
 *
 * Loop devices carry LO_FLAGS_AUTOCLEAR: once image_release_loops() has closed
 * our fds, each device lives exactly as long as its mount, so it is freed when
 * the machine's mount namespace dies, also if boxctl is SIGKILLed. */

typedef struct ImageMount {
        PartitionDesignator designator;
        const char *where;  /* "/usr", "/home", ..., "/var/tmp"; NULL for the ESP and XBOOTLDR */
        int fd;             /* detached mount */
        bool read_only;
} ImageMount;

typedef struct Image {
        char *path;
        int fd;               /* the image; O_RDWR only when something is mounted read-write */
        dev_t dev;            /* what image_lock() keys on */
        ino_t ino;
        DissectedImage *dissected;

        int root_fd;          /* detached mount of the root */
        bool root_read_only;
        ImageMount mounts[_PARTITION_DESIGNATOR_MAX];   /* below the root, in attach order */
        size_t n_mounts;

        LoopDevice loops[_PARTITION_DESIGNATOR_MAX];
        size_t n_loops;
} Image;

/* Opens the image at PATH (a regular file or a block device). READ_ONLY: mount
 * everything read-only; otherwise what the image demands (squashfs, erofs, the
 * GPT read-only flag) is still read-only and the rest read-write, which a
 * read-only image file (no write permission, immutable, on a read-only file
 * system) cannot do: -EROFS "image X is read-only ...; boot it with --read-only".
 * An ESP or XBOOTLDR the kernel cannot mount (no vfat) is left out silently.
 * Errors: dissect_image_fd()'s, -EROFS, -EMEDIUMTYPE (the kernel refused a
 * partition's file system: damaged), -ENOENT, -errno; *ret_error (if not NULL)
 * then holds one line naming the image. */
int image_open(const char *path, bool read_only, Image **ret, char **ret_error);

/* Whether image_open() mounts erofs straight from an image file (no loop
 * device) where the kernel can: yes, unless BOXCTL_IMAGE_LOOP=1 in the
 * environment asks for loop devices always. */
bool image_file_mounts_enabled(void);

/* Closes our loop device fds: call it once the mounts exist (after
 * image_open() returns) and before the machine starts, so only the mounts
 * keep the devices. */
void image_release_loops(Image *img);

/* Closes every mount and loop fd (detached mounts vanish, and with them the
 * loop devices), the image fd, and frees. NULL is fine. */
Image *image_free(Image *img);
DEFINE_TRIVIAL_CLEANUP_FUNC(Image *, image_free);

/* Where the ESP (or XBOOTLDR) of IMG goes in the root at ROOT_FD (the root's
 * mount fd, or the tree once mounted): "/efi" or "/boot", whichever exists
 * and is empty, as the Discoverable Partitions Specification says (with an
 * XBOOTLDR, the ESP only goes to /efi and XBOOTLDR to /boot). -ENOENT: none
 * fits, do not mount it. */
int image_boot_mount_point(int root_fd, PartitionDesignator d, bool have_xbootldr,
                           const char **ret);

/* A lock on the image at PATH (keyed by its device and inode; a block device
 * by its device number), as tree_lock_acquire() does for trees: shared for
 * read-only boots, exclusive for read-write ones. Take it before image_open():
 * two read-write mounts of one file system corrupt it. -EBUSY: held. */
int image_lock(const char *path, bool exclusive, const char *machine_name, TreeLock *ret,
               char **ret_holder);
