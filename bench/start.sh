#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# start.sh [--quick] [--machines=N[,N...]]
#
# Machines in the background, measured against the anchor and the floor, and
# printed as a markdown report on stdout (progress on stderr):
#
#   ready    Debian 12 with systemd, from the command to the guest's READY=1
#            (systemd's "startup finished"): `boxctl start --wait=ready`
#            (the command returns then), `boxctl boot --notify-ready` and
#            `systemd-nspawn -b --notify-ready=yes` (each passes READY=1 on
#            to the $NOTIFY_SOCKET of a small timer in Python, written out
#            below). The floor: the guest's own start-up, systemd's
#            UserspaceTimestamp to FinishTimestamp inside it. Also the CPU
#            time one start costs up to ready (its scope's cpu.stat).
#   enabled  N enabled Debian machines (default 20 and 100) brought up by
#            boxd, once with each --start-wait: "ready" (the default: at
#            most --start-concurrency boots at once, in waves) and
#            "registered" (the bound covers only the set-up, so the boots
#            all overlap). Time until every guest has reached
#            multi-user.target, against the floor: N times one start's CPU
#            time (above) divided by the CPUs. Also the supervisors'
#            memory per machine (Rss, Pss and private of smaps_rollup).
#
# Needs root, the fixture trees (tests/fixtures/make-debian-tree.sh), a
# build (build/, or BOXCTL and BOXD). Runs in a private mount namespace with
# its own /run, its own dbus-daemon (the project's bus policy) and boxd; each
# enabled machine's tree is an overlay over one prepared copy. Takes the
# integration tests' lock. Raises fs.inotify.max_user_instances for its run
# when the host's value is below 8 per machine + 256 (put back at exit).
# Everything it makes is removed at exit, even on failure.

set -euo pipefail

if [[ -z ${BOXCTL_BENCH_INSIDE:-} ]]; then
        # A private mount namespace: the bus socket, boxd's state, /run/boxctl
        # and the overlays never touch the host's.
        exec env BOXCTL_BENCH_INSIDE=1 unshare --mount --propagation private -- "$0" "$@"
fi

bench_name=start
machine=boxctlbench
usage_args="[--quick] [--machines=N[,N...]]"
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
BOXD=${BOXD:-$(dirname "$BOXCTL")/../boxd/boxd}

machine_counts=
parse_option() {
        case $1 in
        --machines=*)
                machine_counts=${1#--machines=}
                [[ $machine_counts =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || usage
                ;;
        *) return 1 ;;
        esac
}
parse_args "$@"
if [[ -n $machine_counts ]]; then cmdline+=" --machines=$machine_counts"; fi

if ((quick)); then
        rounds=2
        : "${machine_counts:=4}"
else
        rounds=8
        : "${machine_counts:=20,100}"
fi
IFS=, read -r -a counts <<<"$machine_counts"

bench_preconditions python3 systemd-nspawn dbus-daemon busctl flock
[[ -x $BOXD ]] || die "no boxd at $BOXD"
bench_setup
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run

ncpu=$(nproc)

# ---------------------------------------------------------------------------
# The bus, boxd, and what the clean-up must stop first

bus_pid=
boxd_pid=
boxd_log=$scratch/boxd.log
overlays=()
inotify=/proc/sys/fs/inotify/max_user_instances
old_inotify=

# Stops every machine, boxd and the bus, unmounts the overlays; then the
# clean-up of lib.sh (processes left in the script's cgroups, the scratch
# directory).
teardown() {
        local rc=$? m
        set +e
        if [[ -n $bus_pid ]]; then
                stop_all $("$BOXCTL" list --no-legend 2>/dev/null | awk '{ print $1 }')
        fi
        stop_boxd
        [[ -n $bus_pid ]] && { kill "$bus_pid" 2>/dev/null; wait "$bus_pid" 2>/dev/null; }
        for m in "${overlays[@]}"; do
                umount "$m" 2>/dev/null
        done
        [[ -n $old_inotify ]] && echo "$old_inotify" >"$inotify"
        (exit "$rc")
        cleanup # lib.sh's: takes the exit status from $?
}
# stop_all NAME...: boxctl stop of each, at once; waits for those stops only
# (the bus and boxd are this shell's children too).
stop_all() {
        local m pids=() rc=0
        for m in "$@"; do
                "$BOXCTL" stop --kill-timeout=30 "$m" >/dev/null 2>&1 &
                pids+=($!)
        done
        for m in "${pids[@]}"; do
                wait "$m" || rc=1
        done
        return "$rc"
}
trap teardown EXIT

sed "s|</busconfig>|<listen>unix:path=/run/dbus/system_bus_socket</listen><include>$srcdir/units/boxd.conf</include></busconfig>|" \
        "$srcdir/tests/lib/system-bus.conf" >"$scratch/bus.conf"
mkdir -p -m 0755 /run/dbus
start_in_bench_cgroup dbus-daemon --config-file="$scratch/bus.conf" --nofork --nopidfile --nosyslog 2>>"$scratch/dbus.log"
bus_pid=$!
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=/run/dbus/system_bus_socket

# wait_until SECS CMD...: CMD succeeds within SECS seconds (polled every 50 ms).
wait_until() {
        local end=$((SECONDS + $1))
        shift
        until "$@"; do
                ((SECONDS < end)) || return 1
                sleep 0.05
        done
}
wait_until 10 test -S /run/dbus/system_bus_socket || die "dbus-daemon did not start"

boxd_up() { busctl --system status org.freedesktop.machine1 >/dev/null 2>&1; }
# start_boxd [VAR=VALUE...]: boxd with that environment, its log appended to boxd.log.
start_boxd() {
        start_in_bench_cgroup env "$@" "$BOXD" >>"$boxd_log" 2>&1
        boxd_pid=$!
        wait_until 10 boxd_up || die "boxd did not take its bus name; its log: $(tail -n 5 "$boxd_log")"
}
stop_boxd() {
        [[ -n $boxd_pid ]] || return 0
        kill "$boxd_pid" 2>/dev/null
        wait "$boxd_pid" 2>/dev/null
        boxd_pid=
}
leader() {
        busctl --system get-property org.freedesktop.machine1 "/org/freedesktop/machine1/machine/$1" \
                org.freedesktop.machine1.Machine Leader 2>/dev/null | awk '{ print $2 }'
}
# scope_cpu NAME: CPU time of the machine's cgroup (its leader's, in the
# cgroup2 hierarchy) so far, in µs: cgroup2's cpu.stat, there without the
# cpu controller too.
scope_cpu() {
        local l cg v
        l=$(leader "$1")
        cg=$(sed -n 's/^0:://p' "/proc/$l/cgroup" 2>/dev/null)
        v=$(awk '$1 == "usage_usec" { print $2 }' "$cg2$cg/cpu.stat" 2>/dev/null)
        [[ -n $l && -n $cg && $v =~ ^[0-9]+$ ]] || die "no CPU time for machine $1 (leader '$l', cgroup '$cg')"
        echo "$v"
}
# The timer: runs a command with $NOTIFY_SOCKET set to a socket of its own,
# prints the ms until READY=1 arrives there (or, with --exit, until the
# command exits 0), then ends the command with SIGTERM (each tool's "power
# off") and waits for it.
cat >"$scratch/ready-timer.py" <<'PY'
import os, signal, socket, subprocess, sys, time

mode, timeout, sock_path, argv = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4:]
env = dict(os.environ)
if mode == "notify":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
    s.bind(sock_path)
    env["NOTIFY_SOCKET"] = sock_path
out = open(sock_path + ".log", "ab")
t0 = time.monotonic()
p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
ready = None
if mode == "notify":
    s.settimeout(0.2)
    while ready is None and time.monotonic() - t0 < timeout:
        try:
            msg = s.recv(4096)
        except socket.timeout:
            if p.poll() is not None:
                break
            continue
        if b"READY=1" in msg.split(b"\n"):
            ready = time.monotonic() - t0
    if ready is None:
        sys.stderr.write(f"no READY=1 from {argv[0]} within {timeout} s (exit {p.poll()})\n")
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    os.unlink(sock_path)
else:
    rc = p.wait(timeout=timeout)
    if rc == 0:
        ready = time.monotonic() - t0
    else:
        sys.stderr.write(f"{argv[0]} exited {rc}\n")
if ready is None:
    sys.exit(1)
print(f"{ready * 1000:.1f}")
PY

# ---------------------------------------------------------------------------
# ready: one machine, start to READY=1

tree=$scratch/debian
log "ready: preparing $tree"
# The oneshot after multi-user.target only writes the marker (the enabled
# section waits on it); nothing powers the machine off by itself.
prepare_debian "$tree" "/bin/sh -c 'systemctl is-active multi-user.target >/var/lib/boxctl-bench/reached'"
start_boxd

: >"$scratch/ready.tsv"
# time_one LABEL MODE CMD...: one timed run, appended to ready.tsv.
time_one() {
        local label=$1 mode=$2 ms
        shift 2
        ms=$(in_bench_cgroup python3 "$scratch/ready-timer.py" "$mode" 300 "$scratch/notify.sock" "$@") ||
                die "ready: $label failed; its output: $(tail -n 20 "$scratch/notify.sock.log" 2>/dev/null)"
        printf '%s\t%s\n' "$label" "$ms" >>"$scratch/ready.tsv"
}
start_round() {
        local before after m=$machine
        time_one "boxctl start --wait=ready" exit "$BOXCTL" start "$tree" -M "$m" --wait=ready
        # The guest's own start-up, by its systemd: the floor.
        "$BOXCTL" shell "$m" -- /bin/systemctl show --property=UserspaceTimestampMonotonic,FinishTimestampMonotonic \
                >"$scratch/ts" 2>/dev/null || die "ready: cannot read systemd's timestamps in $m"
        before=$(sed -n 's/^UserspaceTimestampMonotonic=//p' "$scratch/ts" | tr -d '\r')
        after=$(sed -n 's/^FinishTimestampMonotonic=//p' "$scratch/ts" | tr -d '\r')
        [[ $before =~ ^[0-9]+$ && $after =~ ^[0-9]+$ ]] && ((after > before)) ||
                die "ready: systemd's timestamps in $m make no sense: $(tr '\n' ' ' <"$scratch/ts")"
        printf 'guest start-up (floor)\t%s\n' "$(((after - before) / 1000))" >>"$scratch/ready.tsv"
        v=$(scope_cpu "$m")
        printf 'cpu\t%s\n' "$v" >>"$scratch/ready-cpu.tsv"
        "$BOXCTL" stop "$m" >/dev/null || die "ready: boxctl stop $m failed"
}
boot_round() {
        time_one "boxctl boot --notify-ready" notify "$BOXCTL" boot "$tree" -M "$machine" --console=read-only --notify-ready
}
nspawn_round() {
        # As in bench.sh: the guest gets pure cgroup2, as boxctl's does.
        time_one "systemd-nspawn -b --notify-ready=yes" notify env SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 \
                systemd-nspawn --keep-unit --register=no --link-journal=no -D "$tree" -M "$machine" \
                --console=read-only -b --notify-ready=yes
}
: >"$scratch/ready-cpu.tsv"
for ((r = 0; r < rounds; r++)); do
        log "ready: round $((r + 1))/$rounds"
        if ((r % 2)); then
                nspawn_round; boot_round; start_round
        else
                start_round; boot_round; nspawn_round
        fi
done
cpu_one=$(awk '{ print $2 }' "$scratch/ready-cpu.tsv" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
log "ready: one start costs $((cpu_one / 1000)) ms of CPU up to ready (median)"

# ---------------------------------------------------------------------------
# enabled: N machines brought up by boxd

max_n=0
for n in "${counts[@]}"; do ((n > max_n)) && max_n=$n; done
need=$((8 * max_n + 256))
if (($(cat "$inotify") < need)); then
        old_inotify=$(cat "$inotify")
        echo "$need" >"$inotify"
        log "fs.inotify.max_user_instances raised from $old_inotify to $need for this run"
fi

pool=$scratch/pool
mkdir -p "$pool" "$scratch/config" "$scratch/ov"
# boxd runs this boxctl for the enabled machines.
export BOXCTL_POOL=$pool BOXCTL_CONFIG_DIR=$scratch/config BOXCTL_BINARY=$BOXCTL
# The ready section's machines left their marker in the tree below the overlays.
rm -f "$tree/var/lib/boxctl-bench/reached"
: >"$scratch/enabled.tsv"

# up_to N: overlays deb001..debN over the prepared tree (fresh upper layers).
up_to() {
        local i name
        for ((i = 1; i <= $1; i++)); do
                name=$(printf 'deb%03d' "$i")
                mkdir -p "$pool/$name" "$scratch/ov/$name/upper" "$scratch/ov/$name/work"
                mount -t overlay overlay -o "lowerdir=$tree,upperdir=$scratch/ov/$name/upper,workdir=$scratch/ov/$name/work" \
                        "$pool/$name"
                overlays+=("$pool/$name")
        done
}
down_to() {
        local m
        for m in "${overlays[@]}"; do
                umount "$m"
                rm -rf "$scratch/ov/${m##*/}"
                rmdir "$m"
        done
        overlays=()
}
n_reached() {
        local m k=0
        for m in "${overlays[@]}"; do
                [[ -e $m/var/lib/boxctl-bench/reached ]] && k=$((k + 1))
        done
        echo "$k"
}
all_reached() { (($(n_reached) == ${#overlays[@]})); }

# supervisor_memory: Rss, Pss and Private (kB) of each machine's supervisor
# (its leader's parent), one line each.
supervisor_memory() {
        local m l p
        for m in "${overlays[@]}"; do
                l=$(leader "${m##*/}")
                [[ -n $l ]] || continue
                p=$(awk '$1 == "PPid:" { print $2 }' "/proc/$l/status")
                awk '$1 == "Rss:" { r = $2 } $1 == "Pss:" { s = $2 } $1 ~ /^Private_/ { v += $2 } END { print r, s, v }' \
                        "/proc/$p/smaps_rollup"
        done
}

stop_boxd
for n in "${counts[@]}"; do
        for wait_mode in ready registered; do
                log "enabled: $n machines, boxd --start-wait=$wait_mode"
                up_to "$n"
                (($(n_reached) == 0)) || die "enabled: a marker is there before any machine started"
                "$BOXCTL" enable "${overlays[@]##*/}" >/dev/null
                : >"$boxd_log"
                t0=$(date +%s%N)
                start_boxd BOXD_START_WAIT="$wait_mode"
                wait_until 900 all_reached || die "enabled: only $(n_reached) of $n reached multi-user.target in 900 s; boxd: $(tail -n 3 "$boxd_log")"
                t1=$(date +%s%N)
                cpu_all=0
                for m in "${overlays[@]}"; do
                        v=$(scope_cpu "${m##*/}")
                        cpu_all=$((cpu_all + v))
                done
                read -r rss pss priv < <(supervisor_memory | awk '{ r += $1; s += $2; v += $3; k++ } END { printf "%d %d %d\n", r / k, s / k, v / k }')
                summary=$(grep -o 'Started [0-9]* of [0-9]* enabled machines.*' "$boxd_log" | tail -n 1)
                printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$wait_mode" "$(((t1 - t0) / 1000000))" "$cpu_all" \
                        "$rss" "$pss" "$priv" "${summary:-}" >>"$scratch/enabled.tsv"
                log "enabled: all $n reached multi-user.target after $(((t1 - t0) / 1000000)) ms; stopping them"
                stop_all "${overlays[@]##*/}" || die "enabled: a boxctl stop failed"
                stop_boxd
                "$BOXCTL" disable "${overlays[@]##*/}" >/dev/null
                down_to
        done
done

# ---------------------------------------------------------------------------
# Report

{
        report_intro $'<!-- SPDX-License-Identifier: LGPL-2.1-or-later -->\n# boxctl benchmark: machines in the background'
        report_facts --load " ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), cgroup layout $layout" \
                "$(systemd-nspawn --version | head -n 1)"
        echo
}

python3 - "$scratch" "" "$ncpu" "$cpu_one" <<PY
$report_py
ncpu, cpu_one = int(sys.argv[3]), int(sys.argv[4])

t = {}
for line in open(os.path.join(scratch, "ready.tsv")):
    k, v = line.rstrip("\n").split("\t")
    t.setdefault(k, []).append(float(v))
print("## One Debian 12 machine: from the command to the guest's READY=1")
print()
print("| command | median (ms) | IQR (ms) | min (ms) | runs | start --wait=ready / this |")
print("|---|---:|---:|---:|---:|---:|")
ref = statistics.median(t["boxctl start --wait=ready"])
for k in ("boxctl start --wait=ready", "boxctl boot --notify-ready", "systemd-nspawn -b --notify-ready=yes",
          "guest start-up (floor)"):
    print(f"| {k} | {cells(t[k])} | {ref / statistics.median(t[k]):.2f} |")
print()
print("The floor: the guest's systemd from its own start (UserspaceTimestamp) to start-up"
      " finished (FinishTimestamp), read inside the machine after each start; what any"
      " manager's start adds comes on top. \`start\` returns when READY=1 has come; the others"
      " are timed to the READY=1 they pass on to a \$NOTIFY_SOCKET of the timer's.")
print(f"One start used {cpu_one / 1000:.0f} ms of CPU time up to ready (median; the machine's"
      " scope's cpu.stat: the guest and the supervisor).")
print()

print("## N enabled Debian 12 machines brought up by boxd")
print()
print(f"| machines | boxd --start-wait | all at multi-user.target (s) | floor (s) | time / floor | CPU used (s) |"
      " supervisor Rss / Pss / private per machine (MiB) | boxd's summary |")
print("|---:|---|---:|---:|---:|---:|---|---|")
for line in open(os.path.join(scratch, "enabled.tsv")):
    n, mode, ms, cpu_all, rss, pss, priv, summary = line.rstrip("\n").split("\t")
    n, ms, cpu_all = int(n), int(ms), int(cpu_all)
    floor = n * cpu_one / 1e6 / ncpu
    print(f"| {n} | {mode} | {ms / 1000:.1f} | {floor:.1f} | {ms / 1000 / floor:.2f} | {cpu_all / 1e6:.1f} |"
          f" {int(rss) / 1024:.2f} / {int(pss) / 1024:.2f} / {int(priv) / 1024:.2f} | {summary} |")
print()
print(f"Floor: N times one start's CPU time up to ready (above) divided by the {ncpu} CPUs: no"
      " manager brings them up faster on this host. CPU used: the sum of the machines' scopes'"
      " cpu.stat when the last one was up (what thrashing costs shows here). Supervisor memory:"
      " the mean over the machines of smaps_rollup of each one's supervisor (its leader's parent);"
      " Pss shares the pages of the binary and libraries out among the processes that map them.")
finish()
PY
