/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "caps.h"
#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(cap_t, cap_free)

static inline void cap_free_charp(char **p) {
        if (*p)
                cap_free(*p);
}

static const int default_caps[] = {
        CAP_AUDIT_CONTROL, CAP_AUDIT_WRITE, CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH,
        CAP_FOWNER, CAP_FSETID, CAP_IPC_OWNER, CAP_KILL, CAP_LEASE, CAP_LINUX_IMMUTABLE,
        CAP_MKNOD, CAP_NET_BIND_SERVICE, CAP_NET_BROADCAST, CAP_NET_RAW, CAP_SETFCAP,
        CAP_SETGID, CAP_SETPCAP, CAP_SETUID, CAP_SYS_ADMIN, CAP_SYS_BOOT, CAP_SYS_CHROOT,
        CAP_SYS_NICE, CAP_SYS_PTRACE, CAP_SYS_RESOURCE, CAP_SYS_TTY_CONFIG,
};

static unsigned cap_last(void) {
        static unsigned last;

        if (last == 0) {
                /* The running kernel may know more capabilities than our headers. */
                unsigned c = CAP_LAST_CAP;

                while (c < 63 && prctl(PR_CAPBSET_READ, c + 1, 0, 0, 0) >= 0)
                        c++;
                last = c;
        }
        return last;
}

uint64_t caps_default(void) {
        uint64_t m = 0;

        for (size_t i = 0; i < ELEMENTSOF(default_caps); i++)
                m |= UINT64_C(1) << default_caps[i];
        return m;
}

uint64_t caps_all(void) {
        unsigned last = cap_last();

        return last >= 63 ? UINT64_MAX : (UINT64_C(1) << (last + 1)) - 1;
}

uint64_t caps_held(void) {
        _cleanup_(cap_freep) cap_t caps = cap_get_proc();
        unsigned last = cap_last();
        uint64_t m = 0;

        if (!caps)
                return 0;
        for (cap_value_t v = 0; v <= (cap_value_t) last; v++) {
                cap_flag_value_t f = CAP_CLEAR;

                if (cap_get_flag(caps, v, CAP_PERMITTED, &f) >= 0 && f == CAP_SET &&
                    prctl(PR_CAPBSET_READ, (unsigned long) v, 0, 0, 0) > 0)
                        m |= UINT64_C(1) << v;
        }
        return m;
}

int caps_parse(const char *list, uint64_t *ret, char **ret_bad) {
        _cleanup_free_ char *copy = strdup(list);
        uint64_t m = 0;
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
                char name[64];
                cap_value_t v;

                if (strcasecmp(w, "all") == 0) {
                        m |= caps_all();
                        continue;
                }
                snprintf(name, sizeof name, "%s%s", strncasecmp(w, "cap_", 4) == 0 ? "" : "cap_", w);
                for (char *c = name; *c; c++)
                        *c = (char) tolower(*c);
                if (cap_from_name(name, &v) < 0 || v < 0 || (unsigned) v > cap_last()) {
                        if (ret_bad)
                                *ret_bad = strdup(w);
                        return -EINVAL;
                }
                m |= UINT64_C(1) << v;
        }
        *ret = m;
        return 0;
}

char *caps_to_string(uint64_t mask) {
        size_t n = 0;
        char *s = calloc(1, 64 * 32);

        if (!s)
                return NULL;
        for (unsigned c = 0; c <= cap_last() && c < 64; c++) {
                _cleanup_(cap_free_charp) char *name = NULL;

                if (!(mask & (UINT64_C(1) << c)))
                        continue;
                name = cap_to_name((cap_value_t) c);
                if (!name)
                        continue;
                n += (size_t) snprintf(s + n, 64 * 32 - n, "%s%s", n ? "," : "", name);
        }
        return s;
}

/* Drops every capability outside MASK from our inheritable set, from the
 * effective and permitted sets too with ALL_SETS, and from the bounding set
 * with BOUNDING. */
static int caps_drop_outside(uint64_t mask, bool all_sets, bool bounding) {
        _cleanup_(cap_freep) cap_t caps = NULL;

        caps = cap_get_proc();
        if (!caps)
                return -errno;
        for (unsigned c = 0; c <= cap_last() && c < 64; c++) {
                cap_value_t v = (cap_value_t) c;

                if (mask & (UINT64_C(1) << c))
                        continue;
                if (bounding && CAP_IS_SUPPORTED(v) && cap_drop_bound(v) < 0)
                        return -errno;
                if (cap_set_flag(caps, CAP_INHERITABLE, 1, &v, CAP_CLEAR) < 0)
                        return -errno;
                if (all_sets && (cap_set_flag(caps, CAP_EFFECTIVE, 1, &v, CAP_CLEAR) < 0 ||
                                 cap_set_flag(caps, CAP_PERMITTED, 1, &v, CAP_CLEAR) < 0))
                        return -errno;
        }
        if (cap_set_proc(caps) < 0)
                return -errno;
        return 0;
}

int caps_apply_bounding(uint64_t mask) {
        int r = caps_drop_outside(mask, false, true);

        if (r < 0)
                return r;
        if (cap_reset_ambient() < 0 && errno != EINVAL)
                return -errno;
        return 0;
}

int caps_limit(uint64_t mask) {
        return caps_drop_outside(mask, true, false);
}
