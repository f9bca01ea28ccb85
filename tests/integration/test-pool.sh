#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The image pool: list-images, image-status, clone (independent, with owners,
# modes, xattrs, ACLs, file capabilities, device nodes, hard links and holes
# kept), rename, read-only, remove (refused while a machine runs from it;
# a symlinked entry removed as the symlink only), boot and start by NAME
# import-tar and export-tar (a round trip with identical content, hostile
# tars refused with nothing left, a killed import leaving nothing), and one
# line and a non-zero exit for every bad input.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

pool=$(realpath "$(test_tmpdir)")
export BOXCTL_POOL=$pool
outside=$(test_tmpdir)

. "$BOXCTL_SRCDIR/tests/lib/pool.sh"

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
# progress of a clone by copy: on a terminal only, not with -q
drive() { python3 "$BOXCTL_SRCDIR/tests/lib/pty-drive.py" "$@"; }
check "clone on a terminal" drive --log "$outside/pty-clone" timeout:60 -- "$BOXCTL" clone bb bbp
ok "...draws its progress: bytes of the tree's, rate, time left" grep -qE "$(progress_re clone)" "$outside/pty-clone"
check "clone -q on a terminal" drive --log "$outside/pty-clone-q" timeout:60 -- "$BOXCTL" clone -q bb bbq
ok "...draws nothing" test ! -s "$outside/pty-clone-q"
is "$("$BOXCTL" clone bb bbn 2>&1)" "" "clone with stderr not a terminal: no progress"
is "$(meta "$pool/bbp")" "$(meta "$pool/bb")" "...the clones are whole"
check "remove bbp bbq bbn" "$BOXCTL" remove bbp bbq bbn

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

# --- import-tar, export-tar ---
tars=$(test_tmpdir)
deb=$(fixture_debian)
# The input is made by GNU tar: test input only, boxctl never runs tar.
tar --xattrs --xattrs-include='*' --acls -C "$deb" -cf "$tars/deb.tar" .
check "import-tar of a tar of the Debian fixture" "$BOXCTL" import-tar -q "$tars/deb.tar" deb
is "$(meta "$pool/deb")" "$(meta "$deb")" "...identical to the tree it was made from"
check "export-tar to a .zst" "$BOXCTL" export-tar deb "$tars/deb.tar.zst"
ok "...zstd-compressed" bash -c '[[ $(head -c4 "$1" | od -An -tx1 | tr -d " ") == 28b52ffd ]]' _ "$tars/deb.tar.zst"
check "import-tar of the export" "$BOXCTL" import-tar "$tars/deb.tar.zst" deb2
is "$(meta "$pool/deb2")" "$(meta "$pool/deb")" "...identical: owners, modes, times, xattrs, ACLs, caps, hard links"
# progress: one line redrawn on a terminal (pty-drive.py gives it one), none with -q
drive() { python3 "$BOXCTL_SRCDIR/tests/lib/pty-drive.py" "$@"; }
check "import-tar on a terminal" drive --log "$tars/pty-progress" timeout:60 -- "$BOXCTL" import-tar "$tars/deb.tar.zst" deb3
ok "...draws its progress: bytes of the file's size, rate, time left" grep -qE "$(progress_re import)" "$tars/pty-progress"
check "export-tar on a terminal" drive --log "$tars/pty-export" timeout:60 -- "$BOXCTL" export-tar deb3 "$tars/deb3-pty.tar"
ok "...draws its progress: bytes and rate (no total known before the end)" grep -qE "$(progress_re_bare export)" "$tars/pty-export"
rm "$tars/deb3-pty.tar"
check "export-tar -q on a terminal" drive --log "$tars/pty-quiet" timeout:60 -- "$BOXCTL" export-tar -q deb3 "$tars/deb3.tar"
ok "...draws nothing" test ! -s "$tars/pty-quiet"
check "remove deb deb2 deb3" "$BOXCTL" remove deb deb2 deb3
err=$("$BOXCTL" export-tar bb - 2>"$tars/progress" | "$BOXCTL" import-tar - bbt 2>&1) || true
is "$err" "" "export-tar NAME - | import-tar - NAME2: no progress without a terminal"
ok "...none from export either" test ! -s "$tars/progress"
is "$(meta "$pool/bbt")" "$(meta "$pool/bb")" "...the small tree with everything a copy keeps, identical"
check "boot the imported tree by NAME" "$BOXCTL" run bbt --register=no -- /bin/cat /marker
check "remove bbt" "$BOXCTL" remove bbt

# hostile tars, made by python's tarfile: refused, and nothing left
mkdir "$outside/victim"
python3 - "$tars" "$outside/victim" <<'PY'
import io, sys, tarfile
d, victim = sys.argv[1], sys.argv[2]
def mk(name, members):
    with tarfile.open(f"{d}/{name}.tar", "w", format=tarfile.PAX_FORMAT) as tf:
        for path, kind, *link in members:
            ti = tarfile.TarInfo(path)
            ti.type = kind
            if link:
                ti.linkname = link[0]
            if kind == tarfile.CHRTYPE:
                ti.devmajor, ti.devminor = 1, 3
            if kind == tarfile.REGTYPE:
                ti.size = 4
                tf.addfile(ti, io.BytesIO(b"evil"))
            else:
                tf.addfile(ti)
D, R = tarfile.DIRTYPE, tarfile.REGTYPE
mk("absolute", [("etc", D), (victim + "/evil", R)])
mk("dotdot", [("etc", D), ("etc/../../evil", R)])
mk("planted", [("etc", D), ("etc/link", tarfile.SYMTYPE, victim), ("etc/link/evil", R)])
mk("planted-rel", [("etc", D), ("etc/up", tarfile.SYMTYPE, "../../../.."), ("etc/up/evil", R)])
mk("hardlink", [("etc", D), ("etc/pw", tarfile.LNKTYPE, "../../../../etc/passwd")])
mk("hardlink-abs", [("etc", D), ("etc/pw", tarfile.LNKTYPE, "/etc/passwd")])
mk("device", [("etc", D), ("etc/null", tarfile.CHRTYPE)])
PY
fails_with "a tar with an absolute name" "an absolute name" "$BOXCTL" import-tar "$tars/absolute.tar" h1
fails_with "a tar with '..'" "a name with '..'" "$BOXCTL" import-tar "$tars/dotdot.tar" h2
fails_with "a tar with a planted symlink, then a file through it" "goes through a symbolic link" \
        "$BOXCTL" import-tar "$tars/planted.tar" h3
fails_with "...a relative one too" "goes through a symbolic link" "$BOXCTL" import-tar "$tars/planted-rel.tar" h4
fails_with "a tar with a hard link to outside" "a hard link to" "$BOXCTL" import-tar "$tars/hardlink.tar" h5
fails_with "...an absolute one" "a hard link to /etc/passwd" "$BOXCTL" import-tar "$tars/hardlink-abs.tar" h6
chmod 0755 "$(dirname "$pool")"
chown nobody "$pool"
fails_with "a device node when not root" "only root may import one" \
        bash -c 'setpriv --reuid=nobody --regid=nogroup --clear-groups "$1" import-tar - h7 <"$2"' _ "$BOXCTL" "$tars/device.tar"
chown root "$pool"
check "...as root it is made" "$BOXCTL" import-tar "$tars/device.tar" h7
ok "...a character device" test -c "$pool/h7/etc/null"
check "remove h7" "$BOXCTL" remove h7
is "$(ls -A "$outside/victim")" "" "nothing landed outside the image"
ok "nothing half-made is left" nothing_hidden
is "$(names)" "bb" "no image was made of them"
ok "/etc/passwd untouched" bash -c '[[ $(stat -c %h /etc/passwd) == 1 ]]'

# corrupt and truncated tars
head -c 100000 "$tars/deb.tar" >"$tars/truncated.tar"
fails_with "a truncated tar" "refused, nothing imported" "$BOXCTL" import-tar "$tars/truncated.tar" t1
echo "not a tar at all" >"$tars/garbage.tar"
fails_with "a file that is no tar" "refused, nothing imported" "$BOXCTL" import-tar "$tars/garbage.tar" t2
fails_with "import-tar to an existing name" "holds an image of that name" "$BOXCTL" import-tar "$tars/deb.tar" bb
fails_with "import-tar to an invalid name" "not a valid image name" "$BOXCTL" import-tar "$tars/deb.tar" ../x
fails_with "import-tar of a missing file" "No such file" "$BOXCTL" import-tar "$tars/nosuch.tar" t3
fails_with "export-tar of a name not in the pool" "no such image" "$BOXCTL" export-tar nosuch "$tars/x.tar"
fails_with "export-tar with a bad --format" "invalid --format" "$BOXCTL" export-tar bb "$tars/x.tar" --format=rar
ok "nothing half-made is left" nothing_hidden

# an import killed halfway: its guard removes what it made
mkfifo "$tars/fifo"
"$BOXCTL" import-tar "$tars/fifo" killed 2>/dev/null &
ipid=$!
cleanup_push kill -KILL "$ipid"
exec {w}>"$tars/fifo"
head -c 1000000 "$tars/deb.tar" >&"$w"
ok "an import under way has its hidden entry" wait_for 10 bash -c '! [[ -z $(find "$1" -maxdepth 1 -name ".#killed.*" -print -quit) ]]' _ "$pool"
kill -KILL "$ipid"
wait "$ipid" || true
cleanup_pop
exec {w}>&-
ok "...killed by SIGKILL, it leaves nothing" wait_for 10 nothing_hidden
is "$(names)" "bb" "...and no image"

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
