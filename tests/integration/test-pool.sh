#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The image pool: list-images, image-status, clone (independent, with owners,
# modes, xattrs, ACLs, file capabilities, device nodes, hard links and holes
# kept), rename, read-only, remove (refused while a machine runs from it;
# a symlinked entry removed as the symlink only), boot and start by NAME
# (import-tar and export-tar: a round trip with identical content, hostile
# tars refused with nothing left, a killed import leaving nothing: not yet,
# import-tar and export-tar are not done), and one line and a non-zero exit
# for every bad input.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

pool=$(realpath "$(test_tmpdir)")
export BOXCTL_POOL=$pool
outside=$(test_tmpdir)

# fails_with DESC NEEDLE CMD...: CMD fails with one line of stderr holding NEEDLE.
fails_with() {
        local desc=$1 needle=$2 rc=0 err
        shift 2
        err=$("$@" 2>&1 >/dev/null) || rc=$?
        ok "$desc: exit $rc, one line: $err" \
                bash -c '(( $1 != 0 )) && [[ $2 == *"$3"* && $2 != *$'"'"'\n'"'"'* ]]' _ "$rc" "$err" "$needle"
}
# nothing_hidden: the pool holds no ".#" entries (half-made images).
nothing_hidden() { [[ -z $(find "$pool" -mindepth 1 -maxdepth 1 -name '.#*' -print -quit) ]]; }
names() { "$BOXCTL" list-images --no-legend | awk '{print $1}' | paste -sd' '; }
# meta DIR: every path's type, mode, owner, size, mtime, link target, link
# count and inode group (hard links), xattrs (with ACLs and capabilities),
# sorted: what a copy must keep.
meta() {
        (cd "$1" && find . -printf '%P\t%y\t%#m\t%U:%G\t%s\t%T@\t%l\t%n\n' | LC_ALL=C sort &&
                find . \( -type c -o -type b \) -exec stat -c '%n %F %t:%T' {} + | LC_ALL=C sort &&
                getfattr -R -h -d -m - --absolute-names . 2>/dev/null | grep -v '^$' &&
                find . -type f -links +1 -printf '%i %P\n' | LC_ALL=C sort |
                awk '{ if ($1 == prev) print first " = " $2; else { prev = $1; first = $2 } }')
}

# --- a small tree with everything a copy must keep ---
cp -a "$(fixture_busybox)" "$pool/bb"
t=$pool/bb
mkdir "$t/keep"
echo data >"$t/keep/file"
chown 1234:2345 "$t/keep/file"
chmod 4750 "$t/keep/file"
ln "$t/keep/file" "$t/keep/hardlink"
setfattr -n user.note -v hello "$t/keep/file"
setfacl -m u:4321:rw "$t/keep/file"
cp /bin/true "$t/keep/capped"
setcap cap_net_raw+ep "$t/keep/capped"
mknod "$t/keep/null" c 1 3
mkfifo "$t/keep/fifo"
ln -s ../etc/os-release "$t/keep/link"
truncate -s 8M "$t/keep/sparse"
echo tail >>"$t/keep/sparse"
setfacl -d -m u:4321:rx "$t/keep"
touch -d '2001-02-03 04:05:06' "$t/keep"

# --- list ---
is "$(names)" "bb" "list-images shows the tree"
json=$("$BOXCTL" list-images -o json)
is "$(jq -r '.[0].name + " " + .[0].type + " " + (.[0].read_only|tostring)' <<<"$json")" "bb directory false" \
        "list-images -o json: name, type, read-only"
ok "...usage and times are numbers" bash -c 'jq -e ".[0].usage > 0 and .[0].modified > 0" <<<"$1" >/dev/null' _ "$json"
ok "image-status shows its type" bash -c '"$1" image-status bb | grep -q "Type: directory"' _ "$BOXCTL"
mkdir "$pool/.hidden"
is "$(names)" "bb" "a hidden entry is not listed"
ok "...but with --all" bash -c '"$1" list-images --all --no-legend | grep -q "^.hidden "' _ "$BOXCTL"
rmdir "$pool/.hidden"

# --- clone ---
check "clone bb bb2" "$BOXCTL" clone bb bb2
is "$(meta "$pool/bb2")" "$(meta "$pool/bb")" "the clone keeps owners, modes, times, xattrs, ACLs, caps, nodes, hard links"
is "$(du -k "$pool/bb2/keep/sparse" | cut -f1)" "$(du -k "$pool/bb/keep/sparse" | cut -f1)" "...and holes"
echo changed >>"$pool/bb2/keep/file"
ok "the clone is independent: a change in it is not in the original" \
        bash -c '! grep -q changed "$1/bb/keep/file"' _ "$pool"
ok "...nor a hard link between them" bash -c '[[ ! "$1/bb/keep/file" -ef "$1/bb2/keep/file" ]]' _ "$pool"
ok "nothing half-made is left" nothing_hidden

# --- rename, read-only ---
check "rename bb2 bb3" "$BOXCTL" rename bb2 bb3
is "$(names)" "bb bb3" "...listed under its new name"
check "read-only bb3" "$BOXCTL" read-only bb3
is "$("$BOXCTL" list-images -o json | jq -r '.[] | select(.name == "bb3") | .read_only')" true "...listed read-only"
fails_with "remove of a read-only image" "read-only" "$BOXCTL" remove bb3
check "read-only bb3 no" "$BOXCTL" read-only bb3 no
check "remove bb3" "$BOXCTL" remove bb3
is "$(names)" "bb" "...gone"

# --- a symlink in the pool is removed as the symlink ---
mkdir "$outside/tree"
echo precious >"$outside/tree/file"
ln -s "$outside/tree" "$pool/linked"
check "remove of a symlinked image" "$BOXCTL" remove linked
ok "...removed the symlink" bash -c '[[ ! -e $1/linked && ! -L $1/linked ]]' _ "$pool"
ok "...and left what it pointed to" grep -q precious "$outside/tree/file"

# --- raw images: clone, rename, remove ---
truncate -s 4M "$pool/disk.raw"
echo x | dd of="$pool/disk.raw" bs=1 seek=1M conv=notrunc status=none
check "clone of a raw image" "$BOXCTL" clone disk disk2
ok "...a NAME.raw with the same content" cmp "$pool/disk.raw" "$pool/disk2.raw"
check "rename of a raw image" "$BOXCTL" rename disk2 disk3
ok "...keeps .raw" test -f "$pool/disk3.raw"
check "remove disk disk3" "$BOXCTL" remove disk disk3
is "$(names)" "bb" "...both gone"

# --- boot and start by NAME ---
echo from-the-pool >"$pool/bb/marker"
is "$("$BOXCTL" run bb --register=no -- /bin/cat /marker 2>/dev/null)" from-the-pool "run NAME runs the pool's image"
mkdir -p "$outside/cwd/bb"
is "$(cd "$outside/cwd" && "$BOXCTL" run bb --register=no -- /bin/cat /marker 2>/dev/null)" from-the-pool \
        "...a bare NAME of the pool wins over ./NAME"
alt=$(test_tmpdir)
cp -a "$(fixture_busybox)" "$alt/other"
is "$(BOXCTL_POOL=/nonexistent "$BOXCTL" run other --pool="$alt" --register=no -- /bin/true 2>/dev/null; echo $?)" 0 \
        "--pool=DIR names the pool"
fails_with "run of a NAME in no pool and no path" "no such image in $pool" "$BOXCTL" run nosuch --register=no -- /bin/true

bus_start
boxd_start
check "start bb (by NAME)" "$BOXCTL" start bb --wait=ready
ok "...it runs" wait_for 10 guest_exec bb test -f /marker
fails_with "remove while it runs" "busy" "$BOXCTL" remove bb
fails_with "rename while it runs" "busy" "$BOXCTL" rename bb bbx
check "stop bb" "$BOXCTL" stop bb

# --- bad input ---
fails_with "clone to an invalid name" "not a valid image name" "$BOXCTL" clone bb 'a/b'
fails_with "clone to an existing name" "holds an image of that name" "$BOXCTL" clone bb bb
fails_with "clone of a name not in the pool" "no such image" "$BOXCTL" clone nosuch x
fails_with "rename of a name not in the pool" "no such image" "$BOXCTL" rename nosuch x
fails_with "rename to an invalid name" "not a valid image name" "$BOXCTL" rename bb .x
fails_with "remove of a name not in the pool" "no such image" "$BOXCTL" remove nosuch
fails_with "remove of an invalid name" "not a valid image name" "$BOXCTL" remove ../bb
fails_with "read-only with a bad value" "invalid read-only value" "$BOXCTL" read-only bb maybe
fails_with "image-status of a name not in the pool" "no such image" "$BOXCTL" image-status nosuch
fails_with "list-images -o xml" "invalid --output" "$BOXCTL" list-images -o xml
fails_with "clone with one name" "usage" "$BOXCTL" clone bb
ok "nothing half-made is left" nothing_hidden
is "$(ls "$outside/tree")" file "nothing outside the pool was touched"

boxd_stop
bus_stop

leaks_check
