#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# images.sh [--quick]
#
# Boot cycles of Debian 12 from disk images and ephemeral (-x) boots, against
# the same tree booted as a directory by boxctl and by systemd-nspawn, and
# print a markdown report on stdout, ready to append to bench/results.md.
# Progress goes to stderr. See bench/README.md for what is measured and why.
#
#   images     boxctl boot of gpt.raw (discoverable partitions: ext4 root,
#              squashfs /usr, ext4 /var), ext4.raw, btrfs.raw, and of
#              squashfs.raw and erofs.raw with --read-only; boxctl boot of the
#              directory (read-write and --read-only); systemd-nspawn -D -b.
#   ephemeral  boxctl boot -x of the directory; systemd-nspawn -x -D -b (which
#              copies the tree on a file system without snapshots).
#
# The images are built here, by tests/fixtures/make-images.sh, from the bench
# copy of the tree (with its power-off unit), into the scratch directory: the
# shared fixture cache is neither read nor written. systemd-nspawn --image=
# cannot run on this host; the report shows what it printed.
#
# The approach and the helpers are bench.sh's: rounds of hyperfine runs in
# alternating order, medians over all rounds, one wrapper for every command,
# the integration tests' lock, clean-up of trees, cgroups and processes at
# exit. boxctl runs with --register=no. Exits non-zero if a check or a
# measured command failed.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
srcdir=$(cd "$here/.." && pwd)
BOXCTL=${BOXCTL:-$srcdir/build/src/boxctl/boxctl}
lock=${BOXCTL_TEST_CACHE:-/var/cache/boxctl-tests}/integration.lock
machine=imgbench
machine_id=b0c7c7be4c4b4e2f9a1d5e6f7a8b9c0d

quick=0
usage() {
        echo "Usage: ${0##*/} [--quick]" >&2
        exit "${1:-2}"
}
while (($# > 0)); do
        case $1 in
        --quick) quick=1 ;;
        -h | --help) usage 0 ;;
        *) usage ;;
        esac
        shift
done

# rounds × runs per round (+ warm-up runs per round) for each of the nine
# fast commands; nspawn -x, which copies the tree and takes seconds, gets its
# own hyperfine call in each round with fewer runs. One round of the full run
# takes about 30 s.
if ((quick)); then
        rounds=2 runs=2 warmup=1
        nspx_runs=1
else
        rounds=10 runs=6 warmup=1
        nspx_runs=2
fi

log() { echo "images: $*" >&2; }
die() {
        log "$*"
        exit 1
}

# ---------------------------------------------------------------------------
# Preconditions

((EUID == 0)) || die "needs root"
for t in hyperfine systemd-nspawn unshare flock python3 timeout sync mksquashfs mkfs.erofs mkfs.btrfs sfdisk debugfs; do
        command -v "$t" >/dev/null || die "$t is not installed"
done
[[ -x $BOXCTL ]] || die "no boxctl at $BOXCTL (build it: meson compile -C build, or set BOXCTL)"

if [[ $(stat -f -c %T /sys/fs/cgroup) == cgroup2fs ]]; then
        cg2=/sys/fs/cgroup
        layout=unified
elif [[ $(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null) == cgroup2fs ]]; then
        cg2=/sys/fs/cgroup/unified
        layout=hybrid
else
        die "no cgroup2 hierarchy at /sys/fs/cgroup or /sys/fs/cgroup/unified"
fi
cgsd=
if [[ $layout == hybrid && $(stat -f -c %T /sys/fs/cgroup/systemd 2>/dev/null) == cgroupfs ]]; then
        cgsd=/sys/fs/cgroup/systemd
fi

# The integration tests SIGKILL boxctl processes they did not start.
mkdir -p "$(dirname "$lock")"
exec {lockfd}>"$lock"
if ! flock -n "$lockfd"; then
        log "waiting for the integration tests to release $lock"
        flock -w 900 "$lockfd" || die "timed out waiting for $lock"
fi

start=$SECONDS
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------------------
# Scratch space and clean-up (as bench.sh)

scratch=
bench_cgroups=()
machine_slice_existed=0
[[ -d $cg2/machine.slice ]] && machine_slice_existed=1

list_cgroups() {
        local d
        for d in "$cg2" $cgsd; do
                find "$d" -mindepth 1 -type d 2>/dev/null || true
        done | LC_ALL=C sort
}

kill_cgroup() {
        local d=$1 i
        [[ -d $d ]] || return 0
        if [[ -e $d/cgroup.kill ]]; then
                echo 1 >"$d/cgroup.kill" 2>/dev/null || true
        else
                # shellcheck disable=SC2038 # cgroup.procs holds PIDs, not names
                find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
        fi
        for ((i = 0; i < 100; i++)); do
                grep -qs 'populated 1' "$d/cgroup.events" || return 0
                sleep 0.1
        done
        log "processes are still left in $d"
        return 1
}

remove_cgroup_tree() {
        [[ -d $1 ]] || return 0
        find "$1" -depth -type d -exec rmdir {} + 2>/dev/null || true
        [[ ! -d $1 ]] || log "could not remove cgroup $1"
}

cleanup() {
        local rc=$? d scope esc
        set +e
        trap - EXIT INT TERM
        esc=${machine//-/\\x2d}
        scope=$cg2/machine.slice/machine-$esc.scope
        for d in "$scope" "${bench_cgroups[0]:-}"; do
                [[ -n $d && -d $d ]] || continue
                if grep -qs 'populated 1' "$d/cgroup.events"; then
                        log "killing processes left in $d"
                        kill_cgroup "$d" || rc=1
                fi
        done
        for d in "$scope" "${bench_cgroups[@]}"; do
                remove_cgroup_tree "$d"
        done
        if ((!machine_slice_existed)); then
                rmdir "$cg2/machine.slice" 2>/dev/null
        fi
        if [[ -n $scratch && -f $scratch/cgroups.before ]]; then
                while read -r d; do
                        log "a tool left cgroup $d behind; removing it"
                        remove_cgroup_tree "$d"
                done < <(list_cgroups | LC_ALL=C comm -13 "$scratch/cgroups.before" - |
                        awk 'NR == 1 || index($0, prev "/") != 1 { print; prev = $0 }')
        fi
        if [[ -n $scratch && -d $scratch ]]; then
                # Every mount and loop device was in a private mount namespace
                # or a process of boxctl's, gone with it. --one-file-system in
                # case.
                rm -rf --one-file-system "$scratch" || log "could not remove $scratch"
        fi
        exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

scratch=$(mktemp -d /var/tmp/boxctl-images.XXXXXX)
chmod 0755 "$scratch"
[[ $scratch =~ ^[A-Za-z0-9._/-]+$ ]] || die "unexpected characters in $scratch"
list_cgroups >"$scratch/cgroups.before"

for d in "$cg2" $cgsd; do
        mkdir "$d/${scratch##*/}"
        bench_cgroups+=("$d/${scratch##*/}")
done

in_bench_cgroup() {
        (
                for d in "${bench_cgroups[@]}"; do
                        echo "$BASHPID" >"$d/cgroup.procs"
                done
                exec "$@"
        ) &
        wait "$!"
}

# ---------------------------------------------------------------------------
# The tree and its images

fixture() {
        unshare --net -- "$srcdir/tests/fixtures/$1" ||
                die "no cached tree from tests/fixtures/$1: run it once (it needs the network)"
}

copy_tree() {
        cp -a "$1" "$2"
        echo "$machine_id" >"$2/etc/machine-id"
}

# bench.sh's prepare_debian, but for read-only roots too:
# - the marker in /var/lib may fail to be written ("-"): a squashfs or erofs
#   root is read-only, and the unit must still power the machine off;
# - what systemd says of multi-user.target also goes to the console, where
#   the check reads it for images (whose /var we do not mount here);
# - it powers off by starting poweroff.target as `systemctl poweroff` does
#   once logind declined, without asking logind first: on a read-only root
#   logind fails to start (README), and `systemctl poweroff` then spends
#   ~45 s in D-Bus timeouts before it falls back. The same unit in every
#   variant, so every boot does the same work.
prepare_debian() {
        local t=$1
        copy_tree "$(fixture make-debian-tree.sh)" "$t"
        mkdir -p "$t/etc/systemd/system/multi-user.target.wants" "$t/var/lib/boxctl-bench"
        cat >"$t/etc/systemd/system/boxctl-bench-poweroff.service" <<'EOF'
# SPDX-License-Identifier: LGPL-2.1-or-later
[Unit]
Description=Power off once multi-user.target is reached (boxctl bench)
After=multi-user.target

[Service]
Type=oneshot
ExecStart=-/bin/sh -c 'systemctl is-active multi-user.target >/var/lib/boxctl-bench/reached'
ExecStart=/bin/sh -c 'echo "boxctl-bench: multi-user.target is $(systemctl is-active multi-user.target)" >/dev/console'
ExecStart=/bin/systemctl --no-block --job-mode=replace-irreversibly start poweroff.target

[Install]
WantedBy=multi-user.target
EOF
        ln -s ../boxctl-bench-poweroff.service "$t/etc/systemd/system/multi-user.target.wants/"
        mkdir -p "$t/etc/systemd/journald.conf.d"
        printf '# SPDX-License-Identifier: LGPL-2.1-or-later\n[Journal]\nStorage=volatile\n' \
                >"$t/etc/systemd/journald.conf.d/boxctl-bench.conf"
}

# ---------------------------------------------------------------------------
# Commands: one string each, as hyperfine -N splits it and run_cmd runs it.
# bench.sh's boot wrapper: a private mount namespace with a tmpfs on /run.

wrap_run_tmpfs='mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run && exec "$@"'
wrapped() {
        local w=$1
        shift
        echo "unshare --mount --propagation private sh -c '$w' sh $*"
}

run_cmd() {
        in_bench_cgroup sh -c "exec $1"
}

# ---------------------------------------------------------------------------
# Measuring

# measure_round TAG ROUND RUNS WARMUP: one hyperfine run over the arrays names
# and cmds, reversed on odd rounds. Writes TAG.ROUND.json. Each run, warm-up
# included, is preceded by a sync (not timed): a read-write image is a file
# behind a loop device, and what a boot wrote into it is still dirty in the
# host's page cache when boxctl exits; the next command should not pay for
# its write-back. Every command gets the same prepare.
measure_round() {
        local tag=$1 r=$2 runs=$3 warmup=$4 i j n=${#names[@]} args=()
        for ((i = 0; i < n; i++)); do
                j=$((r % 2 ? n - 1 - i : i))
                args+=(-n "${names[j]}" "${cmds[j]}")
        done
        if ! in_bench_cgroup hyperfine -N --style basic --warmup "$warmup" --runs "$runs" --prepare sync \
                --export-json "$scratch/$tag.$r.json" "${args[@]}" </dev/null >&2; then
                log "$tag: a measured command failed (round $((r + 1))); see above"
                failed+=("$tag")
                return 1
        fi
}

failed=()

tree=$scratch/debian
images=$scratch/images
log "preparing $tree"
prepare_debian "$tree"
log "building the images of $tree in $images (about 40 s)"
# With a destination given, make-images.sh keeps its lock and stamp beside
# it; BOXCTL_TEST_CACHE makes sure nothing else lands in the shared cache.
BOXCTL_TEST_CACHE=$scratch unshare --net -- "$srcdir/tests/fixtures/make-images.sh" "$tree" "$images" >/dev/null 2>"$scratch/make-images.log" || {
        cat "$scratch/make-images.log" >&2
        die "make-images.sh failed"
}
tree_entries=$(find "$tree" | wc -l)
image_sizes=$(cd "$images" && for f in gpt ext4 btrfs squashfs erofs; do
        printf '%s %s MiB, ' "$f.raw" "$(($(du -k --apparent-size "$f.raw" | cut -f1) / 1024))"
done)

boot() {
        wrapped "$wrap_run_tmpfs" "$BOXCTL" boot --register=no "$@" -M "$machine" --console=read-only
}
nspawn_boot() {
        # bench.sh's: the same cgroup2 layout in the guest as boxctl's.
        echo "env SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 $(wrapped "$wrap_run_tmpfs" systemd-nspawn --keep-unit \
                --register=no --link-journal=no "$@" -M "$machine" --console=read-only -b)"
}
# The fast group first, then nspawn -x (its own hyperfine call, see above).
names=(
        "boxctl dir" "boxctl dir --read-only" "boxctl gpt.raw" "boxctl ext4.raw" "boxctl btrfs.raw"
        "boxctl squashfs.raw --read-only" "boxctl erofs.raw --read-only" "nspawn dir"
        "boxctl -x dir" "nspawn -x dir"
)
n_fast=9
cmds=(
        "$(boot "$tree")"
        "$(boot --read-only "$tree")"
        "$(boot "$images/gpt.raw")"
        "$(boot "$images/ext4.raw")"
        "$(boot "$images/btrfs.raw")"
        "$(boot --read-only "$images/squashfs.raw")"
        "$(boot --read-only "$images/erofs.raw")"
        "$(nspawn_boot -D "$tree")"
        "$(boot -x "$tree")"
        "$(nspawn_boot -x -D "$tree")"
)

# systemd-nspawn --image: once, for what it says.
nspawn_i_cmd=$(nspawn_boot -i "$images/gpt.raw")
rc=0
run_cmd "$nspawn_i_cmd" </dev/null >"$scratch/nspawn-i.log" 2>&1 || rc=$?
nspawn_i_result="exit $rc: $(grep -av '^$' "$scratch/nspawn-i.log" | head -n 1)"
log "systemd-nspawn -i: $nspawn_i_result"

# Once per variant, untimed: it boots to multi-user.target (systemd says so
# on the console: active), powers off and exits 0. The read-write directory
# boot must leave the marker; the ephemeral ones must not: their writes go to
# a throw-away layer (boxctl) or copy (nspawn), never to the tree.
for ((i = 0; i < ${#names[@]}; i++)); do
        out=$scratch/check-$i.log
        rm -f "$tree/var/lib/boxctl-bench/reached"
        rc=0
        t0=$(date +%s%N)
        in_bench_cgroup timeout --kill-after=30 300 sh -c "exec ${cmds[i]}" </dev/null >"$out" 2>&1 || rc=$?
        # The first run of each, for the report: nspawn -x's copy gets slower
        # when it runs again soon after deleting its last copy (README).
        printf '%s\t%s\n' "${names[i]}" "$((($(date +%s%N) - t0) / 1000000))" >>"$scratch/first.tsv"
        marker=$(cat "$tree/var/lib/boxctl-bench/reached" 2>/dev/null) || true
        bad=
        if ((rc != 0)); then
                bad="exit $rc"
        elif ! grep -aq 'Reached target.*multi-user\.target' "$out"; then
                bad="no \"Reached target … multi-user.target\" on the console"
        elif ! grep -aq 'boxctl-bench: multi-user.target is active' "$out"; then
                bad="multi-user.target not active when the power-off unit ran"
        elif ! grep -aq 'Powering off' "$out"; then
                bad="no \"Powering off\" on the console"
        fi
        case ${names[i]} in
        "boxctl dir" | "nspawn dir")
                if [[ -z $bad && $marker != active ]]; then
                        bad="the marker in the tree says '$marker', not active"
                fi
                ;;
        *)
                # Read-only, ephemeral or an image: the tree stays untouched.
                if [[ -z $bad && -n $marker ]]; then
                        bad="it wrote the marker into the tree"
                fi
                ;;
        esac
        if [[ -n $bad ]]; then
                log "${names[i]}: $bad; its console:"
                tail -n 30 "$out" >&2
                die "${names[i]} did not boot to multi-user.target and power off cleanly"
        fi
        log "${names[i]}: reached multi-user.target, powered off, exit 0"
done
# What failed on a read-only root (logind, says the README): the descriptions
# systemd printed on the squashfs boot's console.
for ((i = 0; i < ${#names[@]}; i++)); do
        [[ ${names[i]} == *squashfs* ]] && break
done
ro_failed_units=$(sed 's/\x1b\[[0-9;]*m//g; s/\r*$//' "$scratch/check-$i.log" | grep -a '^\[FAILED\] Failed to start' |
        sed 's/.* - \(.*\)\.$/\1/' | sort -u | paste -sd, | sed 's/,/, /g') || true

all_names=("${names[@]}") all_cmds=("${cmds[@]}")
for ((r = 0; r < rounds; r++)); do
        log "round $((r + 1))/$rounds"
        # The two groups in alternating order too.
        for g in $( ((r % 2)) && echo "nspx fast" || echo "fast nspx"); do
                if [[ $g == fast ]]; then
                        names=("${all_names[@]:0:n_fast}") cmds=("${all_cmds[@]:0:n_fast}")
                        measure_round boot "$r" "$runs" "$warmup"
                else
                        names=("${all_names[@]:n_fast}") cmds=("${all_cmds[@]:n_fast}")
                        measure_round nspx "$r" "$nspx_runs" 0
                fi
        done
done
printf '%s\n' "${all_cmds[@]}" >"$scratch/boot.cmds"

# ---------------------------------------------------------------------------
# Report

nspawn_version=$(systemd-nspawn --version | head -n 1)
boxctl_version=$("$BOXCTL" --version | head -n 1)
boxctl_rev=$(git -C "$srcdir" rev-parse --short HEAD 2>/dev/null || echo unknown)
if ! git -C "$srcdir" diff --quiet HEAD -- src 2>/dev/null; then
        boxctl_rev+=" + uncommitted changes in src/"
fi
cmdline=bench/images.sh
if ((quick)); then cmdline+=" --quick"; fi

NSPAWN_I_RESULT=$nspawn_i_result NSPAWN_I_CMD=$nspawn_i_cmd RO_FAILED_UNITS=$ro_failed_units \
        python3 - "$scratch" "$((SECONDS - start))" "${failed[*]:-}" <<PY
import glob, json, os, statistics, sys

scratch, elapsed, failed = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()

# Round r of the fast group and of nspawn -x, as one.
def rounds(tag):
    for r in range(len(glob.glob(os.path.join(scratch, "boot.*.json")))):
        merged = {}
        for t in ("boot", "nspx"):
            path = os.path.join(scratch, f"{t}.{r}.json")
            if os.path.exists(path):
                merged.update({res["command"]: res for res in json.load(open(path))["results"]})
        yield merged

def times(tag):
    t = {}
    for r in rounds(tag):
        for n, res in r.items():
            if any(c != 0 for c in res.get("exit_codes", [])):
                failed.append(tag)
            t.setdefault(n, []).extend(x * 1000 for x in res["times"])
    return t

# The ratio of a's median to b's within each round: drift of the host between
# rounds (a neighbour's load) cancels out.
def paired(tag, a, b):
    return statistics.median(statistics.median(r[a]["times"]) / statistics.median(r[b]["times"])
                             for r in rounds(tag))

def stats(t):
    t = sorted(t)
    q = statistics.quantiles(t, n=4) if len(t) >= 2 else [t[0]] * 3
    return statistics.median(t), q[0], q[2], t[0], len(t)

t = times("boot")
med = {n: stats(v)[0] for n, v in t.items()}
cpu = {n: statistics.mean(r[n]["user"] + r[n]["system"] for r in rounds("boot")) * 1000 for n in t}
cmds = dict(zip(
    ["boxctl dir", "boxctl dir --read-only", "boxctl gpt.raw", "boxctl ext4.raw", "boxctl btrfs.raw",
     "boxctl squashfs.raw --read-only", "boxctl erofs.raw --read-only", "nspawn dir",
     "boxctl -x dir", "nspawn -x dir"],
    open(os.path.join(scratch, "boot.cmds")).read().split("\n")[:-1]))

def row(n, extra):
    m, q1, q3, lo, k = stats(t[n])
    return f"| \`{n}\` | {m:.1f} | {q1:.1f}–{q3:.1f} | {lo:.1f} | {k} | {cpu[n]:.1f} | " + " | ".join(extra) + " |"

def verdict(ok):
    return "met" if ok else "**not met**"

print("## Disk images and --ephemeral")
print()
print("Reproduce with \`$cmdline\` (as root, from the source tree).")
print()
print("- date: $(date -u '+%Y-%m-%d %H:%M UTC')")
print("- host: Linux $(uname -r), $(nproc) CPUs, cgroup layout $layout, tree and images on $(findmnt -n -o FSTYPE -T "$scratch")")
print("- $boxctl_version, git $boxctl_rev")
print("- $nspawn_version")
print("- $(hyperfine --version)")
print(f"- script run time: {elapsed} s; load average at start $load_start, at end $(cut -d' ' -f1-3 /proc/loadavg)")
print(f"- {len(list(rounds('boot')))} rounds, each one hyperfine call over nine commands ($runs runs each + $warmup warm-up,"
      " in alternating order) and one over \`nspawn -x\` ($nspx_runs runs, no warm-up), the two calls in alternating"
      " order; a \`sync\` (not timed) before every run")
print("- images built by \`tests/fixtures/make-images.sh\` from the bench copy of the tree: $image_sizes".rstrip(", ") + " (apparent sizes)")
print()
print("### Boot cycle from disk images: Debian 12 to multi-user.target and power off")
print()
print("Ratios: of the medians over all runs; in brackets the median of the per-round ratios."
      " Targets: an image within 10 % of the directory, and at most 0.85× systemd-nspawn's"
      " directory boot.")
print()
print("| command | median (ms) | IQR (ms) | min (ms) | runs | CPU, user + sys (ms, mean) | / boxctl dir | / nspawn dir | targets |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
base, nsp = "boxctl dir", "nspawn dir"
for n in ("boxctl dir", "boxctl dir --read-only", "boxctl gpt.raw", "boxctl ext4.raw", "boxctl btrfs.raw",
          "boxctl squashfs.raw --read-only", "boxctl erofs.raw --read-only", "nspawn dir"):
    rd, rn = med[n] / med[base], med[n] / med[nsp]
    target = ""
    if ".raw" in n:
        target = f"{verdict(rd <= 1.10)} / {verdict(rn <= 0.85)}"
    print(row(n, [f"{rd:.3f} ({paired('boot', n, base):.3f})", f"{rn:.3f} ({paired('boot', n, nsp):.3f})", target]))
print()
ro = "boxctl dir --read-only"
print("The read-only images against the directory booted --read-only (same read-only root, same failing"
      f" logind): squashfs {med['boxctl squashfs.raw --read-only'] / med[ro]:.3f}"
      f" ({paired('boot', 'boxctl squashfs.raw --read-only', ro):.3f}),"
      f" erofs {med['boxctl erofs.raw --read-only'] / med[ro]:.3f}"
      f" ({paired('boot', 'boxctl erofs.raw --read-only', ro):.3f}).")
print()
units = os.environ.get("RO_FAILED_UNITS", "").strip()
print("Checked once per variant before timing: it reached multi-user.target (systemd said"
      " \"active\" on the console from the power-off unit), powered off and exited 0."
      + (f" On a read-only root (squashfs, erofs, the directory --read-only) this failed to start, as"
         f" the README says: {units}; multi-user.target was reached all the same." if units else ""))
print()
print("systemd-nspawn cannot boot the images on this host. Run once,"
      f" \`{os.environ['NSPAWN_I_CMD']}\` gave: {os.environ['NSPAWN_I_RESULT']}")
print()
print("### Ephemeral boot cycle (-x) of the directory")
print()
print("boxctl -x: an overlayfs with its upper layer on a tmpfs, the tree as the lower layer."
      " systemd-nspawn -x: a snapshot of the tree, which on this file system (no btrfs"
      " subvolume) is a full copy before the boot and a removal after. Target: boxctl -x"
      " within 5 % of a plain boot.")
print()
print("| command | median (ms) | IQR (ms) | min (ms) | runs | CPU, user + sys (ms, mean) | / boxctl dir | / nspawn -x dir |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
nx = "nspawn -x dir"
for n in ("boxctl dir", "boxctl -x dir", "nspawn dir", "nspawn -x dir"):
    print(row(n, [f"{med[n] / med[base]:.3f} ({paired('boot', n, base):.3f})",
                  f"{med[n] / med[nx]:.3f} ({paired('boot', n, nx):.3f})"]))
print()
rx = med["boxctl -x dir"] / med[base]
first = dict(line.rstrip("\n").split("\t") for line in open(os.path.join(scratch, "first.tsv")))
print(f"boxctl -x / plain boot: {rx:.3f}, per-round {paired('boot', 'boxctl -x dir', base):.3f}."
      f" Target within 5 %: {verdict(rx <= 1.05)}. Checked before timing: neither -x boot wrote"
      " into the tree.")
print()
print("The first run of each (the untimed check):"
      f" nspawn -x {first['nspawn -x dir']} ms, boxctl -x {first['boxctl -x dir']} ms,"
      f" nspawn {first['nspawn dir']} ms, boxctl {first['boxctl dir']} ms.")
print()
print("Nearly all of nspawn -x's time is its copy of the tree ($tree_entries entries), and nearly all of"
      " the copy is finding free inodes: this host's /var/tmp is an ext4 without a journal, whose inode"
      " allocator skips every inode deleted in the last 1–6 minutes (\`recently_deleted()\`); a"
      " profile of \`cp -a\` of the tree put 93 % of its time in \`find_inode_bit()\` and"
      " \`recently_deleted()\`. Each nspawn -x run deletes its copy, for the next run to skip, and so"
      " does other work on the host. It is measured as it comes.")
print()
print("Commands (in a cgroup of the script's own):")
print()
for n, c in cmds.items():
    print(f"- {n}: \`{c}\`")
print()
if failed:
    print("FAILED: " + " ".join(sorted(set(failed))))
    sys.exit(1)
PY
