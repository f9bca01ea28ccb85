#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Nothing left after a SIGKILLed supervisor: a `boxctl boot` or a background
# `boxctl start` killed while its machine runs leaves no scope, no v1 cgroups,
# no lock files, no runtime files and no registry entry, whether boxd removes
# them (it sees the leader die after its supervisor) or, without boxd, the
# next start of any machine sweeps them. Also: boxd SIGKILLed and restarted
# adopts a running machine once; a guest init that crashes or is killed from
# the host ends boxctl with 128+N and everything cleaned; the disk under a
# tree full (boot fails in one line, the tree unchanged; --ephemeral boots;
# a clone into a pool that fills up leaves nothing);
# no free UID range, no loop device (one line each, saying what to do); the
# dbus-daemon restarted under running machines (boxd serves them again).
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

R=/run/boxctl
dir=$(realpath "$(test_tmpdir)")
for t in fa fb fc fd fe fg fh fi fm other; do
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

# (i) The disk under the tree full. A small ext4 file system holds a copy of
# the tree without two of its mount points (/sys, /tmp), filled to the last
# block: boot must make them, so it fails, saying so, and leaves the tree as
# it was; an --ephemeral boot makes them in its overlay, so it boots, and the
# tree is unchanged too.
truncate -s 24M "$dir/small.ext4"
mkfs.ext4 -q -m 0 -N 2048 "$dir/small.ext4"
mkdir "$dir/small"
mount -o loop "$dir/small.ext4" "$dir/small"
small_umount() { umount "$dir/small" 2>/dev/null || true; }
cleanup_push small_umount
cp -a "$(realpath "$(fixture_busybox)")" "$dir/small/tree"
rmdir "$dir/small/tree/sys" "$dir/small/tree/tmp"
dd if=/dev/zero of="$dir/small/fill" bs=64k 2>/dev/null || true
dd if=/dev/zero of="$dir/small/fill2" bs=1k 2>/dev/null || true # the last blocks
ok "(i) the file system is full" bash -c "! mkdir '$dir/small/probe' 2>/dev/null"
before=$(tree_snapshot "$dir/small/tree")
rc=0
"$BOXCTL" boot --register=no -M fj "$dir/small/tree" >"$_sb_state/console-fj" 2>&1 </dev/null || rc=$?
is "$rc" 1 "(i) boot on a full disk fails"
is "$(cat "$_sb_state/console-fj")" "boxctl: $dir/small/tree: cannot create mount point /sys in the tree: No space left on device" \
        "(i) ...with one line naming the tree, what it needed and why"
is "$(tree_snapshot "$dir/small/tree")" "$before" "(i) ...and the tree is as it was"
check "(i) nothing is mounted on it" tree_unmounted "$dir/small/tree"
boot_machine fk "$dir/small/tree" --register=no --ephemeral
check "(i) an --ephemeral boot on the full disk comes up" wait_for 30 booted fk
check "(i) ...its guest can write (into its overlay)" guest_exec fk sh -c 'echo x >/root/written'
check "(i) ...it powers off" guest_shutdown fk poweroff
finish_machine fk
is "$rc" 0 "(i) ...boxctl exits 0"
is "$(tree_snapshot "$dir/small/tree")" "$before" "(i) ...and the tree is as it was"
check "(i) ...and leaves nothing" clean fk
small_umount
cleanup_pop

# Out of inodes after the first mount point: boxctl made /sys, then failed on
# /tmp; it takes /sys away again, and the tree is as it was, its times too.
mkdir "$dir/tiny"
mount -t tmpfs -o size=16m,nr_inodes=100000 boxctl-test-tiny "$dir/tiny"
tiny_umount() { umount "$dir/tiny" 2>/dev/null || true; }
cleanup_push tiny_umount
cp -a "$(realpath "$(fixture_busybox)")" "$dir/tiny/tree"
rmdir "$dir/tiny/tree/sys" "$dir/tiny/tree/tmp"
used=$(df --output=iused "$dir/tiny" | tail -n 1)
mount -o remount,nr_inodes=$((used + 1)) "$dir/tiny"
before=$(tree_snapshot "$dir/tiny/tree")
rc=0
"$BOXCTL" boot --register=no -M fl "$dir/tiny/tree" >"$_sb_state/console-fl" 2>&1 </dev/null || rc=$?
is "$rc" 1 "(i) out of inodes half-way: boot fails"
is "$(cat "$_sb_state/console-fl")" "boxctl: $dir/tiny/tree: cannot create mount point /tmp in the tree: No space left on device" \
        "(i) ...naming the mount point it could not make"
is "$(tree_snapshot "$dir/tiny/tree")" "$before" "(i) ...and the tree is as it was, the times of its root too"
check "(i) ...and leaves nothing" clean fl
# With room for the mount points, the guest fills the rest of the disk while
# it runs: it still powers off cleanly, and what boxctl made is gone.
mount -o remount,nr_inodes=$((used + 8)) "$dir/tiny"
boot_machine fl "$dir/tiny/tree" --register=no
check "(i) a machine on the nearly full file system boots" wait_for 30 booted fl
guest_exec fl dd if=/dev/zero of=/root/fill bs=64k >/dev/null 2>&1 || true
ok "(i) ...its guest filled the disk" bash -c "(($(df --output=avail "$dir/tiny" | tail -n 1) == 0))"
check "(i) ...it powers off" guest_shutdown fl poweroff
finish_machine fl
is "$rc" 0 "(i) ...boxctl exits 0"
rm -f "$dir/tiny/tree/root/fill"
is "$(tree_snapshot "$dir/tiny/tree" | grep -v '^root	')" "$(grep -v '^root	' <<<"$before")" \
        "(i) ...the tree is as it was (but for /root, where the guest wrote)"
check "(i) ...and leaves nothing" clean fl
tiny_umount
cleanup_pop

# A pool that fills up during a clone: room for the tree and half of its copy.
# The copy fails half-way, in one line naming the image and why; nothing of
# it is left, and the source is as it was.
mkdir "$dir/fullpool"
tree_kb=$(du -sk "$(realpath "$(fixture_busybox)")" | cut -f1)
mount -t tmpfs -o size=$((tree_kb * 3 / 2 + 64))k boxctl-test-fullpool "$dir/fullpool"
fullpool_umount() { umount "$dir/fullpool" 2>/dev/null || true; }
cleanup_push fullpool_umount
cp -a "$(realpath "$(fixture_busybox)")" "$dir/fullpool/src"
before=$(tree_snapshot "$dir/fullpool/src")
rc=0
err=$("$BOXCTL" clone --pool="$dir/fullpool" src copy 2>&1) || rc=$?
is "$rc" 1 "(i) clone into a pool that fills up fails"
ok "(i) ...in one line naming the image and the full disk: $err" \
        bash -c '[[ $1 == *src* && $1 == *"No space left on device"* && $1 != *$'"'"'\n'"'"'* ]]' _ "$err"
is "$(ls -A "$dir/fullpool")" "src" "(i) ...nothing of the copy is left in the pool (no copy, no .#copy.*)"
is "$(tree_snapshot "$dir/fullpool/src")" "$before" "(i) ...and the source is as it was"
fullpool_umount
cleanup_pop

# (j) Out of UID ranges: -U tries 256 ranges for a machine, from a hash of its
# name (src/core/userns.c); with all 256 held by others, boot says so in one
# line, with what to do. The ranges are held as other machines hold them: by
# a lock on /run/boxctl/uidranges/BASE.lock.
uid_candidates() {
        local name=$1 h=-3750763034362895579 i c slots=$(((0x6FFF0000 - 0x00080000) / 0x10000 + 1)) two64 r
        for ((i = 0; i < ${#name}; i++)); do
                printf -v c '%d' "'${name:i:1}"
                h=$(((h ^ c) * 0x100000001b3))
        done
        # h as unsigned 64 bits, modulo slots: 2^64 mod slots added for a negative h.
        two64=$(((((1 << 62) % slots) * 4) % slots))
        for ((i = 0; i < 256; i++)); do
                # h + i without overflowing into the sign: (h mod slots + i) mod slots
                r=$((h % slots))
                ((r < 0)) && r=$(((r + two64 + slots) % slots))
                echo $((0x00080000 + ((r + i) % slots) * 0x10000))
        done
}
mkdir -p "$R/uidranges"
mkfifo "$_sb_state/uid-hold.fifo"
uid_holder() {
        local b fd
        for b in $(uid_candidates fm); do
                exec {fd}>"$R/uidranges/$b.lock"
                flock -n "$fd" || exit 1
        done
        echo held >"$_sb_state/uid-held"
        # Holds the locks until it is killed: a read from a fifo nobody writes.
        read -r _ <"$_sb_state/uid-hold.fifo"
}
uid_holder &
holder=$!
# The holder's lock files go with it, as a machine's go with its boxctl.
uid_release() {
        local b
        kill "$holder" 2>/dev/null || true
        wait "$holder" 2>/dev/null || true
        for b in $(uid_candidates fm); do
                rm -f "$R/uidranges/$b.lock"
        done
}
cleanup_push uid_release
check "(j) another process holds the 256 UID ranges machine fm could have" wait_for 10 test -e "$_sb_state/uid-held"
rc=0
"$BOXCTL" boot --register=no -M fm -U "$dir/fm" >"$_sb_state/console-fm" 2>&1 </dev/null || rc=$?
is "$rc" 1 "(j) boot -U with no free UID range fails"
is "$(cat "$_sb_state/console-fm")" "boxctl: no free UID range for machine fm: the 256 ranges it may take are in use (locks in $R/uidranges); stop a machine that uses -U, or give this one a range with --private-users=BASE:SIZE" \
        "(j) ...with one line naming the resource and what to do"
uid_release
cleanup_pop
check "(j) ...and leaves nothing" clean fm
check "(j) with the ranges free again, it boots" "$BOXCTL" run --register=no -M fm -U "$dir/fm" -- true
check "(j) ...and leaves nothing" clean fm

# (k) No loop device to be had. This kernel makes loop devices on demand
# (LOOP_CTL_GET_FREE adds one when none is free; max_loop only bounds the
# ones made at boot or by opening a node), so "all taken" cannot be made
# without exhausting the host. What users do hit is a /dev without the loop
# devices: without /dev/loop-control (no loop driver, a container), or
# without the node of the device the kernel hands out (a /dev that is not a
# devtmpfs). Both are made here in a mount namespace of the boot's own.
cp "$("$BOXCTL_SRCDIR/tests/fixtures/make-images.sh")/ext4.raw" "$dir/fn.raw"
# boot_private_dev WITH_LOOP_CONTROL ARGS...: boxctl boot ARGS... with a /dev of
# the basic nodes, and /dev/loop-control if WITH_LOOP_CONTROL is yes, no loopN.
boot_private_dev() {
        local with=$1
        shift
        unshare --mount --propagation private -- bash -c '
                set -e
                d=$(mktemp -d "$2/dev.XXXXXX")
                mount -t tmpfs -o mode=0755 boxctl-test-dev "$d"
                cp -a /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty "$d"
                [[ $1 == yes ]] && cp -a /dev/loop-control "$d"
                mkdir "$d/pts" && mount --bind /dev/pts "$d/pts" && ln -s pts/ptmx "$d/ptmx"
                mount --move "$d" /dev
                rmdir "$d"
                shift 2
                exec "$BOXCTL" boot "$@" </dev/null' - "$with" "$_sb_tmp" "$@"
}
before=$(sha256sum <"$dir/fn.raw")
rc=0
boot_private_dev no --register=no -M fn "$dir/fn.raw" >"$_sb_state/console-fn" 2>&1 || rc=$?
is "$rc" 1 "(k) an image without /dev/loop-control: boot fails"
is "$(cat "$_sb_state/console-fn")" "boxctl: image $dir/fn.raw: cannot attach a loop device for its ext4 file system: no free loop device: there is no /dev/loop-control (load the loop driver: modprobe loop); or boot a directory tree" \
        "(k) ...with one line naming the resource and what to do"
check "(k) ...and leaves nothing" clean fn
rc=0
boot_private_dev yes --register=no -M fn "$dir/fn.raw" >"$_sb_state/console-fn" 2>&1 || rc=$?
is "$rc" 1 "(k) an image with no node for the free loop device: boot fails"
is "$(cat "$_sb_state/console-fn")" "boxctl: image $dir/fn.raw: cannot attach a loop device for its ext4 file system: no free loop device: the kernel has one, but /dev has no node for it (is /dev a devtmpfs?); or boot a directory tree" \
        "(k) ...with one line naming the resource and what to do"
check "(k) ...and leaves nothing" clean fn
is "$(sha256sum <"$dir/fn.raw")" "$before" "(k) the image is unchanged"
is "$(test_loops)" "" "(k) no loop device holds it"

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

# (h) The dbus-daemon restarted while machines run: boxd connects again and
# lists them again; a running boxctl boot keeps working (reboot re-registers,
# poweroff through the registry) and a background start stays controllable.
boot_machine fh "$dir/fh"
check "(h) machine booted" wait_for 30 booted fh
check "(h) it is registered" wait_for 10 listed fh
check "(h) a background machine: boxctl start" "$BOXCTL" start "$dir/fi" --wait=registered
check "(h) ...booted" wait_for 30 booted fi
boxd_pid=$(busctl --system status org.freedesktop.machine1 | sed -n 's/^PID=//p')
bus_restart
check "(h) boxd is back on the new bus" wait_for 10 boxd_running
is "$(busctl --system status org.freedesktop.machine1 | sed -n 's/^PID=//p')" "$boxd_pid" "(h) ...the same boxd, not a second one"
check "(h) the foreground machine is listed again" wait_for 5 listed fh
check "(h) the background machine is listed again" wait_for 5 listed fi
is "$(n_listed fh)" 1 "(h) ...once"
ok "(h) boxd said it had lost the bus" grep -q "Lost the system bus" "$_sb_state/boxd.log"
first=$(machine_leader fh)
check "(h) the guest reboots" guest_shutdown fh reboot
rebooted() { local l; l=$(machine_leader fh) && [[ $l != "$first" ]] && booted fh; }
check "(h) ...and comes up with a new init" wait_for 30 rebooted
leader_listed() { [[ $(busctl --system get-property org.freedesktop.machine1 /org/freedesktop/machine1/machine/fh org.freedesktop.machine1.Machine Leader 2>/dev/null) == "u $(machine_leader fh)" ]]; }
check "(h) ...registered again with its new leader" wait_for 10 leader_listed
# Once more, the dbus-daemon SIGKILLed this time (its socket file stays).
bus_restart KILL
check "(h) after a SIGKILLed dbus-daemon, boxd is back" wait_for 10 boxd_running
is "$(busctl --system status org.freedesktop.machine1 | sed -n 's/^PID=//p')" "$boxd_pid" "(h) ...the same boxd"
check "(h) ...and lists the machine again" wait_for 5 listed fh
# Once more, with boxd held (SIGSTOP) until a call on the new bus has
# activated another: that one adopts the machines from the state directory,
# and the old one, let go, finds the name taken, leaves them to it and exits.
kill -STOP "$boxd_pid"
bus_restart
check "(h) with boxd held, a list activates another boxd, which lists the machine" wait_for 10 listed fh
new_boxd=$(busctl --system status org.freedesktop.machine1 | sed -n 's/^PID=//p')
ok "(h) ...a second boxd ($new_boxd)" test -n "$new_boxd" -a "$new_boxd" != "$boxd_pid"
kill -CONT "$boxd_pid"
check "(h) the old boxd, let go, exits" wait_for 10 gone "$boxd_pid"
wait "$boxd_pid" 2>/dev/null || true
_boxd_pid=
ok "(h) ...saying why" grep -q "Another registry took org.freedesktop.machine1 meanwhile" "$_sb_state/boxd.log"
is "$(n_listed fh)" 1 "(h) the machine is listed once"
check "(h) boxctl poweroff of the foreground machine" "$BOXCTL" poweroff fh
finish_machine fh
is "$rc" 0 "(h) it powered off: boxctl boot exits 0"
check "(h) boxctl stop of the background machine" "$BOXCTL" stop fi
check "(h) ...it is listed no more" wait_for 5 bash -c "! $(printf %q "$BOXCTL") list --no-legend | grep -q '^fi '"
check "(h) ...and leaves nothing" wait_for 2 clean fi
check "(h) nor the foreground one" wait_for 2 clean fh

bus_stop
v1_umount
leaks_check
