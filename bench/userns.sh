#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# userns.sh [--quick]
#
# What a user namespace (-U, with the tree mounted idmapped) costs boxctl, and
# print a markdown report on stdout, ready to append to bench/results.md.
# Progress goes to stderr. See bench/README.md for what is measured and why.
#
#   boot   Debian 12 with systemd to multi-user.target and power off, with
#          `boxctl boot -U` and without -U.
#   start  "/bin/true" in two copies of the busybox tree, one with 10,000 extra
#          files and one with 200,000, with `boxctl run -U` and without, and
#          with systemd-nspawn --private-users=pick
#          --private-users-ownership=chown, whose first start chowns the tree.
#          The tree's owners are put back before each such nspawn run (hyperfine
#          --prepare, not timed); boxctl's runs get no prepare.
#
# The approach is bench.sh's, its helpers in bench/lib.sh: rounds of hyperfine
# runs in alternating order, medians over all rounds, one wrapper for every
# tool, the integration tests' lock, clean-up of trees, cgroups and processes
# at exit. Exits non-zero if a check or a measured command of boxctl failed. An
# nspawn -U that cannot run on this host is reported with what it printed.

set -euo pipefail

bench_name=userns
machine=userns-bench
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
small_files=10000
big_files=200000

parse_args "$@"

# rounds × runs per round (+ warm-up runs per round). "chown" is nspawn's
# first start with -U: seconds a run on the big tree, plus the reset.
if ((quick)); then
        boot_rounds=2 boot_runs=2 boot_warmup=1
        start_rounds=2 start_runs=5 start_warmup=1
        chown_runs=1
else
        # Many short rounds: a neighbour's burst then hits both variants.
        boot_rounds=20 boot_runs=4 boot_warmup=1
        start_rounds=10 start_runs=20 start_warmup=2
        chown_runs=3
fi

bench_preconditions hyperfine systemd-nspawn unshare flock python3 timeout
bench_setup

# ---------------------------------------------------------------------------
# Trees: lib.sh's copy_tree and prepare_debian (bench.sh's power-off unit and
# volatile journal)

# Helpers in Python, for speed on 200,000 files.
#   files TREE N    N empty files under /var/lib/bench-files, 100 a directory,
#                   file i owned by i % 1001 : 7i % 1001, each directory by
#                   another uid of 0..1000: a chown has real work everywhere.
#   save TREE FILE  record the owner (and set-id mode bits) of every entry
#   restore FILE    put back what FILE recorded, shifted into 0..65535:
#                   nspawn's chown made each owner BASE | (owner & 0xFFFF),
#                   and the trees' own owners are all below 65536; then sync
#   compare A B     exit 1 (printing a few) if an entry of A has another owner
#                   or is missing in B
cat >"$scratch/owners.py" <<'EOF'
# SPDX-License-Identifier: LGPL-2.1-or-later
import marshal, os, stat, sys

def files(root, n):
    top = os.path.join(root, "var/lib/bench-files")
    os.makedirs(top)
    for i in range(0, n, 100):
        if i % 10000 == 0:
            mid = os.path.join(top, "m%03d" % (i // 10000))
            os.mkdir(mid)
        leaf = os.path.join(mid, "d%03d" % (i // 100 % 100))
        os.mkdir(leaf)
        fd = os.open(leaf, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        for k in range(min(100, n - i)):
            f = os.open("f%03d" % k, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644, dir_fd=fd)
            os.fchown(f, (i + k) % 1001, (i + k) * 7 % 1001)
            os.close(f)
        os.fchown(fd, i // 100 % 1001, i // 100 % 1001)
        os.close(fd)

def save(root, out):
    dirs = []
    for d, subdirs, names in os.walk(root):
        ents = []
        for n in [".", *subdirs, *names]:
            st = os.lstat(os.path.join(d, n))
            setid = not stat.S_ISLNK(st.st_mode) and st.st_mode & 0o6000
            ents.append((n, st.st_uid, st.st_gid, st.st_mode & 0o7777 if setid else -1))
        dirs.append((d, ents))
    with open(out, "wb") as f:
        marshal.dump(dirs, f)

def load(path):
    with open(path, "rb") as f:
        return marshal.load(f)

def restore(path):
    for d, ents in load(path):
        fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            for n, u, g, m in ents:
                os.chown(n, u & 0xFFFF, g & 0xFFFF, dir_fd=fd, follow_symlinks=False)
                if m >= 0:  # chown() cleared the set-id bits
                    os.chmod(n, m, dir_fd=fd)
        finally:
            os.close(fd)
    # Write the inodes back now, not during the next measured runs.
    os.sync()

def flat(path):
    return {os.path.join(d, n): (u, g) for d, ents in load(path) for n, u, g, _ in ents}

def compare(a, b):
    a, b = flat(a), flat(b)
    bad = [(p, o, b.get(p)) for p, o in a.items() if b.get(p) != o]
    for p, o, n in bad[:5]:
        print(f"{p}: owner {o[0]}:{o[1]}, now {'missing' if n is None else '%d:%d' % n}", file=sys.stderr)
    if bad:
        print(f"{len(bad)} of {len(a)} entries changed", file=sys.stderr)
        sys.exit(1)

cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "files":
    files(args[0], int(args[1]))
elif cmd == "save":
    save(*args)
elif cmd == "restore":
    restore(*args)
elif cmd == "compare":
    compare(*args)
else:
    sys.exit(f"unknown command {cmd}")
EOF
owners() { python3 "$scratch/owners.py" "$@"; }

# ---------------------------------------------------------------------------
# Commands: one string each, as hyperfine -N splits it and run_cmd runs it, in
# lib.sh's wrappers; measure_round there too.

# ---------------------------------------------------------------------------
# Boot: -U against no -U

boot_section() {
        local tree=$scratch/debian i
        log "boot: preparing $tree"
        prepare_debian "$tree"
        owners save "$tree" "$scratch/debian.owners"
        names=("boxctl boot" "boxctl boot -U")
        cmds=(
                "$(wrapped "$wrap_run_tmpfs" "$BOXCTL" boot --register=no "$tree" -M "$machine" --console=read-only)"
                "$(wrapped "$wrap_run_tmpfs" "$BOXCTL" boot --register=no -U "$tree" -M "$machine" --console=read-only)"
        )
        preps=()

        # Once, untimed: each reaches multi-user.target, powers off, exits 0.
        for ((i = 0; i < ${#names[@]}; i++)); do
                check_boot "${names[i]}" "${cmds[i]}" "$tree" "$scratch/boot-$i.log" || { failed+=(boot); return 1; }
                log "boot: ${names[i]} reached multi-user.target and powered off, exit 0"
        done
        # The idmapped mount must have left every owner on disk as it was.
        owners save "$tree" "$scratch/debian.owners.after"
        if ! owners compare "$scratch/debian.owners" "$scratch/debian.owners.after"; then
                log "boot: boxctl boot -U changed owners on disk"
                failed+=(boot)
                return 1
        fi

        measure boot "$boot_rounds" "$boot_runs" "$boot_warmup" || return 1
        printf '%s\n' "${cmds[@]}" >"$scratch/boot.cmds"
}

# ---------------------------------------------------------------------------
# Start: small tree against big tree, idmapped (boxctl) against chowned
# (systemd-nspawn), each with a no -U baseline

# check_boxctl_userns TREE: inside, root is a range of host IDs, and a file
# keeps the owner it has on disk.
check_boxctl_userns() {
        local tree=$1 map own
        map=$(run_cmd "$(wrapped "$wrap_run_cg" "$BOXCTL" run --register=no -U "$tree" -M "$machine" -- /bin/cat /proc/self/uid_map)" </dev/null)
        own=$(run_cmd "$(wrapped "$wrap_run_cg" "$BOXCTL" run --register=no -U "$tree" -M "$machine" -- /bin/ls -lnd /var/lib/bench-files/m000/d001/f007)" </dev/null)
        read -r -a map <<<"$map"
        read -r -a own <<<"$own"
        if [[ ${map[0]:-} != 0 || ${map[1]:-0} -lt 65536 || ${map[2]:-} != 65536 ]]; then
                log "start: boxctl -U in $tree: uid_map is '${map[*]}', want 0 BASE 65536"
                return 1
        fi
        # File 107: uid 107, gid 749 on disk.
        if [[ "${own[2]:-}:${own[3]:-}" != 107:749 ]]; then
                log "start: boxctl -U in $tree: a file owned by 107:749 on disk shows as ${own[2]:-?}:${own[3]:-?}"
                return 1
        fi
        log "start: boxctl -U in $tree: root is host UID ${map[1]}, files keep their owners"
}

start_section() {
        local busybox size tree i r g rc out
        local -a sizes=(small big) counts=("$small_files" "$big_files")
        busybox=$(fixture make-busybox-tree.sh)
        for i in 0 1; do
                tree=$scratch/${sizes[i]}
                log "start: preparing $tree (busybox + ${counts[i]} files)"
                copy_tree "$busybox" "$tree"
                owners files "$tree" "${counts[i]}"
                owners save "$tree" "$scratch/${sizes[i]}.owners"
        done
        entries_small=$(find "$scratch/small" | wc -l)
        entries_big=$(find "$scratch/big" | wc -l)

        # The fast group: no prepare for anyone.
        names=() cmds=() preps=()
        for size in small big; do
                tree=$scratch/$size
                names+=("boxctl @ $size" "boxctl -U @ $size" "nspawn @ $size")
                cmds+=(
                        "$(wrapped "$wrap_run_cg" "$BOXCTL" run --register=no "$tree" -M "$machine" -- /bin/true)"
                        "$(wrapped "$wrap_run_cg" "$BOXCTL" run --register=no -U "$tree" -M "$machine" -- /bin/true)"
                        "$(wrapped "$wrap_run_cg" systemd-nspawn --keep-unit --register=no --link-journal=no \
                                -D "$tree" -M "$machine" /bin/true)"
                )
        done
        for ((i = 0; i < ${#names[@]}; i++)); do
                check_run start "${names[i]}" "${cmds[i]}" || { failed+=(start); return 1; }
        done
        for size in small big; do
                check_boxctl_userns "$scratch/$size" || { failed+=(start); return 1; }
                owners save "$scratch/$size" "$scratch/$size.owners.after"
                if ! owners compare "$scratch/$size.owners" "$scratch/$size.owners.after"; then
                        log "start: boxctl run -U changed owners on disk in $scratch/$size"
                        failed+=(start)
                        return 1
                fi
        done
        fast_names=("${names[@]}") fast_cmds=("${cmds[@]}")

        # The chown group: nspawn -U, each run on a tree with its original
        # owners (put back by the prepare, not timed).
        chown_names=() chown_cmds=() chown_preps=()
        nspawn_u_error=
        for size in small big; do
                tree=$scratch/$size
                chown_names+=("nspawn -U chown @ $size")
                chown_cmds+=("$(wrapped "$wrap_run_cg" systemd-nspawn --keep-unit --register=no --link-journal=no \
                        --private-users=pick --private-users-ownership=chown -D "$tree" -M "$machine" /bin/true)")
                chown_preps+=("python3 $scratch/owners.py restore $scratch/$size.owners.nspawn")
        done
        for i in 0 1; do
                tree=$scratch/${sizes[i]}
                out=$scratch/nspawn-u.log
                rc=0
                run_cmd "${chown_cmds[i]}" </dev/null >"$out" 2>&1 || rc=$?
                if ((rc != 0)); then
                        log "start: systemd-nspawn -U failed (exit $rc); it cannot be measured here:"
                        cat "$out" >&2
                        nspawn_u_error="exit $rc: $(cat "$out")"
                        break
                fi
                if (($(stat -c %u "$tree") < 65536)); then
                        log "start: systemd-nspawn -U exited 0 but did not chown $tree"
                        failed+=(start)
                        return 1
                fi
                check_run start "${chown_names[i]}" "${chown_cmds[i]}" || { failed+=(start); return 1; }
        done
        # What nspawn left, shifted back, is what its prepare restores. It also
        # covers what nspawn created (/etc/localtime), which root made inside.
        for size in small big; do
                owners save "$scratch/$size" "$scratch/$size.owners.nspawn"
                owners restore "$scratch/$size.owners.nspawn"
                owners save "$scratch/$size" "$scratch/$size.owners.after"
                if ! owners compare "$scratch/$size.owners" "$scratch/$size.owners.after" ||
                        [[ -n $(find "$scratch/$size" \( -uid +65535 -o -gid +65535 \) -print -quit) ]]; then
                        die "start: could not put back the owners of $scratch/$size"
                fi
        done
        log "start: the trees have their original owners again"

        for ((r = 0; r < start_rounds; r++)); do
                log "start: round $((r + 1))/$start_rounds"
                # The two groups in alternating order too.
                for g in $( ((r % 2)) && echo "chown fast" || echo "fast chown"); do
                        if [[ $g == fast ]]; then
                                names=("${fast_names[@]}") cmds=("${fast_cmds[@]}") preps=()
                                measure_round start "$r" "$start_runs" "$start_warmup" || return 1
                        elif [[ -z $nspawn_u_error ]]; then
                                names=("${chown_names[@]}") cmds=("${chown_cmds[@]}") preps=("${chown_preps[@]}")
                                measure_round chown "$r" "$chown_runs" 0 || return 1
                                # boxctl's next runs see the trees as they were.
                                owners restore "$scratch/small.owners.nspawn"
                                owners restore "$scratch/big.owners.nspawn"
                        fi
                done
        done
        printf '%s\n' "${fast_cmds[@]}" "${chown_cmds[@]}" >"$scratch/start.cmds"
}

boot_section
start_section

# ---------------------------------------------------------------------------
# Report

{
        report_intro "## User namespaces (-U)"
        report_facts --load ", cgroup layout $layout, trees on $(findmnt -n -o FSTYPE -T "$scratch")" \
                "$(systemd-nspawn --version | head -n 1)"
        echo
}

NSPAWN_U_ERROR=${nspawn_u_error:-} python3 - "$scratch" "${failed[*]:-}" "$entries_small" "$entries_big" <<PY
$report_py

entries = {"small": int(sys.argv[3]), "big": int(sys.argv[4])}
nspawn_u_error = os.environ.get("NSPAWN_U_ERROR", "")

boot = times("boot")
print("### Boot cycle: Debian 12 to multi-user.target and power off, with and without -U")
print()
print("| command | median (ms) | IQR (ms) | min (ms) | runs | / without -U | CPU, user + sys (ms, mean) |")
print("|---|---:|---:|---:|---:|---:|---:|")
base = stats(boot["boxctl boot"])[0]
for n in ("boxctl boot", "boxctl boot -U"):
    print(f"| \`{n}\` | {cells(boot[n])} | {stats(boot[n])[0] / base:.3f} | {cpu('boot', n):.1f} |")
ratio = stats(boot["boxctl boot -U"])[0] / base
print()
pr = paired("boot", "boxctl boot -U", "boxctl boot")
print(f"-U costs {100 * (ratio - 1):+.1f} % on the median of all runs; the ratio of the"
      f" medians within each round has median {statistics.median(pr):.3f} (range"
      f" {pr[0]:.3f}–{pr[-1]:.3f} over {len(pr)} rounds). Target: within 5 %: "
      + ("**met**." if ratio <= 1.05 else "**not met**."))
print()
list_commands(("without -U", "-U"), cmds("boot"))

start, chown = times("start"), times("chown")
print("### Start cost: \`/bin/true\` in a small and a big tree")
print()
print(f"Busybox tree plus {$small_files:,} empty files ({entries['small']:,} entries) and plus"
      f" {$big_files:,} ({entries['big']:,} entries), 100 a directory, owned by"
      " uids and gids spread over 0–1000. Median (IQR) in ms.")
print()
print("| command | small tree | big tree | big / small | runs each |")
print("|---|---:|---:|---:|---:|")
rows = [
    ("boxctl run (no -U)", "boxctl", start),
    ("boxctl run -U (idmapped)", "boxctl -U", start),
    ("systemd-nspawn (no -U)", "nspawn", start),
    ("systemd-nspawn -U, chown, first start", "nspawn -U chown", chown),
]
med = {}
for label, key, t in rows:
    if f"{key} @ small" not in t:
        print(f"| {label} | could not be measured | could not be measured | | |")
        continue
    s, b = stats(t[f"{key} @ small"]), stats(t[f"{key} @ big"])
    med[key] = (s[0], b[0])
    print(f"| {label} | {s[0]:.1f} ({s[1]:.1f}–{s[2]:.1f}) | {b[0]:.1f} ({b[1]:.1f}–{b[2]:.1f})"
          f" | {b[0] / s[0]:.2f} | {s[4]} |")
print()
if "boxctl -U" in med:
    s, b = med["boxctl -U"]
    s0, b0 = med["boxctl"]
    pb = paired("start", "boxctl -U @ big", "boxctl -U @ small")
    pu = paired("start", "boxctl -U @ small", "boxctl @ small")
    print(f"boxctl -U: big tree / small tree = {b / s:.2f}, median of the per-round ratios"
          f" {statistics.median(pb):.2f} (target: the same, idmapping does not walk the tree)."
          f" -U over no -U: {s - s0:+.1f} ms (small), {b - b0:+.1f} ms (big); per-round"
          f" ratio -U / no -U on the small tree: {statistics.median(pu):.2f}.")
if "nspawn -U chown" in med:
    s, b = med["nspawn -U chown"]
    s0, b0 = med["nspawn"]
    print(f"systemd-nspawn's chown on first start: {s - s0:+.1f} ms (small), {b - b0:+.1f} ms (big)"
          f" over its start without -U; big tree: {b / med['boxctl -U'][1]:.0f}× boxctl -U."
          " Later starts skip the chown (the tree's top is already owned by the range).")
    print()
    print("Before each nspawn -U run (warm-up included) hyperfine's \`--prepare\` puts the"
          " original owners back (not timed); the boxctl and no -U runs have no prepare, and"
          " the trees have their original owners whenever they run.")
elif nspawn_u_error:
    print()
    print("systemd-nspawn -U could not be measured on this host; it printed:")
    print()
    print("\`\`\`")
    print(nspawn_u_error)
    print("\`\`\`")
print()
print("Commands (in a cgroup of the script's own; SIZE is small or big):")
print()
c = cmds("start")
labels = ["boxctl", "boxctl -U", "systemd-nspawn"]
for label, cmd in zip(labels, c[:3]):
    print(f"- {label}: \`{cmd.replace(scratch + '/small', scratch + '/SIZE')}\`")
print(f"- systemd-nspawn -U: \`{c[6].replace(scratch + '/small', scratch + '/SIZE')}\`")
print()
finish()
PY
