# SPDX-License-Identifier: LGPL-2.1-or-later
# boxctl-oci driven directly, as an engine does, inside a test's sandbox.
# Source after tests/lib/common.sh and sandbox_enter; set base_config (the
# config.json that bundle() starts from) before calling bundle().
#
#   OCI     the runtime's path (BOXCTL_OCI, else the build's)
#   work    a directory of the test's, for bundles
#   root    the runtime's --root, on the sandbox's own /run (as /run/boxctl-oci is)
#   tree    the busybox fixture, copied as each bundle's rootfs

OCI=${BOXCTL_OCI:-${BOXCTL_BUILDDIR:?}/src/oci/boxctl-oci}
work=$(realpath "$(test_tmpdir)")
root=$_sb_state/oci
tree=$(fixture_busybox)
oci() { "$OCI" --root "$root" "$@"; }
# Should the test stop half-way: its containers go (their inits left the
# test's process tree).
cleanup_push bash -c 'for id in $("$1" --root "$2" list -q 2>/dev/null); do "$1" --root "$2" delete --force "$id"; done' _ "$OCI" "$root"
# Bad input gets runc's exit status, 1 (fails_with in common.sh).
FAILS_WITH_STATUS=1

# gone ID: nothing of container ID: no state, no cgroup of its name in
# either hierarchy.
gone() {
        [[ ! -e $root/$1 ]] &&
                [[ ! -e $(cgroup2_root)/machine.slice/machine-$1.scope ]] &&
                ! compgen -G "/sys/fs/cgroup/*/machine.slice/machine-$1.scope" >/dev/null
}

# bundle NAME [JQ-FILTER]: a bundle whose rootfs is a copy of the busybox
# tree (made once a NAME; a function bundle_rootfs_extra, if the test has
# one, is called with it), its config.json $base_config changed by the
# filter. Prints the bundle's path.
bundle() {
        local b=$work/$1
        mkdir -p "$b"
        if [[ ! -d $b/rootfs ]]; then
                cp -a "$tree" "$b/rootfs"
                if declare -F bundle_rootfs_extra >/dev/null; then
                        bundle_rootfs_extra "$b/rootfs"
                fi
        fi
        jq "${2:-.}" <<<"$base_config" >"$b/config.json"
        echo "$b"
}
