#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The system call filter, seen from inside machines, with and without -U:
# one call per refused group gets EPERM, the calls an OS needs pass, calls
# newer than libseccomp get ENOSYS; --system-call-filter= widens and narrows
# it; bad names get one line; a corrupt cache entry is rebuilt; "boxctl
# shell" enters under the machine's own filter; and, read from the kernel,
# every call systemd-nspawn's filter refuses on this host boxctl's refuses
# too, but for the documented exceptions.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

: "${BOXCTL_SYSCALL_PROBE:?}" "${BOXCTL_SECCOMP_DUMP:?}"
tree=$(test_tmpdir)/bb
cp -a "$(fixture_busybox)" "$tree"
cp "$BOXCTL_SYSCALL_PROBE" "$tree/usr/bin/syscall-probe"
run() { "$BOXCTL" run --register=no --console=pipe "$tree" "$@"; }
# result [OPTIONS...] PROBE: what the probe's one call got inside.
result() {
        local out
        out=$(run "${@:1:$#-1}" -- syscall-probe "${@: -1}") || return 1
        echo "${out#* }"
}

# Each stands for a group or a call that systemd-nspawn refuses (see
# tests/helpers/syscall-probe.c for the arguments: none does harm if allowed).
refused=(clock_adjtime init_module iopl mlock kexec_load swapoff add_key keyctl modify_ldt sysfs pkey_alloc
        perf_event_open pidfd_getfd bpf open_by_handle_at fanotify_init quotactl syslog io_uring_setup
        lookup_dcookie memfd_secret tiocsti)
allowed=(getpid uname memfd_create route_socket)

for userns in "" -U; do
        label=${userns:-"no user namespace"}
        mapfile -t got < <(run $userns -- syscall-probe "${refused[@]}" "${allowed[@]}" umount2 audit_socket \
                newer_than_libseccomp)
        declare -A answer=()
        for l in "${got[@]}"; do
                answer[${l% *}]=${l#* }
        done
        for p in "${refused[@]}"; do
                is "${answer[$p]:-none}" EPERM "$label: $p is refused with EPERM"
        done
        for p in "${allowed[@]}"; do
                is "${answer[$p]:-none}" ok "$label: $p is allowed"
        done
        is "${answer[umount2]:-none}" ENOENT "$label: umount2 reaches the kernel (@mount is allowed)"
        is "${answer[audit_socket]:-none}" EAFNOSUPPORT "$label: an audit socket gets EAFNOSUPPORT"
        is "${answer[newer_than_libseccomp]:-none}" ENOSYS "$label: a call newer than libseccomp gets ENOSYS"
        unset answer
done

# Only with the capability: syslog(2) with CAP_SYSLOG (no user namespace:
# in one, the kernel wants the capability in the host's).
is "$(result --capability=CAP_SYSLOG syslog)" ok "--capability=CAP_SYSLOG allows syslog(2)"
is "$(result --capability=CAP_IPC_LOCK mlock)" ok "--capability=CAP_IPC_LOCK allows @memlock"

# Widening and narrowing.
is "$(result --system-call-filter='@clock' clock_adjtime)" ok "--system-call-filter=@clock allows a group"
is "$(result --system-call-filter='io_uring_setup' io_uring_setup)" ok "--system-call-filter=NAME allows a call"
is "$(result --system-call-filter='~uname' uname)" EPERM "--system-call-filter=~NAME refuses a call"
is "$(result --system-call-filter='~@mount' umount2)" EPERM "--system-call-filter=~@GROUP refuses a group"
is "$(result --system-call-filter=uname --system-call-filter='~uname' uname)" EPERM \
        "a refusal wins over an allowance, whatever the order"
is "$(result --system-call-filter='~uname' --system-call-filter= uname)" ok \
        "an empty --system-call-filter= clears the list before it"
is "$(result -U --system-call-filter='~getpid' getpid)" EPERM "the same with -U"

# Bad input: one line naming it, nothing started.
fails_with "an unknown call" "'nosuchcall'" run --system-call-filter='read nosuchcall' -- true
fails_with "an unknown group" "@mount" run --system-call-filter='@nosuchgroup' -- true
fails_with "~ alone" "--system-call-filter" run --system-call-filter='~' -- true
fails_with "upper case" "'READ'" run --system-call-filter='READ' -- true
out=$("$BOXCTL" run --system-call-filter=help 2>&1)
ok "--system-call-filter=help lists the groups" bash -c '[[ $1 == *@mount* && $1 == *@clock* && $1 == *kexec_load* ]]' _ "$out"
ok "--system-call-filter= is in --help" bash -c '"$1" boot --help | grep -q -- --system-call-filter=' _ "$BOXCTL"

# The cache: one entry for the default filter; a corrupt one is rebuilt, not
# loaded, and the machine still gets the real filter.
cache=/run/boxctl/seccomp
rm -f "$cache"/*.bpf
run -- true
mapfile -t entries < <(find "$cache" -maxdepth 1 -name '*.bpf')
is "${#entries[@]}" 1 "the default filter is compiled once and cached in $cache"
entry=${entries[0]}
run -- true
ok "a second start reads it, writes nothing" test "$(find "$cache" -maxdepth 1 -name '*.bpf' -newer "$entry" | wc -l)" = 0
cp "$entry" "$_sb_state/good.bpf"
printf '\xff\xff\xff\xff' | dd of="$entry" bs=1 seek=$(($(stat -c %s "$entry") - 4)) conv=notrunc status=none
ok "the cache entry is now corrupt" bash -c '! cmp -s "$1" "$2"' _ "$entry" "$_sb_state/good.bpf"
is "$(result kexec_load)" EPERM "with a corrupt cache entry, the machine still gets its filter"
ok "the corrupt entry was rebuilt" cmp "$entry" "$_sb_state/good.bpf"
head -c 100 "$_sb_state/good.bpf" >"$entry"
is "$(result kexec_load)" EPERM "with a truncated cache entry too"
ok "the truncated entry was rebuilt" cmp "$entry" "$_sb_state/good.bpf"
ok "no temporary file is left in the cache" bash -c '[[ -z $(find "$1" -name ".#*") ]]' _ "$cache"

# boxctl shell enters under the machine's filter, its --system-call-filter= included.
bus_start
boxd_start
cp -a "$tree" "$(dirname "$tree")/nouname"
boot_machine nouname "$(dirname "$tree")/nouname" --system-call-filter='~uname'
check "busybox machine booted" wait_for 30 guest_exec nouname pidof sleep
check "it is registered" wait_for 10 bash -c '"$1" list --no-legend | grep -q "^nouname "' _ "$BOXCTL"
is "$("$BOXCTL" shell nouname -- syscall-probe uname)" "uname EPERM" "shell: the machine's own ~uname holds"
is "$("$BOXCTL" shell nouname -- syscall-probe kexec_load getpid)" "kexec_load EPERM
getpid ok" "shell: and the default filter"
ok "the machine's filter is recorded while it runs" test -s /run/boxctl/seccomp/machine-nouname
"$BOXCTL" poweroff nouname
finish_machine nouname
is "$rc" 0 "the machine powered off"
ok "its record is gone with it" test ! -e /run/boxctl/seccomp/machine-nouname

# Against systemd-nspawn, as the kernel holds both filters: every call that
# nspawn refuses (zero arguments, x86-64), boxctl refuses too. The exceptions
# are docs/SECURITY.md's: landlock (it only narrows its caller).
exceptions=(landlock_add_rule landlock_create_ruleset landlock_restrict_self)
mark=$((RANDOM + 40000))
systemd-nspawn --register=no --keep-unit -q --console=pipe -D "$tree" /bin/sleep "$mark" \
        >"$_sb_state/nspawn.log" 2>&1 &
nspawn=$!
cleanup_push kill -KILL "$nspawn"
nspawn_leader() { pgrep -f "^/bin/sleep $mark\$" | head -n 1; }
check "systemd-nspawn started its machine" wait_for 30 bash -c "$(declare -f nspawn_leader); mark=$mark; [[ -n \$(nspawn_leader) ]] && grep -q '^Seccomp:.2' /proc/\$(nspawn_leader)/status"
leader=$(nspawn_leader)
"$BOXCTL_SECCOMP_DUMP" "$leader" >"$_sb_state/nspawn.filter"
# nspawn's PID 1 dies with its namespace; nspawn itself then ends.
kill -KILL "$leader"
wait "$nspawn" 2>/dev/null || true
cleanup_pop

boot_machine cmp "$tree"
check "a boxctl machine to compare" wait_for 30 guest_exec cmp pidof sleep
"$BOXCTL_SECCOMP_DUMP" "$(machine_leader cmp)" >"$_sb_state/boxctl.filter"
"$BOXCTL" poweroff cmp
finish_machine cmp

nspawn_refused=$(awk '$2 != "ALLOW"' "$_sb_state/nspawn.filter" | wc -l)
ok "nspawn's filter was read ($nspawn_refused calls refused)" test "$nspawn_refused" -ge 40
weaker=$(join <(sort "$_sb_state/nspawn.filter") <(sort "$_sb_state/boxctl.filter") |
        awk '$2 != "ALLOW" && $3 == "ALLOW" { print $1 }' | grep -vxF -f <(printf '%s\n' "${exceptions[@]}") || true)
is "$weaker" "" "every call nspawn refuses, boxctl refuses (but the documented exceptions)"
missing=$(comm -23 <(cut -d' ' -f1 "$_sb_state/nspawn.filter" | sort) <(cut -d' ' -f1 "$_sb_state/boxctl.filter" | sort))
is "$missing" "" "both dumps cover the same calls"
diag "refused by boxctl, allowed by nspawn: $(join <(sort "$_sb_state/nspawn.filter") <(sort "$_sb_state/boxctl.filter") |
        awk '$2 == "ALLOW" && $3 != "ALLOW" { printf "%s ", $1 }')"

bus_stop
leaks_check
