#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# network.sh [--quick]
#
# What a veth (-n, --network-veth) costs boxctl, and print a markdown report on
# stdout, ready to append to bench/results.md. Progress goes to stderr. See
# bench/README.md for what is measured and why this way.
#
#   boot  Debian 12 with systemd to multi-user.target and power off, with
#         `boxctl boot -n` and without -n.
#   veth  "/bin/true" in the busybox tree with `boxctl run -n` and with
#         `boxctl run --private-network`: both make a network namespace, so
#         the difference is the veth pair and its addressing alone.
#
# Everything runs in a network namespace of the script's own (it re-executes
# itself under `unshare --net`, with only lo, up): the host ends of the veths
# appear there, never on the host's network, and nothing leaves it.
#
# The approach and the helpers are bench.sh's: rounds of hyperfine runs in
# alternating order, medians over all rounds, one wrapper for every command,
# the integration tests' lock, clean-up of trees, cgroups and processes at
# exit. boxctl runs with --register=no. Exits non-zero if a check or a
# measured command failed.

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
srcdir=$(cd "$here/.." && pwd)

# Into a network namespace of our own first, so that every command below,
# the fixture builders included, runs there: re-execute under unshare --net,
# passing down the namespace we came from; the checks below make sure.
if [[ -z ${BOXCTL_BENCH_OUTER_NETNS:-} ]]; then
        ((EUID == 0)) || {
                echo "network: needs root" >&2
                exit 1
        }
        BOXCTL_BENCH_OUTER_NETNS=$(readlink /proc/self/ns/net) exec unshare --net -- bash "${BASH_SOURCE[0]}" "$@"
fi
outer_netns=$BOXCTL_BENCH_OUTER_NETNS
unset BOXCTL_BENCH_OUTER_NETNS

BOXCTL=${BOXCTL:-$srcdir/build/src/boxctl/boxctl}
lock=${BOXCTL_TEST_CACHE:-/var/cache/boxctl-tests}/integration.lock
machine=netbench
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

# rounds × runs per round (+ warm-up runs per round).
if ((quick)); then
        boot_rounds=2 boot_runs=2 boot_warmup=1
        veth_rounds=2 veth_runs=5 veth_warmup=1
        split_runs=3
else
        # Many short rounds: a neighbour's burst then hits both variants, and
        # the per-round differences show it.
        boot_rounds=30 boot_runs=6 boot_warmup=1
        veth_rounds=10 veth_runs=40 veth_warmup=2
        split_runs=30
fi

log() { echo "network: $*" >&2; }
die() {
        log "$*"
        exit 1
}

# ---------------------------------------------------------------------------
# Preconditions

((EUID == 0)) || die "needs root"
for t in hyperfine unshare flock python3 timeout ip; do
        command -v "$t" >/dev/null || die "$t is not installed"
done
[[ -x $BOXCTL ]] || die "no boxctl at $BOXCTL (build it: meson compile -C build, or set BOXCTL)"

# A new network namespace holds lo and nothing else; bring it up, as a host's
# is. If anything else is here, this is not the namespace we made.
[[ $(readlink /proc/self/ns/net) != "$outer_netns" ]] || die "unshare --net did not give a new network namespace"
ip link set lo up
if [[ $(ip -o link show | awk -F': ' '{ print $2 }') != lo ]]; then
        die "not in a fresh network namespace: $(ip -o link show | awk -F': ' '{ printf "%s ", $2 }')"
fi

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
check_pid=
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
        # A check boot in the background, perhaps not in our cgroup yet:
        # timeout passes the signal on to boxctl, which powers the machine
        # off; what is left then is killed with the cgroup below.
        if [[ -n $check_pid ]]; then
                kill -TERM "$check_pid" 2>/dev/null
                wait "$check_pid" 2>/dev/null
        fi
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
                # Every mount was in a private mount namespace, gone with it.
                rm -rf --one-file-system "$scratch" || log "could not remove $scratch"
        fi
        # The links boxctl made live in our network namespace, which ends
        # with this process and its children.
        exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

scratch=$(mktemp -d /var/tmp/boxctl-network.XXXXXX)
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
# Trees (as bench.sh)

fixture() {
        unshare --net -- "$srcdir/tests/fixtures/$1" ||
                die "no cached tree from tests/fixtures/$1: run it once (it needs the network)"
}

copy_tree() {
        cp -a "$1" "$2"
        echo "$machine_id" >"$2/etc/machine-id"
}

# The same power-off unit and volatile journal as bench.sh's boot.
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
ExecStart=/bin/sh -c 'systemctl is-active multi-user.target >/var/lib/boxctl-bench/reached'
ExecStart=/bin/systemctl --no-block poweroff

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
# The wrappers are bench.sh's: a private mount namespace with a tmpfs on /run;
# for a command also the host's cgroup2 bound on /sys/fs/cgroup.

wrap_run_tmpfs='mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run && exec "$@"'
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

# Links in our namespace other than lo: a veth boxctl left behind.
other_links() {
        ip -o link show | awk -F': ' '$2 != "lo" { sub(/@.*/, "", $2); printf "%s ", $2 }'
}

# ---------------------------------------------------------------------------
# Measuring

# measure_round TAG ROUND RUNS WARMUP: one hyperfine run over the arrays names
# and cmds, reversed on odd rounds. Writes TAG.ROUND.json.
measure_round() {
        local tag=$1 r=$2 runs=$3 warmup=$4 i j n=${#names[@]} args=()
        for ((i = 0; i < n; i++)); do
                j=$((r % 2 ? n - 1 - i : i))
                args+=(-n "${names[j]}" "${cmds[j]}")
        done
        if ! in_bench_cgroup hyperfine -N --style basic --warmup "$warmup" --runs "$runs" \
                --export-json "$scratch/$tag.$r.json" "${args[@]}" </dev/null >&2; then
                log "$tag: a measured command failed (round $((r + 1))); see above"
                failed+=("$tag")
                return 1
        fi
}

failed=()

# ---------------------------------------------------------------------------
# Boot: -n against no -n

boot_section() {
        local tree=$scratch/debian i r rc out seen addr d
        log "boot: preparing $tree"
        prepare_debian "$tree"
        names=("boxctl boot" "boxctl boot -n")
        cmds=(
                "$(wrapped "$wrap_run_tmpfs" "$BOXCTL" boot --register=no "$tree" -M "$machine" --console=read-only)"
                "$(wrapped "$wrap_run_tmpfs" "$BOXCTL" boot --register=no -n "$tree" -M "$machine" --console=read-only)"
        )

        # Once, untimed: each reaches multi-user.target, powers off, exits 0.
        # While the -n one runs, its host end must show up here with an IPv4
        # address; after it, no link but lo may be left.
        for ((i = 0; i < ${#names[@]}; i++)); do
                out=$scratch/boot-$i.log
                rm -f "$tree/var/lib/boxctl-bench/reached"
                rc=0 seen=
                # Not in_bench_cgroup: $! must be the process that becomes
                # timeout, for the clean-up to signal it.
                (
                        for d in "${bench_cgroups[@]}"; do
                                echo "$BASHPID" >"$d/cgroup.procs"
                        done
                        exec timeout --kill-after=30 300 sh -c "exec ${cmds[i]}"
                ) </dev/null >"$out" 2>&1 &
                check_pid=$!
                while kill -0 "$check_pid" 2>/dev/null; do
                        # No such link before boxctl made it or after it went.
                        addr=$(ip -o -4 addr show dev "ve-$machine" 2>/dev/null | awk '{ print $4 }') || true
                        if [[ -n $addr ]]; then
                                seen=$addr
                        fi
                        sleep 0.01
                done
                wait "$check_pid" || rc=$?
                check_pid=
                if ((rc != 0)) || [[ $(cat "$tree/var/lib/boxctl-bench/reached" 2>/dev/null) != active ]] ||
                        ! grep -aq 'Reached target.*multi-user\.target' "$out" ||
                        ! grep -aq 'Powering off' "$out"; then
                        log "boot: ${names[i]} did not boot to multi-user.target and power off cleanly (exit $rc, marker '$(cat "$tree/var/lib/boxctl-bench/reached" 2>/dev/null)'); its console:"
                        tail -n 30 "$out" >&2
                        failed+=(boot)
                        return 1
                fi
                if [[ ${names[i]} == *-n && -z $seen ]]; then
                        log "boot: ${names[i]}: ve-$machine never had an IPv4 address while the machine ran"
                        failed+=(boot)
                        return 1
                fi
                if [[ ${names[i]} != *-n && -n $seen ]]; then
                        log "boot: ${names[i]}: a ve-$machine appeared without -n"
                        failed+=(boot)
                        return 1
                fi
                if [[ -n $(other_links) ]]; then
                        log "boot: ${names[i]} left links behind: $(other_links)"
                        failed+=(boot)
                        return 1
                fi
                log "boot: ${names[i]} reached multi-user.target and powered off, exit 0${seen:+ (host end ve-$machine had $seen)}"
        done
        # Inside, host0 has the other address of the same /30.
        addr=$(run_cmd "$(wrapped "$wrap_run_cg" "$BOXCTL" run --register=no -n "$tree" -M "$machine" -- \
                /usr/sbin/ip -o -4 addr show dev host0)" </dev/null | awk '{ print $4 }') || true
        if [[ $addr != */30 ]]; then
                log "boot: in the Debian tree, host0 has no IPv4 /30 address with -n (got '$addr')"
                failed+=(boot)
                return 1
        fi
        log "boot: with -n the Debian guest's host0 has $addr"
        boot_guest_addr=$addr

        for ((r = 0; r < boot_rounds; r++)); do
                log "boot: round $((r + 1))/$boot_rounds"
                measure_round boot "$r" "$boot_runs" "$boot_warmup" || return 1
        done
        printf '%s\n' "${cmds[@]}" >"$scratch/boot.cmds"
}

# ---------------------------------------------------------------------------
# veth: run -n against run --private-network (both: a network namespace)

# check_run NAME CMD: CMD (ending in "-- /bin/true") exits 0, and 1 with
# /bin/false.
check_run() {
        local name=$1 cmd=$2 rc=0 rc_false=0 out=$scratch/check.log
        run_cmd "$cmd" </dev/null >"$out" 2>&1 || rc=$?
        run_cmd "${cmd/%\/bin\/true//bin/false}" </dev/null >>"$out" 2>&1 || rc_false=$?
        if ((rc != 0 || rc_false != 1)); then
                log "veth: $name: /bin/true exited $rc (want 0), /bin/false $rc_false (want 1); its output:"
                tail -n 20 "$out" >&2
                return 1
        fi
        log "veth: $name runs /bin/true (exit 0) and /bin/false (exit 1)"
}

veth_section() {
        local tree=$scratch/busybox i links
        log "veth: preparing $tree"
        copy_tree "$(fixture make-busybox-tree.sh)" "$tree"
        # For the check only: host0 has an IPv4 address, and the host end
        # (the default gateway) answers a ping.
        mkdir -p "$tree/usr/local/bin"
        cat >"$tree/usr/local/bin/check-veth" <<'EOF'
# SPDX-License-Identifier: LGPL-2.1-or-later
set -e
ip -4 addr show dev host0 | grep -q inet
gw=$(ip route | awk '/^default/ { print $3 }')
ping -c 1 -W 2 "$gw"
EOF
        names=("boxctl run --private-network" "boxctl run -n")
        cmds=(
                "$(wrapped "$wrap_run_cg" "$BOXCTL" run --register=no --private-network "$tree" -M "$machine" -- /bin/true)"
                "$(wrapped "$wrap_run_cg" "$BOXCTL" run --register=no -n "$tree" -M "$machine" -- /bin/true)"
        )
        for ((i = 0; i < ${#names[@]}; i++)); do
                check_run "${names[i]}" "${cmds[i]}" || { failed+=(veth); return 1; }
        done

        # What each gives the command: only lo, or lo and host0 with an
        # address from which the host end answers a ping.
        links=$(run_cmd "${cmds[0]/%\/bin\/true//bin/ls /sys/class/net}" </dev/null | tr '\n' ' ') || true
        if [[ $links != "lo " ]]; then
                log "veth: --private-network: the machine sees links '$links', want only lo"
                failed+=(veth)
                return 1
        fi
        if ! run_cmd "${cmds[1]/%\/bin\/true//bin/sh /usr/local/bin/check-veth}" </dev/null >"$scratch/ping.log" 2>&1; then
                log "veth: -n: host0 has no address or the host end does not answer a ping:"
                cat "$scratch/ping.log" >&2
                failed+=(veth)
                return 1
        fi
        log "veth: --private-network gives only lo; -n gives host0, addressed, and the host end answers"
        if [[ -n $(other_links) ]]; then
                log "veth: links left behind: $(other_links)"
                failed+=(veth)
                return 1
        fi

        for ((r = 0; r < veth_rounds; r++)); do
                log "veth: round $((r + 1))/$veth_rounds"
                measure_round veth "$r" "$veth_runs" "$veth_warmup" || return 1
        done
        printf '%s\n' "${cmds[@]}" >"$scratch/veth.cmds"
}

# ---------------------------------------------------------------------------
# Split: where the veth's time goes, before the command or after it

# A command that prints the time it starts at, in the Debian tree (busybox's
# date has no %N): the host takes the time before boxctl starts and after it
# exits. The wrapper and the subshell cost both variants the same.
split_section() {
        local tree=$scratch/debian i k v t0 t1 tc
        local -a variants=(--private-network -n)
        for ((k = 0; k < split_runs; k++)); do
                for ((i = 0; i < 2; i++)); do
                        v=${variants[(k + i) % 2]}
                        t0=$EPOCHREALTIME
                        tc=$(run_cmd "$(wrapped "$wrap_run_cg" "$BOXCTL" run --register=no "$v" "$tree" -M "$machine" -- \
                                /usr/bin/date +%s.%N)" </dev/null) || { log "split: boxctl run $v failed"; failed+=(split); return 1; }
                        t1=$EPOCHREALTIME
                        printf '%s\t%s\t%s\t%s\n' "$v" "$t0" "$tc" "$t1" >>"$scratch/split.tsv"
                done
        done
        log "split: $split_runs runs of each"
}

boot_guest_addr=
boot_section
veth_section
split_section

links_left=$(other_links)
if [[ -n $links_left ]]; then
        log "links left behind after all runs: $links_left"
        failed+=(leak)
fi

# ---------------------------------------------------------------------------
# Report

boxctl_version=$("$BOXCTL" --version | head -n 1)
boxctl_rev=$(git -C "$srcdir" rev-parse --short HEAD 2>/dev/null || echo unknown)
if ! git -C "$srcdir" diff --quiet HEAD -- src 2>/dev/null; then
        boxctl_rev+=" + uncommitted changes in src/"
fi
cmdline=bench/network.sh
if ((quick)); then cmdline+=" --quick"; fi

python3 - "$scratch" "$((SECONDS - start))" "${failed[*]:-}" <<PY
import glob, json, os, statistics, sys

scratch, elapsed, failed = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()

def rounds(tag):
    for path in sorted(glob.glob(os.path.join(scratch, tag + ".*.json"))):
        yield {res["command"]: res for res in json.load(open(path))["results"]}

def times(tag):
    t = {}
    for r in rounds(tag):
        for n, res in r.items():
            if any(c != 0 for c in res.get("exit_codes", [])):
                failed.append(tag)
            t.setdefault(n, []).extend(x * 1000 for x in res["times"])
    return t

# a's median minus b's within each round, in ms: drift of the host between
# rounds (a neighbour's load) cancels out.
def paired(tag, a, b):
    return sorted((statistics.median(r[a]["times"]) - statistics.median(r[b]["times"])) * 1000
                  for r in rounds(tag))

def stats(t):
    t = sorted(t)
    q = statistics.quantiles(t, n=4) if len(t) >= 2 else [t[0]] * 3
    return statistics.median(t), q[0], q[2], t[0], len(t)

def cmds(tag):
    return open(os.path.join(scratch, tag + ".cmds")).read().split("\n")[:-1]

def table(tag, base, other, target_ms):
    t = times(tag)
    print("| command | median (ms) | IQR (ms) | min (ms) | runs | CPU, user + sys (ms, mean) |")
    print("|---|---:|---:|---:|---:|---:|")
    for n in (base, other):
        m, q1, q3, lo, k = stats(t[n])
        cpu = statistics.mean(r[n]["user"] + r[n]["system"] for r in rounds(tag)) * 1000
        print(f"| \`{n}\` | {m:.1f} | {q1:.1f}–{q3:.1f} | {lo:.1f} | {k} | {cpu:.1f} |")
    d = stats(t[other])[0] - stats(t[base])[0]
    pr = paired(tag, other, base)
    print()
    verdict = ""
    if target_ms is not None:
        verdict = (f" Target: at most {target_ms} ms more: "
                   + ("**met**." if d <= target_ms else "**not met**."))
    print(f"Difference of the medians: {d:+.1f} ms; the difference of the medians within each"
          f" round has median {statistics.median(pr):+.1f} ms (range {pr[0]:+.1f} to {pr[-1]:+.1f}"
          f" over {len(pr)} rounds).{verdict}")
    print()

print("## Networking (-n)")
print()
print("Reproduce with \`$cmdline\` (as root, from the source tree). Everything ran in a"
      " network namespace the script made (\`unshare --net\`, lo up): the veths' host ends"
      " were there, nothing reached the host's network.")
print()
print("- date: $(date -u '+%Y-%m-%d %H:%M UTC')")
print("- host: Linux $(uname -r), $(nproc) CPUs, cgroup layout $layout")
print("- $boxctl_version, git $boxctl_rev")
print("- $(hyperfine --version)")
print(f"- script run time: {elapsed} s; load average at start $load_start, at end $(cut -d' ' -f1-3 /proc/loadavg)")
print()

if os.path.exists(os.path.join(scratch, "boot.cmds")):
    print("### Boot cycle: Debian 12 to multi-user.target and power off, with and without -n")
    print()
    table("boot", "boxctl boot", "boxctl boot -n", 5)
    print("Checked once before timing: both reach multi-user.target, power off and exit 0;"
          " with -n the host end ve-$machine has an IPv4 address while the machine runs, the"
          " guest's host0 has $boot_guest_addr, and no link is left afterwards.")
    print()
    print("Commands (in a cgroup of the script's own):")
    print()
    for n, c in zip(("without -n", "-n"), cmds("boot")):
        print(f"- {n}: \`{c}\`")
    print()
elif "boot" in failed:
    print("### Boot cycle\n\nFAILED: see the log on stderr.\n")

if os.path.exists(os.path.join(scratch, "veth.cmds")):
    print("### The veth alone: \`/bin/true\` with \`-n\` against \`--private-network\` (busybox tree)")
    print()
    print("Both give the machine a network namespace of its own; -n adds the veth pair, moves"
          " one end in, brings both up and addresses them (IPv4 /30 from the pool, IPv6"
          " link-local, default route).")
    print()
    table("veth", "boxctl run --private-network", "boxctl run -n", None)
    print("Checked once before timing: each runs \`/bin/true\` (exit 0) and \`/bin/false\` (exit 1);"
          " with --private-network the machine sees only lo; with -n host0 has an address and"
          " the host end answers a ping; no link is left afterwards.")
    print()
    print("Commands (in a cgroup of the script's own):")
    print()
    for n, c in zip(("--private-network", "-n"), cmds("veth")):
        print(f"- {n}: \`{c}\`")
    print()
elif "veth" in failed:
    print("### The veth alone\n\nFAILED: see the log on stderr.\n")

split = os.path.join(scratch, "split.tsv")
if os.path.exists(split):
    parts = {}
    for line in open(split):
        v, t0, tc, t1 = line.split()
        parts.setdefault(v, []).append(((float(tc) - float(t0)) * 1000, (float(t1) - float(tc)) * 1000))
    print("### Where the veth's time goes: before the command starts, or after it exits")
    print()
    print("\`boxctl run [--private-network|-n] DEBIAN-TREE -- /usr/bin/date +%s.%N\`, the two alternating:"
          " the host's clock before boxctl starts and after it exits, the command's in between (one"
          " clock for both). Medians in ms.")
    print()
    print("| command | start → command | command → exit | runs |")
    print("|---|---:|---:|---:|")
    med = {}
    for v in ("--private-network", "-n"):
        a = statistics.median(p[0] for p in parts[v])
        b = statistics.median(p[1] for p in parts[v])
        med[v] = (a, b)
        print(f"| \`boxctl run {v}\` | {a:.1f} | {b:.1f} | {len(parts[v])} |")
    print()
    print(f"-n over --private-network: {med['-n'][0] - med['--private-network'][0]:+.1f} ms before the command,"
          f" {med['-n'][1] - med['--private-network'][1]:+.1f} ms after it.")
    print()

if "leak" in failed:
    print("Links were left behind in the script's network namespace after all runs: $links_left")
    print()
if failed:
    print("FAILED: " + " ".join(sorted(set(failed))))
    sys.exit(1)
PY
