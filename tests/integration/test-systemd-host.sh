#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# On a host whose PID 1 is systemd, "boxctl start" runs the machine as a
# transient unit of systemd's (box-NAME.service), and "boxctl enable" links
# box@NAME.service into machines.target.wants. This host has no systemd as
# PID 1, so the test makes one: the Debian fixture, booted (--ephemeral, so
# the fixture stays as it is) with the build directory, the busybox fixture
# and the project's units bound into it read-only. The build's boxctl then
# runs INSIDE that machine, entered with "boxctl shell" (the guest's seccomp
# filter and capabilities, as a person there would have them), and starts a
# nested busybox machine: systemd there knows the unit and its main process,
# list/status/shell/console/poweroff/stop work on it, --wait's errors hold,
# enable makes the wants link (and box@.service starts the machine), disable
# removes it.
#
# Nesting needs one widening of the outer machine's filter, given on purpose:
# --system-call-filter=bpf, for the nested machine's device policy (a cgroup
# BPF program). See the README's "Machines as systemd units".
#
# The inside is always a pure cgroup2 hierarchy, whatever the host's layout:
# the test runs on one layout only.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

bus_start
boxd_start

build=$(realpath "${BOXCTL_BUILDDIR:?}")
bin=$(realpath "$BOXCTL")
deb=$(fixture_debian)
bb=$(fixture_busybox)

# g CMD...: CMD inside machine sysd, as "boxctl shell" runs it.
g() { "$BOXCTL" shell sysd -- "$@"; }
# n ARGS...: the build's boxctl, inside sysd.
n() { g "$bin" "$@"; }
has() { [[ $2 == *"$1"* ]]; } # has NEEDLE HAYSTACK
unit_prop() { g systemctl show -p "$2" --value "$1"; } # unit_prop UNIT PROPERTY
unit_gone() { [[ $(unit_prop "$1" LoadState) == not-found ]]; }
nested_listed() { n list --no-legend | grep -q "^$1 "; }

# The libraries the build's binaries need and the Debian tree lacks (a
# sanitized build's runtime, say): the host's files, bound read-only.
lib_binds=()
while read -r lib; do
        [[ -e $deb$lib ]] || lib_binds+=("--bind-ro=$lib")
done < <(ldd "$bin" "$build/src/boxd/boxd" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// && $2 ~ /^\(/ { print $1 }' | sort -u)
diag "host libraries bound into the guest: ${#lib_binds[@]}"

# boxd on the guest's bus: its policy, its unit and its activation file, as
# "meson install" puts them, naming the build's binaries. box@.service too.
t0=$(_now_us)
rc=0
"$BOXCTL" start -x -M sysd "$deb" --system-call-filter=bpf --bind-ro="$build" --bind-ro="$bb:/srv/bb" \
        --bind-ro="$BOXCTL_SRCDIR/units/boxd.conf:/etc/dbus-1/system.d/boxd.conf" \
        --bind-ro="$build/units/test-boxd.service:/etc/systemd/system/boxd.service" \
        --bind-ro="$build/units/test-org.freedesktop.machine1.service:/usr/share/dbus-1/system-services/org.freedesktop.machine1.service" \
        --bind-ro="$build/units/test-box@.service:/etc/systemd/system/box@.service" \
        "${lib_binds[@]}" || rc=$?
is "$rc" 0 "the Debian machine with systemd starts (ephemeral, build directory bound in)"
cleanup_push "$BOXCTL" stop --kill-timeout=10 sysd
# systemctl needs the manager's socket, made early in the boot.
wait_for 30 g test -S /run/systemd/private >/dev/null 2>&1 || true
is "$(g timeout 60 systemctl is-system-running --wait 2>&1 || true)" running "systemd inside is up, no failed unit"
t1=$(_now_us)
diag "the outer machine up: $(((t1 - t0) / 1000)) ms"
is "$(g sh -c "ldd $bin $build/src/boxd/boxd | grep -c 'not found'" || true)" 0 "the build's boxctl and boxd find their libraries inside"

# --- start: a transient unit that systemd tracks ---
g sh -c 'mkdir -p /var/lib/machines && cp -a /srv/bb /var/lib/machines/bb'
rc=0
out=$(n start --wait=ready bb 2>&1) || rc=$?
is "$rc:$out" "0:" "nested: start --wait=ready bb (from the pool) as the guest's root: exit 0, nothing said"
t2=$(_now_us)
diag "nested start --wait=ready: $(((t2 - t1) / 1000)) ms"
is "$(unit_prop box-bb.service ActiveState)" active "systemd inside: box-bb.service is active"
is "$(unit_prop box-bb.service Transient)" yes "...a transient unit"
main=$(unit_prop box-bb.service MainPID)
cmd=$(g cat "/proc/$main/cmdline" | tr '\0' ' ')
ok "...its MainPID ($main) is the supervisor: $cmd" has "$bin start --supervise=/run/boxctl/start/bb." "$cmd"
status=$(g systemctl status --no-pager box-bb.service 2>&1 || true)
ok "systemctl status box-bb.service: running, the supervisor as its main process" \
        bash -c 'grep -q "Active: active (running)" <<<"$1" && grep -q "Main PID: $2 (boxctl)" <<<"$1"' _ "$status" "$main"
ok "...its cgroup is in machine.slice" grep -q "CGroup: /machine.slice/box-bb.service" <<<"$status"
check "list inside shows bb" nested_listed bb
out=$(n status bb 2>&1) || true
ok "status bb: its leader and its init" bash -c 'grep -q "Leader:" <<<"$1" && grep -q "init" <<<"$1"' _ "$out"
is "$(n shell bb -- /bin/echo in-nested 2>&1)" in-nested "shell bb runs a command in the nested machine"
ok "the supervisor's output goes to the journal" bash -c "'$BOXCTL' shell sysd -- journalctl -u box-bb.service --no-pager | grep -q 'Booting machine bb'"

# The console: a reader without a terminal, in the background inside sysd,
# gets the scroll-back.
reader=$(g sh -c "$bin console --read-only bb </dev/null >/tmp/console.out 2>&1 & echo \$!")
check "console --read-only bb shows the console's scroll-back" wait_for 10 g grep -q boxctl-busybox-sysinit /tmp/console.out
g kill "$reader" || true

# --- errors, through the unit's report socket ---
fails_with "a second start of bb" "busy" n start bb
g sh -c 'mkdir -p /var/lib/machines/noinit/etc && cp /srv/bb/etc/os-release /var/lib/machines/noinit/etc/'
fails_with "start of a tree without init: the supervisor's words" "no init found" n start noinit
check "...its unit is gone" wait_for 10 unit_gone box-noinit.service

# --- poweroff and stop ---
check "poweroff bb" n poweroff bb
check "...the unit ends and is gone" wait_for 30 unit_gone box-bb.service
ok "...and the machine" bash -c "! '$BOXCTL' shell sysd -- '$bin' list --no-legend | grep -q '^bb '"
# What a killed starter leaves: a socket nobody is bound to. The next start sweeps it.
g sh -c 'nc -Uul /run/boxctl/start/gone.0 & p=$!; while [ ! -S /run/boxctl/start/gone.0 ]; do sleep 0.05; done; kill $p'
check "start bb again (--wait=registered)" n start bb
ok "...it swept the report socket a killed starter left" bash -c "! '$BOXCTL' shell sysd -- test -e /run/boxctl/start/gone.0"
check "stop bb: exit 0" n stop bb
check "...its unit is gone" wait_for 10 unit_gone box-bb.service
check "start bb again" n start bb
check "systemctl stop box-bb.service: SIGTERM to the supervisor powers the machine off" g systemctl stop box-bb.service
ok "...the machine is gone" bash -c "! '$BOXCTL' shell sysd -- '$bin' list --no-legend | grep -q '^bb '"
journal=$(g journalctl -u box-bb.service --no-pager -o cat)
is "$(grep -c '^box-bb.service: Deactivated successfully' <<<"$journal"):$(grep -c 'Failed with result' <<<"$journal")" "3:0" \
        "...all three runs of box-bb.service ended with exit 0 (the journal)"

# --- a wait that times out powers the machine off and leaves no unit ---
fails_with "start --wait=ready --wait-timeout=0.001" "was not ready within 0.001 s" \
        n start --wait=ready --wait-timeout=0.001 bb
check "...its unit is gone" wait_for 10 unit_gone box-bb.service
ok "...the machine is not listed" bash -c "! '$BOXCTL' shell sysd -- '$bin' list --no-legend | grep -q '^bb '"

# --- BOXCTL_SYSTEMD_UNITS=no: the detached supervisor, as where systemd is not PID 1 ---
check "BOXCTL_SYSTEMD_UNITS=no start bb" g env BOXCTL_SYSTEMD_UNITS=no "$bin" start bb
is "$(unit_prop box-bb.service LoadState)" not-found "...no unit"
check "...list shows it" nested_listed bb
check "...stop bb" n stop bb

# --- enable, box@.service, disable ---
link=/etc/systemd/system/machines.target.wants/box@bb.service
rc=0
out=$(n enable bb 2>&1) || rc=$?
ok "enable bb: exit $rc, says: $out" bash -c '(( $1 == 0 )) && grep -q "^Enabled machine bb" <<<"$2" && grep -q "^Created symlink $3 → /etc/systemd/system/box@.service\.$" <<<"$2"' _ "$rc" "$out" "$link"
is "$(g readlink "$link")" /etc/systemd/system/box@.service "...the link in machines.target.wants"
ok "...systemd sees it (is-enabled)" bash -c "'$BOXCTL' shell sysd -- systemctl is-enabled box@bb.service | grep -qx enabled"
rc=0
out=$(n enable bb 2>&1) || rc=$?
is "$rc:$out" "0:" "enable bb again: exit 0, nothing said"
check "systemctl start box@bb.service (Type=notify: returns once the machine is ready)" g systemctl start box@bb.service
check "...list shows it" nested_listed bb
main=$(unit_prop box@bb.service MainPID)
ok "...its main process is the supervisor" has "$bin start --supervise --quiet /var/lib/machines/bb" "$(g cat "/proc/$main/cmdline" | tr '\0' ' ')"
is "$(n shell bb -- /bin/echo via-template 2>&1)" via-template "...shell works on it"
check "stop bb ends box@bb.service" n stop bb
check "...inactive" wait_for 10 bash -c "[[ \$('$BOXCTL' shell sysd -- systemctl show -p ActiveState --value box@bb.service) == inactive ]]"
rc=0
out=$(n disable bb 2>&1) || rc=$?
ok "disable bb: exit $rc, says: $out" bash -c '(( $1 == 0 )) && grep -q "^Removed \"$2\"\.$" <<<"$3"' _ "$rc" "$link" "$out"
ok "...the link is gone" bash -c "! '$BOXCTL' shell sysd -- test -L '$link'"
rc=0
out=$(n disable bb 2>&1) || rc=$?
is "$rc:$out" "0:" "disable bb again: exit 0, nothing said"

is "$(g find /run/boxctl -path '*/start/*' ! -type d 2>&1)" "" "no report socket is left inside"

# --- and the outer machine ends cleanly ---
# Its console, for the log should the shutdown hang: the reader ends with it.
"$BOXCTL" console --read-only sysd </dev/null >"$_sb_state/console-sysd" 2>&1 &
reader=$!
check "stop the Debian machine: exit 0" "$BOXCTL" stop sysd
check "...its console's reader ends with it" wait "$reader"
cleanup_pop
diag "the whole test: $((($(_now_us) - t0) / 1000)) ms"
bus_stop
leaks_check
