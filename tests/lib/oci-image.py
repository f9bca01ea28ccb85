#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# oci-image.py TREE OUT.tar NAME [CMD...]: write an OCI image layout, as a tar
# that `ctr image import` takes, of one uncompressed layer holding TREE, for
# this machine's platform, named NAME (io.containerd.image.name, which
# containerd's importer names the image by) and running CMD by default. For
# tests that need an image without a registry or a network.
import hashlib
import io
import json
import os
import platform
import sys
import tarfile

ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le",
        "s390x": "s390x", "riscv64": "riscv64"}


def blob(out, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    info = tarfile.TarInfo("blobs/sha256/" + digest[7:])
    info.size = len(data)
    info.mode = 0o644
    out.addfile(info, io.BytesIO(data))
    return digest, len(data)


def layer(tree):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name in sorted(os.listdir(tree)):
            t.add(os.path.join(tree, name), arcname=name)
    return buf.getvalue()


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: oci-image.py TREE OUT.tar NAME [CMD...]")
    tree, out_path, name = sys.argv[1:4]
    cmd = sys.argv[4:]
    arch = ARCH.get(platform.machine())
    if not arch:
        sys.exit(f"oci-image.py: {platform.machine()}: no OCI architecture known for it")
    with tarfile.open(out_path, "w") as out:
        data = layer(tree)
        layer_digest, layer_size = blob(out, data)
        config = {
            "architecture": arch,
            "os": "linux",
            "config": {"Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": cmd, "WorkingDir": "/"},
            # Uncompressed: the diff ID is the layer's own digest.
            "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        }
        config_digest, config_size = blob(out, json.dumps(config).encode())
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": config_digest, "size": config_size},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                        "digest": layer_digest, "size": layer_size}],
        }
        manifest_digest, manifest_size = blob(out, json.dumps(manifest).encode())
        index = {
            "schemaVersion": 2,
            "manifests": [{
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": manifest_digest, "size": manifest_size,
                "platform": {"architecture": arch, "os": "linux"},
                "annotations": {"io.containerd.image.name": name,
                                "org.opencontainers.image.ref.name": name.rsplit(":", 1)[-1]},
            }],
        }
        for fname, obj in (("oci-layout", {"imageLayoutVersion": "1.0.0"}), ("index.json", index)):
            data = json.dumps(obj).encode()
            info = tarfile.TarInfo(fname)
            info.size = len(data)
            info.mode = 0o644
            out.addfile(info, io.BytesIO(data))


if __name__ == "__main__":
    main()
