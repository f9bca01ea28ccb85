#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The pool on btrfs, and on ext4 for the fallback: each a file system of its
# own, made on a loop device over a file in the test's directory. On btrfs
# import-tar and import-fs make subvolumes, list-images and image-status say
# so, clone of a subvolume is a snapshot (a subvolume of its own, independent
# of its source), a clone of a raw image is a reflink (its extents shared),
# remove deletes a subvolume and a snapshot marked read-only once marked
# writable again; on ext4 the same verbs make directories and copies. The
# loop devices and mounts are removed at the end, and nothing is left.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

work=$(test_tmpdir)

# mkfs_mount FSTYPE: a new FSTYPE on a loop device over a 512 MiB file of
# this test's, mounted on $work/FSTYPE (also unmounted and detached at exit,
# should the test end first); unmount FSTYPE takes them away.
declare -A loop_of=()
mkfs_mount() {
        local loop
        truncate -s 512M "$work/$1.img"
        loop=$(losetup --show -f "$work/$1.img")
        loop_of[$1]=$loop
        cleanup_push losetup -d "$loop"
        "mkfs.$1" -q "$loop" >/dev/null
        mkdir -p "$work/$1"
        mount "$loop" "$work/$1"
        cleanup_push umount "$work/$1"
}
unmount() {
        check "unmount the $1" umount "$work/$1"
        cleanup_pop
        check "...detach its loop device" losetup -d "${loop_of[$1]}"
        cleanup_pop
        ok "...none left over its file" bash -c '[[ -z $(losetup -j "$1") ]]' _ "$work/$1.img"
}

# inode PATH: 256 is the top of a btrfs subvolume.
inode() { stat -c %i "$1"; }
# type NAME: the type list-images gives image NAME.
type_of() { "$BOXCTL" list-images -o json | jq -r --arg n "$1" '.[] | select(.name == $n) | .type'; }
# shared FILE: filefrag(8) marks an extent another file holds too "shared".
shared() { filefrag -v "$1" | grep -qw shared; }
# meta_fs DIR: meta (pool.sh) less a directory's link count, which is the
# file system's business (always 1 on btrfs).
meta_fs() { meta "$1" | awk -F'\t' -v OFS='\t' 'NF == 8 && $2 == "d" { $8 = "-" } 1'; }

# The tree to import: the busybox fixture with a file big enough to have
# extents worth sharing.
src=$work/src
cp -a "$(fixture_busybox)" "$src"
head -c 8M /dev/urandom >"$src/blob"
echo original >"$src/marker"
tar --xattrs --xattrs-include='*' -C "$src" -cf "$work/src.tar" .

# --- btrfs ---
mkfs_mount btrfs
pool=$work/btrfs/pool
export BOXCTL_POOL=$pool
. "$BOXCTL_SRCDIR/tests/lib/pool.sh"

check "import-tar into a pool on btrfs" "$BOXCTL" import-tar -q "$work/src.tar" t
is "$(inode "$pool/t")" 256 "...makes a subvolume (its top is inode 256)"
ok "...btrfs agrees" bash -c 'btrfs subvolume show "$1" >/dev/null' _ "$pool/t"
is "$(type_of t)" subvolume "...list-images: type subvolume"
ok "...image-status too" bash -c '"$1" image-status t | grep -q "Type: subvolume"' _ "$BOXCTL"
is "$(meta_fs "$pool/t")" "$(meta_fs "$src")" "...the tree as the tar holds it"

check "import-fs into a pool on btrfs" "$BOXCTL" import-fs -q "$src" f
is "$(inode "$pool/f")" 256 "...makes a subvolume"
is "$(meta_fs "$pool/f")" "$(meta_fs "$src")" "...owners, modes, times, xattrs kept"

check "clone t t2: a snapshot" "$BOXCTL" clone t t2
is "$(inode "$pool/t2")" 256 "...a subvolume of its own"
ok "...a snapshot of t (btrfs names t as its parent)" \
        bash -c 'p=$(btrfs subvolume show "$1/t" | awk "/^[[:space:]]*UUID:/ {print \$2}");
                 btrfs subvolume show "$1/t2" | grep -q "Parent UUID:[[:space:]]*$p"' _ "$pool"
ok "...sharing t's extents" shared "$pool/t2/blob"
is "$(type_of t2)" subvolume "...listed as a subvolume"
echo changed >"$pool/t2/marker"
is "$(cat "$pool/t/marker")" original "...independent: a change in the clone is not in t"
echo changed-too >"$pool/t/marker"
is "$(cat "$pool/t2/marker")" changed "...nor one in t in the clone"

check "read-only t2" "$BOXCTL" read-only t2
ok "...btrfs has it read-only" bash -c 'btrfs property get -ts "$1" ro | grep -q ro=true' _ "$pool/t2"
check "clone of the read-only snapshot" "$BOXCTL" clone t2 t3
ok "...a writable snapshot" bash -c 'btrfs property get -ts "$1" ro | grep -q ro=false' _ "$pool/t3"
fails_with "remove of the read-only snapshot" "read-only" "$BOXCTL" remove t2
ok "...still there" test -d "$pool/t2"
check "read-only t2 no" "$BOXCTL" read-only t2 no
check "remove t2 t3: subvolumes" "$BOXCTL" remove t2 t3
ok "...gone from btrfs" bash -c '! btrfs subvolume list "$1" | grep -qE " path pool/(t2|t3|\.#)"' _ "$work/btrfs"
is "$(names)" "f t" "...and from the pool"

# A read-only snapshot made outside boxctl, as "btrfs subvolume snapshot -r" makes it.
btrfs subvolume snapshot -r "$pool/t" "$pool/ro" >/dev/null
is "$("$BOXCTL" list-images -o json | jq -r '.[] | select(.name == "ro") | .type + " " + (.read_only|tostring)')" \
        "subvolume true" "a read-only snapshot made by btrfs: a read-only subvolume"
check "...made writable" "$BOXCTL" read-only ro no
check "...removed" "$BOXCTL" remove ro
ok "...gone from btrfs" bash -c '! btrfs subvolume list "$1" | grep -q " path pool/ro$"' _ "$work/btrfs"

# A raw image: clone is a reflink.
head -c 32M /dev/urandom >"$pool/disk.raw"
sync "$pool/disk.raw"
check "clone of a raw image on btrfs" "$BOXCTL" clone disk disk2
ok "...identical" cmp "$pool/disk.raw" "$pool/disk2.raw"
ok "...a reflink: its extents are shared" shared "$pool/disk2.raw"
is "$(type_of disk2)" raw "...listed as raw"
printf 'X' | dd of="$pool/disk2.raw" bs=1 seek=4096 conv=notrunc status=none
ok "...independent: a write to the clone is not in the image" bash -c '! cmp -s "$1/disk.raw" "$1/disk2.raw"' _ "$pool"

check "remove every image" "$BOXCTL" remove disk disk2 f t
is "$(ls -A "$pool")" "" "the pool is empty"
ok "...and btrfs has no subvolume left" bash -c '[[ -z $(btrfs subvolume list "$1") ]]' _ "$work/btrfs"
unmount btrfs

# --- ext4: the fallbacks ---
mkfs_mount ext4
pool=$work/ext4/pool
export BOXCTL_POOL=$pool
check "import-tar into a pool on ext4" "$BOXCTL" import-tar -q "$work/src.tar" t
is "$(type_of t)" directory "...a directory"
check "clone t t2 on ext4: a copy" "$BOXCTL" clone t t2
is "$(type_of t2)" directory "...a directory"
is "$(meta "$pool/t2")" "$(meta "$pool/t")" "...with everything kept"
ok "...its own inodes" bash -c '[[ $(stat -c %i "$1/t/blob") != $(stat -c %i "$1/t2/blob") ]]' _ "$pool"
head -c 32M /dev/urandom >"$pool/disk.raw"
check "clone of a raw image on ext4: a copy" "$BOXCTL" clone disk disk2
ok "...identical" cmp "$pool/disk.raw" "$pool/disk2.raw"
ok "...no extent shared (ext4 has no reflinks)" bash -c '! filefrag -v "$1" | grep -qw shared' _ "$pool/disk2.raw"
check "remove every image" "$BOXCTL" remove disk disk2 t t2
is "$(ls -A "$pool")" "" "the pool is empty"

unmount ext4

leaks_check
