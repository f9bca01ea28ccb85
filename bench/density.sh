#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# density.sh [--quick] [--machines=N[,N...]]
#
# N enabled Debian 12 machines (default 10, 20, 25, 50, 100) brought up by
# boxd, once with each --start-wait: "ready" (boxd's default: at most
# --start-concurrency machines boot at once, in waves) and "registered"
# (the bound covers only the set-up: the boots all overlap, as N `boxctl
# start` at once would). For each: the time until every guest has reached
# multi-user.target, against the floor (N times the CPU time one start costs
# up to ready, measured first, divided by the CPUs); the CPU time the
# machines used; host memory per machine (MemAvailable before, less when
# all are up, over N); each supervisor's Rss, Pss and private memory; boxd's
# RSS; the slowest `boxctl list` while they came up. A markdown report on
# stdout, progress on stderr.
#
# Needs root, the Debian fixture (tests/fixtures/make-debian-tree.sh), a
# build (build/, or BOXCTL and BOXD). Runs in a private mount namespace with
# its own /run, its own dbus-daemon (the project's bus policy) and boxd; each
# machine's tree is an overlay over one prepared copy, with a fresh upper
# layer each time. Takes the integration tests' lock. Raises
# fs.inotify.max_user_instances for its run when the host's value is below 8
# per machine + 256 (put back at exit). Everything it makes is removed at
# exit, even on failure.

set -euo pipefail

bench_name=density
machine=boxctlbench
usage_args="[--quick] [--machines=N[,N...]]"
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=machines.sh
. "$(dirname "${BASH_SOURCE[0]}")/machines.sh"
machines_reexec "$@"

machine_counts=
parse_option() {
        case $1 in
        --machines=*)
                machine_counts=${1#--machines=}
                [[ $machine_counts =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || usage
                ;;
        *) return 1 ;;
        esac
}
parse_args "$@"
if [[ -n $machine_counts ]]; then cmdline+=" --machines=$machine_counts"; fi
if ((quick)); then
        cpu_rounds=1
        : "${machine_counts:=3}"
else
        cpu_rounds=5
        : "${machine_counts:=10,20,25,50,100}"
fi
IFS=, read -r -a counts <<<"$machine_counts"

bench_preconditions python3 dbus-daemon busctl flock
bench_setup
machines_setup

tree=$scratch/debian
log "preparing $tree"
prepare_marked_tree "$tree"
start_boxd
cpu_one=$(one_start_cpu "$tree" "$cpu_rounds")
log "one start costs $((cpu_one / 1000)) ms of CPU up to ready (median of $cpu_rounds)"
stop_boxd
rm -f "$tree/var/lib/boxctl-bench/reached"

max_n=0
for n in "${counts[@]}"; do ((n > max_n)) && max_n=$n; done
raise_inotify "$max_n"

pool=$scratch/pool
mkdir -p "$pool" "$scratch/config" "$scratch/ov"
# boxd runs this boxctl for the enabled machines.
export BOXCTL_POOL=$pool BOXCTL_CONFIG_DIR=$scratch/config BOXCTL_BINARY=$BOXCTL

# up_to N: overlays deb001..debN over the prepared tree, fresh upper layers.
up_to() {
        local i name
        for ((i = 1; i <= $1; i++)); do
                name=$(printf 'deb%03d' "$i")
                mkdir -p "$pool/$name" "$scratch/ov/$name/upper" "$scratch/ov/$name/work"
                mount -t overlay overlay -o "lowerdir=$tree,upperdir=$scratch/ov/$name/upper,workdir=$scratch/ov/$name/work" \
                        "$pool/$name"
                overlays+=("$pool/$name")
        done
}
down_to() {
        local m
        for m in "${overlays[@]}"; do
                umount "$m"
                rm -rf "$scratch/ov/${m##*/}"
                rmdir "$m"
        done
        overlays=()
}
n_reached() {
        local m k=0
        for m in "${overlays[@]}"; do
                [[ -e $m/var/lib/boxctl-bench/reached ]] && k=$((k + 1))
        done
        echo "$k"
}
all_reached() { (($(n_reached) == ${#overlays[@]})); }
mem_available_kb() { awk '$1 == "MemAvailable:" { print $2 }' /proc/meminfo; }

# supervisor_memory: Rss, Pss and private (kB) of each machine's supervisor
# (its leader's parent), one line each.
supervisor_memory() {
        local m l p
        for m in "${overlays[@]}"; do
                l=$(leader "${m##*/}")
                [[ -n $l ]] || continue
                p=$(awk '$1 == "PPid:" { print $2 }' "/proc/$l/status")
                awk '$1 == "Rss:" { r = $2 } $1 == "Pss:" { s = $2 } $1 ~ /^Private_/ { v += $2 } END { print r, s, v }' \
                        "/proc/$p/smaps_rollup"
        done
}

# list_sampler FILE: `boxctl list` one after another until killed; the ms of
# each call, one a line, in FILE. Not paced: the next call starts when the
# last has answered.
list_sampler() {
        local t0 t1
        while :; do
                t0=$(date +%s%N)
                "$BOXCTL" list --no-legend >/dev/null 2>&1 || echo "failed" >>"$1"
                t1=$(date +%s%N)
                echo $(((t1 - t0) / 1000000)) >>"$1"
        done
}

: >"$scratch/density.tsv"
for n in "${counts[@]}"; do
        for wait_mode in ready registered; do
                log "$n machines, boxd --start-wait=$wait_mode"
                up_to "$n"
                (($(n_reached) == 0)) || die "a marker is there before any machine started"
                "$BOXCTL" enable "${overlays[@]##*/}" >/dev/null
                : >"$boxd_log"
                : >"$scratch/list.ms"
                sync
                mem0=$(mem_available_kb)
                t0=$(date +%s%N)
                start_boxd BOXD_START_WAIT="$wait_mode"
                list_sampler "$scratch/list.ms" &
                sampler=$!
                wait_until 900 all_reached || die "only $(n_reached) of $n reached multi-user.target in 900 s; boxd: $(tail -n 3 "$boxd_log")"
                t1=$(date +%s%N)
                kill "$sampler"
                wait "$sampler" 2>/dev/null || true
                mem1=$(mem_available_kb)
                cpu_all=0
                for m in "${overlays[@]}"; do
                        v=$(scope_cpu "${m##*/}")
                        cpu_all=$((cpu_all + v))
                done
                read -r rss pss priv < <(supervisor_memory | awk '{ r += $1; s += $2; v += $3; k++ } END { printf "%d %d %d\n", r / k, s / k, v / k }')
                boxd_rss=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$boxd_pid/status")
                ! grep -q failed "$scratch/list.ms" || die "a boxctl list failed while the machines came up"
                list_max=$(sort -n "$scratch/list.ms" | tail -n 1)
                list_calls=$(wc -l <"$scratch/list.ms")
                summary=$(grep -o 'Started [0-9]* of [0-9]* enabled machines.*' "$boxd_log" | tail -n 1)
                printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$wait_mode" "$(((t1 - t0) / 1000000))" \
                        "$cpu_all" "$(((mem0 - mem1) / n))" "$rss" "$pss" "$priv" "$boxd_rss" "$list_max" "$list_calls" \
                        "${summary:-}" >>"$scratch/density.tsv"
                log "all $n at multi-user.target after $(((t1 - t0) / 1000000)) ms; stopping them"
                stop_all "${overlays[@]##*/}" || die "a boxctl stop failed"
                stop_boxd
                "$BOXCTL" disable "${overlays[@]##*/}" >/dev/null
                down_to
        done
done

# ---------------------------------------------------------------------------
# Report

{
        report_intro $'<!-- SPDX-License-Identifier: LGPL-2.1-or-later -->\n# boxctl benchmark: many machines at once'
        report_facts --load " ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), $(awk '$1 == "MemTotal:" { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), cgroup layout $layout"
        echo
}

python3 - "$scratch" "" "$(nproc)" "$cpu_one" "$cpu_rounds" <<PY
$report_py
ncpu, cpu_one, cpu_rounds = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])

print("## N enabled Debian 12 machines brought up by boxd")
print()
print("| machines | --start-wait | all up (s) | floor (s) | time / floor | CPU used (s) | host memory per machine (MiB)"
      " | supervisor Rss / Pss / private (MiB) | boxd RSS (MiB) | slowest list (ms) | boxd's summary |")
print("|---:|---|---:|---:|---:|---:|---:|---|---:|---:|---|")
for line in open(os.path.join(scratch, "density.tsv")):
    n, mode, ms, cpu_all, mem, rss, pss, priv, boxd_rss, list_max, list_calls, summary = line.rstrip("\n").split("\t")
    n, ms = int(n), int(ms)
    floor = n * cpu_one / 1e6 / ncpu
    print(f"| {n} | {mode} | {ms / 1000:.1f} | {floor:.1f} | {ms / 1000 / floor:.2f} | {int(cpu_all) / 1e6:.1f} |"
          f" {int(mem) / 1024:.1f} | {int(rss) / 1024:.2f} / {int(pss) / 1024:.2f} / {int(priv) / 1024:.2f} |"
          f" {int(boxd_rss) / 1024:.1f} | {list_max} (of {list_calls}) | {summary} |")
print()
print(f"All up: from boxd's start to the last guest's marker, written by a oneshot unit after"
      f" multi-user.target. Floor: N times the CPU time one \`boxctl start --wait=ready\` used up to"
      f" ready ({cpu_one / 1000:.0f} ms, median of {cpu_rounds}, its scope's cpu.stat) over the {ncpu}"
      " CPUs: no manager brings them up faster on this host. CPU used: the machines' cgroups'"
      " cpu.stat summed when the last was up (what overlapping boots cost shows here). Host memory"
      " per machine: MemAvailable before boxd started less MemAvailable then, over N. Supervisor:"
      " the mean of smaps_rollup over the machines' supervisors (each leader's parent); Pss shares"
      " the binary's and libraries' pages out among the processes that map them. Slowest list:"
      " \`boxctl list\` calls one after another while the machines came up.")
finish()
PY
