#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# "boxctl start", "console" and "stop": machines whose supervisor outlives
# the terminal that started them. A busybox machine is started from a
# terminal that then goes away; its console is attached through a real pty,
# shows what came before, takes a command and lets go on Ctrl-] x3; one
# writer at a time, any number of readers; stop powers it off and leaves
# nothing. --wait=ready is shown for busybox (its sysinit has ended) and for
# Debian (systemd's READY=1), and a wait that times out leaves nothing.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

bus_start
boxd_start

pool=$(realpath "$(test_tmpdir)")
export BOXCTL_POOL=$pool
# bb's console offers a shell: busybox init runs one on it.
cp -a "$(fixture_busybox)" "$pool/bb"
echo '::respawn:-/bin/sh' >>"$pool/bb/etc/inittab"
# gated's sysinit ends only once the host opens its gate (a file in a bind mount).
cp -a "$(fixture_busybox)" "$pool/gated"
sed -i 's|^::sysinit:.*|::sysinit:/bin/sh -c "while [ ! -e /gate/open ]; do usleep 20000; done; echo done >/gate/sysinit-done"|' \
        "$pool/gated/etc/inittab"
gate=$(test_tmpdir)
cp -a "$(fixture_busybox)" "$pool/fg"

has() { [[ $2 == *"$1"* ]]; } # has NEEDLE HAYSTACK
listed() { "$BOXCTL" list --no-legend | grep -q "^$1 "; }
ended() { [[ $(ps -o stat= -p "$1") != [^Z]* ]]; } # gone, or a zombie
drive() { python3 "$BOXCTL_SRCDIR/tests/lib/pty-drive.py" "$@"; }
# supervisor NAME: the PID of machine NAME's supervisor, its leader's parent.
supervisor() { local l; l=$(machine_leader "$1") && ps -o ppid= -p "$l" | tr -d ' '; }
# A supervisor is one of this test's processes (leaks_check counts it); kill
# it at exit should the test stop half-way.
kill_supervisor_at_exit() { cleanup_push bash -c "kill -KILL $1 2>/dev/null || true"; }

# --- start from a terminal that goes away ---
rc=0
drive --log "$_sb_state/console-start" timeout:30 -- "$BOXCTL" start bb >/dev/null 2>&1 || rc=$?
is "$rc" 0 "start on a terminal exits 0, and the terminal is gone"
ok "...having printed nothing" bash -c '[[ ! -s $1 ]]' _ "$_sb_state/console-start"
check "the machine runs" guest_exec bb pidof sleep
sup=$(supervisor bb)
kill_supervisor_at_exit "$sup"
ok "its supervisor ($sup) outlived the starter" kill -0 "$sup"
read -r -a st < <(sed 's/.*) //' "/proc/$sup/stat")
is "${st[3]}:${st[4]}" "$sup:0" "...in a session of its own, with no controlling terminal"
is "$(readlink "/proc/$sup/fd/0")" /dev/null "...stdin /dev/null"
is "$(readlink "/proc/$sup/fd/2")" /run/boxctl/logs/bb.log "...stderr a log file in the runtime directory"
check "boxctl list sees it" listed bb
mkdir -p /run/systemd/system # machinectl insists on a host booted with systemd
ok "machinectl list sees it" grep -qE "^bb +container +boxctl" <<<"$(machinectl list --no-pager)"
rm -rf /run/systemd

# The same with stdio closed, from setsid: nothing to write to, still 0.
rc=0
setsid -w "$BOXCTL" start fg --register=no <&- >&- 2>&- || rc=$?
is "$rc" 0 "start with stdin, stdout and stderr closed exits 0"
check "...and that machine runs" wait_for 5 guest_exec fg pidof sleep
fgsup=$(supervisor fg)
kill_supervisor_at_exit "$fgsup"
kill -TERM "$fgsup" # a power-off request, as for boot
check "SIGTERM to its supervisor powers it off, and the supervisor ends" wait_for 30 ended "$fgsup"

# --- the console ---
rc=0
drive --log "$_sb_state/console-attach" timeout:20 'expect:boxctl-busybox-sysinit' 'expect:# ' \
        'send:echo con-$((6*7))\r' 'expect:con-42' 'send:\x1d\x1d\x1d' -- "$BOXCTL" console bb >/dev/null 2>&1 || rc=$?
is "$rc" 0 "console: the scroll-back first, a command in the console's shell, Ctrl-] x3 detaches (exit 0)"
ok "...and says how to detach" grep -q "Attached to machine bb. Press Ctrl-] three times within 1s to detach." \
        "$_sb_state/console-attach"
check "the machine runs on after the detach" guest_exec bb pidof sleep
ok "...with the same supervisor" kill -0 "$sup"

# A reader without a terminal, in the background: it gets what the console shows.
"$BOXCTL" console --read-only bb </dev/null >"$_sb_state/console-reader.out" 2>&1 &
reader=$!
cleanup_push bash -c "kill $reader 2>/dev/null || true"
check "a read-only reader gets the scroll-back" wait_for 10 grep -q con-42 "$_sb_state/console-reader.out"
# A read-only client on a terminal: what it types goes nowhere.
rc=0
drive --log "$_sb_state/console-ro" timeout:20 'expect:con-42' 'send:echo ro-$((5*5))\r' 'send:\x1d\x1d\x1d' \
        -- "$BOXCTL" console --read-only bb >/dev/null 2>&1 || rc=$?
is "$rc" 0 "console --read-only on a terminal: shows the console, Ctrl-] x3 detaches"
# Whatever the read-only client typed came first; a writer's command after it
# shows up, the reader's never did.
rc=0
drive --log "$_sb_state/console-rw2" timeout:20 'expect:# ' 'send:echo after-$((3*3))\r' 'expect:after-9' 'send:\x1d\x1d\x1d' \
        -- "$BOXCTL" console bb >/dev/null 2>&1 || rc=$?
is "$rc" 0 "a writer attaches again once the first has detached"
check "the reader sees the writer's command" wait_for 10 grep -q after-9 "$_sb_state/console-reader.out"
ok "...and nothing the read-only client typed reached the machine" bash -c '! grep -q "ro-25" "$1"' _ "$_sb_state/console-reader.out"

# One writer at a time: the second gets the first's PID.
# Not through drive(): $! is then pty-drive itself, whose child is the holder.
python3 "$BOXCTL_SRCDIR/tests/lib/pty-drive.py" --log "$_sb_state/console-held" timeout:20 'expect:# ' 'sleep:600' \
        -- "$BOXCTL" console bb >/dev/null 2>&1 &
holder_drive=$!
cleanup_push bash -c "kill $holder_drive 2>/dev/null || true"
check "a writer holds the console" wait_for 10 grep -q "Attached to machine bb" "$_sb_state/console-held"
holder=$(pgrep -P "$holder_drive")
fails_with "a second writer is refused, with the holder's PID" "console busy: PID $holder has it read-write" \
        "$BOXCTL" console bb
check "a reader may still watch meanwhile" bash -c "timeout -s INT 1 $(printf %q "$BOXCTL") console --read-only bb </dev/null | grep -q sysinit"
kill "$holder_drive"
wait "$holder_drive" 2>/dev/null || true
cleanup_pop

# --- refusals ---
fails_with "start of a running machine: busy, with the holder's PID" "busy: in use by machine bb (boxctl PID $sup)" \
        "$BOXCTL" start bb
fails_with "start --console=interactive" "a background machine has no terminal; use 'boxctl console NAME'" \
        "$BOXCTL" start bb --console=interactive
fails_with "start of an unknown name" "nosuch: no such image in $pool, and no such path here" "$BOXCTL" start nosuch
fails_with "console of an unknown machine" "machine nosuch: no console to attach to" "$BOXCTL" console nosuch
fails_with "stop of an unknown machine" "machine 'nosuch': no such machine" "$BOXCTL" stop nosuch
fails_with "console as a user other than root" "boxctl console needs root" \
        setpriv --reuid=65534 --regid=65534 --clear-groups "$BOXCTL" console bb
boot_machine fgm "$pool/fg"
check "a machine booted in the foreground runs" wait_for 30 guest_exec fgm pidof sleep
fails_with "console of a machine booted in the foreground" "machine fgm: no console to attach to" "$BOXCTL" console fgm
"$BOXCTL" poweroff fgm
finish_machine fgm

# --- stop ---
rc=0
"$BOXCTL" stop bb || rc=$?
is "$rc" 0 "stop powers it off: exit 0"
# Its supervisor was handed to PID 1 when the starter exited; it may still
# have to reap it.
ok "...once its supervisor has ended" ended "$sup"
check "...and the reader was let go" wait_for 10 ended "$reader"
ok "...its console socket and log file are gone" bash -c '[[ ! -e /run/boxctl/consoles/bb && ! -e /run/boxctl/logs/bb.log ]]'
ok "...and it left the registry" bash -c "$(declare -f listed); BOXCTL=$BOXCTL; ! listed bb"

# --- --wait=ready for busybox: its sysinit has ended ---
rc=0
err=$("$BOXCTL" start gated --bind="$gate:/gate" --wait=ready --wait-timeout=1 --kill-timeout=1 2>&1) || rc=$?
ok "--wait=ready times out while sysinit runs (exit $rc): $err" \
        bash -c '(( $1 != 0 )) && [[ $2 == "boxctl: machine gated was not ready within 1 s (--wait-timeout); powered it off" ]]' _ "$rc" "$err"
is "$(machine_scope_dirs gated)" "" "...and the machine is gone"
ok "...with nothing of it left in the runtime directory" bash -c '[[ -z $(find /run/boxctl -name "gated*") ]]'

"$BOXCTL" start gated --bind="$gate:/gate" --wait=ready &
starter=$!
cleanup_push bash -c "kill $starter 2>/dev/null || true"
check "the machine registers and runs its sysinit" wait_for 30 bash -c "$(declare -f listed); BOXCTL=$BOXCTL; listed gated"
ok "...while start --wait=ready still waits" kill -0 "$starter"
touch "$gate/open"
rc=0
wait "$starter" || rc=$?
cleanup_pop
is "$rc" 0 "start --wait=ready returns once sysinit has ended"
ok "...which it had, before start returned" test -e "$gate/sysinit-done"
kill_supervisor_at_exit "$(supervisor gated)"
check "stop gated" "$BOXCTL" stop gated

# --- boot --notify-ready: under a manager, READY=1 on its $NOTIFY_SOCKET once
# the guest is ready (here: busybox's sysinit has ended) ---
python3 - "$_sb_state/notify.sock" >"$_sb_state/notify.out" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    m = s.recv(4096).decode()
    print(m.replace("\n", " "), flush=True)
    if "READY=1" in m.split("\n"):
        break
PY
listener=$!
cleanup_push bash -c "kill $listener 2>/dev/null || true"
check "a stand-in for the service manager listens" wait_for 5 test -S "$_sb_state/notify.sock"
rm -f "$gate/open" "$gate/sysinit-done"
NOTIFY_SOCKET=$_sb_state/notify.sock boot_machine nr "$pool/gated" --bind="$gate:/gate" --register=no --notify-ready
check "boot --notify-ready: the machine runs its sysinit" wait_for 30 guest_exec nr pidof sh
ok "...and the manager has heard nothing of READY=1 yet" bash -c '! grep -q READY=1 "$1"' _ "$_sb_state/notify.out"
touch "$gate/open"
check "...then READY=1 once sysinit has ended" wait_for 30 grep -q "READY=1" "$_sb_state/notify.out"
ok "...and that came after sysinit's end" test -e "$gate/sysinit-done"
kill -TERM "${machine_pids[nr]}"
finish_machine nr
is "$rc" 0 "...and it powers off on SIGTERM"

# --- Debian: --wait=ready is systemd's READY=1 ---
deb=$(test_tmpdir)/debian
cp -a "$(fixture_debian)" "$deb"
rc=0
"$BOXCTL" start "$deb" -M deb --wait=ready --wait-timeout=120 || rc=$?
is "$rc" 0 "start --wait=ready of a Debian tree"
kill_supervisor_at_exit "$(supervisor deb)"
is "$("$BOXCTL" shell deb -- systemctl is-system-running 2>&1)" running "...returns with the system up (is-system-running: running)"
rc=0
"$BOXCTL" stop deb || rc=$?
is "$rc" 0 "stop of the Debian machine: exit 0"

bus_stop
leaks_check
