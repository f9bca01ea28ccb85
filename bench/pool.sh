#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# pool.sh [--quick]
#
# The image pool's long operations, and print a markdown report on stdout,
# ready to append to bench/results.md. Progress goes to stderr.
#
#   import   boxctl import-tar of a tar.zst of the Debian 12 fixture (made by
#            GNU tar with xattrs and ACLs) against GNU tar --zstd -x of it
#   export   boxctl export-tar to a .tar.zst against GNU tar --zstd -c of the
#            same tree, with xattrs and ACLs
#   clone    boxctl clone of the imported tree: a snapshot on btrfs against a
#            copy on ext4; and of a raw image (ext4, the same tree): a reflink
#            on btrfs against a copy on ext4. Each file system is made here on
#            a loop device over a file in the scratch directory.
#
# Throughput is the tar stream's uncompressed size over the median time. Both
# tools read and write through the page cache of the same disk. GNU tar runs
# zstd as a second process (two CPUs at once); boxctl compresses in its own
# (libarchive's zstd, level 3 as zstd's default).
#
# The approach is bench.sh's, its helpers in bench/lib.sh: rounds of hyperfine
# runs in alternating order, medians over all rounds, the integration tests'
# lock, clean-up at exit (here also the mounts and loop devices). Exits
# non-zero if a check or a measured command failed.

set -euo pipefail

bench_name=pool
machine=poolbench
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

parse_args "$@"

if ((quick)); then
        rounds=2 runs=2 warmup=0
else
        rounds=3 runs=3 warmup=1
fi

bench_preconditions hyperfine tar zstd mkfs.btrfs mkfs.ext4 losetup python3 flock
bench_setup

# The loop devices and mounts of the clone part, taken away before lib.sh's
# clean-up removes the scratch directory.
mounts=() loops=()
teardown() {
        local m l
        for m in "${mounts[@]}"; do umount "$m" || log "could not unmount $m"; done
        for l in "${loops[@]}"; do losetup -d "$l" || log "could not detach $l"; done
}
# (set +e first: under set -e the "(exit $rc_)" that hands cleanup the status
# would end the trap before cleanup ran.)
trap 'rc_=$?; set +e; teardown; (exit $rc_); cleanup' EXIT

# mkfs_mount FSTYPE: FSTYPE on a loop device over a sparse 2 GiB file, on
# $scratch/FSTYPE.
mkfs_mount() {
        local loop
        truncate -s 2G "$scratch/$1.img"
        loop=$(losetup --show -f "$scratch/$1.img")
        loops+=("$loop")
        "mkfs.$1" -q "$loop" >/dev/null
        mkdir "$scratch/$1"
        mount "$loop" "$scratch/$1"
        mounts+=("$scratch/$1")
}

# prep NAME CMD...: a script that runs CMD (a shell line) as a hyperfine
# --prepare; hyperfine -N runs no shell.
prep() {
        local f=$scratch/prep-$1
        shift
        printf '#!/bin/sh\n%s\n' "$*" >"$f"
        chmod +x "$f"
        echo "$f"
}

deb=$(fixture make-debian-tree.sh)
log "the tar of $deb"
tar --xattrs --xattrs-include='*' --acls --zstd -C "$deb" -cf "$scratch/deb.tar.zst" .
stream=$(zstd -dc "$scratch/deb.tar.zst" | wc -c)
compressed=$(stat -c %s "$scratch/deb.tar.zst")
taropts="--xattrs --xattrs-include=* --acls --zstd"
pool=$scratch/pool
mkdir "$pool" "$scratch/out"

# --- the untimed checks: each command works, and the round trip keeps the tree ---
"$BOXCTL" import-tar -q --pool="$pool" "$scratch/deb.tar.zst" deb
"$BOXCTL" export-tar -q --pool="$pool" deb "$scratch/check.tar.zst"
mkdir "$scratch/check"
# shellcheck disable=SC2086 # taropts are words
# (GNU tar 1.34 warns of the LIBARCHIVE.xattr.* keywords it skips.)
tar $taropts -C "$scratch/check" -xf "$scratch/check.tar.zst" 2>/dev/null
# (A directory's size is its file system's business, not content.)
tree_list() {
        (cd "$1" && find . \( -type d -printf '%P %y %m %U:%G - %T@\n' \) -o -printf '%P %y %m %U:%G %s %T@ %l\n' |
                LC_ALL=C sort)
}
if [[ $(tree_list "$deb") != "$(tree_list "$scratch/check")" ]]; then
        log "export-tar | tar -x does not give the fixture back"
        failed+=(check)
fi
rm -rf "$scratch/check" "$scratch/check.tar.zst"

# --- import ---
names=(boxctl-import-tar tar-x)
cmds=("$BOXCTL import-tar -q --pool=$pool $scratch/deb.tar.zst imp"
        "tar $taropts -C $scratch/tarx -xf $scratch/deb.tar.zst")
preps=("$(prep imp "rm -rf '$pool/imp'")" "$(prep tarx "rm -rf '$scratch/tarx' && mkdir '$scratch/tarx'")")
printf '%s\n' "${cmds[@]}" >"$scratch/import.cmds"
measure import "$rounds" "$runs" "$warmup" || true

# --- export ---
names=(boxctl-export-tar tar-c)
cmds=("$BOXCTL export-tar -q --pool=$pool deb $scratch/out/b.tar.zst"
        "tar $taropts -C $pool/deb -cf $scratch/out/t.tar.zst .")
preps=("$(prep expb "rm -f '$scratch/out/b.tar.zst'")" "$(prep expt "rm -f '$scratch/out/t.tar.zst'")")
printf '%s\n' "${cmds[@]}" >"$scratch/export.cmds"
measure export "$rounds" "$runs" "$warmup" || true
rm -rf "$pool/imp" "$scratch/tarx" "$scratch/out"

# --- clone ---
mkfs_mount btrfs
mkfs_mount ext4
for fs in btrfs ext4; do
        "$BOXCTL" import-tar -q --pool="$scratch/$fs/pool" "$scratch/deb.tar.zst" deb
        # The same tree as an ext4 disk image, a raw image of the pool.
        truncate -s 512M "$scratch/$fs/pool/disk.raw"
        mkfs.ext4 -q -d "$deb" "$scratch/$fs/pool/disk.raw"
done
sync
[[ $(stat -c %i "$scratch/btrfs/pool/deb") == 256 ]] || { log "the import on btrfs is no subvolume"; failed+=(check); }
usage=$(du -s --block-size=1 "$scratch/ext4/pool/disk.raw" | cut -f1)
names=(snapshot-btrfs copy-ext4 reflink-raw-btrfs copy-raw-ext4)
cmds=()
preps=()
for n in "${names[@]}"; do
        fs=${n##*-}
        src=deb
        [[ $n == *raw* ]] && src=disk
        cmds+=("$BOXCTL clone -q --pool=$scratch/$fs/pool $src c-$n")
        preps+=("$(prep "$n" "'$BOXCTL' remove --pool='$scratch/$fs/pool' c-$n 2>/dev/null; sync")")
done
printf '%s\n' "${cmds[@]}" >"$scratch/clone.cmds"
measure clone "$rounds" "$runs" "$warmup" || true

# --- report ---
report_intro "## The image pool: import-tar and export-tar against GNU tar, clone by snapshot and reflink against copy (bench/pool.sh)"
report_facts --load "" "$(tar --version | head -n 1)" "$(zstd --version | sed "s/^\*\*\* //; s/ \*\*\*$//")" "$(mkfs.btrfs --version 2>&1 | head -n 1)"
echo
python3 - "$scratch" "${failed[*]:-}" "$stream" "$compressed" "$deb" "$usage" <<PY
$report_py
stream, compressed, deb, usage = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], int(sys.argv[6])

print(f"The Debian 12 fixture ({deb}): a tar stream of {stream / 2**20:.1f} MiB, "
      f"{compressed / 2**20:.1f} MiB with zstd. Times in ms; throughput in MiB/s of the "
      "uncompressed stream at the median.")
print()
for tag, title, a, b in (("import", "import", "boxctl-import-tar", "tar-x"),
                         ("export", "export", "boxctl-export-tar", "tar-c")):
    t = times(tag)
    if not t:
        continue
    print(f"### {title}: boxctl against GNU tar + zstd")
    print()
    print("| command | median | IQR | min | runs | MiB/s | CPU ms (user+sys) |")
    print("|---|---|---|---|---|---|---|")
    for n in (a, b):
        m = stats(t[n])[0]
        print(f"| {n} | {cells(t[n])} | {stream / 2**20 / (m / 1000):.0f} | {cpu(tag, n):.0f} |")
    p = paired(tag, b, a)
    print()
    print(f"boxctl's throughput over tar's: **{statistics.median(t[b]) / statistics.median(t[a]):.2f}x** "
          f"(per round: {', '.join(f'{x:.2f}' for x in p)}; target ≥ 0.9x)")
    print()
    list_commands([a, b], cmds(tag))

t = times("clone")
if t:
    print("### clone: a snapshot or reflink on btrfs against a copy on ext4")
    print()
    print(f"The tree is the imported fixture; the raw image is an ext4 image of it (512 MiB, "
          f"{usage / 2**20:.0f} MiB allocated). Each file system is on a loop device over a file.")
    print()
    print("| command | median | IQR | min | runs |")
    print("|---|---|---|---|---|")
    for n in ("snapshot-btrfs", "copy-ext4", "reflink-raw-btrfs", "copy-raw-ext4"):
        print(f"| {n} | {cells(t[n])} |")
    print()
    for a, b in (("copy-ext4", "snapshot-btrfs"), ("copy-raw-ext4", "reflink-raw-btrfs")):
        print(f"- {a} over {b}: {statistics.median(t[a]) / statistics.median(t[b]):.0f}x")
    print()
    list_commands(["snapshot-btrfs", "copy-ext4", "reflink-raw-btrfs", "copy-raw-ext4"], cmds("clone"))
finish()
PY
