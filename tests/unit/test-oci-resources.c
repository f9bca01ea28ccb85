/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config.json's linux.resources onto the core's limits (oci-config.c):
 * each field's mapping, what is refused, and the JSON paths of the errors.
 * Writing them into cgroups is tested on real containers by
 * tests/integration/test-oci-linux.sh. */
#include <stdlib.h>

#include "oci-config.h"
#include "tap.h"
#include "util.h"

/* A config whose linux.resources is RESOURCES (a JSON object). */
static int parse(const char *resources, OciConfig *c, char **error) {
        _cleanup_free_ char *text = NULL;

        free(*error);
        *error = NULL;
        oci_config_done(c);
        *c = (OciConfig) {};
        if (asprintf(&text,
                     "{\"ociVersion\": \"1.0.2\", \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"user\": {\"uid\": 0, \"gid\": 0}},"
                     " \"root\": {\"path\": \"rootfs\"}, \"linux\": {\"resources\": %s}}",
                     resources) < 0)
                return -ENOMEM;
        return oci_config_parse(text, c, error);
}

static bool error_has(const char *error, const char *needle) {
        bool found = error && strstr(error, needle);

        if (!found)
                printf("# error: %s\n", error ?: "(none)");
        return found;
}

static void test_cpu(void) {
        OciConfig c = {};
        char *error = NULL;
        const CgroupLimits *l = &c.limits;

        CHECK(parse("{\"cpu\": {\"shares\": 2048, \"quota\": 50000, \"period\": 500000, \"cpus\": \"0-1\", \"mems\": \"0\","
                    " \"realtimeRuntime\": 950000, \"realtimePeriod\": 1000000, \"idle\": 1}}", &c, &error) == 0);
        CHECK(l->value[CGROUP_LIMIT_CPU_WEIGHT] == 200);
        /* 50 ms in 500 ms is 100 ms a second; the same 50 ms per period at apply time */
        CHECK(l->value[CGROUP_LIMIT_CPU_QUOTA] == 100000 && l->value[CGROUP_LIMIT_CPU_QUOTA_PERIOD] == 500000);
        CHECK_STREQ(l->cpus, "0-1");
        CHECK_STREQ(l->mems, "0");
        CHECK(l->extras.has_rt_runtime && l->extras.rt_runtime == 950000 && l->extras.has_rt_period && l->extras.rt_period == 1000000);
        CHECK(l->extras.has_idle && l->extras.idle == 1);

        CHECK(parse("{\"cpu\": {\"period\": 250000, \"quota\": -1, \"cpus\": \"\"}}", &c, &error) == 0);
        CHECK(cgroup_limits_is_set(l, CGROUP_LIMIT_CPU_QUOTA_PERIOD) && !cgroup_limits_is_set(l, CGROUP_LIMIT_CPU_QUOTA));
        CHECK(!cgroup_limits_is_set(l, CGROUP_LIMIT_ALLOWED_CPUS) && !l->cpus);

        CHECK(parse("{\"cpu\": {\"quota\": 50000}}", &c, &error) == 0);
        CHECK(l->value[CGROUP_LIMIT_CPU_QUOTA] == 500000 && l->value[CGROUP_LIMIT_CPU_QUOTA_PERIOD] == 100000);

        CHECK(parse("{\"cpu\": {\"cpus\": \"0-x\"}}", &c, &error) == -EINVAL && error_has(error, "linux.resources.cpu.cpus: \"0-x\""));
        CHECK(parse("{\"cpu\": {\"mems\": 0}}", &c, &error) == -EINVAL && error_has(error, "linux.resources.cpu.mems: not a string"));
        CHECK(parse("{\"cpu\": {\"quota\": 50000, \"period\": 999}}", &c, &error) == -EINVAL &&
              error_has(error, "linux.resources.cpu.period: 999 is out of range"));
        CHECK(parse("{\"cpu\": {\"period\": 1000001}}", &c, &error) == -EINVAL && error_has(error, "linux.resources.cpu.period: 1000001"));
        CHECK(parse("{\"cpu\": {\"quota\": 999}}", &c, &error) == -EINVAL && error_has(error, "linux.resources.cpu.quota: 999 is out of range"));
        CHECK(parse("{\"cpu\": {\"quota\": -2}}", &c, &error) == -EINVAL && error_has(error, "linux.resources.cpu.quota: -2 is not a quota"));
        CHECK(parse("{\"cpu\": {\"idle\": 2}}", &c, &error) == -EINVAL && error_has(error, "linux.resources.cpu.idle: 2"));
        CHECK(parse("{\"cpu\": {\"realtimeRuntime\": -5}}", &c, &error) == -EINVAL && error_has(error, "linux.resources.cpu.realtimeRuntime: -5"));
        oci_config_done(&c);
        free(error);
}

static void test_memory(void) {
        OciConfig c = {};
        char *error = NULL;
        const CgroupLimits *l = &c.limits;

        CHECK(parse("{\"memory\": {\"limit\": 50593792, \"reservation\": 50593792, \"swap\": 50593792, \"kernel\": 50593792,"
                    " \"kernelTCP\": 50593792, \"swappiness\": 10, \"disableOOMKiller\": true}}", &c, &error) == 0);
        CHECK(l->value[CGROUP_LIMIT_MEMORY_MAX] == 50593792 && l->value[CGROUP_LIMIT_MEMORY_LOW] == 50593792);
        CHECK(l->value[CGROUP_LIMIT_MEMORY_SWAP_MAX] == 0);
        CHECK(l->extras.has_kmem_tcp && l->extras.kmem_tcp == 50593792);
        CHECK(l->extras.has_swappiness && l->extras.swappiness == 10 && l->extras.disable_oom_killer);
        /* memory.kernel: left out, said with --debug */
        CHECK(strv_length(c.unapplied) == 1 && startswith(c.unapplied[0], "linux.resources.memory.kernel"));

        CHECK(parse("{\"memory\": {\"reservation\": -1, \"kernelTCP\": -1, \"swappiness\": 0, \"disableOOMKiller\": false}}", &c, &error) == 0);
        CHECK(!cgroup_limits_is_set(l, CGROUP_LIMIT_MEMORY_LOW) && !l->extras.has_kmem_tcp && !l->extras.disable_oom_killer);
        CHECK(l->extras.has_swappiness && l->extras.swappiness == 0);

        CHECK(parse("{\"memory\": {\"swappiness\": 101}}", &c, &error) == -EINVAL && error_has(error, "linux.resources.memory.swappiness: 101"));
        CHECK(parse("{\"memory\": {\"reservation\": -2}}", &c, &error) == -EINVAL && error_has(error, "linux.resources.memory.reservation: -2"));
        CHECK(parse("{\"memory\": {\"disableOOMKiller\": 1}}", &c, &error) == -EINVAL &&
              error_has(error, "linux.resources.memory.disableOOMKiller: not a boolean"));
        oci_config_done(&c);
        free(error);
}

static void test_network_and_others(void) {
        OciConfig c = {};
        char *error = NULL;
        const CgroupExtras *e = &c.limits.extras;

        CHECK(parse("{\"network\": {\"classID\": 1048577, \"priorities\": [{\"name\": \"lo\", \"priority\": 10}, {\"name\": \"eth0\", \"priority\": 30}]}}",
                    &c, &error) == 0);
        CHECK(e->has_classid && e->classid == 1048577);
        CHECK(strv_length(e->ifpriomap) == 2);
        CHECK_STREQ(e->ifpriomap[1], "eth0 30");
        CHECK(parse("{\"network\": {\"classID\": 4294967296}}", &c, &error) < 0 && error_has(error, "linux.resources.network.classID"));
        CHECK(parse("{\"network\": {\"priorities\": [{\"name\": \"a/b\", \"priority\": 1}]}}", &c, &error) == -EINVAL &&
              error_has(error, "linux.resources.network.priorities[0].name"));

        CHECK(parse("{\"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 4194304}, {\"pageSize\": \"1GB\", \"limit\": 0}]}", &c, &error) == 0);
        CHECK(e->n_hugetlb == 2 && e->hugetlb[0].limit == 4194304);
        CHECK_STREQ(e->hugetlb[1].page_size, "1GB");
        CHECK(parse("{\"hugepageLimits\": [{\"pageSize\": \"2XB\", \"limit\": 1}]}", &c, &error) == -EINVAL &&
              error_has(error, "linux.resources.hugepageLimits[0].pageSize: \"2XB\""));

        CHECK(parse("{\"unified\": {\"memory.high\": \"1M\"}}", &c, &error) == -EOPNOTSUPP && error_has(error, "linux.resources.unified: not supported"));
        CHECK(parse("{\"rdma\": {\"mlx5_0\": {\"hcaHandles\": 3}}}", &c, &error) == -EOPNOTSUPP && error_has(error, "linux.resources.rdma"));
        CHECK(parse("{\"unified\": {}, \"rdma\": {}, \"hugepageLimits\": []}", &c, &error) == 0 && cgroup_limits_is_empty(&c.limits));
        oci_config_done(&c);
        free(error);
}

int main(void) {
        test_cpu();
        test_memory();
        test_network_and_others();
        return tap_done();
}
