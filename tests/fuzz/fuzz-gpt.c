/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Disk images: dissect_image_fd() on the input as an image file. It hands the
 * GPT header and partition entries to libblkid and judges what comes back
 * (types, flags, offsets against the image's size), reads the header itself
 * when libblkid found only a protective MBR, and sniffs what a non-image is.
 *
 * Byte 0 of the input (boot code no parser reads) steers: when it is even,
 * the CRCs of the GPT header at byte 512 (or 4096) and of its partition
 * entries are recomputed, so mutated fields get past the checksums and reach
 * the code behind them; when odd, the input is used as it is. Byte 1 picks the
 * architecture to boot. The image is the input padded with zeros to at least
 * 64 KiB, a multiple of 512, so that a small input can still describe
 * partitions inside it. */
#include <endian.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dissect.h"
#include "fuzz.h"

#define IMAGE_MIN (64 * 1024)
#define IMAGE_MAX (1024 * 1024)

static uint32_t crc32_le(const uint8_t *p, size_t n) {
        static uint32_t table[256];
        uint32_t c = UINT32_MAX;

        if (table[1] == 0)
                for (uint32_t i = 0; i < 256; i++) {
                        uint32_t v = i;

                        for (int k = 0; k < 8; k++)
                                v = v & 1 ? 0xedb88320 ^ (v >> 1) : v >> 1;
                        table[i] = v;
                }
        for (size_t i = 0; i < n; i++)
                c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
        return c ^ UINT32_MAX;
}

static uint32_t get32(const uint8_t *p) {
        uint32_t v;

        memcpy(&v, p, sizeof v);
        return le32toh(v);
}

static uint64_t get64(const uint8_t *p) {
        uint64_t v;

        memcpy(&v, p, sizeof v);
        return le64toh(v);
}

static void put32(uint8_t *p, uint32_t v) {
        v = htole32(v);
        memcpy(p, &v, sizeof v);
}

/* The UEFI header: signature 0, header size 12, header CRC 16, entries LBA 72,
 * number of entries 80, entry size 84, entries CRC 88. */
static void fix_gpt_crcs(uint8_t *img, size_t size, size_t sector) {
        uint8_t *h = img + sector;
        uint64_t lba, len;
        uint32_t hsize;

        if (size < 2 * sector || memcmp(h, "EFI PART", 8) != 0)
                return;
        lba = get64(h + 72);
        len = (uint64_t) get32(h + 80) * get32(h + 84);
        if (lba < size / sector && len <= size - lba * sector)
                put32(h + 88, crc32_le(img + lba * sector, (size_t) len));
        hsize = get32(h + 12);
        if (hsize < 92 || hsize > sector)
                return;
        put32(h + 16, 0);
        put32(h + 16, crc32_le(h, hsize));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(dissected_image_freep) DissectedImage *m = NULL;
        _cleanup_free_ char *error = NULL;
        _cleanup_free_ uint8_t *img = NULL;
        _cleanup_close_ int fd = -EBADF;
        Architecture arch;
        size_t n;
        int r;

        if (size < 2 || size > IMAGE_MAX)
                return 0;
        n = MAX(size, (size_t) IMAGE_MIN);
        n = (n + 511) / 512 * 512;
        img = calloc(1, n);
        FUZZ_CHECK(img);
        memcpy(img, data, size);
        if (data[0] % 2 == 0) {
                fix_gpt_crcs(img, n, 512);
                fix_gpt_crcs(img, n, 4096);
        }
        arch = data[1] < _ARCHITECTURE_MAX ? (Architecture) data[1] : _ARCHITECTURE_INVALID;

        fd = memfd_create("fuzz-image", MFD_CLOEXEC);
        FUZZ_CHECK(fd >= 0);
        FUZZ_CHECK(write(fd, img, n) == (ssize_t) n);

        r = dissect_image_fd(fd, arch, &m, &error);
        if (r < 0) {
                FUZZ_CHECK(!m);
                return 0;
        }
        FUZZ_CHECK(m && !error);
        FUZZ_CHECK(m->kind >= 0 && m->kind < _IMAGE_KIND_MAX);
        FUZZ_CHECK(m->size == n);
        FUZZ_CHECK(m->partitions[PARTITION_ROOT].found);
        for (PartitionDesignator d = 0; d < _PARTITION_DESIGNATOR_MAX; d++) {
                const DissectedPartition *p = &m->partitions[d];

                if (!p->found)
                        continue;
                /* Every partition it would mount lies inside the image. */
                FUZZ_CHECK(p->offset <= m->size && p->size <= m->size - p->offset);
                FUZZ_CHECK(p->fstype);
        }
        return 0;
}
