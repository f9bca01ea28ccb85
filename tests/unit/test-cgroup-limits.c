/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The parsing of resource limits (cgroup-limits.c): options and systemd's
 * property names, sizes, percentages, ranges, --io-max. Applying them is
 * tested on real cgroups by tests/integration/test-limits.sh. */
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "cgroup-limits.h"
#include "tap.h"

static void test_tables(void) {
        for (int i = 0; i < _CGROUP_LIMIT_MAX; i++) {
                CHECK(cgroup_limit_from_string(cgroup_limit_to_string(i)) == i);
                CHECK(cgroup_limit_option_from_string(cgroup_limit_option_to_string(i)) == i);
                CHECK(cgroup_limit_controller(i) != NULL);
        }
        CHECK(cgroup_limit_from_string("MemoryLimit") == _CGROUP_LIMIT_INVALID);
        CHECK(cgroup_limit_option_from_string("memory") == _CGROUP_LIMIT_INVALID);
}

static int parse(CgroupLimit k, const char *v, uint64_t *ret) {
        CgroupLimits l = {};
        int r = cgroup_limits_parse(&l, k, v);

        if (r >= 0) {
                *ret = l.value[k];
                if (!cgroup_limits_is_set(&l, k))
                        r = -EBADMSG;
        }
        cgroup_limits_done(&l);
        return r;
}

static void test_memory(void) {
        uint64_t v = 0;

        CHECK(parse(CGROUP_LIMIT_MEMORY_MAX, "64M", &v) == 0 && v == 64ULL << 20);
        CHECK(parse(CGROUP_LIMIT_MEMORY_MAX, "64MiB", &v) == 0 && v == 64ULL << 20);
        CHECK(parse(CGROUP_LIMIT_MEMORY_MAX, "1.5G", &v) == 0 && v == 3ULL << 29);
        CHECK(parse(CGROUP_LIMIT_MEMORY_MAX, "4096", &v) == 0 && v == 4096);
        CHECK(parse(CGROUP_LIMIT_MEMORY_MAX, "2k", &v) == 0 && v == 2048);
        CHECK(parse(CGROUP_LIMIT_MEMORY_MAX, "infinity", &v) == 0 && v == CGROUP_LIMIT_INFINITY);
        CHECK(parse(CGROUP_LIMIT_MEMORY_HIGH, "max", &v) == 0 && v == CGROUP_LIMIT_INFINITY);
        CHECK(parse(CGROUP_LIMIT_MEMORY_MAX, "50%", &v) == 0 && v > 0);
        CHECK(parse(CGROUP_LIMIT_MEMORY_MAX, "0", &v) == -ERANGE);
        CHECK(parse(CGROUP_LIMIT_MEMORY_SWAP_MAX, "0", &v) == 0 && v == 0);
        CHECK(parse(CGROUP_LIMIT_MEMORY_MAX, "101%", &v) == -ERANGE);
        CHECK(parse(CGROUP_LIMIT_MEMORY_MAX, "99999999T", &v) == -ERANGE);
        CHECK(parse(CGROUP_LIMIT_MEMORY_MAX, "1.5", &v) == -EINVAL);
        CHECK(parse(CGROUP_LIMIT_MEMORY_MAX, "lots", &v) == -EINVAL);
        CHECK(parse(CGROUP_LIMIT_MEMORY_MAX, "", &v) == -EINVAL);
        CHECK(parse(CGROUP_LIMIT_MEMORY_MAX, "-1", &v) == -EINVAL);
        CHECK(parse(CGROUP_LIMIT_MEMORY_MAX, "5X", &v) == -EINVAL);
        CHECK(parse(CGROUP_LIMIT_MEMORY_MAX, "5i", &v) == -EINVAL);
        CHECK(parse(CGROUP_LIMIT_MEMORY_MAX, "M", &v) == -EINVAL);
}

static void test_numbers(void) {
        uint64_t v = 0;

        CHECK(parse(CGROUP_LIMIT_CPU_WEIGHT, "1", &v) == 0 && v == 1);
        CHECK(parse(CGROUP_LIMIT_CPU_WEIGHT, "10000", &v) == 0 && v == 10000);
        CHECK(parse(CGROUP_LIMIT_CPU_WEIGHT, "0", &v) == -ERANGE);
        CHECK(parse(CGROUP_LIMIT_IO_WEIGHT, "10001", &v) == -ERANGE);
        CHECK(parse(CGROUP_LIMIT_IO_WEIGHT, "infinity", &v) == -EINVAL);
        CHECK(parse(CGROUP_LIMIT_TASKS_MAX, "50", &v) == 0 && v == 50);
        CHECK(parse(CGROUP_LIMIT_TASKS_MAX, "infinity", &v) == 0 && v == CGROUP_LIMIT_INFINITY);
        CHECK(parse(CGROUP_LIMIT_TASKS_MAX, "0", &v) == -ERANGE);
        CHECK(parse(CGROUP_LIMIT_TASKS_MAX, "4194305", &v) == -ERANGE);
        CHECK(parse(CGROUP_LIMIT_TASKS_MAX, "5.0", &v) == -EINVAL);
        CHECK(parse(CGROUP_LIMIT_TASKS_MAX, "99999999999999999999999", &v) == -ERANGE);
}

static void test_cpu_quota(void) {
        uint64_t v = 0;

        CHECK(parse(CGROUP_LIMIT_CPU_QUOTA, "20%", &v) == 0 && v == 200000);
        CHECK(parse(CGROUP_LIMIT_CPU_QUOTA, "150%", &v) == 0 && v == 1500000);
        CHECK(parse(CGROUP_LIMIT_CPU_QUOTA, "12.5%", &v) == 0 && v == 125000);
        CHECK(parse(CGROUP_LIMIT_CPU_QUOTA, "1%", &v) == 0 && v == 10000);
        CHECK(parse(CGROUP_LIMIT_CPU_QUOTA, "infinity", &v) == 0 && v == CGROUP_LIMIT_INFINITY);
        CHECK(parse(CGROUP_LIMIT_CPU_QUOTA, "0.5%", &v) == -ERANGE);
        CHECK(parse(CGROUP_LIMIT_CPU_QUOTA, "0%", &v) == -ERANGE);
        CHECK(parse(CGROUP_LIMIT_CPU_QUOTA, "100001%", &v) == -ERANGE);
        CHECK(parse(CGROUP_LIMIT_CPU_QUOTA, "20", &v) == -EINVAL);
        CHECK(parse(CGROUP_LIMIT_CPU_QUOTA, "%", &v) == -EINVAL);
        CHECK(parse(CGROUP_LIMIT_CPU_QUOTA, "1.234%", &v) == -EINVAL);
}

static void test_cpu_list(void) {
        char *list = NULL;
        CgroupLimits l = {};

        CHECK(cgroup_cpu_list_parse("0", &list) == 0);
        CHECK_STREQ(list, "0");
        free(list);
        CHECK(cgroup_cpu_list_parse("0-3, 6 8-9", &list) == 0);
        CHECK_STREQ(list, "0-3,6,8-9");
        free(list);
        CHECK(cgroup_cpu_list_parse("2-2", &list) == 0);
        CHECK_STREQ(list, "2");
        free(list);
        CHECK(cgroup_cpu_list_parse("8191", NULL) == 0);
        CHECK(cgroup_cpu_list_parse("8192", NULL) == -ERANGE);
        CHECK(cgroup_cpu_list_parse("0-99999999999999999999", NULL) == -ERANGE);
        CHECK(cgroup_cpu_list_parse("3-1", NULL) == -EINVAL);
        CHECK(cgroup_cpu_list_parse("a", NULL) == -EINVAL);
        CHECK(cgroup_cpu_list_parse("0-", NULL) == -EINVAL);
        CHECK(cgroup_cpu_list_parse("-1", NULL) == -EINVAL);
        CHECK(cgroup_cpu_list_parse("1x", NULL) == -EINVAL);
        CHECK(cgroup_cpu_list_parse(",", NULL) == -EINVAL);
        CHECK(cgroup_cpu_list_parse("", NULL) == -EINVAL);

        CHECK(cgroup_limits_parse_property(&l, "AllowedCPUs=0-1") == 0 && cgroup_limits_is_set(&l, CGROUP_LIMIT_ALLOWED_CPUS));
        CHECK_STREQ(l.cpus, "0-1");
        CHECK(cgroup_limits_parse_property(&l, "AllowedMemoryNodes=0") == 0);
        CHECK_STREQ(l.mems, "0");
        CHECK(cgroup_limits_parse_property(&l, "AllowedCPUs=x") == -EINVAL);
        CHECK_STREQ(l.cpus, "0-1");
        cgroup_limits_done(&l);
        CHECK(!l.cpus && !l.mems && cgroup_limits_is_empty(&l));
}

static void test_cpu_period(void) {
        CgroupLimits l = {};
        uint64_t v = 0;

        CHECK(parse(CGROUP_LIMIT_CPU_QUOTA_PERIOD, "10ms", &v) == 0 && v == 10000);
        CHECK(parse(CGROUP_LIMIT_CPU_QUOTA_PERIOD, "1s", &v) == 0 && v == 1000000);
        CHECK(parse(CGROUP_LIMIT_CPU_QUOTA_PERIOD, "0.5s", &v) == 0 && v == 500000);
        CHECK(parse(CGROUP_LIMIT_CPU_QUOTA_PERIOD, "250000us", &v) == 0 && v == 250000);
        CHECK(parse(CGROUP_LIMIT_CPU_QUOTA_PERIOD, "1000usec", &v) == 0 && v == 1000);
        CHECK(parse(CGROUP_LIMIT_CPU_QUOTA_PERIOD, "1", &v) == 0 && v == 1000000);
        CHECK(parse(CGROUP_LIMIT_CPU_QUOTA_PERIOD, "999us", &v) == -ERANGE);
        CHECK(parse(CGROUP_LIMIT_CPU_QUOTA_PERIOD, "2s", &v) == -ERANGE);
        CHECK(parse(CGROUP_LIMIT_CPU_QUOTA_PERIOD, "10 parsecs", &v) == -EINVAL);
        CHECK(parse(CGROUP_LIMIT_CPU_QUOTA_PERIOD, "us", &v) == -EINVAL);
        CHECK(parse(CGROUP_LIMIT_MEMORY_LOW, "0", &v) == 0 && v == 0);
        CHECK(parse(CGROUP_LIMIT_MEMORY_LOW, "16M", &v) == 0 && v == 16ULL << 20);

        /* An OCI quota over its period: kept per second, the same per period again. */
        CHECK(cgroup_limits_set_cpu_quota(&l, 50000, 500000) == 0);
        CHECK(l.value[CGROUP_LIMIT_CPU_QUOTA] == 100000 && l.value[CGROUP_LIMIT_CPU_QUOTA_PERIOD] == 500000);
        CHECK(cgroup_limits_set_cpu_quota(&l, 33333, 100000) == 0 && l.value[CGROUP_LIMIT_CPU_QUOTA] == 333330);
        CHECK(cgroup_limits_set_cpu_quota(&l, 1001, 3001) == 0);
        CHECK((l.value[CGROUP_LIMIT_CPU_QUOTA] * 3001 + 500000) / 1000000 == 1001);
        CHECK(cgroup_limits_set_cpu_quota(&l, 999, 100000) == -ERANGE);
        CHECK(cgroup_limits_set_cpu_quota(&l, 50000, 999) == -ERANGE);
        CHECK(cgroup_limits_set_cpu_quota(&l, 50000, 1000001) == -ERANGE);
        CHECK(cgroup_limits_set_cpu_quota(&l, UINT64_C(1) << 62, 100000) == -ERANGE);
}

static void test_hugetlb(void) {
        CgroupLimits l = {};

        CHECK(cgroup_limits_add_hugetlb(&l, "2MB", 4 << 20) == 0);
        CHECK(cgroup_limits_add_hugetlb(&l, "1GB", 0) == 0);
        CHECK(cgroup_limits_add_hugetlb(&l, "64KB", 65536) == 0);
        CHECK(l.extras.n_hugetlb == 3 && !cgroup_limits_is_empty(&l));
        CHECK_STREQ(l.extras.hugetlb[1].page_size, "1GB");
        CHECK(cgroup_limits_add_hugetlb(&l, "2M", 1) == -EINVAL);
        CHECK(cgroup_limits_add_hugetlb(&l, "MB", 1) == -EINVAL);
        CHECK(cgroup_limits_add_hugetlb(&l, "02MB", 1) == -EINVAL);
        CHECK(cgroup_limits_add_hugetlb(&l, "2MB/../x", 1) == -EINVAL);
        CHECK(cgroup_limits_add_hugetlb(&l, "123456789012345MB", 1) == -EINVAL);
        CHECK(l.extras.n_hugetlb == 3);
        cgroup_limits_done(&l);
        CHECK(cgroup_limits_is_empty(&l));
}

static void test_property(void) {
        CgroupLimits l = {};

        CHECK(cgroup_limits_parse_property(&l, "MemoryMax=32M") == 0);
        CHECK(cgroup_limits_is_set(&l, CGROUP_LIMIT_MEMORY_MAX) && l.value[CGROUP_LIMIT_MEMORY_MAX] == 32ULL << 20);
        CHECK(cgroup_limits_parse_property(&l, "TasksMax=10") == 0 && l.value[CGROUP_LIMIT_TASKS_MAX] == 10);
        CHECK(cgroup_limits_parse_property(&l, "CPUQuota=10%") == 0 && l.value[CGROUP_LIMIT_CPU_QUOTA] == 100000);
        CHECK(cgroup_limits_parse_property(&l, "MemoryLimit=1G") == -ENOKEY);
        CHECK(cgroup_limits_parse_property(&l, "memorymax=1G") == -ENOKEY);
        CHECK(cgroup_limits_parse_property(&l, "MemoryMax") == -EINVAL);
        CHECK(cgroup_limits_parse_property(&l, "=5") == -EINVAL);
        CHECK(cgroup_limits_parse_property(&l, "CPUWeight=0") == -ERANGE);
        CHECK(!cgroup_limits_is_set(&l, CGROUP_LIMIT_CPU_WEIGHT));
        cgroup_limits_done(&l);
        CHECK(cgroup_limits_is_empty(&l));
}

static void test_io_max(void) {
        CgroupLimits l = {};

        /* /dev/null is a character device, and 1:3 is no block device. */
        CHECK(cgroup_limits_parse_io_max(&l, "/dev/null:r:1M") == -ENOTBLK);
        CHECK(cgroup_limits_parse_io_max(&l, "/dev/no-such-disk:r:1M") == -ENOENT);
        CHECK(cgroup_limits_parse_io_max(&l, "/dev/null:10M") == -EINVAL);
        CHECK(cgroup_limits_parse_io_max(&l, "/dev/null:x:10M") == -EINVAL);
        CHECK(cgroup_limits_parse_io_max(&l, ":r:10M") == -EINVAL);
        CHECK(cgroup_limits_parse_io_max(&l, "7:0:w:0") == -ERANGE);
        CHECK(cgroup_limits_parse_io_max(&l, "7:0:w:lots") == -EINVAL);
        CHECK(cgroup_limits_parse_io_max(&l, "nonsense") == -EINVAL);
        /* loop0 exists wherever the loop module is loaded: a whole disk. */
        if (access("/sys/dev/block/7:0", F_OK) >= 0) {
                CHECK(cgroup_limits_parse_io_max(&l, "7:0:w:10M") == 0);
                CHECK(cgroup_limits_parse_io_max(&l, "7:0:r:max") == 0);
                CHECK(cgroup_limits_parse_io_max(&l, "7:0:w:20M") == 0); /* replaces the first */
                CHECK(l.n_io_max == 2 && l.io_max[0].dev == makedev(7, 0) && l.io_max[0].write &&
                      l.io_max[0].bytes == 20ULL << 20 && !l.io_max[1].write && l.io_max[1].bytes == CGROUP_LIMIT_INFINITY);
        } else
                printf("ok %u - # SKIP no /dev/loop0 on this host\n", ++tap_n);
        cgroup_limits_done(&l);
}

int main(void) {
        test_tables();
        test_memory();
        test_numbers();
        test_cpu_quota();
        test_cpu_list();
        test_cpu_period();
        test_hugetlb();
        test_property();
        test_io_max();
        return tap_done();
}
