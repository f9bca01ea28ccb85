#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Disk images: GPT with discoverable partitions, MBR, bare file systems; read
# only, ephemeral, with -U; locks; damaged images fail cleanly; nothing is
# written to an image opened read-only; no loop device or mount is left.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

work=$(test_tmpdir)
bbimg=$work/bb
deimg=$work/deb
cp -a "$("$BOXCTL_SRCDIR/tests/fixtures/make-images.sh")" "$bbimg"
cp -a "$("$BOXCTL_SRCDIR/tests/fixtures/make-images.sh" "$(fixture_debian)")" "$deimg"
brun() { "$BOXCTL" run --register=no "$@"; }
has() { [[ $2 == *"$1"* ]]; }
one_line() { [[ -n $1 && $1 != *$'\n'* ]]; }
loops() { test_loops | wc -l; }

# Every kind, read-only, and what is mounted where.
for k in gpt gpt-generic mbr ext4 btrfs squashfs erofs xfs; do
        is "$(brun --read-only "$bbimg/$k.raw" -- sh -c '. /etc/os-release; echo $ID')" busybox "a $k image runs"
done
out=$(brun --read-only "$bbimg/gpt.raw" -- sh -c 'for d in / /usr /var /srv /home; do echo "$d $(stat -f -c %T $d 2>/dev/null) $(ls /$d | grep -c boxctl-)"; done; test -e /boxctl-usr-partition || ls /usr/boxctl-usr-partition >/dev/null && echo usr-ok')
diag "$out"
ok "GPT: /usr is its own (squashfs) partition" has "usr-ok" "$out"
ok "GPT: /var is its own partition" brun --read-only "$bbimg/gpt.raw" -- test -e /var/boxctl-var-partition
ok "GPT: /srv is its own partition, read-only by its flag" brun "$bbimg/gpt.raw" -- sh -c 'test -e /srv/boxctl-srv-partition && ! touch /srv/x'
ok "GPT: the no-auto /home partition is not mounted" brun --read-only "$bbimg/gpt.raw" -- sh -c '! test -e /home/boxctl-home-partition'

# Read-write, ephemeral, -U.
cp "$bbimg/ext4.raw" "$work/rw.raw"
check "a read-write boot of an image writes to it" brun "$work/rw.raw" -- sh -c 'echo kept > /root/written'
is "$(brun --read-only "$work/rw.raw" -- cat /root/written)" kept "...and the write is there next time"
cp --sparse=always "$bbimg/xfs.raw" "$work/rw.xfs"
check "a read-write boot of an XFS image writes to it" brun "$work/rw.xfs" -- sh -c 'echo kept > /root/written'
is "$(brun --read-only -U "$work/rw.xfs" -- sh -c 'cat /root/written; stat -c %u /root/written' | tr '\n' ' ')" "kept 0 " \
        "...and -U on it reads the write back, root's (XFS idmaps)"
sum=$(sha256sum <"$bbimg/squashfs.raw")
is "$(brun -x "$bbimg/squashfs.raw" -- sh -c 'echo eph > /etc/motd && cat /etc/motd')" eph "--ephemeral on a squashfs image: writable"
is "$(brun -U "$bbimg/gpt.raw" -- sh -c 'id -u; stat -c %u /bin/busybox' | tr '\n' ' ')" "0 0 " "-U on an image: root inside, its files root's (idmapped)"
is "$(sha256sum <"$bbimg/squashfs.raw")" "$sum" "nothing was written to it"

# Locks: one read-write boot at a time; read-only ones share.
brun -M rw1 "$work/rw.raw" -- sh -c "$HOLD" &
p=$!
check "a read-write boot of an image is up" wait_for 10 machine_leader rw1
rc=0; err=$(brun -M other "$work/rw.raw" -- true 2>&1) || rc=$?
ok "a second read-write boot of an image is busy (exit $rc): $err" bash -c '[[ $1 == *busy* ]]' _ "$err"
machine_release rw1
wait "$p"
brun --read-only -M r1 "$bbimg/ext4.raw" -- sh -c "$HOLD" &
p=$!
check "a read-only boot of an image is up" wait_for 10 machine_leader r1
check "read-only boots share an image" brun --read-only -M r2 "$bbimg/ext4.raw" -- true
machine_release r1
wait "$p"

# Bad input: a clear line, and the image untouched.
bad() {
        local desc=$1 image=$2 pattern=$3 rc=0 err sum
        shift 3
        sum=$(sha256sum <"$image")
        err=$("$BOXCTL" run --register=no "$@" "$image" -- true 2>&1) || rc=$?
        if ((rc != 0)) && one_line "$err" && has "$pattern" "$err" && [[ $(sha256sum <"$image") == "$sum" ]]; then
                pass "$desc: $err"
        else
                fail "$desc (exit $rc): $err" || true
        fi
}
bad "random bytes" "$bbimg/random.raw" "not a disk image"
bad "a text file" "$bbimg/text.raw" "found a text file"
bad "a truncated GPT" "$bbimg/truncated.raw" "damaged partition table"
bad "a zeroed partition table" "$bbimg/zeroed.raw" "damaged partition table"
bad "a GPT with only an arm64 root" "$bbimg/gpt-arm64.raw" "root partition for arm64, none for x86-64"
bad "a partition with no file system" "$bbimg/gpt-nofs.raw" "holds no file system"
bad "a damaged file system" "$bbimg/gpt-badfs.raw" "is it damaged?"
cp "$bbimg/ext4.raw" "$work/ro.raw"
chmod 0444 "$work/ro.raw"
bad "a read-only image file booted read-write" "$work/ro.raw" "boot it with --read-only"
check "...which boots with --read-only" brun --read-only "$work/ro.raw" -- true
rc=0; err=$("$BOXCTL" run --register=no --image="$work" -- true 2>&1) || rc=$?
ok "--image of a directory is refused: $err" test "$rc" -ne 0

# The Debian images boot to multi-user.target and power off cleanly.
boot_image() { # DESC ARGS...
        local desc=$1 pid rc state
        shift
        "$BOXCTL" boot --register=no -M img "$@" >"$_sb_state/console" 2>&1 &
        pid=$!
        cleanup_push kill -KILL "$pid"
        wait_for 40 guest_exec img test -S /run/systemd/private >/dev/null 2>&1 || true
        state=$(guest_exec img systemctl is-system-running --wait 2>&1 || true)
        check "$desc: multi-user.target is reached ($state)" guest_exec img systemctl is-active multi-user.target ||
                diag "$(tail -20 "$_sb_state/console")"
        [[ $state == running ]] || diag "$(guest_exec img systemctl --failed --no-pager 2>&1 || true)"
        guest_exec img systemctl poweroff >/dev/null 2>&1 || true
        rc=0; wait "$pid" || rc=$?
        cleanup_pop
        is "$rc" 0 "$desc: it powers off cleanly"
}
boot_image "Debian, GPT with a discoverable root and a separate /var" "$deimg/gpt.raw"
boot_image "Debian, bare ext4" "$deimg/ext4.raw"
boot_image "Debian, squashfs, read-only" --read-only "$deimg/squashfs.raw"
boot_image "Debian, squashfs, ephemeral" -x "$deimg/squashfs.raw"
boot_image "Debian, btrfs" "$deimg/btrfs.raw"

is "$(loops)" 0 "no loop device is left"
leaks_check
