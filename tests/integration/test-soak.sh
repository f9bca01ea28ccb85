#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Soak: boot/power-off cycles, with boxd running, of the busybox tree in turn
# plain, with -U, with -n, with -x and as a disk image (make-images.sh), and of
# the Debian tree (-x; -x -U; -x -n). Each cycle boots, waits until the guest
# is up and listed, powers it off through the registry (boxctl poweroff) and
# wants exit 0. At the end boxd has exactly as many open files as at the
# start, its RSS has grown by at most BOXCTL_SOAK_RSS_KIB (default 1024 KiB)
# since the first round of cycles (which warms its allocator up; not judged
# in a sanitized build, where LeakSanitizer judges boxd at its exit), and the
# host's mounts, loop devices, network links, machine cgroups (v2 and v1) and
# lock files are those of the start.
#
# Counts: BOXCTL_SOAK_BUSYBOX and BOXCTL_SOAK_DEBIAN cycles; by default 15 and
# 2 (CI), or 200 and 20 with BOXCTL_SLOW=1 (the slow suite).
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

if [[ -n ${BOXCTL_SLOW:-} ]]; then
        n_bb=${BOXCTL_SOAK_BUSYBOX:-200}
        n_deb=${BOXCTL_SOAK_DEBIAN:-20}
else
        n_bb=${BOXCTL_SOAK_BUSYBOX:-15}
        n_deb=${BOXCTL_SOAK_DEBIAN:-2}
fi
rss_bound=${BOXCTL_SOAK_RSS_KIB:-1024}
R=/run/boxctl
diag "$n_bb busybox cycles, $n_deb Debian cycles; boxd's RSS may grow by $rss_bound KiB"

dir=$(realpath "$(test_tmpdir)")
# Trees a boot writes into (-U shifts the owners of its own copy once).
for t in plain userns net; do
        cp -a "$(fixture_busybox)" "$dir/bb-$t"
done
cp "$("$BOXCTL_SRCDIR/tests/fixtures/make-images.sh")/gpt.raw" "$dir/bb.raw"
bb=$(fixture_busybox)
deb=$(fixture_debian)

bus_start
boxd_start
boxd=$_boxd_pid

# What the host holds that a machine could leave: mounts, loop devices and
# links (this sandbox's own), the machine cgroups of this test by name, in
# the cgroup2 hierarchy and the v1 ones, and lock files.
host_state() {
        local root d
        awk '{ for (i = 7; $i != "-"; i++) ; print $5, $(i + 1), $(i + 2) }' /proc/self/mountinfo | LC_ALL=C sort
        test_loops | sed 's/^/loop /'
        _links | sed 's/^/link /'
        root=$(cgroup2_root)
        for d in "$root"/machine.slice/machine-soak*.scope /sys/fs/cgroup/*/machine.slice/machine-soak*.scope; do
                [[ -d $d ]] && echo "cgroup $d"
        done
        find "$R" -name '*.lock' 2>/dev/null | sed 's/^/lock /' | LC_ALL=C sort
        return 0
}
boxd_fds() { find "/proc/$boxd/fd" -mindepth 1 -maxdepth 1 | wc -l; }
boxd_rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$boxd/status"; }

bb_up() { guest_exec "$1" pidof sleep >/dev/null 2>&1; }
deb_up() { [[ $(guest_exec "$1" systemctl is-system-running 2>/dev/null) == running ]]; }
listed() { "$BOXCTL" list --no-legend 2>/dev/null | grep -q "^$1 "; }
not_listed() { ! "$BOXCTL" list --no-legend 2>/dev/null | grep -q "^$1 "; }

# cycle NAME UP TREE ARGS...: one boot/power-off; prints why when it fails.
cycle() {
        local name=$1 up=$2 tree=$3
        shift 3
        boot_machine "$name" "$tree" "$@"
        if ! wait_for 60 "$up" "$name"; then
                echo "machine $name did not come up: $(tail -n 5 "$_sb_state/console-$name")"
                return 1
        fi
        wait_for 10 listed "$name" || {
                echo "machine $name is not listed"
                return 1
        }
        "$BOXCTL" poweroff "$name" || {
                echo "boxctl poweroff $name failed"
                return 1
        }
        finish_machine "$name"
        ((rc == 0)) || {
                echo "boxctl boot of $name exited $rc: $(tail -n 5 "$_sb_state/console-$name")"
                return 1
        }
        wait_for 5 not_listed "$name" || {
                echo "machine $name is still listed after it ended"
                return 1
        }
}

bb_modes=(plain userns net ephemeral image)
bb_cycle() {
        case ${bb_modes[$1 % 5]} in
        plain) cycle soak-bb bb_up "$dir/bb-plain" ;;
        userns) cycle soak-bb bb_up "$dir/bb-userns" -U ;;
        net) cycle soak-bb bb_up "$dir/bb-net" -n ;;
        ephemeral) cycle soak-bb bb_up "$bb" -x ;;
        image) cycle soak-bb bb_up "$dir/bb.raw" ;;
        esac
}
deb_modes=(ephemeral userns net)
deb_cycle() {
        case ${deb_modes[$1 % 3]} in
        ephemeral) cycle soak-deb deb_up "$deb" -x ;;
        userns) cycle soak-deb deb_up "$deb" -x -U ;;
        net) cycle soak-deb deb_up "$deb" -x -n ;;
        esac
}

start_state=$(host_state)
start_fds=$(boxd_fds)
start_rss=$(boxd_rss)

# A first round of every kind warms boxd up (its allocator's arenas, the
# code paths each kind takes once); the RSS compared at the end is the one
# after it.
t0=$(_now_us)
for ((i = 0; i < 5 && i < n_bb; i++)); do
        check "busybox warm-up cycle $((i + 1)) (${bb_modes[i]})" bb_cycle "$i"
done
if ((n_deb > 0)); then
        check "Debian warm-up cycle 1 (${deb_modes[0]})" deb_cycle 0
fi
warm_fds=$(boxd_fds)
warm_rss=$(boxd_rss)
diag "boxd at start: $start_fds fds, RSS $start_rss KiB; after the first round: $warm_fds fds, RSS $warm_rss KiB"

failed=0
t1=$(_now_us)
for ((i = 5; i < n_bb; i++)); do
        bb_cycle "$i" >"$_sb_state/cycle.out" 2>&1 || {
                fail "busybox cycle $((i + 1)) (${bb_modes[i % 5]})" || true
                diag "$(cat "$_sb_state/cycle.out")"
                failed=$((failed + 1))
                ((failed < 3)) || break
        }
done
t2=$(_now_us)
((failed == 0)) && pass "busybox cycles 6 to $n_bb: each booted, was listed, powered off with exit 0 and was unlisted"
for ((i = 1; i < n_deb; i++)); do
        deb_cycle "$i" >"$_sb_state/cycle.out" 2>&1 || {
                fail "Debian cycle $((i + 1)) (${deb_modes[i % 3]})" || true
                diag "$(cat "$_sb_state/cycle.out")"
                failed=$((failed + 1))
                ((failed < 3)) || break
        }
done
t3=$(_now_us)
((failed == 0 && n_deb > 1)) && pass "Debian cycles 2 to $n_deb: each reached a running system, was listed, powered off with exit 0"
diag "busybox: $(((t2 - t1) / 1000 / (n_bb > 5 ? n_bb - 5 : 1))) ms a cycle; Debian: $(((t3 - t2) / 1000 / (n_deb > 1 ? n_deb - 1 : 1))) ms a cycle; all $(((t3 - t0) / 1000000)) s"

end_fds=$(boxd_fds)
end_rss=$(boxd_rss)
diag "boxd at the end: $end_fds fds, RSS $end_rss KiB"
ok "boxd is still running" test -d "/proc/$boxd"
if ! is "$end_fds" "$start_fds" "boxd has as many open files as at the start"; then
        diag "$(ls -l "/proc/$boxd/fd")"
fi
# A sanitized boxd holds freed memory back (AddressSanitizer's quarantine,
# 256 MiB by default): its RSS says nothing of leaks there, LeakSanitizer
# does, at its exit below.
if grep -q libasan "/proc/$boxd/maps"; then
        skip "boxd's RSS grew by at most $rss_bound KiB ($((end_rss - warm_rss)) KiB)" \
                "boxd is built with AddressSanitizer; LeakSanitizer judges its leaks at exit"
else
        ok "boxd's RSS grew by at most $rss_bound KiB ($((end_rss - warm_rss)) KiB)" test $((end_rss - warm_rss)) -le "$rss_bound"
fi
# What is there now and was not at the start; and what was and is gone, but
# for mounts whose mount point the host removed meanwhile (they go with it).
changed() {
        local l mp
        LC_ALL=C comm -13 <(echo "$start_state") <(echo "$end_state") | sed 's/^/new: /'
        while IFS= read -r l; do
                if [[ $l != @(loop|link|cgroup|lock)\ * ]]; then
                        mp=${l%% *}
                        mp=$(printf '%b' "${mp//\\/\\0}")
                        [[ -e $mp ]] || continue
                fi
                echo "gone: $l"
        done < <(LC_ALL=C comm -23 <(echo "$start_state") <(echo "$end_state"))
}
end_state=$(host_state)
is "$(changed)" "" "the host's mounts, loop devices, links, machine cgroups and lock files are those of the start"

# boxd ends cleanly on SIGTERM, and a sanitized one finds no leak at exit.
kill -TERM "$boxd"
rc=0
wait "$boxd" || rc=$?
_boxd_pid=
is "$rc" 0 "boxd exits 0 on SIGTERM"
if ! ok "boxd reported no leak or error at exit" bash -c "! grep -qE 'Sanitizer|runtime error' '$_sb_state/boxd.log'"; then
        diag "$(grep -A20 -E 'Sanitizer|runtime error' "$_sb_state/boxd.log" | head -n 40)"
fi
bus_stop
leaks_check
