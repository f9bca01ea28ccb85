#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Known ways out of a container, each tried from inside a machine, with and
# without -U: every one must be refused. tests/helpers/probe does the trying
# and names the errno it got; this script asserts that each try failed, or
# had no effect on the host.
#
#   CVE-2019-5736   a manager's binary opened for writing via /proc/PID/exe
#   CVE-2024-21626  a host fd or working directory reaching PID 1 or a command
#   CVE-2021-30465  a symlink planted or swapped in as a bind target's parent
#   CVE-2019-19921, CVE-2025-31133  /proc, /sys, /dev, /dev/null in the tree
#                   not being what they seem
#   CVE-2022-0492   a cgroup v1 release_agent written from inside
#   CVE-2017-5226   TIOCSTI into the terminal boxctl was started from
#   and the kernel's own doors: sysrq-trigger, kcore, modules, kexec,
#   open_by_handle_at, block and memory devices, /dev/kmsg, syslog(2).
#
# Some of these are refused by the system call filter alone (kexec_load,
# init_module, syslog, TIOCSTI without a user namespace, ...); their tests
# fail when the filter lets them through, which is the point.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

: "${BOXCTL_PROBE:=$BOXCTL_BUILDDIR/tests/helpers/probe}"
work=$(realpath "$(test_tmpdir)")
bb=$work/busybox
cp -a "$(fixture_busybox)" "$bb"
# Static: it runs in a tree without a libc. A copy, not a bind: what a
# machine's root would have.
install -m 0755 "$BOXCTL_PROBE" "$bb/probe"
boxctl_sum=$(sha256sum <"$(command -v "$BOXCTL")")

brun() { "$BOXCTL" run --register=no "$@"; }
has() { [[ $2 == *"$1"* ]]; } # has NEEDLE HAYSTACK
one_line() { [[ -n $1 && $1 != *$'\n'* ]]; }
mode_of() { [[ -z $1 ]] && echo "without -U" || echo "with -U"; }

# refused OUTPUT MODE NAME...: for each NAME, a test that the probe's lines
# starting with NAME say "ok" and none says LEAK. A NAME with no line at all
# fails: the probe did not try it.
refused() {
        local out=$1 mode=$2 name lines
        shift 2
        for name in "$@"; do
                lines=$(awk -v n="$name " 'index($0, n) == 1' <<<"$out")
                if [[ -n $lines && $lines != *LEAK* && $lines == *" ok ("* ]]; then
                        pass "$name: refused, $mode ($(tr '\n' ';' <<<"$lines" | cut -c1-160))"
                elif [[ -n $lines && $lines != *LEAK* ]]; then
                        # Only "mknod ... refused" lines: nothing to open.
                        pass "$name: refused, $mode ($(tr '\n' ';' <<<"$lines" | cut -c1-160))"
                else
                        fail "$name: refused, $mode" || true
                        diag "${lines:-the probe printed nothing for $name}"
                fi
        done
}

# host_untouched DESC BEFORE DIR: DIR's snapshot is still the file BEFORE.
host_untouched() {
        local now=$_sb_state/snap.now
        tree_snapshot "$3" >"$now"
        check "$1" diff "$2" "$now" || true
}

# ---------------------------------------------------------------------------
# The kernel's own interfaces: each needs a capability the machine lacks, a
# device the device policy denies, a mask over /proc, or the filter.
rootdev=$(mountpoint -d /)
for U in "" -U; do
        mode=$(mode_of "$U")
        out=$(brun $U "$bb" -- /probe kernel "$rootdev" 2>&1) || true
        refused "$out" "$mode" sysrq-trigger-write kcore-read kallsyms-read keys-read timer_list-read kmsg-read kmsg-write \
                kmsg mem host-disk loop0 \
                init_module finit_module delete_module kexec_load kexec_file_load \
                syslog-read-all open_by_handle_at
done

# ---------------------------------------------------------------------------
# CVE-2019-5736: "run"'s PID 1 is boxctl's own stub init, whose
# /proc/1/exe is boxctl's binary on the host. Neither it nor any other
# process the machine can see may be opened for writing, straight or by
# reopening an O_PATH fd.
for U in "" -U; do
        mode=$(mode_of "$U")
        out=$(brun $U "$bb" -- /probe exe 1 all 2>&1) || true
        refused "$out" "$mode" "exe-write pid 1" "exe-reopen pid 1"
        ok "the binary of no process the machine sees is writable, $mode" bash -c '[[ $1 != *LEAK* ]]' _ "$out" ||
                diag "$out"
done

# ---------------------------------------------------------------------------
# CVE-2024-21626: boxctl started with a cwd outside the tree and fds of the
# host left open (no O_CLOEXEC: a directory, the tree's parent, a file, a
# pipe); none reaches PID 1 or the command, and both work inside the root.
# The probe looks at itself and at PID 1 when it may (with -U, PID 1 is the
# stub init, not dumpable: the machine cannot read its fds at all); the
# host looks at PID 1 too.
host_fds_run() {
        cd "$work"
        exec 7</ 8<"$work" 9<>"$_sb_state/fd-file" 6< <(true)
        "$BOXCTL" run --register=no "$@" >"$_sb_state/fds.out" 2>&1 &
        exec 6<&- 7<&- 8<&- 9<&-
        cd /
}
# leader_fds_inside NAME: the machine's PID 1 has stdio only, and its cwd is its root.
leader_fds_inside() {
        local leader
        leader=$(machine_leader "$1") || return
        ls -l "/proc/$leader/fd/"
        [[ $(ls "/proc/$leader/fd/" | tr '\n' ' ') == "0 1 2 " && /proc/$leader/cwd -ef /proc/$leader/root ]]
}
for U in "" -U; do
        mode=$(mode_of "$U")
        host_fds_run $U -M escfds "$bb" -- sh -c '/probe fds self 1; sleep 10'
        pid=$!
        wait_for 10 grep -q "fds self root" "$_sb_state/fds.out" || true
        check "run: PID 1 holds only stdio and stands in its root (seen from the host), $mode" leader_fds_inside escfds || true
        kill "$pid"
        wait "$pid" || true
        out=$(cat "$_sb_state/fds.out")
        ok "run: no host fd, cwd or root reaches the command or the stub init, $mode" \
                bash -c '[[ $1 != *LEAK* && $1 == *"fds self cwd -> / inside"* ]]' _ "$out" || diag "$out"
        ok "run: only stdio reaches them, $mode" \
                bash -c '! grep -qE "^fds (self|1) fd [3-9]" <<<"$1"' _ "$out" || diag "$out"
        # A host directory as stdin would be a directory fd of the host inside.
        rc=0
        out=$(brun $U --console=pipe "$bb" -- /probe fds self <"$work" 2>&1) || rc=$?
        ok "run: a host directory given as stdin is refused, or does not arrive as one, $mode (exit $rc): $out" \
                bash -c '(( $1 != 0 )) && [[ $2 == *"is a directory"* && $2 != *$'"'"'\n'"'"'* ]] ||
                        [[ $2 == *"fds self fd 0"* && $2 != *LEAK* ]]' _ "$rc" "$out"
done

# ---------------------------------------------------------------------------
# CVE-2021-30465: a bind's destination whose parent is a symlink to a host
# path, absolute or climbing with "..", planted before the start or swapped
# in during it. The mount lands inside the tree, or the start fails; the host
# path never gets the mount, nor a mount point made for it.
victim=$work/victim
mkdir -p "$victim/sub" "$bb/mnt"
echo "host data" >"$victim/file"
src=$work/bind-src
mkdir -p "$src"
echo "bind source" >"$src/marker"
tree_snapshot "$victim" >"$_sb_state/victim.before"
for U in "" -U; do
        mode=$(mode_of "$U")
        ln -sfn "$victim" "$bb/mnt/abs"
        ln -sfn "../../../../../../../../../../$victim" "$bb/mnt/rel"
        for link in abs rel; do
                for dst in "/mnt/$link/sub" "/mnt/$link/new/deeper"; do
                        out=$(brun $U --bind="$src:$dst" "$bb" -- sh -c "cat $dst/marker; grep -c ' ${victim}' /proc/self/mountinfo" 2>&1) || true
                        diag "--bind=$src:$dst with /mnt/$link -> host path: $out"
                        host_untouched "a bind under /mnt/$link (symlink to a host path) leaves the host path alone: $dst, $mode" \
                                "$_sb_state/victim.before" "$victim"
                done
        done
        # Where the link resolves inside the tree, the bind goes there.
        mkdir -p "$bb$victim/sub"
        out=$(brun $U --bind="$src:/mnt/abs/sub" "$bb" -- cat /mnt/abs/sub/marker 2>&1) || true
        is "$out" "bind source" "a bind under a symlink that resolves inside the tree is mounted there, $mode"
        host_untouched "...and the host path of the same name is left alone, $mode" "$_sb_state/victim.before" "$victim"
        rm -f "$bb/mnt/abs" "$bb/mnt/rel"
        rm -rf "${bb:?}/${victim#/}"

        # The same swapped in while boxctl starts: /mnt/race, a directory,
        # and a symlink to the host path trade places again and again
        # (renameat2(RENAME_EXCHANGE), so that one of them is always there).
        mkdir -p "$bb/mnt/race/x"
        ln -sfn "$victim" "$bb/mnt/race.l"
        python3 -c '
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
a, b = (os.fsencode(p) for p in sys.argv[1:3])
while True:
    libc.renameat2(-100, a, -100, b, 2)  # RENAME_EXCHANGE
' "$bb/mnt/race" "$bb/mnt/race.l" &
        swapper=$!
        cleanup_push kill "$swapper"
        for ((i = 0; i < 15; i++)); do
                brun $U --bind="$src:/mnt/race/x" "$bb" -- true >/dev/null 2>&1 || true
        done
        kill "$swapper" 2>/dev/null || true
        wait "$swapper" 2>/dev/null || true
        cleanup_pop
        rm -rf "$bb/mnt/race" "$bb/mnt/race.d" "$bb/mnt/race.l" "${bb:?}/${victim#/}"
        host_untouched "a bind target's parent swapped for a symlink during 15 starts leaves the host path alone, $mode" \
                "$_sb_state/victim.before" "$victim"
done
ok "no mount of the host path was left on the host" bash -c '! grep -q " ${1} " /proc/self/mountinfo' _ "$victim"

# ---------------------------------------------------------------------------
# CVE-2019-19921, CVE-2025-31133: /proc, /sys, /dev in the tree as a symlink
# (to a host path, or to another of them), a file or a FIFO; /dev/null as a
# symlink to a host file, a file or a FIFO. boxctl either refuses, in one
# line, or mounts the real thing where it belongs: /proc is proc with its
# masks, /sys is sysfs, /dev/null is the null device; the host is untouched.
hostfile=$work/host-file
echo "host file" >"$hostfile"
hostfile_sum=$(sha256sum <"$hostfile")
# api_check OUTPUT: in the machine, the file systems are the right ones and the masks hold.
api_check() {
        local out=$1
        [[ $out == *"proc sysfs 1,3"* && $out == *"sysrq-trigger-write ok"* && $out == *"kcore-read ok"* &&
                $out != *LEAK* ]]
}
for U in "" -U; do
        mode=$(mode_of "$U")
        for d in proc sys dev dev/null; do
                for kind in "symlink to a host path" "symlink to another API directory" file fifo; do
                        t=$work/api-tree
                        rm -rf "$t"
                        cp -a "$bb" "$t"
                        rm -rf "${t:?}/$d"
                        case $kind in
                        "symlink to a host path") ln -s "$([[ $d == dev/null ]] && echo "$hostfile" || echo "$victim")" "$t/$d" ;;
                        "symlink to another API directory") ln -s "$([[ $d == proc ]] && echo /dev || echo /proc)" "$t/$d" ;;
                        file) echo "not a $d" >"$t/$d" ;;
                        fifo) mkfifo "$t/$d" ;;
                        esac
                        rc=0
                        out=$(timeout 20 "$BOXCTL" run --register=no $U "$t" -- sh -c \
                                'echo "$(stat -f -c %T /proc) $(stat -f -c %T /sys) $(stat -c %t,%T /dev/null)"; echo x >/dev/null; /probe kernel' 2>&1) || rc=$?
                        if ((rc != 0)); then
                                ok "/$d as a $kind: refused in one line, $mode (exit $rc): $out" one_line "$out"
                        else
                                ok "/$d as a $kind: mounted correctly, $mode" api_check "$out" || diag "$out"
                        fi
                done
        done
done
rm -rf "$work/api-tree"
host_untouched "the host path the symlinks pointed to is untouched" "$_sb_state/victim.before" "$victim"
is "$(sha256sum <"$hostfile")" "$hostfile_sum" "the host file /dev/null pointed to is untouched"

# ---------------------------------------------------------------------------
# CVE-2022-0492: a cgroup v1 hierarchy mounted from inside, and its
# release_agent (run by the kernel as the host's root) written: refused.
# The probe writes back the value it read, so a write that goes through
# changes nothing.
v1=()
while read -r name _ _ enabled; do
        [[ $enabled == 1 && $name != \#* ]] && v1+=("$name")
done </proc/cgroups
for U in "" -U; do
        mode=$(mode_of "$U")
        out=$(brun $U "$bb" -- /probe cgroup-v1 rdma memory cpu,cpuacct devices none,name=boxctl-probe 2>&1) || true
        diag "$out"
        refused "$out" "$mode" "cgroup-v1 rdma release-agent" "cgroup-v1 memory release-agent" \
                "cgroup-v1 cpu,cpuacct release-agent" "cgroup-v1 devices release-agent" \
                "cgroup-v1 none,name=boxctl-probe release-agent"
done

# ---------------------------------------------------------------------------
# CVE-2017-5226: TIOCSTI from inside into the terminal boxctl runs on. The
# test makes the terminal; after boxctl ends, what waits in its input queue
# is read back: the probe's marker must not be there.
tiocsti_run() {
        python3 - "$@" <<'PY'
import os, pty, subprocess, sys, termios, tty
master, slave = pty.openpty()
p = subprocess.Popen(sys.argv[1:], stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
                     preexec_fn=lambda: __import__("fcntl").ioctl(0, termios.TIOCSCTTY, 0))
out = b""
import select
while p.poll() is None or select.select([master], [], [], 0)[0]:
    r, _, _ = select.select([master], [], [], 0.2)
    if r:
        try:
            out += os.read(master, 65536)
        except OSError:
            break
p.wait()
# What is left for whoever reads the terminal next (the host's shell).
tty.setraw(slave)
os.set_blocking(slave, False)
queued = b""
try:
    queued = os.read(slave, 65536)
except BlockingIOError:
    pass
sys.stdout.write("output: " + out.decode(errors="replace").replace("\r", "").replace("\n", " | ") + "\n")
sys.stdout.write("queued: " + repr(queued) + "\n")
sys.exit(p.returncode)
PY
}
for U in "" -U; do
        mode=$(mode_of "$U")
        for console in pipe interactive; do
                out=$(tiocsti_run "$BOXCTL" run --register=no $U --console=$console "$bb" -- /probe tiocsti 2>&1) || true
                ok "TIOCSTI does not reach boxctl's terminal, --console=$console, $mode ($(grep -o 'tiocsti-fd0 [^|]*' <<<"$out"))" \
                        bash -c '[[ $1 == *"queued: b'"''"'"* && $1 != *boxctl-tiocsti-marker* ]]' _ "$(grep '^queued' <<<"$out")" ||
                        diag "$out"
        done
done

# ---------------------------------------------------------------------------
# With a booted machine: PID 1 is the tree's init, and "boxctl shell" enters.
bus_start
boxd_start
for U in "" -U; do
        mode=$(mode_of "$U")
        name=esc${U:+u}
        cp -a "$bb" "$work/$name"
        cd "$work"
        exec 7</ 8<"$work" 9<>"$_sb_state/fd-file"
        boot_machine "$name" "$work/$name" $U
        exec 7<&- 8<&- 9<&-
        cd /
        check "busybox machine booted, $mode" wait_for 30 guest_exec "$name" pidof sleep

        # CVE-2024-21626 for PID 1 and an entered command.
        cd "$work"
        exec 7</ 8<"$work" 9<>"$_sb_state/fd-file"
        out=$("$BOXCTL" shell "$name" -- /probe fds self 1 2>&1) || true
        exec 7<&- 8<&- 9<&-
        cd /
        ok "boot: no host fd, cwd or root reaches PID 1 or an entered command, $mode" \
                bash -c '[[ $1 != *LEAK* && $1 == *"fds 1 cwd -> / inside"* && $1 == *"fds self cwd -> "*" inside"* ]]' _ "$out" ||
                diag "$out"
        ok "boot: only stdio reaches them, $mode" bash -c '! grep -qE "^fds (self|1) fd [3-9]" <<<"$1"' _ "$out" ||
                diag "$out"

        # CVE-2019-5736 for the entering boxctl: a watcher inside tries the
        # exe of every process that appears while commands enter.
        "$BOXCTL" shell "$name" -- /probe exe-watch 4000 >"$_sb_state/watch-$name.out" 2>&1 &
        watcher=$!
        cleanup_push kill "$watcher"
        wait_for 5 grep -q "exe-watch ready" "$_sb_state/watch-$name.out" || true
        for ((i = 0; i < 20; i++)); do
                "$BOXCTL" shell "$name" -- true >/dev/null 2>&1 || true
        done
        wait "$watcher" || true
        cleanup_pop
        out=$(cat "$_sb_state/watch-$name.out")
        ok "boot: no entering process's binary is writable from inside, $mode ($(tail -n 1 <<<"$out"))" \
                bash -c '[[ $1 != *LEAK* && $1 == *"exe-watch "*tries* ]]' _ "$out" || diag "$out"
        out=$("$BOXCTL" shell "$name" -- /probe exe all 2>&1) || true
        ok "boot: no visible process's binary is writable from an entered command, $mode" \
                bash -c '[[ $1 != *LEAK* && $1 == *"exe-write pid 1 ok"* ]]' _ "$out" || diag "$out"

        # CVE-2017-5226 for an entered command: on a pty of the machine's
        # own, or on pipes boxctl relays (--pipe).
        for how in "" --pipe; do
                out=$(tiocsti_run "$BOXCTL" shell $how "$name" -- /probe tiocsti 2>&1) || true
                ok "boot: TIOCSTI from an entered command${how:+ ($how)} does not reach boxctl's terminal, $mode ($(grep -o 'tiocsti-fd0 [^|]*' <<<"$out"))" \
                        bash -c '[[ $1 == *"queued: b'"''"'"* && $1 != *boxctl-tiocsti-marker* ]]' _ "$(grep '^queued' <<<"$out")" ||
                        diag "$out"
        done

        "$BOXCTL" poweroff "$name"
        finish_machine "$name"
        is "$rc" 0 "machine $name powered off cleanly"
done
bus_stop

is "$(sha256sum <"$(command -v "$BOXCTL")")" "$boxctl_sum" "boxctl's binary is unchanged"
leaks_check
