/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* boxctl set-property NAME KEY=VALUE...: changes the resource limits of a
 * running machine, keys named as systemd's (MemoryMax=, CPUQuota=, ...).
 * The registry says where the machine is (its leader); the limits go into
 * its cgroups through the same core code as boot's --memory-max and the like
 * (cgroup-limits.h). Every assignment is checked before any is written. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "cgroup-limits.h"
#include "cgroup-v1.h"
#include "cgroup.h"
#include "log.h"
#include "verb-machines.h"
#include "verbs.h"

static void help(void) {
        printf("Usage: boxctl set-property NAME KEY=VALUE...\n\n"
               "Change the resource limits of a running machine, as systemctl set-property\n"
               "does for a unit. Keys:\n"
               "  MemoryMax=BYTES           Memory limit (64M, 1.5G, 10%%, infinity)\n"
               "  MemoryHigh=BYTES          Memory throttling limit (cgroup v1: the soft limit)\n"
               "  MemorySwapMax=BYTES       Swap limit (cgroup v1: with MemoryMax)\n"
               "  MemoryLow=BYTES           Memory protected from reclaim (cgroup v1: the soft limit)\n"
               "  CPUWeight=1..10000        CPU share against other machines (100 by default)\n"
               "  CPUQuota=PERCENT          CPU time per wall time (20%% is a fifth of one CPU)\n"
               "  CPUQuotaPeriodSec=TIME    The period CPUQuota is enforced over (1ms..1s)\n"
               "  AllowedCPUs=LIST          Run only on these CPUs (0-3,6)\n"
               "  AllowedMemoryNodes=LIST   Allocate memory only on these NUMA nodes\n"
               "  TasksMax=N                At most N processes and threads (or infinity)\n"
               "  IOWeight=1..10000         Disk share against other machines\n"
               "  IOReadBandwidthMax=\"DEVICE BYTES\", IOWriteBandwidthMax=\"DEVICE BYTES\"\n"
               "                            Bandwidth per second on a whole disk (or max)\n\n"
               "  -h --help                 Show this help\n");
}

static int parse_assignment(CgroupLimits *l, const char *a) {
        _cleanup_free_ char *key = strndup(a, strcspn(a, "="));
        CgroupLimit k;
        int r;

        if (!key)
                return log_oom();
        r = cgroup_limits_parse_property(l, a);
        if (r >= 0)
                return 0;
        if (r == -ENOMEM)
                return log_oom();
        if (r == -ENOKEY)
                return log_error_errno(r, "set-property: unknown property '%s'; use MemoryMax, MemoryHigh, MemoryLow, MemorySwapMax, CPUWeight, "
                                       "CPUQuota, CPUQuotaPeriodSec, AllowedCPUs, AllowedMemoryNodes, TasksMax, IOWeight, "
                                       "IOReadBandwidthMax or IOWriteBandwidthMax", key);
        if (!strchr(a, '='))
                return log_error_errno(r, "set-property: invalid assignment '%s': expected KEY=VALUE", a);
        k = cgroup_limit_from_string(key);
        if (k < 0) { /* the bandwidth keys */
                if (r == -ENOENT)
                        return log_error_errno(r, "set-property: invalid %s: no such block device", a);
                if (r == -ENOTBLK)
                        return log_error_errno(r, "set-property: invalid %s: not a block device", a);
                if (r == -EISDIR)
                        return log_error_errno(r, "set-property: invalid %s: a partition; the kernel limits whole disks only", a);
                return log_error_errno(r, "set-property: invalid %s: use %s=\"DEVICE BYTES\", like \"/dev/vda 10M\"", a, key);
        }
        if (r == -ERANGE)
                return log_error_errno(r, "set-property: invalid %s: out of range; use %s", a, cgroup_limit_range(k));
        return log_error_errno(r, "set-property: invalid %s: use %s", a, cgroup_limit_range(k));
}

int verb_set_property(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_(cgroup_limits_done) CgroupLimits limits = {};
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(machine_info_done) MachineInfo mi = {};
        _cleanup_(cgroup_machine_freep) Cgroup *cg = NULL;
        _cleanup_(cgroup_v1_machine_freep) CgroupV1 *v1 = NULL;
        _cleanup_free_ char *why = NULL;
        const char *name;
        int c, r;

        opterr = 0;
        optind = 0;
        /* "+": stop at NAME, so that a value is never taken for an option. */
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                default:
                        log_error("unknown option '%s'; try 'boxctl set-property --help'", argv[optind - 1]);
                        return 1;
                }
        if (optind >= argc) {
                log_error("no machine given; usage: boxctl set-property NAME KEY=VALUE...");
                return 1;
        }
        name = argv[optind++];
        if (optind >= argc) {
                log_error("set-property %s: no property given; usage: boxctl set-property NAME KEY=VALUE...", name);
                return 1;
        }
        for (int i = optind; i < argc; i++)
                if (parse_assignment(&limits, argv[i]) < 0)
                        return 1;
        if (geteuid() != 0) {
                log_error("set-property %s: permission denied: only root may change a machine's limits", name);
                return 1;
        }

        r = sd_bus_open_system(&bus);
        if (r < 0) {
                log_error_errno(r, "cannot connect to the system bus: %m; is dbus-daemon running?");
                return 1;
        }
        if (machines_set_string(&mi.name, name) < 0)
                return log_oom() < 0 ? 1 : 0;
        r = machine_get_path(bus, name, &error, &mi.path);
        if (r >= 0)
                r = machine_info_fetch_properties(bus, &mi, &error);
        if (r < 0) {
                machines_log_bus_error(r, &error, "set-property", name);
                return 1;
        }
        if (mi.leader <= 1) {
                log_error("set-property %s: the registry knows no leader for it", name);
                return 1;
        }
        r = cgroup_machine_open_leader((pid_t) mi.leader, mi.unit, &cg);
        if (r < 0) {
                log_error_errno(r, "set-property %s: cannot find its cgroup (unit %s) above its leader %" PRIu32 "'s: %m", name,
                                strempty(mi.unit), mi.leader);
                return 1;
        }
        r = cgroup_v1_machine_open((pid_t) mi.leader, &v1);
        if (r < 0) {
                log_error_errno(r, "set-property %s: cannot open its cgroup v1 hierarchies: %m", name);
                return 1;
        }
        r = cgroup_limits_apply(&limits, cg, v1, &why);
        if (r < 0) {
                log_error_errno(r, "set-property %s: %s", name, why ?: "cannot apply the limits");
                return 1;
        }
        return 0;
}
