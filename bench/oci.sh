#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# oci.sh [--quick] [--only runtime|podman|boot]
#
# boxctl-oci against runc and crun, printed as a markdown section for
# results.md on stdout (progress on stderr):
#
#   runtime  the runtime alone: create, start and delete --force of a
#            container running /bin/true in a copy of the busybox tree
#            (prepare_oci's bundle), one `sh -c` per cycle; the floor is
#            `chroot TREE /bin/true` in the same wrapper.
#   podman   `podman run --rm --rootfs TREE /bin/true` with --runtime
#            boxctl-oci, runc and crun (its own storage in the scratch
#            directory; the flags this host needs: cgroupfs, vfs, no network,
#            the nofile and nproc limits within the hard ones). Not crun:
#            under podman it fails here (see pm_runtimes).
#   boot     a Debian 12 boot cycle: bench.sh's tree (a unit powers it off
#            once multi-user.target is reached) under `podman run --rm
#            --systemd=always --rootfs TREE /sbin/init` with boxctl-oci, and
#            under `boxctl boot` of the same tree.
#
# crun fails on this hybrid host (it wants cgroup2 on /sys/fs/cgroup): its
# commands get lib.sh's wrap_run_cg, a private mount namespace with the
# host's cgroup2 bound there, as the tests' unified layout does; the others
# get wrap_run_tmpfs, the same namespace on the host's layout. Every
# runtime gets a --root of its own in the scratch directory; boxctl's
# runtime directory lasts the whole run, as bench.sh's does.
#
# Needs root, hyperfine, runc, crun, podman, conmon, the busybox and Debian
# fixtures and a build (build/). Takes the integration tests' lock.
# Everything it makes is removed at exit, even on failure. Exits non-zero if
# a check or a measured command failed. See bench/README.md.

set -euo pipefail

bench_name=oci
machine=ocibench
usage_args="[--quick] [--only runtime|podman|boot]"
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

only=
parse_option() {
        case $1 in
        --only)
                [[ ${2:-} == @(runtime|podman|boot) ]] || usage
                only=$2
                opt_shift=2
                ;;
        *) return 1 ;;
        esac
}
parse_args "$@"
if [[ -n $only ]]; then cmdline+=" --only $only"; fi
want() { [[ -z $only || $only == "$1" ]]; }

if ((quick)); then
        rt_rounds=2 rt_runs=5 pm_rounds=2 pm_runs=3 boot_rounds=1 boot_runs=2
else
        rt_rounds=6 rt_runs=20 pm_rounds=4 pm_runs=8 boot_rounds=3 boot_runs=3
fi

OCI=${BOXCTL_OCI:-$srcdir/build/src/oci/boxctl-oci}
[[ -x $OCI ]] || die "no boxctl-oci at $OCI (build it: meson compile -C build, or set BOXCTL_OCI)"
bench_preconditions hyperfine runc crun podman conmon unshare chroot flock jq python3
bench_setup

rt=$scratch/runtime-dir
mkdir -m 0755 "$rt"
# ENV-AND-WRAPPER for a runtime: crun's has cgroup2 on /sys/fs/cgroup.
wrap_for() {
        local w=$wrap_run_tmpfs
        [[ $1 != crun ]] || w=$wrap_run_cg
        echo "export BOXCTL_RUNTIME_DIR=$rt && $w"
}
runtime_bin() {
        case $1 in
        boxctl-oci) echo "$OCI" ;;
        *) command -v "$1" ;;
        esac
}
runtimes=(boxctl-oci runc crun)
failed=()
sections=()

# ---------------------------------------------------------------------------
# The runtime alone

runtime_section() {
        local tree=$scratch/busybox bundle=$scratch/bundle r bin root i
        log "runtime: preparing $tree"
        copy_tree "$(fixture make-busybox-tree.sh)" "$tree"
        prepare_oci "$bundle" "$tree"
        names=() cmds=()
        for r in "${runtimes[@]}"; do
                bin=$(runtime_bin "$r")
                root=$scratch/root-$r
                mkdir -p "$root"
                names+=("$r")
                cmds+=("$(wrapped "$(wrap_for "$r")" sh -c "\"$bin --root $root create --bundle $bundle $machine && $bin --root $root start $machine && $bin --root $root delete --force $machine\"")")
        done
        names+=("chroot /bin/true (floor)")
        cmds+=("$(wrapped "$wrap_run_tmpfs" chroot "$tree" /bin/true)")
        for ((i = 0; i < ${#names[@]}; i++)); do
                if ! run_cmd "${cmds[i]}" </dev/null >"$scratch/check.log" 2>&1; then
                        log "runtime: ${names[i]} failed; its output:"
                        tail -n 20 "$scratch/check.log" >&2
                        failed+=(runtime)
                        return 1
                fi
                log "runtime: ${names[i]}: a cycle exits 0"
        done
        for r in "${runtimes[@]}"; do
                [[ -z $("$(runtime_bin "$r")" --root "$scratch/root-$r" list -q 2>/dev/null) ]] ||
                        { log "runtime: $r left a container behind"; failed+=(runtime); return 1; }
        done
        measure runtime "$rt_rounds" "$rt_runs" 1 || return 1
        printf '%s\n' "${names[@]}" >"$scratch/runtime.names"
        printf '%s\n' "${cmds[@]}" >"$scratch/runtime.cmds"
        sections+=(runtime)
}

# ---------------------------------------------------------------------------
# podman run

pm=$scratch/podman
pm_args() { # RUNTIME: podman's global options, its storage under $pm
        echo "--root $pm/root --runroot $pm/runroot --tmpdir $pm/tmp --storage-driver vfs --cgroup-manager cgroupfs --events-backend file --runtime $(runtime_bin "$1")"
}
pm_run=(run --rm --network none --ulimit nofile=1024:20000 --ulimit nproc=16384:16384)
# crun 1.8.1 under podman fails here even in wrap_run_cg: "setrlimit
# (RLIM_MEMLOCK): Operation not permitted" (the config asks for the limit the
# shell has, 8 MiB, and --ulimit memlock= set to it changes nothing). Said in
# the report; podman is measured with the other two.
pm_runtimes=(boxctl-oci runc)

podman_section() {
        local tree=$scratch/busybox-pm r i
        log "podman: preparing $tree"
        copy_tree "$(fixture make-busybox-tree.sh)" "$tree"
        mkdir -p "$pm/root" "$pm/runroot" "$pm/tmp"
        names=() cmds=()
        for r in "${pm_runtimes[@]}"; do
                names+=("podman --runtime $r")
                cmds+=("$(wrapped "$(wrap_for "$r")" podman $(pm_args "$r") "${pm_run[@]}" --rootfs "$tree" /bin/true)")
        done
        for ((i = 0; i < ${#names[@]}; i++)); do
                check_run podman "${names[i]}" "${cmds[i]}" || { failed+=(podman); return 1; }
        done
        measure podman "$pm_rounds" "$pm_runs" 1 || return 1
        printf '%s\n' "${names[@]}" >"$scratch/podman.names"
        printf '%s\n' "${cmds[@]}" >"$scratch/podman.cmds"
        sections+=(podman)
}

# ---------------------------------------------------------------------------
# Boot cycle: podman with boxctl-oci against boxctl boot

boot_section() {
        local tree=$scratch/debian i
        log "boot: preparing $tree"
        prepare_debian "$tree"
        mkdir -p "$pm/root" "$pm/runroot" "$pm/tmp"
        names=("podman --runtime boxctl-oci --systemd=always" "boxctl boot")
        cmds=(
                "$(wrapped "$(wrap_for boxctl-oci)" podman $(pm_args boxctl-oci) "${pm_run[@]}" --systemd=always --rootfs "$tree" /sbin/init)"
                "$(wrapped "$(wrap_for boxctl)" "$BOXCTL" boot --register=no "$tree" -M "$machine" --console=read-only)"
        )
        # The check: exit 0, and the unit's marker says multi-user.target was
        # active (podman's stdout is a pipe: systemd writes no status lines
        # there, so lib.sh's check_boot, which reads them, does not fit).
        for ((i = 0; i < ${#names[@]}; i++)); do
                rm -f "$tree/var/lib/boxctl-bench/reached"
                if ! run_cmd "timeout --kill-after=30 300 ${cmds[i]}" </dev/null >"$scratch/boot.$i.log" 2>&1 ||
                        [[ $(cat "$tree/var/lib/boxctl-bench/reached" 2>/dev/null) != active ]]; then
                        log "boot: ${names[i]} did not boot to multi-user.target and power off with exit 0; its output:"
                        tail -n 30 "$scratch/boot.$i.log" >&2
                        failed+=(boot)
                        return 1
                fi
                log "boot: ${names[i]} reached multi-user.target and powered off, exit 0"
        done
        measure boot "$boot_rounds" "$boot_runs" 0 || return 1
        printf '%s\n' "${names[@]}" >"$scratch/boot.names"
        printf '%s\n' "${cmds[@]}" >"$scratch/boot.cmds"
        sections+=(boot)
}

if want runtime; then runtime_section || true; fi
if want podman; then podman_section || true; fi
if want boot; then boot_section || true; fi

# ---------------------------------------------------------------------------
# Report

{
        report_intro "## boxctl-oci against runc and crun"
        report_facts --load " ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), cgroup layout $layout" \
                "$(runc --version | head -n 1)" "$(crun --version | head -n 1)" "$(podman --version)"
        echo
}

python3 - "$scratch" "${failed[*]:-}" "${sections[*]:-}" <<PY
$report_py
sections = sys.argv[3].split()

def names(tag):
    return open(os.path.join(scratch, tag + ".names")).read().split("\n")[:-1]

def table(tag, title, ref, floor=None):
    t = times(tag)
    print(f"### {title}")
    print()
    print(f"| command | median (ms) | IQR (ms) | min (ms) | runs | this / {ref} (per round) |")
    print("|---|---:|---:|---:|---:|---:|")
    for n in names(tag):
        p = paired(tag, n, ref)
        print(f"| {n} | {cells(t[n])} | {statistics.median(p):.2f} ({p[0]:.2f}–{p[-1]:.2f}) |")
    print()
    if floor:
        f = statistics.median(t[floor])
        print("Less the floor: " + ", ".join(f"{n} {statistics.median(t[n]) - f:.1f} ms" for n in names(tag) if n != floor) + ".")
        print()
    list_commands(names(tag), cmds(tag))

if "runtime" in sections:
    table("runtime", "The runtime alone: create + start + delete --force of /bin/true (busybox tree)", "runc",
          "chroot /bin/true (floor)")
if "podman" in sections:
    table("podman", "podman run --rm --rootfs busybox /bin/true", "podman --runtime runc")
    print("crun is left out: under podman, in the same cgroup2 namespace as above, crun 1.8.1 fails on this host with"
          " \"setrlimit (RLIM_MEMLOCK): Operation not permitted\" (exit 126), with or without --ulimit memlock= at the"
          " limit the caller has.")
    print()
if "boot" in sections:
    table("boot", "A Debian 12 boot cycle (to multi-user.target, then power-off)", "boxctl boot")
finish()
PY
