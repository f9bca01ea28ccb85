#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# start.sh [--quick]
#
# One Debian 12 machine with systemd, from the command to the guest's READY=1
# (systemd's "start-up finished"), printed as a markdown report on stdout
# (progress on stderr): `boxctl start --wait=ready` (the command returns
# then), `boxctl boot --notify-ready` and `systemd-nspawn -b
# --notify-ready=yes` (each passes READY=1 on to the $NOTIFY_SOCKET of a
# small timer, bench/machines.sh's ready-timer.py). The floor: the guest's
# own start-up, systemd's UserspaceTimestamp to FinishTimestamp inside it.
# Also the CPU time one start costs up to ready (its scope's cpu.stat: the guest's processes, not boxctl's).
# Many machines at once, started by boxd: bench/density.sh.
#
# Needs root, the Debian fixture (tests/fixtures/make-debian-tree.sh), a
# build (build/, or BOXCTL and BOXD). Runs in a private mount namespace with
# its own /run, its own dbus-daemon (the project's bus policy) and boxd.
# Takes the integration tests' lock. Everything it makes is removed at exit,
# even on failure.

set -euo pipefail

bench_name=start
machine=boxctlbench
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=machines.sh
. "$(dirname "${BASH_SOURCE[0]}")/machines.sh"
machines_reexec "$@"
parse_args "$@"
if ((quick)); then rounds=2; else rounds=8; fi

bench_preconditions python3 systemd-nspawn dbus-daemon busctl flock
bench_setup
machines_setup


tree=$scratch/debian
log "preparing $tree"
prepare_marked_tree "$tree"
start_boxd
ready_tsv=$scratch/ready.tsv
: >"$ready_tsv"
start_round() {
        local before after m=$machine
        time_one "boxctl start --wait=ready" exit "$ready_tsv" "$BOXCTL" start "$tree" -M "$m" --wait=ready
        # The guest's own start-up, by its systemd: the floor.
        "$BOXCTL" shell "$m" -- /bin/systemctl show --property=UserspaceTimestampMonotonic,FinishTimestampMonotonic \
                >"$scratch/ts" 2>/dev/null || die "ready: cannot read systemd's timestamps in $m"
        before=$(sed -n 's/^UserspaceTimestampMonotonic=//p' "$scratch/ts" | tr -d '\r')
        after=$(sed -n 's/^FinishTimestampMonotonic=//p' "$scratch/ts" | tr -d '\r')
        [[ $before =~ ^[0-9]+$ && $after =~ ^[0-9]+$ ]] && ((after > before)) ||
                die "ready: systemd's timestamps in $m make no sense: $(tr '\n' ' ' <"$scratch/ts")"
        printf 'guest start-up (floor)\t%s\n' "$(((after - before) / 1000))" >>"$scratch/ready.tsv"
        v=$(scope_cpu "$m")
        printf 'cpu\t%s\n' "$v" >>"$scratch/ready-cpu.tsv"
        "$BOXCTL" stop "$m" >/dev/null || die "ready: boxctl stop $m failed"
}
boot_round() {
        time_one "boxctl boot --notify-ready" notify "$ready_tsv" "$BOXCTL" boot "$tree" -M "$machine" --console=read-only --notify-ready
}
nspawn_round() {
        # As in bench.sh: the guest gets pure cgroup2, as boxctl's does.
        time_one "systemd-nspawn -b --notify-ready=yes" notify "$ready_tsv" env SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 \
                systemd-nspawn --keep-unit --register=no --link-journal=no -D "$tree" -M "$machine" \
                --console=read-only -b --notify-ready=yes
}
: >"$scratch/ready-cpu.tsv"
for ((r = 0; r < rounds; r++)); do
        log "round $((r + 1))/$rounds"
        if ((r % 2)); then
                nspawn_round; boot_round; start_round
        else
                start_round; boot_round; nspawn_round
        fi
done
cpu_one=$(awk '{ print $2 }' "$scratch/ready-cpu.tsv" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
log "one start costs $((cpu_one / 1000)) ms of CPU up to ready (median)"

# ---------------------------------------------------------------------------
# Report

{
        report_intro $'<!-- SPDX-License-Identifier: LGPL-2.1-or-later -->\n# boxctl benchmark: a machine in the background'
        report_facts --load " ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), cgroup layout $layout" \
                "$(systemd-nspawn --version | head -n 1)"
        echo
}

python3 - "$scratch" "" "$(nproc)" "$cpu_one" <<PY
$report_py
ncpu, cpu_one = int(sys.argv[3]), int(sys.argv[4])

t = {}
for line in open(os.path.join(scratch, "ready.tsv")):
    k, v = line.rstrip("\n").split("\t")
    t.setdefault(k, []).append(float(v))
print("## One Debian 12 machine: from the command to the guest's READY=1")
print()
print("| command | median (ms) | IQR (ms) | min (ms) | runs | start --wait=ready / this |")
print("|---|---:|---:|---:|---:|---:|")
ref = statistics.median(t["boxctl start --wait=ready"])
for k in ("boxctl start --wait=ready", "boxctl boot --notify-ready", "systemd-nspawn -b --notify-ready=yes",
          "guest start-up (floor)"):
    print(f"| {k} | {cells(t[k])} | {ref / statistics.median(t[k]):.2f} |")
print()
print("The floor: the guest's systemd from its own start (UserspaceTimestamp) to start-up"
      " finished (FinishTimestamp), read inside the machine after each start; what any"
      " manager's start adds comes on top. \`start\` returns when READY=1 has come; the others"
      " are timed to the READY=1 they pass on to a \$NOTIFY_SOCKET of the timer's.")
print(f"One start used {cpu_one / 1000:.0f} ms of CPU time up to ready (median; the machine's"
      " scope's cpu.stat in the cgroup2 hierarchy: the guest's processes).")
print()

finish()
PY
