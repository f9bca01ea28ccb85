/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Loop devices for disk images. A device is configured in one LOOP_CONFIGURE
 * call, always with LO_FLAGS_AUTOCLEAR: the kernel detaches it when its last
 * user closes it, so once a mount holds it and we have closed our fd, the
 * device goes away with the mount, also when boxctl is SIGKILLed.
 * LO_FLAGS_PARTSCAN is never set: partitions are found by dissect.c and each
 * gets a loop device of its own (offset + size limit). */

typedef enum LoopFlags {
        LOOP_READ_ONLY = 1 << 0,
        LOOP_DIRECT_IO = 1 << 1, /* dropped silently where the backing file cannot do it */
} LoopFlags;

typedef struct LoopDevice {
        int fd;            /* the open device (O_RDONLY for read-only ones) */
        int nr;            /* N of /dev/loopN */
        char *path;        /* "/dev/loopN" */
        dev_t devnum;
        uint64_t diskseq;  /* tells this attachment from a later one of the same N; 0 if unknown */
        uint64_t offset;   /* bytes into the backing file */
        uint64_t size;     /* bytes; 0: up to the end of the backing file */
        bool read_only;
        bool direct_io;
} LoopDevice;

#define LOOP_DEVICE_NULL ((LoopDevice) { .fd = -EBADF, .nr = -1 })

/* Attaches the file or block device BACKING_FD to a free loop device.
 * BACKING_FD must be open for writing unless LOOP_READ_ONLY (-EROFS otherwise).
 * -EINVAL: offset/size outside the file. No loop device to be had:
 * -ENOENT: no /dev/loop-control (no loop driver, or a /dev without it);
 * -ENODEV: the kernel named a free device that /dev has no node for (a /dev
 *  that is not a devtmpfs, as in some containers);
 * -EPERM, -EACCES: loop devices are denied to us (a device cgroup, no CAP_SYS_ADMIN);
 * -EBUSY: others took every free device we were given first. */
int loop_device_attach(int backing_fd, uint64_t offset, uint64_t size, LoopFlags flags,
                       LoopDevice *ret);

/* For the caller's one line: what R from loop_device_attach() means and what
 * to do, or strerror() for the errors that say it themselves. */
const char *loop_device_strerror(int r);

/* Closes our fd: from then on, the device lives exactly as long as its other
 * users (the mounts on it). Keeps nr/path/diskseq for loop_device_released(). */
void loop_device_unref(LoopDevice *d);

/* For error paths: LOOP_CLR_FD, then close. If something else still has the
 * device open (a mount), the kernel only marks it for autoclear. */
int loop_device_detach(LoopDevice *d);

/* Frees what loop_device_attach() allocated; closes the fd if still open. */
void loop_device_done(LoopDevice *d);

/* 1 if loop device NR no longer holds the attachment with DISKSEQ (0: any
 * attachment), 0 if it does. */
int loop_device_released(int nr, uint64_t diskseq);

/* Waits until loop_device_released() says 1: -ETIMEDOUT after TIMEOUT_USEC.
 * The last put of a mount's block device can complete a little after
 * umount2() or the death of its mount namespace returns. */
int loop_device_wait_released(int nr, uint64_t diskseq, uint64_t timeout_usec);
