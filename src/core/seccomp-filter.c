/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lock.h"
#include "log.h"
#include "macro.h"
#include "seccomp-filter.h"
#include "syscall-groups.h"
#include "util.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(scmp_filter_ctx, seccomp_release)

/* What a machine may call: systemd-nspawn's default list (nspawn-seccomp.c),
 * group by group, and the calls it allows only with a capability. */
static const struct {
        int capability; /* -1: always */
        const char *name;
} machine_allow[] = {
        { -1, "@aio" },
        { -1, "@basic-io" },
        { -1, "@chown" },
        { -1, "@default" },
        { -1, "@file-system" },
        { -1, "@io-event" },
        { -1, "@ipc" },
        { -1, "@mount" },
        { -1, "@network-io" },
        { -1, "@process" },
        { -1, "@resources" },
        { -1, "@setuid" },
        { -1, "@signal" },
        { -1, "@sync" },
        { -1, "@timer" },
        { CAP_SYS_TIME, "@clock" },
        { CAP_SYS_MODULE, "@module" },
        { CAP_SYS_RAWIO, "@raw-io" },
        { CAP_IPC_LOCK, "@memlock" },
        { -1, "brk" },
        { -1, "capget" },
        { -1, "capset" },
        { -1, "copy_file_range" },
        { -1, "fadvise64" },
        { -1, "fadvise64_64" },
        { -1, "flock" },
        { -1, "get_mempolicy" },
        { -1, "getcpu" },
        { -1, "getpriority" },
        { -1, "ioctl" },
        { -1, "ioprio_get" },
        { -1, "kcmp" },
        { -1, "madvise" },
        { -1, "mincore" },
        { -1, "mremap" },
        { -1, "name_to_handle_at" },
        { -1, "oldolduname" },
        { -1, "olduname" },
        { -1, "personality" },
        { -1, "readahead" },
        { -1, "readdir" },
        { -1, "remap_file_pages" },
        { -1, "sched_get_priority_max" },
        { -1, "sched_get_priority_min" },
        { -1, "sched_getattr" },
        { -1, "sched_getparam" },
        { -1, "sched_getscheduler" },
        { -1, "sched_rr_get_interval" },
        { -1, "sched_rr_get_interval_time64" },
        { -1, "sched_yield" },
        { -1, "seccomp" },
        { -1, "sendfile" },
        { -1, "sendfile64" },
        { -1, "setdomainname" },
        { -1, "setfsgid" },
        { -1, "setfsgid32" },
        { -1, "setfsuid" },
        { -1, "setfsuid32" },
        { -1, "sethostname" },
        { -1, "setpgid" },
        { -1, "setsid" },
        { -1, "splice" },
        { -1, "sysinfo" },
        { -1, "tee" },
        { -1, "umask" },
        { -1, "uname" },
        { -1, "userfaultfd" },
        { -1, "vmsplice" },
        /* Beyond nspawn 252: landlock only ever narrows what its caller may
         * do; a guest that sandboxes its own services needs it. */
        { -1, "landlock_create_ruleset" },
        { -1, "landlock_add_rule" },
        { -1, "landlock_restrict_self" },
        { CAP_SYS_PACCT, "acct" },
        { CAP_SYS_PTRACE, "process_vm_readv" },
        { CAP_SYS_PTRACE, "process_vm_writev" },
        { CAP_SYS_PTRACE, "ptrace" },
        { CAP_SYS_BOOT, "reboot" },
        { CAP_SYSLOG, "syslog" },
        { CAP_SYS_TTY_CONFIG, "vhangup" },
};

/* Taken out of the groups above, though nspawn allows them: io_uring has been
 * the way into most recent kernel exploits, and what a guest does with it has
 * a fallback to plain system calls (as Docker's default profile refuses it). */
static const char *const machine_deny[] = {
        "io_uring_setup",
        "io_uring_enter",
        "io_uring_register",
};

#define SPEC_FORMAT 1
#define ARG_RULES "ioctl!TIOCSTI,TIOCLINUX socket!AF_NETLINK/NETLINK_AUDIT"
#define CACHE_MAGIC "BXSCMP1\n"
#define ITEM_MAX 64
#define ITEMS_MAX 1024
#define INSNS_MAX 4096 /* BPF_MAXINSNS */

typedef struct CacheHeader {
        char magic[8];
        uint32_t spec_size;
        uint32_t n_insns[2];
        uint32_t reserved;
        uint64_t checksum; /* FNV-1a of the whole file with this field zero */
} CacheHeader;

struct SeccompProgram {
        char *spec;
        char *cache_path;
        bool from_cache;
        struct sock_filter *insns[2];
        size_t n_insns[2];
};

static uint64_t fnv1a(uint64_t h, const void *p, size_t n) {
        const uint8_t *b = p;

        for (size_t i = 0; i < n; i++) {
                h ^= b[i];
                h *= UINT64_C(0x100000001b3);
        }
        return h;
}
#define FNV_INIT UINT64_C(0xcbf29ce484222325)

static uint64_t relevant_caps(void) {
        uint64_t m = 0;

        for (size_t i = 0; i < ELEMENTSOF(machine_allow); i++)
                if (machine_allow[i].capability >= 0)
                        m |= UINT64_C(1) << machine_allow[i].capability;
        return m;
}

/* A digest of the tables above and of the groups: a cache entry made by a
 * boxctl with another policy is not taken for ours. */
static uint64_t policy_digest(void) {
        static uint64_t digest;
        size_t n;
        const SyscallGroup *g;
        uint64_t h = FNV_INIT;

        if (digest != 0)
                return digest;
        g = syscall_group_table(&n);
        for (size_t i = 0; i < n; i++) {
                h = fnv1a(h, g[i].name, strlen(g[i].name) + 1);
                NULSTR_FOREACH(m, g[i].members)
                        h = fnv1a(h, m, strlen(m) + 1);
        }
        for (size_t i = 0; i < ELEMENTSOF(machine_allow); i++) {
                h = fnv1a(h, &machine_allow[i].capability, sizeof machine_allow[i].capability);
                h = fnv1a(h, machine_allow[i].name, strlen(machine_allow[i].name) + 1);
        }
        for (size_t i = 0; i < ELEMENTSOF(machine_deny); i++)
                h = fnv1a(h, machine_deny[i], strlen(machine_deny[i]) + 1);
        h = fnv1a(h, ARG_RULES, sizeof ARG_RULES);
        return (digest = h ?: 1);
}

static const uint32_t arches[] = {
#if defined(__x86_64__)
        SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32,
#elif defined(__aarch64__)
        SCMP_ARCH_AARCH64, SCMP_ARCH_ARM,
#else
        SCMP_ARCH_NATIVE,
#endif
};

/* ---- items and the allowed set ---- */

static bool name_is_plausible(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > ITEM_MAX)
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || (*p == '-' && s[0] == '@') ||
                      (*p == '@' && p == s)))
                        return false;
        return true;
}

static bool item_is_valid(const char *s) {
        if (!name_is_plausible(s))
                return false;
        if (s[0] == '@')
                return syscall_group_find(s) != NULL;
        return seccomp_syscall_resolve_name(s) != __NR_SCMP_ERROR;
}

int syscall_filter_parse(const char *value, char ***items, char **ret_bad) {
        _cleanup_strv_free_ char **l = NULL;
        bool deny = false;
        const char *p = value;

        if (isempty(value)) {
                strv_freep(items);
                return 0;
        }
        if (*p == '~') {
                deny = true;
                p++;
        }
        l = strv_copy(*items);
        if (!l)
                return -ENOMEM;
        for (;;) {
                _cleanup_free_ char *word = NULL, *item = NULL;
                size_t n;
                int r;

                p += strspn(p, " \t\n");
                n = strcspn(p, " \t\n");
                if (n == 0)
                        break;
                word = strndup(p, n);
                if (!word)
                        return -ENOMEM;
                p += n;
                if (!item_is_valid(word)) {
                        if (ret_bad)
                                *ret_bad = TAKE_PTR(word);
                        return -EINVAL;
                }
                if (strv_length(l) >= ITEMS_MAX)
                        return -E2BIG;
                item = deny ? strjoin3("~", word, "") : TAKE_PTR(word);
                if (!item)
                        return -ENOMEM;
                r = strv_push_dup(&l, item);
                if (r < 0)
                        return r;
        }
        if (strv_length(l) == strv_length(*items)) {
                /* "~" or blanks alone */
                if (ret_bad)
                        *ret_bad = strdup(value);
                return -EINVAL;
        }
        strv_freep(items);
        *items = TAKE_PTR(l);
        return 0;
}

typedef struct NameSet {
        char **names;
        size_t n, allocated;
} NameSet;

static void name_set_done(NameSet *s) {
        for (size_t i = 0; i < s->n; i++)
                free(s->names[i]);
        free(s->names);
}

static ssize_t name_set_index(const NameSet *s, const char *name) {
        for (size_t i = 0; i < s->n; i++)
                if (streq(s->names[i], name))
                        return (ssize_t) i;
        return -1;
}

static int name_set_add(NameSet *s, const char *name) {
        if (name_set_index(s, name) >= 0)
                return 0;
        if (s->n + 1 >= s->allocated) {
                size_t a = MAX(s->allocated * 2, (size_t) 64);
                char **n = reallocarray(s->names, a, sizeof(char *));

                if (!n)
                        return -ENOMEM;
                s->names = n;
                s->allocated = a;
        }
        s->names[s->n] = strdup(name);
        if (!s->names[s->n])
                return -ENOMEM;
        s->n++;
        return 0;
}

static void name_set_remove(NameSet *s, const char *name) {
        ssize_t i = name_set_index(s, name);

        if (i < 0)
                return;
        free(s->names[i]);
        s->names[i] = s->names[--s->n];
}

/* Adds (or removes) NAME, a call or a group, whose members may be groups. */
static int name_set_apply(NameSet *s, const char *name, bool add, unsigned depth) {
        const SyscallGroup *g;
        int r;

        if (name[0] != '@') {
                if (add)
                        return name_set_add(s, name);
                name_set_remove(s, name);
                return 0;
        }
        g = syscall_group_find(name);
        if (!g || depth > 4)
                return -EINVAL;
        NULSTR_FOREACH(m, g->members) {
                r = name_set_apply(s, m, add, depth + 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int cmp_strp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int syscall_filter_allowed(uint64_t caps, char *const *items, char ***ret) {
        _cleanup_(name_set_done) NameSet s = {};
        int r;

        for (size_t i = 0; i < ELEMENTSOF(machine_allow); i++) {
                if (machine_allow[i].capability >= 0 && !(caps & (UINT64_C(1) << machine_allow[i].capability)))
                        continue;
                r = name_set_apply(&s, machine_allow[i].name, true, 0);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < ELEMENTSOF(machine_deny); i++)
                name_set_remove(&s, machine_deny[i]);
        /* As nspawn: what is taken away stays away, whatever the order. */
        for (char *const *i = items; i && *i; i++)
                if ((*i)[0] != '~' && (r = name_set_apply(&s, *i, true, 0)) < 0)
                        return r;
        for (char *const *i = items; i && *i; i++)
                if ((*i)[0] == '~' && (r = name_set_apply(&s, *i + 1, false, 0)) < 0)
                        return r;
        qsort(s.names, s.n, sizeof(char *), cmp_strp);
        if (name_set_add(&s, "") < 0) /* room for the NULL */
                return -ENOMEM;
        free(s.names[--s.n]);
        s.names[s.n] = NULL;
        *ret = TAKE_PTR(s.names);
        s.n = 0;
        return 0;
}

char *syscall_filter_group_list(void) {
        size_t n, len = 0;
        const SyscallGroup *g = syscall_group_table(&n);
        char *s;

        for (size_t i = 0; i < n; i++)
                len += strlen(g[i].name) + 1;
        s = malloc(len + 1);
        if (!s)
                return NULL;
        s[0] = '\0';
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        strcat(s, " ");
                strcat(s, g[i].name);
        }
        return s;
}

/* ---- compiling ---- */

static int ctx_new(uint32_t default_action, scmp_filter_ctx *ret) {
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        int r;

        ctx = seccomp_init(default_action);
        if (!ctx)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(arches); i++) {
                r = seccomp_arch_add(ctx, arches[i]);
                if (r < 0 && r != -EEXIST)
                        return r;
        }
        /* Our own no_new_privs stays off: the machine's setuid programs must work. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (r < 0)
                return r;
        /* A binary tree over the call numbers instead of a list: every call the
         * machine makes walks it. */
        (void) seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
        *ret = TAKE_PTR(ctx);
        return 0;
}

int seccomp_ctx_export(void *ctx, size_t max_insns, struct sock_filter **ret, size_t *ret_n) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *data = NULL;
        struct stat st;
        int r;

        /* libseccomp 2.5 exports to an fd only. */
        fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return r;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) != 0 ||
            (size_t) st.st_size / sizeof(struct sock_filter) > max_insns)
                return -E2BIG;
        data = malloc(st.st_size);
        if (!data)
                return -ENOMEM;
        if (pread(fd, data, st.st_size, 0) != st.st_size)
                return -EIO;
        *ret = (struct sock_filter *) TAKE_PTR(data);
        *ret_n = st.st_size / sizeof(struct sock_filter);
        return 0;
}

/* Every call libseccomp knows on one of our ABIs. */
static int known_calls(NameSet *ret) {
        for (size_t a = 0; a < ELEMENTSOF(arches); a++)
                for (int nr = 0; nr < 1024; nr++) {
                        _cleanup_free_ char *name = seccomp_syscall_resolve_num_arch(arches[a], nr);

                        if (name && name_set_add(ret, name) < 0)
                                return -ENOMEM;
                }
        return 0;
}

static int compile_allow_list(char *const *allowed, struct sock_filter **ret, size_t *ret_n) {
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        _cleanup_(name_set_done) NameSet known = {};
        int r;

        /* Unknown to libseccomp: newer than the filter, so ENOSYS, and the
         * caller falls back as on an older kernel. Known but not allowed: EPERM. */
        r = ctx_new(SCMP_ACT_ERRNO(ENOSYS), &ctx);
        if (r < 0)
                return r;
        r = known_calls(&known);
        if (r < 0)
                return r;
        for (size_t i = 0; i < known.n; i++) {
                const char *name = known.names[i];
                bool allow = bsearch(&name, allowed, strv_length(allowed), sizeof(char *), cmp_strp) != NULL;
                int nr = seccomp_syscall_resolve_name(name);

                if (nr == __NR_SCMP_ERROR)
                        continue;
                r = seccomp_rule_add(ctx, allow ? SCMP_ACT_ALLOW : SCMP_ACT_ERRNO(EPERM), nr, 0);
                if (r < 0 && r != -EDOM && r != -EEXIST)
                        return r;
        }
        return seccomp_ctx_export(ctx, INSNS_MAX, ret, ret_n);
}

/* Refusals by argument, in a filter of their own whose default allows: the
 * allow-list above lets ioctl() and socket() through whole. */
static int compile_arg_filter(struct sock_filter **ret, size_t *ret_n) {
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        static const unsigned long tty_requests[] = { TIOCSTI, TIOCLINUX };
        int r;

        r = ctx_new(SCMP_ACT_ALLOW, &ctx);
        if (r < 0)
                return r;
        /* Pushing input into a terminal: a machine given boxctl's own terminal
         * (--console=pipe) must not type into the host's shell
         * (CVE-2017-5226). The request is an int: compare the low 32 bits
         * only, as the kernel reads only those. */
        for (size_t i = 0; i < ELEMENTSOF(tty_requests); i++) {
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                                     SCMP_A1(SCMP_CMP_MASKED_EQ, UINT32_MAX, tty_requests[i]));
                if (r < 0)
                        return r;
        }
        /* Audit is not namespaced: audit userspace takes EAFNOSUPPORT for "no
         * audit in this kernel" (as systemd-nspawn). */
        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 2,
                             SCMP_A0(SCMP_CMP_MASKED_EQ, UINT32_MAX, AF_NETLINK),
                             SCMP_A2(SCMP_CMP_MASKED_EQ, UINT32_MAX, NETLINK_AUDIT));
        if (r < 0 && r != -EDOM)
                return r;
        return seccomp_ctx_export(ctx, INSNS_MAX, ret, ret_n);
}

/* ---- the cache ---- */

static char *spec_make(uint64_t caps, char *const *items) {
        const struct scmp_version *v = seccomp_version();
        size_t len = 256;
        char *s, *p;

        for (char *const *i = items; i && *i; i++)
                len += strlen(*i) + 1;
        s = malloc(len);
        if (!s)
                return NULL;
        p = s + snprintf(s, len, "boxctl seccomp %d\nlibseccomp %u.%u.%u\npolicy %016llx\narches %zu\ncaps %016llx\nitems",
                         SPEC_FORMAT, v->major, v->minor, v->micro, (unsigned long long) policy_digest(),
                         ELEMENTSOF(arches), (unsigned long long) (caps & relevant_caps()));
        for (char *const *i = items; i && *i; i++)
                p = stpcpy(stpcpy(p, " "), *i);
        strcpy(p, "\n");
        return s;
}

static int cache_dir_open(const char *dir, char **ret_path) {
        _cleanup_free_ char *p = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        if (dir)
                p = strdup(dir);
        else {
                r = runtime_dir_make("seccomp", &p);
                if (r < 0)
                        return r;
        }
        if (!p)
                return -ENOMEM;
        (void) mkdir(p, 0700);
        fd = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        /* Only a directory nobody else can write to: what is in it is run. */
        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_uid != geteuid() || (st.st_mode & 0022))
                return -EPERM;
        *ret_path = TAKE_PTR(p);
        return TAKE_FD(fd);
}

static uint64_t cache_checksum(const void *data, size_t size) {
        CacheHeader h;

        memcpy(&h, data, sizeof h);
        h.checksum = 0;
        return fnv1a(fnv1a(FNV_INIT, &h, sizeof h), (const uint8_t *) data + sizeof h, size - sizeof h);
}

static int cache_read(int dirfd, const char *name, const char *spec, SeccompProgram *p) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *data = NULL;
        CacheHeader h;
        struct stat st;
        size_t spec_size = strlen(spec), size;

        fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_size < (off_t) sizeof h || st.st_size > 1024 * 1024)
                return -EBADMSG;
        size = st.st_size;
        data = malloc(size);
        if (!data)
                return -ENOMEM;
        if (pread(fd, data, size, 0) != (ssize_t) size)
                return -EBADMSG;
        memcpy(&h, data, sizeof h);
        if (memcmp(h.magic, CACHE_MAGIC, sizeof h.magic) != 0 || h.spec_size != spec_size)
                return -EBADMSG;
        for (size_t i = 0; i < 2; i++)
                if (h.n_insns[i] == 0 || h.n_insns[i] > INSNS_MAX)
                        return -EBADMSG;
        if (size != sizeof h + spec_size + ((size_t) h.n_insns[0] + h.n_insns[1]) * sizeof(struct sock_filter))
                return -EBADMSG;
        /* Another libseccomp, another policy or other items: not ours. */
        if (memcmp(data + sizeof h, spec, spec_size) != 0)
                return -ESTALE;
        if (cache_checksum(data, size) != h.checksum)
                return -EBADMSG;
        for (size_t i = 0, off = sizeof h + spec_size; i < 2; off += h.n_insns[i] * sizeof(struct sock_filter), i++) {
                p->n_insns[i] = h.n_insns[i];
                p->insns[i] = malloc(p->n_insns[i] * sizeof(struct sock_filter));
                if (!p->insns[i])
                        return -ENOMEM;
                memcpy(p->insns[i], data + off, p->n_insns[i] * sizeof(struct sock_filter));
        }
        return 0;
}

static int cache_write(int dirfd, const char *dir, const char *name, const SeccompProgram *p) {
        _cleanup_free_ char *data = NULL, *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t spec_size = strlen(p->spec), size, off;
        CacheHeader h = { .spec_size = spec_size, .n_insns = { p->n_insns[0], p->n_insns[1] } };
        int r = 0;

        memcpy(h.magic, CACHE_MAGIC, sizeof h.magic);
        size = sizeof h + spec_size + (p->n_insns[0] + p->n_insns[1]) * sizeof(struct sock_filter);
        data = calloc(1, size);
        if (!data)
                return -ENOMEM;
        memcpy(data, &h, sizeof h);
        memcpy(data + sizeof h, p->spec, spec_size);
        off = sizeof h + spec_size;
        for (size_t i = 0; i < 2; i++) {
                memcpy(data + off, p->insns[i], p->n_insns[i] * sizeof(struct sock_filter));
                off += p->n_insns[i] * sizeof(struct sock_filter);
        }
        h.checksum = cache_checksum(data, size);
        memcpy(data, &h, sizeof h);

        /* Written whole under a temporary name, then renamed over: a reader
         * sees the old entry, or none, or the new one. */
        if (asprintf(&tmp, "%s/.#%s.XXXXXX", dir, name) < 0)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (write(fd, data, size) != (ssize_t) size)
                r = -EIO;
        else if (renameat(AT_FDCWD, tmp, dirfd, name) < 0)
                r = -errno;
        if (r < 0)
                (void) unlink(tmp);
        return r;
}

SeccompProgram *seccomp_program_free(SeccompProgram *p) {
        if (!p)
                return NULL;
        free(p->spec);
        free(p->cache_path);
        free(p->insns[0]);
        free(p->insns[1]);
        free(p);
        return NULL;
}

static int program_compile(uint64_t caps, char *const *items, SeccompProgram *p) {
        _cleanup_strv_free_ char **allowed = NULL;
        int r;

        r = syscall_filter_allowed(caps, items, &allowed);
        if (r < 0)
                return r;
        r = compile_allow_list(allowed, &p->insns[0], &p->n_insns[0]);
        if (r < 0)
                return r;
        return compile_arg_filter(&p->insns[1], &p->n_insns[1]);
}

int seccomp_program_get(const char *cache_dir, uint64_t caps, char *const *items, SeccompProgram **ret) {
        _cleanup_(seccomp_program_freep) SeccompProgram *p = NULL;
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int dirfd = -EBADF;
        char name[32];
        int r;

        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->spec = spec_make(caps, items);
        if (!p->spec)
                return -ENOMEM;
        snprintf(name, sizeof name, "%016llx.bpf", (unsigned long long) fnv1a(FNV_INIT, p->spec, strlen(p->spec)));

        dirfd = cache_dir_open(cache_dir, &dir);
        if (dirfd < 0)
                log_debug_errno(dirfd, "Not using the system call filter cache: %m");
        else {
                r = cache_read(dirfd, name, p->spec, p);
                if (r >= 0) {
                        p->from_cache = true;
                        p->cache_path = strjoin3(dir, "/", name);
                        *ret = TAKE_PTR(p);
                        return 0;
                }
                if (r != -ENOENT)
                        log_debug_errno(r, "Cached system call filter %s/%s unusable, rebuilding: %m", dir, name);
                for (size_t i = 0; i < 2; i++) {
                        free(p->insns[i]);
                        p->insns[i] = NULL;
                        p->n_insns[i] = 0;
                }
        }

        r = program_compile(caps, items, p);
        if (r < 0)
                return r;
        if (dirfd >= 0) {
                r = cache_write(dirfd, dir, name, p);
                if (r < 0)
                        log_debug_errno(r, "Could not cache the system call filter in %s: %m", dir);
                else
                        p->cache_path = strjoin3(dir, "/", name);
        }
        *ret = TAKE_PTR(p);
        return 0;
}

bool seccomp_program_from_cache(const SeccompProgram *p) {
        return p->from_cache;
}

const char *seccomp_program_cache_path(const SeccompProgram *p) {
        return p->cache_path;
}

const void *seccomp_program_insns(const SeccompProgram *p, size_t i, size_t *ret_n) {
        if (i >= 2)
                return NULL;
        *ret_n = p->n_insns[i];
        return p->insns[i];
}

int seccomp_program_install(const SeccompProgram *p) {
        for (size_t i = 0; i < 2; i++) {
                struct sock_fprog prog = {
                        .len = p->n_insns[i],
                        .filter = p->insns[i],
                };

                if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
                        return -errno;
        }
        return 0;
}

/* ---- per machine ---- */

static int record_path(const char *machine_name, bool make, char **ret) {
        _cleanup_free_ char *dir = NULL;
        int r;

        if (make) {
                r = runtime_dir_make("seccomp", &dir);
                if (r < 0)
                        return r;
        } else if (!(dir = strjoin3(runtime_dir(), "/", "seccomp")))
                return -ENOMEM;
        *ret = strjoin3(dir, "/machine-", machine_name);
        return *ret ? 0 : -ENOMEM;
}

int seccomp_machine_record_save(const char *machine_name, char *const *items) {
        _cleanup_free_ char *path = NULL, *text = NULL, *tmp = NULL;
        size_t len = 1;
        int r;

        if (!items || !items[0]) {
                seccomp_machine_record_remove(machine_name);
                return 0;
        }
        r = record_path(machine_name, true, &path);
        if (r < 0)
                return r;
        for (char *const *i = items; *i; i++)
                len += strlen(*i) + 1;
        text = malloc(len);
        if (!text)
                return -ENOMEM;
        text[0] = '\0';
        for (char *const *i = items; *i; i++)
                strcat(strcat(text, *i), "\n");
        tmp = strjoin3(path, ".", "tmp");
        if (!tmp)
                return -ENOMEM;
        r = write_file_at(AT_FDCWD, tmp, text, 0600);
        if (r < 0)
                return r;
        if (rename(tmp, path) < 0) {
                r = -errno;
                (void) unlink(tmp);
                return r;
        }
        return 0;
}

int seccomp_machine_record_load(const char *machine_name, char ***ret_items) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        _cleanup_strv_free_ char **items = NULL;
        int r;

        r = record_path(machine_name, false, &path);
        if (r < 0)
                return r;
        r = read_file_at(AT_FDCWD, path, 64 * 1024, &text);
        if (r == -ENOENT) {
                *ret_items = NULL;
                return 0;
        }
        if (r < 0)
                return r;
        for (char *line = text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                /* Written by us, but checked as any other input. */
                if (!item_is_valid(line[0] == '~' ? line + 1 : line))
                        return -EBADMSG;
                r = strv_push_dup(&items, line);
                if (r < 0)
                        return r;
        }
        *ret_items = TAKE_PTR(items);
        return 0;
}

void seccomp_machine_record_remove(const char *machine_name) {
        _cleanup_free_ char *path = NULL;

        if (record_path(machine_name, false, &path) >= 0)
                (void) unlink(path);
}
