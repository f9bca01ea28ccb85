/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "settings-file.h"
#include "tap.h"

/* Parses TEXT as "t.box"; the file, or NULL with *error set. */
static SettingsFile *parse(const char *text, bool trusted, char ***warnings, char **error) {
        SettingsFile *f = NULL;
        int r;

        r = settings_file_parse("t.box", text, strlen(text), trusted, &f, warnings, error);
        return r < 0 ? NULL : f;
}

static bool given(const SettingsFile *f, SettingField field) {
        return settings_given(&f->given, field);
}

static void test_mode_table(void) {
        for (int i = 0; i < _SETTINGS_MODE_MAX; i++)
                CHECK(settings_mode_from_string(settings_mode_to_string(i)) == i);
        CHECK(settings_mode_from_string("maybe") == _SETTINGS_MODE_INVALID);
        CHECK(settings_mode_to_string(_SETTINGS_MODE_MAX) == NULL);
}

static void test_empty_and_comments(void) {
        _cleanup_strv_free_ char **w = NULL;
        _cleanup_free_ char *e = NULL;
        SettingsFile *f;

        f = parse("", true, &w, &e);
        CHECK(f && f->given.fields == 0 && f->settings.limits.set == 0 && !w);
        settings_file_free(f);

        f = parse("# a comment\n; another\n\n   \n[Exec]\n  # indented comment\n\tHostname = spaced \r\n", true, &w, &e);
        CHECK(f && !w);
        CHECK(f && given(f, SETTING_HOSTNAME));
        CHECK_STREQ(f ? f->settings.hostname : NULL, "spaced");
        settings_file_free(f);
}

static void test_exec(void) {
        _cleanup_strv_free_ char **w = NULL;
        _cleanup_free_ char *e = NULL;
        SettingsFile *f;

        f = parse("[Exec]\n"
                  "Boot=yes\n"
                  "Parameters=--log-level=debug \"two words\" 'it''s' a\\ b\n"
                  "Environment=A=1\n"
                  "Environment=B=two words\n"
                  "PrivateUsers=pick\n"
                  "Hostname=host-1\n"
                  "MachineID=0123456789abcdef0123456789abcdef\n"
                  "SystemCallFilter=~@clock\n"
                  "NotifyReady=yes\n"
                  "Capability=CAP_NET_RAW sys_time\n"
                  "DropCapability=CAP_MKNOD\n"
                  "KillTimeoutSec=5\n"
                  "NoReboot=yes\n",
                  true, &w, &e);
        CHECK(f && !w);
        if (!f)
                return;
        CHECK(f->boot);
        CHECK(strv_length(f->settings.argv) == 4);
        CHECK_STREQ(f->settings.argv[0], "--log-level=debug");
        CHECK_STREQ(f->settings.argv[1], "two words");
        CHECK_STREQ(f->settings.argv[2], "its");
        CHECK_STREQ(f->settings.argv[3], "a b");
        CHECK(strv_length(f->settings.environment) == 2);
        CHECK_STREQ(f->settings.environment[1], "B=two words");
        CHECK(f->settings.userns_mode == USERNS_PICK);
        CHECK_STREQ(f->settings.hostname, "host-1");
        CHECK(f->settings.machine_id.bytes[0] == 0x01 && f->settings.machine_id.bytes[15] == 0xef);
        CHECK(strv_length(f->settings.syscall_filter) == 1);
        CHECK(f->settings.notify_ready);
        CHECK(f->given.cap_keep == ((UINT64_C(1) << 13) | (UINT64_C(1) << 25))); /* CAP_NET_RAW, CAP_SYS_TIME */
        CHECK(f->given.cap_drop == (UINT64_C(1) << 27));                         /* CAP_MKNOD */
        CHECK(f->settings.kill_timeout_usec == 5000000);
        CHECK(f->settings.no_reboot);
        for (SettingField i = SETTING_BOOT; i <= SETTING_NO_REBOOT; i++)
                CHECK(given(f, i) == (i != SETTING_OWNERSHIP));
        settings_file_free(f);

        /* A fixed range, identity, no. */
        f = parse("[Exec]\nPrivateUsers=0x80000:65536\n", true, &w, &e);
        CHECK(f && f->settings.userns_mode == USERNS_FIXED && f->settings.uid_base == 0x80000);
        settings_file_free(f);
        f = parse("[Exec]\nPrivateUsers=identity\n", true, &w, &e);
        CHECK(f && f->settings.userns_mode == USERNS_IDENTITY);
        settings_file_free(f);
        f = parse("[Exec]\nPrivateUsers=no\n", false, &w, &e);
        CHECK(f && f->settings.userns_mode == USERNS_NO && given(f, SETTING_PRIVATE_USERS) && !w);
        settings_file_free(f);
}

static void test_files_network_limits(void) {
        _cleanup_strv_free_ char **w = NULL;
        _cleanup_free_ char *e = NULL;
        SettingsFile *f;

        f = parse("[Files]\n"
                  "ReadOnly=yes\n"
                  "Ephemeral=true\n"
                  "Bind=/srv/a\n"
                  "Bind=/srv/b:/mnt/b:ro\n"
                  "BindReadOnly=/srv/c:/c\n"
                  "TemporaryFileSystem=/scratch\n"
                  "PrivateUsersOwnership=chown\n"
                  "[Network]\n"
                  "Private=yes\n"
                  "Zone=lab\n"
                  "Port=tcp:8080:80\n"
                  "Port=53\n"
                  "[ResourceLimits]\n"
                  "MemoryMax=64M\n"
                  "MemoryHigh=48M\n"
                  "MemorySwapMax=0\n"
                  "CPUWeight=50\n"
                  "CPUQuota=20%\n"
                  "TasksMax=100\n"
                  "IOWeight=10\n"
                  "MemoryLow=16M\n"
                  "CPUQuotaPeriodSec=10ms\n"
                  "AllowedCPUs=0\n"
                  "AllowedMemoryNodes=0\n",
                  true, &w, &e);
        CHECK(f && !w);
        if (!f) {
                printf("# %s\n", strempty(e));
                return;
        }
        CHECK(f->settings.read_only && f->settings.ephemeral);
        CHECK(f->settings.n_binds == 3);
        CHECK_STREQ(f->settings.binds[0].destination, "/srv/a");
        CHECK(!f->settings.binds[0].read_only && f->settings.binds[1].read_only && f->settings.binds[2].read_only);
        CHECK_STREQ(f->settings.binds[2].destination, "/c");
        CHECK(strv_length(f->settings.tmpfs) == 1);
        CHECK(f->settings.ownership == OWNERSHIP_CHOWN);
        CHECK(f->settings.private_network);
        CHECK(f->settings.network_mode == NETWORK_ZONE);
        CHECK_STREQ(f->settings.network_zone, "lab");
        CHECK(f->settings.n_ports == 2 && f->settings.ports[0].host_port == 8080 && f->settings.ports[0].machine_port == 80);
        CHECK(f->settings.limits.value[CGROUP_LIMIT_MEMORY_MAX] == 64 << 20);
        CHECK(f->settings.limits.value[CGROUP_LIMIT_TASKS_MAX] == 100);
        CHECK(f->settings.limits.value[CGROUP_LIMIT_CPU_QUOTA_PERIOD] == 10000);
        CHECK_STREQ(f->settings.limits.cpus, "0");
        CHECK_STREQ(f->settings.limits.mems, "0");
        CHECK(f->settings.limits.set == (UINT32_C(1) << _CGROUP_LIMIT_MAX) - 1);
        CHECK(given(f, SETTING_BINDS) && given(f, SETTING_NETWORK) && given(f, SETTING_PORTS));
        settings_file_free(f);

        /* loop0 exists wherever the loop module is loaded: a whole disk. */
        if (access("/sys/dev/block/7:0", F_OK) >= 0) {
                f = parse("[ResourceLimits]\nIOWriteBandwidthMax=7:0 1M\nIOReadBandwidthMax=/dev/loop0 2M\n", true, &w, &e);
                CHECK(f && given(f, SETTING_IO_MAX) && f->settings.limits.n_io_max == 2 && f->settings.limits.io_max[0].write);
                settings_file_free(f);
                f = parse("[ResourceLimits]\nIOWriteBandwidthMax=7:0 1M\nIOWriteBandwidthMax=\n", true, &w, &e);
                CHECK(f && given(f, SETTING_IO_MAX) && f->settings.limits.n_io_max == 0);
                settings_file_free(f);
        } else
                printf("ok %u - # SKIP no /dev/loop0 on this host\n", ++tap_n);

        /* One network choice: the last one made. */
        f = parse("[Network]\nBridge=br0\nVirtualEthernet=yes\n", true, &w, &e);
        CHECK(f && f->settings.network_mode == NETWORK_VETH && !f->settings.network_bridge);
        settings_file_free(f);
        f = parse("[Network]\nZone=z\nBridge=br0\n", true, &w, &e);
        CHECK(f && f->settings.network_mode == NETWORK_BRIDGE && !f->settings.network_zone);
        CHECK_STREQ(f ? f->settings.network_bridge : NULL, "br0");
        settings_file_free(f);
}

/* Lists accumulate and an empty value empties them; otherwise the last wins. */
static void test_duplicates(void) {
        _cleanup_strv_free_ char **w = NULL;
        _cleanup_free_ char *e = NULL;
        SettingsFile *f;

        f = parse("[Exec]\nHostname=a\nHostname=b\nEnvironment=X=1\nEnvironment=\nEnvironment=Y=2\n"
                  "[Files]\nBind=/a\nBind=\nTemporaryFileSystem=/t\nTemporaryFileSystem=\n"
                  "[Exec]\nNotifyReady=yes\nNotifyReady=no\n"
                  "[Network]\nPort=1\nPort=\n"
                  "[ResourceLimits]\nTasksMax=5\nTasksMax=7\n",
                  true, &w, &e);
        CHECK(f && !w);
        if (!f)
                return;
        CHECK_STREQ(f->settings.hostname, "b");
        CHECK(strv_length(f->settings.environment) == 1);
        CHECK_STREQ(f->settings.environment[0], "Y=2");
        CHECK(f->settings.n_binds == 0 && given(f, SETTING_BINDS));
        CHECK(strv_length(f->settings.tmpfs) == 0 && given(f, SETTING_TMPFS));
        CHECK(!f->settings.notify_ready);
        CHECK(f->settings.n_ports == 0);
        CHECK(f->settings.limits.value[CGROUP_LIMIT_TASKS_MAX] == 7);
        settings_file_free(f);
}

static void test_unknown(void) {
        _cleanup_strv_free_ char **w = NULL;
        _cleanup_free_ char *e = NULL;
        SettingsFile *f;

        f = parse("Early=1\n[Exec]\nFoo=bar\nHostname=x\n[Nope]\nBind=/whatever\nAnything=at all\n[Files]\nReadOnly=1\n",
                  true, &w, &e);
        CHECK(f);
        CHECK(strv_length(w) == 3);
        if (strv_length(w) == 3) {
                CHECK_STREQ(w[0], "t.box:1: Early= outside of any section, ignored");
                CHECK_STREQ(w[1], "t.box:3: unknown key Foo= in [Exec], ignored");
                CHECK_STREQ(w[2], "t.box:5: unknown section [Nope], ignored");
        }
        /* What the unknown section held is not taken for anything. */
        CHECK(f && !given(f, SETTING_BINDS) && given(f, SETTING_READ_ONLY) && given(f, SETTING_HOSTNAME));
        settings_file_free(f);
        /* Keys of one section are not known in another. */
        strv_freep(&w);
        f = parse("[Network]\nHostname=x\n", true, &w, &e);
        CHECK(f && strv_length(w) == 1 && !given(f, SETTING_HOSTNAME));
        settings_file_free(f);
}

/* Each bad line: -EINVAL and one line naming the file, the line and the key. */
static void test_bad(void) {
        static const struct {
                const char *text, *error;
        } cases[] = {
                { "[Exec]\nBoot=maybe\n", "t.box:2: invalid Boot= 'maybe': expected yes or no" },
                { "[Exec]\n\nHostname=-bad\n", "t.box:3: invalid Hostname= '-bad': use 1-64 letters, digits, '-' and '.'" },
                { "[Exec]\nEnvironment=NOEQUALS\n", "t.box:2: invalid Environment= 'NOEQUALS': expected NAME=VALUE" },
                { "[Exec]\nEnvironment==x\n", "t.box:2: invalid Environment= '=x': expected NAME=VALUE" },
                { "[Exec]\nPrivateUsers=12345\n", "t.box:2: invalid PrivateUsers= '12345': the base must be a multiple of 65536" },
                { "[Exec]\nPrivateUsers=sometimes\n", "t.box:2: invalid PrivateUsers= 'sometimes': use pick, identity, yes, no, or BASE[:SIZE]" },
                { "[Exec]\nMachineID=xyz\n", "t.box:2: invalid MachineID= 'xyz': expected 32 hexadecimal digits, not all zero" },
                { "[Exec]\nSystemCallFilter=@nonsense\n", "t.box:2: invalid SystemCallFilter= '@nonsense': unknown system call or group '@nonsense'" },
                { "[Exec]\nCapability=CAP_FLY\n", "t.box:2: invalid Capability= 'CAP_FLY': unknown capability 'CAP_FLY'" },
                { "[Exec]\nKillTimeoutSec=soon\n", "t.box:2: invalid KillTimeoutSec= 'soon': expected seconds, like 30 or 1.5s" },
                { "[Exec]\nParameters=\"open\n", "t.box:2: invalid Parameters= '\"open': a quote (\") that is not closed" },
                { "[Exec]\nParameters=end\\\n", "t.box:2: invalid Parameters= 'end\\': a backslash at the end" },
                { "[Files]\nBind=relative/path\n", "t.box:2: invalid Bind= 'relative/path': the source must be an absolute path" },
                { "[Files]\nBind=/a:b\n", "t.box:2: invalid Bind= '/a:b': expected SRC[:DST[:ro|rw]] with an absolute, normalized DST" },
                { "[Files]\nTemporaryFileSystem=/t:size=1M\n", "t.box:2: invalid TemporaryFileSystem= '/t:size=1M': expected an absolute, normalized path (no options)" },
                { "[Files]\nPrivateUsersOwnership=maybe\n", "t.box:2: invalid PrivateUsersOwnership= 'maybe': use auto, idmap, chown or off" },
                { "[Network]\nZone=a-very-long-zone-name\n", "t.box:2: invalid Zone= 'a-very-long-zone-name': at most 12 letters, digits, '-' and '_'" },
                { "[Network]\nBridge=br/0\n", "t.box:2: invalid Bridge= 'br/0': not an interface name" },
                { "[Network]\nPort=99999\n", "t.box:2: invalid Port= '99999': expected [tcp|udp:]HOSTPORT[:MACHINEPORT], ports 1..65535" },
                { "[ResourceLimits]\nMemoryMax=lots\n", "t.box:2: invalid MemoryMax= 'lots': use bytes above 0 with an optional K, M, G or T (1024-based), a percentage of the host's memory up to 100%, or infinity" },
                { "[ResourceLimits]\nCPUWeight=0\n", "t.box:2: invalid CPUWeight= '0': out of range; use a weight from 1 to 10000 (100 is the default)" },
                { "[ResourceLimits]\nTasksMax=\n", "t.box:2: invalid TasksMax= '': use a number of tasks from 1 to 4194304, or infinity" },
                { "[ResourceLimits]\nIOReadBandwidthMax=/nonexistent 1M\n", "t.box:2: invalid IOReadBandwidthMax= '/nonexistent 1M': no such block device" },
                { "[Exec]\njust words\n", "t.box:2: expected KEY=VALUE or [SECTION], found 'just words'" },
                { "[Exec]\n=value\n", "t.box:2: an assignment without a key" },
                { "[Exec\n", "t.box:1: a section header without its ']': '[Exec'" },
                { "[]\n", "t.box:1: invalid section name '[]'" },
                { "[Ex ec]\n", "t.box:1: invalid section name '[Ex ec]'" },
                { "[Exec]\nHostname=\x1b[2Jx\n", "t.box:2: a control character (0x1b); not a text file" },
                { "[Exec]\nHostname=a\rb\n", "t.box:2: a control character (0x0d); not a text file" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_strv_free_ char **w = NULL;
                _cleanup_free_ char *e = NULL;
                SettingsFile *f = NULL;
                int r;

                r = settings_file_parse("t.box", cases[i].text, strlen(cases[i].text), true, &f, &w, &e);
                CHECK(r == -EINVAL && !f);
                CHECK_STREQ(e, cases[i].error);
                CHECK(!e || !strchr(e, '\n'));
                settings_file_free(f);
        }

        /* A NUL byte: not text; its line is named. */
        _cleanup_free_ char *e = NULL;
        SettingsFile *f = NULL;
        CHECK(settings_file_parse("t.box", "[Exec]\nA\0B=1\n", 12, true, &f, NULL, &e) == -EINVAL && !f);
        CHECK_STREQ(e, "t.box:2: a NUL byte; not a text file");
}

/* Beside the image: what widens the machine's access is ignored, with one warning. */
static void test_untrusted(void) {
        static const char text[] =
                "[Exec]\n"
                "Environment=A=1\n"
                "Capability=CAP_NET_RAW\n"
                "DropCapability=CAP_MKNOD\n"
                "SystemCallFilter=@clock\n"
                "SystemCallFilter=~@swap\n"
                "PrivateUsers=0x80000\n"
                "[Files]\n"
                "Bind=/etc\n"
                "BindReadOnly=/var\n"
                "Bind=/usr\n"
                "ReadOnly=yes\n"
                "TemporaryFileSystem=/t\n"
                "[Network]\n"
                "Private=yes\n"
                "VirtualEthernet=yes\n"
                "Bridge=br0\n"
                "Zone=z\n"
                "Port=80\n"
                "[ResourceLimits]\n"
                "MemoryMax=1G\n"
                "CPUWeight=100\n"
                "IOWeight=500\n";
        _cleanup_strv_free_ char **w = NULL;
        _cleanup_free_ char *e = NULL;
        SettingsFile *f;

        setenv("BOXCTL_CONFIG_DIR", "/etc/boxctl", 1);
        setenv("BOXCTL_RUNTIME_DIR", "/run/boxctl", 1);
        f = parse(text, false, &w, &e);
        CHECK(f);
        if (!f)
                return;
        CHECK(strv_length(w) == 1);
        CHECK_STREQ(w ? w[0] : NULL,
                    "t.box: ignoring Capability=, SystemCallFilter=, PrivateUsers=, Bind=, BindReadOnly=, VirtualEthernet=, "
                    "Bridge=, Zone=, Port=, IOWeight=: a settings file beside the image may not widen the machine's access "
                    "to the host (put it in /etc/boxctl or /run/boxctl, or use --settings=trusted)");
        /* What narrows stays. */
        CHECK(given(f, SETTING_ENVIRONMENT) && given(f, SETTING_READ_ONLY) && given(f, SETTING_TMPFS) &&
              given(f, SETTING_PRIVATE_NETWORK));
        CHECK(given(f, SETTING_CAPABILITY) && f->given.cap_keep == 0 && f->given.cap_drop == UINT64_C(1) << 27);
        CHECK(given(f, SETTING_SYSCALL_FILTER) && strv_length(f->settings.syscall_filter) == 1 &&
              f->settings.syscall_filter[0][0] == '~');
        CHECK(f->settings.limits.set == ((UINT32_C(1) << CGROUP_LIMIT_MEMORY_MAX) | (UINT32_C(1) << CGROUP_LIMIT_CPU_WEIGHT)));
        /* What widens is gone. */
        CHECK(!given(f, SETTING_BINDS) && f->settings.n_binds == 0);
        CHECK(!given(f, SETTING_NETWORK) && f->settings.network_mode == NETWORK_NONE && !f->settings.network_zone);
        CHECK(!given(f, SETTING_PORTS) && f->settings.n_ports == 0);
        CHECK(!given(f, SETTING_PRIVATE_USERS));
        settings_file_free(f);

        /* Ignored keys are still checked: a bad value fails wherever it is. */
        strv_freep(&w);
        f = parse("[Files]\nBind=relative\n", false, &w, &e);
        CHECK(!f);
        CHECK_STREQ(e, "t.box:2: invalid Bind= 'relative': the source must be an absolute path");

        /* Trusted, the same text gives everything. */
        f = parse(text, true, &w, &e);
        CHECK(f && !w && given(f, SETTING_BINDS) && f->settings.n_binds == 3 && given(f, SETTING_PORTS));
        settings_file_free(f);
}

static void test_merge(void) {
        _cleanup_strv_free_ char **w = NULL;
        _cleanup_free_ char *e = NULL;
        Settings s = {};
        SettingsGiven g = {};
        SettingsFile *f;

        /* The command line gave a hostname, one --setenv, --memory-max and --bind. */
        s.hostname = strdup("cli");
        strv_push_dup(&s.environment, "CLI=1");
        CHECK(settings_add_bind(&s, "/cli", false) == 0);
        CHECK(cgroup_limits_parse(&s.limits, CGROUP_LIMIT_MEMORY_MAX, "32M") == 0);
        g.fields = (UINT32_C(1) << SETTING_HOSTNAME) | (UINT32_C(1) << SETTING_ENVIRONMENT) |
                   (UINT32_C(1) << SETTING_BINDS);

        f = parse("[Exec]\nHostname=file\nEnvironment=FILE=1\nPrivateUsers=pick\nParameters=a b\nCapability=net_raw\n"
                  "[Files]\nBind=/file\nReadOnly=yes\n"
                  "[ResourceLimits]\nMemoryMax=64M\nTasksMax=10\nAllowedCPUs=0-1\n",
                  true, &w, &e);
        CHECK(f);
        if (!f)
                return;
        settings_file_merge(&s, &g, f, false);
        CHECK_STREQ(s.hostname, "cli");
        CHECK(strv_length(s.environment) == 1);
        CHECK_STREQ(s.environment[0], "CLI=1");
        CHECK(s.n_binds == 1);
        CHECK_STREQ(s.binds[0].source, "/cli");
        CHECK(s.limits.value[CGROUP_LIMIT_MEMORY_MAX] == 32 << 20);
        /* ...and the file the rest. */
        CHECK(s.userns_mode == USERNS_PICK && s.read_only);
        CHECK(strv_length(s.argv) == 2);
        CHECK(g.cap_keep == UINT64_C(1) << 13);
        CHECK(s.limits.value[CGROUP_LIMIT_TASKS_MAX] == 10 && cgroup_limits_is_set(&s.limits, CGROUP_LIMIT_TASKS_MAX));
        CHECK(cgroup_limits_is_set(&s.limits, CGROUP_LIMIT_ALLOWED_CPUS));
        CHECK_STREQ(s.limits.cpus, "0-1");
        CHECK(settings_given(&g, SETTING_PRIVATE_USERS) && settings_given(&g, SETTING_READ_ONLY));
        settings_file_free(f);

        /* --settings=override: the file wins. */
        f = parse("[Exec]\nHostname=file\nEnvironment=FILE=1\n[Files]\nBind=/file\n[ResourceLimits]\nMemoryMax=64M\n",
                  true, &w, &e);
        CHECK(f);
        if (f) {
                settings_file_merge(&s, &g, f, true);
                CHECK_STREQ(s.hostname, "file");
                CHECK(strv_length(s.environment) == 1);
                CHECK_STREQ(s.environment[0], "FILE=1");
                CHECK(s.n_binds == 1);
                CHECK_STREQ(s.binds[0].source, "/file");
                CHECK(s.limits.value[CGROUP_LIMIT_MEMORY_MAX] == 64 << 20);
                /* What the file did not give stays. */
                CHECK(s.userns_mode == USERNS_PICK && s.limits.value[CGROUP_LIMIT_TASKS_MAX] == 10);
        }
        settings_file_free(f);
        settings_done(&s);
}

/* The helpers that the file's keys and the options share. */
static void test_shared_helpers(void) {
        Settings s = {};

        CHECK(settings_add_port(&s, "tcp:8080:80") == 0 && s.n_ports == 1 && s.ports[0].host_port == 8080);
        CHECK(settings_add_port(&s, "99999") == -ERANGE && s.n_ports == 1);
        CHECK(settings_add_port(&s, "sctp:1") == -EPROTONOSUPPORT && s.n_ports == 1);
        CHECK(settings_add_bind(&s, "/a", false) == 0 && settings_add_bind(&s, "/b:/c", true) == 0);
        settings_free_binds(&s);
        CHECK(s.n_binds == 0 && !s.binds);
        settings_done(&s);
        CHECK_STREQ(cgroup_limits_io_max_error(-ENOENT), "no such block device");
        CHECK_STREQ(cgroup_limits_io_max_error(-EISDIR), "a partition; the kernel limits whole disks only");
        CHECK(cgroup_limits_io_max_error(-EINVAL) == NULL);
}

static void write_file(const char *path, const char *text) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        if (fd < 0 || write(fd, text, strlen(text)) < 0)
                abort();
        close(fd);
}

static void test_find_and_load(void) {
        char dir[] = "/tmp/test-settings-file.XXXXXX";
        char etc[64], run[64], pool[64], p[128];
        _cleanup_strv_free_ char **w = NULL;
        SettingsFile *f = NULL;
        char *path = NULL, *e = NULL;
        bool trusted;

        CHECK(mkdtemp(dir) != NULL);
        snprintf(etc, sizeof etc, "%s/etc", dir);
        snprintf(run, sizeof run, "%s/run", dir);
        snprintf(pool, sizeof pool, "%s/pool", dir);
        CHECK(mkdir(etc, 0755) == 0 && mkdir(run, 0755) == 0 && mkdir(pool, 0755) == 0);
        setenv("BOXCTL_CONFIG_DIR", etc, 1);
        setenv("BOXCTL_RUNTIME_DIR", run, 1);

        CHECK(settings_file_find("m", pool, &path, &trusted) == -ENOENT);
        CHECK(settings_file_find("../m", pool, &path, &trusted) == -EINVAL);
        snprintf(p, sizeof p, "%s/m.box", pool);
        write_file(p, "[Exec]\nHostname=pool\n");
        CHECK(settings_file_find("m", pool, &path, &trusted) == 0 && !trusted);
        CHECK_STREQ(path, p);
        free(path);
        CHECK(settings_file_find("m", NULL, &path, &trusted) == -ENOENT);
        snprintf(p, sizeof p, "%s/m.box", run);
        write_file(p, "[Exec]\nHostname=run\n");
        CHECK(settings_file_find("m", pool, &path, &trusted) == 0 && trusted);
        CHECK_STREQ(path, p);
        free(path);
        snprintf(p, sizeof p, "%s/m.box", etc);
        write_file(p, "[Exec]\nHostname=etc\n");
        CHECK(settings_file_find("m", pool, &path, &trusted) == 0 && trusted);
        CHECK_STREQ(path, p);

        CHECK(settings_file_load(path, true, &f, &w, &e) == 0);
        CHECK_STREQ(f ? f->settings.hostname : NULL, "etc");
        f = settings_file_free(f);
        free(path);

        /* Beside the image: no symlink, nothing but a regular file. */
        snprintf(p, sizeof p, "%s/link.box", pool);
        CHECK(symlink("/etc/passwd", p) == 0);
        CHECK(settings_file_load(p, false, &f, &w, &e) == -ELOOP && !f);
        CHECK(e && strstr(e, "link.box: a symlink; a settings file beside the image must be a regular file"));
        snprintf(p, sizeof p, "%s/fifo.box", pool);
        CHECK(mkfifo(p, 0600) == 0);
        CHECK(settings_file_load(p, false, &f, &w, &e) == -EINVAL && !f);
        CHECK(e && strstr(e, "fifo.box: not a regular file"));
        snprintf(p, sizeof p, "%s/nul.box", pool);
        {
                int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

                CHECK(fd >= 0 && write(fd, "[Exec]\n\0x\n", 10) == 10);
                close(fd);
        }
        CHECK(settings_file_load(p, false, &f, &w, &e) == -EINVAL && !f);
        CHECK(e && strstr(e, "nul.box:2: a NUL byte"));
        snprintf(p, sizeof p, "%s/big.box", pool);
        {
                int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

                CHECK(fd >= 0 && ftruncate(fd, 65 * 1024) == 0);
                close(fd);
        }
        CHECK(settings_file_load(p, false, &f, &w, &e) == -EFBIG && !f);
        CHECK(e && strstr(e, "big.box: larger than 64 KiB"));
        snprintf(p, sizeof p, "%s/missing.box", pool);
        CHECK(settings_file_load(p, false, &f, &w, &e) == -ENOENT && !f);
        free(e);

        {
                char cmd[128];

                snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
                CHECK(system(cmd) == 0);
        }
}

int main(void) {
        test_mode_table();
        test_empty_and_comments();
        test_exec();
        test_files_network_limits();
        test_duplicates();
        test_unknown();
        test_bad();
        test_untrusted();
        test_merge();
        test_shared_helpers();
        test_find_and_load();
        return tap_done();
}
