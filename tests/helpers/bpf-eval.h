/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A classic BPF interpreter for seccomp programs, for tests: what would the
 * kernel answer to one system call? Covers what libseccomp emits (loads of
 * seccomp_data words, ALU, conditional jumps, returns); anything else, or a
 * jump out of the program, gives BPF_EVAL_BAD. */

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define BPF_EVAL_BAD UINT32_C(0xffffffff)

static inline uint32_t bpf_eval(const struct sock_filter *insns, size_t n, const struct seccomp_data *d) {
        uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {};
        const uint8_t *data = (const uint8_t *) d;

        for (size_t pc = 0; pc < n; pc++) {
                const struct sock_filter *f = &insns[pc];
                uint32_t src = BPF_SRC(f->code) == BPF_X ? x : f->k;

                switch (BPF_CLASS(f->code)) {
                case BPF_LD:
                        if (f->code == (BPF_LD | BPF_W | BPF_ABS)) {
                                if (f->k > sizeof *d - 4 || f->k % 4)
                                        return BPF_EVAL_BAD;
                                memcpy(&a, data + f->k, 4);
                        } else if (f->code == (BPF_LD | BPF_IMM))
                                a = f->k;
                        else if (f->code == (BPF_LD | BPF_MEM) && f->k < BPF_MEMWORDS)
                                a = mem[f->k];
                        else if (f->code == (BPF_LD | BPF_W | BPF_LEN))
                                a = sizeof *d;
                        else
                                return BPF_EVAL_BAD;
                        break;
                case BPF_LDX:
                        if (f->code == (BPF_LDX | BPF_IMM))
                                x = f->k;
                        else if (f->code == (BPF_LDX | BPF_MEM) && f->k < BPF_MEMWORDS)
                                x = mem[f->k];
                        else if (f->code == (BPF_LDX | BPF_W | BPF_LEN))
                                x = sizeof *d;
                        else
                                return BPF_EVAL_BAD;
                        break;
                case BPF_ST:
                        if (f->k >= BPF_MEMWORDS)
                                return BPF_EVAL_BAD;
                        mem[f->k] = a;
                        break;
                case BPF_STX:
                        if (f->k >= BPF_MEMWORDS)
                                return BPF_EVAL_BAD;
                        mem[f->k] = x;
                        break;
                case BPF_ALU:
                        switch (BPF_OP(f->code)) {
                        case BPF_ADD: a += src; break;
                        case BPF_SUB: a -= src; break;
                        case BPF_MUL: a *= src; break;
                        case BPF_DIV: if (src == 0) return BPF_EVAL_BAD; a /= src; break;
                        case BPF_MOD: if (src == 0) return BPF_EVAL_BAD; a %= src; break;
                        case BPF_AND: a &= src; break;
                        case BPF_OR: a |= src; break;
                        case BPF_XOR: a ^= src; break;
                        case BPF_LSH: a = src < 32 ? a << src : 0; break;
                        case BPF_RSH: a = src < 32 ? a >> src : 0; break;
                        case BPF_NEG: a = -a; break;
                        default: return BPF_EVAL_BAD;
                        }
                        break;
                case BPF_JMP: {
                        bool t;

                        if (BPF_OP(f->code) == BPF_JA) {
                                pc += f->k;
                                break;
                        }
                        switch (BPF_OP(f->code)) {
                        case BPF_JEQ: t = a == src; break;
                        case BPF_JGT: t = a > src; break;
                        case BPF_JGE: t = a >= src; break;
                        case BPF_JSET: t = (a & src) != 0; break;
                        default: return BPF_EVAL_BAD;
                        }
                        pc += t ? f->jt : f->jf;
                        break;
                }
                case BPF_RET:
                        return BPF_RVAL(f->code) == BPF_A ? a : f->k;
                case BPF_MISC:
                        if (BPF_MISCOP(f->code) == BPF_TAX)
                                x = a;
                        else
                                a = x;
                        break;
                default:
                        return BPF_EVAL_BAD;
                }
        }
        return BPF_EVAL_BAD;
}

/* Of several filters the kernel takes the most restrictive answer; of equal
 * ones, the newest filter's (kernel/seccomp.c, seccomp_run_filters()). PROGS
 * in the order they were installed. */
static inline uint32_t bpf_eval_all(const struct sock_filter *const *progs, const size_t *lens, size_t n,
                                    const struct seccomp_data *d) {
        uint32_t ret = SECCOMP_RET_ALLOW;

        for (size_t i = n; i > 0; i--) {
                uint32_t r = bpf_eval(progs[i - 1], lens[i - 1], d);

                if (r == BPF_EVAL_BAD)
                        return r;
                if ((int32_t) (r & SECCOMP_RET_ACTION_FULL) < (int32_t) (ret & SECCOMP_RET_ACTION_FULL))
                        ret = r;
        }
        return ret;
}
