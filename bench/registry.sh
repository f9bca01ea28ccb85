#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench/registry.sh [N]: boxd with N registered machines (default 1000) on a
# private dbus-daemon with the project's bus policy: RegisterMachine round
# trip, ListMachines latency, boxd's resident memory. Run as root from the
# source tree after building (build/). Prints a markdown table.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
n=${1:-1000}

if [[ -z ${BOXCTL_BENCH_INSIDE:-} ]]; then
        # A private mount namespace with its own /run: the bus socket and boxd's
        # state never touch the host's.
        exec env BOXCTL_BENCH_INSIDE=1 unshare --mount --propagation private "$0" "$@"
fi
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p -m 0755 /run/dbus
work=$(mktemp -d)
pids=()
cleanup() {
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
        rm -rf "$work"
}
trap cleanup EXIT

sed "s|</busconfig>|<listen>unix:path=/run/dbus/system_bus_socket</listen><include>$PWD/units/boxd.conf</include></busconfig>|" \
        tests/lib/system-bus.conf >"$work/bus.conf"
dbus-daemon --config-file="$work/bus.conf" --nofork --nopidfile --nosyslog 2>/dev/null &
pids+=($!)
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=/run/dbus/system_bus_socket
for _ in $(seq 50); do [[ -S /run/dbus/system_bus_socket ]] && break; sleep 0.1; done
build/src/boxd/boxd 2>/dev/null &
boxd=$!
pids+=("$boxd")
for _ in $(seq 50); do busctl --system status org.freedesktop.machine1 >/dev/null 2>&1 && break; sleep 0.1; done
idle=$(awk '/^VmRSS:/ {print $2}' /proc/$boxd/status)

out=$(build/bench/registry-bench "$n" 200 "$boxd")
get() { awk -v k="$1" '$1 == k {print $2}' <<<"$out"; }

cat <<EOT
| measurement | value | target |
|---|---:|---:|
| RegisterMachine round trip, median (p95) | $(get register_median_ms) ms ($(get register_p95_ms) ms) | |
| ListMachines with $n machines, median (p95), reply read | $(get list_median_ms) ms ($(get list_p95_ms) ms) | < 20 ms |
| boxd resident memory, idle | $((idle / 1024)).$(((idle % 1024) * 10 / 1024)) MiB | |
| boxd resident memory with $n machines (peak) | $(($(get boxd_rss_kib) / 1024)).$((($(get boxd_rss_kib) % 1024) * 10 / 1024)) MiB ($(($(get boxd_hwm_kib) / 1024)).$((($(get boxd_hwm_kib) % 1024) * 10 / 1024)) MiB) | < 8 MB |
EOT
