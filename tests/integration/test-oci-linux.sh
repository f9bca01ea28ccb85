#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# boxctl-oci's "linux" section beyond what test-oci covers: user namespace
# maps of more than one range, namespaces joined by path, and the cgroups
# that linux.cgroupsPath names, each checked where the kernel shows it
# (/proc/PID/uid_map, /proc/PID/ns/*, /proc/PID/cgroup and the limit files),
# and their bad input: one line in runc's words, exit 1, nothing left.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

. "$BOXCTL_SRCDIR/tests/lib/oci.sh"
state_pid() { oci state "$1" | jq -r .pid; }

base_config='{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false, "user": {"uid": 0, "gid": 0},
    "args": ["sleep", "1000"],
    "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "cwd": "/"
  },
  "root": {"path": "rootfs"},
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]}
  ],
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}]
  }
}'
# up ID BUNDLE: create and start a container whose sleep then runs (a
# child of its init, the stub; or the init itself, in a PID namespace not
# its own).
up() {
        oci create --bundle "$2" "$1" </dev/null >/dev/null && oci start "$1" &&
                wait_for 10 bash -c '[[ $(ps -o comm= --ppid "$1") == sleep || $(ps -o comm= -p "$1") == sleep ]]' _ "$(state_pid "$1")"
}

# --- user namespace maps of more than one range ---
b=$(bundle maps '.linux.namespaces += [{"type": "user"}]
        | .linux.uidMappings = [{"containerID": 0, "hostID": 1000000, "size": 1000}, {"containerID": 1000, "hostID": 2000000, "size": 500}]
        | .linux.gidMappings = [{"containerID": 0, "hostID": 1000000, "size": 3000}]')
check "create and start with a two-range uidMappings and a wider gidMappings" up maps "$b"
pid=$(state_pid maps)
is "$(awk '{ print $1, $2, $3 }' "/proc/$pid/uid_map" | paste -sd,)" "0 1000000 1000,1000 2000000 500" "/proc/PID/uid_map has both ranges"
is "$(awk '{ print $1, $2, $3 }' "/proc/$pid/gid_map" | paste -sd,)" "0 1000000 3000" "/proc/PID/gid_map as given"
ok "the container's root is host UID 1000000" bash -c '[[ $(stat -c %u /proc/$1) == 1000000 ]]' _ "$pid"
check "delete --force" oci delete --force maps
check "...leaves nothing" gone maps

bundle bad '.linux.namespaces += [{"type": "user"}]
        | .linux.uidMappings = [{"containerID": 0, "hostID": 1000000, "size": 1000}, {"containerID": 500, "hostID": 3000000, "size": 10}]
        | .linux.gidMappings = [{"containerID": 0, "hostID": 1000000, "size": 1000}]' >/dev/null
fails_with "uidMappings whose container IDs overlap" "linux.uidMappings[1]: its container IDs overlap those of linux.uidMappings[0]" \
        oci create --bundle "$work/bad" bad
check "...leaves nothing" gone bad
bundle bad '.linux.namespaces += [{"type": "user"}]
        | .linux.uidMappings = [{"containerID": 0, "hostID": 1000000, "size": 1000}]
        | .linux.gidMappings = [{"containerID": 0, "hostID": 1000000, "size": 1000}, {"containerID": 2000, "hostID": 1000500, "size": 10}]' >/dev/null
fails_with "gidMappings whose host IDs overlap" "linux.gidMappings[1]: its host IDs overlap those of linux.gidMappings[0]" \
        oci create --bundle "$work/bad" bad
bundle bad '.linux.namespaces += [{"type": "user"}]
        | .linux.uidMappings = [{"containerID": 1, "hostID": 1000000, "size": 1000}]
        | .linux.gidMappings = .linux.uidMappings' >/dev/null
fails_with "no range for the container's root" "linux.uidMappings: no range maps container ID 0" oci create --bundle "$work/bad" bad
check "...leaves nothing" gone bad

# --- linux.cgroupsPath: the container's cgroups, and its limits, where it names ---
v1=$(test_tmpdir)
cg2=$(cgroup2_root)
# v1mnt CONTROLLER: a mount of that v1 hierarchy (the unified layout hides them).
v1mnt() {
        if [[ ! -d $v1/$1 ]]; then
                mkdir "$v1/$1" && mount -t cgroup -o "$1" cgroup "$v1/$1"
                cleanup_push bash -c "umount '$v1/$1' 2>/dev/null || true"
        fi
        echo "$v1/$1"
}
# limit CONTROLLER PATH V1-FILE V2-FILE: what was written at cgroup PATH.
limit() {
        if grep -qw "$1" "$cg2/cgroup.controllers"; then
                cat "$cg2$2/$4"
        else
                cat "$(v1mnt "$1")$2/$3"
        fi
}
# cg_of PID CONTROLLER: PID's cgroup in the hierarchy that has CONTROLLER ("" for cgroup2).
cg_of() { awk -F: -v c="$2" '($2 == "" && c == "") || (c != "" && $2 ~ "(^|,)" c "(,|$)") { print $3 }' "/proc/$1/cgroup"; }
# no_cgroup PATH: PATH is in no hierarchy.
no_cgroup() { [[ ! -e $cg2$1 && ! -e $(v1mnt memory)$1 && ! -e $(v1mnt pids)$1 ]]; }
b=$(bundle cgabs '.linux.cgroupsPath = "/boxctl-oci-test/abs"
        | .linux.resources = {"memory": {"limit": 67108864}, "pids": {"limit": 50}}')
check "an absolute cgroupsPath: create and start" up cgabs "$b"
pid=$(state_pid cgabs)
is "$(cg_of "$pid" "")" /boxctl-oci-test/abs "the container's cgroup2 cgroup is the path, below the root"
is "$(cg_of "$pid" memory)" /boxctl-oci-test/abs "...and its memory cgroup (v1: the same path below that root)"
is "$(limit memory /boxctl-oci-test/abs memory.limit_in_bytes memory.max)" 67108864 "memory.limit written there"
is "$(limit pids /boxctl-oci-test/abs pids.max pids.max)" 50 "pids.limit written there"
ok "nothing in machine.slice for it" bash -c '[[ ! -e $1/machine.slice/machine-cgabs.scope ]]' _ "$cg2"
check "kill --all reaches it" oci kill --all cgabs KILL
check "...and it stops" wait_for 10 bash -c '[[ $("$1" --root "$2" state cgabs | jq -r .status) == stopped ]]' _ "$OCI" "$root"
check "delete" oci delete cgabs
ok "delete removes the cgroups it made, up to the root" no_cgroup /boxctl-oci-test

# A relative path is below the runtime's own cgroup (runc's cgroupfs rule).
mkdir -p "$cg2/boxctl-oci-keep" "$(v1mnt memory)/boxctl-oci-keep"
cleanup_push bash -c 'rmdir "$1/boxctl-oci-keep" "$2/boxctl-oci-keep" 2>/dev/null || true' _ "$cg2" "$(v1mnt memory)"
own=$(cg_of $$ "")
b=$(bundle cgrel '.linux.cgroupsPath = "sub/rel"')
check "a relative cgroupsPath: create and start" up cgrel "$b"
pid=$(state_pid cgrel)
is "$(cg_of "$pid" "")" "${own%/}/sub/rel" "the container's cgroup2 cgroup is below the runtime's own"
ok "...and its memory cgroup below the runtime's own there" \
        bash -c '[[ $2 == "${1%/}/sub/rel" ]]' _ "$(cg_of $$ memory)" "$(cg_of "$pid" memory)"
check "delete --force" oci delete --force cgrel
ok "delete removes sub/rel and sub" bash -c '[[ ! -e $1${2%/}/sub ]]' _ "$cg2" "$own"

# A cgroup that was there before is used, and left there by delete.
b=$(bundle cgkeep '.linux.cgroupsPath = "/boxctl-oci-keep"')
check "a cgroupsPath that exists: create and start" up cgkeep "$b"
is "$(cg_of "$(state_pid cgkeep)" "")" /boxctl-oci-keep "the container is in it"
check "delete --force" oci delete --force cgkeep
ok "delete leaves the cgroup it did not make" bash -c '[[ -d $1/boxctl-oci-keep && -d $2/boxctl-oci-keep ]]' _ "$cg2" "$(v1mnt memory)"
check "...which the test removes" rmdir "$cg2/boxctl-oci-keep" "$(v1mnt memory)/boxctl-oci-keep"

# --systemd-cgroup: "slice:prefix:name" is slice/prefix-name.scope, as systemd would place it.
b=$(bundle cgsd '.linux.cgroupsPath = "boxctl-test.slice:oci:sd"')
check "--systemd-cgroup with slice:prefix:name: create and start" \
        bash -c '"$1" --root "$2" --systemd-cgroup create --bundle "$3" cgsd </dev/null >/dev/null && "$1" --root "$2" start cgsd' _ "$OCI" "$root" "$b"
is "$(cg_of "$(state_pid cgsd)" "")" /boxctl.slice/boxctl-test.slice/oci-sd.scope "its cgroup is /boxctl.slice/boxctl-test.slice/oci-sd.scope"
check "delete --force" oci delete --force cgsd
ok "...removes it and the slices it made" no_cgroup /boxctl.slice

bundle bad '.linux.cgroupsPath = "/a/../../etc"' >/dev/null
fails_with "a cgroupsPath whose .. goes above the root" "linux.cgroupsPath: /a/../../etc does not name a cgroup below where it starts" \
        oci create --bundle "$work/bad" bad
check "...leaves nothing" gone bad
bundle bad '.linux.cgroupsPath = "../x"' >/dev/null
fails_with "a relative cgroupsPath that leaves the runtime's cgroup" "linux.cgroupsPath: ../x does not name a cgroup below where it starts" \
        oci create --bundle "$work/bad" bad
bundle bad '.linux.cgroupsPath = "/a/b"' >/dev/null
fails_with "--systemd-cgroup with a cgroupfs path" 'expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got "/a/b" instead' \
        oci --systemd-cgroup create --bundle "$work/bad" bad
check "...leaves nothing" gone bad
b=$(bundle cgbusy '.linux.cgroupsPath = "/boxctl-oci-busy"')
check "a container at /boxctl-oci-busy" up cgbusy "$b"
bundle bad '.linux.cgroupsPath = "/boxctl-oci-busy"' >/dev/null
fails_with "a second container at the same cgroupsPath" "cgroup /boxctl-oci-busy: busy" oci create --bundle "$work/bad" bad
check "...leaves nothing of its own" gone bad
ok "...and the first one's cgroup in place" bash -c '[[ $(cat "$1/boxctl-oci-busy/cgroup.procs") == *"$2"* ]]' _ "$cg2" "$(state_pid cgbusy)"
check "delete --force the first" oci delete --force cgbusy
ok "...removes its cgroup" no_cgroup /boxctl-oci-busy

# --- linux.resources beyond test-oci's: cpu period, cpus and mems, idle,
# realtime; memory reservation and runc's v1 knobs; network. Read from the
# container's cgroup files (the v1 ones where cgroup2 lacks the controller:
# on this host, in both layouts). ---
on_v2() { grep -qw "$1" "$cg2/cgroup.controllers"; }
b=$(bundle res '.linux.cgroupsPath = "/boxctl-oci-test/res"
        | .linux.resources = {"cpu": {"shares": 2048, "quota": 50000, "period": 500000, "cpus": "0", "mems": "0", "idle": 1},
                              "memory": {"limit": 67108864, "reservation": 33554432, "swappiness": 10, "disableOOMKiller": true,
                                         "kernelTCP": 16777216, "kernel": 16777216}}')
check "create with cpu period, cpus, mems, idle and memory reservation, swappiness, disableOOMKiller, kernelTCP" \
        bash -c '"$1" --root "$2" --debug create --bundle "$3" res </dev/null >/dev/null 2>"$3/debug"' _ "$OCI" "$root" "$b"
P=/boxctl-oci-test/res
if on_v2 cpu; then quota=$(limit cpu $P - cpu.max); else quota="$(limit cpu $P cpu.cfs_quota_us -) $(limit cpu $P cpu.cfs_period_us -)"; fi
is "$quota" "50000 500000" "cpu.quota 50000 in a cpu.period of 500000"
is "$(limit cpuset $P cpuset.cpus cpuset.cpus)" 0 "cpu.cpus: cpuset.cpus"
is "$(limit cpuset $P cpuset.mems cpuset.mems)" 0 "cpu.mems: cpuset.mems"
is "$(limit cpu $P cpu.idle cpu.idle)" 1 "cpu.idle"
is "$(limit memory $P memory.soft_limit_in_bytes memory.low)" 33554432 "memory.reservation: the soft limit (cgroup2: memory.low)"
if on_v2 memory; then
        ok "cgroup2: swappiness, disableOOMKiller and kernelTCP left out, said with --debug" grep -q "left out" "$b/debug"
else
        is "$(limit memory $P memory.swappiness -)" 10 "memory.swappiness"
        is "$(limit memory $P memory.oom_control - | awk '$1 == "oom_kill_disable" { print $2 }')" 1 "memory.disableOOMKiller: oom_control's oom_kill_disable"
        is "$(limit memory $P memory.kmem.tcp.limit_in_bytes -)" 16777216 "memory.kernelTCP: memory.kmem.tcp.limit_in_bytes"
fi
ok "memory.kernel is left out (the kernel no longer applies it), said with --debug" \
        grep -q "linux.resources.memory.kernel (the kernel no longer limits kernel memory apart): not applied" "$b/debug"
check "delete" oci delete res
ok "...removes its cgroups" no_cgroup /boxctl-oci-test

# A period alone: the quota stays none.
b=$(bundle res '.linux.cgroupsPath = "/boxctl-oci-test/res" | .linux.resources = {"cpu": {"period": 250000}}')
check "create with a cpu.period alone" oci create --bundle "$b" res
if on_v2 cpu; then quota=$(limit cpu $P - cpu.max); else quota="$(limit cpu $P cpu.cfs_quota_us -) $(limit cpu $P cpu.cfs_period_us -)"; fi
is "$quota" "$(on_v2 cpu && echo max || echo -1) 250000" "...written, with no quota"
check "delete" oci delete res

# Realtime runtime, where the kernel has RT group scheduling (cgroup v1's
# cpu.rt_*): directly below the root, which grants its children 950 ms a second.
if ! on_v2 cpu && [[ -e $(v1mnt cpu)/cpu.rt_runtime_us ]]; then
        b=$(bundle res '.linux.cgroupsPath = "/boxctl-oci-rt" | .linux.resources = {"cpu": {"realtimePeriod": 1000000, "realtimeRuntime": 10000}}')
        check "create with cpu.realtimePeriod and realtimeRuntime" oci create --bundle "$b" res
        is "$(limit cpu /boxctl-oci-rt cpu.rt_period_us -) $(limit cpu /boxctl-oci-rt cpu.rt_runtime_us -)" "1000000 10000" \
                "cpu.rt_period_us and cpu.rt_runtime_us"
        check "delete" oci delete res
        ok "...removes its cgroups" no_cgroup /boxctl-oci-rt
        bundle bad '.linux.resources = {"cpu": {"realtimeRuntime": 10000}}' >/dev/null
        fails_with "realtimeRuntime below machine.slice, which grants its children none" \
                "cpu.rt_runtime_us: cannot write '10000' to cgroup v1 cpu:/machine.slice/machine-bad.scope/cpu.rt_runtime_us: more realtime runtime than its parent" \
                oci create --bundle "$work/bad" bad
        check "...leaves nothing" gone bad
else
        skip "cpu.realtimeRuntime" "no cgroup v1 cpu.rt_runtime_us on this host (CONFIG_RT_GROUP_SCHED)"
fi

# Bad resources: one line, exit 1, nothing left.
bundle bad '.linux.resources = {"cpu": {"cpus": "0-x"}}' >/dev/null
fails_with "an invalid cpu.cpus" 'linux.resources.cpu.cpus: "0-x" is not a list of CPU numbers' oci create --bundle "$work/bad" bad
check "...leaves nothing" gone bad
bundle bad '.linux.resources = {"cpu": {"mems": "1-0"}}' >/dev/null
fails_with "an invalid cpu.mems" 'linux.resources.cpu.mems: "1-0" is not a list of NUMA node numbers' oci create --bundle "$work/bad" bad
bundle bad '.linux.resources = {"cpu": {"cpus": "4095"}}' >/dev/null
fails_with "a cpu.cpus the host does not have" "AllowedCPUs: cannot write '4095' to" oci create --bundle "$work/bad" bad
ok "...saying which CPUs the host has" bash -c '"$@" 2>&1 | grep -q "not all of them are the host.s CPUs (online: "' _ "$OCI" --root "$root" create --bundle "$work/bad" bad
check "...leaves nothing (the cgroups it made are gone)" gone bad
bundle bad '.linux.resources = {"cpu": {"quota": 50000, "period": 999}}' >/dev/null
fails_with "a cpu.period under 1 ms" "linux.resources.cpu.period: 999 is out of range (1000 to 1000000" oci create --bundle "$work/bad" bad
bundle bad '.linux.resources = {"cpu": {"period": 1000001}}' >/dev/null
fails_with "a cpu.period over 1 s" "linux.resources.cpu.period: 1000001 is out of range" oci create --bundle "$work/bad" bad
bundle bad '.linux.resources = {"cpu": {"idle": 2}}' >/dev/null
fails_with "a cpu.idle other than 0 or 1" "linux.resources.cpu.idle: 2 is out of range (0 or 1)" oci create --bundle "$work/bad" bad
bundle bad '.linux.resources = {"memory": {"swappiness": 101}}' >/dev/null
fails_with "a memory.swappiness over 100" "linux.resources.memory.swappiness: 101 is out of range (0 to 100)" oci create --bundle "$work/bad" bad
bundle bad '.linux.resources = {"memory": {"reservation": -2}}' >/dev/null
fails_with "a memory.reservation below -1" "linux.resources.memory.reservation: -2 is not a limit" oci create --bundle "$work/bad" bad
bundle bad '.linux.resources = {"unified": {"memory.high": "1M"}}' >/dev/null
fails_with "linux.resources.unified, which boxctl-oci cannot apply" "linux.resources.unified: not supported by boxctl-oci" oci create --bundle "$work/bad" bad
bundle bad '.linux.resources = {"rdma": {"mlx5_0": {"hcaHandles": 3}}}' >/dev/null
fails_with "linux.resources.rdma, which boxctl-oci cannot apply" "linux.resources.rdma: not supported by boxctl-oci" oci create --bundle "$work/bad" bad
check "...leaves nothing" gone bad
b=$(bundle res '.linux.cgroupsPath = "/boxctl-oci-test/res" | .linux.resources = {"unified": {}, "rdma": {}, "hugepageLimits": []}')
check "empty unified, rdma and hugepageLimits ask for nothing: created" oci create --bundle "$b" res
check "delete" oci delete res

# hugepageLimits, in whichever hierarchy has hugetlb (this host: cgroup2),
# for a page size the host has (hugepages-2048kB is 2MB).
hp=$(find /sys/kernel/mm/hugepages -maxdepth 1 -name 'hugepages-*kB' -printf '%f\n' 2>/dev/null | head -n1)
if [[ -n $hp ]] && { on_v2 hugetlb || grep -q "^[0-9]*:\([^:]*,\)\?hugetlb\(,[^:]*\)\?:" /proc/self/cgroup; }; then
        kb=${hp#hugepages-}; kb=${kb%kB}
        if ((kb % 1048576 == 0)); then size=$((kb / 1048576))GB; elif ((kb % 1024 == 0)); then size=$((kb / 1024))MB; else size=${kb}KB; fi
        b=$(bundle res ".linux.cgroupsPath = \"/boxctl-oci-test/res\" | .linux.resources = {\"hugepageLimits\": [{\"pageSize\": \"$size\", \"limit\": $((kb * 1024 * 2))}]}")
        check "create with hugepageLimits of $size pages" oci create --bundle "$b" res
        is "$(limit hugetlb $P "hugetlb.$size.limit_in_bytes" "hugetlb.$size.max")" $((kb * 1024 * 2)) "hugetlb.$size: two pages"
        check "delete" oci delete res
        bundle bad '.linux.resources = {"hugepageLimits": [{"pageSize": "3MB", "limit": 6291456}]}' >/dev/null
        fails_with "hugepageLimits of a page size the host has not" "hugetlb 3MB: " oci create --bundle "$work/bad" bad
        ok "...saying so" bash -c '"$@" 2>&1 | grep -q "the host has no huge pages of 3MB"' _ "$OCI" --root "$root" create --bundle "$work/bad" bad
        check "...leaves nothing" gone bad
else
        skip "hugepageLimits" "no huge pages, or no hugetlb controller, on this host"
fi
bundle bad '.linux.resources = {"hugepageLimits": [{"pageSize": "2XB", "limit": 1}]}' >/dev/null
fails_with "a hugepageLimits pageSize that is none" 'linux.resources.hugepageLimits[0].pageSize: "2XB" is not a page size' oci create --bundle "$work/bad" bad

# network: net_cls and net_prio are cgroup v1 controllers only.
if grep -q "^[0-9]*:\([^:]*,\)\?net_cls\(,[^:]*\)\?:" /proc/self/cgroup; then
        b=$(bundle res '.linux.cgroupsPath = "/boxctl-oci-test/res" | .linux.resources = {"network": {"classID": 1048577, "priorities": [{"name": "lo", "priority": 10}]}}')
        check "create with network.classID and priorities" oci create --bundle "$b" res
        is "$(cat "$(v1mnt net_cls)$P/net_cls.classid")" 1048577 "net_cls.classid"
        ok "net_prio.ifpriomap has lo 10" grep -qx "lo 10" "$(v1mnt net_prio)$P/net_prio.ifpriomap"
        check "delete" oci delete res
else
        bundle bad '.linux.resources = {"network": {"classID": 1048577}}' >/dev/null
        fails_with "network.classID on a host without net_cls" \
                "linux.resources.network.classID: cannot be applied: this host has no net_cls controller" oci create --bundle "$work/bad" bad
        check "...leaves nothing" gone bad
        bundle bad '.linux.resources = {"network": {"priorities": [{"name": "lo", "priority": 10}]}}' >/dev/null
        fails_with "network.priorities on a host without net_prio" \
                "linux.resources.network.priorities: cannot be applied: this host has no net_prio controller" oci create --bundle "$work/bad" bad
        check "...leaves nothing" gone bad
fi
bundle bad '.linux.resources = {"network": {"priorities": [{"name": "a b", "priority": 1}]}}' >/dev/null
fails_with "a network.priorities name that is no interface's" 'linux.resources.network.priorities[0].name: "a b" is not a network interface name' \
        oci create --bundle "$work/bad" bad
for d in "$v1"/*; do [[ ! -d $d ]] || umount "$d"; done

# --- namespaces joined by path ---
# A process of the test's own in new network, IPC, UTS and PID namespaces,
# its network with a link the container must see, its UTS with a name.
unshare --net --ipc --uts --pid --fork --kill-child sh -c 'ip link add oci-probe0 type veth peer name oci-probe1 && hostname joined-uts && exec sleep 1000' &
ush=$!
cleanup_push bash -c 'kill -KILL "$1" 2>/dev/null || true' _ "$ush"
nsp() { ps -o pid= --ppid "$ush" | tr -d ' '; }
check "a process in namespaces of the test's own" \
        wait_for 10 bash -c 'p=$(ps -o pid= --ppid "$1" | tr -d " "); [[ -n $p && $(cat "/proc/$p/comm") == sleep ]]' _ "$ush"
np=$(nsp)
b=$(bundle nsj ".linux.namespaces = [{\"type\": \"pid\", \"path\": \"/proc/$np/ns/pid\"}, {\"type\": \"network\", \"path\": \"/proc/$np/ns/net\"},
        {\"type\": \"ipc\", \"path\": \"/proc/$np/ns/ipc\"}, {\"type\": \"uts\", \"path\": \"/proc/$np/ns/uts\"}, {\"type\": \"mount\"}]")
check "create and start, joining network, IPC, UTS and PID namespaces by path" up nsj "$b"
pid=$(state_pid nsj)
for ns in net ipc uts pid; do
        is "$(readlink "/proc/$pid/ns/$ns")" "$(readlink "/proc/$np/ns/$ns")" "the container is in the $ns namespace given"
done
ok "...and has a mount namespace of its own" bash -c '[[ $(readlink /proc/$1/ns/mnt) != $(readlink /proc/self/ns/mnt) ]]' _ "$pid"
out=$(oci exec nsj cat /proc/net/dev)
ok "it sees the joined network's link oci-probe0" grep -q oci-probe0 <<<"$out"
is "$(oci exec nsj hostname)" joined-uts "a joined UTS namespace keeps its name (config.json gives none)"
ok "the runtime is back in its own namespaces" bash -c '[[ $(readlink /proc/self/ns/net) != $(readlink /proc/$1/ns/net) ]]' _ "$np"
check "delete --force" oci delete --force nsj
check "...leaves nothing" gone nsj
ok "the joined namespaces' process lives on" kill -0 "$np"

b=$(bundle nsinh '.linux.namespaces = [{"type": "pid"}, {"type": "mount"}]')
check "IPC and UTS not listed: create and start" up nsinh "$b"
pid=$(state_pid nsinh)
for ns in ipc uts; do
        is "$(readlink "/proc/$pid/ns/$ns")" "$(readlink "/proc/$$/ns/$ns")" "an unlisted $ns namespace is the runtime's own"
done
is "$(hostname)" "$(oci exec nsinh hostname)" "...and its host name is left as it is"
check "delete --force" oci delete --force nsinh

bundle bad '.linux.namespaces[1] = {"type": "network", "path": "/etc/hostname"}' >/dev/null
fails_with "a namespace path that is not a namespace" "linux.namespaces[1].path: /etc/hostname is not a namespace" oci create --bundle "$work/bad" bad
check "...leaves nothing" gone bad
bundle bad ".linux.namespaces[1] = {\"type\": \"network\", \"path\": \"/proc/$np/ns/uts\"}" >/dev/null
fails_with "a namespace path of another type" "linux.namespaces[1].path: /proc/$np/ns/uts is a uts namespace, not net" oci create --bundle "$work/bad" bad
check "...leaves nothing" gone bad
bundle bad '.linux.namespaces[1] = {"type": "network", "path": "/nonexistent/net"}' >/dev/null
fails_with "a namespace path that is not there" "linux.namespaces[1].path: /nonexistent/net: No such file or directory" oci create --bundle "$work/bad" bad
bundle bad ".linux.namespaces[4] = {\"type\": \"user\", \"path\": \"/proc/$np/ns/user\"}" >/dev/null
fails_with "joining a user namespace" "linux.namespaces[4].path: joining a user namespace (/proc/$np/ns/user) is not supported" oci create --bundle "$work/bad" bad
bundle bad '.linux.namespaces = [{"type": "pid"}, {"type": "mount"}] | .hostname = "h"' >/dev/null
fails_with "a hostname without a UTS namespace" "unable to set hostname without a private UTS namespace" oci create --bundle "$work/bad" bad
check "...leaves nothing" gone bad
kill -KILL "$ush" # unshare --fork ignores SIGTERM
wait "$ush" 2>/dev/null || true
check "the namespaces' process ends with unshare" wait_for 10 bash -c '! kill -0 "$1" 2>/dev/null' _ "$np"

leaks_check
