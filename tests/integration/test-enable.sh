#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# "boxctl enable|disable NAME": boxd starts the enabled machines of the pool
# whenever it starts. Twenty busybox machines are enabled; boxd brings them
# all up with at most BOXD_START_CONCURRENCY starts at once (counted by a
# wrapper around boxctl that boxd runs, not by boxd itself), and answers
# "boxctl list" meanwhile. disable stops nothing, but the machine is not
# started by the next boxd; list --all shows the enabled machines that do not
# run; bad input is refused with one line and changes nothing.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

N=${BOXCTL_TEST_ENABLED_MACHINES:-20}
# The bound the first boxd runs under; BOXCTL_TEST_START_CONCURRENCY to
# measure others (see the timings this test prints).
LIMIT=${BOXCTL_TEST_START_CONCURRENCY:-3}

bus_start

pool=$(realpath "$(test_tmpdir)")
config=$(realpath "$(test_tmpdir)")
export BOXCTL_POOL=$pool BOXCTL_CONFIG_DIR=$config
bb=$(fixture_busybox)
names=()
for i in $(seq 1 "$N"); do
        names+=("$(printf 'bb%02d' "$i")") # bb01 ... bb99 bb100: the test names a few
        cp -a "$bb" "$pool/${names[-1]}"
done
cp -a "$bb" "$pool/spare" # in the pool, enabled only later
outside=$(test_tmpdir)
cp -a "$bb" "$outside/out"

listed() { "$BOXCTL" list --no-legend | grep -q "^$1 "; }
n_listed() { "$BOXCTL" list --no-legend | grep -c '^bb' || true; }
all_listed() { [[ $(n_listed) == "$1" ]]; }
enabled_now() { (cd "$config/enabled" 2>/dev/null && LC_ALL=C ls -A) | tr '\n' ' '; }
# Every machine of the pool that runs is powered off at exit (common.sh's stop_all).
cleanup_push stop_all

# --- enable, and what it refuses ---
rc=0
out=$("$BOXCTL" enable "${names[@]}" 2>&1) || rc=$?
is "$rc" 0 "enable $N machines of the pool: exit 0"
is "$(grep -c '^Enabled machine bb[0-9]*: ' <<<"$out")" "$N" "...one line each"
is "$(enabled_now)" "$(printf '%s\n' "${names[@]}" | LC_ALL=C sort | tr '\n' ' ')" "...a file each in \$BOXCTL_CONFIG_DIR/enabled"
rc=0
out=$("$BOXCTL" enable bb01 "$pool/bb02" 2>&1) || rc=$?
is "$rc:$out" "0:" "enable of enabled machines (by name and by path in the pool): exit 0, nothing said"
before=$(enabled_now)
fails_with "enable of a path outside the pool" "$outside/out: not in the pool $pool" "$BOXCTL" enable "$outside/out"
fails_with "enable of an unknown name" "nosuch: no such machine in $pool" "$BOXCTL" enable nosuch
fails_with "enable of a name that cannot be a machine's" "not a valid machine name" "$BOXCTL" enable 'a b'
fails_with "disable of an unknown name" "nosuch: no such machine in $pool" "$BOXCTL" disable nosuch
fails_with "disable of a path outside the pool" "not in the pool" "$BOXCTL" disable "$outside/out"
fails_with "enable without a name" "no machine given" "$BOXCTL" enable
is "$(enabled_now)" "$before" "...and none of them changed the enabled set"
rc=0
out=$("$BOXCTL" disable spare 2>&1) || rc=$?
is "$rc:$out" "0:" "disable of a machine that is not enabled: exit 0, nothing said (as systemctl)"

# --- boxd starts them, at most LIMIT at once ---
# boxd runs this instead of boxctl: one file per running starter; each
# notes how many there were once its own was made. A count can only be
# below the truth if starters overlap by less than the time between two
# commands here, never above it.
counts=$_sb_state/starters
mkdir "$counts"
wrapper=$_sb_state/boxctl-counting
cat >"$wrapper" <<WRAP
#!/bin/bash
: >"$counts/\$\$"
echo "\$(ls "$counts" | wc -l)" >>"$_sb_state/concurrency"
echo "\$*" >>"$_sb_state/starter-args"
"$BOXCTL" "\$@"
rc=\$?
rm -f "$counts/\$\$"
exit \$rc
WRAP
chmod +x "$wrapper"
: >"$_sb_state/concurrency"

# boxd's own options: bad ones are refused with one line before it does anything.
fails_with "boxd --start-wait of an unknown value" "invalid --start-wait 'soon': expected ready or registered" "$BOXD" --start-wait=soon
fails_with "boxd \$BOXD_START_WAIT of an unknown value" "invalid \$BOXD_START_WAIT 'x': expected ready or registered" \
        env BOXD_START_WAIT=x "$BOXD"
fails_with "boxd --start-concurrency=0" "invalid --start-concurrency '0': expected a number from 1 to 4096" "$BOXD" --start-concurrency=0
fails_with "boxd with an argument" "unexpected argument 'extra'" "$BOXD" extra
ok "...and none of them started: nobody owns the registry's name" bash -c '! busctl --system status org.freedesktop.machine1 >/dev/null 2>&1'

t0=$(_now_us)
BOXCTL_BINARY=$wrapper BOXD_START_CONCURRENCY=$LIMIT boxd_start
# While starts run, the bus is served. (boxd owns its name a moment before
# it runs the first starter.)
wait_for 10 test -s "$_sb_state/concurrency" || true
answered=0
while [[ -n $(ls -A "$counts") ]]; do
        timeout 10 "$BOXCTL" list --no-legend >/dev/null && [[ -n $(ls -A "$counts") ]] && answered=$((answered + 1))
done
check "all $N enabled machines come up" wait_for $((30 + N * 2)) all_listed "$N"
t1=$(_now_us)
diag "boxd up to $N machines running: $(((t1 - t0) / 1000)) ms (limit $LIMIT)"
ok "boxctl list answered while starts ran ($answered times)" test "$answered" -gt 0
max=$(sort -n "$_sb_state/concurrency" | tail -n 1)
is "$(wc -l <"$_sb_state/concurrency")" "$N" "boxd ran one starter per enabled machine"
is "$(sort -u "$_sb_state/starter-args")" "$(printf 'start %s --wait=ready\n' "${names[@]}" | sort -u)" \
        "...each 'boxctl start NAME --wait=ready' (the default --start-wait): a slot is free once its machine is ready"
ok "at most $LIMIT starters ran at once (at most $max seen)" test "$max" -le "$LIMIT"
ok "...and the bound was used ($max at once)" test "$max" -ge "$((LIMIT < 2 ? LIMIT : 2))"
check "boxd's log: one line per started machine" \
        bash -c "(( \$(grep -c 'Started enabled machine bb[0-9]* in ' $_sb_state/boxd.log) == $N ))"
summary=$(grep 'Started [0-9]* of [0-9]* enabled machines' "$_sb_state/boxd.log" || true)
ok "boxd's log: the summary: $summary" grep -q "Started $N of $N enabled machines in .*, at most [0-9]* at once (limit $LIMIT)" <<<"$summary"
diag "$(sed -n 's/.*Started enabled machine \(bb[0-9]*\) in \([0-9.]*\) s\./\1 \2/p' "$_sb_state/boxd.log" | sort -k2 -n | \
        awk '{ s += $2; t[NR] = $2 } END { printf "per machine: min %.2f s, median %.2f s, max %.2f s, mean %.2f s", t[1], t[int((NR + 1) / 2)], t[NR], s / NR }')"
check "a machine runs its init" guest_exec bb07 pidof sleep

# --- list --all, -o json ---
"$BOXCTL" enable spare >/dev/null
out=$("$BOXCTL" list --all)
ok "list --all: a header with STATE and ENABLED" grep -Eq '^MACHINE +STATE +ENABLED +CLASS +SERVICE +OS +VERSION +ADDRESSES$' <<<"$out"
ok "list --all: a running enabled machine" grep -Eq '^bb07 +running +yes +container +boxctl +busybox +- +-$' <<<"$out"
ok "list --all: an enabled machine that does not run" grep -Eq '^spare +stopped +yes +- +- +- +- +-$' <<<"$out"
ok "list --all: the legend counts both" grep -q "^$((N + 1)) machines listed\.$" <<<"$out"
ok "list without --all: the running machines only, the columns as before" \
        bash -c '! grep -q "^spare" <<<"$1" && grep -Eq "^MACHINE +CLASS +SERVICE +OS +VERSION +ADDRESSES$" <<<"$1"' _ "$("$BOXCTL" list)"
json=$("$BOXCTL" list --all -o json)
is "$(python3 -c 'import json, sys
d = {m["machine"]: m for m in json.load(sys.stdin)}
print(d["bb07"]["state"], d["bb07"]["enabled"], d["spare"]["state"], d["spare"]["enabled"], d["spare"]["class"])' <<<"$json")" \
        "running True stopped True None" "list --all -o json: state and enabled"
"$BOXCTL" disable spare >/dev/null

# --- disable stops nothing; the next boxd does not start it ---
rc=0
out=$("$BOXCTL" disable bb01 2>&1) || rc=$?
is "$rc" 0 "disable bb01: exit 0"
check "...it runs on" listed bb01
ok "list --all: a running machine not enabled" grep -Eq '^bb01 +running +no ' <<<"$("$BOXCTL" list --all)"
check "stop bb01 and bb02" bash -c "'$BOXCTL' stop bb01 && '$BOXCTL' stop bb02"
ok "...they are gone" bash -c "! '$BOXCTL' list --no-legend | grep -Eq '^bb0[12] '"
boxd_stop
: >"$_sb_state/concurrency"
mv "$_sb_state/boxd.log" "$_sb_state/boxd-first.log"
BOXCTL_BINARY=$wrapper boxd_start # the default bound
check "the next boxd starts the enabled machine that had stopped" wait_for 60 listed bb02
check "...and leaves the running ones alone: one start" \
        wait_for 30 grep -q "Started 1 of 1 enabled machines .*(limit $((2 * $(nproc))))" "$_sb_state/boxd.log"
ok "...not the disabled one" bash -c "! '$BOXCTL' list --no-legend | grep -q '^bb01 '"
is "$(wc -l <"$_sb_state/concurrency")" 1 "...one starter ran"

# --- a start that fails: one line in boxd's log ---
# Stopped while boxd runs: with none, the bus would start one for the call.
"$BOXCTL" stop bb03 >/dev/null
boxd_stop
rm -rf "$pool/bb03/sbin/init" "$pool/bb03/bin/busybox"
mv "$_sb_state/boxd.log" "$_sb_state/boxd-second.log"
BOXCTL_BINARY=$wrapper boxd_start
check "a failed start: one line in boxd's log, naming the machine and why" \
        wait_for 30 grep -q "Failed to start enabled machine bb03 (exit status 1 after [0-9.]* s): boxctl: " "$_sb_state/boxd.log"
diag "$(grep 'Failed to start' "$_sb_state/boxd.log")"
is "$(grep -c 'Failed to start' "$_sb_state/boxd.log")" 1 "...one line"
check "boxd serves on" listed bb04

# --- all off ---
stop_all
check "all machines powered off" wait_for 30 bash -c "[[ -z \$('$BOXCTL' list --no-legend) ]]"
bus_stop
leaks_check
