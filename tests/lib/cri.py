#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# cri.py: the kubelet's side of the Container Runtime Interface, as far as
# tests/integration/test-cri.sh needs it: one call per run, over gRPC on a
# unix socket, with the stubs that `python3 -m grpc_tools.protoc` made from
# tests/lib/cri-subset.proto into GEN.
#
#   cri.py SOCKET GEN version
#   cri.py SOCKET GEN runp POD HANDLER LOGDIR            -> the sandbox's ID
#   cri.py SOCKET GEN podstatus POD_ID                   -> JSON
#   cri.py SOCKET GEN create POD_ID POD LOGDIR NAME IMAGE LOGPATH CMD...
#                                                        -> the container's ID
#   cri.py SOCKET GEN start|rm ID
#   cri.py SOCKET GEN stop ID TIMEOUT
#   cri.py SOCKET GEN status ID                          -> JSON
#   cri.py SOCKET GEN exec ID TIMEOUT CMD...             -> JSON
#   cri.py SOCKET GEN stopp|rmp POD_ID
#
# Replies are printed as JSON (the proto's field names); a failed call prints
# one line, "CODE: message" (the gRPC status containerd answered with), on
# stderr and exits 1. A pod is what the kubelet asks for a pod with
# hostNetwork: true and nothing else set: the node's network (NamespaceMode
# NODE, so no CNI is needed), an IPC namespace of the pod's (the sandbox
# makes it, its containers join it) and a PID namespace for each container
# (no shareProcessNamespace). With CRI_NETWORK=pod in the environment, the
# pod has a network of its own instead (hostNetwork: false, the default:
# containerd makes it with CNI).
import json
import os
import sys

import grpc
from google.protobuf import json_format


def namespaces(pb):
    network = pb.POD if os.environ.get("CRI_NETWORK") == "pod" else pb.NODE
    return pb.NamespaceOption(network=network, pid=pb.CONTAINER, ipc=pb.POD)


def pod_config(pb, name, log_dir):
    return pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name=name, uid=f"uid-{name}", namespace="boxctl-test", attempt=0),
        log_directory=log_dir,
        labels={"io.boxctl.test": "cri"},
        linux=pb.LinuxPodSandboxConfig(
            security_context=pb.LinuxSandboxSecurityContext(
                namespace_options=namespaces(pb))))


def show(msg):
    print(json.dumps(json_format.MessageToDict(msg, preserving_proto_field_name=True,
                                               including_default_value_fields=True)))


def run(pb, stub, verb, args):
    if verb == "version":
        show(stub.Version(pb.VersionRequest(version="v1")))
    elif verb == "runp":
        name, handler, log_dir = args
        r = stub.RunPodSandbox(pb.RunPodSandboxRequest(config=pod_config(pb, name, log_dir),
                                                       runtime_handler=handler))
        print(r.pod_sandbox_id)
    elif verb == "podstatus":
        show(stub.PodSandboxStatus(pb.PodSandboxStatusRequest(pod_sandbox_id=args[0], verbose=True)))
    elif verb == "create":
        pod_id, pod, log_dir, name, image, log_path, *cmd = args
        config = pb.ContainerConfig(
            metadata=pb.ContainerMetadata(name=name, attempt=0),
            image=pb.ImageSpec(image=image),
            command=cmd,
            log_path=log_path,
            linux=pb.LinuxContainerConfig(security_context=pb.LinuxContainerSecurityContext(
                namespace_options=namespaces(pb))))
        r = stub.CreateContainer(pb.CreateContainerRequest(pod_sandbox_id=pod_id, config=config,
                                                           sandbox_config=pod_config(pb, pod, log_dir)))
        print(r.container_id)
    elif verb == "start":
        stub.StartContainer(pb.StartContainerRequest(container_id=args[0]))
    elif verb == "stop":
        stub.StopContainer(pb.StopContainerRequest(container_id=args[0], timeout=int(args[1])))
    elif verb == "rm":
        stub.RemoveContainer(pb.RemoveContainerRequest(container_id=args[0]))
    elif verb == "status":
        show(stub.ContainerStatus(pb.ContainerStatusRequest(container_id=args[0], verbose=True)))
    elif verb == "exec":
        r = stub.ExecSync(pb.ExecSyncRequest(container_id=args[0], timeout=int(args[1]), cmd=args[2:]))
        print(json.dumps({"stdout": r.stdout.decode(errors="replace"),
                          "stderr": r.stderr.decode(errors="replace"), "exit_code": r.exit_code}))
    elif verb == "stopp":
        stub.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=args[0]))
    elif verb == "rmp":
        stub.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=args[0]))
    else:
        sys.exit(f"cri.py: {verb}: no such verb")


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: cri.py SOCKET GEN VERB [ARGS...]")
    socket, gen, verb, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    sys.path.insert(0, gen)
    import cri_subset_pb2 as pb
    import cri_subset_pb2_grpc as pb_grpc

    with grpc.insecure_channel("unix://" + socket) as channel:
        try:
            run(pb, pb_grpc.RuntimeServiceStub(channel), verb, args)
        except grpc.RpcError as e:
            print(f"{e.code().name}: {e.details()}", file=sys.stderr)
            sys.exit(1)
        except ValueError:
            sys.exit(f"cri.py: {verb}: wrong arguments: {' '.join(args)}")


if __name__ == "__main__":
    main()
