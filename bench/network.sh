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
# The approach is bench.sh's, its helpers in bench/lib.sh: rounds of hyperfine
# runs in alternating order, medians over all rounds, one wrapper for every
# command, the integration tests' lock, clean-up of trees, cgroups and
# processes at exit. boxctl runs with --register=no. Exits non-zero if a check
# or a measured command failed.

set -euo pipefail

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

bench_name=network
machine=netbench
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

parse_args "$@"

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

bench_preconditions hyperfine unshare flock python3 timeout ip

# A new network namespace holds lo and nothing else; bring it up, as a host's
# is. If anything else is here, this is not the namespace we made.
[[ $(readlink /proc/self/ns/net) != "$outer_netns" ]] || die "unshare --net did not give a new network namespace"
ip link set lo up
if [[ $(ip -o link show | awk -F': ' '{ print $2 }') != lo ]]; then
        die "not in a fresh network namespace: $(ip -o link show | awk -F': ' '{ printf "%s ", $2 }')"
fi

# The clean-up at exit (bench_setup's) has nothing to do for the links boxctl
# makes: they live in our network namespace, which ends with this process and
# its children.
bench_setup

# ---------------------------------------------------------------------------
# Trees: lib.sh's copy_tree and prepare_debian (bench.sh's power-off unit and
# volatile journal). Commands: one string each, as hyperfine -N splits it and
# run_cmd runs it, in lib.sh's wrappers.

# Links in our namespace other than lo: a veth boxctl left behind. boxctl
# retires a host end at exit (down, renamed ve~N) and the kernel removes it
# with the machine's network namespace, in the background, tens of ms later:
# other_links waits up to 5 s for that first.
other_links() {
        local i
        for ((i = 0; i < 50; i++)); do
                [[ -z $(ip -o link show | awk -F': ' '$2 != "lo"') ]] && return 0
                sleep 0.1
        done
        ip -o link show | awk -F': ' '$2 != "lo" { sub(/@.*/, "", $2); printf "%s ", $2 }'
}

# ---------------------------------------------------------------------------
# Boot: -n against no -n

# For check_boot, while a boot runs: the IPv4 address of the host end, if
# there is one, into seen (boot_section's). No such link before boxctl made it
# or after it went.
poll_host_end() {
        local addr
        addr=$(ip -o -4 addr show dev "ve-$machine" 2>/dev/null | awk '{ print $4 }') || true
        if [[ -n $addr ]]; then
                seen=$addr
        fi
}

boot_section() {
        local tree=$scratch/debian i seen addr
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
                seen=
                check_boot "${names[i]}" "${cmds[i]}" "$tree" "$scratch/boot-$i.log" poll_host_end ||
                        { failed+=(boot); return 1; }
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

        measure boot "$boot_rounds" "$boot_runs" "$boot_warmup" || return 1
        printf '%s\n' "${cmds[@]}" >"$scratch/boot.cmds"
}

# ---------------------------------------------------------------------------
# veth: run -n against run --private-network (both: a network namespace)

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
                check_run veth "${names[i]}" "${cmds[i]}" || { failed+=(veth); return 1; }
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

        measure veth "$veth_rounds" "$veth_runs" "$veth_warmup" || return 1
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

{
        report_intro "## Networking (-n)" " Everything ran in a network namespace the script made (\`unshare --net\`, lo up):\
 the veths' host ends were there, nothing reached the host's network."
        report_facts --load ", cgroup layout $layout"
        echo
}

python3 - "$scratch" "${failed[*]:-}" <<PY
$report_py

def table(tag, base, other, target_ms):
    t = times(tag)
    print("| command | median (ms) | IQR (ms) | min (ms) | runs | CPU, user + sys (ms, mean) |")
    print("|---|---:|---:|---:|---:|---:|")
    for n in (base, other):
        print(f"| \`{n}\` | {cells(t[n])} | {cpu(tag, n):.1f} |")
    d = stats(t[other])[0] - stats(t[base])[0]
    pr = paired(tag, other, base, diff=True)
    print()
    verdict = ""
    if target_ms is not None:
        verdict = (f" Target: at most {target_ms} ms more: "
                   + ("**met**." if d <= target_ms else "**not met**."))
    print(f"Difference of the medians: {d:+.1f} ms; the difference of the medians within each"
          f" round has median {statistics.median(pr):+.1f} ms (range {pr[0]:+.1f} to {pr[-1]:+.1f}"
          f" over {len(pr)} rounds).{verdict}")
    print()

if os.path.exists(os.path.join(scratch, "boot.cmds")):
    print("### Boot cycle: Debian 12 to multi-user.target and power off, with and without -n")
    print()
    table("boot", "boxctl boot", "boxctl boot -n", 5)
    print("Checked once before timing: both reach multi-user.target, power off and exit 0;"
          " with -n the host end ve-$machine has an IPv4 address while the machine runs, the"
          " guest's host0 has $boot_guest_addr, and no link is left afterwards.")
    print()
    list_commands(("without -n", "-n"), cmds("boot"))
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
    list_commands(("--private-network", "-n"), cmds("veth"))
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
finish()
PY
