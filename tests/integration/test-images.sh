#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Disk images: GPT with discoverable partitions, MBR, bare file systems; read
# only, ephemeral, with -U; locks; damaged images fail cleanly; nothing is
# written to an image opened read-only; no loop device or mount is left;
# erofs is mounted from the image file itself where the kernel can.
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

# erofs straight from the image file, no loop device (Linux 6.12,
# CONFIG_EROFS_FS_BACKED_BY_FILE), where this kernel can; BOXCTL_IMAGE_LOOP=1
# still attaches one. Each boot reads a whole binary back, and its root is
# checked from the host while it runs.
kconfig_y() {
        { zcat /proc/config.gz 2>/dev/null || cat "/boot/config-$(uname -r)" 2>/dev/null || true; } | grep -qx "$1=y"
}
root_source() { # PID: the source of its root mount, as its mountinfo says
        awk '$5 == "/" { for (i = 7; $i != "-"; i++) ; print $(i + 1), $(i + 2) }' "/proc/$1/mountinfo"
}
erofs_loops() { test_loops | grep -c "/erofs\.raw$" || true; }
bb_sum=$(sha256sum <"$(fixture_busybox)/bin/busybox")
erofs_boot() { # MODE (file or loop): boots erofs.raw, checks what backs its root
        local mode=$1 p leader src
        BOXCTL_IMAGE_LOOP=$([[ $mode == loop ]] && echo 1) brun --read-only -M "erofs-$mode" "$bbimg/erofs.raw" -- \
                sh -c "sha256sum </bin/busybox; $HOLD" >"$work/erofs-$mode.out" 2>&1 &
        p=$!
        check "erofs ($mode): the machine is up" wait_for 10 machine_leader "erofs-$mode" || return
        leader=$(machine_leader "erofs-$mode")
        src=$(root_source "$leader")
        if [[ $mode == file ]]; then
                is "$(erofs_loops)" 0 "erofs from the file: no loop device holds erofs.raw (root: $src)"
                ok "erofs from the file: its root is an erofs on no block device ($src)" bash -c '[[ $1 == "erofs /proc/self/fd/"* ]]' _ "$src"
        else
                is "$(erofs_loops)" 1 "erofs with BOXCTL_IMAGE_LOOP=1: one loop device holds erofs.raw"
                ok "erofs with BOXCTL_IMAGE_LOOP=1: its root is on it ($src)" bash -c '[[ $1 == "erofs /dev/loop"* ]]' _ "$src"
        fi
        machine_release "erofs-$mode"
        wait "$p"
        is "$(head -c 64 "$work/erofs-$mode.out")" "${bb_sum:0:64}" "erofs ($mode): the machine read /bin/busybox whole"
        is "$(erofs_loops)" 0 "erofs ($mode): no loop device is left"
}
if kconfig_y CONFIG_EROFS_FS_BACKED_BY_FILE; then
        erofs_boot file
else
        skip "erofs from the file" "this kernel has no CONFIG_EROFS_FS_BACKED_BY_FILE"
        # Then the default path attaches a loop device, as forced below.
fi
erofs_boot loop

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
# erofs, on both paths: cut short (the kernel would mount it and the machine
# then fail on a missing file), and a block size no kernel takes.
head -c 200000 "$bbimg/erofs.raw" >"$work/erofs-cut.raw"
cp "$bbimg/erofs.raw" "$work/erofs-bad.raw"
printf '\x14' | dd of="$work/erofs-bad.raw" bs=1 seek=1036 conv=notrunc status=none
for mode in file loop; do
        [[ $mode == loop ]] && export BOXCTL_IMAGE_LOOP=1
        bad "a truncated erofs ($mode)" "$work/erofs-cut.raw" "erofs-cut.raw: the image holds a truncated erofs file system (200000 bytes of its" --read-only
        bad "a damaged erofs ($mode)" "$work/erofs-bad.raw" "erofs-bad.raw: the kernel refused its erofs file system: Invalid argument; is it damaged?" --read-only
        unset BOXCTL_IMAGE_LOOP
done
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
