#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The pool's disk images and trees from outside: import-raw (a file or
# stdin; gzip, xz, zstd, bzip2 or none; sparse; the result boots; garbage,
# empty, cut-off and damaged input refused with nothing left; a full pool; a
# killed import), export-raw (each compression and none, round trips
# byte-equal, sparse; a tree refused; busy under a read-write machine), and
# import-fs (owners, modes, xattrs, hard links kept, data reflinked, the
# source untouched; the pool itself, a tree holding it, a file, an existing
# name refused).
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"
. "$BOXCTL_SRCDIR/tests/lib/pool.sh"

pool=$(realpath "$(test_tmpdir)")
export BOXCTL_POOL=$pool
work=$(test_tmpdir)
images=$("$BOXCTL_SRCDIR/tests/fixtures/make-images.sh")

sum() { sha256sum <"$1" | cut -d' ' -f1; }
# sparse FILE: it takes less room on disk than its size.
sparse() { (($(stat -c '%b * %B' "$1") < $(stat -c %s "$1"))); }
# os_id NAME: what the image NAME of the pool boots into says it is.
os_id() { "$BOXCTL" run --register=no --read-only "$1" -- sh -c '. /etc/os-release; echo $ID' 2>/dev/null; }
# no_image NAME: neither NAME nor NAME.raw, nor a temporary, is in the pool.
no_image() { [[ ! -e $pool/$1 && ! -e $pool/$1.raw ]] && nothing_hidden; }

# --- import-raw: a file, stdin, a pipe; sparse; it boots ---
check "import-raw of an ext4 image (a file)" "$BOXCTL" import-raw "$images/ext4.raw" e4
is "$(sum "$pool/e4.raw")" "$(sum "$images/ext4.raw")" "...NAME.raw, byte for byte the image"
ok "...sparse: it takes less room than its size" sparse "$pool/e4.raw"
is "$(os_id e4)" busybox "...and boots by NAME"
check "import-raw - of a GPT image (stdin redirected from a file)" \
        bash -c '"$1" import-raw - gpt <"$2"' _ "$BOXCTL" "$images/gpt.raw"
is "$(sum "$pool/gpt.raw")" "$(sum "$images/gpt.raw")" "...byte for byte"
is "$(os_id gpt)" busybox "...and boots"
err=$(cat "$images/squashfs.raw" | "$BOXCTL" import-raw - sq 2>&1) || true
is "$err" "" "import-raw - from a pipe: nothing on stderr off a terminal"
is "$(sum "$pool/sq.raw")" "$(sum "$images/squashfs.raw")" "...byte for byte"
is "$(os_id sq)" busybox "...and boots"
is "$(names)" "e4 gpt sq" "list-images shows them"
is "$("$BOXCTL" list-images -o json | jq -r '[.[] | .type] | unique | join(" ")')" raw "...as raw images"

# --- each compression, told from the data ---
for c in gzip xz zstd bzip2; do
        "$c" -c <"$images/ext4.raw" >"$work/ext4.$c"
        check "import-raw of a $c-compressed image (no suffix: told from the data)" \
                "$BOXCTL" import-raw "$work/ext4.$c" "e4-$c"
        is "$(sum "$pool/e4-$c.raw")" "$(sum "$images/ext4.raw")" "...decompressed byte for byte"
        ok "...sparse" sparse "$pool/e4-$c.raw"
done
check "import-raw - of an xz stream from a pipe" bash -c 'xz -c <"$2" | "$1" import-raw - e4-pipe' _ "$BOXCTL" "$images/ext4.raw"
is "$(sum "$pool/e4-pipe.raw")" "$(sum "$images/ext4.raw")" "...byte for byte"
is "$(os_id e4-xz)" busybox "a decompressed image boots"
check "remove the copies" "$BOXCTL" remove e4-gzip e4-xz e4-zstd e4-bzip2 e4-pipe

# --- export-raw: by suffix, by --format, none; round trips ---
declare -A unpack=([gz]="gzip -dc" [xz]="xz -dc" [zst]="zstd -dcq" [bz2]="bzip2 -dc")
for s in gz xz zst bz2; do
        check "export-raw to a .$s" "$BOXCTL" export-raw -q gpt "$work/out.raw.$s"
        is "$(${unpack[$s]} <"$work/out.raw.$s" | sha256sum | cut -d' ' -f1)" "$(sum "$pool/gpt.raw")" \
                "...${unpack[$s]%% *} unpacks it to the image, byte for byte"
        check "...import-raw of the export" "$BOXCTL" import-raw "$work/out.raw.$s" "back-$s"
        is "$(sum "$pool/back-$s.raw")" "$(sum "$pool/gpt.raw")" "...the same image again"
done
check "remove the round trips" "$BOXCTL" remove back-gz back-xz back-zst back-bz2
is "$("$BOXCTL" export-raw gpt - --format=zstd | zstd -dcq | sha256sum | cut -d' ' -f1)" "$(sum "$pool/gpt.raw")" \
        "export-raw NAME - --format=zstd: to stdout"
check "export-raw --format=none into a .gz name: not compressed" "$BOXCTL" export-raw gpt "$work/plain.gz" --format=none
is "$(sum "$work/plain.gz")" "$(sum "$pool/gpt.raw")" "...the image as it is"
check "export-raw to a file, uncompressed" "$BOXCTL" export-raw e4 "$work/plain.raw"
is "$(sum "$work/plain.raw")" "$(sum "$pool/e4.raw")" "...byte for byte"
ok "...sparse" sparse "$work/plain.raw"
check "export-raw - redirected into a file" bash -c '"$1" export-raw e4 - >"$2"' _ "$BOXCTL" "$work/stdout.raw"
is "$(sum "$work/stdout.raw")" "$(sum "$pool/e4.raw")" "...byte for byte"
ok "...sparse too" sparse "$work/stdout.raw"
is "$("$BOXCTL" export-raw e4 - 2>/dev/null | sha256sum | cut -d' ' -f1)" "$(sum "$pool/e4.raw")" "export-raw to a pipe"

# --- progress: on a terminal only, and not with -q ---
drive() { python3 "$BOXCTL_SRCDIR/tests/lib/pty-drive.py" "$@"; }
check "import-raw on a terminal" drive --log "$work/pty-progress" timeout:60 -- \
        "$BOXCTL" import-raw "$work/ext4.zstd" e4-pty
ok "...draws its progress: bytes of the file's size, rate, time left" grep -qE "$(progress_re import)" "$work/pty-progress"
check "export-raw -q on a terminal" drive --log "$work/pty-quiet" timeout:60 -- \
        "$BOXCTL" export-raw -q e4-pty "$work/pty.raw.xz"
ok "...draws nothing" test ! -s "$work/pty-quiet"
check "remove e4-pty" "$BOXCTL" remove e4-pty

# --- a busy image; a tree ---
"$BOXCTL" run --register=no -M rawrw e4 -- sh -c "$HOLD" &
p=$!
cleanup_push kill -KILL "$p"
check "a machine runs from e4 read-write" wait_for 10 machine_leader rawrw
fails_with "export-raw of an image a machine runs from read-write" "busy" "$BOXCTL" export-raw e4 "$work/busy.raw"
ok "...no output file left" test ! -e "$work/busy.raw"
check "...the machine ends" machine_release rawrw
wait "$p"
cleanup_pop
"$BOXCTL" run --register=no --read-only -M rawro e4 -- sh -c "$HOLD" &
p=$!
cleanup_push kill -KILL "$p"
check "a machine runs from e4 read-only" wait_for 10 machine_leader rawro
check "...export-raw shares the image with it" "$BOXCTL" export-raw e4 "$work/shared.raw.zst"
check "...the machine ends" machine_release rawro
wait "$p"
cleanup_pop
cp -a "$(fixture_busybox)" "$pool/bb"
fails_with "export-raw of a tree" "bb is a directory tree; use export-tar" "$BOXCTL" export-raw bb "$work/bb.raw"
ok "...no output file left" test ! -e "$work/bb.raw"
fails_with "export-tar of a disk image" "e4 is a disk image, not a tree; use export-raw" "$BOXCTL" export-tar e4 "$work/e4.tar"

# --- import-raw: bad input, each refused with nothing left ---
printf '' >"$work/empty"
zstd -c <"$work/empty" >"$work/empty.zst"
head -c $(($(stat -c %s "$work/ext4.zstd") / 2)) "$work/ext4.zstd" >"$work/cut.zst"
head -c $(($(stat -c %s "$work/ext4.gzip") / 2)) "$work/ext4.gzip" >"$work/cut.gz"
head -c 100000 "$work/ext4.xz" >"$work/cut.xz"
head -c 100000 "$work/ext4.bzip2" >"$work/cut.bz2"
gzip -c <"$images/text.raw" >"$work/text.gz"
fails_with "import-raw of a missing file" "No such file" "$BOXCTL" import-raw "$work/nosuch" x1
fails_with "import-raw of an empty file" "no data: the input is empty" "$BOXCTL" import-raw "$work/empty" x2
fails_with "import-raw of an empty stdin" "stdin: refused, nothing imported: no data" \
        bash -c '"$1" import-raw - x3 </dev/null' _ "$BOXCTL"
fails_with "import-raw of a compressed empty file" "no data: the zstd stream holds nothing" \
        "$BOXCTL" import-raw "$work/empty.zst" x4
fails_with "import-raw of random bytes" "not a disk image" "$BOXCTL" import-raw "$images/random.raw" x5
fails_with "import-raw of a text file" "not a disk image" "$BOXCTL" import-raw "$images/text.raw" x6
fails_with "import-raw of a compressed text file" "found a text file" "$BOXCTL" import-raw "$work/text.gz" x7
for s in zst gz xz bz2; do
        fails_with "import-raw of a cut-off .$s stream" "is corrupt or cut off" "$BOXCTL" import-raw "$work/cut.$s" "x-$s"
done
fails_with "import-raw of a cut-off GPT image" "damaged partition table" "$BOXCTL" import-raw "$images/truncated.raw" x8
fails_with "import-raw of a GPT image with its tables zeroed" "damaged partition table" \
        "$BOXCTL" import-raw "$images/zeroed.raw" x9
fails_with "import-raw of a directory" "a directory, not a disk image" "$BOXCTL" import-raw "$work" x10
fails_with "import-raw to an invalid name" "not a valid image name" "$BOXCTL" import-raw "$images/ext4.raw" ../x
fails_with "import-raw to a hidden name" "not a valid image name" "$BOXCTL" import-raw "$images/ext4.raw" .x
e4sum=$(sum "$pool/e4.raw") # (a read-write boot wrote to it)
fails_with "import-raw to an existing raw image's name" "holds an image of that name" \
        "$BOXCTL" import-raw "$images/ext4.raw" e4
fails_with "import-raw to an existing tree's name" "holds an image of that name" "$BOXCTL" import-raw "$images/ext4.raw" bb
is "$(sum "$pool/e4.raw")" "$e4sum" "...the existing image untouched"
fails_with "import-raw with one argument" "usage" "$BOXCTL" import-raw "$images/ext4.raw"
check "an image for another architecture is an image: kept" "$BOXCTL" import-raw "$images/gpt-arm64.raw" arm
check "remove arm" "$BOXCTL" remove arm
ok "nothing half-made is left" nothing_hidden
is "$(names)" "bb e4 gpt sq" "no image was made of them"

# --- export-raw: bad input ---
fails_with "export-raw of a name not in the pool" "nosuch: no such image in the pool $pool" \
        "$BOXCTL" export-raw nosuch "$work/x.raw"
fails_with "export-raw of an invalid name" "not a valid image name" "$BOXCTL" export-raw ../e4 "$work/x.raw"
fails_with "export-raw with a bad --format" "invalid --format 'rar'" "$BOXCTL" export-raw e4 "$work/x.raw" --format=rar
echo precious >"$work/exists.raw"
fails_with "export-raw to an existing file" "File exists" "$BOXCTL" export-raw e4 "$work/exists.raw"
is "$(cat "$work/exists.raw")" precious "...the file untouched"
fails_with "export-raw into a missing directory" "No such file" "$BOXCTL" export-raw e4 "$work/nodir/x.raw"
ok "no output left by any of them" bash -c '! ls "$1"/x.raw* 2>/dev/null' _ "$work"

# --- import-fs ---
src=$work/src
cp -a "$(fixture_busybox)" "$src"
mkdir "$src/keep"
echo data >"$src/keep/file"
chown 1234:2345 "$src/keep/file"
chmod 4750 "$src/keep/file"
ln "$src/keep/file" "$src/keep/hardlink"
setfattr -n user.note -v hello "$src/keep/file"
setfacl -m u:4321:rw "$src/keep/file"
mknod "$src/keep/null" c 1 3
mkfifo "$src/keep/fifo"
ln -s ../etc/os-release "$src/keep/link"
truncate -s 8M "$src/keep/sparse"
echo tail >>"$src/keep/sparse"
touch -d '2001-02-03 04:05:06' "$src/keep"
before=$(meta "$src")
check "import-fs of a tree" "$BOXCTL" import-fs "$src" fs
is "$(meta "$pool/fs")" "$before" "...owners, modes, times, xattrs, ACLs, nodes, hard links kept"
is "$(du -k "$pool/fs/keep/sparse" | cut -f1)" "$(du -k "$src/keep/sparse" | cut -f1)" "...and holes"
is "$(meta "$src")" "$before" "...the source untouched"
ok "...and no hard link between them" bash -c '[[ ! "$1/keep/file" -ef "$2/fs/keep/file" ]]' _ "$src" "$pool"
is "$("$BOXCTL" run --register=no fs -- cat /keep/file 2>/dev/null)" data "...and it boots"
ln -s "$src" "$work/src-link"
check "import-fs through a symlink to the tree" "$BOXCTL" import-fs "$work/src-link" fs2
ok "...a tree, not a symlink, in the pool" bash -c '[[ -d $1/fs2 && ! -L $1/fs2 ]]' _ "$pool"
check "remove fs2" "$BOXCTL" remove fs2
drive() { python3 "$BOXCTL_SRCDIR/tests/lib/pty-drive.py" "$@"; }
check "import-fs on a terminal" drive --log "$work/pty-fs" timeout:60 -- "$BOXCTL" import-fs "$src" fs3
ok "...draws its progress: bytes of the tree's, rate, time left" grep -qE "$(progress_re import)" "$work/pty-fs"
check "import-fs -q on a terminal" drive --log "$work/pty-fs-q" timeout:60 -- "$BOXCTL" import-fs -q "$src" fs4
ok "...draws nothing" test ! -s "$work/pty-fs-q"
is "$("$BOXCTL" import-fs "$src" fs5 2>&1)" "" "import-fs with stderr not a terminal: no progress"
check "remove fs3 fs4 fs5" "$BOXCTL" remove fs3 fs4 fs5
fails_with "import-fs to an existing name" "holds an image of that name" "$BOXCTL" import-fs "$src" fs
fails_with "import-fs to an existing raw image's name" "holds an image of that name" "$BOXCTL" import-fs "$src" e4
fails_with "import-fs to an invalid name" "not a valid image name" "$BOXCTL" import-fs "$src" 'a/b'
fails_with "import-fs of a file" "not a directory" "$BOXCTL" import-fs "$images/ext4.raw" y1
fails_with "import-fs of a missing directory" "No such file" "$BOXCTL" import-fs "$work/nosuch" y2
fails_with "import-fs of the pool itself" "is the pool $pool or inside it" "$BOXCTL" import-fs "$pool" y3
fails_with "import-fs of an image inside the pool" "is the pool $pool or inside it" "$BOXCTL" import-fs "$pool/bb/etc" y4
fails_with "import-fs of a tree that holds the pool" "holds the pool $pool" "$BOXCTL" import-fs "$(dirname "$pool")" y5
mkdir "$work/bind"
mount --bind "$pool" "$work/bind"
cleanup_push umount "$work/bind"
fails_with "import-fs of the pool seen through a bind mount" "is the pool" "$BOXCTL" import-fs "$work/bind/bb" y6
umount "$work/bind"
cleanup_pop
fails_with "import-fs with --format= (no stream to compress)" "unknown option" "$BOXCTL" import-fs --format=gzip "$src" y7
ok "nothing half-made is left" nothing_hidden
is "$(names)" "bb e4 fs gpt sq" "no image was made of them"

# --- reflinks: import-fs where the file system shares extents (XFS) ---
truncate -s 320M "$work/xfs.img"
mkfs.xfs -q -m reflink=1 "$work/xfs.img"
mkdir "$work/xfs"
mount -o loop "$work/xfs.img" "$work/xfs"
cleanup_push umount "$work/xfs"
mkdir "$work/xfs/pool" "$work/xfs/tree"
head -c 4M /dev/urandom >"$work/xfs/tree/data"
check "import-fs within an XFS" "$BOXCTL" import-fs --pool="$work/xfs/pool" "$work/xfs/tree" rl
is "$(sum "$work/xfs/pool/rl/data")" "$(sum "$work/xfs/tree/data")" "...the same data"
ok "...reflinked: its extents are shared" bash -c 'filefrag -v "$1" | grep -q shared' _ "$work/xfs/pool/rl/data"
umount "$work/xfs"
cleanup_pop

# --- a full pool: the error names it, and nothing is left ---
small=$work/small
mkdir "$small"
mount -t tmpfs -o size=1m boxctl-test-small "$small"
cleanup_push umount "$small"
fails_with "import-raw into a full pool" "into the pool $small: No space left on device" \
        "$BOXCTL" import-raw --pool="$small" "$work/ext4.zstd" full
is "$(ls -A "$small")" "" "...nothing left in it"
fails_with "import-fs into a full pool" "into the pool $small: No space left on device" \
        "$BOXCTL" import-fs --pool="$small" "$src" full
is "$(ls -A "$small")" "" "...nothing left in it"
fails_with "export-raw onto a full file system" "cannot export to $small/out.raw: No space left on device" \
        "$BOXCTL" export-raw gpt "$small/out.raw"
is "$(ls -A "$small")" "" "...its output removed"
umount "$small"
cleanup_pop

# --- an import killed halfway: its guard removes what it made ---
mkfifo "$work/fifo"
"$BOXCTL" import-raw "$work/fifo" killed 2>/dev/null &
ipid=$!
cleanup_push kill -KILL "$ipid"
exec {w}>"$work/fifo"
head -c 1000000 "$images/gpt.raw" >&"$w"
ok "an import under way has its hidden entry" \
        wait_for 10 bash -c '[[ -n $(find "$1" -maxdepth 1 -name ".#killed.raw.*" -print -quit) ]]' _ "$pool"
kill -KILL "$ipid"
wait "$ipid" || true
cleanup_pop
exec {w}>&-
ok "...killed by SIGKILL, it leaves nothing" wait_for 10 nothing_hidden
ok "...and no image" no_image killed

check "remove every image" "$BOXCTL" remove bb e4 fs gpt sq
is "$(ls -A "$pool")" "" "the pool is empty"

leaks_check
