#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# libnss_boxctl.so.2: the host resolves a running machine's name to its
# addresses ("hosts: files boxctl" in nsswitch.conf), asking boxd. Names it
# must not answer (unknown, invalid, a machine without a network of its own)
# are not found; without a bus or without boxd it fails at once, and never
# gets boxd started. The sandbox's own /etc/nsswitch.conf is a bind mount,
# and glibc finds the built module through LD_LIBRARY_PATH (getent is not
# setuid).
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

work=$(test_tmpdir)
cp -a "$(fixture_busybox)" "$work/bb"
cp -a "$(fixture_busybox)" "$work/plain"
# The host's, with our module as the only source of host names beside the files.
sed '/^hosts:/d' /etc/nsswitch.conf >"$work/nsswitch.conf"
echo 'hosts: files boxctl' >>"$work/nsswitch.conf"
mount --bind "$work/nsswitch.conf" /etc/nsswitch.conf
cleanup_push umount /etc/nsswitch.conf
export LD_LIBRARY_PATH=$BOXCTL_BUILDDIR/src/nss
check "the module is built" test -e "$LD_LIBRARY_PATH/libnss_boxctl.so.2"
is "$(objdump -p "$LD_LIBRARY_PATH/libnss_boxctl.so.2" | awk '/SONAME/ {print $2}')" libnss_boxctl.so.2 \
        "...with the soname glibc loads"
is "$(nm -D --defined-only "$LD_LIBRARY_PATH/libnss_boxctl.so.2" | awk '{print $3}' | grep -v '^_nss_boxctl_' | tr '\n' ' ')" "" \
        "...exporting nothing but _nss_boxctl_*"
# A sanitized build's module needs the sanitizers' runtimes loaded first in the
# programs that load it, which are not instrumented (getent, python3): they
# run under "${nss_env[@]}", with the runtimes preloaded and without leak
# detection (a short-lived getent's own leaks are not ours).
nss_env=(env)
sanitizers=$(ldd "$LD_LIBRARY_PATH/libnss_boxctl.so.2" | awk '/lib(asan|ubsan)\.so/ { print $3 }' | paste -sd:)
if [[ -n $sanitizers ]]; then
        nss_env=(env LD_PRELOAD="$sanitizers" ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1")
        diag "the module is sanitized: getent and python3 run with $sanitizers preloaded"
fi

# lookup NAME [DATABASE]: getent's exit status in $rc, its output in $out,
# its time in ms in $ms. Under timeout: a hang is a failure, not a stuck test.
lookup() {
        local t0
        t0=$(_now_us)
        rc=0
        out=$(timeout 60 "${nss_env[@]}" getent "${2:-hosts}" -- "$1" 2>&1) || rc=$?
        ms=$((($(_now_us) - t0) / 1000))
}
# A lookup that fails must fail before the module's 5 s bound for boxd:
# at once, not by waiting for something.
fast() { ((ms < 4000)); }

# No system bus at all (the socket does not exist).
lookup nssbb
is "$rc" 2 "without a system bus: not found (exit 2)"
ok "...at once ($ms ms)" fast

# A bus, and no boxd: the bus must not be asked to start it.
bus_start
lookup nssbb
is "$rc" 2 "with a bus and no boxd: not found (exit 2)"
ok "...at once ($ms ms)" fast
ok "...and boxd was not activated for it" bash -c '! busctl --system status org.freedesktop.machine1 >/dev/null 2>&1'

boxd_start
boot_machine nssbb "$work/bb" -n
boot_machine plain "$work/plain"
check "a busybox machine with a veth is up" wait_for 30 guest_exec nssbb pidof sleep
check "a busybox machine without one is up" wait_for 30 guest_exec plain pidof sleep
address() { guest_exec nssbb ip -4 -o addr show dev host0 | awk '{print $4}' | cut -d/ -f1; }
has_address() { [[ -n $(address) ]]; }
check "the machine has its IPv4 address" wait_for 10 has_address
guest4=$(address)
registered() { "$BOXCTL" list --no-legend | grep -q "^$1 "; }
check "both are registered" wait_for 10 bash -c "$(declare -f registered); BOXCTL=$BOXCTL; registered nssbb && registered plain"

lookup nssbb
is "$rc" 0 "getent hosts resolves the machine's name"
ok "...to its address $guest4: $out" bash -c '[[ $(awk "{print \$1}" <<<"$1") == *"$2"* && $1 == *nssbb* ]]' _ "$out" "$guest4"
lookup nssbb ahosts
is "$rc" 0 "getent ahosts resolves it (gethostbyname4_r)"
ok "...with its address for every socket type: $out" bash -c '[[ $(grep -c "^$2 " <<<"$1") -ge 2 ]]' _ "$out" "$guest4"
lookup nssbb ahostsv4
ok "getent ahostsv4 gives the IPv4 address" bash -c '(( $1 == 0 )) && [[ $2 == "$3 "* ]]' _ "$rc" "$out" "$guest4"
is "$("${nss_env[@]}" python3 -c 'import socket, sys; print(socket.gethostbyname(sys.argv[1]))' nssbb 2>&1)" "$guest4" \
        "gethostbyname() in a program resolves it too"

lookup nosuchmachine
is "$rc" 2 "an unknown name: not found (exit 2)"
ok "...at once ($ms ms)" fast
lookup plain
is "$rc" 2 "a machine without a network link of its own: not found (exit 2)"
ok "...at once ($ms ms)" fast
for bad in 'bad_name' '-nssbb' 'nssbb-' "$(printf 'a%.0s' {1..70})" 'a..b'; do
        lookup "$bad"
        is "$rc" 2 "a name that is no machine name ('${bad:0:20}'): not found"
done
# Not even asked: the module turns an invalid name away before the bus.
if command -v strace >/dev/null; then
        asked=$(strace -f -e trace=connect "${nss_env[@]}" getent hosts -- 'bad_name' 2>&1 | grep -c system_bus_socket || true)
        is "$asked" 0 "...and the bus is not even asked about an invalid name"
        asked=$(strace -f -e trace=connect "${nss_env[@]}" getent hosts 'good-name' 2>&1 | grep -c system_bus_socket || true)
        ok "...as it is about a valid one ($asked)" test "$asked" -gt 0
else
        skip "...and the bus is not even asked about an invalid name" "strace is not installed"
fi

# The bypass a process sets that must not ask boxd (boxd sets it for itself).
rc=0; BOXCTL_NSS_BYPASS_BUS=1 timeout 60 "${nss_env[@]}" getent hosts nssbb >/dev/null || rc=$?
is "$rc" 2 "BOXCTL_NSS_BYPASS_BUS=1: the module does not ask"

# boxd stops while the machine runs: at once not found, and not activated.
boxd_stop
lookup nssbb
is "$rc" 2 "boxd not running: not found (exit 2)"
ok "...at once ($ms ms)" fast
ok "...and boxd was not activated for it" bash -c '! busctl --system status org.freedesktop.machine1 >/dev/null 2>&1'

for m in nssbb plain; do
        kill -TERM "${machine_pids[$m]}"
        finish_machine "$m"
        is "$rc" 0 "machine $m powered off cleanly"
done
bus_stop
umount /etc/nsswitch.conf
cleanup_pop
leaks_check
