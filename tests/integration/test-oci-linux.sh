#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# boxctl-oci's "linux" section beyond what test-oci covers: user namespace
# maps of more than one range, namespaces joined by path, and the cgroups
# that linux.cgroupsPath names, each checked where the kernel shows it
# (/proc/PID/uid_map, /proc/PID/ns/*, /proc/PID/cgroup and the limit files),
# and their bad input: one line in runc's words, exit 1, nothing left.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

OCI=${BOXCTL_OCI:-${BOXCTL_BUILDDIR:?}/src/oci/boxctl-oci}
work=$(realpath "$(test_tmpdir)")
root=$_sb_state/oci
oci() { "$OCI" --root "$root" "$@"; }
cleanup_push bash -c 'for id in $("$1" --root "$2" list -q 2>/dev/null); do "$1" --root "$2" delete --force "$id"; done' _ "$OCI" "$root"
state_pid() { oci state "$1" | jq -r .pid; }
gone() {
        [[ ! -e $root/$1 ]] &&
                [[ ! -e $(cgroup2_root)/machine.slice/machine-$1.scope ]] &&
                ! compgen -G "/sys/fs/cgroup/*/machine.slice/machine-$1.scope" >/dev/null
}

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
    "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}]
  }
}'
tree=$(fixture_busybox)
bundle() {
        local b=$work/$1
        mkdir -p "$b"
        [[ -d $b/rootfs ]] || cp -a "$tree" "$b/rootfs"
        jq "${2:-.}" <<<"$base_config" >"$b/config.json"
        echo "$b"
}
# up ID BUNDLE: create and start a container whose sleep then runs (a
# child of its init, the stub).
up() {
        oci create --bundle "$2" "$1" </dev/null >/dev/null && oci start "$1" &&
                wait_for 10 bash -c '[[ $(ps -o comm= --ppid "$1") == sleep ]]' _ "$(state_pid "$1")"
}

# --- user namespace maps of more than one range ---
b=$(bundle maps '.linux.namespaces += [{"type": "user"}]
        | .linux.uidMappings = [{"containerID": 0, "hostID": 1000000, "size": 1000}, {"containerID": 1000, "hostID": 2000000, "size": 500}]
        | .linux.gidMappings = [{"containerID": 0, "hostID": 1000000, "size": 3000}]')
check "create and start with a two-range uidMappings and a wider gidMappings" up maps "$b"
pid=$(state_pid maps)
is "$(awk '{ print $1, $2, $3 }' "/proc/$pid/uid_map" | paste -sd,)" "0 1000000 1000,1000 2000000 500" "/proc/PID/uid_map has both ranges"
is "$(awk '{ print $1, $2, $3 }' "/proc/$pid/gid_map" | paste -sd,)" "0 1000000 3000" "/proc/PID/gid_map as given"
ok "the container's root is host UID 1000000" bash -c '[[ $(stat -c %u /proc/$1) == 1000000 ]]' _ "$pid"
check "delete --force" oci delete --force maps
check "...leaves nothing" gone maps

bundle bad '.linux.namespaces += [{"type": "user"}]
        | .linux.uidMappings = [{"containerID": 0, "hostID": 1000000, "size": 1000}, {"containerID": 500, "hostID": 3000000, "size": 10}]
        | .linux.gidMappings = [{"containerID": 0, "hostID": 1000000, "size": 1000}]' >/dev/null
fails_with "uidMappings whose container IDs overlap" "linux.uidMappings[1]: its container IDs overlap those of linux.uidMappings[0]" \
        oci create --bundle "$work/bad" bad
check "...leaves nothing" gone bad
bundle bad '.linux.namespaces += [{"type": "user"}]
        | .linux.uidMappings = [{"containerID": 0, "hostID": 1000000, "size": 1000}]
        | .linux.gidMappings = [{"containerID": 0, "hostID": 1000000, "size": 1000}, {"containerID": 2000, "hostID": 1000500, "size": 10}]' >/dev/null
fails_with "gidMappings whose host IDs overlap" "linux.gidMappings[1]: its host IDs overlap those of linux.gidMappings[0]" \
        oci create --bundle "$work/bad" bad
bundle bad '.linux.namespaces += [{"type": "user"}]
        | .linux.uidMappings = [{"containerID": 1, "hostID": 1000000, "size": 1000}]
        | .linux.gidMappings = .linux.uidMappings' >/dev/null
fails_with "no range for the container's root" "linux.uidMappings: no range maps container ID 0" oci create --bundle "$work/bad" bad
check "...leaves nothing" gone bad

leaks_check
