#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The verbs about running machines (list, status, show, poweroff, reboot,
# terminate, kill), over a real dbus-daemon to boxd: what they show of a
# busybox and a Debian machine, that they control them, that a user who is
# not root may look but not touch, and their errors.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

bus_start
boxd_start

# Booting writes into a tree: boot copies, never the cached fixtures.
dir=$(realpath "$(test_tmpdir)")
cp -a "$(fixture_busybox)" "$dir/bb"
cp -a "$(fixture_busybox)" "$dir/r1"
cp -a "$(fixture_debian)" "$dir/deb"

listed() { "$BOXCTL" list --no-legend | grep -q "^$1 "; }
not_listed() { ! listed "$1"; }
leader_shown() { [[ $("$BOXCTL" show "$1" -p Leader --value 2>/dev/null) == "$2" ]]; }
ready() { grep -q '^ready$' "$_sb_state/$1.out" && listed "$1"; }
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

boot_machine bb "$dir/bb"
boot_machine deb "$dir/deb"
check "busybox machine booted" wait_for 30 guest_exec bb pidof sleep
check "Debian machine's systemd is up" wait_for 30 guest_exec deb test -S /run/systemd/private
is "$(guest_exec deb timeout 60 systemctl is-system-running --wait 2>&1 || true)" "running" "Debian booted to a running system"
check "the busybox machine is registered" wait_for 10 listed bb
check "the Debian machine is registered" wait_for 10 listed deb
bb_leader=$(machine_leader bb)
deb_leader=$(machine_leader deb)

# list
out=$("$BOXCTL" list)
ok "list: a header" grep -Eq '^MACHINE +CLASS +SERVICE +OS +VERSION +ADDRESSES$' <<<"$out"
ok "list: busybox: class, service, OS, no version, no address" grep -Eq '^bb +container +boxctl +busybox +- +-$' <<<"$out"
ok "list: Debian: class, service, OS and version" grep -Eq '^deb +container +boxctl +debian +12 +-$' <<<"$out"
ok "list: the legend" grep -q '^2 machines listed\.$' <<<"$out"
is "$(awk 'NR == 1 { print index($0, "CLASS") } NR == 2 { print index($0, "container") }' <<<"$out" | sort -u | wc -l)" 1 "list: columns aligned"
out=$("$BOXCTL" list --no-legend)
is "$(cut -d' ' -f1 <<<"$out" | tr '\n' ' ')" "bb deb " "list --no-legend: only the rows"
json=$("$BOXCTL" list -o json)
check "list -o json: valid JSON" python3 -m json.tool <<<"$json"
fields() {
        python3 -c 'import json, sys
for m in json.load(sys.stdin):
    if m["machine"] == sys.argv[1]:
        print(m["class"], m["service"], m["os"], m["version"], m["addresses"], m["leader"], m["root"])' "$1" <<<"$json"
}
is "$(fields deb)" "container boxctl debian 12 [] $deb_leader $dir/deb" "list -o json: the Debian machine's fields"
is "$(fields bb)" "container boxctl busybox None [] $bb_leader $dir/bb" "list -o json: the busybox machine's fields"

# status
out=$("$BOXCTL" status deb)
ok "status: the name and id" grep -Eq '^deb\([0-9a-f]{32}\)$' <<<"$(head -n 1 <<<"$out")"
ok "status: since" grep -Eq '^ +Since: .*; [0-9]+(s|min [0-9]+s) ago$' <<<"$out"
ok "status: the leader and its name" grep -q "^ *Leader: $deb_leader (systemd)$" <<<"$out"
ok "status: service and class" grep -q "^ *Service: boxctl; class container$" <<<"$out"
ok "status: the root" grep -q "^ *Root: $dir/deb$" <<<"$out"
ok "status: the OS's pretty name" grep -q "^ *OS: Debian GNU/Linux 12 (bookworm)$" <<<"$out"
ok "status: the unit" grep -q "^ *Unit: machine-deb.scope$" <<<"$out"
ok "status: the cgroup tree has init.scope" grep -Eq '^ +[├└]─init\.scope$' <<<"$out"
ok "status: ...with systemd in it" grep -Eq "^ +[│ ] [├└]─$deb_leader .*(systemd|init)" <<<"$out"
ok "status: ...and the services of system.slice" grep -Eq 'systemd-journald' <<<"$out"
out=$("$BOXCTL" status bb)
ok "status: busybox leader" grep -q "^ *Leader: $bb_leader (init)$" <<<"$out"
ok "status: busybox OS" grep -q "^ *OS: BusyBox (boxctl test tree)$" <<<"$out"
ok "status: busybox processes" grep -Eq "^ +[├└]─[0-9]+ /bin/sleep 86400$" <<<"$out"

# The bash completion asks the registry for the names of running machines:
# the real boxctl here, not a stand-in.
(
        PATH=$(dirname "$BOXCTL"):$PATH
        . "$BOXCTL_SRCDIR/shell-completion/bash/boxctl"
        COMP_WORDS=(boxctl status "")
        COMP_CWORD=2
        _boxctl
        printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' >"$_sb_state/completion"
        COMP_WORDS=(boxctl poweroff d)
        COMP_CWORD=2
        _boxctl
        printf '%s\n' "${COMPREPLY[@]}" >"$_sb_state/completion.d"
)
is "$(cat "$_sb_state/completion")" "bb deb " "bash completion offers the running machines' names"
is "$(cat "$_sb_state/completion.d")" "deb" "...and completes a prefix to one"
id=$(head -n 1 <<<"$out" | sed 's/.*(\(.*\))/\1/')

# show
is "$("$BOXCTL" show bb -p Leader --value)" "$bb_leader" "show -p Leader --value: the leader"
is "$("$BOXCTL" show deb --property=Name,Class -p RootDirectory)" "Name=deb
Class=container
RootDirectory=$dir/deb" "show -p: several properties, as the bus orders them"
is "$("$BOXCTL" show bb -p Id)" "Id=$id" "show: Id as 32 hex digits, as status has it"
ok "show: every property" grep -q '^Unit=machine-bb.scope$' <<<"$("$BOXCTL" show bb)"
ok "show without a name: the registry's properties" grep -q '^PoolPath=' <<<"$("$BOXCTL" show)"

# Not root: may look, not touch.
check "not root: list" as_nobody "$BOXCTL" list
check "not root: status" as_nobody "$BOXCTL" status bb
for verb in poweroff kill terminate; do
        rc=0
        err=$(as_nobody "$BOXCTL" "$verb" bb 2>&1) || rc=$?
        is "$rc $err" "1 boxctl: $verb bb: permission denied: only root may control machines" "not root: $verb is refused"
done
check "...and the machine still runs" listed bb

# Errors.
rc=0
err=$("$BOXCTL" status nosuch 2>&1 >/dev/null) || rc=$?
is "$rc $err" "1 boxctl: machine 'nosuch': no such machine; see 'boxctl list'" "an unknown machine: exit 1, one line naming it"
rc=0
err=$("$BOXCTL" poweroff nosuch 2>&1) || rc=$?
is "$rc $err" "1 boxctl: machine 'nosuch': no such machine; see 'boxctl list'" "poweroff of an unknown machine"
rc=0
out=$("$BOXCTL" status bb nosuch deb 2>/dev/null) || rc=$?
ok "several names: goes on after an unknown one, exit 1" test "$rc" = 1 -a "$(grep -Ec '^(bb|deb)\(' <<<"$out")" = 2
rc=0
err=$("$BOXCTL" kill --signal=NOPE bb 2>&1) || rc=$?
is "$rc $(wc -l <<<"$err")" "1 1" "an invalid signal: exit 1, one line"
ok "...naming it" grep -q "invalid signal 'NOPE'" <<<"$err"
rc=0
err=$("$BOXCTL" kill --kill-whom=everyone bb 2>&1) || rc=$?
is "$rc $err" "1 boxctl: invalid --kill-whom 'everyone': use leader or all" "an invalid --kill-whom"
rc=0
err=$("$BOXCTL" list -o yaml 2>&1) || rc=$?
is "$rc $err" "1 boxctl: invalid --output mode 'yaml': use table or json" "an invalid output mode"
rc=0
err=$(DBUS_SYSTEM_BUS_ADDRESS=unix:path=$_sb_state/no-such-socket "$BOXCTL" list 2>&1) || rc=$?
is "$rc $err" "1 boxctl: cannot connect to the system bus: No such file or directory; is dbus-daemon running?" "no bus: exit 1, says so"
# A bus where nobody serves (or can activate) the registry.
dbus-daemon --session --address="unix:path=$_sb_state/empty-bus" --nofork --nopidfile 2>/dev/null &
empty_bus=$!
cleanup_push kill "$empty_bus"
if wait_for 5 test -S "$_sb_state/empty-bus"; then
        rc=0
        err=$(DBUS_SYSTEM_BUS_ADDRESS=unix:path=$_sb_state/empty-bus "$BOXCTL" poweroff bb deb 2>&1) || rc=$?
        is "$rc $err" "1 boxctl: no machine registry on the system bus (org.freedesktop.DBus.Error.ServiceUnknown); start boxd" "no registry: exit 1, one line"
else
        fail "a bus without the registry"
fi
kill "$empty_bus"
wait "$empty_bus" || true
cleanup_pop

# kill: to every process of a machine made by "run".
"$BOXCTL" run "$dir/r1" -M r1 -- sh -c 'trap "echo got; exit 5" USR1; echo ready; while :; do sleep 0.1; done' >"$_sb_state/r1.out" 2>&1 &
machine_pids[r1]=$!
check "run machine registered" wait_for 10 ready r1
check "kill --signal=SIGUSR1 --kill-whom=all" "$BOXCTL" kill --signal=SIGUSR1 --kill-whom=all r1
finish_machine r1
is "$rc" 5 "...the command got the signal"
ok "...and its trap ran" grep -q '^got$' "$_sb_state/r1.out"

# reboot, then terminate
check "reboot bb" "$BOXCTL" reboot bb
rebooted() {
        local l
        l=$(machine_leader bb 2>/dev/null) && [[ $l != "$bb_leader" ]] && guest_exec bb pidof sleep >/dev/null
}
check "...a new init runs" wait_for 15 rebooted
check "...boxctl keeps running" kill -0 "${machine_pids[bb]}"
new_leader=$(machine_leader bb)
check "...registered again with the new leader" wait_for 10 leader_shown bb "$new_leader"
check "terminate bb" "$BOXCTL" terminate bb
finish_machine bb
ok "...ends its boxctl with a failure status ($rc)" test "$rc" -ne 0
check "...and it is no longer listed" wait_for 10 not_listed bb

# poweroff: systemd takes SIGRTMIN+4; for busybox init boxd sends what it takes.
check "poweroff deb" "$BOXCTL" poweroff deb
finish_machine deb
is "$rc" 0 "...the Debian machine powers off, exit 0"
ok "...through systemd's shutdown" grep -q "Powering off" "$_sb_state/console-deb"
boot_machine bb "$dir/bb"
check "busybox booted again" wait_for 15 listed bb
check "...its init is up" wait_for 30 guest_exec bb pidof sleep
check "poweroff bb" "$BOXCTL" poweroff bb
finish_machine bb
is "$rc" 0 "...the busybox machine powers off, exit 0"
ok "...through its shutdown action" grep -q boxctl-busybox-shutdown "$_sb_state/console-bb"
no_machines() { [[ $("$BOXCTL" list) == "No machines." ]]; }
check "nothing is listed any more" wait_for 10 no_machines
is "$("$BOXCTL" list --no-legend)" "" "list --no-legend with no machines: nothing"

bus_stop
leaks_check
