#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# podman drives boxctl-oci for application containers, as a user of
# `podman --runtime boxctl-oci` would: a terminal, --user, -v binds
# (read-write and read-only), --read-only, exit codes, podman exec into a
# running container, podman stop, kill and rm, and logs of a detached one.
# (test-oci.sh has the runtime's own verbs, stdio, -e/-w, resources,
# podman's Debian system container and containerd.)
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"
. "$BOXCTL_SRCDIR/tests/lib/podman.sh"

OCI=${BOXCTL_OCI:-${BOXCTL_BUILDDIR:?}/src/oci/boxctl-oci}
work=$(realpath "$(test_tmpdir)")
podman_setup
rootfs=$work/rootfs
cp -a "$(fixture_busybox)" "$rootfs"
drive() { python3 "$BOXCTL_SRCDIR/tests/lib/pty-drive.py" "$@"; }
state_of() { pm_ inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$1"; }

# --- a terminal: -t gives the container a pty of its own, of the
# terminal's size, and the exit status comes back ---
# (The pty is the machine's console: tty(1) names it /dev/console where
# runc's is /dev/pts/0; a program sees a terminal either way.)
rc=0
drive --log "$work/pty.log" winsize:33x101 expect:'size=33 101' -- \
        podman --root "$pm/root" --runroot "$pm/runroot" --tmpdir "$pm/tmp" --storage-driver vfs \
        --cgroup-manager cgroupfs --events-backend file --runtime "$OCI" \
        run --rm -it "${pm_run_opts[@]}" --rootfs "$rootfs" \
        sh -c 'echo tty=$(tty) size=$(stty size) stdin=$([ -t 0 ] && echo yes); exit 5' >/dev/null 2>&1 || rc=$?
out=$(tr -d '\r' <"$work/pty.log")
ok "podman run -it: the command's stdin is a pty of the terminal's size: $out" \
        bash -c '[[ $1 =~ tty=/dev/(pts/[0-9]+|console)\ size=33\ 101\ stdin=yes ]]' _ "$out"
is "$rc" 5 "...and the exit status is the command's"

# --- the user: uid, gid and supplementary groups from --user/--group-add ---
out=$(podman_run --user=1000:1001 --group-add=27 "$rootfs" sh -c 'echo $(id -u) $(id -g) $(id -G)')
is "$out" "1000 1001 1001 27" "podman run --user 1000:1001 --group-add 27: uid, gid and groups"
out=$(podman_run --user=1000:1001 "$rootfs" sh -c 'touch /root/x 2>&1 || echo refused') || true
has_refused() { [[ $1 == *refused* ]]; }
ok "...and that user is not root in there: $out" has_refused "$out"

# --- binds: read-write and read-only ---
data=$work/data
mkdir -p "$data"
echo host >"$data/in"
out=$(podman_run --volume="$data:/data" "$rootfs" sh -c 'cat /data/in; echo guest >/data/out')
is "$out" host "podman run -v DIR:/data: the host's file is read in the container"
is "$(cat "$data/out")" guest "...and the container's write is on the host"
out=$(podman_run --volume="$data:/data:ro" "$rootfs" sh -c 'echo x >/data/out2 2>/dev/null && echo wrote || echo refused; cat /data/in')
is "$out" $'refused\nhost' "podman run -v DIR:/data:ro: readable, and a write is refused"
ok "...and nothing was written" test ! -e "$data/out2"

# --- mounts in the container's own /run and /dev: podman's
# /run/.containerenv, a -v bind on /run/foo, and its /dev/shm ---
out=$(podman_run --volume="$data:/run/foo:ro" "$rootfs" sh -c 'test -f /run/.containerenv && awk '"'"'$5 == "/run/.containerenv" { print "containerenv bound" }'"'"' /proc/self/mountinfo; cat /run/foo/in
        awk '"'"'$5 == "/dev/shm" { n++ } END { print n " on /dev/shm" }'"'"' /proc/self/mountinfo; echo x >/dev/shm/t && cat /dev/shm/t')
is "$out" $'containerenv bound\nhost\n2 on /dev/shm\nx' \
        "podman run -v DIR:/run/foo:ro: /run/.containerenv (podman's), the bind on /run/foo, podman's /dev/shm bound over the machine's, writable"
ok "...and nothing was made in the rootfs' /run or /dev" bash -c '[[ -z $(ls -A "$1/run" "$1/dev" | grep -v -e ":$" -e "^$") ]]' _ "$rootfs"

# --- --read-only: the root is read-only, podman's tmpfs on /tmp is not ---
out=$(podman_run --read-only "$rootfs" sh -c 'touch /etc/x 2>/dev/null && echo rw || echo ro; touch /tmp/x && echo tmp-rw')
is "$out" $'ro\ntmp-rw' "podman run --read-only: / is read-only, /tmp writable"
ok "...the tree was not written" test ! -e "$rootfs/etc/x"

# --- exit codes: the command's own, and runc's words for a missing one
# (podman's 127) ---
rc=0
podman_run "$rootfs" sh -c 'exit 42' || rc=$?
is "$rc" 42 "podman run: the command's exit status"
rc=0
err=$(podman_run "$rootfs" /no/such/command 2>&1) || rc=$?
ok "podman run of a missing command: exit $rc (podman's 127 or 126): $(tail -1 <<<"$err")" \
        bash -c '(( $1 == 127 || $1 == 126 ))' _ "$rc"

# --- a detached container: logs, exec, kill, stop, rm ---
cid=$(pm_ run -d "${pm_run_opts[@]}" --rootfs "$rootfs" sh -c 'echo started; exec sleep 1000')
running() { [[ $(state_of "$1") == "running 0" ]]; }
check "podman run -d: running" wait_for 30 running "$cid"
logged() { [[ $(pm_ logs "$cid" 2>&1) == started ]]; }
check "podman logs: the detached container's output" wait_for 30 logged
out=$(pm_ exec "$cid" sh -c 'echo in $(hostname); exit 3') && rc=0 || rc=$?
is "$out $rc" "in ${cid:0:12} 3" "podman exec: stdout and the exit status"
out=$(pm_ exec -i "$cid" sh -c 'read x; echo got $x' <<<"line")
is "$out" "got line" "podman exec -i: stdin"
out=$(pm_ exec --user 1000 "$cid" id -u)
is "$out" 1000 "podman exec --user 1000"
out=$(pm_ exec --user 1000:1001 --workdir /tmp "$cid" sh -c 'echo $(id -u) $(id -g) $(id -G) $(pwd)')
is "$out" "1000 1001 1001 /tmp" "podman exec --user 1000:1001 --workdir /tmp: uid, gid, groups and directory"
rc=0
err=$(pm_ exec --workdir /no/such "$cid" true 2>&1) || rc=$?
ok "podman exec --workdir /no/such: refused (exit $rc): $err" \
        bash -c '(( $1 != 0 )) && [[ $2 == *"/no/such"* ]]' _ "$rc" "$err"
check "podman kill" pm_ kill "$cid"
stopped137() { [[ $(state_of "$1") == "exited 137" ]]; }
check "...exited with 137 (SIGKILL)" wait_for 30 stopped137 "$cid"
check "podman rm" pm_ rm "$cid"

cid=$(pm_ run -d "${pm_run_opts[@]}" --rootfs "$rootfs" sh -c 'trap "exit 0" TERM; sleep 1000 & wait')
check "a second detached container: running" wait_for 30 running "$cid"
check "podman stop: the container's SIGTERM handler ends it" pm_ stop -t 30 "$cid"
is "$(state_of "$cid")" "exited 0" "...exited, status 0"
check "podman rm" pm_ rm "$cid"
none_left() { [[ -z $(pm_ ps -aq) ]]; }
ok "no container left in podman" none_left
ok "nothing left in /run/boxctl-oci" bash -c '[[ -z $(ls -A /run/boxctl-oci 2>/dev/null) ]]'

leaks_check
