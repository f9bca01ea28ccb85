# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# bench/machines.sh: what the benchmarks of background machines (start.sh,
# density.sh) share, on top of lib.sh. A script sources lib.sh, then this,
# and calls machines_setup after bench_setup. It offers:
#   machines_setup      re-run in a private mount namespace first (call
#                       machines_reexec before anything else), a tmpfs /run,
#                       a dbus-daemon with the project's bus policy, the
#                       clean-up (teardown: every machine stopped, boxd and
#                       the bus, the overlays, the inotify limit put back)
#   start_boxd, stop_boxd, boxd_up, leader, scope_cpu, stop_all, wait_until
#   ready-timer.py      (in $scratch) a command timed to its READY=1 or exit
#   prepare_marked_tree TREE
#                       a Debian copy that writes a marker once it reached
#                       multi-user.target, and does not power off
#   one_start_cpu TREE ROUNDS
#                       CPU time of one start up to ready (median, µs): the
#                       unit of the floors
# The sourcing script sets bench_name and machine, as for lib.sh.
# shellcheck disable=SC2034,SC2154

# machines_reexec "$@": the script again in a private mount namespace: the
# bus socket, boxd's state, /run/boxctl and the overlays never touch the host's.
machines_reexec() {
        if [[ -z ${BOXCTL_BENCH_INSIDE:-} ]]; then
                exec env BOXCTL_BENCH_INSIDE=1 unshare --mount --propagation private -- "$0" "$@"
        fi
}

BOXD=${BOXD:-$(dirname "$BOXCTL")/../boxd/boxd}
bus_pid=
boxd_pid=
overlays=()
inotify=/proc/sys/fs/inotify/max_user_instances
old_inotify=

bus_pid=
boxd_pid=
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
# scope_cpu NAME: CPU time of the machine's scope (machine-NAME.scope, above
# the leader's own cgroup: a guest's systemd moves itself into init.scope
# below it, and its services into system.slice) so far, in µs: cgroup2's
# cpu.stat, there without the cpu controller too.
scope_cpu() {
        local l cg v
        l=$(leader "$1")
        cg=$(sed -n 's/^0:://p' "/proc/$l/cgroup" 2>/dev/null | sed -E 's|^(.*/machine-[^/]*\.scope)(/.*)?$|\1|')
        v=$(awk '$1 == "usage_usec" { print $2 }' "$cg2$cg/cpu.stat" 2>/dev/null)
        [[ -n $l && -n $cg && $v =~ ^[0-9]+$ ]] || die "no CPU time for machine $1 (leader '$l', cgroup '$cg')"
        echo "$v"
}

# wait_until SECS CMD...: CMD succeeds within SECS seconds (polled every 50 ms).
wait_until() {
        local end=$((SECONDS + $1))
        shift
        until "$@"; do
                ((SECONDS < end)) || return 1
                sleep 0.05
        done
}

# machines_setup: after bench_setup.
machines_setup() {
        [[ -x $BOXD ]] || die "no boxd at $BOXD"
        boxd_log=$scratch/boxd.log
        mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
        trap teardown EXIT

        sed "s|</busconfig>|<listen>unix:path=/run/dbus/system_bus_socket</listen><include>$srcdir/units/boxd.conf</include></busconfig>|" \
                "$srcdir/tests/lib/system-bus.conf" >"$scratch/bus.conf"
        mkdir -p -m 0755 /run/dbus
        start_in_bench_cgroup dbus-daemon --config-file="$scratch/bus.conf" --nofork --nopidfile --nosyslog 2>>"$scratch/dbus.log"
        bus_pid=$!
        export DBUS_SYSTEM_BUS_ADDRESS=unix:path=/run/dbus/system_bus_socket

        wait_until 10 test -S /run/dbus/system_bus_socket || die "dbus-daemon did not start"
        write_ready_timer
}

# raise_inotify N: fs.inotify.max_user_instances to at least 8 per machine
# (systemd's share) + 256 for the run; put back by teardown.
raise_inotify() {
        local need=$((8 * $1 + 256))
        if (($(cat "$inotify") < need)); then
                old_inotify=$(cat "$inotify")
                echo "$need" >"$inotify"
                log "fs.inotify.max_user_instances raised from $old_inotify to $need for this run"
        fi
}

# prepare_marked_tree TREE: a copy of the Debian fixture whose oneshot after
# multi-user.target only writes the marker /var/lib/boxctl-bench/reached;
# nothing powers the machine off by itself.
prepare_marked_tree() {
        prepare_debian "$1" "/bin/sh -c 'systemctl is-active multi-user.target >/var/lib/boxctl-bench/reached'"
}

# time_one LABEL MODE TSV CMD...: one run of CMD timed by ready-timer.py
# (MODE notify: to its READY=1; exit: to its exit 0), appended to TSV.
time_one() {
        local label=$1 mode=$2 tsv=$3 ms
        shift 3
        ms=$(in_bench_cgroup python3 "$scratch/ready-timer.py" "$mode" 300 "$scratch/notify.sock" "$@") ||
                die "$label failed; its output: $(tail -n 20 "$scratch/notify.sock.log" 2>/dev/null)"
        printf '%s\t%s\n' "$label" "$ms" >>"$tsv"
}

# one_start_cpu TREE ROUNDS: `boxctl start --wait=ready` of TREE, ROUNDS
# times; prints the median CPU time of the machine's cgroup at ready, in µs.
one_start_cpu() {
        local tree=$1 rounds=$2 r v
        : >"$scratch/cpu-one.tsv"
        for ((r = 0; r < rounds; r++)); do
                time_one start exit "$scratch/cpu-one-times.tsv" "$BOXCTL" start "$tree" -M "$machine" --wait=ready
                v=$(scope_cpu "$machine")
                echo "$v" >>"$scratch/cpu-one.tsv"
                "$BOXCTL" stop "$machine" >/dev/null || die "boxctl stop $machine failed"
        done
        sort -n "$scratch/cpu-one.tsv" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

write_ready_timer() {
        # The timer: ready-timer.py notify|exit TIMEOUT SOCKET CMD... runs
        # CMD and prints the ms until READY=1 arrives on SOCKET, its
        # $NOTIFY_SOCKET (notify; then it ends CMD with SIGTERM, each tool's
        # "power off", and waits for it), or until CMD exits 0 (exit).
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
}
