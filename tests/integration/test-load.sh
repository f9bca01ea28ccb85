#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Many Debian machines at once, from one tree (-x: each writes to its own
# overlay): N with "boxctl start --wait=ready", then N foreground "boxctl
# boot". Each reaches multi-user.target with no failed unit, "boxctl list"
# answers all along, all power off cleanly, nothing is left.
# N: BOXCTL_TEST_LOAD_MACHINES, default 20 (CI); 100 in the slow suite.
#
# The host's inotify instances are what caps density first (host-limits.h):
# each systemd machine holds 8, all charged to root, and the default limit is
# 128. The test raises fs.inotify.max_user_instances for its run when it is
# lower than N machines need, and puts the old value back at exit; the same
# value is in units/50-boxctl.conf, which a machine host installs. With the
# instances used up, start refuses with a line that names the limit.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

if [[ -n ${BOXCTL_SLOW:-} ]]; then
        n=${BOXCTL_TEST_LOAD_MACHINES:-100}
else
        n=${BOXCTL_TEST_LOAD_MACHINES:-20}
fi
timeout=$((60 + 6 * n)) # per start, on a loaded 2-core host

inotify=/proc/sys/fs/inotify/max_user_instances
old_inotify=$(cat "$inotify")
need=$((8 * n + 256))
if ((old_inotify < need)); then
        echo "$need" >"$inotify"
        cleanup_push bash -c "echo $old_inotify >$inotify"
        diag "fs.inotify.max_user_instances raised from $old_inotify to $need for this test (put back at exit)"
fi

bus_start
boxd_start
tree=$(fixture_debian)

# --- the limit, used up: one line that names it ---
mkfifo "$_sb_state/holder.fifo"
python3 - "$_sb_state/holder" "$_sb_state/holder.fifo" <<'PY' &
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
fds = []
while True:
    fd = libc.inotify_init1(os.O_CLOEXEC)
    if fd < 0:
        break
    fds.append(fd)
open(sys.argv[1], "w").write(f"{len(fds)}\n")
# Holds them until it is killed: a read from a fifo nobody writes.
open(sys.argv[2]).read()
PY
holder=$!
cleanup_push bash -c "kill $holder 2>/dev/null || true"
wait_for 30 test -s "$_sb_state/holder"
rc=0
err=$("$BOXCTL" start -x "$tree" -M full --wait=ready 2>&1) || rc=$?
kill "$holder"
wait "$holder" 2>/dev/null || true
cleanup_pop
ok "start with no inotify instance left fails with one line naming the limit (exit $rc): $err" \
        bash -c '(( $1 == 1 )) && [[ $2 == *"fs.inotify.max_user_instances"*"sysctl -w"* && $2 != *$'"'"'\n'"'"'* ]]' _ "$rc" "$err"
is "$(machine_scope_dirs full)" "" "...and no machine was made"

# --- boxctl list, all along: how many calls failed, and the slowest ---
list_log=$_sb_state/list.data
list_loop() {
        local t0 t1
        while :; do
                t0=${EPOCHREALTIME/./}
                if "$BOXCTL" list --no-legend >/dev/null 2>&1; then
                        t1=${EPOCHREALTIME/./}
                        echo "ok $(((10#$t1 - 10#$t0) / 1000))"
                else
                        echo "failed"
                fi
                sleep 0.2 # paces the sampling (a call every 0.2 s); nothing waits on it
        done >>"$list_log"
}
list_loop &
lister=$!
cleanup_push bash -c "kill $lister 2>/dev/null || true"

# --- N machines started at once ---
t0=$SECONDS
pids=()
for ((i = 1; i <= n; i++)); do
        "$BOXCTL" start -x "$tree" -M "ld$i" --wait=ready --wait-timeout="$timeout" >"$_sb_state/start-ld$i.out" 2>&1 &
        pids+=($!)
done
failed=0
for ((i = 1; i <= n; i++)); do
        if ! wait "${pids[i - 1]}"; then
                failed=$((failed + 1))
                diag "ld$i: $(cat "$_sb_state/start-ld$i.out")"
        fi
done
is "$failed" 0 "$n machines started at once with start --wait=ready (all ready after $((SECONDS - t0)) s)"
is "$("$BOXCTL" list --no-legend | grep -c '^ld[0-9]* ')" "$n" "boxctl list shows all $n"

# running_clean NAME: multi-user reached, no failed unit.
running_clean() {
        local st
        st=$("$BOXCTL" shell "$1" -- systemctl is-system-running --wait 2>&1 | tr -d '\r') || true
        [[ $st == running ]] && return 0
        echo "$1: $st; failed: $("$BOXCTL" shell "$1" -- systemctl --failed --no-legend --plain 2>&1 | tr -d '\r' | paste -sd,)"
        return 1
}
bad=()
for ((i = 1; i <= n; i++)); do
        running_clean "ld$i" >>"$_sb_state/state.out" || bad+=("ld$i")
done
ok "each is running, with no failed unit${bad:+ (not: ${bad[*]})}" test "${#bad[@]}" -eq 0 ||
        diag "$(cat "$_sb_state/state.out")"

pids=()
for ((i = 1; i <= n; i++)); do
        "$BOXCTL" stop "ld$i" >"$_sb_state/stop-ld$i.out" 2>&1 &
        pids+=($!)
done
failed=0
for ((i = 1; i <= n; i++)); do
        wait "${pids[i - 1]}" || { failed=$((failed + 1)); diag "stop ld$i: $(cat "$_sb_state/stop-ld$i.out")"; }
done
is "$failed" 0 "all $n power off cleanly on boxctl stop (exit 0)"
is "$("$BOXCTL" list --no-legend | grep -c '^ld[0-9]* ' || true)" 0 "...and none is listed"

# --- N foreground boots of the same tree at once ---
for ((i = 1; i <= n; i++)); do
        boot_machine "fg$i" "$tree" -x
done
bad=()
for ((i = 1; i <= n; i++)); do
        # Registered, and its systemd listens (before that, systemctl cannot ask it).
        wait_for "$timeout" bash -c "$(printf %q "$BOXCTL") shell fg$i -- test -S /run/systemd/private >/dev/null 2>&1" &&
                running_clean "fg$i" >>"$_sb_state/state-fg.out" || bad+=("fg$i")
done
ok "$n foreground boot -x of one tree: each is running, with no failed unit${bad:+ (not: ${bad[*]})}" \
        test "${#bad[@]}" -eq 0 || diag "$(cat "$_sb_state/state-fg.out")"
for ((i = 1; i <= n; i++)); do
        "$BOXCTL" poweroff "fg$i" || true
done
failed=0
for ((i = 1; i <= n; i++)); do
        finish_machine "fg$i"
        ((rc == 0)) || { failed=$((failed + 1)); diag "fg$i: exit $rc"; }
done
is "$failed" 0 "all $n foreground boots power off with exit 0"

kill "$lister"
wait "$lister" 2>/dev/null || true
cleanup_pop
calls=$(grep -c . "$list_log" || true)
list_failed=$(grep -c '^failed' "$list_log" || true)
worst=$(awk '$1 == "ok" && $2 > m { m = $2 } END { print m + 0 }' "$list_log")
is "$list_failed" 0 "boxctl list answered all $calls calls meanwhile"
diag "boxctl list: $calls calls, the slowest took $worst ms (not a pass/fail criterion)"

bus_stop
leaks_check
