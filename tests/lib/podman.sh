# SPDX-License-Identifier: LGPL-2.1-or-later
# podman driving boxctl-oci inside a test's sandbox: its own storage (vfs),
# run root and temporary directory, all under a test directory, so that
# nothing of the host's podman is read or left behind. Source after
# tests/lib/common.sh and sandbox_enter; needs $OCI (the runtime's path).
#
# This host needs cgroupfs (no systemd), vfs (no fuse-overlayfs), no network
# (no CNI/netavark set up) and limits within its hard ones (podman asks for
# more than conmon has here, and root lacks CAP_SYS_RESOURCE on this host:
# no one may raise a hard limit).

podman_setup() {
        pm=$(test_tmpdir)
        mkdir -p "$pm/root" "$pm/runroot" "$pm/tmp"
        printf '[storage]\ndriver = "vfs"\nrunroot = "%s"\ngraphroot = "%s"\n' "$pm/runroot" "$pm/root" >"$pm/storage.conf"
        export CONTAINERS_STORAGE_CONF=$pm/storage.conf
        # Should the test stop half-way: podman's containers go, with their
        # runtime's state.
        cleanup_push bash -c 'podman --root "$1/root" --runroot "$1/runroot" --storage-driver vfs --runtime "$2" rm -af -t 0 >/dev/null 2>&1 || true' _ "$pm" "$OCI"
}

# pm_ ARGS...: podman with the test's storage and boxctl-oci as its runtime.
pm_() {
        podman --root "$pm/root" --runroot "$pm/runroot" --tmpdir "$pm/tmp" --storage-driver vfs \
                --cgroup-manager cgroupfs --events-backend file --runtime "$OCI" "$@"
}

# The options every `podman run` here needs.
pm_run_opts=(--network none --ulimit nofile=1024:20000 --ulimit nproc=16384:16384)

# podman_run [--OPTION...] ROOTFS COMMAND...: podman run --rm of a rootfs.
podman_run() {
        local opts=()
        while [[ $1 == -* ]]; do
                opts+=("$1")
                shift
        done
        pm_ run --rm "${pm_run_opts[@]}" "${opts[@]}" --rootfs "$@"
}
