/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

/* The Discoverable Partitions Specification (UAPI.2): which GPT partition type
 * UUID means what, for which CPU architecture, and the attribute flags. */

typedef enum Architecture {
        ARCHITECTURE_ALPHA,
        ARCHITECTURE_ARC,
        ARCHITECTURE_ARM,
        ARCHITECTURE_ARM64,
        ARCHITECTURE_IA64,
        ARCHITECTURE_LOONGARCH64,
        ARCHITECTURE_MIPS,
        ARCHITECTURE_MIPS64,
        ARCHITECTURE_MIPS_LE,
        ARCHITECTURE_MIPS64_LE,
        ARCHITECTURE_PARISC,
        ARCHITECTURE_PPC,
        ARCHITECTURE_PPC64,
        ARCHITECTURE_PPC64_LE,
        ARCHITECTURE_RISCV32,
        ARCHITECTURE_RISCV64,
        ARCHITECTURE_S390,
        ARCHITECTURE_S390X,
        ARCHITECTURE_TILEGX,
        ARCHITECTURE_X86,
        ARCHITECTURE_X86_64,
        _ARCHITECTURE_MAX,
        _ARCHITECTURE_INVALID = -EINVAL,
} Architecture;

/* What a partition is for. */
typedef enum PartitionDesignator {
        PARTITION_ROOT,
        PARTITION_USR,
        PARTITION_HOME,
        PARTITION_SRV,
        PARTITION_VAR,
        PARTITION_TMP,      /* mounted on /var/tmp, as the specification says */
        PARTITION_ESP,
        PARTITION_XBOOTLDR,
        _PARTITION_DESIGNATOR_MAX,
        _PARTITION_DESIGNATOR_INVALID = -EINVAL,
} PartitionDesignator;

/* Attribute flags (bits 48-63 belong to the type; 0-2 are UEFI's). */
#define GPT_FLAG_NO_BLOCK_IO_PROTOCOL (UINT64_C(1) << 1)  /* ESP, XBOOTLDR: firmware ignores it */
#define GPT_FLAG_GROWFS (UINT64_C(1) << 59)
#define GPT_FLAG_READ_ONLY (UINT64_C(1) << 60)
#define GPT_FLAG_NO_AUTO (UINT64_C(1) << 63)

#define GPT_TYPE_ESP "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"
#define GPT_TYPE_XBOOTLDR "bc13c2ff-59e6-4262-a352-b275fd6f7172"
#define GPT_TYPE_SWAP "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f"
#define GPT_TYPE_HOME "933ac7e1-2eb4-4f13-b844-0e14e2aef915"
#define GPT_TYPE_SRV "3b8f8425-20e0-4f3b-907f-1a25a76f98e8"
#define GPT_TYPE_VAR "4d21b016-b534-45c2-a9fb-5c16e091fd2d"
#define GPT_TYPE_TMP "7ec6f557-3bc5-4aca-b293-16ef5df639d1"
#define GPT_TYPE_LINUX_GENERIC "0fc63daf-8483-4772-8e79-3d69d8477de4"

const char *architecture_to_string(Architecture a);
Architecture architecture_from_string(const char *s);
/* The architecture boxctl was built for; _ARCHITECTURE_INVALID where the
 * specification has no type for it. */
Architecture architecture_native(void);
/* The one a native kernel also runs (x86 on x86-64, arm on arm64), or _INVALID. */
Architecture architecture_secondary(Architecture a);

const char *partition_designator_to_string(PartitionDesignator d);
PartitionDesignator partition_designator_from_string(const char *s);
/* Where it goes in the machine: "/", "/usr", ..., "/var/tmp"; NULL for the ESP
 * and XBOOTLDR, whose place depends on the root's contents (see image.h). */
const char *partition_designator_mount_point(PartitionDesignator d);

/* The root or /usr type UUID of ARCH, lowercase; NULL if none. */
const char *gpt_root_type(Architecture arch);
const char *gpt_usr_type(Architecture arch);

/* What the type UUID TYPE (any case) designates; *ret_arch is set for root and
 * /usr, _ARCHITECTURE_INVALID otherwise. -ENOENT for a type the specification
 * does not name (swap and the generic Linux type included). */
int gpt_type_lookup(const char *type, PartitionDesignator *ret_designator, Architecture *ret_arch);
