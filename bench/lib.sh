# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# bench/lib.sh: what the benchmarks (bench.sh, images.sh, network.sh,
# userns.sh, seccomp.sh) share; each sources it. Before that a script sets
#   bench_name  its name: the prefix of its log lines and of its scratch
#               directory (/var/tmp/boxctl-NAME.XXXXXX), bench/NAME.sh in
#               the report's command line
#   machine     the machine name every command gets
#   usage_args  the options of its usage line, if not just "[--quick]"
# It offers:
#   parse_args, usage, log, die     options (--quick, a script's own through
#                                   its parse_option) and messages
#   bench_preconditions, bench_setup
#                                   root, tools, cgroup2; the integration
#                                   tests' lock, the scratch directory, the
#                                   script's cgroups, clean-up at exit
#   in_bench_cgroup, start_in_bench_cgroup, run_cmd
#                                   running a command in the script's cgroups
#   fixture, copy_tree, prepare_debian, prepare_oci
#                                   the trees (copies of the fixtures), and
#                                   an OCI bundle for crun over a tree
#   wrap_run_tmpfs, wrap_run_cg, wrapped
#                                   the one wrapper every tool runs in
#   check_boot, check_run           the untimed checks before timing
#   measure, measure_round          rounds of hyperfine runs in alternating
#                                   order (medians are taken over all rounds)
#   report_intro, report_facts, report_py
#                                   the head of a report, and Python for its
#                                   body: medians, IQR, per-round comparisons,
#                                   table cells, the FAILED line
# See bench/README.md for what is measured and why this way.

# The sourcing script sets bench_name, machine, names and cmds, and uses
# wrap_run_cg, report_py and more that is set here:
# shellcheck disable=SC2034,SC2154

srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BOXCTL=${BOXCTL:-$srcdir/build/src/boxctl/boxctl}
lock=${BOXCTL_TEST_CACHE:-/var/cache/boxctl-tests}/integration.lock
# A fixed, valid machine id, the same for every tool: the trees' own
# /etc/machine-id is empty, which each manager would fill in its own way.
machine_id=b0c7c7be4c4b4e2f9a1d5e6f7a8b9c0d
usage_args=${usage_args:-"[--quick]"}

quick=0
scratch=
# A check boot in the background that the clean-up must stop first (its PID).
check_pid=
bench_cgroups=()
failed=()
# For measure_round: a hyperfine --prepare for each command, if set.
preps=()

usage() {
        echo "Usage: ${0##*/} $usage_args" >&2
        exit "${1:-2}"
}

log() { echo "$bench_name: $*" >&2; }
die() {
        log "$*"
        exit 1
}

# parse_args ARGS...: --quick sets quick=1, -h and --help print the usage.
# Any other argument goes to the script's parse_option ARG [NEXT...], if it
# has one: it returns non-zero for an option it does not know, and sets
# opt_shift=2 if it took NEXT too. Sets cmdline, the command line for the
# report (a script adds its own options to it).
parse_args() {
        while (($# > 0)); do
                opt_shift=1
                case $1 in
                --quick) quick=1 ;;
                -h | --help) usage 0 ;;
                *)
                        if ! declare -F parse_option >/dev/null || ! parse_option "$@"; then
                                usage
                        fi
                        ;;
                esac
                shift "$opt_shift"
        done
        cmdline=bench/$bench_name.sh
        if ((quick)); then cmdline+=" --quick"; fi
}

# ---------------------------------------------------------------------------
# Preconditions

# bench_preconditions TOOL...: dies unless run as root, with each TOOL
# installed and boxctl built. Sets cg2 and layout: where cgroup2 is,
# /sys/fs/cgroup (unified) or /sys/fs/cgroup/unified (hybrid); and cgsd, the
# v1 name=systemd hierarchy of a hybrid host (systemd-nspawn makes its cgroups
# there too), or empty; and wrap_run_cg (see Commands below).
bench_preconditions() {
        local t
        ((EUID == 0)) || die "needs root"
        for t in "$@"; do
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

        if [[ $layout == hybrid ]]; then
                wrap_run_cg="mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run && mount --bind $cg2 /sys/fs/cgroup && exec \"\$@\""
        else
                wrap_run_cg=$wrap_run_tmpfs
        fi
}

# ---------------------------------------------------------------------------
# The lock, scratch space and clean-up

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
        # A check boot in the background, perhaps not in our cgroup yet:
        # timeout passes the signal on to boxctl, which powers the machine
        # off; what is left then is killed with the cgroup below.
        if [[ -n $check_pid ]]; then
                kill -TERM "$check_pid" 2>/dev/null
                wait "$check_pid" 2>/dev/null
        fi
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
        # A cgroup named for our machine that appeared while we ran is a
        # tool's (one that made cgroups outside the one it runs in): say so,
        # remove it. Only those: work that does not take the lock (a busy
        # host beside the tests, tests/stress-host.sh) makes cgroups too.
        if [[ -n $scratch && -f $scratch/cgroups.before ]]; then
                while read -r d; do
                        log "a tool left cgroup $d behind; removing it"
                        remove_cgroup_tree "$d"
                done < <(list_cgroups | LC_ALL=C comm -13 "$scratch/cgroups.before" - |
                        grep -F -e "$machine" -e "$esc" |
                        awk 'NR == 1 || index($0, prev "/") != 1 { print; prev = $0 }')
        fi
        if [[ -n $scratch && -d $scratch ]]; then
                # Nothing is mounted in there on the host: every mount (and
                # loop device) was in a private mount namespace or a process
                # of boxctl's, gone with it. --one-file-system in case.
                rm -rf --one-file-system "$scratch" || log "could not remove $scratch"
        fi
        exit "$rc"
}

# bench_setup: takes the integration tests' lock, waiting for it (they reap
# any boxctl process they did not start, and two benchmarks on 2 cores skew
# each other); sets start and load_start, for the report; makes the scratch
# directory and the script's cgroups, with everything removed at exit, even
# on failure.
bench_setup() {
        local d
        mkdir -p "$(dirname "$lock")"
        exec {lockfd}>"$lock"
        if ! flock -n "$lockfd"; then
                log "waiting for the integration tests to release $lock"
                flock -w 900 "$lockfd" || die "timed out waiting for $lock"
        fi

        start=$SECONDS
        load_start=$(cut -d' ' -f1-3 /proc/loadavg)

        machine_slice_existed=0
        if [[ -d $cg2/machine.slice ]]; then
                machine_slice_existed=1
        fi
        trap cleanup EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM

        scratch=$(mktemp -d "/var/tmp/boxctl-$bench_name.XXXXXX")
        chmod 0755 "$scratch"
        [[ $scratch =~ ^[A-Za-z0-9._/-]+$ ]] || die "unexpected characters in $scratch"
        list_cgroups >"$scratch/cgroups.before"

        # Every measured process runs in a cgroup of ours, so that what a tool
        # leaves there (systemd-nspawn --keep-unit makes supervisor/ and
        # payload/ below the cgroup it runs in) is found and removed, and
        # nothing escapes the clean-up.
        for d in "$cg2" $cgsd; do
                mkdir "$d/${scratch##*/}"
                bench_cgroups+=("$d/${scratch##*/}")
        done
}

# start_in_bench_cgroup CMD...: CMD in the background in the script's
# cgroups; $! is the process that becomes CMD.
start_in_bench_cgroup() {
        (
                for d in "${bench_cgroups[@]}"; do
                        echo "$BASHPID" >"$d/cgroup.procs"
                done
                exec "$@"
        ) &
}

# in_bench_cgroup CMD...: CMD in the script's cgroups. In the background and
# waited for, so that a signal to the script runs its trap at once rather than
# after the command (a whole hyperfine round).
in_bench_cgroup() {
        start_in_bench_cgroup "$@"
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

# prepare_debian TREE [EXECSTART...]: a copy of the Debian fixture at TREE
# that powers itself off once it has reached multi-user.target. The oneshot
# unit doing it is ordered after multi-user.target, so the machine has
# reached it when it runs; its ExecStart= lines are the EXECSTARTs, by
# default: write down what systemd says of the target (in
# /var/lib/boxctl-bench/reached, for the check), then ask for a power-off
# without waiting for it.
prepare_debian() {
        local t=$1
        shift
        if (($# == 0)); then
                set -- "/bin/sh -c 'systemctl is-active multi-user.target >/var/lib/boxctl-bench/reached'" \
                        "/bin/systemctl --no-block poweroff"
        fi
        copy_tree "$(fixture make-debian-tree.sh)" "$t"
        mkdir -p "$t/etc/systemd/system/multi-user.target.wants" "$t/var/lib/boxctl-bench"
        {
                cat <<'EOF'
# SPDX-License-Identifier: LGPL-2.1-or-later
[Unit]
Description=Power off once multi-user.target is reached (boxctl bench)
After=multi-user.target

[Service]
Type=oneshot
EOF
                printf 'ExecStart=%s\n' "$@"
                cat <<'EOF'

[Install]
WantedBy=multi-user.target
EOF
        } >"$t/etc/systemd/system/boxctl-bench-poweroff.service"
        ln -s ../boxctl-bench-poweroff.service "$t/etc/systemd/system/multi-user.target.wants/"
        # A persistent journal grows with every boot and rotates in some runs
        # but not others; keep it in memory so each boot does the same work.
        mkdir -p "$t/etc/systemd/journald.conf.d"
        printf '# SPDX-License-Identifier: LGPL-2.1-or-later\n[Journal]\nStorage=volatile\n' \
                >"$t/etc/systemd/journald.conf.d/boxctl-bench.conf"
}

# prepare_oci BUNDLE ROOTFS: a minimal OCI bundle at BUNDLE whose root is the
# tree ROOTFS itself (the same directory the other tools use), from `crun
# spec`: no terminal, no rlimits (the spec lowers RLIMIT_NOFILE, which the
# other tools do not touch, and this host may lack CAP_SYS_RESOURCE), no
# resources (cgroup limits), no network namespace (boxctl and systemd-nspawn
# share the host's by default), a writable root as theirs. Like the spec, no
# seccomp profile.
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

# Every tool gets the same wrapper: a private mount namespace with a tmpfs on
# /run (systemd-nspawn wants to write there; there is no machined).
# shellcheck disable=SC2016 # $@ is for the wrapper's sh
wrap_run_tmpfs='mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run && exec "$@"'
# For a command (not a boot), wrap_run_cg: also cgroup2 on /sys/fs/cgroup,
# which crun needs. A bind mount of the host's cgroup2 mount, not a new mount:
# mounting cgroup2 from the initial cgroup namespace applies that mount's
# options (nsdelegate, ...) to the one, host-wide hierarchy. Set by
# bench_preconditions, which finds cgroup2.
wrapped() {
        local w=$1
        shift
        echo "unshare --mount --propagation private sh -c '$w' sh $*"
}

run_cmd() {
        in_bench_cgroup sh -c "exec $1"
}

# ---------------------------------------------------------------------------
# Checks, once and untimed, before timing

# check_boot NAME CMD TREE OUT [POLL]: a boot with CMD, console to OUT, must
# reach multi-user.target, power off and exit 0: the power-off unit of
# prepare_debian's default leaves "active" in TREE's marker, and the console
# shows "Reached target … multi-user.target" and "Powering off". Says what
# went wrong if not. With POLL, the boot runs in the background (check_pid,
# for the clean-up) and the function POLL runs every 10 ms until it ends.
check_boot() {
        local name=$1 cmd=$2 tree=$3 out=$4 poll=${5:-} rc=0
        rm -f "$tree/var/lib/boxctl-bench/reached"
        if [[ -n $poll ]]; then
                start_in_bench_cgroup timeout --kill-after=30 300 sh -c "exec $cmd" </dev/null >"$out" 2>&1
                check_pid=$!
                while kill -0 "$check_pid" 2>/dev/null; do
                        "$poll"
                        sleep 0.01
                done
                wait "$check_pid" || rc=$?
                check_pid=
        else
                in_bench_cgroup timeout --kill-after=30 300 sh -c "exec $cmd" </dev/null >"$out" 2>&1 || rc=$?
        fi
        if ((rc != 0)) || [[ $(cat "$tree/var/lib/boxctl-bench/reached" 2>/dev/null) != active ]] ||
                ! grep -aq 'Reached target.*multi-user\.target' "$out" ||
                ! grep -aq 'Powering off' "$out"; then
                log "boot: $name did not boot to multi-user.target and power off cleanly (exit $rc, marker '$(cat "$tree/var/lib/boxctl-bench/reached" 2>/dev/null)'); its console:"
                tail -n 30 "$out" >&2
                return 1
        fi
}

# check_run TAG NAME CMD [FALSE_CMD]: CMD (ending in "/bin/true") exits 0, and
# FALSE_CMD (by default CMD with /bin/false instead) exits 1.
check_run() {
        local tag=$1 name=$2 cmd=$3 cmd_false=${4:-} rc=0 rc_false=0 out=$scratch/check.log
        if [[ -z $cmd_false ]]; then
                cmd_false=${cmd/%\/bin\/true//bin/false}
        fi
        run_cmd "$cmd" </dev/null >"$out" 2>&1 || rc=$?
        run_cmd "$cmd_false" </dev/null >>"$out" 2>&1 || rc_false=$?
        if ((rc != 0 || rc_false != 1)); then
                log "$tag: $name: /bin/true exited $rc (want 0), /bin/false $rc_false (want 1); its output:"
                tail -n 20 "$out" >&2
                return 1
        fi
        log "$tag: $name runs /bin/true (exit 0) and /bin/false (exit 1)"
}

# ---------------------------------------------------------------------------
# Measuring. hyperfine runs all runs of one command before the next, so the
# runs are split into rounds, each a hyperfine invocation over all the
# commands, in alternating order; the medians are taken over all rounds.
# Drift of the host (page cache, CPU frequency, a neighbour) then spreads
# over every command.

# measure_round TAG ROUND RUNS WARMUP [HYPERFINE_OPTION...]: one hyperfine
# run over the arrays names and cmds (and preps, a --prepare for each, if
# set), reversed on odd rounds, with the options given. Writes
# TAG.ROUND.json; on failure, says so and adds TAG to failed.
measure_round() {
        local tag=$1 r=$2 runs=$3 warmup=$4 i j n=${#names[@]} args=()
        shift 4
        for ((i = 0; i < n; i++)); do
                j=$((r % 2 ? n - 1 - i : i))
                args+=(-n "${names[j]}" "${cmds[j]}")
                if ((${#preps[@]})); then
                        args+=(--prepare "${preps[j]}")
                fi
        done
        if ! in_bench_cgroup hyperfine -N --style basic --warmup "$warmup" --runs "$runs" "$@" \
                --export-json "$scratch/$tag.$r.json" "${args[@]}" </dev/null >&2; then
                log "$tag: a measured command failed (round $((r + 1))); see above"
                failed+=("$tag")
                return 1
        fi
}

# measure TAG ROUNDS RUNS WARMUP: ROUNDS of measure_round.
measure() {
        local tag=$1 rounds=$2 runs=$3 warmup=$4 r
        for ((r = 0; r < rounds; r++)); do
                log "$tag: round $((r + 1))/$rounds"
                measure_round "$tag" "$r" "$runs" "$warmup" || return 1
        done
}

# ---------------------------------------------------------------------------
# Report

# report_intro TITLE [MORE]: the title, and how to reproduce (MORE follows
# on that line).
report_intro() {
        printf '%s\n\n' "$1"
        # shellcheck disable=SC2016 # the backquotes are markdown
        printf 'Reproduce with `%s` (as root, from the source tree).%s\n\n' "$cmdline" "${2:-}"
}

# report_facts [--load] HOST [VERSION...]: a markdown list of the date, the
# host (HOST follows its CPU count), boxctl's version and git revision, each
# VERSION (of another tool), hyperfine's and the script's run time (with
# --load, also the load average at the start and now).
report_facts() {
        local load=0 host boxctl_version boxctl_rev hyperfine_version
        if [[ $1 == --load ]]; then
                load=1
                shift
        fi
        host=$1
        shift
        boxctl_version=$("$BOXCTL" --version | head -n 1)
        boxctl_rev=$(git -C "$srcdir" rev-parse --short HEAD 2>/dev/null || echo unknown)
        if ! git -C "$srcdir" diff --quiet HEAD -- src 2>/dev/null; then
                boxctl_rev+=" + uncommitted changes in src/"
        fi
        hyperfine_version=$(hyperfine --version)
        echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
        echo "- host: Linux $(uname -r), $(nproc) CPUs$host"
        echo "- $boxctl_version, git $boxctl_rev"
        if (($# > 0)); then
                printf -- '- %s\n' "$@"
        fi
        echo "- $hyperfine_version"
        if ((load)); then
                echo "- script run time: $((SECONDS - start)) s; load average at start $load_start, at end $(cut -d' ' -f1-3 /proc/loadavg)"
        else
                echo "- script run time: $((SECONDS - start)) s"
        fi
}

# The start of each report's Python (python3 - "$scratch" "${failed[*]:-}"
# [ARG...]): the arguments, and helpers over the TAG.ROUND.json files.
report_py=$(
        cat <<'PY'
import glob, json, os, statistics, sys

scratch, failed = sys.argv[1], sys.argv[2].split()

# Each round of TAG: its results by command name.
def rounds(tag):
    for path in sorted(glob.glob(os.path.join(scratch, tag + ".*.json"))):
        yield {res["command"]: res for res in json.load(open(path))["results"]}

# All runs of each command of TAG, in ms; a run that exited non-zero fails TAG.
def times(tag):
    t = {}
    for r in rounds(tag):
        for n, res in r.items():
            if any(c != 0 for c in res.get("exit_codes", [])):
                failed.append(tag)
            t.setdefault(n, []).extend(x * 1000 for x in res["times"])
    return t

# a's median against b's within each round, sorted: the ratio, or with
# diff=True the difference in ms. Drift of the host between rounds (a
# neighbour's load) cancels out.
def paired(tag, a, b, diff=False):
    def one(r):
        ma, mb = statistics.median(r[a]["times"]), statistics.median(r[b]["times"])
        return (ma - mb) * 1000 if diff else ma / mb
    return sorted(one(r) for r in rounds(tag))

# median, first and third quartiles, minimum, number of runs
def stats(t):
    t = sorted(t)
    q = statistics.quantiles(t, n=4) if len(t) >= 2 else [t[0]] * 3
    return statistics.median(t), q[0], q[2], t[0], len(t)

# The cells "median | IQR | min | runs" of a table row, times in ms.
def cells(t):
    m, q1, q3, lo, k = stats(t)
    return f"{m:.1f} | {q1:.1f}–{q3:.1f} | {lo:.1f} | {k}"

# Mean CPU time (user + sys, from hyperfine) of command n of TAG, in ms.
def cpu(tag, n):
    return statistics.mean(r[n]["user"] + r[n]["system"] for r in rounds(tag)) * 1000

def cmds(tag):
    return open(os.path.join(scratch, tag + ".cmds")).read().split("\n")[:-1]

# A list of the commands run, each under its label.
def list_commands(labels, commands, title="Commands (in a cgroup of the script's own):"):
    print(title)
    print()
    for n, c in zip(labels, commands):
        print(f"- {n}: `{c}`")
    print()

# The last line if anything failed, and the exit status.
def finish():
    if failed:
        print("FAILED: " + " ".join(sorted(set(failed))))
        sys.exit(1)
PY
)
