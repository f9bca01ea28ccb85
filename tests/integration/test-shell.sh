#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# "boxctl shell": a command inside a running machine, joined from the host.
# The machines are busybox ones: no D-Bus and no systemd inside, which is the
# point. What the command gets (namespaces, root, cgroup, capabilities,
# system call filter, user, environment, exit status, a pty of the machine's
# own) is compared with the machine's PID 1, and every bad input gets one
# line and a failure status.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

bus_start
boxd_start

dir=$(realpath "$(test_tmpdir)")
cp -a "$(fixture_busybox)" "$dir/bb"
cp -a "$(fixture_busybox)" "$dir/ubb"

has() { [[ $2 == *"$1"* ]]; } # has NEEDLE HAYSTACK
listed() { "$BOXCTL" list --no-legend | grep -q "^$1 "; }
sh_() { "$BOXCTL" shell "$@"; }

boot_machine bb "$dir/bb"
boot_machine ubb "$dir/ubb" -U
check "busybox machine booted" wait_for 30 guest_exec bb pidof sleep
check "busybox machine with -U booted" wait_for 30 guest_exec ubb pidof sleep
check "both are registered" wait_for 10 bash -c "$(declare -f listed); BOXCTL=$BOXCTL; listed bb && listed ubb"
leader=$(machine_leader bb)

# What the command sees and is.
is "$(sh_ bb -- cat /etc/os-release | grep ^PRETTY_NAME)" 'PRETTY_NAME="BusyBox (boxctl test tree)"' \
        "runs in the machine's root"
is "$(sh_ bb hostname)" bb "in its UTS namespace (without --)"
for ns in mnt pid uts ipc net cgroup; do
        is "$(sh_ bb -- readlink /proc/self/ns/$ns)" "$(readlink /proc/"$leader"/ns/$ns)" "in the machine's $ns namespace"
done
is "$(sh_ bb -- cat /proc/self/cgroup)" "$(sh_ bb -- cat /proc/1/cgroup)" "in the cgroups of the machine's PID 1"
is "$(sh_ bb -- cat /proc/self/cgroup | grep ^0::)" "0::/" "...at its cgroup namespace's root"
is "$(sh_ bb -- grep ^CapBnd: /proc/self/status)" "$(grep ^CapBnd: /proc/"$leader"/status)" \
        "under the machine's capability bounding set"
is "$(sh_ bb -- grep ^Seccomp: /proc/self/status | tr -d '\t ')" "Seccomp:2" "under a system call filter"
is "$(sh_ bb -- grep ^CapEff: /proc/self/status | cut -f2)" "$(grep ^CapBnd: /proc/"$leader"/status | cut -f2)" \
        "root's effective capabilities are the machine's set, no more"
exec 7</dev/null
is "$(sh_ bb -- ls /proc/self/fd | tr '\n' ' ')" "0 1 2 3 " "nothing but stdio reaches the command (3 is ls's own)"
exec 7<&-
ok "...not as its PID 1" bash -c '[[ $1 != 1 ]]' _ "$(sh_ bb -- sh -c 'echo $$')"
out=$(sh_ bb -- sh -c 'ls -l /proc/1/exe')
ok "PID 1 it sees is the machine's busybox init: $out" has "/bin/busybox" "$out"
is "$(sh_ bb -- sh -c 'echo "$HOME $USER $LOGNAME $SHELL $PATH" && pwd')" \
        "/root root root /bin/sh /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
/root" "a clean environment, in root's home"
is "$(TERM=xterm FOO=host sh_ bb -- sh -c 'echo "[${FOO:-}]"')" "[]" "nothing of boxctl's environment leaks in"
is "$(sh_ -E FOO=bar -E HOME=/tmp bb -- sh -c 'echo $FOO $HOME')" "bar /tmp" "--setenv sets and overrides"
is "$(sh_ -u nobody bb -- id -u)" 65534 "--uid=nobody"
is "$(sh_ -u 65534 bb -- sh -c 'id -u; id -g; echo $HOME')" "65534
65534
/nonexistent" "--uid by number takes the passwd entry"
is "$(sh_ -u 4321 bb -- id -u)" 4321 "--uid of a number nobody has"
is "$(sh_ -u nobody bb -- grep ^CapEff: /proc/self/status | tr -d '\t ')" "CapEff:0000000000000000" \
        "a user other than root has no capabilities"
is "$(echo piped-in | sh_ bb -- cat)" "piped-in" "stdin passes straight through"
rc=0; sh_ bb -- sh -c 'exit 7' || rc=$?
is "$rc" 7 "exits with the command's status"
rc=0; sh_ bb -- sh -c 'kill -TERM $$' || rc=$?
is "$rc" $((128 + 15)) "a command killed by a signal gives 128+N"

# The command belongs to the machine: it is killed with it, and a signal to
# boxctl reaches it.
sh_ bb -- sleep 1000 &
spid=$!
in_scope() { [[ -n $(machine_pgrep bb 'sleep 1000') ]]; }
check "the command runs in the machine's scope on the host" wait_for 10 in_scope
kill -TERM "$spid"
rc=0; wait "$spid" || rc=$?
is "$rc" $((128 + 15)) "SIGTERM to boxctl shell is passed to the command"

# -U: the machine's root, which is not the host's.
is "$(sh_ ubb -- id -u)" 0 "-U machine: root inside"
map=$(sh_ ubb -- cat /proc/self/uid_map)
ok "-U machine: ...mapped to its own range ($(echo $map))" bash -c '[[ $(awk "{print \$1, \$3}" <<<"$1") == "0 65536" && $(awk "{print \$2}" <<<"$1") != 0 ]]' _ "$map"
sh_ ubb -- sleep 999 &
spid=$!
uid_of_sleep() { local p; p=$(machine_pgrep ubb 'sleep 999' | head -1) && [[ -n $p ]] && stat -c %u "/proc/$p"; }
check "-U machine: the command is up" wait_for 10 uid_of_sleep
is "$(uid_of_sleep)" "$(awk '{print $2}' <<<"$map")" "-U machine: ...and on the host it runs as the machine's base UID"
kill -TERM "$spid"; wait "$spid" || true
sh_ ubb -- touch /root/made-by-shell
is "$(stat -c %u "$dir/ubb/root/made-by-shell")" 0 "-U machine: a file made by its root is owned by 0 on disk (idmapped)"
rm -f "$dir/ubb/root/made-by-shell"

# A pty of the machine's own, when on a terminal.
python3 "$BOXCTL_SRCDIR/tests/lib/pty-drive.py" --log "$_sb_state/console-pty" timeout:20 \
        'expect:# ' 'send:tty; echo mark-$((6*7))\r' 'expect:mark-42' 'send:exit 3\r' \
        -- "$BOXCTL" shell bb >/dev/null 2>&1 && rc=0 || rc=$?
is "$rc" 3 "on a terminal: a login shell, which exits with its status"
ok "...on a pty of the machine's devpts" grep -q '^/dev/pts/[0-9]' "$_sb_state/console-pty"

# The stock machinectl: its "shell" calls OpenMachineShell, which boxd serves
# the same way, so it works on a machine without systemd or D-Bus inside.
# machinectl insists that the host booted with systemd; this sandbox has its
# own /run.
mkdir -p /run/systemd/system
python3 "$BOXCTL_SRCDIR/tests/lib/pty-drive.py" --log "$_sb_state/console-machinectl" timeout:20 \
        'expect:# ' 'send:echo mc-$((6*7)); tty\r' 'expect:mc-42' 'send:exit\r' \
        -- machinectl shell bb >/dev/null 2>&1 && rc=0 || rc=$?
is "$rc" 0 "machinectl shell: a login shell in a busybox machine, ended by exit"
ok "...on a pty of the machine's devpts" grep -q '^/dev/pts/[0-9]' "$_sb_state/console-machinectl"
python3 "$BOXCTL_SRCDIR/tests/lib/pty-drive.py" --log "$_sb_state/console-machinectl2" timeout:20 \
        'expect:uid=65534' -- machinectl shell nobody@ubb /bin/sh -c 'id; sleep 0.2' >/dev/null 2>&1 && rc=0 || rc=$?
is "$rc" 0 "machinectl shell USER@NAME PATH ARGS..., in a -U machine"
ok "...runs as that user" grep -q 'uid=65534' "$_sb_state/console-machinectl2"
out=$(busctl --system call org.freedesktop.machine1 /org/freedesktop/machine1 org.freedesktop.machine1.Manager \
        OpenMachineShell sssasas bb "" relative/path 0 0 2>&1) && rc=0 || rc=$?
ok "OpenMachineShell refuses a relative path (exit $rc): $out" has "is not absolute" "$out"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups busctl --system call org.freedesktop.machine1 \
        /org/freedesktop/machine1 org.freedesktop.machine1.Manager OpenMachineShell sssasas bb "" "" 0 0 2>&1) && rc=0 || rc=$?
ok "OpenMachineShell refuses a caller who is not root (exit $rc): $out" has "Access denied" "$out"
# machinectl login: OpenMachineLogin runs the machine's login(1) on a pty of
# its own. Three Ctrl-] leave machinectl; login then goes with the pty.
python3 "$BOXCTL_SRCDIR/tests/lib/pty-drive.py" --log "$_sb_state/console-login" timeout:20 \
        'expect:login: ' 'send:root\r' 'expect:Password: ' 'send:\x1d\x1d\x1d' \
        -- machinectl login bb >/dev/null 2>&1 && rc=0 || rc=$?
is "$rc" 0 "machinectl login: the machine's login prompt, and its password prompt"
no_login() { ! guest_exec bb pidof login >/dev/null; }
check "...and login is gone once machinectl left" wait_for 10 no_login

# A shell boxd started holds nothing of boxd's: boxd restarts and takes its
# bus name again while one is open.
# The shell stays open until the test kills the driver.
python3 "$BOXCTL_SRCDIR/tests/lib/pty-drive.py" --log "$_sb_state/console-held" timeout:20 'expect:# ' 'sleep:600' \
        -- machinectl shell bb >/dev/null 2>&1 &
drive=$!
cleanup_push "kill $drive 2>/dev/null || true"
check "a machinectl shell is open (its prompt is shown)" wait_for 10 grep -q '# ' "$_sb_state/console-held"
boxd_stop
boxd_start
check "boxd restarts while a shell it started is open, and knows the machine" wait_for 5 bash -c "$(declare -f listed); BOXCTL=$BOXCTL; listed bb"
check "...and it stays, and so does the shell" kill -0 "$_boxd_pid" "$drive"
kill "$drive" 2>/dev/null || true
wait "$drive" 2>/dev/null || true
cleanup_pop
rm -rf /run/systemd

# --pipe on a terminal: the command gets pipes that boxctl copies, never the
# host's terminal itself, nor a controlling terminal.
python3 "$BOXCTL_SRCDIR/tests/lib/pty-drive.py" --log "$_sb_state/console-pipe" timeout:20 \
        'expect:done-7' -- "$BOXCTL" shell --pipe bb -- sh -c 'tty; ls -l /proc/self/fd/0 /proc/self/fd/2; echo done-$((3+4)) >&2' \
        >/dev/null 2>&1 && rc=0 || rc=$?
is "$rc" 0 "--pipe on a terminal works"
ok "...stdin is not a terminal inside" grep -q "not a tty" "$_sb_state/console-pipe"
ok "...stdin and stderr are pipes" bash -c '[[ $(grep -c "pipe:" "$1") == 2 ]]' _ "$_sb_state/console-pipe"
ok "...and what it writes reaches the terminal" grep -q "done-7" "$_sb_state/console-pipe"

# Bad input.
fails_with "an unknown machine" "machine 'nosuch': no such machine" sh_ nosuch -- true
fails_with "no machine" "no machine given" sh_
fails_with "an invalid name" "invalid machine name" sh_ 'a/b' -- true
fails_with "an unknown user" "machine bb has no user 'nosuchuser'" sh_ -u nosuchuser bb -- true
fails_with "an invalid --uid" "invalid --uid" sh_ -u 'a:b' bb -- true
fails_with "a UID of -1, which would leave root" "is not a valid user" sh_ -u 4294967295 bb -- true
fails_with "an invalid --setenv" "invalid --setenv 'NOEQUALS'" sh_ -E NOEQUALS bb -- true
fails_with "an unknown option" "unknown option '--bogus'; try 'boxctl shell --help'" sh_ --bogus bb
fails_with "an option without its value" "option '-u' needs a value" sh_ -u
fails_with "a command the machine lacks" "cannot run /nonexistent in machine bb" sh_ bb -- /nonexistent
rc=0; sh_ bb -- /nonexistent 2>/dev/null || rc=$?
is "$rc" 127 "...exit 127, as a shell gives"
fails_with "not root" "only root may enter machines" setpriv --reuid=65534 --regid=65534 --clear-groups "$BOXCTL" shell bb -- true

# Done: power both off; nothing of the shells is left.
"$BOXCTL" poweroff bb ubb
for m in bb ubb; do
        finish_machine "$m"
        is "$rc" 0 "machine $m powered off cleanly"
done
bus_stop
leaks_check
