#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# "boxctl login NAME": the machine's own login(1) on a new pty of its own,
# forwarded to our terminal and left with ^]^]^], as "machinectl login" does;
# and boxd's OpenMachinePTY and Machine.OpenPTY: a new pty of the machine's,
# with nothing on it. A Debian machine (root has an empty password) and a
# busybox one (no systemd, no D-Bus inside). Bad input: one line, a failure.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

bus_start
boxd_start

dir=$(realpath "$(test_tmpdir)")
cp -a "$(fixture_debian)" "$dir/deb"
cp -a "$(fixture_busybox)" "$dir/bb"

has() { [[ $2 == *"$1"* ]]; } # has NEEDLE HAYSTACK
listed() { "$BOXCTL" list --no-legend | grep -q "^$1 "; }
# What the terminal showed goes to a log named for the step; why a step
# failed to drive.log (both are shown when the test fails).
drive() { python3 "$BOXCTL_SRCDIR/tests/lib/pty-drive.py" "$@" 2>>"$_sb_state/drive.log"; }
# tty_fails_with DESC NEEDLE CMD...: CMD, on a terminal, fails and the
# terminal shows one line holding NEEDLE.
tty_fails_with() {
        local desc=$1 needle=$2 rc=0 out log=$_sb_state/tty-fails
        shift 2
        drive --log "$log" timeout:30 -- "$@" >/dev/null 2>&1 || rc=$?
        out=$(tr -d '\r' <"$log")
        ok "$desc: exit $rc, one line: $out" \
                bash -c '(( $1 != 0 && $1 != 124 )) && [[ $2 == *"$3"* && $2 != *$'"'"'\n'"'"'* ]]' _ "$rc" "$out" "$needle"
}
no_login() { ! guest_exec "$1" pidof login >/dev/null; }

boot_machine deb "$dir/deb"
boot_machine bb "$dir/bb"
check "Debian machine's systemd is up" wait_for 30 guest_exec deb test -S /run/systemd/private
is "$(guest_exec deb timeout 60 systemctl is-system-running --wait 2>&1 || true)" "running" "Debian booted to a running system"
check "busybox machine booted" wait_for 30 guest_exec bb pidof sleep
check "both are registered" wait_for 10 bash -c "$(declare -f listed); BOXCTL=$BOXCTL; listed deb && listed bb"

# boxctl login: the prompt, root logs in (no password), a shell on a pty of
# the machine's, and ^]^]^] leaves.
drive --log "$_sb_state/login-deb.log" timeout:30 \
        'expect:Press \^\] three times' 'expect:deb login: ' 'send:root\r' 'expect:# ' \
        'send:echo in-$((6*7)); tty; hostname\r' 'expect:in-42' 'expect:# ' 'send:\x1d\x1d\x1d' \
        'expect:Connection to machine deb terminated' \
        -- "$BOXCTL" login deb >/dev/null 2>&1 && rc=0 || rc=$?
is "$rc" 0 "boxctl login deb: the machine's login prompt, root logs in, ^]^]^] leaves (exit 0)"
ok "...the shell is on a pty of the machine's devpts" grep -q '^/dev/pts/[0-9]' "$_sb_state/login-deb.log"
ok "...in the machine (its host name)" grep -q '^deb' "$_sb_state/login-deb.log"
# Our terminal is raw meanwhile: only the machine's pty echoes (a password
# would otherwise show), and ^]^]^] is seen without a newline after it.
is "$(grep -c 'echo in-\$((6\*7))' "$_sb_state/login-deb.log")" 1 "...what is typed is echoed once, by the machine's pty"
check "...and login and its shell are gone once boxctl left" wait_for 10 no_login deb
# Logging out (exit) ends boxctl too, with the login's status.
drive --log "$_sb_state/login-deb-exit.log" timeout:30 \
        'expect:deb login: ' 'send:root\r' 'expect:# ' 'send:exit\r' \
        -- "$BOXCTL" login deb >/dev/null 2>&1 && rc=0 || rc=$?
is "$rc" 0 "logging out of the machine ends boxctl login"
# A busybox machine: its login(1) applet, without systemd or D-Bus inside.
drive --log "$_sb_state/login-bb.log" timeout:30 \
        'expect:login: ' 'send:\x1d\x1d\x1d' 'expect:terminated' \
        -- "$BOXCTL" login bb >/dev/null 2>&1 && rc=0 || rc=$?
is "$rc" 0 "boxctl login bb: busybox's login prompt, left with ^]^]^]"
check "...and its login is gone" wait_for 10 no_login bb

# The stock machinectl login still works against boxd (OpenMachineLogin).
mkdir -p /run/systemd/system
cleanup_push rm -rf /run/systemd
drive --log "$_sb_state/machinectl-login.log" timeout:30 \
        'expect:deb login: ' 'send:root\r' 'expect:# ' 'send:echo mc-$((6*7))\r' 'expect:mc-42' 'send:\x1d\x1d\x1d' \
        -- machinectl login deb >/dev/null 2>&1 && rc=0 || rc=$?
is "$rc" 0 "machinectl login deb: the same login, through boxd"
check "...and login is gone once machinectl left" wait_for 10 no_login deb

# OpenMachinePTY and Machine.OpenPTY: a pty master and the pty's name in the
# machine, with nothing run on it. busctl prints the fd it got.
out=$(busctl --system call org.freedesktop.machine1 /org/freedesktop/machine1 org.freedesktop.machine1.Manager \
        OpenMachinePTY s deb 2>&1) && rc=0 || rc=$?
ok "OpenMachinePTY deb returns a pty master and its path (exit $rc): $out" \
        bash -c '(( $1 == 0 )) && [[ $2 =~ ^hs\ [0-9]+\ \"/dev/pts/[0-9]+\"$ ]]' _ "$rc" "$out"
out=$(busctl --system call org.freedesktop.machine1 /org/freedesktop/machine1/machine/bb org.freedesktop.machine1.Machine \
        OpenPTY 2>&1) && rc=0 || rc=$?
ok "Machine.OpenPTY on bb too (exit $rc): $out" \
        bash -c '(( $1 == 0 )) && [[ $2 =~ ^hs\ [0-9]+\ \"/dev/pts/[0-9]+\"$ ]]' _ "$rc" "$out"
# Bad input.
tty_fails_with "login: an unknown machine" "machine 'nosuch': no such machine" "$BOXCTL" login nosuch
fails_with "login: no machine" "no machine given" "$BOXCTL" login
fails_with "login: two machines" "login takes one machine" "$BOXCTL" login deb bb
fails_with "login: an invalid name" "invalid machine name" "$BOXCTL" login 'a/b'
fails_with "login: an unknown option" "unknown option '--bogus'" "$BOXCTL" login --bogus deb
fails_with "login: not on a terminal" "login deb: stdin is not a terminal" "$BOXCTL" login deb </dev/null
tty_fails_with "login: stdout not a terminal" "login deb: stdout is not a terminal" sh -c "\"$BOXCTL\" login deb >/dev/null"
tty_fails_with "login: not root" "login deb: only root may enter machines" \
        setpriv --reuid=65534 --regid=65534 --clear-groups "$BOXCTL" login deb
out=$(busctl --system call org.freedesktop.machine1 /org/freedesktop/machine1 org.freedesktop.machine1.Manager \
        OpenMachinePTY s nosuch 2>&1) && rc=0 || rc=$?
ok "OpenMachinePTY of an unknown machine fails (exit $rc): $out" has "No machine 'nosuch' known" "$out"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups busctl --system call org.freedesktop.machine1 \
        /org/freedesktop/machine1 org.freedesktop.machine1.Manager OpenMachinePTY s deb 2>&1) && rc=0 || rc=$?
ok "OpenMachinePTY refuses a caller who is not root (exit $rc): $out" has "Access denied" "$out"

# A stopped machine: no longer known.
"$BOXCTL" poweroff bb
finish_machine bb
is "$rc" 0 "machine bb powered off cleanly"
tty_fails_with "login: a stopped machine" "machine 'bb': no such machine" "$BOXCTL" login bb
out=$(busctl --system call org.freedesktop.machine1 /org/freedesktop/machine1 org.freedesktop.machine1.Manager \
        OpenMachinePTY s bb 2>&1) && rc=0 || rc=$?
ok "OpenMachinePTY of a stopped machine fails (exit $rc): $out" has "No machine 'bb' known" "$out"

"$BOXCTL" poweroff deb
finish_machine deb
is "$rc" 0 "machine deb powered off cleanly"
bus_stop
leaks_check
