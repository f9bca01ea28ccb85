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

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
srcdir=$(cd "$here/.." && pwd)
BOXCTL=${BOXCTL:-$srcdir/build/src/boxctl/boxctl}
lock=${BOXCTL_TEST_CACHE:-/var/cache/boxctl-tests}/integration.lock
machine=boxctlbench
# A fixed, valid machine id, the same for every tool: the trees' own
# /etc/machine-id is empty, which each manager would fill in its own way.
machine_id=b0c7c7be4c4b4e2f9a1d5e6f7a8b9c0d

quick=0
only=
usage() {
        echo "Usage: ${0##*/} [--quick] [--only boot|run]" >&2
        exit "${1:-2}"
}
while (($# > 0)); do
        case $1 in
        --quick) quick=1 ;;
        --only)
                [[ ${2:-} == @(boot|run) ]] || usage
                only=$2
                shift
                ;;
        --only=boot | --only=run) only=${1#--only=} ;;
        -h | --help) usage 0 ;;
        *) usage ;;
        esac
        shift
done
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

log() { echo "bench: $*" >&2; }
die() {
        log "$*"
        exit 1
}

# ---------------------------------------------------------------------------
# Preconditions

((EUID == 0)) || die "needs root"
for t in hyperfine systemd-nspawn crun unshare flock jq python3 /usr/bin/time; do
        command -v "$t" >/dev/null || die "$t is not installed"
done
[[ -x $BOXCTL ]] || die "no boxctl at $BOXCTL (build it: meson compile -C build, or set BOXCTL)"

# Where cgroup2 is: /sys/fs/cgroup (unified) or /sys/fs/cgroup/unified (hybrid).
if [[ $(stat -f -c %T /sys/fs/cgroup) == cgroup2fs ]]; then
        cg2=/sys/fs/cgroup
        layout=unified
elif [[ $(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null) == cgroup2fs ]]; then
        cg2=/sys/fs/cgroup/unified
        layout=hybrid
else
        die "no cgroup2 hierarchy at /sys/fs/cgroup or /sys/fs/cgroup/unified"
fi
# The v1 name=systemd hierarchy of a hybrid host: systemd-nspawn makes its
# cgroups there too.
cgsd=
if [[ $layout == hybrid && $(stat -f -c %T /sys/fs/cgroup/systemd 2>/dev/null) == cgroupfs ]]; then
        cgsd=/sys/fs/cgroup/systemd
fi

mkdir -p "$(dirname "$lock")"
exec {lockfd}>"$lock"
if ! flock -n "$lockfd"; then
        log "waiting for the integration tests to release $lock"
        flock -w 900 "$lockfd" || die "timed out waiting for $lock"
fi

start=$SECONDS

# ---------------------------------------------------------------------------
# Scratch space and clean-up

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

# kill_cgroup DIR: SIGKILL everything in a cgroup2 subtree and wait for it to
# empty (cgroup.kill is there since Linux 5.14).
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
        # Processes first: they hold the cgroups and the trees.
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
        # Anything else that appeared while we held the lock is ours (a tool
        # that made cgroups outside the one it runs in): say so, remove it.
        if [[ -n $scratch && -f $scratch/cgroups.before ]]; then
                while read -r d; do
                        log "a tool left cgroup $d behind; removing it"
                        remove_cgroup_tree "$d"
                done < <(list_cgroups | LC_ALL=C comm -13 "$scratch/cgroups.before" - |
                        awk 'NR == 1 || index($0, prev "/") != 1 { print; prev = $0 }')
        fi
        if [[ -n $scratch && -d $scratch ]]; then
                # Nothing is mounted in there on the host: every mount was in
                # a private namespace. --one-file-system in case.
                rm -rf --one-file-system "$scratch" || log "could not remove $scratch"
        fi
        exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

scratch=$(mktemp -d /var/tmp/boxctl-bench.XXXXXX)
chmod 0755 "$scratch"
[[ $scratch =~ ^[A-Za-z0-9._/-]+$ ]] || die "unexpected characters in $scratch"
list_cgroups >"$scratch/cgroups.before"

# Every measured process runs in a cgroup of ours, so that what a tool leaves
# there (systemd-nspawn --keep-unit makes supervisor/ and payload/ below the
# cgroup it runs in) is found and removed, and nothing escapes the clean-up.
for d in "$cg2" $cgsd; do
        mkdir "$d/${scratch##*/}"
        bench_cgroups+=("$d/${scratch##*/}")
done

# In the background and waited for, so that a signal to the script runs its
# trap at once rather than after the command (a whole hyperfine round).
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
# Trees

# The fixture builders print the cached tree; without a network they cannot
# start a download if the cache is missing.
fixture() {
        unshare --net -- "$srcdir/tests/fixtures/$1" ||
                die "no cached tree from tests/fixtures/$1: run it once (it needs the network)"
}

# The same machine id everywhere; a copy, never the cached tree itself.
copy_tree() {
        cp -a "$1" "$2"
        echo "$machine_id" >"$2/etc/machine-id"
}

prepare_debian() {
        local t=$1
        copy_tree "$(fixture make-debian-tree.sh)" "$t"
        # Ordered after multi-user.target, so the machine has reached it when
        # this runs; it writes down what systemd says of the target, for the
        # check, then asks for a power-off without waiting for it.
        mkdir -p "$t/etc/systemd/system/multi-user.target.wants" "$t/var/lib/boxctl-bench"
        cat >"$t/etc/systemd/system/boxctl-bench-poweroff.service" <<'EOF'
# SPDX-License-Identifier: LGPL-2.1-or-later
[Unit]
Description=Power off once multi-user.target is reached (boxctl bench)
After=multi-user.target

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'systemctl is-active multi-user.target >/var/lib/boxctl-bench/reached'
ExecStart=/bin/systemctl --no-block poweroff

[Install]
WantedBy=multi-user.target
EOF
        ln -s ../boxctl-bench-poweroff.service "$t/etc/systemd/system/multi-user.target.wants/"
        # A persistent journal grows with every boot and rotates in some runs
        # but not others; keep it in memory so each boot does the same work.
        mkdir -p "$t/etc/systemd/journald.conf.d"
        printf '# SPDX-License-Identifier: LGPL-2.1-or-later\n[Journal]\nStorage=volatile\n' \
                >"$t/etc/systemd/journald.conf.d/boxctl-bench.conf"
}

# A minimal OCI bundle whose root is the tree itself (the same directory the
# other tools use), from `crun spec`: no terminal, no rlimits (the spec lowers
# RLIMIT_NOFILE, which the other tools do not touch, and this host may lack
# CAP_SYS_RESOURCE), no resources (cgroup limits), no network namespace (boxctl
# and systemd-nspawn share the host's by default), a writable root as theirs.
prepare_oci() {
        local bundle=$1 rootfs=$2
        mkdir "$bundle"
        (cd "$bundle" && crun spec)
        jq --arg root "$rootfs" --arg host "$machine" '
                .root = { path: $root, readonly: false }
                | .hostname = $host
                | .process.terminal = false
                | .process.args = ["/bin/true"]
                | del(.process.rlimits)
                | del(.linux.resources)
                | .linux.namespaces |= map(select(.type != "network"))' \
                "$bundle/config.json" >"$bundle/config.json.new"
        mv "$bundle/config.json.new" "$bundle/config.json"
}

# ---------------------------------------------------------------------------
# Commands. Each is one string, as hyperfine -N runs it (split like a shell
# would, no shell started) and as run_cmd below runs it.

# Both tools get the same wrapper: a private mount namespace with a tmpfs on
# /run (systemd-nspawn wants to write there; there is no machined).
wrap_run_tmpfs='mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run && exec "$@"'
# For "run", also cgroup2 on /sys/fs/cgroup, which crun needs. A bind mount of
# the host's cgroup2 mount, not a new mount: mounting cgroup2 from the initial
# cgroup namespace applies that mount's options (nsdelegate, ...) to the one,
# host-wide hierarchy.
if [[ $layout == hybrid ]]; then
        wrap_run_cg="mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run && mount --bind $cg2 /sys/fs/cgroup && exec \"\$@\""
else
        wrap_run_cg=$wrap_run_tmpfs
fi
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

# measure SECTION ROUNDS RUNS WARMUP: times the commands in the arrays names
# and cmds; rounds alternate the order. Writes SECTION.N.json files.
measure() {
        local section=$1 rounds=$2 runs=$3 warmup=$4 r i n=${#names[@]} args
        for ((r = 0; r < rounds; r++)); do
                args=()
                for ((i = 0; i < n; i++)); do
                        local j=$((r % 2 ? n - 1 - i : i))
                        args+=(-n "${names[j]}" "${cmds[j]}")
                done
                log "$section: round $((r + 1))/$rounds"
                if ! in_bench_cgroup hyperfine -N --style basic --warmup "$warmup" --runs "$runs" \
                        --export-json "$scratch/$section.$r.json" "${args[@]}" </dev/null >&2; then
                        log "$section: a measured command failed (round $((r + 1))); see above"
                        failed+=("$section")
                        return 1
                fi
        done
}

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
        local section=$1 i k d pid last line rc
        for ((i = 0; i < ${#names[@]}; i++)); do
                for ((k = 0; k < rss_runs; k++)); do
                        # Not run_cmd: $! must be the process that becomes
                        # the tool (sh, env, unshare and sh all exec).
                        (
                                for d in "${bench_cgroups[@]}"; do
                                        echo "$BASHPID" >"$d/cgroup.procs"
                                done
                                exec sh -c "exec ${cmds[i]}"
                        ) </dev/null >/dev/null 2>&1 &
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
        local tree=$scratch/debian i rc out
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
        cmds=(
                "$(wrapped "$wrap_run_tmpfs" "$BOXCTL" boot "$tree" -M "$machine" --console=read-only)"
                "env SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 $(wrapped "$wrap_run_tmpfs" systemd-nspawn --keep-unit --register=no \
                        --link-journal=no -D "$tree" -M "$machine" --console=read-only -b)"
        )

        # Once, untimed: each tool's boot must reach multi-user.target, power
        # off and exit 0.
        for ((i = 0; i < ${#names[@]}; i++)); do
                out=$scratch/boot-${names[i]}.log
                rm -f "$tree/var/lib/boxctl-bench/reached"
                rc=0
                in_bench_cgroup timeout --kill-after=30 300 sh -c "exec ${cmds[i]}" </dev/null >"$out" 2>&1 || rc=$?
                if ((rc != 0)) || [[ $(cat "$tree/var/lib/boxctl-bench/reached" 2>/dev/null) != active ]] ||
                        ! grep -aq 'Reached target.*multi-user\.target' "$out" ||
                        ! grep -aq 'Powering off' "$out"; then
                        log "boot: ${names[i]} did not boot to multi-user.target and power off cleanly (exit $rc, marker '$(cat "$tree/var/lib/boxctl-bench/reached" 2>/dev/null)'); its console:"
                        tail -n 30 "$out" >&2
                        failed+=(boot)
                        return 1
                fi
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
        local tree=$scratch/busybox bundle=$scratch/oci i rc cmd_false
        log "run: preparing $tree"
        copy_tree "$(fixture make-busybox-tree.sh)" "$tree"
        prepare_oci "$bundle" "$tree"
        names=(boxctl systemd-nspawn crun)
        cmds=(
                "$(wrapped "$wrap_run_cg" "$BOXCTL" run "$tree" -M "$machine" -- /bin/true)"
                "$(wrapped "$wrap_run_cg" systemd-nspawn --keep-unit --register=no --link-journal=no \
                        -D "$tree" -M "$machine" /bin/true)"
                "$(wrapped "$wrap_run_cg" crun run --bundle "$bundle" "$machine")"
        )

        # Once, untimed: /bin/true exits 0 and /bin/false 1 through each
        # tool, so the exit status of the timed runs means something.
        for ((i = 0; i < ${#names[@]}; i++)); do
                rc=0
                run_cmd "${cmds[i]}" </dev/null >"$scratch/run-${names[i]}.log" 2>&1 || rc=$?
                if [[ ${names[i]} == crun ]]; then
                        jq '.process.args = ["/bin/false"]' "$bundle/config.json" >"$scratch/false.json"
                        mkdir -p "$scratch/oci-false"
                        mv "$scratch/false.json" "$scratch/oci-false/config.json"
                        cmd_false=${cmds[i]/"$bundle"/"$scratch/oci-false"}
                else
                        cmd_false=${cmds[i]/%\/bin\/true//bin/false}
                fi
                local rc_false=0
                run_cmd "$cmd_false" </dev/null >>"$scratch/run-${names[i]}.log" 2>&1 || rc_false=$?
                if ((rc != 0 || rc_false != 1)); then
                        log "run: ${names[i]}: /bin/true exited $rc (want 0), /bin/false $rc_false (want 1); its output:"
                        tail -n 20 "$scratch/run-${names[i]}.log" >&2
                        failed+=(run)
                        return 1
                fi
                log "run: ${names[i]} runs /bin/true (exit 0) and /bin/false (exit 1)"
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

nspawn_version=$(systemd-nspawn --version | head -n 1)
crun_version=$(crun --version | head -n 1)
boxctl_version=$("$BOXCTL" --version | head -n 1)
boxctl_rev=$(git -C "$srcdir" rev-parse --short HEAD 2>/dev/null || echo unknown)
if ! git -C "$srcdir" diff --quiet HEAD -- src 2>/dev/null; then
        boxctl_rev+=" + uncommitted changes in src/"
fi
cmdline=bench/bench.sh
if ((quick)); then cmdline+=" --quick"; fi
if [[ -n $only ]]; then cmdline+=" --only $only"; fi

python3 - "$scratch" "$((SECONDS - start))" "${failed[*]:-}" <<PY
import glob, json, os, statistics, sys

scratch, elapsed, failed = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()

print("<!-- SPDX-License-Identifier: LGPL-2.1-or-later -->")
print("# boxctl benchmark")
print()
print("Reproduce with \`$cmdline\` (as root, from the source tree).")
print()
print("- date: $(date -u '+%Y-%m-%d %H:%M UTC')")
print("- host: Linux $(uname -r), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), cgroup layout $layout")
print("- $boxctl_version, git $boxctl_rev")
print("- $nspawn_version")
print("- $crun_version")
print("- $(hyperfine --version)")
print(f"- script run time: {elapsed} s")
print()

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
    cmds = open(os.path.join(scratch, sec + ".cmds")).read().split("\n")[:-1]
    times = {n: [] for n in names}
    for path in sorted(glob.glob(os.path.join(scratch, sec + ".*.json"))):
        for res in json.load(open(path))["results"]:
            if any(c != 0 for c in res.get("exit_codes", [])):
                failed.append(sec)
            times[res["command"]] += res["times"]
    med = {n: statistics.median(t) * 1000 for n, t in times.items()}
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
        t = sorted(x * 1000 for x in times[n])
        q = statistics.quantiles(t, n=4) if len(t) >= 2 else [t[0]] * 3
        row = (f"| {n} | {med[n]:.1f} | {q[0]:.1f}–{q[2]:.1f} | {t[0]:.1f} | {len(t)} "
               f"| {med['boxctl'] / med[n]:.2f} | {mib(sec, n, 'maxrss')} |")
        if sec == "boot":
            row += f" {mib(sec, n, 'hwm')} |"
        print(row)
    print()
    print("Commands (each run inside a cgroup of the script's own):")
    print()
    for n, c in zip(names, cmds):
        print(f"- {n}: \`{c}\`")
    print()

print("Peak RSS, largest process: \`/usr/bin/time -f %M\`, i.e. ru_maxrss of the children:"
      " the largest single process among the tool and everything it waited for, guest"
      " included (not a sum). Tool's own peak: VmHWM of the tool's main process, polled"
      " every 20 ms while it runs. Medians of the RSS runs.")
if failed:
    print()
    print("FAILED: " + " ".join(sorted(set(failed))))
    sys.exit(1)
PY
