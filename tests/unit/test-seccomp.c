/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The system call filter: its items, the allowed set, the compiled programs
 * (run through a BPF interpreter, so no filter is installed here) and the
 * cache. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/netlink.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../helpers/bpf-eval.h"
#include "caps.h"
#include "seccomp-filter.h"
#include "tap.h"
#include "util.h"

static char cache_dir[] = "/tmp/test-seccomp.XXXXXX";

/* A check with a sentence of its own, for checks whose expression says little. */
static _printf_(2, 3) void ok(bool cond, const char *fmt, ...) {
        va_list ap;

        tap_n++;
        if (!cond)
                tap_failed++;
        printf("%sok %u - ", cond ? "" : "not ", tap_n);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
}

static char *mfree_str(char *p) {
        free(p);
        return NULL;
}

static uint32_t eval(const SeccompProgram *p, uint32_t arch, int nr, const uint64_t args[6]) {
        const struct sock_filter *progs[2];
        size_t lens[2];
        struct seccomp_data d = { .nr = nr, .arch = arch };

        for (size_t i = 0; i < 2; i++)
                progs[i] = seccomp_program_insns(p, i, &lens[i]);
        if (args)
                memcpy(d.args, args, sizeof d.args);
        return bpf_eval_all(progs, lens, 2, &d);
}

static uint32_t eval_name(const SeccompProgram *p, uint32_t arch, const char *name) {
        int nr = seccomp_syscall_resolve_name_arch(arch, name);

        if (nr < 0)
                return BPF_EVAL_BAD;
        return eval(p, arch, nr, NULL);
}

#define ERRNO(e) (SECCOMP_RET_ERRNO | (e))

static void test_parse(void) {
        _cleanup_strv_free_ char **items = NULL;
        _cleanup_free_ char *bad = NULL;
        int r;

        ok(syscall_filter_parse("@clock kexec_load", &items, NULL) == 0 && strv_length(items) == 2 &&
                   streq(items[0], "@clock") && streq(items[1], "kexec_load"),
           "parse: a group and a call are added");
        ok(syscall_filter_parse("~@mount  ptrace\t", &items, NULL) == 0 && strv_length(items) == 4 &&
                   streq(items[2], "~@mount") && streq(items[3], "~ptrace"),
           "parse: a leading ~ removes every item of its list");
        r = syscall_filter_parse("read nosuchcall", &items, &bad);
        ok(r == -EINVAL && bad && streq(bad, "nosuchcall") && strv_length(items) == 4,
           "parse: an unknown call is named, and nothing is added");
        bad = mfree_str(bad);
        r = syscall_filter_parse("@nosuchgroup", &items, &bad);
        ok(r == -EINVAL && bad && streq(bad, "@nosuchgroup"), "parse: an unknown group is named");
        bad = mfree_str(bad);
        ok(syscall_filter_parse("~", &items, &bad) == -EINVAL, "parse: ~ alone is refused");
        bad = mfree_str(bad);
        ok(syscall_filter_parse("READ", &items, &bad) == -EINVAL, "parse: names are lower case");
        bad = mfree_str(bad);
        ok(syscall_filter_parse("../read", &items, &bad) == -EINVAL, "parse: odd characters are refused");
        bad = mfree_str(bad);
        ok(syscall_filter_parse("", &items, NULL) == 0 && !items, "parse: an empty value clears the list");
}

static bool has(char **l, const char *s) {
        return strv_contains(l, s);
}

static void test_allowed(void) {
        _cleanup_strv_free_ char **def = NULL, **all = NULL, **mod = NULL;
        char *items[] = { "@clock", "io_uring_setup", "~@mount", "~ptrace", "mount", NULL };

        ok(syscall_filter_allowed(caps_default(), NULL, &def) == 0, "allowed: default set");
        ok(has(def, "read") && has(def, "mount") && has(def, "clone3") && has(def, "reboot") && has(def, "ptrace"),
           "allowed: an OS's calls are in it");
        ok(!has(def, "kexec_load") && !has(def, "init_module") && !has(def, "bpf") && !has(def, "perf_event_open") &&
                   !has(def, "open_by_handle_at") && !has(def, "add_key") && !has(def, "keyctl") && !has(def, "syslog") &&
                   !has(def, "settimeofday") && !has(def, "swapon") && !has(def, "iopl") && !has(def, "acct") &&
                   !has(def, "io_uring_setup") && !has(def, "mlock") && !has(def, "fanotify_init") &&
                   !has(def, "quotactl") && !has(def, "pidfd_getfd"),
           "allowed: the host's kernel interfaces are not");
        ok(syscall_filter_allowed(UINT64_MAX, NULL, &all) == 0 && has(all, "syslog") && has(all, "settimeofday") &&
                   has(all, "init_module") && has(all, "iopl") && has(all, "mlock") && has(all, "acct") &&
                   !has(all, "kexec_load") && !has(all, "bpf"),
           "allowed: calls that need a capability come with it, the rest never");
        ok(syscall_filter_allowed(caps_default(), items, &mod) == 0 && has(mod, "settimeofday") &&
                   has(mod, "io_uring_setup") && !has(mod, "mount") && !has(mod, "umount2") && !has(mod, "ptrace"),
           "allowed: items widen and narrow it; a removal wins over an addition");
        bool sorted = true;
        for (size_t i = 1; def[i]; i++)
                sorted = sorted && strcmp(def[i - 1], def[i]) < 0;
        ok(sorted, "allowed: sorted, no duplicates");
}

static void test_program(void) {
        _cleanup_(seccomp_program_freep) SeccompProgram *p = NULL;
        int r;

        r = seccomp_program_get(cache_dir, caps_default(), NULL, &p);
        ok(r == 0, "program: compiled (%d)", r);
        if (r < 0)
                return;
        ok(eval_name(p, AUDIT_ARCH_X86_64, "read") == SECCOMP_RET_ALLOW &&
                   eval_name(p, AUDIT_ARCH_X86_64, "mount") == SECCOMP_RET_ALLOW &&
                   eval_name(p, AUDIT_ARCH_X86_64, "reboot") == SECCOMP_RET_ALLOW,
           "program: allowed calls pass on x86-64");
        ok(eval_name(p, AUDIT_ARCH_X86_64, "kexec_load") == ERRNO(EPERM) &&
                   eval_name(p, AUDIT_ARCH_X86_64, "open_by_handle_at") == ERRNO(EPERM) &&
                   eval_name(p, AUDIT_ARCH_X86_64, "io_uring_setup") == ERRNO(EPERM) &&
                   eval_name(p, AUDIT_ARCH_X86_64, "syslog") == ERRNO(EPERM),
           "program: refused calls get EPERM on x86-64");
        ok(eval_name(p, AUDIT_ARCH_I386, "kexec_load") == ERRNO(EPERM) &&
                   eval_name(p, AUDIT_ARCH_I386, "read") == SECCOMP_RET_ALLOW &&
                   eval_name(p, AUDIT_ARCH_I386, "stime") == ERRNO(EPERM),
           "program: the same on i386, whose calls have other numbers");
        /* x32 shares x86-64's audit arch; its numbers have bit 30 set. */
        ok(eval(p, AUDIT_ARCH_X86_64, seccomp_syscall_resolve_name_arch(SCMP_ARCH_X32, "read"), NULL) ==
                           SECCOMP_RET_ALLOW &&
                   eval(p, AUDIT_ARCH_X86_64, seccomp_syscall_resolve_name_arch(SCMP_ARCH_X32, "kexec_load"), NULL) ==
                           ERRNO(EPERM) &&
                   seccomp_syscall_resolve_name_arch(SCMP_ARCH_X32, "read") == 0x40000000,
           "program: and on x32 (read allowed, kexec_load refused)");
        ok(eval(p, AUDIT_ARCH_X86_64, 1000, NULL) == ERRNO(ENOSYS) && eval(p, AUDIT_ARCH_I386, 1000, NULL) == ERRNO(ENOSYS),
           "program: a call newer than libseccomp gets ENOSYS");

        int ioctl_nr = seccomp_syscall_resolve_name_arch(AUDIT_ARCH_X86_64, "ioctl");
        int socket_nr = seccomp_syscall_resolve_name_arch(AUDIT_ARCH_X86_64, "socket");
        ok(eval(p, AUDIT_ARCH_X86_64, ioctl_nr, (uint64_t[6]) { 0, TIOCSTI }) == ERRNO(EPERM) &&
                   eval(p, AUDIT_ARCH_X86_64, ioctl_nr, (uint64_t[6]) { 0, UINT64_C(0x100000000) | TIOCSTI }) == ERRNO(EPERM) &&
                   eval(p, AUDIT_ARCH_X86_64, ioctl_nr, (uint64_t[6]) { 0, TIOCLINUX }) == ERRNO(EPERM),
           "program: TIOCSTI and TIOCLINUX refused, whatever the upper bits");
        ok(eval(p, AUDIT_ARCH_X86_64, ioctl_nr, (uint64_t[6]) { 0, TCGETS }) == SECCOMP_RET_ALLOW,
           "program: other terminal ioctls pass");
        ok(eval(p, AUDIT_ARCH_X86_64, socket_nr, (uint64_t[6]) { AF_NETLINK, SOCK_RAW, NETLINK_AUDIT }) ==
                           ERRNO(EAFNOSUPPORT) &&
                   eval(p, AUDIT_ARCH_X86_64, socket_nr, (uint64_t[6]) { AF_NETLINK, SOCK_RAW, NETLINK_ROUTE }) ==
                           SECCOMP_RET_ALLOW,
           "program: audit sockets get EAFNOSUPPORT, other netlink sockets pass");
}

static void test_widen_narrow(void) {
        _cleanup_(seccomp_program_freep) SeccompProgram *p = NULL;
        char *items[] = { "@clock", "~@mount", NULL };

        ok(seccomp_program_get(cache_dir, caps_default(), items, &p) == 0 &&
                   eval_name(p, AUDIT_ARCH_X86_64, "settimeofday") == SECCOMP_RET_ALLOW &&
                   eval_name(p, AUDIT_ARCH_X86_64, "mount") == ERRNO(EPERM) &&
                   eval_name(p, AUDIT_ARCH_X86_64, "read") == SECCOMP_RET_ALLOW,
           "program: --system-call-filter items reach the program");
}

static int cache_file_modify(const char *path, off_t off, const char *bytes, size_t n, bool truncate_there) {
        _cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        if (truncate_there)
                return RET_NERRNO(ftruncate(fd, off));
        return pwrite(fd, bytes, n, off) == (ssize_t) n ? 0 : -EIO;
}

static bool same_program(const SeccompProgram *a, const SeccompProgram *b) {
        for (size_t i = 0; i < 2; i++) {
                size_t na, nb;
                const void *pa = seccomp_program_insns(a, i, &na), *pb = seccomp_program_insns(b, i, &nb);

                if (na != nb || memcmp(pa, pb, na * 8) != 0)
                        return false;
        }
        return true;
}

static void test_cache(void) {
        _cleanup_(seccomp_program_freep) SeccompProgram *first = NULL, *second = NULL;
        _cleanup_free_ char *path = NULL;
        uint64_t caps = caps_default() & ~(UINT64_C(1) << CAP_SYS_BOOT); /* an entry of its own */
        struct {
                const char *what;
                off_t off;
                const char *bytes;
                bool truncate;
        } damage[] = {
                { "a flipped byte in the program", -8, "\xff", false },
                { "a truncated file", 40, NULL, true },
                { "another libseccomp's entry", 32 + STRLEN("boxctl seccomp 1\nlibseccomp "), "0", false },
                { "a bad magic", 0, "X", false },
        };

        ok(seccomp_program_get(cache_dir, caps, NULL, &first) == 0 && !seccomp_program_from_cache(first) &&
                   seccomp_program_cache_path(first),
           "cache: the first build is stored");
        if (!first || !seccomp_program_cache_path(first))
                return;
        path = strdup(seccomp_program_cache_path(first));
        ok(seccomp_program_get(cache_dir, caps, NULL, &second) == 0 && seccomp_program_from_cache(second) &&
                   same_program(first, second),
           "cache: the second is read back, the same");

        for (size_t i = 0; i < ELEMENTSOF(damage); i++) {
                _cleanup_(seccomp_program_freep) SeccompProgram *again = NULL, *third = NULL;
                struct stat st;
                off_t off = damage[i].off;

                if (off < 0 && stat(path, &st) == 0)
                        off += st.st_size;
                ok(cache_file_modify(path, off, damage[i].bytes, damage[i].bytes ? strlen(damage[i].bytes) : 0,
                                     damage[i].truncate) == 0,
                   "cache: damaged: %s", damage[i].what);
                ok(seccomp_program_get(cache_dir, caps, NULL, &again) == 0 && !seccomp_program_from_cache(again) &&
                           same_program(first, again),
                   "cache: %s is rebuilt, not loaded", damage[i].what);
                ok(seccomp_program_get(cache_dir, caps, NULL, &third) == 0 && seccomp_program_from_cache(third),
                   "cache: and the rebuilt entry is good again");
        }

        /* A cache directory others can write to is not read. */
        _cleanup_(seccomp_program_freep) SeccompProgram *open_dir = NULL;
        ok(chmod(cache_dir, 0777) == 0 && seccomp_program_get(cache_dir, caps, NULL, &open_dir) == 0 &&
                   !seccomp_program_from_cache(open_dir) && !seccomp_program_cache_path(open_dir) &&
                   same_program(first, open_dir),
           "cache: a directory writable by others is not used");
        (void) chmod(cache_dir, 0700);
}

int main(void) {
        char cmd[128];

        if (!mkdtemp(cache_dir))
                return 1;
        test_parse();
        test_allowed();
        test_program();
        test_widen_narrow();
        test_cache();
        snprintf(cmd, sizeof cmd, "rm -rf %s", cache_dir);
        if (system(cmd) != 0)
                printf("# could not remove %s\n", cache_dir);
        return tap_done();
}
