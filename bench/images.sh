#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# images.sh [--quick] [--only erofs]
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
# --only erofs: only the directory --read-only and erofs.raw --read-only,
# mounted from the file and (BOXCTL_IMAGE_LOOP=1) on a loop device, in more
# rounds: the one comparison, with a tighter spread, in a few minutes.
#
# The images are built here, by tests/fixtures/make-images.sh, from the bench
# copy of the tree (with its power-off unit), into the scratch directory: the
# shared fixture cache is neither read nor written. systemd-nspawn --image=
# cannot run on this host; the report shows what it printed.
#
# The approach is bench.sh's, its helpers in bench/lib.sh: rounds of hyperfine
# runs in alternating order, medians over all rounds, one wrapper for every
# command, the integration tests' lock, clean-up of trees, cgroups and
# processes at exit. boxctl runs with --register=no. Exits non-zero if a check
# or a measured command failed.

set -euo pipefail

bench_name=images
machine=imgbench
usage_args="[--quick] [--only erofs]"
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

only=
parse_option() {
        case $1 in
        --only)
                [[ ${2:-} == erofs ]] || usage
                only=$2
                opt_shift=2
                ;;
        --only=erofs) only=erofs ;;
        *) return 1 ;;
        esac
}
parse_args "$@"
if [[ -n $only ]]; then cmdline+=" --only $only"; fi

# rounds × runs per round (+ warm-up runs per round) for each of the ten
# fast commands; nspawn -x, which copies the tree and takes seconds, gets its
# own hyperfine call in each round with fewer runs. One round of the full run
# takes about 30 s.
if ((quick)); then
        rounds=2 runs=2 warmup=1
        nspx_runs=1
elif [[ -n $only ]]; then
        rounds=15 runs=6 warmup=1
else
        rounds=10 runs=6 warmup=1
        nspx_runs=2
fi

bench_preconditions hyperfine systemd-nspawn unshare flock python3 timeout sync mksquashfs mkfs.erofs mkfs.btrfs sfdisk debugfs
bench_setup

# ---------------------------------------------------------------------------
# The tree and its images

# lib.sh's prepare_debian, but for read-only roots too:
# - the marker in /var/lib may fail to be written ("-"): a squashfs or erofs
#   root is read-only, and the unit must still power the machine off;
# - what systemd says of multi-user.target also goes to the console, where
#   the check reads it for images (whose /var we do not mount here);
# - it powers off by starting poweroff.target as `systemctl poweroff` does
#   once logind declined, without asking logind first: on a read-only root
#   logind fails to start (README), and `systemctl poweroff` then spends
#   ~45 s in D-Bus timeouts before it falls back. The same unit in every
#   variant, so every boot does the same work.
prepare_debian_ro() {
        prepare_debian "$1" \
                "-/bin/sh -c 'systemctl is-active multi-user.target >/var/lib/boxctl-bench/reached'" \
                "/bin/sh -c 'echo \"boxctl-bench: multi-user.target is \$(systemctl is-active multi-user.target)\" >/dev/console'" \
                "/bin/systemctl --no-block --job-mode=replace-irreversibly start poweroff.target"
}

# ---------------------------------------------------------------------------
# Commands: one string each, as hyperfine -N splits it and run_cmd runs it, in
# lib.sh's boot wrapper: a private mount namespace with a tmpfs on /run.
#
# measure_round (lib.sh) gets --prepare sync: each run, warm-up included, is
# preceded by a sync (not timed). A read-write image is a file behind a loop
# device, and what a boot wrote into it is still dirty in the host's page
# cache when boxctl exits; the next command should not pay for its
# write-back. Every command gets the same prepare.

tree=$scratch/debian
images=$scratch/images
log "preparing $tree"
prepare_debian_ro "$tree"
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
        "boxctl squashfs.raw --read-only" "boxctl erofs.raw --read-only" "boxctl erofs.raw --read-only, loop"
        "nspawn dir" "boxctl -x dir" "nspawn -x dir"
)
n_fast=10
cmds=(
        "$(boot "$tree")"
        "$(boot --read-only "$tree")"
        "$(boot "$images/gpt.raw")"
        "$(boot "$images/ext4.raw")"
        "$(boot "$images/btrfs.raw")"
        "$(boot --read-only "$images/squashfs.raw")"
        "$(boot --read-only "$images/erofs.raw")"
        "env BOXCTL_IMAGE_LOOP=1 $(boot --read-only "$images/erofs.raw")"
        "$(nspawn_boot -D "$tree")"
        "$(boot -x "$tree")"
        "$(nspawn_boot -x -D "$tree")"
)

if [[ -n $only ]]; then
        names=("${names[1]}" "${names[6]}" "${names[7]}")
        cmds=("${cmds[1]}" "${cmds[6]}" "${cmds[7]}")
        n_fast=3
fi

# systemd-nspawn --image: once, for what it says.
nspawn_i_cmd=$(nspawn_boot -i "$images/gpt.raw")
nspawn_i_result=
if [[ -z $only ]]; then
        rc=0
        run_cmd "$nspawn_i_cmd" </dev/null >"$scratch/nspawn-i.log" 2>&1 || rc=$?
        nspawn_i_result="exit $rc: $(grep -av '^$' "$scratch/nspawn-i.log" | head -n 1)"
        log "systemd-nspawn -i: $nspawn_i_result"
fi

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
        [[ ${names[i]} == *squashfs* || -n $only && ${names[i]} == *erofs* ]] && break
done
ro_failed_units=$(sed 's/\x1b\[[0-9;]*m//g; s/\r*$//' "$scratch/check-$i.log" | grep -a '^\[FAILED\] Failed to start' |
        sed 's/.* - \(.*\)\.$/\1/' | sort -u | paste -sd, | sed 's/,/, /g') || true

all_names=("${names[@]}") all_cmds=("${cmds[@]}")
for ((r = 0; r < rounds; r++)); do
        log "round $((r + 1))/$rounds"
        # The two groups in alternating order too.
        for g in $( ((r % 2)) && echo "nspx fast" || echo "fast nspx"); do
                if [[ $g == nspx && -n $only ]]; then continue; fi
                if [[ $g == fast ]]; then
                        names=("${all_names[@]:0:n_fast}") cmds=("${all_cmds[@]:0:n_fast}")
                        measure_round boot "$r" "$runs" "$warmup" --prepare sync
                else
                        names=("${all_names[@]:n_fast}") cmds=("${all_cmds[@]:n_fast}")
                        measure_round nspx "$r" "$nspx_runs" 0 --prepare sync
                fi
        done
done
printf '%s\n' "${all_cmds[@]}" >"$scratch/boot.cmds"

# ---------------------------------------------------------------------------
# Report

{
        report_intro "## Disk images and --ephemeral${only:+: erofs from the file}"
        report_facts --load ", cgroup layout $layout, tree and images on $(findmnt -n -o FSTYPE -T "$scratch")" \
                "$(systemd-nspawn --version | head -n 1)"
}

if [[ -n $only ]]; then
        RO_FAILED_UNITS=$ro_failed_units python3 - "$scratch" "${failed[*]:-}" <<PY
$report_py

t = times("boot")
med = {n: stats(v)[0] for n, v in t.items()}
print(f"- {len(glob.glob(os.path.join(scratch, 'boot.*.json')))} rounds, each one hyperfine call over three commands"
      " ($runs runs each + $warmup warm-up, in alternating order); a \`sync\` (not timed) before every run")
print("- images built by \`tests/fixtures/make-images.sh\` from the bench copy of the tree: $image_sizes".rstrip(", ") + " (apparent sizes)")
print()
print("### erofs from the file against erofs on a loop device: Debian 12 to multi-user.target and power off, read-only")
print()
print("Ratios: of the medians over all runs; in brackets the median of the per-round ratios.")
print()
print("| command | median (ms) | IQR (ms) | min (ms) | runs | CPU, user + sys (ms, mean) | / dir --read-only | / erofs, loop |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
ro, lo = "boxctl dir --read-only", "boxctl erofs.raw --read-only, loop"
for n in (ro, "boxctl erofs.raw --read-only", lo):
    print(f"| \`{n}\` | {cells(t[n])} | {cpu('boot', n):.1f} | {med[n] / med[ro]:.3f} ({statistics.median(paired('boot', n, ro)):.3f})"
          f" | {med[n] / med[lo]:.3f} ({statistics.median(paired('boot', n, lo)):.3f}) |")
print()
units = os.environ.get("RO_FAILED_UNITS", "").strip()
print("Checked once per command before timing: it reached multi-user.target, powered off and exited 0."
      + (f" On the read-only root this failed to start: {units}." if units else ""))
print()
list_commands(["boxctl dir --read-only", "boxctl erofs.raw --read-only", "boxctl erofs.raw --read-only, loop"],
              open(os.path.join(scratch, "boot.cmds")).read().split("\n")[:-1])
finish()
PY
        exit
fi

NSPAWN_I_RESULT=$nspawn_i_result NSPAWN_I_CMD=$nspawn_i_cmd RO_FAILED_UNITS=$ro_failed_units \
        python3 - "$scratch" "${failed[*]:-}" <<PY
$report_py

# Round r of the fast group and of nspawn -x, as one.
def rounds(tag):
    for r in range(len(glob.glob(os.path.join(scratch, "boot.*.json")))):
        merged = {}
        for t in ("boot", "nspx"):
            path = os.path.join(scratch, f"{t}.{r}.json")
            if os.path.exists(path):
                merged.update({res["command"]: res for res in json.load(open(path))["results"]})
        yield merged

# The median of the per-round ratios of a's median to b's.
def per_round(a, b):
    return statistics.median(paired("boot", a, b))

t = times("boot")
med = {n: stats(v)[0] for n, v in t.items()}
commands = dict(zip(
    ["boxctl dir", "boxctl dir --read-only", "boxctl gpt.raw", "boxctl ext4.raw", "boxctl btrfs.raw",
     "boxctl squashfs.raw --read-only", "boxctl erofs.raw --read-only",
     "boxctl erofs.raw --read-only, loop", "nspawn dir", "boxctl -x dir", "nspawn -x dir"],
    open(os.path.join(scratch, "boot.cmds")).read().split("\n")[:-1]))

def row(n, extra):
    return f"| \`{n}\` | {cells(t[n])} | {cpu('boot', n):.1f} | " + " | ".join(extra) + " |"

def verdict(ok):
    return "met" if ok else "**not met**"

print(f"- {len(list(rounds('boot')))} rounds, each one hyperfine call over ten commands ($runs runs each + $warmup warm-up,"
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
          "boxctl squashfs.raw --read-only", "boxctl erofs.raw --read-only",
          "boxctl erofs.raw --read-only, loop", "nspawn dir"):
    rd, rn = med[n] / med[base], med[n] / med[nsp]
    target = ""
    if ".raw" in n:
        target = f"{verdict(rd <= 1.10)} / {verdict(rn <= 0.85)}"
    print(row(n, [f"{rd:.3f} ({per_round(n, base):.3f})", f"{rn:.3f} ({per_round(n, nsp):.3f})", target]))
print()
ro = "boxctl dir --read-only"
print("The read-only images against the directory booted --read-only (same read-only root, same failing"
      f" logind): squashfs {med['boxctl squashfs.raw --read-only'] / med[ro]:.3f}"
      f" ({per_round('boxctl squashfs.raw --read-only', ro):.3f}),"
      f" erofs {med['boxctl erofs.raw --read-only'] / med[ro]:.3f}"
      f" ({per_round('boxctl erofs.raw --read-only', ro):.3f}),"
      f" erofs on a loop device {med['boxctl erofs.raw --read-only, loop'] / med[ro]:.3f}"
      f" ({per_round('boxctl erofs.raw --read-only, loop', ro):.3f}).")
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
    print(row(n, [f"{med[n] / med[base]:.3f} ({per_round(n, base):.3f})",
                  f"{med[n] / med[nx]:.3f} ({per_round(n, nx):.3f})"]))
print()
rx = med["boxctl -x dir"] / med[base]
first = dict(line.rstrip("\n").split("\t") for line in open(os.path.join(scratch, "first.tsv")))
print(f"boxctl -x / plain boot: {rx:.3f}, per-round {per_round('boxctl -x dir', base):.3f}."
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
list_commands(commands.keys(), commands.values())
finish()
PY
