#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# "boxctl boot" with busybox init: it boots, powers off on SIGTERM (busybox
# init takes SIGUSR2 for that, not systemd's SIGRTMIN+4), reboots when asked,
# and a killed init's status is passed on.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

# Mount points made for binds change the tree's directories' times: use a copy.
tree=$(test_tmpdir)/busybox
cp -a "$(fixture_busybox)" "$tree"
console=$_sb_state/console-boot

boot_bg "$tree" -M bb1
check "busybox init runs its sysinit action" wait_for 10 grep -q boxctl-busybox-sysinit "$console"
check "busybox init starts its respawn child" wait_for 10 guest_exec bb1 pidof sleep
is "$(guest_exec bb1 cat /proc/1/comm)" "init" "PID 1 is the tree's init"
is "$(guest_exec bb1 hostname)" "bb1" "the hostname is the machine name"
kill -TERM "$pid"
finish; is "$rc" 0 "SIGTERM powers it off cleanly: exit 0"
ok "the shutdown action ran" grep -q boxctl-busybox-shutdown "$console"
ok "boxctl said it powered off" grep -q "Machine bb1 powered off" "$console"

# A reboot inside boots it again; --no-reboot ends instead.
boot_bg "$tree" -M bb2
check "booted" wait_for 10 guest_exec bb2 pidof sleep
first=$(machine_leader bb2)
guest_shutdown bb2 reboot
rebooted() {
        local l
        l=$(machine_leader bb2 2>/dev/null) && [[ $l != "$first" ]] &&
                [[ $(grep -c boxctl-busybox-sysinit "$console") == 2 ]] && guest_exec bb2 pidof sleep >/dev/null
}
check "after a reboot the machine is up again, with a new init" wait_for 15 rebooted || { diag "$(cat "$console")"; diag "leader now: $(machine_leader bb2 || true), first: $first"; false; }
ok "boxctl said it is rebooting" grep -q "Machine bb2 is rebooting" "$console"
guest_shutdown bb2 poweroff
finish; is "$rc" 0 "poweroff inside ends it with exit 0"

boot_bg "$tree" -M bb3 --no-reboot
check "booted" wait_for 10 guest_exec bb3 pidof sleep
guest_shutdown bb3 reboot
finish; is "$rc" 0 "with --no-reboot a reboot ends boxctl"
ok "...saying so" grep -q "not starting it again" "$console"

# An init killed by a signal: its status is passed on.
boot_bg "$tree" -M bb4
check "booted" wait_for 10 guest_exec bb4 pidof sleep
kill -KILL "$(machine_leader bb4)"
finish; is "$rc" $((128 + 9)) "an init killed by SIGKILL gives 137"

# An init that ignores the power-off request is killed after --kill-timeout.
boot_bg "$tree" -M bb5 --kill-timeout=1 -- --ignored-arg
check "booted" wait_for 10 guest_exec bb5 pidof sleep
guest_exec bb5 sh -c 'kill -STOP 1'
kill -TERM "$pid"
finish
ok "a stuck init is killed after the kill timeout, exit non-zero ($rc)" test "$rc" -ne 0
ok "...saying why" grep -q "did not power off within the kill timeout" "$console"

# Console modes without a terminal: read-only (the default) shows the
# console, passive shows nothing, pipe gives init our stdout directly.
fake=$(test_tmpdir)/fake-init
cp -a "$tree" "$fake"
rm "$fake/sbin/init"
printf '#!/bin/sh\necho "init-args:$*"\n[ -t 1 ] && echo on-a-tty || echo not-a-tty\nexit 3\n' >"$fake/sbin/init"
chmod +x "$fake/sbin/init"
rc=0; out=$("$BOXCTL" boot "$fake" -M fake -- one "two words" 2>/dev/null) || rc=$?
is "$rc" 3 "an init's failure exit status is passed on"
ok "INIT-ARGS reach init" grep -q "init-args:one two words" <<<"$out"
ok "read-only console (the default off a terminal): init's output shown, on a pty" grep -q "on-a-tty" <<<"$out"
out=$("$BOXCTL" boot "$fake" -M fake --console=passive 2>/dev/null) || true
is "$out" "" "passive console: nothing shown"
out=$("$BOXCTL" boot "$fake" -M fake --console=pipe 2>/dev/null) || true
ok "pipe console: init writes to our stdout directly, not a tty" grep -q "not-a-tty" <<<"$out"
ok "boxctl reports the status" grep -q "init exited with status 3" <<<"$("$BOXCTL" boot "$fake" -M fake 2>&1 >/dev/null || true)"

# On a terminal the console is interactive: Ctrl-] three times within a
# second kills the machine.
drive() { python3 "$BOXCTL_SRCDIR/tests/lib/pty-drive.py" --log "$console" "$@"; }
rc=0
drive timeout:20 expect:boxctl-busybox-sysinit sleep:0.3 'send:\x1d\x1d\x1d' -- "$BOXCTL" boot "$tree" -M bb6 || rc=$?
is "$rc" 137 "Ctrl-] three times kills the machine (137)"
ok "...and says so" grep -q "killed (Ctrl-] pressed three times)" "$console"
rc=0
: >"$console" # what the last machine echoed must not count for this one
drive timeout:20 expect:boxctl-busybox-sysinit 'send:\x1d' sleep:1.2 'send:\x1d\x1d' sleep:1 -- \
        "$BOXCTL" boot "$tree" -M bb7 --kill-timeout=5 &
drv=$!
# The machine's console echoes each Ctrl-] as "^]" once boxctl has passed
# it on (and counted it): wait for all three, then look.
echoed() { [[ $(grep -o '\^\]' "$console" | wc -l) -ge 3 ]]; }
check "three Ctrl-] spread over more than a second reach the machine" wait_for 10 echoed
check "...and do not kill it" guest_exec bb7 pidof sleep
guest_shutdown bb7 poweroff
wait "$drv" || rc=$?
is "$rc" 0 "...and it powers off normally"

leaks_check
