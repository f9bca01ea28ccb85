/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The device policy's emulation of v1's devices.allow/deny (device-filter.c):
 * what a list of rules leaves, in devices.list's syntax and order. Loading
 * the BPF program and its verdicts are tested on real devices by
 * tests/integration/test-oci-devices.sh. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "device-filter.h"
#include "tap.h"

/* The policy's exceptions as devices.list would show them, comma-separated. */
static char *list(const DevicePolicy *p) {
        static char buf[1024];
        size_t n = 0;

        buf[0] = 0;
        if (p->default_allow)
                n += (size_t) snprintf(buf, sizeof buf, "a *:* rwm");
        for (size_t i = 0; i < p->n_exceptions && !p->default_allow; i++) {
                char line[96];

                n += (size_t) snprintf(buf + n, sizeof buf - n, "%s%s", i ? "," : "",
                                       device_rule_to_string(&p->exceptions[i], line, sizeof line));
        }
        return buf;
}

static void apply(DevicePolicy *p, char type, int64_t major, int64_t minor, const char *access, bool allow) {
        DeviceRule r = { .type = type, .major = major, .minor = minor, .allow = allow };

        CHECK(device_access_from_string(access, &r.access) == 0);
        CHECK(device_policy_apply(p, &r) == 0);
}

int main(void) {
        DevicePolicy p = {};
        unsigned a;

        CHECK(device_access_from_string("mrw", &a) == 0 && a == DEVICE_ACCESS_ALL);
        CHECK(device_access_from_string("", &a) == -EINVAL);
        CHECK(device_access_from_string("rx", &a) == -EINVAL);
        CHECK(device_access_from_string(NULL, &a) == -EINVAL);

        /* runtime-tools' linux_cgroups_devices: deny all, then three allows, in order. */
        apply(&p, 'a', -1, -1, "rwm", false);
        apply(&p, 'c', 10, 229, "rwm", true);
        apply(&p, 'b', 8, 20, "rw", true);
        apply(&p, 'b', 10, 200, "r", true);
        CHECK_STREQ(list(&p), "c 10:229 rwm,b 8:20 rw,b 10:200 r");
        /* An allow of the same device adds access to its exception, in place. */
        apply(&p, 'b', 8, 20, "m", true);
        CHECK_STREQ(list(&p), "c 10:229 rwm,b 8:20 rwm,b 10:200 r");
        /* A deny takes access away; all of it, the exception. */
        apply(&p, 'c', 10, 229, "w", false);
        apply(&p, 'b', 10, 200, "r", false);
        CHECK_STREQ(list(&p), "c 10:229 rm,b 8:20 rwm");
        /* A deny of a device no exception names exactly changes nothing (v1's rule). */
        apply(&p, 'c', 10, -1, "rwm", false);
        CHECK_STREQ(list(&p), "c 10:229 rm,b 8:20 rwm");
        /* runc's defaults after them; those of a node the config gives are left out. */
        char *skip[] = { (char *) "/dev/null", NULL };
        CHECK(device_policy_add_defaults(&p, skip) == 0);
        CHECK_STREQ(list(&p), "c 10:229 rm,b 8:20 rwm,c *:* m,b *:* m,c 1:8 rwm,c 1:7 rwm,c 5:0 rwm,c 1:5 rwm,c 1:9 rwm,"
                              "c 136:* rwm,c 5:2 rwm,c 10:200 rwm");
        /* "a" allow resets to allow-all; then a deny is an exception of its own. */
        apply(&p, 'a', -1, -1, "r", true);
        CHECK(p.default_allow && p.n_exceptions == 0);
        apply(&p, 'c', 1, 3, "w", false);
        CHECK(p.n_exceptions == 1 && !p.exceptions[0].allow && p.exceptions[0].access == DEVICE_ACCESS_WRITE);
        device_policy_done(&p);
        CHECK(p.n_exceptions == 0 && !p.exceptions);
        return tap_done();
}
