#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The image half of org.freedesktop.machine1, served by boxd from its pool
# ($BOXCTL_POOL): the stock machinectl's list-images, image-status, clone,
# rename, read-only and remove against it; the manager's calls and the image
# objects with their properties through busctl; root only for changes;
# NoSuchImage, busy and read-only refusals; and boxd's pool the same as
# boxctl's (what one changes, the other sees).
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

pool=$(realpath "$(test_tmpdir)")
export BOXCTL_POOL=$pool
cp -a "$(fixture_busybox)" "$pool/bb"
echo bb-host >"$pool/bb/etc/hostname"
echo 0123456789abcdef0123456789abcdef >"$pool/bb/etc/machine-id"
truncate -s 4M "$pool/disk.raw"
mkfs.ext4 -q -F "$pool/disk.raw"

bus_start
boxd_start
# machinectl insists that the host booted with systemd; this sandbox has its own /run.
mkdir -p /run/systemd/system

m1=(busctl --system)
call() { "${m1[@]}" call org.freedesktop.machine1 /org/freedesktop/machine1 org.freedesktop.machine1.Manager "$@"; }
image_prop() { "${m1[@]}" get-property org.freedesktop.machine1 "/org/freedesktop/machine1/image/$1" org.freedesktop.machine1.Image "$2"; }
mc_names() { machinectl list-images --no-legend | awk '{ print $1 }' | tr '\n' ' '; }

# --- reading ---
is "$("${m1[@]}" get-property org.freedesktop.machine1 /org/freedesktop/machine1 org.freedesktop.machine1.Manager PoolPath)" \
        "s \"$pool\"" "PoolPath is boxd's \$BOXCTL_POOL"
is "$(mc_names)" "bb disk " "machinectl list-images: the pool's images"
ok "...with their types" bash -c 'machinectl list-images --no-legend | grep -qE "^bb +directory" &&
        machinectl list-images --no-legend | grep -qE "^disk +raw"'
list=$(call ListImages)
ok "ListImages: both, with object paths ($list)" bash -c '[[ $1 == *"\"bb\" \"directory\" false"*"/org/freedesktop/machine1/image/bb"* &&
        $1 == *"\"disk\" \"raw\" false"*"/org/freedesktop/machine1/image/disk"* ]]' _ "$list"
is "$(call GetImage s bb)" 'o "/org/freedesktop/machine1/image/bb"' "GetImage: the object path"
is "$(image_prop bb Name)" 's "bb"' "the image object: Name"
is "$(image_prop bb Path)" "s \"$pool/bb\"" "...Path"
is "$(image_prop bb Type)" 's "directory"' "...Type"
is "$(image_prop bb ReadOnly)" 'b false' "...ReadOnly"
usage=$(image_prop bb Usage | awk '{ print $2 }')
boxctl_usage=$("$BOXCTL" list-images -o json | jq '.[] | select(.name == "bb") | .usage')
is "$usage" "$boxctl_usage" "...Usage, as boxctl list-images counts it"
is "$(image_prop bb Limit)" "t 18446744073709551615" "...Limit: none"
is "$(image_prop disk Type)" 's "raw"' "a disk image: Type raw"
ok "image objects are listed under /org/freedesktop/machine1/image" \
        bash -c '"$@" tree org.freedesktop.machine1 | grep -q "/org/freedesktop/machine1/image/disk"' _ "${m1[@]}"
status=$(machinectl image-status bb)
ok "machinectl image-status: the path" grep -q "Path: $pool/bb" <<<"$status"
ok "...the type" grep -q "Type: directory" <<<"$status"
ok "...the OS, from the image's os-release" grep -q "OS: BusyBox" <<<"$status"
ok "...the hostname" grep -q "Hostname: bb-host" <<<"$status"
ok "...the machine id" grep -q "Machine ID: 0123456789abcdef0123456789abcdef" <<<"$status"
os_id() { call GetImageOSRelease s bb | grep -q '"ID" "busybox"'; }
ok "GetImageOSRelease: its fields" os_id
fails_with "GetImageOSRelease of a disk image" "disk image" call GetImageOSRelease s disk
fails_with "GetImage of an unknown image" "No image 'nosuch' known" call GetImage s nosuch
fails_with "machinectl image-status of an unknown image" "nosuch" machinectl image-status nosuch
fails_with "GetImage of an invalid name" "Invalid image name" call GetImage s ../etc

# --- changing: root only ---
nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fails_with "RemoveImage by a user" "Access denied" "${nobody[@]}" "${m1[@]}" call org.freedesktop.machine1 \
        /org/freedesktop/machine1 org.freedesktop.machine1.Manager RemoveImage s bb
fails_with "CloneImage by a user" "Access denied" "${nobody[@]}" "${m1[@]}" call org.freedesktop.machine1 \
        /org/freedesktop/machine1 org.freedesktop.machine1.Manager CloneImage ssb bb bbx false
fails_with "Remove on the image object by a user" "Access denied" "${nobody[@]}" "${m1[@]}" call \
        org.freedesktop.machine1 /org/freedesktop/machine1/image/bb org.freedesktop.machine1.Image Remove
ok "...bb is still there" test -d "$pool/bb"
ok "...and no bbx was made" test ! -e "$pool/bbx"
check "a user may read" "${nobody[@]}" "${m1[@]}" call org.freedesktop.machine1 /org/freedesktop/machine1 \
        org.freedesktop.machine1.Manager ListImages

# --- machinectl clone, read-only, rename, remove ---
check "machinectl clone bb bb2" machinectl clone bb bb2
ok "...a copy with the same files" diff -r --no-dereference "$pool/bb" "$pool/bb2"
ok "...boxctl sees it" bash -c '"$1" list-images --no-legend | grep -q "^bb2 "' _ "$BOXCTL"
ok "...no temporary is left" bash -c '! ls -a "$1" | grep -q "^\.#"' _ "$pool"
fails_with "clone onto an existing name" "holds an image 'bb2' already" machinectl clone bb bb2
fails_with "clone of an unknown image" "No image 'nosuch' known" machinectl clone nosuch bb3
fails_with "clone to an invalid name" "Invalid image name" call CloneImage ssb bb "a/b" false
check "CloneImage read-only" call CloneImage ssb bb bbro true
is "$(image_prop bbro ReadOnly)" 'b true' "...the clone is read-only"
check "machinectl read-only bb2" machinectl read-only bb2
is "$("$BOXCTL" list-images -o json | jq '.[] | select(.name == "bb2") | .read_only')" true "...boxctl sees it read-only"
fails_with "machinectl remove of a read-only image" "read-only" machinectl remove bb2
ok "...it stays" test -d "$pool/bb2"
check "machinectl read-only bb2 false" machinectl read-only bb2 false
is "$(image_prop bb2 ReadOnly)" 'b false' "...writable again"
check "machinectl rename bb2 bb3" machinectl rename bb2 bb3
ok "...renamed in the pool" bash -c 'test -d "$1/bb3" && test ! -e "$1/bb2"' _ "$pool"
fails_with "rename onto an existing name" "holds an image 'bb' already" machinectl rename bb3 bb
fails_with "rename to an invalid name" "Invalid image name" call RenameImage ss bb3 .hidden
check "Rename on the image object" "${m1[@]}" call org.freedesktop.machine1 /org/freedesktop/machine1/image/bb3 \
        org.freedesktop.machine1.Image Rename s bb4
ok "...renamed" test -d "$pool/bb4"
check "machinectl remove bb4" machinectl remove bb4
ok "...gone from the pool" test ! -e "$pool/bb4"
fails_with "remove of an unknown image" "No image 'bb4' known" call RemoveImage s bb4
fails_with "MarkImageReadOnly of an unknown image" "No image 'nosuch' known" call MarkImageReadOnly sb nosuch true
check "MarkReadOnly false on the read-only clone" "${m1[@]}" call org.freedesktop.machine1 \
        /org/freedesktop/machine1/image/bbro org.freedesktop.machine1.Image MarkReadOnly b false
check "Remove on the image object" "${m1[@]}" call org.freedesktop.machine1 /org/freedesktop/machine1/image/bbro \
        org.freedesktop.machine1.Image Remove
ok "...gone" test ! -e "$pool/bbro"
fails_with "an image object that does not exist" "Unknown object" "${m1[@]}" get-property org.freedesktop.machine1 \
        /org/freedesktop/machine1/image/nosuch org.freedesktop.machine1.Image Name

# --- a machine running from an image ---
boot_machine bbrun bb
check "a machine runs from bb" wait_for 30 guest_exec bbrun pidof sleep
fails_with "machinectl remove while a machine runs from it" "busy" machinectl remove bb
fails_with "machinectl rename while a machine runs from it" "busy" machinectl rename bb bb5
fails_with "machinectl clone while a machine runs it read-write" "busy" machinectl clone bb bb6
ok "...nothing of any of it" bash -c 'test -d "$1/bb" && test ! -e "$1/bb5" && test ! -e "$1/bb6" && ! ls -a "$1" | grep -q "^\.#"' _ "$pool"
"$BOXCTL" poweroff bbrun
finish_machine bbrun
is "$rc" 0 "the machine powered off cleanly"

# --- boxd answers while a clone runs ---
head -c 64M /dev/urandom >"$pool/bb/big"
call CloneImage ssb bb bbbig false >"$_sb_state/clone.out" 2>&1 &
clone_pid=$!
check "ListImages answers while a clone copies" call ListImages
wait "$clone_pid" || true
is "$(cat "$_sb_state/clone.out")" "" "...and the clone ends well"
ok "...with the data" cmp "$pool/bb/big" "$pool/bbbig/big"

rm -rf /run/systemd/system
bus_stop
leaks_check
