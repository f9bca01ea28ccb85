#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Resource limits: boot/run/start --memory-max and the others, written into
# the machine's cgroups wherever the host keeps each controller (its cgroup2
# scope when cgroup2 has the controller, else its v1 cgroup). A machine that
# allocates beyond --memory-max is OOM-killed inside while another lives on;
# --pids-max stops a fork bomb where the kernel counts 50 tasks; --cpu-quota
# holds a busy loop near its share (measured from the cgroup's own CPU time).
# set-property changes them on a running machine (the lowered TasksMax
# stops forks), and status and list show usage that moves when the guest
# works. Every bad value is one line and a non-zero exit.
#
# On this host every controller is on a v1 hierarchy and the cgroup2 root has
# none (but hugetlb), in the unified run too: there the same v1 hierarchies
# hold the machine's processes, so the limits go to v1 in both runs, and the
# test reads them wherever the controller is.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"
SECONDS=0

bus_start
boxd_start

: "${BOXCTL_LIMITS_PROBE:=$BOXCTL_BUILDDIR/tests/helpers/limits-probe}"

bb=$(test_tmpdir)/bb
cp -a "$(fixture_busybox)" "$bb"
install -m 0755 "$BOXCTL_LIMITS_PROBE" "$bb/bin/limits-probe"
root=$(cgroup2_root)
diag "cgroup2 controllers at $root: $(cat "$root/cgroup.controllers")"

# The v1 hierarchies, to read what boxctl wrote: mounted here when the
# layout hides them (unified: cgroup2 is on /sys/fs/cgroup).
v1=$(test_tmpdir)
declare -A v1dir=()
for c in memory cpu cpuset pids blkio; do
        grep -q "^[0-9]*:\([^:]*,\)\?$c\(,[^:]*\)\?:" /proc/self/cgroup || continue
        if [[ $(stat -f -c %T "/sys/fs/cgroup/$c" 2>/dev/null) == cgroup ]]; then
                v1dir[$c]=/sys/fs/cgroup/$c
        else
                mkdir "$v1/$c"
                mount -t cgroup -o "$c" cgroup "$v1/$c"
                cleanup_push bash -c "umount '$v1/$c' 2>/dev/null || true"
                v1dir[$c]=$v1/$c
        fi
done

# on_v2 CONTROLLER: the cgroup2 hierarchy has it (else it is on v1, or missing).
on_v2() { grep -qw "$1" "$root/cgroup.controllers"; }
# cgdir CONTROLLER NAME: machine NAME's cgroup that has CONTROLLER's files (cgroup2 names).
cgdir() {
        local c=$1 v=$1
        [[ $c == io ]] && v=blkio
        if on_v2 "$c"; then
                echo "$root/machine.slice/machine-${2//-/\\x2d}.scope"
        else
                echo "${v1dir[$v]:?no $v controller on either layout}/machine.slice/machine-$2.scope"
        fi
}
# attr CONTROLLER NAME V1-FILE V2-FILE: the value of the file on the layout that has it.
attr() {
        if on_v2 "$1"; then cat "$(cgdir "$1" "$2")/$4"; else cat "$(cgdir "$1" "$2")/$3"; fi
}
brun() { "$BOXCTL" run --register=no --read-only "$@"; }
# The kernel's CPU time of machine NAME's cgroup, in µs: cgroup2 counts it in
# cpu.stat for every cgroup, with or without the cpu controller.
cpu_usec() { awk '$1 == "usage_usec" { print $2 }' "$root/machine.slice/machine-$1.scope/cpu.stat"; }

# --- bad input: one line, non-zero, nothing started ---
fails_with "--memory-max that does not parse" "invalid --memory-max 'lots'" brun "$bb" --memory-max=lots -- true
fails_with "--memory-max=0" "invalid --memory-max '0': out of range" brun "$bb" --memory-max=0 -- true
fails_with "--memory-max above 100%" "invalid --memory-max '101%': out of range" brun "$bb" --memory-max=101% -- true
fails_with "--memory-high with a fraction of a byte" "invalid --memory-high '1.5'" brun "$bb" --memory-high=1.5 -- true
fails_with "--memory-swap-max too large" "invalid --memory-swap-max '99999999T': out of range" brun "$bb" --memory-swap-max=99999999T -- true
fails_with "--cpu-quota without %" "invalid --cpu-quota '20'" brun "$bb" --cpu-quota=20 -- true
fails_with "--cpu-quota=0%" "invalid --cpu-quota '0%': out of range" brun "$bb" --cpu-quota=0% -- true
fails_with "--cpu-weight=0" "invalid --cpu-weight '0': out of range; use a weight from 1 to 10000" brun "$bb" --cpu-weight=0 -- true
fails_with "--cpu-weight=10001" "invalid --cpu-weight '10001': out of range" brun "$bb" --cpu-weight=10001 -- true
fails_with "--pids-max=-5" "invalid --pids-max '-5'" brun "$bb" --pids-max=-5 -- true
fails_with "--pids-max=0" "invalid --pids-max '0': out of range" brun "$bb" --pids-max=0 -- true
fails_with "--io-weight that does not parse" "invalid --io-weight 'heavy'" brun "$bb" --io-weight=heavy -- true
fails_with "--memory-low that does not parse" "invalid --memory-low 'lots'" brun "$bb" --memory-low=lots -- true
fails_with "--cpu-quota-period under 1 ms" "invalid --cpu-quota-period '999us': out of range; use a time from 1ms to 1s" brun "$bb" --cpu-quota-period=999us -- true
fails_with "--cpu-quota-period over 1 s" "invalid --cpu-quota-period '2s': out of range" brun "$bb" --cpu-quota-period=2s -- true
fails_with "--cpu-quota-period that does not parse" "invalid --cpu-quota-period 'soon'" brun "$bb" --cpu-quota-period=soon -- true
fails_with "--allowed-cpus that does not parse" "invalid --allowed-cpus '0-x': use CPU numbers and ranges" brun "$bb" --allowed-cpus=0-x -- true
fails_with "--allowed-cpus beyond 8191" "invalid --allowed-cpus '9000': out of range" brun "$bb" --allowed-cpus=9000 -- true
fails_with "--allowed-memory-nodes backwards" "invalid --allowed-memory-nodes '1-0': use NUMA node numbers" brun "$bb" --allowed-memory-nodes=1-0 -- true
fails_with "--allowed-cpus the host does not have" "AllowedCPUs: cannot write '4095' to" brun "$bb" -M cpx --allowed-cpus=4095 -- true
fails_with "--io-max without a direction" "invalid --io-max '/dev/null:10M': use DEVICE:r|w:BYTES" brun "$bb" --io-max=/dev/null:10M -- true
fails_with "--io-max of a missing device" "invalid --io-max '/dev/no-such-disk:r:1M': no such block device" brun "$bb" --io-max=/dev/no-such-disk:r:1M -- true
fails_with "--io-max of a file" "invalid --io-max '/etc/hostname:w:1M': not a block device" brun "$bb" --io-max=/etc/hostname:w:1M -- true
fails_with "--io-max of 0 bytes" "invalid --io-max '7:0:w:0': the bytes per second are out of range" brun "$bb" --io-max=7:0:w:0 -- true
part=$(find /sys/class/block/ -maxdepth 1 -name '*[0-9]' -exec test -e {}/partition \; -print -quit)
if [[ -n $part ]]; then
        fails_with "--io-max of a partition" "a partition; the kernel limits whole disks only" brun "$bb" --io-max="$(cat "$part/dev"):r:1M" -- true
else
        skip "--io-max of a partition" "this host has no partition"
fi
# cgroup v1 cannot limit swap alone: memory.memsw is memory plus swap.
if ! on_v2 memory; then
        fails_with "--memory-swap-max without --memory-max on cgroup v1" \
                "MemorySwapMax: cgroup v1 limits memory and swap together (cgroup v1 memory:/machine.slice/machine-swp.scope/memory.memsw.limit_in_bytes): give MemoryMax too" \
                brun "$bb" -M swp --memory-swap-max=0 -- true
fi

# --- every limit lands where its controller is ---
disk=$(lsblk -dno MAJ:MIN,TYPE | awk '$2 == "disk" && $1 !~ /^(7|1|253):/ { print $1; exit }')
disk_opt=()
[[ -n $disk ]] && disk_opt=(--io-max="$disk:w:10M" --io-max="$disk:r:20M")
"$BOXCTL" run --register=yes --read-only -M lim "$bb" --memory-max=64M --memory-swap-max=16M --memory-high=48M --cpu-weight=50 --cpu-quota=20% --pids-max=50 --io-weight=200 \
        "${disk_opt[@]}" -- limits-probe hold >"$_sb_state/lim.out" 2>&1 &
limpid=$!
cleanup_push kill -KILL "$limpid"
check "a machine with every limit runs" wait_for 10 machine_leader lim
is "$(attr memory lim memory.limit_in_bytes memory.max)" 67108864 "--memory-max=64M: $(cgdir memory lim)"
is "$(attr memory lim memory.soft_limit_in_bytes memory.high)" 50331648 "--memory-high=48M (v1: the soft limit)"
is "$(attr memory lim memory.memsw.limit_in_bytes memory.swap.max)" "$(on_v2 memory && echo 16777216 || echo 83886080)" \
        "--memory-swap-max=16M (v1: memory.memsw is memory plus swap, 80M)"
is "$(attr cpu lim cpu.shares cpu.weight)" "$(on_v2 cpu && echo 50 || echo 512)" "--cpu-weight=50 (v1: cpu.shares 512)"
if on_v2 cpu; then
        quota=$(cat "$(cgdir cpu lim)/cpu.max")
else
        quota="$(cat "$(cgdir cpu lim)/cpu.cfs_quota_us") $(cat "$(cgdir cpu lim)/cpu.cfs_period_us")"
fi
is "$quota" "20000 100000" "--cpu-quota=20%: 20 ms per 100 ms period"
is "$(attr pids lim pids.max pids.max)" 50 "--pids-max=50: $(cgdir pids lim)"
if on_v2 io; then
        ok "--io-weight=200: io.weight or io.bfq.weight" grep -sqE "default (200|109)" "$(cgdir io lim)/io.weight" "$(cgdir io lim)/io.bfq.weight"
else
        ok "--io-weight=200 (v1: blkio.weight 1000, or BFQ's 109)" grep -sqxE "1000|109" "$(cgdir io lim)/blkio.weight" "$(cgdir io lim)/blkio.bfq.weight"
fi
if [[ -n $disk ]]; then
        if on_v2 io; then
                is "$(grep "^$disk " "$(cgdir io lim)/io.max")" "$disk rbps=20971520 wbps=10485760 riops=max wiops=max" "--io-max on disk $disk"
        else
                is "$(cat "$(cgdir io lim)/blkio.throttle.write_bps_device") $(cat "$(cgdir io lim)/blkio.throttle.read_bps_device")" \
                        "$disk 10485760 $disk 20971520" "--io-max on disk $disk (v1: blkio.throttle.*_bps_device)"
        fi
else
        skip "--io-max on a disk" "this host has no disk"
fi

# --- memory: OOM-killed inside, the host and another machine live on ---
rc=0
out=$(brun -M mem "$bb" --memory-max=64M -- limits-probe alloc 32 2>&1) || rc=$?
ok "under --memory-max=64M, 32 MiB are allocated (exit $rc)" bash -c '(( $1 == 0 )) && [[ $2 == *survived* ]]' _ "$rc" "$out"
rc=0
out=$(brun -M mem "$bb" --memory-max=64M -- limits-probe alloc 256 2>&1) || rc=$?
is "$rc" 137 "...256 MiB are not: the allocator is SIGKILLed (the OOM killer), run exits 128+9"
last=$(grep -o 'allocated [0-9]*' <<<"$out" | tail -n1)
diag "the allocator got as far as: ${last:-nothing}"
ok "...before it got past 64 MiB" bash -c '[[ $1 != *survived* ]] && (( ${2#allocated } <= 64 ))' _ "$out" "${last:-allocated 0}"
check "...while the other machine lives on" guest_exec lim true

# --- tasks: a fork bomb stops where the kernel counts 50 ---
out=$(brun -M forks "$bb" --pids-max=50 -- limits-probe fork 500 2>&1) || true
diag "fork bomb under --pids-max=50: $out"
# Besides the children: boxctl's init (PID 1) and the probe.
ok "--pids-max=50: the kernel refused the fork after 48 children + init + the probe (EAGAIN)" \
        bash -c '[[ $1 == "forked 48 EAGAIN" ]]' _ "$out"

# --- CPU: a busy loop held near --cpu-quota=20% ---
"$BOXCTL" run --register=yes --read-only -M spin "$bb" --cpu-quota=20% -- sh -c 'trap "exit 0" USR1; while :; do :; done' >"$_sb_state/spin.out" 2>&1 &
spinpid=$!
cleanup_push kill -KILL "$spinpid"
check "a busy loop runs under --cpu-quota=20%" wait_for 10 machine_leader spin
u0=$(cpu_usec spin)
t0=$(_now_us)
# 0.6 s of CPU time: 3 s of wall time at 20%.
check "...and uses 0.6 s of CPU time" wait_for 20 bash -c "(( \$(awk '\$1 == \"usage_usec\" { print \$2 }' '$root/machine.slice/machine-spin.scope/cpu.stat') >= $u0 + 600000 ))"
u1=$(cpu_usec spin)
t1=$(_now_us)
pct=$(((u1 - u0) * 100 / (t1 - t0)))
diag "busy loop under --cpu-quota=20%: $((u1 - u0)) µs of CPU in $((t1 - t0)) µs: $pct%"
ok "...at most 30% of a CPU over $(((t1 - t0) / 1000)) ms (measured $pct%)" test "$pct" -le 30
ok "...and more than 2% (it did run)" test "$pct" -gt 2
throttled=$(awk '$1 == "nr_throttled" { print $2 }' "$(cgdir cpu spin)/cpu.stat")
ok "...the kernel throttled it ($throttled periods)" test "${throttled:-0}" -gt 0
# status shows that usage, and it moves while the loop runs.
json() { "$BOXCTL" status -o json "$1" | python3 -c "import json, sys; print(json.load(sys.stdin)['$2'])"; }
c0=$(json spin cpu_usec)
check "status -o json: the CPU time of the busy loop grows ($c0 µs, then more)" wait_for 10 bash -c "(( \$(\"\$BOXCTL\" status -o json spin | python3 -c 'import json, sys; print(json.load(sys.stdin)[\"cpu_usec\"])') > $c0 ))"
machine_release spin
wait "$spinpid" || true
cleanup_pop

# --- set-property on a running machine ---
fails_with "set-property of an unknown key" "set-property: unknown property 'MemoryLimit'" "$BOXCTL" set-property lim MemoryLimit=1G
fails_with "set-property of a value that does not parse" "set-property: invalid MemoryMax=lots: use bytes" "$BOXCTL" set-property lim MemoryMax=lots
fails_with "set-property out of range" "set-property: invalid CPUWeight=0: out of range" "$BOXCTL" set-property lim CPUWeight=0
fails_with "set-property without a value" "set-property: invalid assignment 'TasksMax': expected KEY=VALUE" "$BOXCTL" set-property lim TasksMax
fails_with "set-property without a property" "set-property lim: no property given" "$BOXCTL" set-property lim
fails_with "set-property of a missing disk" "set-property: invalid IOReadBandwidthMax=/dev/no-such-disk 1M: no such block device" \
        "$BOXCTL" set-property lim "IOReadBandwidthMax=/dev/no-such-disk 1M"
fails_with "set-property of an unknown machine" "machine 'nosuch': no such machine" "$BOXCTL" set-property nosuch TasksMax=5
is "$(attr pids lim pids.max pids.max)" 50 "...and none of them changed a limit"
check "set-property lowers TasksMax, MemoryMax, CPUQuota and CPUWeight at once" \
        "$BOXCTL" set-property lim TasksMax=10 MemoryMax=32M CPUQuota=10% CPUWeight=200
is "$(attr pids lim pids.max pids.max)" 10 "...TasksMax=10"
is "$(attr memory lim memory.limit_in_bytes memory.max)" 33554432 "...MemoryMax=32M"
is "$(attr memory lim memory.memsw.limit_in_bytes memory.swap.max)" "$(on_v2 memory && echo 16777216 || echo 50331648)" \
        "...the swap allowance kept (v1: memory.memsw 32M + 16M)"
if on_v2 cpu; then quota=$(cat "$(cgdir cpu lim)/cpu.max"); else quota=$(cat "$(cgdir cpu lim)/cpu.cfs_quota_us"); fi
is "${quota% *}" 10000 "...CPUQuota=10%"
is "$(attr cpu lim cpu.shares cpu.weight)" "$(on_v2 cpu && echo 200 || echo 2048)" "...CPUWeight=200"
out=$("$BOXCTL" shell lim -- limits-probe fork 100 2>&1) || true
diag "fork bomb after TasksMax=10: $out"
ok "the lowered TasksMax holds: a fork bomb joined to the machine stops below 10 ($out)" \
        bash -c '[[ $1 =~ ^forked\ ([0-9]+)\ EAGAIN$ ]] && (( BASH_REMATCH[1] < 10 ))' _ "$out"

# --- usage: status and list ---
out=$("$BOXCTL" status lim)
ok "status shows memory, with the limit" grep -qE '^ +Memory: [0-9.]+[BKMG] \(peak: [0-9.]+[BKMG], max: 32.0M\)$' <<<"$out"
ok "status shows CPU time" grep -qE '^ +CPU: [0-9]' <<<"$out"
ok "status shows tasks, with the limit" grep -qE '^ +Tasks: [0-9]+ \(limit: 10\)$' <<<"$out"
if ! grep -qE '^ +IO: ' <<<"$out"; then diag "$out"; fi
ok "status shows IO" grep -qE '^ +IO: [0-9.]+[BKMG] read, [0-9.]+[BKMG] written$' <<<"$out"
peak0=$(json lim memory_peak)
is "$(json lim tasks_max)" 10 "status -o json: tasks_max"
is "$(json lim memory_max)" 33554432 "status -o json: memory_max"
out=$("$BOXCTL" shell lim -- limits-probe alloc 24 2>&1) || true
ok "the guest allocates 24 MiB" grep -q survived <<<"$out"
peak1=$(json lim memory_peak)
ok "...and its memory peak moved to at least 24 MiB ($peak0 -> $peak1 bytes)" test "$peak1" -ge $((24 << 20))
ok "list -o json: usage of the running machine" bash -c "\"\$1\" list -o json | python3 -c '
import json, sys
m = [x for x in json.load(sys.stdin) if x[\"machine\"] == \"lim\"][0]
assert m[\"memory_current\"] > 0 and m[\"memory_peak\"] >= 24 << 20 and m[\"tasks\"] >= 2 and m[\"cpu_usec\"] > 0, m
assert m[\"tasks_max\"] == 10 and m[\"memory_max\"] == 32 << 20, m
'" _ "$BOXCTL"

machine_release lim
wait "$limpid" || true
cleanup_pop

# --- CPUQuotaPeriodSec, AllowedCPUs, AllowedMemoryNodes, MemoryLow ---
online=$(cat /sys/devices/system/cpu/online)
"$BOXCTL" run --register=yes --read-only -M cps "$bb" --cpu-quota=20% --cpu-quota-period=10ms --allowed-cpus=0 \
        --allowed-memory-nodes=0 --memory-low=16M -- limits-probe hold >"$_sb_state/cps.out" 2>&1 &
cpspid=$!
cleanup_push kill -KILL "$cpspid"
check "a machine with --cpu-quota-period, --allowed-cpus, --allowed-memory-nodes and --memory-low runs" wait_for 10 machine_leader cps
# cpu_max NAME: "QUOTA PERIOD" on either layout.
cpu_max() {
        if on_v2 cpu; then cat "$(cgdir cpu "$1")/cpu.max"; else echo "$(cat "$(cgdir cpu "$1")/cpu.cfs_quota_us") $(cat "$(cgdir cpu "$1")/cpu.cfs_period_us")"; fi
}
is "$(cpu_max cps)" "2000 10000" "--cpu-quota=20% over --cpu-quota-period=10ms: 2 ms per 10 ms"
is "$(attr cpuset cps cpuset.cpus cpuset.cpus)" 0 "--allowed-cpus=0: cpuset.cpus"
is "$(attr cpuset cps cpuset.mems cpuset.mems)" 0 "--allowed-memory-nodes=0: cpuset.mems"
is "$(attr memory cps memory.soft_limit_in_bytes memory.low)" 16777216 "--memory-low=16M (v1: the soft limit)"
is "$("$BOXCTL" shell cps -- cat /proc/self/status | awk '$1 == "Cpus_allowed_list:" { print $2 }')" 0 "...a process joined to it runs on CPU 0 only"
check "set-property CPUQuotaPeriodSec=50ms AllowedCPUs=$online MemoryLow=8M" "$BOXCTL" set-property cps CPUQuotaPeriodSec=50ms "AllowedCPUs=$online" MemoryLow=8M
is "$(cpu_max cps)" "10000 50000" "...the quota kept at 20%: 10 ms per 50 ms"
is "$(attr cpuset cps cpuset.cpus cpuset.cpus)" "$online" "...AllowedCPUs=$online"
is "$(attr memory cps memory.soft_limit_in_bytes memory.low)" 8388608 "...MemoryLow=8M"
check "set-property CPUQuota=50% keeps the period" "$BOXCTL" set-property cps CPUQuota=50%
is "$(cpu_max cps)" "25000 50000" "...25 ms per 50 ms"
fails_with "set-property AllowedCPUs the host does not have" "AllowedCPUs: cannot write '4095' to" "$BOXCTL" set-property cps AllowedCPUs=4095
fails_with "set-property CPUQuotaPeriodSec out of range" "set-property: invalid CPUQuotaPeriodSec=5s: out of range" "$BOXCTL" set-property cps CPUQuotaPeriodSec=5s
fails_with "set-property AllowedMemoryNodes that does not parse" "set-property: invalid AllowedMemoryNodes=x: use NUMA node numbers" "$BOXCTL" set-property cps AllowedMemoryNodes=x
is "$(attr cpuset cps cpuset.cpus cpuset.cpus)" "$online" "...and none of them changed a limit"
machine_release cps
wait "$cpspid" || true
cleanup_pop

# --- start: the same options for a machine in the background ---
check "start --pids-max=77 --memory-max=40M" "$BOXCTL" start "$bb" -M bgl --read-only --pids-max=77 --memory-max=40M
is "$(attr pids bgl pids.max pids.max) $(attr memory bgl memory.limit_in_bytes memory.max)" "77 41943040" "...both in its cgroups"
check "...and it stops" "$BOXCTL" stop bgl

for c in "${!v1dir[@]}"; do
        [[ ${v1dir[$c]} == "$v1"/* ]] || continue
        umount "${v1dir[$c]}"
done
bus_stop
diag "test-limits took $SECONDS s after the lock"
leaks_check
