#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# seccomp.sh [--quick] [--only boot|run] [--before REV] [--after-build DIR]
#
# What the system call allow-list (commit 1754abb) costs against the deny-list
# before it (147267d): boxctl from both, side by side in the same hyperfine
# runs, and print a markdown section for results.md on stdout
# (bench/seccomp.sh >> bench/results.md). Progress goes to stderr.
#
#   run   "/bin/true" in the busybox tree: boxctl before, boxctl after with
#         its BPF cache warm, boxctl after with the cache deleted before
#         every run (hyperfine --prepare), crun run, and the wrapper alone.
#   boot  bench.sh's Debian 12 boot cycle (to multi-user.target, then power
#         off): before, after (warm cache), after (cold cache).
#
# "before" is REV (default 147267d), checked out in a temporary git worktree
# and built with meson (default options, as a developer's build) in a
# directory under /tmp; "after" is HEAD built the same way, or the build
# directory given with --after-build. Each boxctl gets a runtime directory of
# its own in the scratch directory (BOXCTL_RUNTIME_DIR): the wrapper puts a
# new tmpfs on /run for every run, so /run/boxctl/seccomp would start empty
# every time.
#
# Needs root. Builds first, then waits for the integration tests' lock.
# Everything it makes (worktrees, builds, tree copies, its cgroups) is removed
# at exit, even on failure. Exits non-zero if a check or a measured command
# failed. See bench/README.md.

set -euo pipefail

bench_name=seccomp
machine=seccompbench
usage_args="[--quick] [--only boot|run] [--before REV] [--after-build DIR]"
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

before_rev=147267d
after_build=
only=
parse_option() {
        case $1 in
        --before | --after-build)
                [[ -n ${2:-} ]] || usage
                if [[ $1 == --before ]]; then before_rev=$2; else after_build=$2; fi
                opt_shift=2
                ;;
        --only)
                [[ ${2:-} == @(boot|run) ]] || usage
                only=$2
                opt_shift=2
                ;;
        --only=boot | --only=run) only=${1#--only=} ;;
        --before=?*) before_rev=${1#*=} ;;
        --after-build=?*) after_build=${1#*=} ;;
        *) return 1 ;;
        esac
}
parse_args "$@"
if [[ -n $only ]]; then cmdline+=" --only $only"; fi
want() { [[ -z $only || $only == "$1" ]]; }
if [[ $before_rev != 147267d ]]; then cmdline+=" --before $before_rev"; fi
if [[ -n $after_build ]]; then cmdline+=" --after-build $after_build"; fi

# rounds × runs per round (+ warm-up runs per round) for each command.
if ((quick)); then
        boot_rounds=2 boot_runs=2 boot_warmup=1
        run_rounds=2 run_runs=5 run_warmup=1
else
        boot_rounds=10 boot_runs=6 boot_warmup=1
        run_rounds=10 run_runs=30 run_warmup=2
fi

((EUID == 0)) || die "needs root"
for t in git meson ninja; do
        command -v "$t" >/dev/null || die "$t is not installed"
done

# ---------------------------------------------------------------------------
# The two builds, before the lock: compiling is no business of the tests'.

builds=
worktrees=()
builds_cleanup() {
        local w
        for w in "${worktrees[@]}"; do
                git -C "$srcdir" worktree remove --force "$w" >/dev/null 2>&1 ||
                        log "could not remove the worktree $w"
        done
        git -C "$srcdir" worktree prune 2>/dev/null
        if [[ -n $builds && -d $builds ]]; then
                rm -rf --one-file-system "$builds" || log "could not remove $builds"
        fi
}
# Until bench_setup installs lib.sh's clean-up; afterwards seccomp_cleanup
# runs both.
builds_exit() {
        local rc=$?
        set +e
        trap - EXIT INT TERM
        builds_cleanup
        exit "$rc"
}
seccomp_cleanup() {
        local rc=$?
        set +e
        builds_cleanup
        (exit "$rc")
        cleanup
}
trap builds_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

builds=$(mktemp -d /tmp/bench-build-seccomp.XXXXXX)
[[ $builds =~ ^[A-Za-z0-9._/-]+$ ]] || die "unexpected characters in $builds"

# build NAME REV: REV in the worktree $builds/src-NAME, built in
# $builds/build-NAME; prints the path of its boxctl.
build() {
        local name=$1 rev=$2 src=$builds/src-$1 b=$builds/build-$1 out=$builds/$1.log
        log "building $name ($rev) in $b"
        git -C "$srcdir" worktree add --detach "$src" "$rev" >"$out" 2>&1 ||
                { cat "$out" >&2; die "git worktree add $rev failed"; }
        worktrees+=("$src")
        if ! { meson setup "$b" "$src" && ninja -C "$b" src/boxctl/boxctl; } >>"$out" 2>&1; then
                tail -n 30 "$out" >&2
                die "building $name ($rev) failed; see above"
        fi
}

before_full=$(git -C "$srcdir" rev-parse --verify "$before_rev^{commit}") || die "no commit $before_rev"
before_desc="git $(git -C "$srcdir" log -1 --format='%h (%s)' "$before_full")"
build before "$before_full"
BOXCTL_BEFORE=$builds/build-before/src/boxctl/boxctl
if [[ -n $after_build ]]; then
        BOXCTL_AFTER=$(cd "$after_build" && pwd)/src/boxctl/boxctl
        [[ -x $BOXCTL_AFTER ]] || die "no boxctl at $BOXCTL_AFTER"
        after_desc="the build directory $after_build (source tree at git $(git -C "$srcdir" rev-parse --short HEAD)$(
                git -C "$srcdir" diff --quiet HEAD -- src 2>/dev/null || echo ' + uncommitted changes in src/'))"
else
        after_full=$(git -C "$srcdir" rev-parse HEAD)
        after_desc="git $(git -C "$srcdir" log -1 --format='%h (%s)' "$after_full")"
        build after "$after_full"
        BOXCTL_AFTER=$builds/build-after/src/boxctl/boxctl
fi
# lib.sh's checks and the report's version line are about "after".
BOXCTL=$BOXCTL_AFTER

bench_preconditions hyperfine crun unshare flock jq python3
bench_setup
trap seccomp_cleanup EXIT

rt_before=$scratch/rt-before
rt_warm=$scratch/rt-after
rt_cold=$scratch/rt-cold
mkdir -m 0755 "$rt_before" "$rt_warm" "$rt_cold"

# rt_wrap DIR WRAPPER: WRAPPER with BOXCTL_RUNTIME_DIR=DIR (a shell builtin:
# no extra exec against crun's command).
rt_wrap() {
        echo "export BOXCTL_RUNTIME_DIR=$1 && $2"
}

# The cached programs, with their modification times.
cache_state() {
        find "$rt_warm/seccomp" -maxdepth 1 -name '*.bpf' -printf '%f %s %T@\n' 2>/dev/null | sort
}

# seccomp_status CMD: what /proc/self/status says of seccomp inside (CMD
# runs grep there).
seccomp_status() {
        run_cmd "$1" </dev/null 2>/dev/null | tr -s '\t ' ' ' | paste -sd ';' -
}

failed=()
load_sections=()

# ---------------------------------------------------------------------------
# run /bin/true

run_section() {
        local tree=$scratch/busybox bundle=$scratch/oci i cmd_false w name bin rt
        log "run: preparing $tree"
        copy_tree "$(fixture make-busybox-tree.sh)" "$tree"
        prepare_oci "$bundle" "$tree"
        names=("boxctl before" "boxctl after" "boxctl after, cold cache" crun "wrapper alone")
        cmds=(
                "$(wrapped "$(rt_wrap "$rt_before" "$wrap_run_cg")" "$BOXCTL_BEFORE" run --register=no "$tree" -M "$machine" -- /bin/true)"
                "$(wrapped "$(rt_wrap "$rt_warm" "$wrap_run_cg")" "$BOXCTL_AFTER" run --register=no "$tree" -M "$machine" -- /bin/true)"
                "$(wrapped "$(rt_wrap "$rt_cold" "$wrap_run_cg")" "$BOXCTL_AFTER" run --register=no "$tree" -M "$machine" -- /bin/true)"
                "$(wrapped "$wrap_run_cg" crun run --bundle "$bundle" "$machine")"
                "$(wrapped "$wrap_run_cg" /bin/true)"
        )
        # Only the cold one has work to do before each run; the others get a
        # no-op, so that every command has a process started before it.
        preps=(true true "rm -rf $rt_cold/seccomp" true true)

        for ((i = 0; i < ${#names[@]}; i++)); do
                cmd_false=
                if [[ ${names[i]} == crun ]]; then
                        mkdir "$scratch/oci-false"
                        jq '.process.args = ["/bin/false"]' "$bundle/config.json" >"$scratch/oci-false/config.json"
                        cmd_false=${cmds[i]/"$bundle"/"$scratch/oci-false"}
                fi
                check_run run "${names[i]}" "${cmds[i]}" "$cmd_false" || { failed+=(run); return 1; }
        done

        # Both boxctls install a filter; say what the kernel sees.
        for w in before:"$BOXCTL_BEFORE":"$rt_before" after:"$BOXCTL_AFTER":"$rt_warm"; do
                IFS=: read -r name bin rt <<<"$w"
                printf '%s\t%s\n' "$name" "$(seccomp_status "$(wrapped "$(rt_wrap "$rt" "$wrap_run_cg")" "$bin" run --register=no \
                        "$tree" -M "$machine" -- /bin/grep Seccomp /proc/self/status)")" >>"$scratch/status.tsv"
        done
        if [[ $(grep -c $'^[a-z]*\tSeccomp: 2;' "$scratch/status.tsv") != 2 ]]; then
                log "run: no seccomp filter in a machine: $(cat "$scratch/status.tsv")"
                failed+=(run)
                return 1
        fi
        cache_state >"$scratch/cache.before"
        [[ -s $scratch/cache.before ]] || { log "run: after's first run left no program in $rt_warm/seccomp"; failed+=(run); return 1; }
        log "run: cached: $(tr '\n' ' ' <"$scratch/cache.before")"

        measure run "$run_rounds" "$run_runs" "$run_warmup" || return 1
        cache_state >"$scratch/cache.after"
        printf '%s\n' "${names[@]}" >"$scratch/run.names"
        printf '%s\n' "${cmds[@]}" >"$scratch/run.cmds"
        load_sections+=("run $(cut -d' ' -f1-3 /proc/loadavg)")
}

# ---------------------------------------------------------------------------
# Boot cycle

boot_section() {
        local tree=$scratch/debian i
        log "boot: preparing $tree"
        prepare_debian "$tree"
        names=("boxctl before" "boxctl after" "boxctl after, cold cache")
        cmds=(
                "$(wrapped "$(rt_wrap "$rt_before" "$wrap_run_tmpfs")" "$BOXCTL_BEFORE" boot --register=no "$tree" -M "$machine" --console=read-only)"
                "$(wrapped "$(rt_wrap "$rt_warm" "$wrap_run_tmpfs")" "$BOXCTL_AFTER" boot --register=no "$tree" -M "$machine" --console=read-only)"
                "$(wrapped "$(rt_wrap "$rt_cold" "$wrap_run_tmpfs")" "$BOXCTL_AFTER" boot --register=no "$tree" -M "$machine" --console=read-only)"
        )
        preps=(true true "rm -rf $rt_cold/seccomp")
        for ((i = 0; i < ${#names[@]}; i++)); do
                check_boot "${names[i]}" "${cmds[i]}" "$tree" "$scratch/boot.$i.log" || { failed+=(boot); return 1; }
                log "boot: ${names[i]} reached multi-user.target and powered off, exit 0"
        done
        measure boot "$boot_rounds" "$boot_runs" "$boot_warmup" || return 1
        printf '%s\n' "${names[@]}" >"$scratch/boot.names"
        printf '%s\n' "${cmds[@]}" >"$scratch/boot.cmds"
        load_sections+=("boot $(cut -d' ' -f1-3 /proc/loadavg)")
}

if want run; then run_section; fi
if want boot; then boot_section; fi

# ---------------------------------------------------------------------------
# Report

{
        echo "## System call filter: the allow-list against the deny-list before it"
        echo
        # shellcheck disable=SC2016 # the backquotes are markdown
        printf 'Reproduce with `%s` (as root, from the source tree).\n\n' "$cmdline"
        echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
        echo "- host: Linux $(uname -r), $(nproc) CPUs, cgroup layout $layout"
        echo "- before: $before_desc, built in a temporary worktree"
        if [[ -n $after_build ]]; then
                echo "- after: $after_desc"
        else
                echo "- after: $after_desc, built the same way"
        fi
        echo "- both: meson defaults (buildtype debugoptimized); libseccomp $(pkg-config --modversion libseccomp 2>/dev/null || echo unknown)"
        echo "- $(crun --version | head -n 1); $(hyperfine --version)"
        echo "- rounds: run $run_rounds × $run_runs runs (+ $run_warmup warm-up), boot $boot_rounds × $boot_runs (+ $boot_warmup), commands in alternating order"
        echo "- script run time: $((SECONDS - start)) s; load average at start $load_start, after ${load_sections[*]}"
        echo
}

python3 - "$scratch" "${failed[*]:-}" "$quick" <<PY
$report_py
from math import comb

quick = sys.argv[3] == "1"
B, A, C = "boxctl before", "boxctl after", "boxctl after, cold cache"

# Two-sided sign test over rounds: after slower than before in k of n.
def sign_p(k, n):
    lo = min(k, n - k)
    return min(1.0, 2 * sum(comb(n, i) for i in range(lo + 1)) / 2 ** n)

def verdict_same(sec, med):
    d = paired(sec, A, B, diff=True)
    n, k = len(d), sum(1 for x in d if x > 0)
    p = sign_p(k, n)
    r = paired(sec, A, B)
    print(f"After / before: {med[A] / med[B]:.3f} (difference of the medians {med[A] - med[B]:+.2f} ms,"
          f" {100 * (med[A] / med[B] - 1):+.1f} %); per round the ratio has median {statistics.median(r):.3f}"
          f" (range {r[0]:.3f}–{r[-1]:.3f}), after slower in {k} of {n} rounds (sign test p = {p:.2f}).", end=" ")
    if n < 6:
        print("Target no measurable difference: too few rounds to tell (quick mode).")
    elif p < 0.05 and k > n / 2:
        print("Target no measurable difference: **not met** (after slower in nearly every round).")
    elif p < 0.05:
        print("Target no measurable difference: **met** as a cost (after faster in nearly every round,"
              " from something else between the two commits).")
    else:
        print("Target no measurable difference: **met**.")
    print()

def cold_line(sec, med):
    print(f"Cold cache against warm (compiling the allow-list and writing the cache):"
          f" {med[C] - med[A]:+.2f} ms of the medians, {cpu(sec, C) - cpu(sec, A):+.2f} ms CPU;"
          f" per round median {statistics.median(paired(sec, C, A, diff=True)):+.2f} ms.")
    print()

def table(sec, names, t, med, extra):
    hdr = "| command | median (ms) | IQR (ms) | min (ms) | runs | CPU, user + sys (ms, mean) | / before |"
    sep = "|---|---:|---:|---:|---:|---:|---:|"
    if extra:
        hdr += f" / {extra} |"
        sep += "---:|"
    print(hdr)
    print(sep)
    for n in names:
        row = f"| {n} | {cells(t[n])} | {cpu(sec, n):.1f} | {med[n] / med[B]:.3f} ({statistics.median(paired(sec, n, B)):.3f}) |"
        if extra:
            row += f" {med[n] / med[extra]:.3f} ({statistics.median(paired(sec, n, extra)):.3f}) |"
        print(row)
    print()

print("Ratios: of the medians over all runs; in brackets the median of the per-round ratios."
      " min is the floor: the fastest run.")
print()
for sec, title in (("run", "run /bin/true (busybox tree)"),
                   ("boot", "Boot cycle: Debian 12 to multi-user.target and power off (bench.sh's boot)")):
    nf = os.path.join(scratch, sec + ".names")
    print(f"### {title}")
    print()
    if not os.path.exists(nf):
        print("FAILED: see the log on stderr.\n" if sec in failed else "Not run.\n")
        continue
    names = open(nf).read().split("\n")[:-1]
    t = times(sec)
    med = {n: stats(t[n])[0] for n in names}
    table(sec, names, t, med, "crun" if sec == "run" else None)
    verdict_same(sec, med)
    if sec == "run":
        r = paired(sec, A, "crun")
        ok = med[A] / med["crun"] <= 0.8
        print(f"After / crun: {med[A] / med['crun']:.3f} (per round {statistics.median(r):.3f},"
              f" range {r[0]:.3f}–{r[-1]:.3f}). Target at most 0.8× crun: **{'met' if ok else 'not met'}**."
              f" crun runs without any seccomp filter here (\`crun spec\` has none); boxctl with its filter.")
        print()
    cold_line(sec, med)
    if sec == "run":
        st = dict(l.rstrip("\n").split("\t", 1) for l in open(os.path.join(scratch, "status.tsv")))
        cb = open(os.path.join(scratch, "cache.before")).read().split("\n")[:-1]
        ca = open(os.path.join(scratch, "cache.after")).read().split("\n")[:-1]
        print(f"Checked once before timing: each command runs \`/bin/true\` (exit 0) and \`/bin/false\` (exit 1);"
              f" inside, before shows \`{st['before']}\`, after \`{st['after']}\`; after's first run cached"
              f" {', '.join(l.split()[0] + ' (' + l.split()[1] + ' bytes)' for l in cb)}."
              f" After the timed runs the warm cache was {'unchanged (read, never rewritten)' if cb == ca else 'CHANGED: ' + '; '.join(ca)}.")
        print()
    else:
        print("Checked once before timing: each reached multi-user.target, powered off and exited 0.")
        print()
    list_commands(names, cmds(sec))
if quick:
    print("Quick mode: a smoke check, not a measurement.")
    print()
finish()
PY
