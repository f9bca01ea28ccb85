#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A busy host, for running the test suite beside: CPU hogs, and a loop that
# keeps making and removing what other services and people make on a real
# host, all under names of its own:
# - cgroups in every v1 hierarchy and in the cgroup2 one (stress-host.PID),
#   some with a process in them; and, as machined would for someone else's
#   VM, a scope with a process in it below machine.slice, boxctl's slice;
# - tmpfs mounts in a directory of its own (/run/stress-host.PID), in the
#   host's mount namespace;
# - dummy network links (stress-dummyN; veth pairs if the kernel has no
#   dummy driver) in the host's network namespace;
# - loop devices on files of its own (/var/tmp/stress-host.PID).
# The tests must neither fail because of these nor touch them.
#
#       tests/stress-host.sh [--max-seconds N] [--hogs N] [--ready FILE]
#
# It runs until SIGTERM (or SIGINT), or for --max-seconds (default 1800), and
# then removes everything it made. --ready FILE: touch FILE once the load is
# on. It is a load generator, not a test: its pauses only pace the churn.

set -uo pipefail

max_seconds=1800
hogs=2
ready=

while (($# > 0)); do
        case $1 in
        --max-seconds) max_seconds=$2; shift 2 ;;
        --hogs) hogs=$2; shift 2 ;;
        --ready) ready=$2; shift 2 ;;
        *) echo "usage: $0 [--max-seconds N] [--hogs N] [--ready FILE]" >&2; exit 2 ;;
        esac
done

if ((EUID != 0)); then
        echo "stress-host: needs root" >&2
        exit 1
fi

me=stress-host.$$
mounts_dir=/run/$me
files_dir=/var/tmp/$me
cg2=$(awk '$(NF - 2) == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
mapfile -t cg1 < <(awk '$(NF - 2) == "cgroup" { print $5 }' /proc/self/mountinfo)
slice=${cg2:+$cg2/machine.slice}

hog_pids=()
# What exists now, by kind; each entry is removed at exit if it is still there.
declare -A cgroups=() mounts=() links=() loops=() residents=()
made_slice=0
cycles=0 made=0
stopping=0

log() { echo "stress-host: $*" >&2; }

# ---------------------------------------------------------------------------
# Making and removing, each tolerant of a host that changes underneath.

# resident CGROUP: a process that sleeps in CGROUP until it is killed.
resident() {
        local dir=$1 pid
        sleep 3600 </dev/null >/dev/null 2>&1 &
        pid=$!
        if echo "$pid" >"$dir/cgroup.procs" 2>/dev/null; then
                residents[$dir]=$pid
        else
                kill -KILL "$pid" 2>/dev/null
                wait "$pid" 2>/dev/null
        fi
}

cgroup_make() { # DIR [resident]
        [[ -n ${cgroups[$1]:-} ]] && return 0
        mkdir "$1" 2>/dev/null || return
        cgroups[$1]=1
        made=$((made + 1))
        [[ ${2:-} == resident ]] && resident "$1"
        return 0
}

cgroup_drop() {
        local dir=$1 pid=${residents[$1]:-} i
        if [[ -n $pid ]]; then
                kill -KILL "$pid" 2>/dev/null
                { wait "$pid"; } 2>/dev/null
                unset "residents[$dir]"
        fi
        # A cgroup whose last process has just died goes offline a moment
        # later; until then rmdir fails with EBUSY.
        for ((i = 0; i < 50; i++)); do
                rmdir "$dir" 2>/dev/null && break
                [[ -d $dir ]] || break
                sleep 0.02
        done
        [[ -d $dir ]] || unset "cgroups[$dir]"
}

mount_make() {
        mkdir -p "$1" && mount -t tmpfs -o size=1m,mode=0700 stress-host "$1" 2>/dev/null || return
        mounts[$1]=1
        made=$((made + 1))
}

mount_drop() {
        umount "$1" 2>/dev/null || umount -l "$1" 2>/dev/null
        rmdir "$1" 2>/dev/null
        mountpoint -q "$1" 2>/dev/null || unset "mounts[$1]"
}

# Dummy links; where the kernel has no dummy driver (and no modprobe), veth
# pairs, whose other end (stress-peerN) goes with this one.
link_type=dummy
link_make() {
        if [[ $link_type == dummy ]] && ! ip link add "$1" type dummy 2>/dev/null; then
                log "no dummy links here; making veth pairs instead"
                link_type=veth
        fi
        if [[ $link_type == veth ]]; then
                ip link add "$1" type veth peer name "stress-peer${1#stress-dummy}" 2>/dev/null || return
        fi
        ip link set "$1" up 2>/dev/null
        links[$1]=1
        made=$((made + 1))
}

link_drop() {
        ip link del "$1" 2>/dev/null
        ip link show "$1" >/dev/null 2>&1 || unset "links[$1]"
}

loop_make() {
        local file=$files_dir/$1.img dev
        truncate -s 1M "$file" 2>/dev/null || return
        dev=$(losetup -f --show "$file" 2>/dev/null) || {
                rm -f "$file"
                return 1
        }
        loops[$dev]=$file
        made=$((made + 1))
}

loop_drop() {
        losetup -d "$1" 2>/dev/null
        [[ $(cat "/sys/block/${1#/dev/}/loop/backing_file" 2>/dev/null) == "${loops[$1]}" ]] && return
        rm -f "${loops[$1]}"
        unset "loops[$1]"
}

# ---------------------------------------------------------------------------

cleanup() {
        local k i
        trap - EXIT INT TERM
        stopping=1
        for k in "${hog_pids[@]}"; do
                kill -KILL "$k" 2>/dev/null
                { wait "$k"; } 2>/dev/null
        done
        for k in "${!links[@]}"; do link_drop "$k"; done
        for k in "${!mounts[@]}"; do mount_drop "$k"; done
        for k in "${!loops[@]}"; do loop_drop "$k"; done
        # Deepest first: children before their parents.
        for k in $(printf '%s\n' "${!cgroups[@]}" | sort -r); do cgroup_drop "$k"; done
        # A signal between a mkdir and its bookkeeping leaves a cgroup that
        # is not listed: everything below our own directories is ours.
        for k in "${cg1[@]}" "$cg2"; do
                [[ -n $k && -d $k/$me ]] || continue
                find "$k/$me" -depth -type d -exec rmdir {} + 2>/dev/null
        done
        # What that pass removed (a directory whose unlisted child kept it
        # from going in the first pass) is not left behind; what is still
        # there gets one more try.
        for k in "${!cgroups[@]}"; do
                [[ -d $k ]] && cgroup_drop "$k"
                [[ -d $k ]] || unset "cgroups[$k]"
        done
        if ((made_slice)); then
                rmdir "$slice" 2>/dev/null # only if nobody else is in it
        fi
        rmdir "$mounts_dir" 2>/dev/null
        rm -rf "$files_dir"
        wait 2>/dev/null
        local left=$((${#cgroups[@]} + ${#mounts[@]} + ${#links[@]} + ${#loops[@]}))
        log "stopped after $SECONDS s, $cycles cycles, $made objects made; $left left behind"
        ((left == 0)) || log "left: ${!cgroups[*]} ${!mounts[*]} ${!links[*]} ${!loops[*]}"
        exit $((left == 0 ? 0 : 1))
}

trap cleanup EXIT
trap 'exit 0' INT TERM

mkdir -p "$mounts_dir" "$files_dir" || exit 1

for ((i = 0; i < hogs; i++)); do
        # A busy process of someone else's, at normal priority.
        bash -c 'while :; do :; done' </dev/null >/dev/null 2>&1 &
        hog_pids+=($!)
done

if [[ -n $slice && ! -d $slice ]]; then
        mkdir "$slice" 2>/dev/null && made_slice=1
fi

log "running for at most $max_seconds s: $hogs CPU hogs; churning cgroups (v1: ${cg1[*]:-none}; v2: ${cg2:-none}), mounts in $mounts_dir, links stress-dummyN, loop devices on $files_dir"

# Each cycle makes one generation of objects and removes the one made four
# cycles before, so that objects both appear and vanish while a test runs.
generation=()
while ((SECONDS < max_seconds && !stopping)); do
        n=$cycles
        gen=()
        for d in "${cg1[@]}"; do
                cgroup_make "$d/$me" && cgroup_make "$d/$me/cg$n" && gen+=("cgroup $d/$me/cg$n")
        done
        if [[ -n $cg2 ]]; then
                cgroup_make "$cg2/$me" &&
                        cgroup_make "$cg2/$me/cg$n" resident && gen+=("cgroup $cg2/$me/cg$n")
                # As machined makes a scope for another user's VM.
                if [[ -d $slice ]] || { mkdir "$slice" 2>/dev/null && made_slice=1; }; then
                        cgroup_make "$slice/$me-$n.scope" resident && gen+=("cgroup $slice/$me-$n.scope")
                fi
        fi
        mount_make "$mounts_dir/m$n" && gen+=("mount $mounts_dir/m$n")
        link_make "stress-dummy$n" && gen+=("link stress-dummy$n")
        if ((n % 4 == 0)) && loop_make "l$n"; then
                for dev in "${!loops[@]}"; do
                        [[ ${loops[$dev]} == "$files_dir/l$n.img" ]] && gen+=("loop $dev")
                done
        fi
        generation[n]=$(printf '%s\n' "${gen[@]}")

        if ((n >= 4)); then
                while read -r kind what; do
                        case $kind in
                        cgroup) cgroup_drop "$what" ;;
                        mount) mount_drop "$what" ;;
                        link) link_drop "$what" ;;
                        loop) loop_drop "$what" ;;
                        esac
                done <<<"${generation[n - 4]}"
                unset "generation[n - 4]"
        fi

        cycles=$((cycles + 1))
        if ((cycles == 1)) && [[ -n $ready ]]; then
                touch "$ready"
        fi
        sleep 0.2 # paces the churn; nothing waits on it
done
