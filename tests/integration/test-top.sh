#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# boxctl top: the running machines' use of CPU, memory, tasks and IO,
# refreshed and sorted. Two busybox machines, one spinning in a busy loop:
# in batch mode (-b, and whenever stdout is not a terminal) the busy one comes
# first with a CPU% the kernel measured, --order sorts by the other columns;
# on a real terminal (pty-drive.py) the table is drawn on the alternate
# screen, keys change the order, and q, ^C and SIGTERM all give the terminal
# back as it was. Every bad input is one line and exit 1.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"
SECONDS=0

# fails_with DESC NEEDLE CMD...: CMD fails with exit 1, one line of stderr holding NEEDLE, nothing on stdout.
fails_with() {
        local desc=$1 needle=$2 rc=0 err out
        shift 2
        out=$("$@" 2>"$_sb_state/err" </dev/null) || rc=$?
        err=$(cat "$_sb_state/err")
        ok "$desc: exit $rc, one line: $err" \
                bash -c '(( $1 == 1 )) && [[ $2 == *"$3"* && $2 != *$'"'"'\n'"'"'* && -z $4 ]]' _ "$rc" "$err" "$needle" "$out"
}

# --- bad input: before anything is asked of the registry ---
fails_with "--delay=0" "invalid --delay '0': out of range; use 10ms to 1 day" "$BOXCTL" top --delay=0
fails_with "--delay=x" "invalid --delay 'x': use seconds, like 1, 0.5 or 500ms" "$BOXCTL" top --delay=x
fails_with "--delay=-1" "invalid --delay '-1': use seconds" "$BOXCTL" top --delay=-1
fails_with "-d 1ms" "invalid --delay '1ms': out of range" "$BOXCTL" top -d 1ms
fails_with "--delay without a value" "option '--delay' needs a value" "$BOXCTL" top --delay
fails_with "--order=foo" "invalid --order 'foo': use cpu, memory, tasks, io or name" "$BOXCTL" top --order=foo
fails_with "--order=" "invalid --order '': use cpu, memory, tasks, io or name" "$BOXCTL" top --order=
fails_with "-n 0" "invalid --iterations '0': use a number of refreshes, 1 or more" "$BOXCTL" top -n 0
fails_with "--iterations=x" "invalid --iterations 'x'" "$BOXCTL" top --iterations=x
fails_with "-n without a value" "option '-n' needs a value" "$BOXCTL" top -n
fails_with "an extra argument" "unexpected argument 'spin'; usage: boxctl top [OPTIONS...]" "$BOXCTL" top spin
fails_with "an unknown option" "unknown option '--full'; try 'boxctl top --help'" "$BOXCTL" top --full
check "--help" bash -c '"$1" top --help | grep -q -- "--order=COLUMN"' _ "$BOXCTL"
fails_with "no system bus" "cannot connect to the system bus" \
        env DBUS_SYSTEM_BUS_ADDRESS=unix:path=/run/no-such-bus "$BOXCTL" top -b -n 1

bus_start
boxd_start

# --- no machines: an empty table that says so ---
out=$("$BOXCTL" top -n 1 --delay=0.1) # stdout is not a terminal: batch without -b
is "$out" "MACHINE TASKS CPU% MEMORY IO-READ/s IO-WRITE/s
No machines running." "no machines: the header and a line that says so (exit 0)"
is "$("$BOXCTL" top -b -n 1 --no-legend)" "" "...nothing at all with --no-legend"

bb=$(test_tmpdir)/bb
cp -a "$(fixture_busybox)" "$bb"
listed() { "$BOXCTL" list --no-legend | grep -q "^$1 "; }
"$BOXCTL" run --register=yes --read-only -M spin "$bb" -- sh -c 'trap "exit 0" USR1; while :; do :; done' >"$_sb_state/spin.out" 2>&1 &
spinpid=$!
cleanup_push kill -KILL "$spinpid"
"$BOXCTL" run --register=yes --read-only -M idle "$bb" -- sh -c "$HOLD" >"$_sb_state/idle.out" 2>&1 &
idlepid=$!
cleanup_push kill -KILL "$idlepid"
both_listed() { listed spin && listed idle; }
check "a machine that spins and one that idles run" wait_for 10 both_listed
root=$(cgroup2_root)
cpu_usec() { awk '$1 == "usage_usec" { print $2 }' "$root/machine.slice/machine-$1.scope/cpu.stat"; }

# rows FILE: the rows of the last table of batch output, "NAME TASKS CPU% MEMORY READ WRITE".
rows() { awk '/^MACHINE / { n = 0; delete r; on = 1; next } /^$/ { on = 0 } on { r[n++] = $0 } END { for (i = 0; i < n; i++) print r[i] }' "$1"; }
# bytes SIZE: 1.5K and the like, as top prints sizes, in bytes.
bytes() { awk -v s="$1" 'BEGIN { u = substr(s, length(s)); v = substr(s, 1, length(s) - 1); p = index("BKMGTPE", u); print int(v * 1024 ^ (p - 1)) }'; }

# --- batch: two refreshes, the busy one first ---
u0=$(cpu_usec spin)
t0=$(_now_us)
check "top -b -n 2 --delay=0.5" bash -c '"$1" top -b -n 2 --delay=0.5 >"$2"' _ "$BOXCTL" "$_sb_state/top.out"
u1=$(cpu_usec spin)
t1=$(_now_us)
diag "$(cat "$_sb_state/top.out")"
is "$(grep -c '^MACHINE ' "$_sb_state/top.out")" 2 "...two tables"
is "$(grep -c '^2 machines, sorted by cpu\.$' "$_sb_state/top.out")" 2 "...each with its summary"
ok "...the header: MACHINE TASKS CPU% MEMORY IO-READ/s IO-WRITE/s" grep -qE '^MACHINE +TASKS +CPU% +MEMORY +IO-READ/s +IO-WRITE/s$' "$_sb_state/top.out"
first=$(awk '/^MACHINE / { t++ } t == 1 && /^(spin|idle) / { print $3 }' "$_sb_state/top.out" | tr '\n' ' ')
is "$first" "- - " "...the first table has no CPU% yet (one sample)"
read -r name tasks cpu mem rd wr <<<"$(rows "$_sb_state/top.out" | head -n 1)"
is "$name" spin "...in the second, the busy machine comes first"
is "$(rows "$_sb_state/top.out" | awk '{ print $1 }' | tr '\n' ' ')" "spin idle " "...and both are listed"
pct=$(((u1 - u0) * 100 / (t1 - t0)))
diag "the kernel counted $((u1 - u0)) µs of CPU for spin in $((t1 - t0)) µs ($pct%); top showed $cpu%"
ok "...with a CPU% above 0 ($cpu), as the kernel counted it ($pct% over the run)" \
        bash -c '[[ $1 =~ ^[0-9]+\.[0-9]$ ]] && awk -v c="$1" -v n="$2" "BEGIN { exit !(c > 0 && c <= 100 * n + 5) }" && (( $3 > 0 ))' _ "$cpu" "$(nproc)" "$pct"
read -r _ _ idle_cpu _ <<<"$(rows "$_sb_state/top.out" | sed -n 2p)"
ok "...more than the idle one's ($idle_cpu)" awk -v a="$cpu" -v b="$idle_cpu" 'BEGIN { exit !(a > b) }'
ok "...tasks: a number, at least init and the shell ($tasks)" bash -c '[[ $1 =~ ^[0-9]+$ ]] && (( $1 >= 2 ))' _ "$tasks"
ok "...memory in human units ($mem)" bash -c '[[ $1 =~ ^[0-9.]+[BKMGTPE]$ ]] && (( $2 > 0 ))' _ "$mem" "$(bytes "$mem")"
ok "...IO rates in human units ($rd, $wr)" bash -c '[[ $1 =~ ^[0-9.]+[BKMGTPE]$ && $2 =~ ^[0-9.]+[BKMGTPE]$ ]]' _ "$rd" "$wr"

# --- the other orders ---
"$BOXCTL" top -n 1 --order=name --no-legend >"$_sb_state/name.out"
is "$(awk '{ print $1 }' "$_sb_state/name.out" | tr '\n' ' ')" "idle spin " "--order=name --no-legend: only the rows, by name"
"$BOXCTL" top -b -n 2 --delay=0.2 --order=name >"$_sb_state/name.out"
is "$(rows "$_sb_state/name.out" | awk '{ print $1 }' | tr '\n' ' ')" "idle spin " "--order=name: by name, though spin is the busier"
ok "...and says so" grep -q '^2 machines, sorted by name\.$' "$_sb_state/name.out"
"$BOXCTL" top -b -n 1 --no-legend >"$_sb_state/first.out"
is "$(awk '{ print $1 }' "$_sb_state/first.out" | tr '\n' ' ')" "idle spin " "a first refresh by CPU%: none known yet, so by name"
# monotonic FILE FIELD: the rows of its last table go down (or stay) in FIELD.
monotonic() {
        local prev='' v f
        while read -r -a f; do
                v=${f[$2 - 1]}
                [[ $v == - ]] && v=-1 || { [[ $v =~ [BKMGTPE]$ ]] && v=$(bytes "$v"); }
                [[ -z $prev ]] || awk -v a="$prev" -v b="$v" 'BEGIN { exit !(a >= b) }' || return 1
                prev=$v
        done < <(rows "$1")
}
for o in memory:4 tasks:2 io:5; do
        "$BOXCTL" top -b -n 2 --delay=0.2 --order="${o%:*}" >"$_sb_state/order.out"
        ok "--order=${o%:*}: $(rows "$_sb_state/order.out" | awk '{ print $1 "=" $'"${o#*:}"' }' | tr '\n' ' ')" \
                monotonic "$_sb_state/order.out" "${o#*:}"
        ok "...and says so" grep -q "^2 machines, sorted by ${o%:*}\.$" "$_sb_state/order.out"
done
read -r _ _ _ idle_mem _ <<<"$(rows "$_sb_state/order.out" | grep '^idle ')"
kmem=$("$BOXCTL" list -o json | python3 -c 'import json, sys; print([m for m in json.load(sys.stdin) if m["machine"] == "idle"][0]["memory_current"])')
ok "...memory as the kernel counts it: $idle_mem, list -o json says $kmem bytes" \
        awk -v a="$(bytes "$idle_mem")" -v b="$kmem" 'BEGIN { exit !(a > 0 && a <= b * 2 && b <= a * 2) }'

# --- a terminal ---
drive() { python3 "$BOXCTL_SRCDIR/tests/lib/pty-drive.py" "$@"; }
# restored LOG [TEXT]: after the table (TEXT, by default its header), the cursor shown and the alternate screen left, then
# the shell's "rc=N" and stty -a with the line discipline as it was.
restored() {
        python3 - "$1" "${2:-MACHINE}" <<'EOF'
import re, sys
out = open(sys.argv[1], "rb").read()
enter, leave = out.find(b"\x1b[?1049h"), out.rfind(b"\x1b[?25h\x1b[?1049l")
table = out.find(sys.argv[2].encode(), enter)
assert 0 <= enter < table < leave, (enter, table, leave)
tail = out[leave:].decode(errors="replace")
assert re.search(r"(^|[\s;])icanon\b", tail) and re.search(r"(^|[\s;])echo\b", tail), tail
assert not re.search(r"-icanon|-echo\b", tail), tail
EOF
}
log=$_sb_state/pty-q
rc=0
drive --log "$log" timeout:30 winsize:24x100 'expect:sorted by cpu' 'expect:spin' 'expect:idle' 'send:m' 'expect:sorted by memory' \
        'send:n' 'expect:sorted by name' 'send:q' -- sh -c '"$1" top --delay=0.3; echo "rc=$?"; stty -a' _ "$BOXCTL" || rc=$?
is "$rc" 0 "on a terminal: the table, m and n change the order, q quits"
ok "...exit 0" grep -qa 'rc=0' "$log"
ok "...on the alternate screen with the cursor hidden" grep -qaF $'\e[?1049h\e[?25l' "$log"
ok "...then the cursor shown, the alternate screen left and raw mode off (stty: icanon echo)" restored "$log"
ok "...the status line names the order and the keys" grep -qa '2 machines, sorted by memory, every 0.3s. Keys: c m t i n sort, q quits.' "$log"

log=$_sb_state/pty-int
rc=0
# bash, not sh: it goes on after a child that ended by itself on SIGINT, and prints rc.
drive --log "$log" timeout:30 'expect:sorted by cpu' 'expect:idle' 'send:\x03' -- bash -c '"$1" top; echo "rc=$?"; stty -a' _ "$BOXCTL" || rc=$?
is "$rc" 0 "^C on a terminal"
ok "...ends it with 130 (128 + SIGINT)" grep -qa 'rc=130' "$log"
ok "...the terminal restored" restored "$log"

log=$_sb_state/pty-term
rc=0
# sh runs it in the background so that its PID is known: with its stdin, the terminal, given back.
drive --log "$log" timeout:30 'expect:rc=' -- \
        sh -c '"$1" top --delay=0.2 </dev/tty & echo "$!" >"$2"; wait "$!"; echo "rc=$?"; stty -a' _ "$BOXCTL" "$_sb_state/top.pid" &
drv=$!
check "SIGTERM on a terminal: the table is drawn" wait_for 20 grep -qa 'sorted by cpu' "$log"
kill -TERM "$(cat "$_sb_state/top.pid")"
wait "$drv" || rc=$?
is "$rc" 0 "...the shell goes on"
ok "...top ends with 143 (128 + SIGTERM)" grep -qa 'rc=143' "$log"
ok "...the terminal restored" restored "$log"

log=$_sb_state/pty-n
rc=0
drive --log "$log" timeout:30 -- sh -c '"$1" top -n 2 --delay=0.1 --no-legend; echo "rc=$?"; stty -a' _ "$BOXCTL" || rc=$?
is "$rc" 0 "-n 2 on a terminal"
ok "...exits by itself after two refreshes, exit 0" grep -qa 'rc=0' "$log"
ok "...the terminal restored" restored "$log" idle
ok "...--no-legend: no status line, no header" bash -c '! grep -qa -e "sorted by" -e "^MACHINE" "$1"' _ "$log"

machine_release spin
machine_release idle
wait "$spinpid" || true
wait "$idlepid" || true
cleanup_pop
cleanup_pop
check "both machines ended" wait_for 10 bash -c '[[ -z $("$1" list --no-legend) ]]' _ "$BOXCTL"
bus_stop
diag "test-top took $SECONDS s after the lock"
leaks_check
