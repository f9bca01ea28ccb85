/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <linux/bpf.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "device-filter.h"
#include "macro.h"
#include "util.h"

/* Character devices a machine may use; minor -1 is any. */
static const struct {
        unsigned major;
        int minor;
} allowed[] = {
        { 1, 3 },   /* null */
        { 1, 5 },   /* zero */
        { 1, 7 },   /* full */
        { 1, 8 },   /* random */
        { 1, 9 },   /* urandom */
        { 5, 0 },   /* tty */
        { 5, 1 },   /* console */
        { 5, 2 },   /* ptmx */
        { 136, -1 }, /* pts/N */
};

#define INSN(c, d, s, o, i) ((struct bpf_insn) { .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

static int bpf(int cmd, union bpf_attr *attr) {
        return (int) syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

int device_filter_attach(int cgroup_fd, char **ret_error) {
        struct bpf_insn prog[5 + ELEMENTSOF(allowed) * 2 + 5];
        size_t n = 0;
        union bpf_attr attr;
        static char log[65536];
        int prog_fd, r;

        /* r2 = type (low 16 bits of access_type), r4 = major, r5 = minor */
        prog[n++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_2, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, access_type), 0);
        prog[n++] = INSN(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xFFFF);
        prog[n++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_4, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, major), 0);
        prog[n++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_5, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, minor), 0);
        /* Layout: 4 loads, the type test, 2 instructions per entry, a jump for
         * "no entry matched", then allow (2) and deny (2). The verifier refuses
         * unreachable instructions, so nothing here may be dead. */
        size_t entries_end = 5 + ELEMENTSOF(allowed) * 2, allow_at = entries_end + 1, deny_at = entries_end + 3;
        /* Block devices: never. */
        prog[n] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, (short) (deny_at - n - 1), BPF_DEVCG_DEV_CHAR);
        n++;
        for (size_t i = 0; i < ELEMENTSOF(allowed); i++) {
                /* if major != M: next entry; if minor == m (or any): allow; else next entry */
                prog[n] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, 1, (int) allowed[i].major);
                n++;
                if (allowed[i].minor < 0)
                        prog[n] = INSN(BPF_JMP | BPF_JA, 0, 0, (short) (allow_at - n - 1), 0);
                else
                        prog[n] = INSN(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_5, 0, (short) (allow_at - n - 1), allowed[i].minor);
                n++;
        }
        prog[n++] = INSN(BPF_JMP | BPF_JA, 0, 0, 2, 0); /* no entry matched: deny */
        /* allow: */
        prog[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1);
        prog[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        /* deny: */
        prog[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
        prog[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);

        memset(&attr, 0, sizeof attr);
        attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        attr.insns = (uint64_t) (uintptr_t) prog;
        attr.insn_cnt = (uint32_t) n;
        attr.license = (uint64_t) (uintptr_t) "GPL";
        /* The verifier's log only when asked: a full log buffer fails the load (ENOSPC). */
        if (getenv("BOXCTL_DEBUG_BPF")) {
                attr.log_buf = (uint64_t) (uintptr_t) log;
                attr.log_size = sizeof log;
                attr.log_level = 1;
        }
        prog_fd = bpf(BPF_PROG_LOAD, &attr);
        if (prog_fd < 0) {
                r = -errno;
                if (getenv("BOXCTL_DEBUG_BPF") && log[0])
                        return error_set(ret_error, r, "the BPF verifier said:\n%s", log);
                return r;
        }

        /* ALLOW_MULTI: a systemd inside may add programs of its own below; a
         * device is then usable only if every program allows it. */
        memset(&attr, 0, sizeof attr);
        attr.target_fd = (uint32_t) cgroup_fd;
        attr.attach_bpf_fd = (uint32_t) prog_fd;
        attr.attach_type = BPF_CGROUP_DEVICE;
        attr.attach_flags = BPF_F_ALLOW_MULTI;
        r = bpf(BPF_PROG_ATTACH, &attr) < 0 ? -errno : 0;
        /* The attachment holds the program: the fd may go. */
        safe_close(prog_fd);
        return r;
}
