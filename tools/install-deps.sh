#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Install everything needed to build boxctl, run its tests and its benchmarks
# on Debian 12 (bookworm). Idempotent: when every package is already
# installed it does not touch apt at all, so a rerun is fast and works offline.

set -euo pipefail

packages=(
        # build
        gcc libc6-dev clang meson ninja-build pkg-config
        # libFuzzer and the sanitizers' runtimes for clang (only recommended by clang)
        libclang-rt-14-dev
        libsystemd-dev libmount-dev libblkid-dev libcap-dev libmnl-dev libseccomp-dev
        # boxctl-oci reads config.json and its state with json-c, not a parser of our own
        libjson-c-dev
        # the image pool's import-tar and export-tar (tar with every compression, in-process)
        libarchive-dev
        # pull-tar and pull-raw: HTTP(S) with libcurl, the download's SHA-256 with OpenSSL's libcrypto
        libcurl4-openssl-dev libssl-dev
        # pull --verify=signature runs gpgv; its test makes keys with gpg, a certificate with openssl, a .zst with zstd
        gpgv gnupg openssl zstd
        # test fixtures and the sandbox the integration tests run in
        mmdebstrap busybox-static util-linux mount procps uidmap iproute2 dbus
        # image back ends: make and inspect file systems and partition tables
        e2fsprogs squashfs-tools btrfs-progs xfsprogs erofs-utils fdisk
        # reference implementations compared against, and benchmarks
        systemd-container crun hyperfine nftables
        # engines that drive boxctl-oci in its tests
        podman conmon containerd
        # test-cri plays the kubelet: a CRI (gRPC) client compiled from our proto subset at test time
        python3-grpcio python3-grpc-tools python3-protobuf
        # man pages: scdoc turns docs/man/*.scd into roff; man-db's man -l renders and checks them
        scdoc man-db
        # shell completions and test helpers
        bash-completion zsh python3 jq attr acl
        # network tests: ping and a TCP client on the test's own "host" side
        iputils-ping netcat-openbsd
)

missing=()
for p in "${packages[@]}"; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
        [[ $status == installed ]] || missing+=("$p")
done

if (( ${#missing[@]} == 0 )); then
        echo "install-deps: all ${#packages[@]} packages already installed"
        exit 0
fi

if (( EUID != 0 )); then
        echo "install-deps: missing packages (${missing[*]}) and not root; rerun as root" >&2
        exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
