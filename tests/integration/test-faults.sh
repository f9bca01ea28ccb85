#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Nothing left after a SIGKILLed supervisor: a `boxctl boot` or a background
# `boxctl start` killed while its machine runs leaves no scope, no v1 cgroups,
# no lock files, no runtime files and no registry entry, whether boxd removes
# them (it sees the leader die after its supervisor) or, without boxd, the
# next start of any machine sweeps them. Also: boxd SIGKILLed and restarted
# adopts a running machine once; a guest init that crashes or is killed from
# the host ends boxctl with 128+N and everything cleaned.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

R=/run/boxctl
dir=$(realpath "$(test_tmpdir)")
for t in fa fb fc fd fe fg other; do
        cp -a "$(fixture_busybox)" "$dir/$t"
done
# A guest init that crashes: a store to address 0, no libc needed.
if ! printf 'void _start(void) { *(volatile int *) 0 = 0; for (;;) ; }\n' |
        cc -nostdlib -static -O0 -o "$dir/segv" -x c - 2>"$_sb_state/cc.log"; then
        diag "$(cat "$_sb_state/cc.log")"
        bail_out "cannot build the crashing init (cc -nostdlib -static)"
fi
cp -a "$(fixture_busybox)" "$dir/crash"
rm -f "$dir/crash/sbin/init"
install -m 0755 "$dir/segv" "$dir/crash/sbin/init"

# The machine's v1 cgroups, seen through mounts of the v1 hierarchies of our
# own: the unified layout hides them from /sys/fs/cgroup.
v1=$_sb_tmp/v1
v1_mounts=()
while IFS=: read -r id ctrl _; do
        [[ $id != 0 && -n $ctrl ]] || continue
        opts=$ctrl
        [[ $ctrl == name=* && $ctrl != *,* ]] && opts=none,$ctrl
        mkdir -p "$v1/$id"
        mount -t cgroup -o "$opts" "boxctl-test-$id" "$v1/$id" && v1_mounts+=("$v1/$id")
done </proc/self/cgroup
v1_umount() {
        local m
        for m in "${v1_mounts[@]}"; do
                umount "$m" 2>/dev/null || true
        done
        v1_mounts=()
}
cleanup_push v1_umount
diag "v1 hierarchies: ${#v1_mounts[@]}"

# The leftovers of machine NAME, one per line, empty when none.
leftovers() {
        local name=$1 m f
        machine_scope_dirs "$name" | sed 's/^/scope /'
        for m in "${v1_mounts[@]}"; do
                [[ -d $m/machine.slice/machine-$name.scope ]] && echo "v1 cgroup $m/machine.slice/machine-$name.scope"
        done
        for f in "$R/consoles/$name" "$R/notify/$name" "$R/logs/$name.log" "$R/seccomp/machine-$name" "$R/machines/$name"; do
                [[ -e $f ]] && echo "runtime file $f"
        done
        find "$R/locks" "$R/uidranges" -name '*.lock' 2>/dev/null | sed 's/^/lock file /'
        return 0
}
clean() { [[ -z $(leftovers "$1") ]]; }
# Every mount of the machine's tree is gone (its mount namespace died with it).
tree_unmounted() { ! grep -qF " $1" /proc/self/mountinfo && ! grep -sqF " $1" /proc/*/mountinfo; }
# PID has exited (a zombie its new parent has not reaped yet counts).
gone() { [[ ! -e /proc/$1/stat || $(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) == [ZX]* ]]; }
# The scope is older than the grace a sweep gives a scope nobody uses yet (5 s).
scope_older() {
        local d
        d=$(machine_scope_dirs "$1") && [[ -n $d ]] || return 1
        # cgroupfs has no birth time: the directory's mtime, as the sweep reads it.
        (($(date +%s) - $(stat -c %Y "$d") > 5))
}
booted() { guest_exec "$1" pidof sleep >/dev/null 2>&1; }
listed() { "$BOXCTL" list --no-legend 2>/dev/null | grep -q "^$1 "; }
n_listed() { "$BOXCTL" list --no-legend 2>/dev/null | grep -c "^$1 " || true; }
kill_quiet() { kill -KILL "$@" 2>/dev/null || true; }

# (b) Without boxd (no bus at all): the next start of another tree sweeps.
# (Not -U: a machine in a user namespace outlives its SIGKILLed boxctl, as its
# PID 1 loses PR_SET_PDEATHSIG when it becomes root there; only boxd kills it.)
boot_machine fb "$dir/fb" --register=no --system-call-filter='~@obsolete'
check "(b) machine booted (a system call filter)" wait_for 30 booted fb
leader=$(machine_leader fb)
ok "(b) it has a system call filter record" test -e "$R/seccomp/machine-fb"
kill -KILL "${machine_pids[fb]}"
finish_machine fb
is "$rc" 137 "(b) the SIGKILLed boxctl boot exits 137"
check "(b) its leader died with it" wait_for 10 gone "$leader"
check "(b) its empty scope is left (nobody to remove it yet)" test -n "$(machine_scope_dirs fb)"
ok "(b) its lock file is left" bash -c "ls $R/locks/*.lock >/dev/null"
# A sweep leaves a scope alone for its first seconds (a supervisor may be about to use it).
check "(b) the scope gets old enough to be swept" wait_for 10 scope_older fb
check "(b) the next start, of another tree, runs" "$BOXCTL" run --register=no "$dir/other" -- true
if ! ok "(b) ...and has removed what the killed one left" clean fb; then
        diag "$(leftovers fb)"
        diag "now $(date +%s); scope: $(stat -c 'mtime %Y ctime %Z' "$(machine_scope_dirs fb)" 2>&1)"
fi
check "(b) the tree is not mounted anywhere" tree_unmounted "$dir/fb"

# (e) The guest's init crashes: SIGSEGV, then SIGKILL from the host.
rc=0
"$BOXCTL" boot --register=no "$dir/crash" >"$_sb_state/console-crash" 2>&1 || rc=$?
is "$rc" 139 "(e) an init killed by SIGSEGV: boxctl exits 139"
ok "(e) ...and says so" grep -q "killed by signal 11" "$_sb_state/console-crash"
check "(e) ...and leaves nothing" clean crash
boot_machine fe "$dir/fe" --register=no
check "(e) machine booted" wait_for 30 booted fe
kill -KILL "$(machine_leader fe)"
finish_machine fe
is "$rc" 137 "(e) an init SIGKILLed from the host: boxctl exits 137"
check "(e) ...and leaves nothing" clean fe
check "(e) the tree is not mounted anywhere" tree_unmounted "$dir/fe"

# With boxd from here on.
bus_start
boxd_start

# (a) A foreground boot SIGKILLed: boxd removes what it left.
boot_machine fa "$dir/fa" -U
check "(a) machine booted (-U)" wait_for 30 booted fa
check "(a) it is registered" wait_for 10 listed fa
ok "(a) it has a UID range lock" bash -c "ls $R/uidranges/*.lock >/dev/null"
leader=$(machine_leader fa)
t0=$(_now_us)
kill -KILL "${machine_pids[fa]}"
finish_machine fa
is "$rc" 137 "(a) the SIGKILLed boxctl boot exits 137"
check "(a) boxd lists it no more" wait_for 1 bash -c "! $(printf %q "$BOXCTL") list --no-legend | grep -q '^fa '"
if ! check "(a) boxd has removed its scope, v1 cgroups, locks and runtime files" wait_for 1 clean fa; then
        diag "$(leftovers fa)"
fi
diag "(a) all gone $((($(_now_us) - t0) / 1000)) ms after the SIGKILL"
check "(a) its leader is gone" gone "$leader"
check "(a) the tree is not mounted anywhere" tree_unmounted "$dir/fa"
ok "(a) boxd said why" grep -q "supervisor (PID [0-9]*) is gone too" "$_sb_state/boxd.log"

# (c) A background start whose supervisor is SIGKILLed.
check "(c) boxctl start" "$BOXCTL" start "$dir/fc" --wait=registered
check "(c) machine booted" wait_for 30 booted fc
leader=$(machine_leader fc)
sup=$(ps -o ppid= -p "$leader" | tr -d ' ')
ok "(c) the supervisor is a boxctl" test "/proc/$sup/exe" -ef "$BOXCTL"
cleanup_push kill_quiet "$sup"
ok "(c) its console socket and log are there" test -S "$R/consoles/fc" -a -e "$R/logs/fc.log"
t0=$(_now_us)
kill -KILL "$sup"
check "(c) boxd lists it no more" wait_for 1 bash -c "! $(printf %q "$BOXCTL") list --no-legend | grep -q '^fc '"
if ! check "(c) boxd has removed its scope, v1 cgroups, locks, console socket and log" wait_for 1 clean fc; then
        diag "$(leftovers fc)"
fi
diag "(c) all gone $((($(_now_us) - t0) / 1000)) ms after the SIGKILL"
check "(c) its leader is gone" gone "$leader"
check "(c) the tree is not mounted anywhere" tree_unmounted "$dir/fc"

# (d) boxd SIGKILLed and restarted while a machine runs.
boot_machine fd "$dir/fd"
check "(d) machine booted" wait_for 30 booted fd
check "(d) it is registered" wait_for 10 listed fd
kill -KILL "$_boxd_pid"
wait "$_boxd_pid" 2>/dev/null || true
_boxd_pid=
check "(d) boxd is gone" wait_for 5 bash -c '! busctl --system status org.freedesktop.machine1 >/dev/null 2>&1'
boxd_start
check "(d) the restarted boxd adopted it" wait_for 5 listed fd
is "$(n_listed fd)" 1 "(d) ...and lists it once"
check "(d) boxctl poweroff still works" "$BOXCTL" poweroff fd
finish_machine fd
is "$rc" 0 "(d) the machine powered off: boxctl boot exits 0"
check "(d) ...and leaves nothing" wait_for 1 clean fd
check "(d) ...nor a registry entry" wait_for 1 bash -c "! $(printf %q "$BOXCTL") list --no-legend | grep -q '^fd '"

# (d) A machine whose supervisor is SIGKILLed while boxd is away: the restarted
# boxd drops it and removes what it left.
boot_machine fg "$dir/fg"
check "(d) another machine booted" wait_for 30 booted fg
check "(d) it is registered" wait_for 10 listed fg
leader=$(machine_leader fg)
kill -KILL "$_boxd_pid"
wait "$_boxd_pid" 2>/dev/null || true
_boxd_pid=
kill -KILL "${machine_pids[fg]}"
finish_machine fg
check "(d) its leader died with its boxctl" wait_for 10 gone "$leader"
check "(d) ...leaving its scope behind" test -n "$(machine_scope_dirs fg)"
boxd_start
check "(d) the restarted boxd does not list it" wait_for 1 bash -c "! $(printf %q "$BOXCTL") list --no-legend | grep -q '^fg '"
if ! check "(d) ...and has removed what it left" wait_for 1 clean fg; then
        diag "$(leftovers fg)"
fi

# (f)
bus_stop
v1_umount
leaks_check
