#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# "boxctl run": the machine set-up seen from inside, exit codes, stdio,
# signals, options, and that nothing is left behind.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

# Mount points made for binds change the tree's directories' times: use a copy.
tree=$(test_tmpdir)/busybox
cp -a "$(fixture_busybox)" "$tree"
name=$(basename "$tree")
# No registry in this test: say so, so that nothing of ours is on stderr.
run() { "$BOXCTL" run --register=no "$tree" "$@"; }

# Exit codes and stdio.
rc=0; run -- true || rc=$?
is "$rc" 0 "run passes exit status 0"
rc=0; run -- sh -c 'exit 7' || rc=$?
is "$rc" 7 "run passes exit status 7"
rc=0; run -- sh -c 'kill -USR1 $$' || rc=$?
is "$rc" $((128 + 10)) "a command killed by SIGUSR1 gives 128+10"
rc=0; run -- /no/such/command 2>"$_sb_state/err" || rc=$?
is "$rc" 127 "a missing command gives 127"
ok "a missing command is named on stderr" grep -q "/no/such/command" "$_sb_state/err"

out=$(echo "from stdin" | run -- cat)
is "$out" "from stdin" "stdin and stdout pass straight through"
# An fd the caller left open without O_CLOEXEC stays outside (ls's own
# directory is its fd 3).
exec 7</dev/null
is "$(run -- ls /proc/self/fd | tr '\n' ' ')" "0 1 2 3 " "no fd of boxctl's caller but stdio reaches the command"
exec 7<&-
out=$(run -- sh -c 'echo to-out; echo to-err >&2' 2>/dev/null)
is "$out" "to-out" "stdout is not mixed with stderr"
err=$(run -- sh -c 'echo to-out; echo to-err >&2' 2>&1 >/dev/null)
is "$err" "to-err" "stderr passes straight through, with nothing of ours added"
ok "a large output passes intact" bash -c "[[ \$(\"$BOXCTL\" run \"$tree\" -- sh -c 'seq 1 200000' | md5sum) == \$(seq 1 200000 | md5sum) ]]"

# The container interface.
is "$(run -- hostname)" "$name" "hostname is the machine name"
is "$(run --hostname=other -- hostname)" "other" "--hostname sets another hostname"
is "$(run -M custom -- hostname)" "custom" "-M sets the machine name"
is "$(run -- sh -c 'echo $container')" "boxctl" "container=boxctl is in the environment"
uuid=$(run -- sh -c 'echo $container_uuid')
ok "container_uuid is a UUID" bash -c "[[ '$uuid' =~ ^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}\$ ]]"
is "$(run --machine-id=0123456789abcdef0123456789abcdef -- sh -c 'echo $container_uuid')" \
        "01234567-89ab-cdef-0123-456789abcdef" "--machine-id sets container_uuid"
is "$(run -E FOO=bar --setenv=BAZ=1 -- sh -c 'echo $FOO$BAZ')" "bar1" "--setenv passes variables"
is "$(run -- cat /run/host/container-manager)" "boxctl" "/run/host/container-manager"
ok "/run/host/os-release is the host's" cmp <(run -- cat /run/host/os-release) /etc/os-release
is "$(run -- sh -c 'echo $$')" 2 "the command runs as PID 2, under our stub init as PID 1"
ok "only the machine's processes are visible" bash -c "[[ \$(\"$BOXCTL\" run \"$tree\" -- ls /proc | grep -c '^[0-9]') -le 3 ]]"
check "/proc/sys is read-only" run -- sh -c '! echo x > /proc/sys/kernel/hostname'
check "/sys is read-only" run -- sh -c '! mkdir /sys/kernel/boxctl-test'
for f in kallsyms keys timer_list; do
        [[ -e /proc/$f ]] || continue
        is "$(run -- sh -c "wc -c < /proc/$f")" 0 "/proc/$f is masked"
done
check "the private /dev has the basic nodes" run -- sh -c 'for n in null zero full random urandom tty ptmx; do [ -e /dev/$n ] || exit 1; done; [ -d /dev/pts ] && [ -d /dev/shm ]'
check "/dev/null works" run -- sh -c 'echo x > /dev/null && [ "$(head -c 3 /dev/zero | wc -c)" = 3 ]'
ok "the host's devices are not there" bash -c "! \"$BOXCTL\" run \"$tree\" -- ls /dev | grep -qE '^(vda|sda|loop0|kmsg|mem)\$'"
is "$(run -- stat -f -c %t /sys/fs/cgroup)" "63677270" "/sys/fs/cgroup is cgroup2 inside (CGROUP2_SUPER_MAGIC)"
is "$(run -- cat /proc/self/cgroup | grep '^0::')" "0::/" "the machine sees its own cgroup as the root"
check "the machine's cgroup lists only its own processes" run -- sh -c '[ "$(wc -l < /sys/fs/cgroup/cgroup.procs)" -le 3 ]'
out=$(run -- sh -c 'cat /proc/1/cgroup' | grep '^0::' || true)
is "$out" "0::/" "PID 1 runs in the machine's cgroup namespace"

# Capabilities.
# What the host itself may not have (this one lacks CAP_SYS_RESOURCE), no machine gets.
host_bnd=0x$(awk '/^CapBnd/ {print $2}' /proc/self/status)
caps() { printf '%016x' $(($1 & host_bnd)); }
bnd_default=$(run -- sh -c 'grep CapBnd /proc/self/status' | awk '{print $2}')
is "$bnd_default" "$(caps 0xfdecafff)" "the bounding set is systemd-nspawn's default"
bnd=$(run --drop-capability=sys_admin,CAP_MKNOD -- sh -c 'grep CapBnd /proc/self/status' | awk '{print $2}')
is "$bnd" "$(caps 0xf5ccafff)" "--drop-capability removes CAP_SYS_ADMIN and CAP_MKNOD"
bnd=$(run --capability=CAP_NET_ADMIN -- sh -c 'grep CapBnd /proc/self/status' | awk '{print $2}')
is "$bnd" "$(caps 0xfdecbfff)" "--capability adds CAP_NET_ADMIN"
eff=$(run -- sh -c 'grep CapEff /proc/self/status' | awk '{print $2}')
is "$eff" "$bnd_default" "root's effective set is the bounding set (no CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_NET_ADMIN)"

# Mounts: binds, tmpfs, read-only, propagation.
src=$(test_tmpdir)
echo "host file" >"$src/file"
is "$(run --bind="$src:/mnt/src" -- cat /mnt/src/file)" "host file" "--bind shows a host directory"
check "--bind is writable" run --bind="$src:/mnt/src" -- sh -c 'echo written > /mnt/src/new'
is "$(cat "$src/new")" "written" "a write through --bind reaches the host"
check "--bind-ro is read-only" run --bind-ro="$src:/mnt/src" -- sh -c '! echo x > /mnt/src/new2'
check "--bind SRC:DST:ro is read-only" run --bind="$src:/mnt/src:ro" -- sh -c '! touch /mnt/src/new3'
is "$(run --bind="$src/file:/etc/extra" -- cat /etc/extra)" "host file" "--bind of a single file"
is "$(run --bind-ro="$src:/tmp/a/src" -- cat /tmp/a/src/file)" "host file" "--bind below /tmp (boxctl's own tmpfs there)"
is "$(run --bind-ro="$src/file:/run/b/file" -- cat /run/b/file)" "host file" "--bind of a file below /run"
ok "...leaving no mount point in the tree's /tmp and /run" bash -c "[[ ! -e '$tree/tmp/a' && ! -e '$tree/run/b' ]]"
# Through the tree's /var/run -> /run: the bind lands in the machine's /run,
# and its mount point is made there, not in the tree's /run (seen from
# inside through a bind of it).
ln -s ../run "$tree/var/run"
is "$(run --bind-ro="$src:/var/run/c/d" --bind-ro="$tree/run:/mnt/treerun" -- \
        sh -c 'cat /var/run/c/d/file /run/c/d/file; ls -A /mnt/treerun | wc -l')" $'host file\nhost file\n0' \
        "--bind through the tree's /var/run -> /run symlink: in the machine's /run, no mount point in the tree's /run meanwhile"
rm "$tree/var/run"
ok "mount points made for binds are removed afterwards" bash -c "[[ ! -e '$tree/mnt/src' && ! -e '$tree/etc/extra' ]]"
check "--tmpfs mounts an empty tmpfs" run --tmpfs=/srv/scratch -- sh -c '[ "$(stat -f -c %t /srv/scratch)" = 1021994 ] && touch /srv/scratch/x'
check "--read-only makes the tree read-only" run --read-only -- sh -c '! touch /etc/boxctl-test && touch /tmp/ok && touch /run/ok'
ok "the tree did not get the file" test ! -e "$tree/etc/boxctl-test"

# A mount made inside does not reach the host, nor one made on the host during the run reach in.
host_mp=$(test_tmpdir)
run --bind="$host_mp:/mnt/h" -- sh -c 'mount -t tmpfs none /mnt/h && touch /mnt/h/inside' || true
ok "a mount made inside does not propagate to the host" test ! -e "$host_mp/inside"
# The command says it runs (a file in a second bind), the host mounts, then
# tells it so through that second bind, which it polls.
sig=$(test_tmpdir)
run --bind="$host_mp:/mnt/h" --bind="$sig:/mnt/s" -- sh -c \
        'touch /mnt/s/started; i=0; while [ ! -e /mnt/s/mounted ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done; ls /mnt/h' \
        >"$_sb_state/late" &
bg=$!
check "a command with a bind is running" wait_for 10 test -e "$sig/started"
mount -t tmpfs boxctl-late "$host_mp"
touch "$host_mp/late" "$sig/mounted"
wait "$bg"
out=$(cat "$_sb_state/late")
ok "a mount made on the host during the run does not propagate in" bash -c "[[ '$out' != *late* ]]"
umount "$host_mp"

# Signals: SIGTERM to boxctl reaches the command; orphans are reaped by the stub.
# (Not through run(): "$!" must be boxctl, not a subshell.)
"$BOXCTL" run "$tree" -- sh -c 'trap "echo got-term; exit 3" TERM; echo ready; while :; do sleep 0.1; done' >"$_sb_state/sig" &
pid=$!
wait_for 5 grep -q ready "$_sb_state/sig"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
is "$rc" 3 "SIGTERM is forwarded to the command, whose status is passed on"
ok "the command saw SIGTERM" grep -q got-term "$_sb_state/sig"
# The orphan's /proc entry lasts until PID 1 reaps it: wait for that (30 s at most).
zombies=$(run -- sh -c 'p=$(sleep 0.1 </dev/null >/dev/null 2>&1 & echo $!); i=0
        while [ -e /proc/$p ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
        grep -l "State:.*Z" /proc/[0-9]*/status 2>/dev/null | wc -l')
is "$zombies" 0 "orphans are reaped by PID 1"

# Locking: a second read-write machine on the same tree is refused; read-only ones share.
run -- sh -c "$HOLD" &
pid=$!
check "a read-write machine is up" wait_for 5 machine_leader "$name"
rc=0; err=$(run -M other -- true 2>&1) || rc=$?
ok "a second read-write run of the tree fails" test "$rc" -ne 0
ok "...saying the tree is busy" grep -q "busy" <<<"$err"
diag "$err"
other=$(test_tmpdir)/other
cp -a "$tree" "$other"
rc=0; err=$("$BOXCTL" run "$other" -M "$name" -- true 2>&1) || rc=$?
ok "a second machine of the same name fails, busy" bash -c "[[ $rc -ne 0 && '$err' == *busy* ]]"
machine_release "$name"
wait "$pid"
run --read-only -M ro1 -- sh -c "$HOLD" &
pid=$!
check "a read-only machine is up" wait_for 5 machine_leader ro1
check "two read-only machines share a tree" run --read-only -M ro2 -- true
machine_release ro1
wait "$pid"

# SIGKILL of boxctl takes the machine with it.
"$BOXCTL" run "$tree" -- sh -c "$HOLD" &
pid=$!
wait_for 5 machine_leader "$name" >/dev/null
leader=$(machine_leader "$name")
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
check "the machine dies with a SIGKILLed boxctl" wait_for 5 test ! -e "/proc/$leader"
check "the next start cleans up the stale cgroup" run -- true

# On a terminal: the command gets the console as its controlling terminal
# (job control works), in the terminal's size, and follows a resize.
rc=0
python3 "$BOXCTL_SRCDIR/tests/lib/pty-drive.py" --log "$_sb_state/pty" timeout:20 winsize:40x100 \
        'expect:# ' 'send:stty size; tty; sleep 30 & jobs\r' 'expect:40 100' 'expect:/dev/console' \
        'expect:Running' 'winsize:30x90' 'send:stty size\r' 'expect:30 90' 'send:exit 4\r' \
        -- "$BOXCTL" run "$tree" -- sh || rc=$?
is "$rc" 4 "an interactive shell on the console: size, resize, job control, exit status"
ok "...without 'job control turned off'" bash -c "! grep -q 'job control turned off' '$_sb_state/pty'"
ok "...with line endings translated once (no \\r\\r)" bash -c "! grep -q \$'\\r\\r' '$_sb_state/pty'"

leaks_check
