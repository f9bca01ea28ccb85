#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# boxd, the machine registry, on a real dbus-daemon with the project's own
# bus policy: the org.freedesktop.machine1 API, bad input, access control,
# leaders that die, a restart, machines that boxctl registers, and the stock
# machinectl (Debian's systemd-container) as a client.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

M1=org.freedesktop.machine1
MGR=/org/freedesktop/machine1

bus_start
boxd_start

# Processes of this test that may have ended by the time the clean-ups run.
kill_quiet() { kill "$@" 2>/dev/null || true; }

# call [--as-nobody] METHOD ARGS...: dbus-send to the Manager; prints the reply,
# or "Error NAME: message" on stderr (dbus-send names the error, busctl not).
call() {
        local pre=()
        if [[ $1 == --as-nobody ]]; then
                pre=(setpriv --reuid=65534 --regid=65534 --clear-groups)
                shift
        fi
        local method=$1
        shift
        "${pre[@]}" dbus-send --system --print-reply --dest=$M1 $MGR "$M1.Manager.$method" "$@"
}
# call_error METHOD ARGS...: the D-Bus error name the call fails with.
call_error() {
        local e
        e=$(call "$@" 2>&1 >/dev/null) && { echo "(no error)"; return; }
        e=${e#Error }
        echo "${e%%:*}"
}
n_machines() { busctl --system call $M1 $MGR $M1.Manager ListMachines | awk '{print $2}'; }
register() { # NAME LEADER [ROOT]
        call RegisterMachine string:"$1" array:byte: string:test string:container uint32:"$2" string:"${3:-/srv/$1}"
}

busctl --system monitor $M1 >"$_sb_state/monitor" 2>&1 &
monitor=$!
cleanup_push kill_quiet "$monitor"
wait_for 5 grep -q "Monitoring bus message stream" "$_sb_state/monitor" || bail_out "busctl monitor did not start"

# The API as introspection shows it.
intro=$(busctl --system introspect $M1 $MGR $M1.Manager)
for m in "GetMachine s o" "GetMachineByPID u o" "ListMachines - a(ssso)" "CreateMachine sayssusa(sv) o" \
         "CreateMachineWithNetwork sayssusaia(sv) o" "RegisterMachine sayssus o" \
         "RegisterMachineWithNetwork sayssusai o" "UnregisterMachine s -" "TerminateMachine s -" \
         "KillMachine ssi -" "GetMachineAddresses s a(iay)" "GetMachineOSRelease s a{ss}" \
         "GetMachineUIDShift s u"; do
        set -- $m
        ok "introspection: $1($2) -> $3" grep -qE "^\.$1 +method +$(printf '%s' "$2" | sed 's/[()]/\\&/g') +$(printf '%s' "$3" | sed 's/[()]/\\&/g') " <<<"$intro"
done
ok "introspection: MachineNew and MachineRemoved signals" bash -c "grep -q '^.MachineNew *signal *so' <<<'$intro' && grep -q '^.MachineRemoved *signal *so' <<<'$intro'"

# A second registry on the same bus refuses to start.
rc=0; err=$("$BOXD" 2>&1) || rc=$?
ok "a second boxd exits non-zero" test "$rc" -ne 0
ok "...saying the name is taken" grep -q "already owned" <<<"$err"

# Fake machines: a sleep as the leader.
sleep 300 & l1=$!
sleep 300 & l2=$!
cleanup_push kill_quiet "$l1" "$l2"
check "RegisterMachine" register one "$l1"
is "$(n_machines)" 1 "ListMachines lists it"
check "the object path escapes the name" busctl --system get-property $M1 "$MGR/machine/one" $M1.Machine Leader
is "$(busctl --system get-property $M1 "$MGR/machine/one" $M1.Machine Leader)" "u $l1" "Leader property"
is "$(busctl --system get-property $M1 "$MGR/machine/one" $M1.Machine RootDirectory)" 's "/srv/one"' "RootDirectory property"
is "$(busctl --system get-property $M1 "$MGR/machine/one" $M1.Machine Class)" 's "container"' "Class property"
check "the state file exists" test -f /run/boxctl/machines/one
check "a machine name with a hyphen" register two-b "$l2"
is "$(busctl --system call $M1 $MGR $M1.Manager GetMachine s two-b)" 'o "/org/freedesktop/machine1/machine/two_2db"' "machine1 path escaping (- as _2d)"
is "$(busctl --system call $M1 $MGR $M1.Manager GetMachineByPID u "$l2")" 'o "/org/freedesktop/machine1/machine/two_2db"' "GetMachineByPID"
check "MachineNew was sent" wait_for 3 grep -q "Member=MachineNew" "$_sb_state/monitor"

# Bad input: clear errors, and the registry stays as it was.
sleep 300 & l3=$!
cleanup_push kill_quiet "$l3"
is "$(call_error RegisterMachine string:"bad name" array:byte: string:t string:container uint32:$l3 string:/)" \
        org.freedesktop.DBus.Error.InvalidArgs "an invalid name"
is "$(call_error RegisterMachine string:"$(printf 'a%.0s' {1..65})" array:byte: string:t string:container uint32:$l3 string:/)" \
        org.freedesktop.DBus.Error.InvalidArgs "a name of 65 characters"
is "$(call_error RegisterMachine string:one array:byte: string:t string:container uint32:$l3 string:/)" \
        org.freedesktop.machine1.MachineExists "a name already registered"
is "$(call_error RegisterMachine string:three array:byte: string:t string:container uint32:$l1 string:/)" \
        org.freedesktop.machine1.MachineExists "a leader already registered"
is "$(call_error RegisterMachine string:three array:byte: string:t string:container uint32:1 string:/)" \
        org.freedesktop.DBus.Error.InvalidArgs "leader PID 1"
is "$(call_error RegisterMachine string:three array:byte: string:t string:container uint32:4000000 string:/)" \
        org.freedesktop.DBus.Error.InvalidArgs "a leader that does not exist"
is "$(call_error RegisterMachine string:three array:byte:1,2,3 string:t string:container uint32:$l3 string:/)" \
        org.freedesktop.DBus.Error.InvalidArgs "an id of the wrong length"
is "$(call_error RegisterMachine string:three array:byte: string:t string:toaster uint32:$l3 string:/)" \
        org.freedesktop.DBus.Error.InvalidArgs "an unknown class"
is "$(call_error RegisterMachine string:three array:byte: string:t string:container uint32:$l3 string:relative)" \
        org.freedesktop.DBus.Error.InvalidArgs "a relative root directory"
is "$(call_error GetMachine string:nope)" org.freedesktop.machine1.NoSuchMachine "GetMachine of an unknown machine"
is "$(call_error TerminateMachine string:nope)" org.freedesktop.machine1.NoSuchMachine "TerminateMachine of an unknown machine"
is "$(call_error KillMachine string:one string:everyone int32:15)" org.freedesktop.DBus.Error.InvalidArgs "KillMachine with an unknown whom"
is "$(call_error KillMachine string:one string:all int32:0)" org.freedesktop.DBus.Error.InvalidArgs "KillMachine with signal 0"
is "$(call_error GetMachineByPID uint32:$l3)" org.freedesktop.machine1.NoMachineForPID "GetMachineByPID of a stranger"
is "$(call_error GetMachineAddresses string:one)" org.freedesktop.DBus.Error.NotSupported "no addresses for a machine on the host's network"
is "$(n_machines)" 2 "the registry is unchanged by all that"

# Access: anyone may read; only root may change.
is "$(call --as-nobody ListMachines 2>&1 | grep -c 'object path "/org/freedesktop/machine1/machine/')" 2 "a non-root caller may list"
check "a non-root caller may get a machine" call --as-nobody GetMachine string:one
for args in "RegisterMachine string:x array:byte: string:t string:container uint32:$l3 string:/" \
            "KillMachine string:one string:all int32:15" "TerminateMachine string:one" "UnregisterMachine string:one"; do
        # shellcheck disable=SC2086
        is "$(call_error --as-nobody $args)" org.freedesktop.DBus.Error.AccessDenied "a non-root caller may not ${args%% *}"
done
is "$(n_machines)" 2 "...and nothing changed"
check "the leaders were not signalled" kill -0 "$l1" "$l2"

# A machine whose leader has its own network namespace has addresses.
unshare --net sh -c 'ip link set lo up && ip addr add 192.0.2.7/32 dev lo && exec sleep 300' &
l4=$!
cleanup_push kill_quiet "$l4"
own_netns() {
        [[ $(readlink "/proc/$l4/ns/net") != "$(readlink /proc/self/ns/net)" ]] &&
                nsenter -t "$l4" -n ip -4 -o addr show dev lo | grep -q 192.0.2.7
}
check "the leader has its own network namespace, with its address" wait_for 3 own_netns
check "register one in its own network namespace" register netted "$l4"
is "$(busctl --system call $M1 $MGR $M1.Manager GetMachineAddresses s netted)" \
        "a(iay) 1 2 4 192 0 2 7" "GetMachineAddresses reads them from its namespace (host-scope ones left out)"

# A leader that dies takes its entry with it.
kill "$l2"
wait "$l2" 2>/dev/null || true
check "a dead leader's machine leaves the registry" wait_for 3 bash -c "! busctl --system call $M1 $MGR $M1.Manager GetMachine s two-b >/dev/null 2>&1"
check "MachineRemoved was sent" wait_for 3 grep -q "Member=MachineRemoved" "$_sb_state/monitor"
check "...and its state file is gone" test ! -e /run/boxctl/machines/two-b
check "UnregisterMachine" call UnregisterMachine string:netted
kill "$l4"
wait "$l4" 2>/dev/null || true

# boxd restarted: it adopts the machines still alive and drops the dead.
register four "$l3" >/dev/null
boxd_stop
kill "$l3"
wait "$l3" 2>/dev/null || true
boxd_start
is "$(busctl --system call $M1 $MGR $M1.Manager ListMachines)" \
        'a(ssso) 1 "one" "container" "test" "/org/freedesktop/machine1/machine/one"' \
        "after a restart boxd lists the live machine, not the one that died meanwhile"
check "...and it still watches it" bash -c "kill $l1; for i in \$(seq 30); do busctl --system call $M1 $MGR $M1.Manager ListMachines | grep -q '^a(ssso) 0' && exit 0; sleep 0.1; done; exit 1"
wait "$l1" 2>/dev/null || true
check "the dead machine's state file was dropped" test ! -e /run/boxctl/machines/four

# A real machine, registered by boxctl.
tree=$(test_tmpdir)/busybox
cp -a "$(fixture_busybox)" "$tree"
"$BOXCTL" boot "$tree" -M bb >"$_sb_state/bb.console" 2>&1 &
bb=$!
cleanup_push kill -KILL "$bb"
check "boxctl boot registers the machine" wait_for 5 busctl --system call $M1 $MGR $M1.Manager GetMachine s bb
leader=$(machine_leader bb)
is "$(busctl --system get-property $M1 "$MGR/machine/bb" $M1.Machine Leader)" "u $leader" "its leader is the machine's PID 1"
is "$(busctl --system get-property $M1 "$MGR/machine/bb" $M1.Machine Service)" 's "boxctl"' "its service is boxctl"
is "$(busctl --system get-property $M1 "$MGR/machine/bb" $M1.Machine Unit)" 's "machine-bb.scope"' "its unit is its cgroup"
check "GetMachineByPID finds it from a process inside it" wait_for 5 bash -c \
        "p=\$(pgrep -P $leader sleep) && busctl --system call $M1 $MGR $M1.Manager GetMachineByPID u \$p | grep -q machine/bb"
is "$(busctl --system call $M1 $MGR $M1.Manager GetMachineUIDShift s bb)" "u 0" "its UID shift is 0 (no user namespace)"
ok "GetMachineOSRelease reads the machine's os-release" grep -q '"ID" "busybox"' <<<"$(busctl --system call $M1 $MGR $M1.Manager GetMachineOSRelease s bb)"
id=$(busctl --system get-property $M1 "$MGR/machine/bb" $M1.Machine Id | cut -d' ' -f3- | xargs printf '%02x')
ok "its Id is the container_uuid the machine got" grep -q "container_uuid=$(sed 's/\(........\)\(....\)\(....\)\(....\)/\1-\2-\3-\4-/' <<<"$id")" <(tr '\0' '\n' </proc/$leader/environ)

# The stock machinectl against boxd. machinectl insists that the host booted
# with systemd (/run/systemd/system exists); this sandbox has its own /run.
mkdir -p /run/systemd/system
ml=$(machinectl list --no-pager)
ok "machinectl list shows the machine" grep -qE "^bb +container +boxctl +busybox" <<<"$ml"
diag "$ml"
rc=0; ms=$(machinectl status bb --no-pager 2>&1) || rc=$?
ok "machinectl status shows its leader" grep -q "Leader: $leader" <<<"$ms"
ok "machinectl status shows its root" grep -q "Root: $tree" <<<"$ms"
ok "machinectl status shows its OS" grep -q "OS: BusyBox" <<<"$ms"
diag "$ms"
check "machinectl poweroff powers a busybox machine off (boxd translates SIGRTMIN+4 to SIGUSR2)" machinectl poweroff bb
rc=0; wait "$bb" || rc=$?
cleanup_pop
is "$rc" 0 "...and boxctl exits 0"
check "boxctl unregistered it" bash -c "! busctl --system call $M1 $MGR $M1.Manager GetMachine s bb 2>/dev/null"

"$BOXCTL" boot "$tree" -M bb >"$_sb_state/bb.console" 2>&1 &
bb=$!
cleanup_push kill -KILL "$bb"
check "booted again" wait_for 5 busctl --system call $M1 $MGR $M1.Manager GetMachine s bb
check "machinectl terminate" machinectl terminate bb
rc=0; wait "$bb" || rc=$?
cleanup_pop
ok "...ends it (boxctl exits $rc)" test "$rc" -ne 0

deb=$(test_tmpdir)/debian
cp -a "$(fixture_debian)" "$deb"
"$BOXCTL" boot "$deb" -M deb >"$_sb_state/deb.console" 2>&1 &
db=$!
cleanup_push kill -KILL "$db"
wait_for 30 guest_exec deb test -S /run/systemd/private || true
is "$(guest_exec deb systemctl is-system-running --wait 2>&1)" running "a Debian machine is up"
ok "machinectl list shows its OS and version" grep -qE "^deb +container +boxctl +debian +12" <<<"$(machinectl list --no-pager)"
check "machinectl poweroff of a systemd machine" machinectl poweroff deb
rc=0; wait "$db" || rc=$?
cleanup_pop
is "$rc" 0 "...ends it cleanly, exit 0"
rmdir /run/systemd/system

# boxctl on a bus with no registry at all: --register=auto goes on, =yes fails.
bus_stop
rc=0; err=$("$BOXCTL" run "$tree" -- true 2>&1) || rc=$?
is "$rc" 0 "without a registry, --register=auto goes on"
ok "...with one warning line" bash -c "[[ \$(wc -l <<<'$err') == 1 && '$err' == *'no machine registry'* ]]"
rc=0; err=$("$BOXCTL" run --register=yes "$tree" -- true 2>&1) || rc=$?
ok "without a registry, --register=yes fails with one line ($err)" bash -c "[[ $rc -ne 0 && \$(wc -l <<<'$err') == 1 ]]"

# The units and their activation file pass systemd-analyze verify.
units=$(test_tmpdir)
cp "$BOXCTL_BUILDDIR/units/test-boxd.service" "$units/boxd.service"
cp "$BOXCTL_BUILDDIR/units/test-box@.service" "$units/box@.service"
# Hosts with systemd-container have machined's unit, which claims the same bus
# name: systemd-analyze notes that, and it is the point of Conflicts=.
out=$(cd "$units" && SYSTEMD_UNIT_PATH=$units: systemd-analyze verify --man=no boxd.service box@deb.service 2>&1 |
        grep -v -e 'Failed to put bus name to hashmap' -e 'systemd-machined.service: Two services allocated' || true)
is "$out" "" "systemd-analyze verify boxd.service box@.service: nothing to say"
sed 's/^Type=dbus/Type=bogus/' "$units/boxd.service" >"$units/broken.service"
ok "...and the check catches a broken unit" bash -c "cd '$units' && SYSTEMD_UNIT_PATH='$units': systemd-analyze verify --man=no broken.service 2>&1 | grep -q 'Failed to parse service type'"

kill_quiet "$monitor"
wait "$monitor" 2>/dev/null || true
leaks_check
