#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench.sh [--quick] [--only boot|run]
#
# Time boxctl against systemd-nspawn (and crun, for "run") on the same trees,
# and print a markdown report on stdout: medians, ratios, peak RSS. Progress
# goes to stderr. See bench/README.md for what is measured and why this way.
#
#   boot  Debian 12 with systemd: boot to multi-user.target, then power off
#         (a oneshot unit added to the bench copy of the tree powers it off).
#   run   "/bin/true" in the busybox tree: boxctl run, systemd-nspawn, crun run.
#
# hyperfine runs all runs of one command before the next, so the runs are
# split into rounds, each a hyperfine invocation over all the tools, in
# alternating order; the medians are taken over all rounds. Drift of the host
# (page cache, CPU frequency, a neighbour) then spreads over every tool.
#
# Needs root. Waits for the integration tests' lock: they reap any boxctl
# process they did not start, and two benchmarks on 2 cores skew each other.
# The fixture trees must have been built already (tests/fixtures/make-*.sh);
# this script runs their builders without a network, so it never downloads.
#
# Everything it makes (tree copies in a mktemp directory, its cgroups, the
# mounts of its private mount namespaces) is removed at exit, even on failure.
# Exits non-zero if a check or a measured command failed.

set -euo pipefail

bench_name=bench
machine=boxctlbench
usage_args="[--quick] [--only boot|run]"
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

only=
parse_option() {
        case $1 in
        --only)
                [[ ${2:-} == @(boot|run) ]] || usage
                only=$2
                opt_shift=2
                ;;
        --only=boot | --only=run) only=${1#--only=} ;;
        *) return 1 ;;
        esac
}
parse_args "$@"
if [[ -n $only ]]; then cmdline+=" --only $only"; fi
want() { [[ -z $only || $only == "$1" ]]; }

# rounds × runs per round (+ warm-up runs per round) for each tool.
if ((quick)); then
        boot_rounds=2 boot_runs=2 boot_warmup=1
        run_rounds=2 run_runs=5 run_warmup=1
        rss_runs=1
else
        boot_rounds=10 boot_runs=8 boot_warmup=1
        run_rounds=10 run_runs=30 run_warmup=2
        rss_runs=3
fi

bench_preconditions hyperfine systemd-nspawn crun unshare flock jq python3 /usr/bin/time
bench_setup

# ---------------------------------------------------------------------------
# Measuring (measure and measure_round are in lib.sh; the trees, with
# prepare_debian, copy_tree, fixture and prepare_oci, too)

# rss SECTION: peak RSS with /usr/bin/time -f %M, that is ru_maxrss of the
# command's children: the largest single process among the tool and all it
# waited for (in a PID namespace, the guest's processes too), in KiB.
rss() {
        local section=$1 i k
        for ((i = 0; i < ${#names[@]}; i++)); do
                for ((k = 0; k < rss_runs; k++)); do
                        in_bench_cgroup /usr/bin/time -f %M -o "$scratch/rss.out" \
                                sh -c "exec ${cmds[i]}" </dev/null >/dev/null 2>&1 ||
                                { log "$section: ${names[i]} failed under /usr/bin/time"; failed+=("$section"); return 1; }
                        printf '%s\t%s\tmaxrss\t%s\n' "$section" "${names[i]}" "$(tail -n 1 "$scratch/rss.out")" >>"$scratch/rss.tsv"
                done
        done
}

# hwm SECTION: the tool's own peak (VmHWM of the process that stays the tool
# after the wrapper's execs), polled while it runs. Only for boot: a run of
# /bin/true ends before a poll could see it.
hwm() {
        local section=$1 i k pid last line rc
        for ((i = 0; i < ${#names[@]}; i++)); do
                for ((k = 0; k < rss_runs; k++)); do
                        # Not run_cmd: $! must be the process that becomes
                        # the tool (sh, env, unshare and sh all exec).
                        start_in_bench_cgroup sh -c "exec ${cmds[i]}" </dev/null >/dev/null 2>&1
                        pid=$!
                        last=
                        # VmHWM goes with the mm: it is gone once the process
                        # exited, and starts over at each exec.
                        while line=$(grep -s '^VmHWM:' "/proc/$pid/status"); do
                                last=$line
                                sleep 0.02
                        done
                        rc=0
                        wait "$pid" || rc=$?
                        if ((rc != 0)); then
                                log "$section: ${names[i]} exited $rc while polling its VmHWM"
                                failed+=("$section")
                                return 1
                        fi
                        read -r _ last _ <<<"$last"
                        printf '%s\t%s\thwm\t%s\n' "$section" "${names[i]}" "${last:-0}" >>"$scratch/rss.tsv"
                done
        done
}

failed=()
: >"$scratch/rss.tsv"

# ---------------------------------------------------------------------------
# Boot

boot_section() {
        local tree=$scratch/debian i
        log "boot: preparing $tree"
        prepare_debian "$tree"
        names=(boxctl systemd-nspawn)
        # Read-only consoles for both: each forwards the guest's console from
        # a pty to its stdout (hyperfine: /dev/null), so both do the same
        # work for it; neither needs a terminal.
        # SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1: on a hybrid host nspawn would
        # give the guest a hybrid layout, and systemd would then mount and
        # manage eleven v1 hierarchies that boxctl's guest (pure cgroup2)
        # does not have. With it, both guests see the same cgroup2 tree.
        # boxctl's runtime directory persists between runs, as on a host (see run_section).
        local rt=$scratch/rt-boot
        mkdir -p -m 0755 "$rt"
        cmds=(
                "$(wrapped "export BOXCTL_RUNTIME_DIR=$rt && $wrap_run_tmpfs" "$BOXCTL" boot "$tree" -M "$machine" --console=read-only)"
                "env SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 $(wrapped "$wrap_run_tmpfs" systemd-nspawn --keep-unit --register=no \
                        --link-journal=no -D "$tree" -M "$machine" --console=read-only -b)"
        )

        # Once, untimed: each tool's boot must reach multi-user.target, power
        # off and exit 0.
        for ((i = 0; i < ${#names[@]}; i++)); do
                check_boot "${names[i]}" "${cmds[i]}" "$tree" "$scratch/boot-${names[i]}.log" ||
                        { failed+=(boot); return 1; }
                log "boot: ${names[i]} reached multi-user.target and powered off, exit 0"
        done

        measure boot "$boot_rounds" "$boot_runs" "$boot_warmup" || return 1
        rss boot || return 1
        hwm boot || return 1
        printf '%s\n' "${names[@]}" >"$scratch/boot.names"
        printf '%s\n' "${cmds[@]}" >"$scratch/boot.cmds"
}

# ---------------------------------------------------------------------------
# Run

run_section() {
        local tree=$scratch/busybox bundle=$scratch/oci i cmd_false
        log "run: preparing $tree"
        copy_tree "$(fixture make-busybox-tree.sh)" "$tree"
        prepare_oci "$bundle" "$tree"
        names=(boxctl systemd-nspawn crun)
        # boxctl keeps its runtime directory (the system call filter's cached
        # BPF among it) where a host keeps /run/boxctl while it runs, not in
        # the wrapper's fresh /run: each run would otherwise compile the
        # filter anew (bench/seccomp.sh measures that cold start apart). A
        # shell builtin: no extra exec against the others' commands.
        local rt=$scratch/rt-run
        mkdir -p -m 0755 "$rt"
        cmds=(
                "$(wrapped "export BOXCTL_RUNTIME_DIR=$rt && $wrap_run_cg" "$BOXCTL" run "$tree" -M "$machine" -- /bin/true)"
                "$(wrapped "$wrap_run_cg" systemd-nspawn --keep-unit --register=no --link-journal=no \
                        -D "$tree" -M "$machine" /bin/true)"
                "$(wrapped "$wrap_run_cg" crun run --bundle "$bundle" "$machine")"
        )

        # Once, untimed: /bin/true exits 0 and /bin/false 1 through each
        # tool, so the exit status of the timed runs means something.
        for ((i = 0; i < ${#names[@]}; i++)); do
                cmd_false=
                if [[ ${names[i]} == crun ]]; then
                        jq '.process.args = ["/bin/false"]' "$bundle/config.json" >"$scratch/false.json"
                        mkdir -p "$scratch/oci-false"
                        mv "$scratch/false.json" "$scratch/oci-false/config.json"
                        cmd_false=${cmds[i]/"$bundle"/"$scratch/oci-false"}
                fi
                check_run run "${names[i]}" "${cmds[i]}" "$cmd_false" || { failed+=(run); return 1; }
        done

        measure run "$run_rounds" "$run_runs" "$run_warmup" || return 1
        rss run || return 1
        printf '%s\n' "${names[@]}" >"$scratch/run.names"
        printf '%s\n' "${cmds[@]}" >"$scratch/run.cmds"
}

# A failed check or measurement ends the script here (set -e), after saying
# what failed; the EXIT trap cleans up.
if want boot; then boot_section; fi
if want run; then run_section; fi

# ---------------------------------------------------------------------------
# Report

{
        report_intro $'<!-- SPDX-License-Identifier: LGPL-2.1-or-later -->\n# boxctl benchmark'
        report_facts " ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), cgroup layout $layout" \
                "$(systemd-nspawn --version | head -n 1)" "$(crun --version | head -n 1)"
        echo
}

python3 - "$scratch" "${failed[*]:-}" <<PY
$report_py

rss = {}
with open(os.path.join(scratch, "rss.tsv")) as f:
    for line in f:
        sec, name, kind, kb = line.rstrip("\n").split("\t")
        rss.setdefault((sec, name, kind), []).append(int(kb))

def mib(sec, name, kind):
    v = rss.get((sec, name, kind))
    return f"{statistics.median(v) / 1024:.1f}" if v else "n/a"

titles = {
    "boot": "Boot cycle: Debian 12, systemd to multi-user.target, then power off",
    "run": "run /bin/true (busybox tree)",
}
for sec in ("boot", "run"):
    names_file = os.path.join(scratch, sec + ".names")
    if not os.path.exists(names_file):
        if sec in failed:
            print(f"## {titles[sec]}\n\nFAILED: see the log on stderr.\n")
        continue
    names = open(names_file).read().split("\n")[:-1]
    t = times(sec)
    med = {n: stats(t[n])[0] for n in names}
    print(f"## {titles[sec]}")
    print()
    hdr = "| tool | median (ms) | IQR (ms) | min (ms) | runs | boxctl / tool | peak RSS, largest process (MiB) |"
    sep = "|---|---:|---:|---:|---:|---:|---:|"
    if sec == "boot":
        hdr += " tool's own peak RSS (MiB) |"
        sep += "---:|"
    print(hdr)
    print(sep)
    for n in names:
        row = f"| {n} | {cells(t[n])} | {med['boxctl'] / med[n]:.2f} | {mib(sec, n, 'maxrss')} |"
        if sec == "boot":
            row += f" {mib(sec, n, 'hwm')} |"
        print(row)
    print()
    list_commands(names, cmds(sec), "Commands (each run inside a cgroup of the script's own):")

print("Peak RSS, largest process: \`/usr/bin/time -f %M\`, i.e. ru_maxrss of the children:"
      " the largest single process among the tool and everything it waited for, guest"
      " included (not a sum). Tool's own peak: VmHWM of the tool's main process, polled"
      " every 20 ms while it runs. Medians of the RSS runs.")
if failed:
    print()
finish()
PY
