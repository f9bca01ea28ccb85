/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
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

/* Character devices a boxctl machine may use; minor -1 is any. */
static const DeviceRule builtin[] = {
        { 'c', 1, 3, DEVICE_ACCESS_ALL, true },    /* null */
        { 'c', 1, 5, DEVICE_ACCESS_ALL, true },    /* zero */
        { 'c', 1, 7, DEVICE_ACCESS_ALL, true },    /* full */
        { 'c', 1, 8, DEVICE_ACCESS_ALL, true },    /* random */
        { 'c', 1, 9, DEVICE_ACCESS_ALL, true },    /* urandom */
        { 'c', 5, 0, DEVICE_ACCESS_ALL, true },    /* tty */
        { 'c', 5, 1, DEVICE_ACCESS_ALL, true },    /* console */
        { 'c', 5, 2, DEVICE_ACCESS_ALL, true },    /* ptmx */
        { 'c', 136, -1, DEVICE_ACCESS_ALL, true }, /* pts/N */
};

/* runc 1.1's AllowedDevices (libcontainer/specconv), in its order, with the
 * node each is for. */
static const struct {
        const char *path;
        DeviceRule rule;
} oci_defaults[] = {
        { NULL, { 'c', -1, -1, DEVICE_ACCESS_MKNOD, true } },
        { NULL, { 'b', -1, -1, DEVICE_ACCESS_MKNOD, true } },
        { "/dev/null", { 'c', 1, 3, DEVICE_ACCESS_ALL, true } },
        { "/dev/random", { 'c', 1, 8, DEVICE_ACCESS_ALL, true } },
        { "/dev/full", { 'c', 1, 7, DEVICE_ACCESS_ALL, true } },
        { "/dev/tty", { 'c', 5, 0, DEVICE_ACCESS_ALL, true } },
        { "/dev/zero", { 'c', 1, 5, DEVICE_ACCESS_ALL, true } },
        { "/dev/urandom", { 'c', 1, 9, DEVICE_ACCESS_ALL, true } },
        { NULL, { 'c', 136, -1, DEVICE_ACCESS_ALL, true } }, /* pts/N, and /dev/console: a pty's peer */
        { NULL, { 'c', 5, 2, DEVICE_ACCESS_ALL, true } },    /* ptmx */
        { NULL, { 'c', 10, 200, DEVICE_ACCESS_ALL, true } }, /* net/tun */
};

void device_policy_done(DevicePolicy *p) {
        free(p->exceptions);
        *p = (DevicePolicy) {};
}

int device_policy_apply(DevicePolicy *p, const DeviceRule *rule) {
        DeviceRule *e = NULL;

        if (rule->type == 'a' && rule->major < 0 && rule->minor < 0) {
                /* As the kernel: "a" clears every exception, whatever its access. */
                p->default_allow = rule->allow;
                p->n_exceptions = 0;
                return 0;
        }
        for (size_t i = 0; i < p->n_exceptions; i++)
                if (p->exceptions[i].type == rule->type && p->exceptions[i].major == rule->major &&
                    p->exceptions[i].minor == rule->minor) {
                        e = &p->exceptions[i];
                        break;
                }
        if (rule->allow == p->default_allow) {
                if (!e)
                        return 0;
                e->access &= ~rule->access;
                if (e->access == 0) {
                        size_t i = (size_t) (e - p->exceptions);

                        memmove(e, e + 1, (p->n_exceptions - i - 1) * sizeof *e);
                        p->n_exceptions--;
                }
                return 0;
        }
        if (e) {
                e->access |= rule->access;
                return 0;
        }
        e = realloc(p->exceptions, (p->n_exceptions + 1) * sizeof *e);
        if (!e)
                return -ENOMEM;
        p->exceptions = e;
        p->exceptions[p->n_exceptions] = *rule;
        p->exceptions[p->n_exceptions].allow = !p->default_allow;
        p->n_exceptions++;
        return 0;
}

int device_policy_add_defaults(DevicePolicy *p, char *const *skip_paths) {
        for (size_t i = 0; i < ELEMENTSOF(oci_defaults); i++) {
                int r;

                if (oci_defaults[i].path && strv_contains(skip_paths, oci_defaults[i].path))
                        continue;
                r = device_policy_apply(p, &oci_defaults[i].rule);
                if (r < 0)
                        return r;
        }
        return 0;
}

int device_access_from_string(const char *s, unsigned *ret) {
        unsigned a = 0;

        if (!s || !*s)
                return -EINVAL;
        for (; *s; s++)
                switch (*s) {
                case 'r':
                        a |= DEVICE_ACCESS_READ;
                        break;
                case 'w':
                        a |= DEVICE_ACCESS_WRITE;
                        break;
                case 'm':
                        a |= DEVICE_ACCESS_MKNOD;
                        break;
                default:
                        return -EINVAL;
                }
        *ret = a;
        return 0;
}

const char *device_rule_to_string(const DeviceRule *r, char *buf, size_t size) {
        char maj[24] = "*", min[24] = "*";

        if (r->major >= 0)
                snprintf(maj, sizeof maj, "%" PRId64, r->major);
        if (r->minor >= 0)
                snprintf(min, sizeof min, "%" PRId64, r->minor);
        snprintf(buf, size, "%c %s:%s %s%s%s", r->type, maj, min, r->access & DEVICE_ACCESS_READ ? "r" : "",
                 r->access & DEVICE_ACCESS_WRITE ? "w" : "", r->access & DEVICE_ACCESS_MKNOD ? "m" : "");
        return buf;
}

/* The kernel takes one rule a write(). */
static int write_rule(int dir_fd, const char *file, const char *rule) {
        _cleanup_close_ int fd = openat(dir_fd, file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        size_t len = strlen(rule);

        if (fd < 0)
                return -errno;
        if (write(fd, rule, len) != (ssize_t) len)
                return errno > 0 ? -errno : -EIO;
        return 0;
}

int device_policy_write_v1(int devices_dir_fd, const DevicePolicy *p) {
        char line[96];
        int r;

        r = write_rule(devices_dir_fd, p->default_allow ? "devices.allow" : "devices.deny", "a");
        if (r < 0)
                return r;
        for (size_t i = 0; i < p->n_exceptions; i++) {
                device_rule_to_string(&p->exceptions[i], line, sizeof line);
                r = write_rule(devices_dir_fd, p->default_allow ? "devices.deny" : "devices.allow", line);
                if (r < 0)
                        return r;
        }
        return 0;
}

#define INSN(c, d, s, o, i) ((struct bpf_insn) { .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

static int bpf(int cmd, union bpf_attr *attr) {
        return (int) syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* One block per exception, as runc's devicefilter: each test that fails
 * jumps past the rest of its block to the next; a block that gets to its
 * end returns the exception's verdict. After the last, the default's. The
 * verifier refuses unreachable instructions: every block is reached. */
static size_t emit_exception(struct bpf_insn *prog, size_t n, const DeviceRule *e) {
        struct bpf_insn block[9];
        size_t k = 0;

        if (e->type != 'a')
                block[k++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, 0,
                                  e->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
        if ((e->access & DEVICE_ACCESS_ALL) != DEVICE_ACCESS_ALL) {
                /* Every access asked for must be one the exception names. */
                block[k++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0);
                block[k++] = INSN(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_1, 0, 0, (int) (~e->access & DEVICE_ACCESS_ALL));
                block[k++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_1, 0, 0, 0);
        }
        if (e->major >= 0)
                block[k++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, 0, (int) e->major);
        if (e->minor >= 0)
                block[k++] = INSN(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, 0, (int) e->minor);
        block[k++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, e->allow ? 1 : 0);
        block[k++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        for (size_t i = 0; i < k; i++) {
                if (BPF_CLASS(block[i].code) == BPF_JMP && BPF_OP(block[i].code) == BPF_JNE)
                        block[i].off = (short) (k - i - 1);
                prog[n + i] = block[i];
        }
        return n + k;
}

int device_filter_attach(int cgroup_fd, const DevicePolicy *p, char **ret_error) {
        DevicePolicy builtin_policy = { .exceptions = (DeviceRule *) builtin, .n_exceptions = ELEMENTSOF(builtin) };
        _cleanup_free_ struct bpf_insn *prog = NULL;
        size_t n = 0;
        union bpf_attr attr;
        static char log[65536];
        int prog_fd, r;

        if (!p)
                p = &builtin_policy;
        prog = calloc(6 + p->n_exceptions * 9 + 2, sizeof *prog);
        if (!prog)
                return -ENOMEM;
        /* r2 = type (low 16 bits of access_type), r3 = access (high 16 bits),
         * r4 = major, r5 = minor */
        prog[n++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_2, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, access_type), 0);
        prog[n++] = INSN(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xFFFF);
        prog[n++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_3, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, access_type), 0);
        prog[n++] = INSN(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16);
        prog[n++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_4, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, major), 0);
        prog[n++] = INSN(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_5, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, minor), 0);
        for (size_t i = 0; i < p->n_exceptions; i++)
                n = emit_exception(prog, n, &p->exceptions[i]);
        prog[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, p->default_allow ? 1 : 0);
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
