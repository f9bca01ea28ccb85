/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "settings.h"
#include "tap.h"

static void test_names(void) {
        static const char *const valid[] = { "a", "deb", "debian-12", "a.b.c", "x1-y2", "A9",
                "0123456789012345678901234567890123456789012345678901234567890123" };
        static const char *const invalid[] = { "", "-a", "a-", ".a", "a.", "a..b", "a_b", "a b",
                "a/b", "a.-b", "ä", "01234567890123456789012345678901234567890123456789012345678901234" };

        for (size_t i = 0; i < ELEMENTSOF(valid); i++)
                CHECK(machine_name_is_valid(valid[i]));
        for (size_t i = 0; i < ELEMENTSOF(invalid); i++)
                CHECK(!machine_name_is_valid(invalid[i]));
}

static void test_name_from_path(void) {
        char *s;

        CHECK_STREQ(s = machine_name_from_path("/srv/debian-root"), "debian-root"); free(s);
        CHECK_STREQ(s = machine_name_from_path("./deb/"), "deb"); free(s);
        CHECK_STREQ(s = machine_name_from_path("/srv/my_tree"), "my-tree"); free(s);
        CHECK_STREQ(s = machine_name_from_path("/srv/__x__"), "x"); free(s);
        CHECK((s = machine_name_from_path("/")) == NULL); free(s);
        CHECK((s = machine_name_from_path("/srv/___")) == NULL); free(s);
        s = machine_name_from_path("/srv/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        CHECK(s && strlen(s) == 64 && machine_name_is_valid(s));
        free(s);
}

static void test_tables(void) {
        for (int i = 0; i < _CONSOLE_MODE_MAX; i++)
                CHECK(console_mode_from_string(console_mode_to_string(i)) == i);
        for (int i = 0; i < _START_MODE_MAX; i++)
                CHECK(start_mode_from_string(start_mode_to_string(i)) == i);
        for (int i = 0; i < _REGISTER_MODE_MAX; i++)
                CHECK(register_mode_from_string(register_mode_to_string(i)) == i);
        for (int i = 0; i < _API_MOUNT_MAX; i++)
                CHECK(api_mount_from_string(api_mount_to_string(i)) == i);
        CHECK(api_mount_from_string("/run") == _API_MOUNT_INVALID);
        CHECK(register_mode_from_string("maybe") == _REGISTER_MODE_INVALID);
        CHECK(console_mode_from_string("autopipe") == _CONSOLE_MODE_INVALID);
        CHECK(console_mode_to_string(_CONSOLE_MODE_MAX) == NULL);
}

static void test_binds(void) {
        Settings s = {};

        CHECK(settings_add_bind(&s, "/src", false) == 0);
        CHECK_STREQ(s.binds[0].destination, "/src");
        CHECK(!s.binds[0].read_only);
        CHECK(settings_add_bind(&s, "/a:/b:ro", false) == 0);
        CHECK_STREQ(s.binds[1].source, "/a");
        CHECK_STREQ(s.binds[1].destination, "/b");
        CHECK(s.binds[1].read_only);
        CHECK(settings_add_bind(&s, "/a:/c", true) == 0);
        CHECK(s.binds[2].read_only);
        CHECK(settings_add_bind(&s, "/a:/c:rw", true) == 0);
        CHECK(!s.binds[3].read_only);
        CHECK(settings_add_bind(&s, "/a:relative", false) == -EINVAL);
        CHECK(settings_add_bind(&s, "/a:/x/../y", false) == -EINVAL);
        CHECK(settings_add_bind(&s, "/a:/b:bogus", false) == -EINVAL);
        CHECK(settings_add_bind(&s, ":/b", false) == -EINVAL);
        CHECK(settings_add_bind(&s, "/a:", false) == -EINVAL);
        CHECK(s.n_binds == 4);
        settings_done(&s);
}

int main(void) {
        test_names();
        test_name_from_path();
        test_tables();
        test_binds();
        return tap_done();
}
