#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# --ephemeral: machines write to a throw-away overlay; the tree stays exactly
# as it was, so several may boot one tree at once.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

work=$(test_tmpdir)
deb=$work/debian
cp -a "$(fixture_debian)" "$deb"
# Every byte and every bit of metadata, to compare before and after.
fingerprint() {
        (cd "$1" && find . -printf '%p %y %m %U %G %s %T@ %l\n' | LC_ALL=C sort &&
                find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum
}
before=$(fingerprint "$deb")

pids=()
for i in 1 2 3; do
        "$BOXCTL" boot --register=no -x "$deb" -M eph$i >"$_sb_state/console$i" 2>&1 &
        pids+=($!)
        cleanup_push kill -KILL "$!"
done
for i in 1 2 3; do
        wait_for 40 guest_exec eph$i test -S /run/systemd/private >/dev/null 2>&1 || true
        is "$(guest_exec eph$i systemctl is-system-running --wait 2>&1)" running "ephemeral machine $i boots to a running system"
done
ids=$(for i in 1 2 3; do guest_exec eph$i cat /etc/machine-id; done | sort -u | wc -l)
is "$ids" 3 "each has its own machine id"
check "a machine writes to its tree" guest_exec eph1 sh -c 'echo mine > /etc/motd && rm /usr/bin/yes'
is "$(guest_exec eph2 cat /etc/motd)" "$(cat "$deb/etc/motd")" "...and the others do not see it"
for i in 1 2 3; do
        guest_exec eph$i systemctl poweroff || true
done
for i in 1 2 3; do
        rc=0; wait "${pids[i - 1]}" || rc=$?
        cleanup_pop
        is "$rc" 0 "ephemeral machine $i powers off cleanly"
done
is "$(fingerprint "$deb")" "$before" "three ephemeral machines left the tree byte-for-byte unchanged"

# A read-write machine can still take the tree afterwards, and an ephemeral
# one can run beside a read-only one.
bb=$work/busybox
cp -a "$(fixture_busybox)" "$bb"
"$BOXCTL" run --register=no -x -M e1 "$bb" -- sh -c "$HOLD" &
p=$!
check "an ephemeral machine is up" wait_for 10 machine_leader e1
check "an ephemeral machine shares the tree with a read-only one" "$BOXCTL" run --register=no --read-only -M r1 "$bb" -- true
machine_release e1
wait "$p"
out=$("$BOXCTL" run --register=no -x -U --bind=/etc/hostname:/new/dir/hn "$bb" -- sh -c 'id -u; touch /x && stat -c %u /x; test -f /new/dir/hn && echo bound')
is "$out" $'0\n0\nbound' "with -U: root inside, its files root's, mount points made in the overlay"
is "$(ls "$bb")" "$(ls "$(fixture_busybox)")" "...and nothing made in the tree"

leaks_check
