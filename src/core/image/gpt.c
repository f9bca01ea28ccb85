/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <strings.h>

#include "gpt.h"
#include "macro.h"

/* Names as systemd spells them (uname -m differs: x86_64, aarch64). */
static const char *const architecture_table[_ARCHITECTURE_MAX] = {
        [ARCHITECTURE_ALPHA] = "alpha",
        [ARCHITECTURE_ARC] = "arc",
        [ARCHITECTURE_ARM] = "arm",
        [ARCHITECTURE_ARM64] = "arm64",
        [ARCHITECTURE_IA64] = "ia64",
        [ARCHITECTURE_LOONGARCH64] = "loongarch64",
        [ARCHITECTURE_MIPS] = "mips",
        [ARCHITECTURE_MIPS64] = "mips64",
        [ARCHITECTURE_MIPS_LE] = "mips-le",
        [ARCHITECTURE_MIPS64_LE] = "mips64-le",
        [ARCHITECTURE_PARISC] = "parisc",
        [ARCHITECTURE_PPC] = "ppc",
        [ARCHITECTURE_PPC64] = "ppc64",
        [ARCHITECTURE_PPC64_LE] = "ppc64-le",
        [ARCHITECTURE_RISCV32] = "riscv32",
        [ARCHITECTURE_RISCV64] = "riscv64",
        [ARCHITECTURE_S390] = "s390",
        [ARCHITECTURE_S390X] = "s390x",
        [ARCHITECTURE_TILEGX] = "tilegx",
        [ARCHITECTURE_X86] = "x86",
        [ARCHITECTURE_X86_64] = "x86-64",
};

/* Root and /usr partition types per architecture, from the specification. */
static const struct {
        const char *root;
        const char *usr;
} arch_types[_ARCHITECTURE_MAX] = {
        [ARCHITECTURE_ALPHA] = { "6523f8ae-3eb1-4e2a-a05a-18b695ae656f", "e18cf08c-33ec-4c0d-8246-c6c6fb3da024" },
        [ARCHITECTURE_ARC] = { "d27f46ed-2919-4cb8-bd25-9531f3c16534", "7978a683-6316-4922-bbee-38bff5a2fecc" },
        [ARCHITECTURE_ARM] = { "69dad710-2ce4-4e3c-b16c-21a1d49abed3", "7d0359a3-02b3-4f0a-865c-654403e70625" },
        [ARCHITECTURE_ARM64] = { "b921b045-1df0-41c3-af44-4c6f280d3fae", "b0e01050-ee5f-4390-949a-9101b17104e9" },
        [ARCHITECTURE_IA64] = { "993d8d3d-f80e-4225-855a-9daf8ed7ea97", "4301d2a6-4e3b-4b2a-bb94-9e0b2c4225ea" },
        [ARCHITECTURE_LOONGARCH64] = { "77055800-792c-4f94-b39a-98c91b762bb6", "e611c702-575c-4cbe-9a46-434fa0bf7e3f" },
        [ARCHITECTURE_MIPS] = { "e9434544-6e2c-47cc-bae2-12d6deafb44c", "773b2abc-2a99-4398-8bf5-03baac40d02b" },
        [ARCHITECTURE_MIPS64] = { "d113af76-80ef-41b4-bdb6-0cff4d3d4a25", "57e13958-7331-4365-8e6e-35eeee17c61b" },
        [ARCHITECTURE_MIPS_LE] = { "37c58c8a-d913-4156-a25f-48b1b64e07f0", "0f4868e9-9952-4706-979f-3ed3a473e947" },
        [ARCHITECTURE_MIPS64_LE] = { "700bda43-7a34-4507-b179-eeb93d7a7ca3", "c97c1f32-ba06-40b4-9f22-236061b08aa8" },
        [ARCHITECTURE_PARISC] = { "1aacdb3b-5444-4138-bd9e-e5c2239b2346", "dc4a4480-6917-4262-a4ec-db9384949f25" },
        [ARCHITECTURE_PPC] = { "1de3f1ef-fa98-47b5-8dcd-4a860a654d78", "7d14fec5-cc71-415d-9d6c-06bf0b3c3eaf" },
        [ARCHITECTURE_PPC64] = { "912ade1d-a839-4913-8964-a10eee08fbd2", "2c9739e2-f068-46b3-9fd0-01c5a9afbcca" },
        [ARCHITECTURE_PPC64_LE] = { "c31c45e6-3f39-412e-80fb-4809c4980599", "15bb03af-77e7-4d4a-b12b-c0d084f7491c" },
        [ARCHITECTURE_RISCV32] = { "60d5a7fe-8e7d-435c-b714-3dd8162144e1", "b933fb22-5c3f-4f91-af90-e2bb0fa50702" },
        [ARCHITECTURE_RISCV64] = { "72ec70a6-cf74-40e6-bd49-4bda08e8f224", "beaec34b-8442-439b-a40b-984381ed097d" },
        [ARCHITECTURE_S390] = { "08a7acea-624c-4a20-91e8-6e0fa67d23f9", "cd0f869b-d0fb-4ca0-b141-9ea87cc78d66" },
        [ARCHITECTURE_S390X] = { "5eead9a9-fe09-4a1e-a1d7-520d00531306", "8a4f5770-50aa-4ed3-874a-99b710db6fea" },
        [ARCHITECTURE_TILEGX] = { "c50cdd70-3862-4cc3-90e1-809a8c93ee2c", "55497029-c7c1-44cc-aa39-815ed1558630" },
        [ARCHITECTURE_X86] = { "44479540-f297-41b2-9af7-d131d5f0458a", "75250d76-8cc6-458e-bd66-bd47cc81a812" },
        [ARCHITECTURE_X86_64] = { "4f68bce3-e8cd-4db1-96e7-fbcaf984b709", "8484680c-9521-48c6-9c11-b0720656f69e" },
};

static const char *const designator_table[_PARTITION_DESIGNATOR_MAX] = {
        [PARTITION_ROOT] = "root",
        [PARTITION_USR] = "usr",
        [PARTITION_HOME] = "home",
        [PARTITION_SRV] = "srv",
        [PARTITION_VAR] = "var",
        [PARTITION_TMP] = "tmp",
        [PARTITION_ESP] = "esp",
        [PARTITION_XBOOTLDR] = "xbootldr",
};

static const char *const mount_point_table[_PARTITION_DESIGNATOR_MAX] = {
        [PARTITION_ROOT] = "/",
        [PARTITION_USR] = "/usr",
        [PARTITION_HOME] = "/home",
        [PARTITION_SRV] = "/srv",
        [PARTITION_VAR] = "/var",
        [PARTITION_TMP] = "/var/tmp",
};

/* Types that mean the same on every architecture. */
static const struct {
        const char *type;
        PartitionDesignator designator;
} common_types[] = {
        { GPT_TYPE_HOME, PARTITION_HOME },
        { GPT_TYPE_SRV, PARTITION_SRV },
        { GPT_TYPE_VAR, PARTITION_VAR },
        { GPT_TYPE_TMP, PARTITION_TMP },
        { GPT_TYPE_ESP, PARTITION_ESP },
        { GPT_TYPE_XBOOTLDR, PARTITION_XBOOTLDR },
};

const char *architecture_to_string(Architecture a) {
        return a >= 0 && a < _ARCHITECTURE_MAX ? architecture_table[a] : NULL;
}

Architecture architecture_from_string(const char *s) {
        if (!s)
                return _ARCHITECTURE_INVALID;
        for (int a = 0; a < _ARCHITECTURE_MAX; a++)
                if (streq(architecture_table[a], s))
                        return (Architecture) a;
        return _ARCHITECTURE_INVALID;
}

Architecture architecture_native(void) {
#if defined(__x86_64__)
        return ARCHITECTURE_X86_64;
#elif defined(__i386__)
        return ARCHITECTURE_X86;
#elif defined(__aarch64__)
        return ARCHITECTURE_ARM64;
#elif defined(__arm__)
        return ARCHITECTURE_ARM;
#elif defined(__riscv) && __riscv_xlen == 64
        return ARCHITECTURE_RISCV64;
#elif defined(__loongarch64)
        return ARCHITECTURE_LOONGARCH64;
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        return ARCHITECTURE_PPC64_LE;
#elif defined(__s390x__)
        return ARCHITECTURE_S390X;
#else
        return _ARCHITECTURE_INVALID;
#endif
}

Architecture architecture_secondary(Architecture a) {
        switch (a) {
        case ARCHITECTURE_X86_64:
                return ARCHITECTURE_X86;
        case ARCHITECTURE_ARM64:
                return ARCHITECTURE_ARM;
        default:
                return _ARCHITECTURE_INVALID;
        }
}

const char *partition_designator_to_string(PartitionDesignator d) {
        return d >= 0 && d < _PARTITION_DESIGNATOR_MAX ? designator_table[d] : NULL;
}

PartitionDesignator partition_designator_from_string(const char *s) {
        if (!s)
                return _PARTITION_DESIGNATOR_INVALID;
        for (int d = 0; d < _PARTITION_DESIGNATOR_MAX; d++)
                if (streq(designator_table[d], s))
                        return (PartitionDesignator) d;
        return _PARTITION_DESIGNATOR_INVALID;
}

const char *partition_designator_mount_point(PartitionDesignator d) {
        return d >= 0 && d < _PARTITION_DESIGNATOR_MAX ? mount_point_table[d] : NULL;
}

const char *gpt_root_type(Architecture arch) {
        return arch >= 0 && arch < _ARCHITECTURE_MAX ? arch_types[arch].root : NULL;
}

const char *gpt_usr_type(Architecture arch) {
        return arch >= 0 && arch < _ARCHITECTURE_MAX ? arch_types[arch].usr : NULL;
}

int gpt_type_lookup(const char *type, PartitionDesignator *ret_designator, Architecture *ret_arch) {
        if (!type)
                return -ENOENT;
        for (int a = 0; a < _ARCHITECTURE_MAX; a++) {
                PartitionDesignator d;

                if (strcasecmp(type, arch_types[a].root) == 0)
                        d = PARTITION_ROOT;
                else if (strcasecmp(type, arch_types[a].usr) == 0)
                        d = PARTITION_USR;
                else
                        continue;
                *ret_designator = d;
                *ret_arch = (Architecture) a;
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(common_types); i++)
                if (strcasecmp(type, common_types[i].type) == 0) {
                        *ret_designator = common_types[i].designator;
                        *ret_arch = _ARCHITECTURE_INVALID;
                        return 0;
                }
        return -ENOENT;
}
