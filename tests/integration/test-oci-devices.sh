#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# boxctl-oci's linux.devices (the nodes, seen from the host through
# /proc/PID/root), linux.resources.devices (a device the rules do not allow
# cannot be opened), the PID and cgroup namespaces a config does not list
# (the runtime's own, compared by /proc/PID/ns inode; kill --all and delete
# by the cgroup), a cgroup namespace joined by path, and their bad input.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

. "$BOXCTL_SRCDIR/tests/lib/oci.sh"
state_pid() { oci state "$1" | jq -r .pid; }
status() { oci state "$1" | jq -r .status; }

base_config='{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false, "user": {"uid": 0, "gid": 0},
    "args": ["sleep", "1000"],
    "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "cwd": "/"
  },
  "root": {"path": "rootfs"},
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]}
  ],
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
    "resources": {"devices": [{"allow": false, "access": "rwm"}]}
  }
}'
started() { oci create --bundle "$2" "$1" </dev/null >/dev/null && oci start "$1"; }

# --- linux.devices and linux.resources.devices ---
b=$(bundle dev '.linux.devices = [
          {"path": "/dev/test-c", "type": "c", "major": 1, "minor": 3, "fileMode": 416, "uid": 1000, "gid": 100},
          {"path": "/dev/sub/test-u", "type": "u", "major": 1, "minor": 5},
          {"path": "/dev/test-b", "type": "b", "major": 7, "minor": 250, "fileMode": 384},
          {"path": "/dev/test-p", "type": "p", "fileMode": 420},
          {"path": "/dev/test-fuse", "type": "c", "major": 10, "minor": 229},
          {"path": "/dev/test-lc", "type": "c", "major": 10, "minor": 237}]
        | .linux.resources.devices += [{"allow": true, "type": "c", "major": 10, "minor": 229, "access": "r"}]')
check "create and start with six linux.devices" started dev "$b"
pid=$(state_pid dev)
is "$(stat -c '%F %t:%T %a %u:%g' "/proc/$pid/root/dev/test-c")" "character special file 1:3 640 1000:100" "/dev/test-c: c 1:3, mode 0640, owner 1000:100"
is "$(stat -c '%F %t:%T %a %u:%g' "/proc/$pid/root/dev/sub/test-u")" "character special file 1:5 666 0:0" "/dev/sub/test-u: type u is c, 1:5, mode 0666 by default, its directory made"
is "$(stat -c '%F %t:%T %a' "/proc/$pid/root/dev/test-b")" "block special file 7:fa 600" "/dev/test-b: b 7:250, mode 0600"
is "$(stat -c '%F %a' "/proc/$pid/root/dev/test-p")" "fifo 644" "/dev/test-p: a FIFO, mode 0644"
is "$(oci exec dev head -c 5 /dev/sub/test-u | wc -c)" 5 "c 1:5 (runc's default rule for /dev/zero, after the config's) reads"
check "/dev/null is usable" oci exec dev sh -c 'echo x >/dev/null'
check "a device a rule allows reading (c 10:229 r) opens for reading" oci exec dev sh -c 'exec 3</dev/test-fuse'
out=$(oci exec dev sh -c 'exec 3>/dev/test-fuse' 2>&1 || true)
ok "...but not for writing: $out" grep -q "Operation not permitted" <<<"$out"
out=$(oci exec dev sh -c 'exec 3</dev/test-lc' 2>&1 || true)
ok "a device no rule allows (c 10:237) cannot be opened: $out" grep -q "Operation not permitted" <<<"$out"
out=$(oci exec dev sh -c 'head -c 1 /dev/test-b' 2>&1 || true)
ok "...nor a block device: $out" grep -q "Operation not permitted" <<<"$out"
check "mknod of a character device is allowed (c *:* m)" oci exec dev mknod /tmp/n c 1 11
if [[ ${BOXCTL_CGROUP_LAYOUT:-} == hybrid ]]; then
        v1=$(test_tmpdir)
        mount -t cgroup -o devices cgroup "$v1"
        cleanup_push umount "$v1"
        is "$(head -n 3 "$v1/machine.slice/machine-dev.scope/devices.list" | paste -sd,)" "c 10:229 r,c *:* m,b *:* m" \
                "v1 devices.list: the config's rules first, in order, then runc's defaults"
        umount "$v1"
        cleanup_pop
fi
check "delete --force" oci delete --force dev
check "...leaves nothing" gone dev

# --- PID and cgroup namespaces not listed: the runtime's ---
b=$(bundle share '.linux.namespaces = [{"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}]
        | .process.args = ["sh", "-c", "sleep 1000 & sleep 1000 & exec sleep 1000"]')
check "create and start without PID and cgroup namespaces" started share "$b"
pid=$(state_pid share)
for ns in pid cgroup; do
        is "$(readlink "/proc/$pid/ns/$ns")" "$(readlink "/proc/$$/ns/$ns")" "the container's $ns namespace is the runtime's"
done
ok "...and its mount namespace is its own" bash -c '[[ $(readlink /proc/$1/ns/mnt) != $(readlink /proc/self/ns/mnt) ]]' _ "$pid"
scope=$(cgroup2_root)/machine.slice/machine-share.scope
check "its three processes are in its cgroup" wait_for 10 bash -c '(( $(wc -l <"$1/cgroup.procs") == 3 ))' _ "$scope"
is "$(cat "/proc/$pid/comm")" sleep "its process is executed as it is (no stub init: there is no PID 1 to be)"
is "$(oci exec share sh -c 'sort -n /sys/fs/cgroup/cgroup.procs | head -n 3' | paste -sd,)" "$(sort -n "$scope/cgroup.procs" | head -n 3 | paste -sd,)" \
        "/sys/fs/cgroup in it is its own cgroup, not the host's hierarchy"
check "kill --all KILL" oci kill --all share KILL
check "...stops all of them" wait_for 10 bash -c '[[ $(cat "$1/cgroup.procs") == "" && $("$2" --root "$3" state share | jq -r .status) == stopped ]]' _ "$scope" "$OCI" "$root"
check "delete" oci delete share
check "...leaves nothing" gone share

check "again: create and start" started share "$b"
check "its three processes" wait_for 10 bash -c '(( $(wc -l <"$1/cgroup.procs") == 3 ))' _ "$scope"
pids=$(cat "$scope/cgroup.procs")
check "delete --force of the running container" oci delete --force share
# Dead, or a zombie its reaper has not waited for yet.
check "...kills every process of it, not only the one in the state" wait_for 10 bash -c \
        'for p in $1; do [[ ! -e /proc/$p || $(awk "{ print \$3 }" /proc/$p/stat) == Z ]] || exit 1; done' _ "$pids"
check "...and leaves nothing" gone share

# --- no mount namespace listed, or one joined by path: the container is in
# that namespace, its root a detached tree; nothing is mounted there ---
mounts_of() { sort "/proc/$1/mountinfo"; }
before=$(mounts_of self)
b=$(bundle nomnt '.linux.namespaces = [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}]')
echo here >"$b/rootfs/nsdev-marker"
check "create and start without a mount namespace" started nomnt "$b"
pid=$(state_pid nomnt)
is "$(readlink "/proc/$pid/ns/mnt")" "$(readlink /proc/self/ns/mnt)" "the container's mount namespace is the runtime's"
is "$(oci exec nomnt cat /nsdev-marker)" here "its root is its rootfs (exec too)"
is "$(stat -f -c %T "/proc/$pid/root/proc")" proc "its /proc is a proc mount"
is "$(mounts_of self)" "$before" "nothing of it is mounted in the runtime's namespace"
check "delete --force" oci delete --force nomnt
check "...leaves nothing" gone nomnt
is "$(mounts_of self)" "$before" "...nor in the runtime's mount namespace"

unshare --mount --fork --kill-child sleep 1000 &
ush=$!
cleanup_push bash -c 'kill -KILL "$1" 2>/dev/null || true' _ "$ush"
check "a process in a mount namespace of the test's own" \
        wait_for 10 bash -c 'p=$(ps -o pid= --ppid "$1" | tr -d " "); [[ -n $p && $(cat "/proc/$p/comm") == sleep ]]' _ "$ush"
np=$(ps -o pid= --ppid "$ush" | tr -d ' ')
before=$(mounts_of "$np")
b=$(bundle mntj ".linux.namespaces[4] = {\"type\": \"mount\", \"path\": \"/proc/$np/ns/mnt\"}")
check "create and start, joining a mount namespace by path" started mntj "$b"
pid=$(state_pid mntj)
is "$(readlink "/proc/$pid/ns/mnt")" "$(readlink "/proc/$np/ns/mnt")" "the container is in the mount namespace given"
is "$(stat -f -c %T "/proc/$pid/root/proc")" proc "its /proc is a proc mount"
is "$(mounts_of "$np")" "$before" "nothing of it is mounted in the joined namespace"
check "delete --force" oci delete --force mntj
check "...leaves nothing" gone mntj
is "$(mounts_of "$np")" "$before" "...nor in the joined namespace after delete"
kill -KILL "$ush"
wait "$ush" 2>/dev/null || true
cleanup_pop

# --- cgroup and time namespaces joined by path ---
unshare --cgroup --time --fork --kill-child sleep 1000 &
ush=$!
cleanup_push bash -c 'kill -KILL "$1" 2>/dev/null || true' _ "$ush"
check "a process in cgroup and time namespaces of the test's own" \
        wait_for 10 bash -c 'p=$(ps -o pid= --ppid "$1" | tr -d " "); [[ -n $p && $(cat "/proc/$p/comm") == sleep ]]' _ "$ush"
np=$(ps -o pid= --ppid "$ush" | tr -d ' ')
b=$(bundle cgj ".linux.namespaces += [{\"type\": \"cgroup\", \"path\": \"/proc/$np/ns/cgroup\"}, {\"type\": \"time\", \"path\": \"/proc/$np/ns/time\"}]")
check "create and start, joining the cgroup and time namespaces by path" started cgj "$b"
for ns in cgroup time; do
        is "$(readlink "/proc/$(state_pid cgj)/ns/$ns")" "$(readlink "/proc/$np/ns/$ns")" "the container is in the $ns namespace given"
        ok "the runtime is back in its own $ns namespace" bash -c '[[ $(readlink /proc/self/ns/$2) != $(readlink /proc/$1/ns/$2) ]]' _ "$np" "$ns"
done
check "delete --force" oci delete --force cgj
check "...leaves nothing" gone cgj

# --- bad input: one line, exit 1, nothing left ---
bad() { # DESC NEEDLE FILTER
        bundle bad "$3" >/dev/null
        fails_with "$1" "$2" oci create --bundle "$work/bad" bad
        check "...leaves nothing" gone bad
}
bad "a relative device path" 'linux.devices[0].path: dev/x is not a clean absolute path below /dev' \
        '.linux.devices = [{"path": "dev/x", "type": "c", "major": 1, "minor": 3}]'
bad "a device path outside /dev" 'linux.devices[0].path: /etc/x is not a clean absolute path below /dev' \
        '.linux.devices = [{"path": "/etc/x", "type": "c", "major": 1, "minor": 3}]'
bad "a device path with .." 'linux.devices[0].path: /dev/../etc/x is not a clean absolute path below /dev' \
        '.linux.devices = [{"path": "/dev/../etc/x", "type": "c", "major": 1, "minor": 3}]'
bad "an unknown device type" 'linux.devices[0].type: x is not a device type (c, b, u or p)' \
        '.linux.devices = [{"path": "/dev/x", "type": "x", "major": 1, "minor": 3}]'
bad "a character device without numbers" 'linux.devices[0]: a device of type c needs major and minor' \
        '.linux.devices = [{"path": "/dev/x", "type": "c"}]'
bad "a device rule of an unknown type" 'linux.resources.devices[1].type: p is not a device cgroup type (a, b or c)' \
        '.linux.resources.devices += [{"allow": true, "type": "p", "access": "r"}]'
bad "a device rule with an unknown access" 'linux.resources.devices[1].access: "rx" is not some of r, w and m' \
        '.linux.resources.devices += [{"allow": true, "type": "c", "access": "rx"}]'
bad "a cgroup namespace path that is not a namespace" 'linux.namespaces[5].path: /etc/hostname is not a namespace' \
        '.linux.namespaces += [{"type": "cgroup", "path": "/etc/hostname"}]'
bad "a cgroup namespace path of another type" "linux.namespaces[5].path: /proc/$np/ns/pid is a pid namespace, not cgroup" \
        ".linux.namespaces += [{\"type\": \"cgroup\", \"path\": \"/proc/$np/ns/pid\"}]"
bad "joining a user namespace" "linux.namespaces[5].path: joining a user namespace (/proc/$np/ns/user) is not supported" \
        ".linux.namespaces += [{\"type\": \"user\", \"path\": \"/proc/$np/ns/user\"}]"
bad "a new time namespace" "linux.namespaces[5]: a new time namespace is not supported (one joined by path is)" \
        '.linux.namespaces += [{"type": "time"}]'
bad "a user namespace without a PID namespace" "linux.namespaces: a user namespace without a PID namespace is not supported (its /proc could not be mounted)" \
        '.linux.namespaces = [{"type": "mount"}, {"type": "user"}] | .linux.uidMappings = [{"containerID": 0, "hostID": 1000000, "size": 1000}] | .linux.gidMappings = .linux.uidMappings'
bad "a user namespace without a mount namespace of its own" "linux.namespaces: a user namespace without a mount namespace of the container's own is not supported" \
        '.linux.namespaces = [{"type": "pid"}, {"type": "user"}] | .linux.uidMappings = [{"containerID": 0, "hostID": 1000000, "size": 1000}] | .linux.gidMappings = .linux.uidMappings'
kill -KILL "$ush"
wait "$ush" 2>/dev/null || true

leaks_check
