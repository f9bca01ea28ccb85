# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# Library for boxctl's integration tests. Source it from a bash TAP test:
#
#       #!/usr/bin/env bash
#       set -euo pipefail
#       . "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
#       sandbox_enter "$@"
#       tree=$(fixture_busybox)
#       check "boxctl --version works" "$BOXCTL" --version
#       leaks_check
#
# Environment: BOXCTL (the built binary), BOXCTL_SRCDIR (the source root),
# BOXCTL_CGROUP_LAYOUT (hybrid, the default, or unified), BOXCTL_TEST_CACHE
# (where fixture trees are kept).
#
# Call sandbox_enter before any test: it re-runs the script. A failed test
# returns non-zero, so under `set -e` it ends the script (what follows usually
# depends on it; clean-ups still run); append `|| true` to carry on.
#
# The library owns the EXIT trap: register clean-ups with cleanup_push rather
# than with `trap ... EXIT`. At exit it runs them in reverse order, then
# reaps whatever the test left behind (processes, mounts, cgroups, loop
# devices) so a failing test does not leak into the host, then prints the
# TAP plan if `plan` was not called, and exits non-zero if any test failed.

if [[ -n ${_BOXCTL_COMMON_SH:-} ]]; then
        return 0
fi
_BOXCTL_COMMON_SH=1

BOXCTL_SRCDIR=${BOXCTL_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BOXCTL=${BOXCTL:-boxctl}
export BOXCTL BOXCTL_SRCDIR

GUEST_PATH=/usr/sbin:/usr/bin:/sbin:/bin

# ---------------------------------------------------------------------------
# TAP 13

_tap_n=0
_tap_failed=0
_tap_planned=

# The header goes out once, before the first line, even across the re-exec
# of sandbox_enter (which keeps the PID).
_tap_header() {
        if [[ ${_BOXCTL_TAP_PID:-} != "$$" ]]; then
                export _BOXCTL_TAP_PID=$$
                echo "TAP version 13"
        fi
}

plan() {
        _tap_header
        _tap_planned=$1
        echo "1..$1"
}

# diag MSG...: a TAP comment on stdout, and the same on stderr, which meson
# prints (--print-errorlogs) when a test fails: CI's log then shows why.
diag() {
        local line
        _tap_header
        # Each line of each argument becomes a comment, so multi-line output
        # cannot break the TAP stream.
        while IFS= read -r line; do
                echo "# $line"
                echo "# $line" >&2
        done <<<"$*"
}

# A test's description is one TAP line: newlines in it (from an error message
# quoted in it, say) become " | ".
_tap_desc() {
        local d=$*
        printf '%s' "${d//$'\n'/ | }"
}

pass() {
        _tap_header
        _tap_n=$((_tap_n + 1))
        echo "ok $_tap_n - $(_tap_desc "$@")"
}

fail() {
        _tap_header
        _tap_n=$((_tap_n + 1))
        _tap_failed=$((_tap_failed + 1))
        echo "not ok $_tap_n - $(_tap_desc "$@")"
        echo "not ok $_tap_n - $(_tap_desc "$@")" >&2
        return 1
}

skip() {
        local desc=$1
        shift
        _tap_header
        _tap_n=$((_tap_n + 1))
        echo "ok $_tap_n - $desc # SKIP ${*:-}"
}

# skip_all REASON: the whole script does not apply here.
skip_all() {
        _tap_header
        _tap_planned=0
        echo "1..0 # SKIP $*"
        exit 0
}

bail_out() {
        _tap_header
        echo "Bail out! $*"
        _tap_failed=$((_tap_failed + 1))
        exit 1
}

# ok DESC CONDITION...: runs CONDITION (e.g. `[[ $x == y ]]` via test) and
# records whether it succeeded. Its output is not captured.
ok() {
        local desc=$1
        shift
        if "$@"; then
                pass "$desc"
        else
                fail "$desc"
        fi
}

# is GOT EXPECTED DESC: string equality, showing both when they differ.
is() {
        if [[ $1 == "$2" ]]; then
                pass "$3"
        else
                fail "$3" || true
                diag "got:      '$1'"
                diag "expected: '$2'"
                return 1
        fi
}

# check DESC CMD...: runs CMD in the current shell (so a function can set
# variables), records success, and shows its output as diagnostics if it
# failed. Returns CMD's status, so `check ... || return` works.
check() {
        local desc=$1 out rc=0
        shift
        out=$(mktemp "${_sb_state:-${TMPDIR:-/tmp}}/check.XXXXXX")
        "$@" >"$out" 2>&1 || rc=$?
        if ((rc == 0)); then
                pass "$desc"
        else
                fail "$desc" || true
                diag "command: $(printf '%q ' "$@")"
                diag "exit status: $rc"
                [[ -s $out ]] && diag "$(cat "$out")"
        fi
        rm -f "$out"
        return "$rc"
}

# check_fails DESC CMD...: as check, but CMD must fail.
check_fails() {
        local desc=$1 out rc=0
        shift
        out=$(mktemp "${_sb_state:-${TMPDIR:-/tmp}}/check.XXXXXX")
        "$@" >"$out" 2>&1 || rc=$?
        if ((rc != 0)); then
                pass "$desc"
        else
                fail "$desc" || true
                diag "command succeeded but should have failed: $(printf '%q ' "$@")"
                [[ -s $out ]] && diag "$(cat "$out")"
        fi
        rm -f "$out"
        ((rc != 0))
}

# fails_with DESC NEEDLE CMD...: CMD fails with exactly one line of stderr,
# holding NEEDLE (what every bad input must give); with FAILS_WITH_STATUS
# set, its exit status must be that one.
fails_with() {
        local desc=$1 needle=$2 rc=0 err
        shift 2
        err=$("$@" 2>&1 >/dev/null) || rc=$?
        ok "$desc: exit $rc, one line: $err" \
                bash -c '(( $1 != 0 && (${4:-0} == 0 || $1 == ${4:-0}) )) && [[ $2 == *"$3"* && $2 != *$'"'"'\n'"'"'* ]]' \
                _ "$rc" "$err" "$needle" "${FAILS_WITH_STATUS:-}"
}

# stop_all: powers off every machine the registry lists, and waits for each
# (for cleanup_push, in tests that start background machines).
stop_all() {
        local m
        for m in $("$BOXCTL" list --no-legend 2>/dev/null | awk '{ print $1 }'); do
                "$BOXCTL" stop --kill-timeout=5 "$m" >/dev/null 2>&1 || true
        done
}

# ---------------------------------------------------------------------------
# Clean-ups

_cleanups=()

# cleanup_push CMD [ARGS...]: run CMD at exit, after everything pushed later.
cleanup_push() {
        _cleanups+=("$(printf '%q ' "$@")")
}

# cleanup_pop: drop the last clean-up without running it.
cleanup_pop() {
        unset '_cleanups[-1]'
}

_run_cleanups() {
        local i
        for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do
                eval "${_cleanups[i]}" >&2 || diag "clean-up failed: ${_cleanups[i]}"
        done
        _cleanups=()
}

# _dump_logs: on failure, the end of every machine console and daemon log
# the test kept in its state directory, to stderr, before clean-up removes
# them.
_dump_logs() {
        local f
        for f in "$_sb_state"/console* "$_sb_state"/*.out "$_sb_state"/*.log; do
                [[ -f $f && -s $f ]] || continue
                echo "--- last lines of ${f##*/} ---" >&2
                tail -n 40 -- "$f" >&2
        done
}

_on_exit() {
        local rc=$?
        set +e
        trap - EXIT
        if ((rc != 0 || _tap_failed != 0)) && [[ -n ${_sb_state:-} ]]; then
                _dump_logs
        fi
        _kill_machines
        _run_cleanups
        if [[ -n ${_sb_state:-} ]]; then
                _sandbox_reap
        fi
        if ((rc != 0 && _tap_failed == 0)); then
                fail "${0##*/} exited with status $rc"
        fi
        _tap_header
        if [[ -z $_tap_planned ]]; then
                echo "1..$_tap_n"
        elif ((_tap_planned != _tap_n)); then
                diag "planned $_tap_planned tests but ran $_tap_n"
                _tap_failed=$((_tap_failed + 1))
        fi
        if [[ -n ${_sb_state:-} ]]; then
                rm -rf --one-file-system "$_sb_tmp" || diag "could not remove $_sb_tmp"
                rm -rf "$_sb_state"
        fi
        ((_tap_failed == 0)) || exit 1
        exit 0
}

trap _on_exit EXIT
# meson sends SIGTERM on timeout; exit through the EXIT trap so clean-ups run.
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------
# Small helpers

# wait_for TIMEOUT_SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
# Every wait in a test is on something it can observe; the timeout is only a
# bound for when that never comes. On a busy host (other services, a stress
# load beside the suite) things take longer than on an idle one, so the
# timeout is multiplied by BOXCTL_TEST_WAIT_FACTOR (default 4): a wait that
# succeeds costs no more for it, and only a failing one waits longer. When it
# gives up it says, on stderr, what it waited for.
wait_for() {
        local factor=${BOXCTL_TEST_WAIT_FACTOR:-4} s=${1%%.*} f=0 deadline now start
        [[ $1 == *.* ]] && f=${1#*.}
        f=${f}000000
        shift
        start=$(_now_us)
        deadline=$(((10#${s:-0} * 1000000 + 10#${f:0:6}) * factor + start))
        while :; do
                "$@" && return 0
                now=$(_now_us)
                if ((now >= deadline)); then
                        echo "wait_for: gave up after $(((now - start) / 1000000)) s waiting for: $(printf '%q ' "$@")" >&2
                        return 1
                fi
                sleep 0.1
        done
}

_now_us() {
        local t=${EPOCHREALTIME/./}
        echo "$((10#$t))"
}

# test_tmpdir: a fresh directory, removed at exit with all the others. It
# lives on disk, not in the sandbox's /run, so trees and images fit. (Made
# under one directory that sandbox_enter created, because `d=$(test_tmpdir)`
# runs in a subshell, where a cleanup_push would be lost.)
test_tmpdir() {
        [[ -n ${_sb_tmp:-} ]] || {
                echo "test_tmpdir: call sandbox_enter first" >&2
                return 1
        }
        mktemp -d "$_sb_tmp/XXXXXX"
}

# tree_snapshot DIR: every path's type, mode, owner, size, mtime (ns) and
# link target, sorted, to compare a tree before and after a command.
tree_snapshot() {
        find "$1" -printf '%P\t%y\t%#m\t%U:%G\t%s\t%T@\t%l\n' | LC_ALL=C sort
}

# cgroup2_root: the mount point of the cgroup2 hierarchy.
cgroup2_root() {
        local d
        for d in /sys/fs/cgroup /sys/fs/cgroup/unified; do
                if [[ $(stat -f -c %T "$d" 2>/dev/null) == cgroup2fs ]]; then
                        echo "$d"
                        return 0
                fi
        done
        echo "cgroup2_root: no cgroup2 hierarchy mounted" >&2
        return 1
}

# cgroup_remove DIR...: remove cgroup directories and everything below them,
# deepest first. A cgroup goes offline asynchronously after rmdir(2), and
# until then its parent's rmdir fails with EBUSY, so each rmdir is retried.
cgroup_remove() {
        local d
        while read -r d; do
                wait_for 5 rmdir "$d" 2>/dev/null || {
                        echo "cgroup_remove: cannot remove $d: $(rmdir "$d" 2>&1)" >&2
                        echo "  processes: $(tr '\n' ' ' <"$d/cgroup.procs" 2>/dev/null)" >&2
                        echo "  $(tr '\n' ' ' <"$d/cgroup.events" 2>/dev/null)" >&2
                        echo "  $(tr '\n' ' ' <"$d/cgroup.stat" 2>/dev/null)" >&2
                        return 1
                }
        done < <(find "$@" -depth -type d)
}

# machine_scope_dirs NAME: the scope directory of machine NAME, with the
# name as given and as systemd escapes it ('-' becomes \x2d).
machine_scope_dirs() {
        local root esc
        root=$(cgroup2_root) || return
        esc=${1//-/\\x2d}
        local d
        for d in "$root/machine.slice/machine-$1.scope" "$root/machine.slice/machine-$esc.scope"; do
                if [[ -d $d ]]; then
                        echo "$d"
                fi
        done | sort -u
}

# machine_leader NAME: host PID of the machine's PID 1, the process in its
# scope (at any depth) whose innermost PID is 1. When PID namespaces nest
# inside the machine, the shallowest such process is the leader.
machine_leader() {
        local scope procs pid line nspid best='' best_depth=999
        for scope in $(machine_scope_dirs "$1"); do
                while IFS= read -r procs; do
                        while read -r pid; do
                                line=$(grep -s '^NSpid:' "/proc/$pid/status") || continue
                                read -r -a nspid <<<"${line#NSpid:}"
                                if [[ ${nspid[-1]} == 1 ]] && ((${#nspid[@]} < best_depth)); then
                                        best=$pid
                                        best_depth=${#nspid[@]}
                                fi
                        done < <(cat -- "$procs" 2>/dev/null || true) # a cgroup may vanish meanwhile
                done < <(find "$scope" -name cgroup.procs)
        done
        [[ -n $best ]] || return 1
        echo "$best"
}

# machine_pgrep NAME COMMAND-LINE: the PIDs of the processes in machine
# NAME's cgroup whose command line (arguments joined by spaces) is exactly
# COMMAND-LINE. A host-wide pgrep could find another machine's processes.
machine_pgrep() {
        local scope pid cmd
        for scope in $(machine_scope_dirs "$1"); do
                for pid in $(_cgroup_pids "$scope"); do
                        cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
                        [[ ${cmd% } == "$2" ]] && echo "$pid"
                done
        done
        return 0
}

# HOLD: a payload, `boxctl run ... -- sh -c "$HOLD"`, that keeps a machine
# running for as long as the test needs it, instead of a `sleep N` that may
# run out first on a loaded host. machine_release ends it; it exits 0.
HOLD='trap "exit 0" USR1; while :; do sleep 0.1; done'

# machine_release NAME: end the HOLD payload of machine NAME. boxctl's init
# (PID 1) forwards SIGUSR1 to the command; it is sent once the command has
# its handler (SigCgt in its status), so it cannot die of it instead.
machine_release() {
        local leader
        leader=$(machine_leader "$1") || {
                echo "machine_release: machine $1 has no leader" >&2
                return 1
        }
        wait_for 10 _holding "$leader" || return
        kill -USR1 "$leader"
}

# _holding PID: a child of PID catches SIGUSR1 (signal 10, bit 9 of SigCgt).
_holding() {
        local child mask
        for child in $(cat "/proc/$1/task/$1/children" 2>/dev/null); do
                mask=$(sed -n 's/^SigCgt:[[:space:]]*//p' "/proc/$child/status" 2>/dev/null)
                [[ -n $mask ]] && (((16#$mask >> 9) & 1)) && return 0
        done
        return 1
}

# boot_bg TREE [ARGS...]: "boxctl boot TREE ARGS..." in the background, its
# output in the file $console; sets $pid and kills it at exit if need be.
boot_bg() {
        local tree=$1
        shift
        "$BOXCTL" boot "$tree" "$@" >"$console" 2>&1 &
        pid=$!
        cleanup_push kill -KILL "$pid"
}

# finish: waits for the boxctl of boot_bg; sets $rc. Not in $(...): wait
# needs this shell.
finish() {
        rc=0
        wait "$pid" || rc=$?
        cleanup_pop
}

# Machines a test runs in the background, by name; killed at exit if they
# still run.
declare -A machine_pids=()
_kill_machines() {
        local p
        for p in "${machine_pids[@]}"; do
                kill -KILL "$p" 2>/dev/null || true
        done
}

# boot_machine NAME TREE [ARGS...]: "boxctl boot TREE -M NAME
# --console=read-only ARGS..." in the background, its output in
# $_sb_state/console-NAME.
boot_machine() {
        local name=$1 tree=$2
        shift 2
        "$BOXCTL" boot "$tree" -M "$name" --console=read-only "$@" >"$_sb_state/console-$name" 2>&1 &
        machine_pids[$name]=$!
}

# finish_machine NAME: waits for the boxctl of machine NAME; sets $rc.
finish_machine() {
        rc=0
        wait "${machine_pids[$1]}" || rc=$?
        unset "machine_pids[$1]"
}

# guest_exec NAME CMD...: run CMD inside machine NAME, in all its namespaces
# and its root, with a clean environment. The net namespace is entered too
# (it is ours when the machine shares it); the user namespace only when the
# machine has its own, as setns() into one's own user namespace fails.
guest_exec() {
        local leader
        leader=$(machine_leader "$1") || {
                echo "guest_exec: machine $1 has no leader" >&2
                return 1
        }
        shift
        local ns=(--mount --uts --ipc --net --pid --cgroup)
        if [[ ! /proc/$leader/ns/user -ef /proc/self/ns/user ]]; then
                ns+=(--user)
        fi
        env -i PATH="$GUEST_PATH" TERM=dumb \
                nsenter --target "$leader" "${ns[@]}" --root --wd -- "$@"
}

# guest_shutdown NAME CMD...: guest_exec NAME CMD, where CMD asks the guest's
# init to power off, halt or reboot. The init's shutdown kills every process
# in the machine, so CMD may die of SIGTERM or SIGKILL before it exits on its
# own (more often on a loaded host): that is success too. Any other failure
# is not.
guest_shutdown() {
        local rc=0
        guest_exec "$@" || rc=$?
        case $rc in
        0 | 143 | 137) return 0 ;;
        *)
                echo "guest_shutdown: '${*:2}' in machine $1 failed with status $rc" >&2
                return "$rc"
                ;;
        esac
}

# ---------------------------------------------------------------------------
# Fixtures

_fixture() {
        local script=$BOXCTL_SRCDIR/tests/fixtures/$1
        # Inside the sandbox the network is gone; a fixture that is not
        # cached yet is built in the host's network namespace, which
        # sandbox_enter kept open for this.
        if [[ -n ${BOXCTL_HOST_NETNS_FD:-} && -e /proc/self/fd/$BOXCTL_HOST_NETNS_FD ]]; then
                nsenter --net="/proc/self/fd/$BOXCTL_HOST_NETNS_FD" -- "$script"
        else
                "$script"
        fi
}

fixture_debian() { _fixture make-debian-tree.sh; }
fixture_busybox() { _fixture make-busybox-tree.sh; }

# ---------------------------------------------------------------------------
# Sandbox

# sandbox_enter "$@": re-run the calling script in a private mount and
# network namespace (once), with a tmpfs on /run and lo up; with
# BOXCTL_CGROUP_LAYOUT=unified, with cgroup2 on /sys/fs/cgroup. Then take
# the baseline the leak checks compare against.
#
# Sandboxes take a lock and run one at a time: tests give their machines the
# same names (bb, deb, ...), and a machine's cgroup and registry entry are
# host-wide. The leak checks do not rely on the lock: they count only what
# this test could have made (see "Leak checks"), whatever else the host does.
sandbox_enter() {
        local here
        here=$(readlink /proc/self/ns/mnt)

        if [[ -n ${BOXCTL_SANDBOX_MNTNS:-} && $BOXCTL_SANDBOX_MNTNS == "$here" ]]; then
                return 0        # already set up, in this very namespace
        fi

        if [[ -z ${BOXCTL_SANDBOX_FROM:-} || $BOXCTL_SANDBOX_FROM == "$here" ]]; then
                ((EUID == 0)) || skip_all "integration tests need root"
                local lock cache=${BOXCTL_TEST_CACHE:-/var/cache/boxctl-tests}
                mkdir -p "$cache"
                exec {lock}>"$cache/integration.lock"
                if ! flock -n "$lock"; then
                        diag "waiting for another boxctl integration test (or a process it leaked) to release $cache/integration.lock"
                        flock -w "${BOXCTL_TEST_LOCK_TIMEOUT:-600}" "$lock" ||
                                bail_out "timed out waiting for $cache/integration.lock"
                fi
                exec {BOXCTL_HOST_NETNS_FD}</proc/self/ns/net
                export BOXCTL_HOST_NETNS_FD BOXCTL_SANDBOX_FROM=$here
                shopt -s execfail
                # shellcheck disable=SC2093 # execfail: we go on if it fails
                exec unshare --mount --net --propagation private -- "$BASH" "$0" "$@"
                bail_out "cannot run unshare(1)"
        fi

        # First run inside the new namespaces.
        unset BOXCTL_SANDBOX_FROM
        export BOXCTL_SANDBOX_MNTNS=$here

        mount -t tmpfs -o mode=0755,nosuid,nodev boxctl-test-run /run ||
                bail_out "cannot mount a tmpfs on /run"
        ip link set lo up || bail_out "cannot bring lo up"

        case ${BOXCTL_CGROUP_LAYOUT:=hybrid} in
        hybrid) ;;
        unified)
                # A bind mount of the existing cgroup2 mount, not a new
                # mount: every mount(2) of cgroup2 from the init cgroup
                # namespace applies its options (nsdelegate,
                # memory_recursiveprot, ...) to the one, host-wide hierarchy,
                # so a new mount here would change the host's settings.
                if [[ $(stat -f -c %T /sys/fs/cgroup) != cgroup2fs ]]; then
                        local v2
                        v2=$(awk '$(NF - 2) == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
                        [[ -n $v2 ]] || bail_out "no cgroup2 mount to bind to /sys/fs/cgroup"
                        mount --bind "$v2" /sys/fs/cgroup ||
                                bail_out "cannot bind $v2 to /sys/fs/cgroup"
                fi
                ;;
        *) bail_out "BOXCTL_CGROUP_LAYOUT must be hybrid or unified, not '$BOXCTL_CGROUP_LAYOUT'" ;;
        esac
        export BOXCTL_CGROUP_LAYOUT

        _sb_boxctl=$(command -v "$BOXCTL" || true)
        _sb_state=$(mktemp -d /run/.boxctl-test.XXXXXX)
        _sb_tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/boxctl-test.XXXXXX")
        # Marks this test's processes: every process started from here on
        # inherits it, and a boxctl keeps it in /proc/PID/environ even when
        # it leaves this test's process tree and namespaces.
        export BOXCTL_TEST_SANDBOX=${_sb_tmp##*/}
        _leaks_snapshot "$_sb_state/base"
        diag "sandbox: mount+net namespaces, cgroup layout $BOXCTL_CGROUP_LAYOUT, cgroup2 at $(cgroup2_root)"
}

# ---------------------------------------------------------------------------
# Leak checks
#
# A test runs on a host that others use at the same time: services, other
# people's machines and tests make cgroups, mounts, loop devices and links all
# the time. So a leak check counts only what this test could have made, and
# the clean-up at exit touches nothing else:
# - mounts and network links: those of the sandbox's own mount and network
#   namespaces (private propagation: nobody else's mounts reach in);
# - runtime files: those under /run/boxctl, on the sandbox's own /run;
# - loop devices: those whose backing file is in this test's directories;
# - processes: those in the sandbox's namespaces, descended from the test,
#   or a boxctl marked with its BOXCTL_TEST_SANDBOX;
# - cgroups: only below boxctl's slice, machine.slice in the cgroup2
#   hierarchy (the one place boxctl makes any: src/core/cgroup.c), and of
#   those only a new machine cgroup that holds a process of this test, or
#   that stays empty (what a killed boxctl leaves; no process of anyone's is
#   in it, so removing it harms nobody). A cgroup that holds only others'
#   processes is theirs: it is neither counted nor touched.

# Whatever tests may leave behind, one file per kind, each sorted so that
# comm(1) can compare them.
_links() {
        ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | LC_ALL=C sort
}

# _links_as_in BASE: no link but those of the file BASE.
_links_as_in() {
        [[ -z $(LC_ALL=C comm -13 "$1" <(_links)) ]]
}

# links_settled BASE: true once the links are those of the file BASE. boxctl
# retires a machine's host end (down, renamed ve~N) and the kernel removes it
# with the machine's network namespace, in the background, tens of ms after
# the machine's last process: wait for that.
links_settled() {
        wait_for 5 _links_as_in "$1"
}

# boxctl's slice in the cgroup2 hierarchy: BOXCTL_CGROUP_SLICE in meson.build.
_boxctl_slice() {
        local root
        root=$(cgroup2_root) || return
        echo "$root/machine.slice"
}

_leaks_snapshot() {
        local d=$1 slice
        mkdir -p "$d"

        # id, mount point, type, source: the id tells a new mount from an old
        # one on the same place, the rest makes a reused id harmless.
        awk '{ for (i = 7; $i != "-"; i++) ; print $1, $5, $(i + 1), $(i + 2) }' \
                /proc/self/mountinfo | LC_ALL=C sort >"$d/mounts"

        test_loops | LC_ALL=C sort >"$d/loops"

        _links >"$d/links"

        # Callers run under `set -euo pipefail`: a cgroup that goes away
        # mid-walk must not end the test.
        slice=$(_boxctl_slice 2>/dev/null) || slice=
        if [[ -n $slice && -d $slice ]]; then
                find "$slice" -type d 2>/dev/null || true
        fi | LC_ALL=C sort >"$d/cgroups"

        # Not in a pipeline: the other side would be one more child of ours.
        _leaks_procs >"$d/procs.unsorted"
        LC_ALL=C sort "$d/procs.unsorted" >"$d/procs"
        rm -f "$d/procs.unsorted"
}

# _proc_marked PID: the process has this test's BOXCTL_TEST_SANDBOX.
_proc_marked() {
        local e
        while IFS= read -r -d '' e; do
                [[ $e == "BOXCTL_TEST_SANDBOX=$BOXCTL_TEST_SANDBOX" ]] && return 0
        done 2>/dev/null <"/proc/$1/environ"
        return 1
}

# Processes that belong to this test: in our mount or network namespace,
# descended from this script, or running the boxctl under test with this
# test's mark (a supervisor may daemonize into namespaces of its own; another
# person's boxctl, even the same binary, is not ours), less this script and
# whatever is running this function. Runs without forking, so it does not see
# itself.
_leaks_procs() {
        local f pid line rest ppid me=$BASHPID
        local -A parent=() skip=()
        for f in /proc/[0-9]*/stat; do
                { read -r line <"$f"; } 2>/dev/null || continue
                pid=${f#/proc/}
                pid=${pid%/stat}
                rest=${line##*) }
                rest=${rest#* }
                parent[$pid]=${rest%% *}
        done

        # This shell and its ancestors up to the test script.
        pid=$me
        while [[ -n $pid && $pid != 0 ]]; do
                skip[$pid]=1
                [[ $pid == "$$" ]] && break
                pid=${parent[$pid]:-}
        done
        skip[$$]=1

        for pid in "${!parent[@]}"; do
                [[ -z ${skip[$pid]:-} ]] || continue
                if [[ /proc/$pid/ns/mnt -ef /proc/$$/ns/mnt || /proc/$pid/ns/net -ef /proc/$$/ns/net ]] ||
                        { [[ -n ${_sb_boxctl:-} && /proc/$pid/exe -ef $_sb_boxctl ]] && _proc_marked "$pid"; }; then
                        echo "$pid"
                        continue
                fi
                ppid=$pid
                while [[ -n $ppid && $ppid != 0 && $ppid != 1 ]]; do
                        if [[ $ppid == "$$" ]]; then
                                echo "$pid"
                                break
                        fi
                        ppid=${parent[$ppid]:-}
                done
        done
}

_proc_desc() {
        local cmd
        cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || cmd=
        echo "$1 ${cmd:-[$(cat "/proc/$1/comm" 2>/dev/null)]}"
}

# _cgroup_pids DIR: the processes in cgroup DIR and below it.
_cgroup_pids() {
        local f
        while IFS= read -r f; do
                cat -- "$f" 2>/dev/null || true
        done < <(find "$1" -name cgroup.procs 2>/dev/null)
}

# _cgroup_unsettled DIR: DIR still exists and is empty (no process, no
# child cgroup).
_cgroup_unsettled() {
        [[ -d $1 && -z $(_cgroup_pids "$1") && -z $(find "$1" -mindepth 1 -maxdepth 1 -type d 2>/dev/null) ]]
}

# _our_cgroups SNAPSHOT: "populated DIR" or "empty DIR" for each cgroup below
# boxctl's slice that is new since the baseline and is this test's (see
# "Leak checks"): a machine's cgroup, or the slice itself when it is new and
# holds nothing. An empty one gets 5 s to go (its boxctl may be removing it)
# or to fill (another boxctl may have just made it).
_our_cgroups() {
        local now=$1 slice c pid i kind
        local -A ours=()
        slice=$(_boxctl_slice 2>/dev/null) || return 0
        while read -r pid; do
                ours[$pid]=1
        done <"$now/procs"
        while IFS= read -r c; do
                [[ $c == "$slice" || ${c%/*} == "$slice" ]] || continue
                if [[ $c == "$slice" ]] && ! _cgroup_unsettled "$c"; then
                        continue # what is in it is judged cgroup by cgroup
                fi
                for ((i = 0; i < 50; i++)); do
                        _cgroup_unsettled "$c" || break
                        sleep 0.1
                done
                [[ -d $c ]] || continue
                kind=empty
                for pid in $(_cgroup_pids "$c"); do
                        kind=others
                        if [[ -n ${ours[$pid]:-} ]]; then
                                kind=populated
                                break
                        fi
                done
                # An empty cgroup is ours only by the name boxctl gives
                # machines: others make scopes in machine.slice too.
                if [[ $kind == empty && $c != "$slice" && ${c##*/} != machine-*.scope ]]; then
                        continue
                fi
                [[ $kind == others ]] || echo "$kind $c"
        done < <(LC_ALL=C comm -13 "$_sb_state/base/cgroups" "$now/cgroups")
}

# _mount_point_exists "ID MOUNT-POINT ...": as in the mounts snapshot, where
# mountinfo escapes space, tab, newline and backslash as \NNN.
_mount_point_exists() {
        local _id mp
        read -r _id mp _ <<<"$1"
        mp=$(printf '%b' "${mp//\\/\\0}")
        [[ -e $mp ]]
}

# leaks_find: print what this test left behind compared with the baseline
# taken by sandbox_enter; fail if anything.
leaks_find() {
        [[ -n ${_sb_state:-} ]] || {
                echo "leaks_find: call sandbox_enter first"
                return 2
        }
        local now=$_sb_state/now base=$_sb_state/base found=0 l pid kind root
        rm -rf "$now"
        links_settled "$base/links" || true
        _leaks_snapshot "$now"
        root=$(cgroup2_root 2>/dev/null) || root=

        while read -r l; do
                echo "mount left: $l"
                found=1
        done < <(LC_ALL=C comm -13 "$base/mounts" "$now/mounts")
        # A mount the sandbox got from the host also goes when the host
        # removes its mount point: since Linux 3.18 a directory that is
        # removed takes the mounts on it away in every namespace. Only one
        # whose mount point is still there was unmounted here.
        while read -r l; do
                _mount_point_exists "$l" || continue
                echo "mount gone: $l"
                found=1
        done < <(LC_ALL=C comm -23 "$base/mounts" "$now/mounts")
        while read -r l; do
                echo "loop device left: $l"
                found=1
        done < <(LC_ALL=C comm -13 "$base/loops" "$now/loops")
        while read -r l; do
                echo "network link left: $l"
                found=1
        done < <(LC_ALL=C comm -13 "$base/links" "$now/links")

        # Processes in cgroups we made, e.g. a machine with its own mount
        # and network namespaces whose supervisor is gone.
        while read -r kind l; do
                echo "cgroup left ($kind): $l"
                found=1
                for pid in $(_cgroup_pids "$l"); do
                        echo "process left in ${l#"$root"/}: $(_proc_desc "$pid")"
                done
        done < <(_our_cgroups "$now")

        # The compiled system call filters (seccomp/*.bpf) are a cache, kept on purpose.
        if [[ -d /run/boxctl ]]; then
                while read -r l; do
                        echo "runtime file left: $l"
                        found=1
                done < <(find /run/boxctl -mindepth 1 ! -type d ! -path "/run/boxctl/seccomp/*.bpf")
        fi

        while read -r pid; do
                [[ -d /proc/$pid ]] || continue
                echo "process left: $(_proc_desc "$pid")"
                found=1
        done < <(LC_ALL=C comm -13 "$base/procs" "$now/procs")

        ((found == 0))
}

# leaks_check [DESC]: a TAP test that nothing leaked.
leaks_check() {
        check "${1:-nothing leaked}" leaks_find
}

# test_loops: this test's loop devices, "loopN BACKING-FILE" a line. Loop
# devices are host-wide: only those whose file is in this test's directories.
test_loops() {
        local f back
        for f in /sys/block/loop*/loop/backing_file; do
                back=$(cat "$f" 2>/dev/null) || continue
                [[ $back == "$_sb_tmp"/* || $back == "$_sb_state"/* ]] || continue
                f=${f#/sys/block/}
                echo "${f%%/*} $back"
        done
}

# At exit: take away whatever the test left, so that one failing test does
# not break the ones after it or the host; and only that (see "Leak checks").
# Order matters: processes hold mounts and cgroups, mounts hold loop devices.
_sandbox_reap() {
        local now=$_sb_state/reap base=$_sb_state/base l pid mp kind slice reaped=() stuck=() cgroups=()
        rm -rf "$now"
        _leaks_snapshot "$now"

        while read -r kind l; do
                cgroups+=("$l")
                [[ $kind == populated ]] || continue
                reaped+=("processes in $l")
                [[ -f $l/cgroup.kill ]] && echo 1 >"$l/cgroup.kill" 2>/dev/null
                for pid in $(_cgroup_pids "$l"); do
                        kill -KILL "$pid" 2>/dev/null
                done
        done < <(_our_cgroups "$now")
        while read -r pid; do
                kill -KILL "$pid" 2>/dev/null && reaped+=("process $pid")
        done < <(LC_ALL=C comm -13 "$base/procs" "$now/procs")

        # Newest mounts first, so that nested ones go before their parents.
        while read -r _ mp _; do
                # mountinfo escapes space, tab, newline and backslash as \NNN.
                mp=$(printf '%b' "${mp//\\/\\0}")
                umount -l "$mp" 2>/dev/null && reaped+=("mount $mp")
        done < <(LC_ALL=C comm -13 "$base/mounts" "$now/mounts" | sort -k1,1nr)

        while read -r l _; do
                losetup -d "/dev/$l" 2>/dev/null && reaped+=("loop $l")
        done < <(LC_ALL=C comm -13 "$base/loops" "$now/loops")

        while read -r l; do
                ip link del "$l" 2>/dev/null && reaped+=("link $l")
        done < <(LC_ALL=C comm -13 "$base/links" "$now/links")

        # A killed process leaves its cgroup a moment later, and a removed
        # child blocks its parent's rmdir until it is offline; deepest first.
        # Then the slice, if this test made it and nothing is left in it.
        slice=$(_boxctl_slice 2>/dev/null) || slice=
        if [[ -n $slice ]] && ! grep -qxF "$slice" "$base/cgroups" && [[ ! " ${cgroups[*]} " == *" $slice "* ]]; then
                cgroups+=("$slice")
        fi
        while read -r l; do
                [[ -d $l ]] || continue
                if [[ $l == "$slice" ]] && ! _cgroup_unsettled "$l"; then
                        continue
                fi
                if wait_for 5 rmdir "$l" 2>/dev/null; then
                        reaped+=("cgroup $l")
                else
                        stuck+=("cgroup $l ($(rmdir "$l" 2>&1 | sed 's/.*: //'); processes: $(tr '\n' ' ' <"$l/cgroup.procs" 2>/dev/null))")
                fi
        done < <(for l in "${cgroups[@]}"; do find "$l" -type d 2>/dev/null; done | LC_ALL=C sort -ru)

        if ((${#reaped[@]} > 0)); then
                diag "cleaned up after the test: ${reaped[*]}"
        fi
        if ((${#stuck[@]} > 0)); then
                diag "could not clean up after the test: ${stuck[*]}"
        fi
}

# ---------------------------------------------------------------------------
# The system bus and boxd

# bus_start: a real dbus-daemon with tests/lib/system-bus.conf and the
# project's bus policy (units/boxd.conf), on a socket in this sandbox; sets
# DBUS_SYSTEM_BUS_ADDRESS. Activating org.freedesktop.machine1 starts the
# built boxd (BOXD, default: next to BOXCTL in the build tree).
bus_start() {
        # The standard place, in this sandbox's own /run, reachable by every user.
        local conf=$_sb_state/system-bus.conf sock=/run/dbus/system_bus_socket services=$_sb_state/services
        mkdir -p -m 0755 /run/dbus
        : "${BOXD:=$(dirname "$BOXCTL")/../boxd/boxd}"
        export BOXD
        mkdir -p "$services"
        sed "s|^Exec=.*|Exec=$BOXD|" "$BOXCTL_BUILDDIR/units/test-org.freedesktop.machine1.service" \
                >"$services/org.freedesktop.machine1.service"
        sed "s|</busconfig>|<listen>unix:path=$sock</listen><servicedir>$services</servicedir><include>$BOXCTL_SRCDIR/units/boxd.conf</include></busconfig>|" \
                "$BOXCTL_SRCDIR/tests/lib/system-bus.conf" >"$conf"
        # Its own messages (e.g. that it cannot raise its fd limit here) go to a log.
        dbus-daemon --config-file="$conf" --nofork --nopidfile --nosyslog 2>>"$_sb_state/dbus.log" &
        _bus_pid=$!
        cleanup_push bus_stop
        export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$sock
        wait_for 5 test -S "$sock" || bail_out "dbus-daemon did not start"
}

bus_stop() {
        boxd_stop
        if [[ -n ${_bus_pid:-} ]]; then
                kill "$_bus_pid" 2>/dev/null || true
                wait "$_bus_pid" 2>/dev/null || true
                _bus_pid=
        fi
}

# bus_restart: the dbus-daemon of bus_start stopped (SIGTERM, or the signal
# given) and started again on the same socket, with the same configuration;
# boxd is left to notice. Waits until the new one answers.
bus_restart() {
        local sig=${1:-TERM}
        kill -"$sig" "$_bus_pid"
        wait "$_bus_pid" 2>/dev/null || true
        dbus-daemon --config-file="$_sb_state/system-bus.conf" --nofork --nopidfile --nosyslog 2>>"$_sb_state/dbus.log" &
        _bus_pid=$!
        wait_for 5 busctl --system list --no-pager >/dev/null 2>&1 || bail_out "the restarted dbus-daemon does not answer"
}

# boxd_running: the registry's name has an owner on the bus.
boxd_running() {
        busctl --system status org.freedesktop.machine1 >/dev/null 2>&1
}

# boxd_start: starts the built boxd (not through activation) and waits for its name.
boxd_start() {
        "$BOXD" >>"$_sb_state/boxd.log" 2>&1 &
        _boxd_pid=$!
        wait_for 5 boxd_running || { diag "$(cat "$_sb_state/boxd.log")"; bail_out "boxd did not take its bus name"; }
}

# boxd_stop: stops boxd, whether we started it or the bus activated it.
boxd_stop() {
        local pid
        pid=$(busctl --system status org.freedesktop.machine1 2>/dev/null | sed -n 's/^PID=//p') || true
        for pid in ${_boxd_pid:-} $pid; do
                kill "$pid" 2>/dev/null || true
        done
        [[ -n ${_boxd_pid:-} ]] && { wait "$_boxd_pid" 2>/dev/null || true; }
        _boxd_pid=
        wait_for 5 bash -c '! busctl --system status org.freedesktop.machine1 >/dev/null 2>&1' || true
}
