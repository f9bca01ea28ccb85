/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "caps.h"
#include "cgroup.h"
#include "cgroup-path.h"
#include "init-kind.h"
#include "machine.h"
#include "tap.h"
#include "util.h"

#include <linux/capability.h>
#include <signal.h>

static void test_parse_seconds(void) {
        uint64_t u = 0;

        CHECK(parse_seconds("30", &u) == 0 && u == 30000000);
        CHECK(parse_seconds("1.5s", &u) == 0 && u == 1500000);
        CHECK(parse_seconds("250ms", &u) == 0 && u == 250000);
        CHECK(parse_seconds("2min", &u) == 0 && u == 120000000);
        CHECK(parse_seconds("", &u) == -EINVAL);
        CHECK(parse_seconds("-1", &u) == -EINVAL);
        CHECK(parse_seconds("5 parsecs", &u) == -EINVAL);
        CHECK(parse_seconds("abc", &u) == -EINVAL);
}

static void test_id128(void) {
        Id128 a, b;
        char hex[33], uuid[37];

        CHECK(id128_randomize(&a) == 0);
        CHECK(!id128_is_null(&a));
        id128_to_hex(&a, hex);
        id128_to_uuid(&a, uuid);
        CHECK(strlen(hex) == 32 && strlen(uuid) == 36);
        CHECK(id128_from_string(hex, &b) == 0 && memcmp(&a, &b, sizeof a) == 0);
        CHECK(id128_from_string(uuid, &b) == 0 && memcmp(&a, &b, sizeof a) == 0);
        CHECK(uuid[14] == '4'); /* v4 */
        CHECK(id128_from_string("uninitialized", &b) == -EINVAL);
        CHECK(id128_from_string("", &b) == -EINVAL);
        CHECK(id128_from_string("0123456789abcdef0123456789abcdeg", &b) == -EINVAL);
        CHECK(id128_from_string("01234567-89ab-cdef-0123-456789abcdef", &b) == 0);
        CHECK(id128_from_string("0123456789-ab-cdef-0123-456789abcdef", &b) == -EINVAL);
}

static void test_os_release(void) {
        const char *t = "NAME=\"Debian GNU/Linux\"\nID=debian\nVERSION_ID='12'\nPRETTY=x\n";
        char *v = NULL;

        CHECK(read_os_release_field(t, "ID", &v) == 0);
        CHECK_STREQ(v, "debian");
        free(v);
        CHECK(read_os_release_field(t, "NAME", &v) == 0);
        CHECK_STREQ(v, "Debian GNU/Linux");
        free(v);
        CHECK(read_os_release_field(t, "VERSION_ID", &v) == 0);
        CHECK_STREQ(v, "12");
        free(v);
        CHECK(read_os_release_field(t, "PRETTY_NAME", &v) == -ENOENT);
}

static void test_paths(void) {
        CHECK(path_is_normalized_absolute("/"));
        CHECK(path_is_normalized_absolute("/a/b"));
        CHECK(path_is_normalized_absolute("/a//b/"));
        CHECK(!path_is_normalized_absolute("a/b"));
        CHECK(!path_is_normalized_absolute("/a/../b"));
        CHECK(!path_is_normalized_absolute("/a/./b"));
        CHECK(!path_is_normalized_absolute(""));
}

static void test_caps(void) {
        uint64_t m = 0;
        char *bad = NULL, *s;

        CHECK(caps_default() & (UINT64_C(1) << CAP_SYS_ADMIN));
        CHECK(!(caps_default() & (UINT64_C(1) << CAP_SYS_MODULE)));
        CHECK(!(caps_default() & (UINT64_C(1) << CAP_NET_ADMIN)));
        CHECK(caps_parse("CAP_NET_ADMIN,sys_module", &m, &bad) == 0);
        CHECK(m == ((UINT64_C(1) << CAP_NET_ADMIN) | (UINT64_C(1) << CAP_SYS_MODULE)));
        CHECK(caps_parse("cap_net_admin,CAP_BOGUS", &m, &bad) == -EINVAL);
        CHECK_STREQ(bad, "CAP_BOGUS");
        free(bad);
        CHECK(caps_parse("all", &m, NULL) == 0 && m == caps_all());
        s = caps_to_string((UINT64_C(1) << CAP_CHOWN) | (UINT64_C(1) << CAP_KILL));
        CHECK_STREQ(s, "cap_chown,cap_kill");
        free(s);
}

static void test_tables(void) {
        for (int i = 0; i < _INIT_KIND_MAX; i++)
                CHECK(init_kind_from_string(init_kind_to_string(i)) == i);
        for (int i = 0; i < _CGROUP_LAYOUT_MAX; i++)
                CHECK(cgroup_layout_from_string(cgroup_layout_to_string(i)) == i);
        for (int i = 0; i < _MACHINE_END_MAX; i++)
                CHECK(machine_end_to_string(i) != NULL);
        CHECK(init_kind_from_string("upstart") == _INIT_KIND_INVALID);
}

static void test_init_signals(void) {
        CHECK(init_kind_signal(INIT_SYSTEMD, POWER_OFF) == SIGRTMIN + 4);
        CHECK(init_kind_signal(INIT_SYSTEMD, POWER_REBOOT) == SIGRTMIN + 5);
        CHECK(init_kind_signal(INIT_BUSYBOX, POWER_OFF) == SIGUSR2);
        CHECK(init_kind_signal(INIT_BUSYBOX, POWER_REBOOT) == SIGTERM);
        CHECK(init_kind_signal(INIT_SYSVINIT, POWER_OFF) == 0);
        CHECK(init_kind_signal(INIT_STUB, POWER_OFF) == SIGTERM);
}

static void test_unit_name(void) {
        char *s;

        CHECK_STREQ(s = cgroup_unit_name("debian-12"), "machine-debian\\x2d12.scope");
        free(s);
        CHECK_STREQ(s = cgroup_unit_name("deb"), "machine-deb.scope");
        free(s);
}

/* cleaned (or -errno) and systemd's form, as runc reads linux.cgroupsPath */
static bool clean_is(const char *in, const char *want) {
        _cleanup_free_ char *out = NULL;
        int r = cgroup_path_clean(in, &out);

        return want ? r == 0 && streq(out, want) : r == -EINVAL;
}

static bool systemd_is(const char *in, const char *want) {
        _cleanup_free_ char *out = NULL;
        int r = cgroup_path_from_systemd(in, &out);

        return want ? r == 0 && streq(out, want) : r == -EINVAL;
}

static char *mfree_str(char *p) {
        free(p);
        return NULL;
}

static void test_cgroup_path(void) {
        _cleanup_free_ char *r = NULL;

        CHECK(clean_is("/a/b", "/a/b"));
        CHECK(clean_is("//a/./b/", "/a/b"));
        CHECK(clean_is("/a/x/../b", "/a/b"));
        CHECK(clean_is("a/b", "a/b"));
        CHECK(clean_is("/a/../../etc", NULL));
        CHECK(clean_is("../x", NULL));
        CHECK(clean_is("/", NULL));
        CHECK(clean_is("a/..", NULL));
        CHECK(systemd_is("machine.slice:oci:abc", "/machine.slice/oci-abc.scope"));
        CHECK(systemd_is("a-b-c.slice:p:n", "/a.slice/a-b.slice/a-b-c.slice/p-n.scope"));
        CHECK(systemd_is(":p:n", "/system.slice/p-n.scope"));
        CHECK(systemd_is("x.slice::n.scope", "/x.slice/n.scope"));
        CHECK(systemd_is("/a/b", NULL));
        CHECK(systemd_is("x.slice:p", NULL));
        CHECK(systemd_is("x:p:n", NULL));
        CHECK(systemd_is("x.slice:p/../..:n", NULL));
        CHECK(cgroup_path_resolve("/user.slice/s", "sub/rel", &r) == 0 && streq(r, "user.slice/s/sub/rel"));
        r = mfree_str(r);
        CHECK(cgroup_path_resolve("/", "sub", &r) == 0 && streq(r, "sub"));
        r = mfree_str(r);
        CHECK(cgroup_path_resolve("/user.slice", "/abs/x", &r) == 0 && streq(r, "abs/x"));
}

int main(void) {
        test_parse_seconds();
        test_id128();
        test_os_release();
        test_paths();
        test_caps();
        test_tables();
        test_init_signals();
        test_unit_name();
        test_cgroup_path();
        return tap_done();
}
