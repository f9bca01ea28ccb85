#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Kubernetes' way to boxctl-oci: the kubelet talks to containerd only through
# the CRI (gRPC, runtime.v1) and picks a runtime by the pod's RuntimeClass
# handler (RunPodSandboxRequest.runtime_handler). Here a few lines of Python
# (tests/lib/cri.py, on stubs compiled now from tests/lib/cri-subset.proto)
# play the kubelet against a containerd of the test's own with its CRI plugin
# on and a runtime "boxctl": the runc shim v2 with BinaryName = boxctl-oci.
# The pods are host-network (no CNI here); the sandbox image is the busybox
# tree, imported as an OCI image (no registry, no network).
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

OCI=${BOXCTL_OCI:-${BOXCTL_BUILDDIR:?}/src/oci/boxctl-oci}
# Debian's python3-grpcio and python3-grpc-tools are for its own python3,
# whatever else PATH may find first.
PY=${BOXCTL_PYTHON:-/usr/bin/python3}
"$PY" -c 'import grpc, grpc_tools.protoc' 2>/dev/null ||
        skip_all "no gRPC for $PY (python3-grpcio, python3-grpc-tools: tools/install-deps.sh)"
command -v containerd >/dev/null || skip_all "no containerd"

cdd=$(realpath "$(test_tmpdir)")
image=docker.io/boxctl/busybox:cri-test
# The shim runs the runtime with --root /run/containerd/runc/NAMESPACE: the
# sandbox's own /run. The CRI plugin's namespace is k8s.io.
shim_root=/run/containerd/runc/k8s.io
oci() { "$OCI" --root "$shim_root" "$@"; }

# --- the kubelet's client: stubs compiled from our subset of the CRI ---
mkdir -p "$cdd/gen"
check "grpc_tools.protoc compiles tests/lib/cri-subset.proto" \
        "$PY" -m grpc_tools.protoc -I"$BOXCTL_SRCDIR/tests/lib" --python_out="$cdd/gen" --grpc_python_out="$cdd/gen" \
        "$BOXCTL_SRCDIR/tests/lib/cri-subset.proto"
cri() { "$PY" "$BOXCTL_SRCDIR/tests/lib/cri.py" "$cdd/containerd.sock" "$cdd/gen" "$@"; }

# --- containerd with the CRI plugin and a runtime "boxctl" ---
# restrict_oom_score_adj: the CRI gives a sandbox oom_score_adj -998, and
# lowering it needs CAP_SYS_RESOURCE, which root lacks on this host (without
# it: "cannot set process.oomScoreAdj to -998: Permission denied"); with it
# the CRI asks for no less than containerd's own. The CNI directories are empty and the test's own: a host-network
# pod needs no CNI (containerd 1.6 sets up a pod network only for a pod in
# a network namespace of its own).
mkdir -p "$cdd/cni/bin" "$cdd/cni/net.d" "$cdd/logs"
# For a pod with a network of its own: Debian's CNI plugins
# (containernetworking-plugins, which podman pulls in), a bridge in the
# sandbox's network namespace, addresses from a range of the test's.
cni_bin=/usr/lib/cni
if [[ -x $cni_bin/bridge && -x $cni_bin/host-local ]]; then
        cat >"$cdd/cni/net.d/10-boxctl-test.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "boxctl-test", "plugins": [
  {"type": "bridge", "bridge": "cri-br0", "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.88.77.0/24"}]], "dataDir": "$cdd/cni/ipam"}}]}
EOF
        cleanup_push bash -c 'ip link del cri-br0 2>/dev/null || true'
else
        cni_bin=$cdd/cni/bin
fi
cat >"$cdd/config.toml" <<EOF
version = 2
root = "$cdd/root"
state = "$cdd/state"
[grpc]
  address = "$cdd/containerd.sock"
[ttrpc]
  address = "$cdd/containerd.sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$image"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$cni_bin"
    conf_dir = "$cdd/cni/net.d"
  # A pod with no RuntimeClass gets the default runtime, runc, as on any
  # node; the handler boxctl is the one under test.
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.boxctl]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.boxctl.options]
      BinaryName = "$OCI"
      SystemdCgroup = false
EOF
containerd --config "$cdd/config.toml" >"$_sb_state/containerd.log" 2>&1 &
cd_pid=$!
# Should the test stop half-way: the runtime's containers go, then
# containerd (its shims are reaped with the sandbox).
cleanup_push bash -c "kill $cd_pid 2>/dev/null || true"
cleanup_push bash -c 'for id in $("$1" --root "$2" list -q 2>/dev/null); do "$1" --root "$2" delete --force "$id"; done' _ "$OCI" "$shim_root"
ctr_() { ctr --address "$cdd/containerd.sock" -n k8s.io "$@"; }
check "containerd answers" wait_for 30 ctr_ version
ok "...with its CRI plugin loaded" bash -c '[[ $(ctr --address "$1" plugins ls | awk "\$2 == \"cri\" { print \$NF }") == ok ]]' _ "$cdd/containerd.sock"
out=$(cri version) || true
ok "CRI Version answers: $out" bash -c 'jq -e ".runtime_name == \"containerd\" and .runtime_api_version == \"v1\"" <<<"$1" >/dev/null' _ "$out"

# --- the sandbox image: the busybox tree as an OCI image ---
check "an OCI image of the busybox tree" \
        "$PY" "$BOXCTL_SRCDIR/tests/lib/oci-image.py" "$(fixture_busybox)" "$cdd/image.tar" "$image" sleep 2147483647
check "ctr -n k8s.io image import" ctr_ image import "$cdd/image.tar"
ok "...listed" bash -c 'ctr --address "$1" -n k8s.io image ls -q | grep -qx "$2"' _ "$cdd/containerd.sock" "$image"

# --- a pod on the handler "boxctl" ---
# is_boxctls ID PID: container ID is boxctl-oci's (its state in the shim's
# runtime root: running, with PID as its init) and PID is boxctl-oci's init
# (the binary itself stays the container's PID 1, where runc's init would be
# the container's command by now).
is_boxctls() {
        [[ $(oci state "$1" | jq -r '.status + " " + (.pid | tostring)') == "running $2" ]] &&
                [[ $(readlink "/proc/$2/exe") == "$(realpath "$OCI")" ]]
}
pod=$(cri runp pod1 boxctl "$cdd/logs/pod1") || true
ok "RunPodSandbox on the handler boxctl: $pod" test -n "$pod"
st=$(cri podstatus "$pod")
is "$(jq -r '.status.state + " " + .status.runtime_handler' <<<"$st")" "SANDBOX_READY boxctl" "PodSandboxStatus: ready, on boxctl"
pod_pid=$(jq -r '.info.info | fromjson | .pid' <<<"$st")
ok "...its sandbox ($pod_pid) is boxctl-oci's container (its state, its init)" is_boxctls "$pod" "$pod_pid"
# boxctl-oci's init stays the container's PID 1, the command its child.
is "$(ps -o args= --ppid "$pod_pid")" "sleep 2147483647" "...running the image's command"

exited() { [[ $(cri status "$1" | jq -r .status.state) == CONTAINER_EXITED ]]; }
running() { [[ $(cri status "$1" | jq -r .status.state) == CONTAINER_RUNNING ]]; }
same_ns() { [[ $(readlink "/proc/$2/ns/$1") == "$(readlink "/proc/$3/ns/$1")" ]]; } # same_ns TYPE PID1 PID2
own_pid_ns() { ! same_ns pid "$1" "$2" && ! same_ns pid "$1" $$; }                   # own_pid_ns PID SANDBOX-PID

# A container that writes and exits: its log (CRI's format) and exit code.
# containerd 1.6 has every container of a pod join the sandbox's network,
# IPC and UTS namespaces by path (/proc/SANDBOX-PID/ns/TYPE), whatever the
# pod's modes; a runtime that cannot is refused every container.
c1_cmd=(sh -c 'echo hello from c1; echo oops >&2; exit 3')
c1=$(cri create "$pod" pod1 "$cdd/logs/pod1" c1 "$image" c1/0.log "${c1_cmd[@]}") || true
ok "CreateContainer: $c1" test -n "$c1"
rc=0
err=$(cri start "$c1" 2>&1) || rc=$?
if ((rc != 0)) && [[ $err == *"joining a namespace"*"is not supported yet"* ]]; then
        ok "StartContainer: refused with boxctl-oci's own words, through the shim: $err" true
        check "...and nothing left of it in the runtime" bash -c '! "$1" --root "$2" state "$3"' _ "$OCI" "$shim_root" "$c1"
        check "RemoveContainer" cri rm "$c1"
        skip "containers in a pod: log, exit code, ExecSync, StopContainer" "this boxctl-oci cannot join namespaces by path"
else
        ok "StartContainer${err:+: $err}" test "$rc" = 0
        check "...it exits" wait_for 10 exited "$c1"
        st=$(cri status "$c1")
        is "$(jq -r '.status.exit_code, .status.reason' <<<"$st" | tr '\n' ' ')" "3 Error " "ContainerStatus: exit code 3, reason Error"
        log=$cdd/logs/pod1/c1/0.log
        is "$(jq -r .status.log_path <<<"$st")" "$log" "...its log path, under the pod's log directory"
        ok "its log, in CRI's format (TIME STREAM F LINE): $(tr '\n' '|' <"$log")" \
                bash -c 'grep -Eq "^[0-9-]+T[0-9:.]+(Z|[+-][0-9:]+) stdout F hello from c1\$" "$1" &&
                        grep -Eq "^[0-9-]+T[0-9:.]+(Z|[+-][0-9:]+) stderr F oops\$" "$1"' _ "$log"
        check "RemoveContainer" cri rm "$c1"
        check "...boxctl-oci has it no more" bash -c '! "$1" --root "$2" state "$3"' _ "$OCI" "$shim_root" "$c1"

        # A long-running container: exec in it, then stop it.
        c2=$(cri create "$pod" pod1 "$cdd/logs/pod1" c2 "$image" c2/0.log sleep 1000) || true
        check "CreateContainer and StartContainer of a long-running one" cri start "$c2"
        check "...running" wait_for 10 running "$c2"
        c2_pid=$(cri status "$c2" | jq -r '.info.info | fromjson | .pid')
        ok "...boxctl-oci's container ($c2_pid: its state, its init)" is_boxctls "$c2" "$c2_pid"
        ok "...in the pod's IPC namespace (the sandbox's, joined)" same_ns ipc "$c2_pid" "$pod_pid"
        ok "...in the node's network namespace (host network)" same_ns net "$c2_pid" $$
        ok "...in a PID namespace of its own" own_pid_ns "$c2_pid" "$pod_pid"
        is "$(oci list -q | sort | tr '\n' ' ')" "$(printf '%s\n' "$pod" "$c2" | sort | tr '\n' ' ')" \
                "boxctl-oci list (the shim's runtime root): the sandbox and the container"
        # Its PID 1 is boxctl-oci's init, whose command line names the container.
        out=$(cri exec "$c2" 10 sh -c 'echo in $(hostname); tr "\0" " " </proc/1/cmdline >&2; exit 4') || true
        is "$(jq -r '"\(.stdout)|\(.exit_code)"' <<<"$out")" "in $(hostname)
|4" "ExecSync: stdout and exit code (on the node's UTS namespace: host network)"
        ok "...the command ran in the container: its PID 1 is boxctl-oci's init for $c2" \
                bash -c '[[ $1 == *boxctl-oci*" $2 " ]]' _ "$(jq -r .stderr <<<"$out")" "$c2"
        check "StopContainer" cri stop "$c2" 10
        check "...it exits" wait_for 10 exited "$c2"
        is "$(cri status "$c2" | jq -r .status.exit_code)" 143 "...on SIGTERM (exit code 143)"
        check "RemoveContainer" cri rm "$c2"
        ok "...boxctl-oci has only the sandbox" bash -c '[[ $("$1" --root "$2" list -q) == "$3" ]]' _ "$OCI" "$shim_root" "$pod"
fi
check "StopPodSandbox" cri stopp "$pod"
is "$(cri podstatus "$pod" | jq -r .status.state)" SANDBOX_NOTREADY "...not ready"
check "RemovePodSandbox" cri rmp "$pod"
ok "nothing left in the runtime's root" bash -c '[[ -z $("$1" --root "$2" list -q) ]]' _ "$OCI" "$shim_root"
# cgroups_gone ID...: no cgroup of theirs in any hierarchy, wherever it was
# (boxctl's machine-ID.scope, or containerd's cgroupsPath /k8s.io/ID).
cgroups_gone() {
        local id
        for id; do
                [[ -z $(find /sys/fs/cgroup -maxdepth 4 -type d \( -name "$id" -o -name "machine-$id.scope" \) -print -quit) ]] || return
        done
}
check "...and no cgroup of the pod's or its containers' in any hierarchy" wait_for 10 cgroups_gone "$pod" ${c1:+"$c1"} ${c2:+"$c2"}

# --- a pod with a network of its own (the kubelet's default): CNI ---
# containerd makes the pod's network namespace (pinned in /run/netns), has
# CNI's bridge plugin set it up, and gives the sandbox its path to join.
if [[ $cni_bin == "$cdd/cni/bin" ]]; then
        skip "a pod with a network of its own" "no CNI plugins (containernetworking-plugins) in /usr/lib/cni"
else
        rc=0
        err=$(CRI_NETWORK=pod cri runp pod2 boxctl "$cdd/logs/pod2" 2>&1 >"$cdd/pod2") || rc=$?
        pod2=$(cat "$cdd/pod2")
        if ((rc != 0)) && [[ $err == *"joining a namespace"*"is not supported yet"* ]]; then
                ok "RunPodSandbox of a pod with a network of its own: refused with boxctl-oci's own words: $err" true
                ok "...and nothing left: no pinned network namespace" bash -c '! compgen -G "/run/netns/cni-*"'
                skip "a pod with a network of its own" "this boxctl-oci cannot join namespaces by path"
        else
                ok "RunPodSandbox of a pod with a network of its own (CNI bridge)${err:+: $err}" test -n "$pod2"
                st=$(cri podstatus "$pod2")
                ip=$(jq -r .status.network.ip <<<"$st")
                ok "PodSandboxStatus: ready, with an IP of the CNI's range: $ip" \
                        bash -c '[[ $1 == SANDBOX_READY && $2 == 10.88.77.* ]]' _ "$(jq -r .status.state <<<"$st")" "$ip"
                pod2_pid=$(jq -r '.info.info | fromjson | .pid' <<<"$st")
                ok "...its sandbox ($pod2_pid) is boxctl-oci's container (its state, its init)" is_boxctls "$pod2" "$pod2_pid"
                ok "...in a network namespace of its own" bash -c '[[ $(readlink /proc/$1/ns/net) != $(readlink /proc/$2/ns/net) ]]' _ "$pod2_pid" $$
                c3=$(CRI_NETWORK=pod cri create "$pod2" pod2 "$cdd/logs/pod2" c3 "$image" c3/0.log sleep 1000) || true
                check "CreateContainer and StartContainer in it" cri start "$c3"
                check "...running" wait_for 10 running "$c3"
                c3_pid=$(cri status "$c3" | jq -r '.info.info | fromjson | .pid')
                ok "...in the pod's network namespace (the sandbox's, joined)" same_ns net "$c3_pid" "$pod2_pid"
                out=$(cri exec "$c3" 10 ip -4 -o addr show dev eth0 | jq -r .stdout) || true
                ok "ExecSync: the container's eth0 has the pod's IP: $out" bash -c '[[ $1 == *" inet $2/24 "* ]]' _ "$out" "$ip"
                check "the node reaches the pod: ping $ip" ping -c 1 -W 2 "$ip"
                check "StopContainer" cri stop "$c3" 10
                check "RemoveContainer" cri rm "$c3"
                check "StopPodSandbox" cri stopp "$pod2"
                check "RemovePodSandbox" cri rmp "$pod2"
                ok "...its network namespace is gone (unpinned)" bash -c '! compgen -G "/run/netns/cni-*"'
                check "...and no cgroup of theirs in any hierarchy" wait_for 10 cgroups_gone "$pod2" "$c3"
        fi
fi
ok "nothing left in the runtime's root" bash -c '[[ -z $("$1" --root "$2" list -q) ]]' _ "$OCI" "$shim_root"

# --- a handler containerd does not know ---
fails_with "RunPodSandbox on an unknown handler" 'no runtime for "nosuch" is configured' cri runp pod2 nosuch "$cdd/logs/pod2"

kill "$cd_pid"
ip link del cri-br0 2>/dev/null || true # what the bridge plugin leaves behind
check "containerd stops" wait_for 10 bash -c '! kill -0 "$1" 2>/dev/null' _ "$cd_pid"
wait "$cd_pid" 2>/dev/null || true
leaks_check
