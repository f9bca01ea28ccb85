/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "oci-seccomp.h"
#include "seccomp-filter.h"
#include "util.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(scmp_filter_ctx, seccomp_release)

#define INSNS_MAX 65536 /* BPF_MAXINSNS is 4096; a profile over it fails at the install */

void oci_seccomp_done(OciSeccomp *s) {
        free(s->insns);
        *s = (OciSeccomp) {};
}

/* "SCMP_ACT_ERRNO" and errnoRet (EPERM when absent, as runc) into a libseccomp action. */
static int parse_action(json_object *obj, const char *path, const char *key, const char *ret_key, uint32_t *ret,
                        char **ret_error) {
        json_object *v, *e;
        const char *a;
        uint32_t ret_value = EPERM;

        if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
                return error_set(ret_error, -EINVAL, "%s.%s: missing or not a string", path, key);
        if (json_object_object_get_ex(obj, ret_key, &e) && e) {
                if (!json_object_is_type(e, json_type_int) || json_object_get_int64(e) < 0 ||
                    json_object_get_int64(e) > 0xffff)
                        return error_set(ret_error, -EINVAL, "%s.%s: not an errno number", path, ret_key);
                ret_value = (uint32_t) json_object_get_int64(e);
        }
        a = json_object_get_string(v);
        if (streq(a, "SCMP_ACT_ALLOW"))
                *ret = SCMP_ACT_ALLOW;
        else if (streq(a, "SCMP_ACT_ERRNO"))
                *ret = SCMP_ACT_ERRNO(ret_value);
        else if (streq(a, "SCMP_ACT_KILL") || streq(a, "SCMP_ACT_KILL_THREAD"))
                *ret = SCMP_ACT_KILL_THREAD;
        else if (streq(a, "SCMP_ACT_KILL_PROCESS"))
                *ret = SCMP_ACT_KILL_PROCESS;
        else if (streq(a, "SCMP_ACT_TRAP"))
                *ret = SCMP_ACT_TRAP;
        else if (streq(a, "SCMP_ACT_TRACE"))
                *ret = SCMP_ACT_TRACE(ret_value);
        else if (streq(a, "SCMP_ACT_LOG"))
                *ret = SCMP_ACT_LOG;
        else if (streq(a, "SCMP_ACT_NOTIFY"))
                return error_set(ret_error, -EOPNOTSUPP, "%s.%s: SCMP_ACT_NOTIFY (a listener) is not supported", path, key);
        else
                return error_set(ret_error, -EINVAL, "%s.%s: \"%s\" is not a seccomp action", path, key, a);
        return 0;
}

/* "SCMP_ARCH_X86_64" -> libseccomp's "x86_64". */
static int parse_arch(const char *name, uint32_t *ret) {
        char lower[32];
        size_t i;

        if (!startswith(name, "SCMP_ARCH_") || strlen(name + 10) >= sizeof lower)
                return -EINVAL;
        for (i = 0; name[10 + i]; i++)
                lower[i] = (char) tolower((unsigned char) name[10 + i]);
        lower[i] = 0;
        *ret = seccomp_arch_resolve_name(lower);
        return *ret != 0 ? 0 : -EINVAL;
}

static int parse_arches(scmp_filter_ctx ctx, json_object *obj, char **ret_error) {
        json_object *v;
        int r;

        if (!json_object_object_get_ex(obj, "architectures", &v) || !v)
                return 0; /* the native one, which seccomp_init() added */
        if (!json_object_is_type(v, json_type_array))
                return error_set(ret_error, -EINVAL, "linux.seccomp.architectures: not an array");
        for (size_t i = 0; i < json_object_array_length(v); i++) {
                json_object *e = json_object_array_get_idx(v, i);
                uint32_t arch;

                if (!json_object_is_type(e, json_type_string) || parse_arch(json_object_get_string(e), &arch) < 0)
                        return error_set(ret_error, -EINVAL, "linux.seccomp.architectures[%zu]: \"%s\" is not an architecture", i,
                                         json_object_get_string(e));
                r = seccomp_arch_add(ctx, arch);
                if (r < 0 && r != -EEXIST)
                        return error_set(ret_error, r, "linux.seccomp.architectures[%zu]: %s: %s", i, json_object_get_string(e),
                                         strerror(-r));
        }
        return 0;
}

static int parse_flags(scmp_filter_ctx ctx, json_object *obj, OciSeccomp *s, char **ret_error) {
        json_object *v;

        if (!json_object_object_get_ex(obj, "flags", &v) || !v)
                return 0;
        if (!json_object_is_type(v, json_type_array))
                return error_set(ret_error, -EINVAL, "linux.seccomp.flags: not an array");
        for (size_t i = 0; i < json_object_array_length(v); i++) {
                const char *f = json_object_get_string(json_object_array_get_idx(v, i));

                if (!f || !json_object_is_type(json_object_array_get_idx(v, i), json_type_string))
                        return error_set(ret_error, -EINVAL, "linux.seccomp.flags[%zu]: not a string", i);
                if (streq(f, "SECCOMP_FILTER_FLAG_LOG"))
                        s->flags |= SECCOMP_FILTER_FLAG_LOG;
                else if (streq(f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
                        s->flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
                else if (!streq(f, "SECCOMP_FILTER_FLAG_TSYNC")) /* one thread here: nothing to sync */
                        return error_set(ret_error, -EINVAL, "linux.seccomp.flags[%zu]: \"%s\" is not a seccomp flag", i, f);
        }
        return 0;
}

static int parse_arg(json_object *e, const char *path, struct scmp_arg_cmp *ret, char **ret_error) {
        static const struct {
                const char *name;
                enum scmp_compare op;
        } ops[] = {
                { "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT }, { "SCMP_CMP_LE", SCMP_CMP_LE },
                { "SCMP_CMP_EQ", SCMP_CMP_EQ }, { "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
                { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
        };
        json_object *index, *value, *two, *op;
        const char *o;

        if (!json_object_is_type(e, json_type_object))
                return error_set(ret_error, -EINVAL, "%s: not an object", path);
        if (!json_object_object_get_ex(e, "index", &index) || !json_object_is_type(index, json_type_int) ||
            json_object_get_int64(index) < 0 || json_object_get_int64(index) > 5)
                return error_set(ret_error, -EINVAL, "%s.index: missing or not 0-5", path);
        if (!json_object_object_get_ex(e, "value", &value) || !json_object_is_type(value, json_type_int))
                return error_set(ret_error, -EINVAL, "%s.value: missing or not an integer", path);
        if (json_object_object_get_ex(e, "valueTwo", &two) && two && !json_object_is_type(two, json_type_int))
                return error_set(ret_error, -EINVAL, "%s.valueTwo: not an integer", path);
        if (!json_object_object_get_ex(e, "op", &op) || !json_object_is_type(op, json_type_string))
                return error_set(ret_error, -EINVAL, "%s.op: missing or not a string", path);
        o = json_object_get_string(op);
        for (size_t i = 0; i < ELEMENTSOF(ops); i++)
                if (streq(o, ops[i].name)) {
                        *ret = (struct scmp_arg_cmp) {
                                .arg = (unsigned) json_object_get_int64(index),
                                .op = ops[i].op,
                                .datum_a = json_object_get_uint64(value),
                                .datum_b = two ? json_object_get_uint64(two) : 0,
                        };
                        return 0;
                }
        return error_set(ret_error, -EINVAL, "%s.op: \"%s\" is not a comparison", path, o);
}

/* One entry of linux.seccomp.syscalls. Names libseccomp does not know are
 * skipped, as runc does (a profile lists calls of newer kernels); so is an
 * entry whose action is the default one. Two conditions on one argument
 * cannot be one libseccomp rule: as runc, each becomes a rule of its own. */
static int parse_syscall(scmp_filter_ctx ctx, json_object *e, size_t i, uint32_t default_action, char **ret_error) {
        struct scmp_arg_cmp args[6];
        json_object *names, *argv;
        unsigned seen = 0;
        bool split = false;
        uint32_t action;
        size_t n_args = 0;
        char path[64];
        int r;

        snprintf(path, sizeof path, "linux.seccomp.syscalls[%zu]", i);
        if (!json_object_is_type(e, json_type_object))
                return error_set(ret_error, -EINVAL, "%s: not an object", path);
        r = parse_action(e, path, "action", "errnoRet", &action, ret_error);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(e, "names", &names) || !json_object_is_type(names, json_type_array))
                return error_set(ret_error, -EINVAL, "%s.names: missing or not an array", path);
        if (json_object_object_get_ex(e, "args", &argv) && argv) {
                if (!json_object_is_type(argv, json_type_array) || json_object_array_length(argv) > ELEMENTSOF(args))
                        return error_set(ret_error, -EINVAL, "%s.args: not an array of at most 6", path);
                for (; n_args < json_object_array_length(argv); n_args++) {
                        char apath[96];

                        snprintf(apath, sizeof apath, "%s.args[%zu]", path, n_args);
                        r = parse_arg(json_object_array_get_idx(argv, n_args), apath, &args[n_args], ret_error);
                        if (r < 0)
                                return r;
                        if (seen & (1u << args[n_args].arg))
                                split = true;
                        seen |= 1u << args[n_args].arg;
                }
        }
        if (action == default_action)
                return 0;
        for (size_t k = 0; k < json_object_array_length(names); k++) {
                json_object *n = json_object_array_get_idx(names, k);
                int nr;

                if (!json_object_is_type(n, json_type_string))
                        return error_set(ret_error, -EINVAL, "%s.names[%zu]: not a string", path, k);
                nr = seccomp_syscall_resolve_name(json_object_get_string(n));
                if (nr == __NR_SCMP_ERROR)
                        continue;
                if (!split)
                        r = seccomp_rule_add_array(ctx, action, nr, n_args, args);
                else
                        for (size_t a = 0; a < n_args; a++) {
                                r = seccomp_rule_add_array(ctx, action, nr, 1, &args[a]);
                                if (r < 0)
                                        break;
                        }
                if (r < 0)
                        return error_set(ret_error, r, "%s: cannot add a rule for %s: %s", path, json_object_get_string(n),
                                         strerror(-r));
        }
        return 0;
}

int oci_seccomp_compile(json_object *obj, OciSeccomp *ret, char **ret_error) {
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        struct sock_filter *insns = NULL;
        OciSeccomp s = {};
        json_object *calls;
        uint32_t default_action;
        int r;

        if (!json_object_is_type(obj, json_type_object))
                return error_set(ret_error, -EINVAL, "linux.seccomp: not an object");
        r = parse_action(obj, "linux.seccomp", "defaultAction", "defaultErrnoRet", &default_action, ret_error);
        if (r < 0)
                return r;
        ctx = seccomp_init(default_action);
        if (!ctx)
                return -ENOMEM;
        /* We install the program ourselves; no_new_privs is process.noNewPrivileges' to set. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (r < 0)
                return r;
        r = parse_arches(ctx, obj, ret_error);
        if (r >= 0)
                r = parse_flags(ctx, obj, &s, ret_error);
        if (r < 0)
                return r;
        if (json_object_object_get_ex(obj, "syscalls", &calls) && calls) {
                if (!json_object_is_type(calls, json_type_array))
                        return error_set(ret_error, -EINVAL, "linux.seccomp.syscalls: not an array");
                for (size_t i = 0; i < json_object_array_length(calls); i++) {
                        r = parse_syscall(ctx, json_object_array_get_idx(calls, i), i, default_action, ret_error);
                        if (r < 0)
                                return r;
                }
        }
        r = seccomp_ctx_export(ctx, INSNS_MAX, &insns, &s.n_insns);
        s.insns = insns;
        if (r < 0)
                return error_set(ret_error, r, "linux.seccomp: cannot compile the filter: %s", strerror(-r));
        *ret = s;
        return 0;
}

int oci_seccomp_install(const OciSeccomp *s) {
        struct sock_fprog prog = {
                .len = (unsigned short) s->n_insns,
                .filter = s->insns,
        };

        if (!s->insns)
                return 0;
        if (s->n_insns > BPF_MAXINSNS)
                return -E2BIG;
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, s->flags, &prog) < 0)
                return -errno;
        return 0;
}

#define SECCOMP_FILE "seccomp.bpf"

typedef struct SavedHeader {
        uint32_t flags;
        uint32_t n_insns;
} SavedHeader;

int oci_seccomp_save(int dir_fd, const OciSeccomp *s) {
        _cleanup_close_ int fd = -EBADF;
        SavedHeader h = { .flags = s->flags, .n_insns = (uint32_t) s->n_insns };
        size_t size = s->n_insns * sizeof(struct sock_filter);

        if (!s->insns)
                return 0;
        fd = openat(dir_fd, SECCOMP_FILE, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        if (write(fd, &h, sizeof h) != (ssize_t) sizeof h || write(fd, s->insns, size) != (ssize_t) size)
                return errno > 0 ? -errno : -EIO;
        return 0;
}

int oci_seccomp_load(int dir_fd, OciSeccomp *ret) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ void *insns = NULL;
        SavedHeader h;
        size_t size;

        *ret = (OciSeccomp) {};
        fd = openat(dir_fd, SECCOMP_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        if (read(fd, &h, sizeof h) != (ssize_t) sizeof h || h.n_insns == 0 || h.n_insns > INSNS_MAX)
                return -EBADMSG;
        size = (size_t) h.n_insns * sizeof(struct sock_filter);
        insns = malloc(size);
        if (!insns)
                return -ENOMEM;
        if (read(fd, insns, size) != (ssize_t) size)
                return -EBADMSG;
        *ret = (OciSeccomp) { .insns = TAKE_PTR(insns), .n_insns = h.n_insns, .flags = h.flags };
        return 0;
}
