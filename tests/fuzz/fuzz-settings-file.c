/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A settings file, NAME.box, as a pool image may bring it along:
 * settings_file_parse(), then settings_file_merge() into empty settings. The
 * first byte says whether the file is trusted (bit 0) and whether it wins
 * over the command line (bit 1). */
#include "fuzz.h"
#include "settings-file.h"

static bool one_line(const char *s) {
        return s && *s && !strchr(s, '\n');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(settings_file_freep) SettingsFile *f = NULL;
        _cleanup_strv_free_ char **warnings = NULL;
        _cleanup_free_ char *error = NULL;
        Settings s = {};
        SettingsGiven given = {};
        bool trusted;
        int r;

        if (size < 1 || size > 64 * 1024) /* what boxctl reads of a file at most */
                return 0;
        trusted = data[0] & 1;

        r = settings_file_parse("t.box", (const char *) data + 1, size - 1, trusted, &f, &warnings, &error);
        FUZZ_CHECK(r == 0 || r == -EINVAL);
        if (r < 0) {
                /* One line, naming the file (and its line, but for what is no text). */
                FUZZ_CHECK(!f && one_line(error) && strncmp(error, "t.box:", 6) == 0);
                FUZZ_CHECK(!warnings);
                return 0;
        }
        FUZZ_CHECK(f && !error);
        for (char **w = warnings; w && *w; w++)
                FUZZ_CHECK(one_line(*w) && strncmp(*w, "t.box", 5) == 0);
        if (!trusted) {
                /* Nothing that widens the machine's access to the host. */
                FUZZ_CHECK(f->settings.n_binds == 0 && !settings_given(&f->given, SETTING_BINDS));
                FUZZ_CHECK(f->settings.n_ports == 0 && !settings_given(&f->given, SETTING_PORTS));
                FUZZ_CHECK(f->settings.network_mode == NETWORK_NONE && !f->settings.network_bridge && !f->settings.network_zone);
                FUZZ_CHECK(f->given.cap_keep == 0);
                FUZZ_CHECK(f->settings.userns_mode != USERNS_FIXED);
                for (char **i = f->settings.syscall_filter; i && *i; i++)
                        FUZZ_CHECK((*i)[0] == '~');
                for (CgroupLimit k = CGROUP_LIMIT_CPU_WEIGHT; k <= CGROUP_LIMIT_IO_WEIGHT; k += CGROUP_LIMIT_IO_WEIGHT - CGROUP_LIMIT_CPU_WEIGHT)
                        FUZZ_CHECK(!cgroup_limits_is_set(&f->settings.limits, k) || f->settings.limits.value[k] <= 100);
        }
        for (size_t i = 0; i < f->settings.n_binds; i++)
                FUZZ_CHECK(path_is_absolute(f->settings.binds[i].source) &&
                           path_is_normalized_absolute(f->settings.binds[i].destination));
        for (char **e = f->settings.environment; e && *e; e++)
                FUZZ_CHECK(strchr(*e, '=') && (*e)[0] != '=');

        /* Merging moves what was given (into settings that had none: all
         * of it), and leaves nothing owned twice. */
        uint32_t limits = f->settings.limits.set;
        settings_file_merge(&s, &given, f, data[0] & 2);
        FUZZ_CHECK((given.fields & ~(UINT32_C(1) << SETTING_BOOT)) == (f->given.fields & ~(UINT32_C(1) << SETTING_BOOT)));
        FUZZ_CHECK(s.limits.set == limits && f->settings.limits.set == 0);
        settings_done(&s);
        return 0;
}
