#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Private networking: --private-network, a veth that works without networkd
# on either side, zones, --port (also over loopback and IPv6), the registry's
# view, nothing left behind, and bad input. Everything happens in the
# sandbox's own network namespace, which plays the host: no traffic leaves it.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

work=$(test_tmpdir)
bb=$work/busybox
cp -a "$(fixture_busybox)" "$bb"
deb=$work/debian
cp -a "$(fixture_debian)" "$deb"
has() { [[ $2 == *"$1"* ]]; }
one_line() { [[ -n $1 && $1 != *$'\n'* ]]; }
# /sys/class/net shows the network namespace sysfs was mounted in: ask ip.
ifindex_of() { ip -o link show "$1" | cut -d: -f1; }
mac_of() { ip -o link show "$1" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }
# The links, but retired host ends (ve~N), which go in the kernel's own time.
links() { ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); if ($2 !~ /^ve~/) print $2 }' | LC_ALL=C sort | tr '\n' ' '; }
base_links=$(links)

# --private-network: only lo, up.
out=$("$BOXCTL" run --register=no --private-network "$bb" -- ip -o link)
is "$(awk -F': ' '{print $2}' <<<"$out")" "lo" "--private-network: only lo"
ok "...and it is up" has "UP" "$out"
ok "...with CAP_NET_ADMIN inside" "$BOXCTL" run --register=no --private-network "$bb" -- ip link add dummy0 type bridge

# A veth with a busybox guest (no networkd): addresses, route, ping both ways.
bus_start
boxd_start
"$BOXCTL" boot -n "$bb" -M netbb >"$_sb_state/bb.console" 2>&1 &
pbb=$!
cleanup_push kill -KILL "$pbb"
check "busybox machine up" wait_for 10 guest_exec netbb pidof sleep
check "host end ve-netbb exists" ip link show ve-netbb
guest4=$(guest_exec netbb ip -4 -o addr show dev host0 | awk '{print $4}' | cut -d/ -f1)
host4=$(ip -4 -o addr show dev ve-netbb | awk '{print $4}' | cut -d/ -f1)
ok "the guest has an IPv4 address ($guest4), the host end too ($host4)" test -n "$guest4" -a -n "$host4"
is "$(guest_exec netbb ip route | awk '/^default/ {print $3}')" "$host4" "the guest's default route is the host end"
check "the host pings the guest (IPv4)" ping -c 1 -W 2 "$guest4"
check "the guest pings the host (IPv4)" guest_exec netbb ping -c 1 -W 2 "$host4"
wait_for 5 bash -c "ip -6 -o addr show dev ve-netbb | grep -q fe80" || true
host6=$(ip -6 -o addr show dev ve-netbb scope link | awk '{print $4}' | cut -d/ -f1)
guest_link_local() { guest_exec netbb ip -6 -o addr show dev host0 scope link | grep -q fe80; }
check "the guest has IPv6 link-local" wait_for 5 guest_link_local
guest6=$(guest_exec netbb ip -6 -o addr show dev host0 scope link | awk '{print $4}' | cut -d/ -f1)
# Until duplicate address detection is done, both ends' addresses are "tentative".
settled() { ! ip -6 addr show dev ve-netbb | grep -q tentative && ! guest_exec netbb ip -6 addr show dev host0 | grep -q tentative; }
check "IPv6 link-local addresses settle on both ends" wait_for 10 settled
check "the host pings the guest (IPv6 link-local)" wait_for 5 ping -6 -c 1 -W 1 "$guest6%ve-netbb"
check "the guest pings the host (IPv6 link-local)" wait_for 5 guest_exec netbb ping -6 -c 1 -W 1 "$host6%host0"
ifindex=$(ifindex_of ve-netbb)
is "$(busctl --system get-property org.freedesktop.machine1 /org/freedesktop/machine1/machine/netbb org.freedesktop.machine1.Machine NetworkInterfaces)" \
        "ai 1 $ifindex" "the registry knows its interface"
ok "GetMachineAddresses reads the guest's address" has "$guest4" "$("$BOXCTL" list --no-legend)"
macs1=$(mac_of ve-netbb)
kill -TERM "$pbb"
rc=0; wait "$pbb" || rc=$?
cleanup_pop
is "$rc" 0 "it powers off cleanly"
ok "ve-netbb is gone at once (retired)" bash -c '! ip link show ve-netbb >/dev/null 2>&1'
printf '%s\n' $base_links >"$_sb_state/base-links"
check "...and the retired link goes with the machine's network namespace" links_settled "$_sb_state/base-links"
is "$(links)" "$base_links" "...leaving the host's links as they were"

# The same name gets the same MAC again; a long name is shortened, kept as an altname.
"$BOXCTL" run --register=no -n -M netbb "$bb" -- true
"$BOXCTL" run --register=no -n -M a-very-long-machine-name "$bb" -- sh -c "$HOLD" &
p=$!
check "a long name's host end is shortened" wait_for 5 bash -c "ip -o link | grep -q 've-a-very-long'"
ok "...with the full name as an altname" bash -c "ip link show | grep -q 'altname ve-a-very-long-machine-name'"
machine_release a-very-long-machine-name
wait "$p"
"$BOXCTL" run --register=no -n -M netbb "$bb" -- sh -c "$HOLD" &
p=$!
has_address() { [[ -n $(ip -4 -o addr show dev ve-netbb 2>/dev/null) ]]; }
check "netbb's host end is up again, with its address" wait_for 5 has_address
is "$(mac_of ve-netbb 2>/dev/null)" "$macs1" "a stable MAC for the same machine name"
is "$(ip -4 -o addr show dev ve-netbb 2>/dev/null | awk '{print $4}' | cut -d/ -f1)" "$host4" \
        "...and the same address: the lease was free at once"
machine_release netbb
wait "$p"

# A Debian guest (no networkd running) and a port forward to a server in it.
"$BOXCTL" boot -n -p 8080:80 -p tcp:8081:81 "$deb" -M netdeb >"$_sb_state/deb.console" 2>&1 &
pdeb=$!
cleanup_push kill -KILL "$pdeb"
wait_for 30 guest_exec netdeb test -S /run/systemd/private >/dev/null 2>&1 || true
is "$(guest_exec netdeb systemctl is-system-running --wait 2>&1)" running "the Debian machine boots to a running system"
is "$(guest_exec netdeb systemctl is-active systemd-networkd 2>&1 || true)" inactive "...without networkd"
g4=$(guest_exec netdeb ip -4 -o addr show dev host0 | awk '{print $4}' | cut -d/ -f1)
check "the host pings the Debian guest" ping -c 1 -W 2 "$g4"
check "the Debian guest pings the host" guest_exec netdeb ping -c 1 -W 2 "$(ip -4 -o addr show dev ve-netdeb | awk '{print $4}' | cut -d/ -f1)"
guest_exec netdeb sh -c 'nc -l -k -p 80 -e /bin/cat >/dev/null 2>&1 & echo started' >/dev/null 2>&1 ||
        guest_exec netdeb sh -c '(while true; do echo served | nc -l -p 80 -q 1; done) >/dev/null 2>&1 &' || true
guest_exec netdeb sh -c 'setsid sh -c "while true; do echo served-by-guest | nc -N -l 80; done" >/dev/null 2>&1 < /dev/null &'
serving() { guest_exec netdeb ss -Htln 'sport = :80' | grep -q .; }
# The guest's nc serves one connection and its loop starts the next: each
# connection waits until it listens again (under load, that takes a while).
via_port() {
        wait_for 10 serving || return 0
        nc -N "$1" 8080 </dev/null 2>/dev/null || true
}
check "the guest's server listens on port 80" wait_for 10 serving
is "$(via_port 127.0.0.1)" "served-by-guest" "--port: a TCP connection to the host's 127.0.0.1 reaches the guest"
is "$(via_port ::1)" "served-by-guest" "--port: ...and to ::1"
is "$(via_port "$(ip -4 -o addr show dev ve-netdeb | awk '{print $4}' | cut -d/ -f1)")" "served-by-guest" "--port: ...and to the host end's address"
rc=0; err=$("$BOXCTL" run --register=no -n -p 8080 -M other "$bb" -- true 2>&1) || rc=$?
ok "a host port already in use is refused (exit $rc)" test "$rc" -ne 0
ok "...in one line that says so: $err" bash -c 'one_line() { [[ -n $1 && $1 != *$'"'"'\n'"'"'* ]]; }; one_line "$1" && [[ $1 == *"already in use"* ]]' _ "$err"
kill -KILL "$pdeb"
wait "$pdeb" 2>/dev/null || true
cleanup_pop
check "after boxctl is SIGKILLed, its host end is gone" wait_for 5 bash -c "! ip link show ve-netdeb >/dev/null 2>&1"
check "...and the port is free again" wait_for 5 bash -c "! ss -Htln 'sport = :8080' | grep -q ."
# A SIGKILLed boxctl cannot remove its machine's (empty) cgroup or its lock
# file: the next start of that machine does.
check "the next start of that machine cleans up after the killed one" "$BOXCTL" run --register=no -M netdeb "$deb" -- true

# Two machines in one zone reach each other; the zone's bridge goes with the last.
"$BOXCTL" run --register=no --read-only --network-zone=lab -M z1 "$bb" -- sh -c "$HOLD" &
pz1=$!
"$BOXCTL" run --register=no --read-only --network-zone=lab -M z2 "$bb" -- sh -c "$HOLD" &
pz2=$!
cleanup_push kill -KILL "$pz1" "$pz2"
check "the zone's bridge vz-lab exists" wait_for 5 ip link show vz-lab
two_ports() { [[ $(ip -o link show master vz-lab | wc -l) == 2 ]] && machine_leader z1 >/dev/null && machine_leader z2 >/dev/null; }
check "both machines joined the zone" wait_for 5 two_ports
z2addr=$(nsenter -t "$(machine_leader z2)" -n ip -4 -o addr show dev host0 | awk '{print $4}' | cut -d/ -f1)
check "machines of one zone reach each other" nsenter -t "$(machine_leader z1)" -n ping -c 1 -W 2 "$z2addr"
kill -TERM "$pz1"
wait "$pz1" 2>/dev/null || true
check "the bridge stays while a machine uses it" ip link show vz-lab
kill -KILL "$pz2"
wait "$pz2" 2>/dev/null || true
cleanup_pop
check "...and goes when the last one's boxctl is SIGKILLed (the guard removes it)" wait_for 5 bash -c "! ip link show vz-lab >/dev/null 2>&1"
check "the next start of z2 removes the cgroup the killed one left" "$BOXCTL" run --register=no --read-only -M z2 "$bb" -- true

# Bad input: one line, nothing half-made.
bad() {
        local desc=$1 pattern=$2 rc=0 err
        shift 2
        err=$("$BOXCTL" "$@" 2>&1 >/dev/null) || rc=$?
        if ((rc != 0)) && one_line "$err" && [[ $err == *$pattern* ]] && [[ $(links) == "$base_links" ]]; then
                pass "$desc: $err"
        else
                fail "$desc (exit $rc): $err; links: $(links)" || true
        fi
}
bad "a bridge that does not exist" "nosuchbr" run --register=no --network-bridge=nosuchbr "$bb" -- true
bad "a zone name that is too long" "invalid --network-zone" run --register=no --network-zone=a-zone-name-too-long "$bb" -- true
bad "a port out of range" "invalid --port" run --register=no -n -p 70000 "$bb" -- true
bad "a port of an unknown protocol" "invalid --port" run --register=no -n -p sctp:80 "$bb" -- true
bad "--port without a private network" "--port needs an address" run --register=no -p 80 "$bb" -- true
bad "--port with --private-network only" "--port needs an address" run --register=no --private-network -p 80 "$bb" -- true
bad "an invalid pool" "invalid --network-pool" run --register=no -n --network-pool=10.0.0.0/33 "$bb" -- true
bad "bridge and zone together" "conflicting options" run --register=no --network-bridge=br0 --network-zone=z "$bb" -- true
ip addr add 10.99.0.1/16 dev lo
bad "a pool that overlaps the host's networks" "10.99" run --register=no -n --network-pool=10.99.0.0/24 "$bb" -- true
ip addr del 10.99.0.1/16 dev lo
"$BOXCTL" run --register=no --read-only -n --network-pool=10.98.0.0/30 -M full1 "$bb" -- sh -c "$HOLD" &
p=$!
check "a machine takes the pool's only subnet" wait_for 5 ip link show ve-full1
with_full1=$(links)
rc=0; err=$("$BOXCTL" run --register=no --read-only -n --network-pool=10.98.0.0/30 -M full2 "$bb" -- true 2>&1) || rc=$?
ok "an exhausted pool is refused (exit $rc): $err" bash -c '(( $1 != 0 )) && [[ $2 == *10.98.0.0/30* && $2 != *$'"'"'\n'"'"'* ]]' _ "$rc" "$err"
is "$(links)" "$with_full1" "...leaving nothing half-made"
kill -TERM "$p"; wait "$p" 2>/dev/null || true

bus_stop
check "no interface or bridge is left" links_settled "$_sb_state/base-links"
leaks_check
