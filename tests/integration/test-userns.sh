#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# User namespaces (-U, --private-users=): root inside is not root outside,
# the tree keeps its owners on disk (idmapped mounts), ranges do not overlap
# and are given back, the chown fallback is resumable, and bad input is refused.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

: "${BOXCTL_PROBE:=$BOXCTL_BUILDDIR/tests/helpers/probe}"
work=$(test_tmpdir)
bb=$work/busybox
cp -a "$(fixture_busybox)" "$bb"
brun() { "$BOXCTL" run --register=no "$@"; }
owners() { find "$1" -xdev -printf '%U:%G %p\n' | LC_ALL=C sort; }
lacks() { [[ $2 != *"$1"* ]]; }    # lacks NEEDLE HAYSTACK
has() { [[ $2 == *"$1"* ]]; }      # has NEEDLE HAYSTACK
one_line() { [[ -n $1 && $1 != *$'\n'* ]]; }

# Root inside, BASE outside.
is "$(brun -U "$bb" -- id -u)" 0 "inside, id -u is 0"
map=$(brun -U "$bb" -- cat /proc/self/uid_map)
read -r inside base size <<<"$map"
ok "root inside maps to a 65536-aligned base in 0x80000..0x6fff0000 ($base)" \
        bash -c "(( $inside == 0 && $size == 65536 && $base % 65536 == 0 && $base >= 0x80000 && $base <= 0x6fff0000 ))"
is "$(brun -U "$bb" -- cat /proc/self/uid_map | awk '{print $2}')" "$base" "the same machine name gets the same range again"
other=$(brun -U -M other-name "$bb" -- cat /proc/self/uid_map | awk '{print $2}')
ok "another name gets another range ($other)" test "$other" != "$base"
is "$(brun --private-users=0x10000000 "$bb" -- cat /proc/self/uid_map | awk '{print $1, $2, $3}')" "0 268435456 65536" "--private-users=BASE"
is "$(brun --private-users=0x10000000:1000 "$bb" -- cat /proc/self/uid_map | awk '{print $3}')" "1000" "--private-users=BASE:SIZE for run"
is "$(brun --private-users=identity "$bb" -- cat /proc/self/uid_map | awk '{print $1, $2, $3}')" "0 0 65536" "--private-users=identity"

# The tree keeps its owners: an idmapped mount, not a chown.
owners "$bb" >"$_sb_state/owners.before"
brun -U "$bb" -- sh -c 'touch /root/made-inside && chown 1000:1000 /root/made-inside && touch /root/root-owned'
is "$(stat -c %u:%g "$bb/root/root-owned")" "0:0" "a file made by root inside is owned by 0 on disk"
is "$(stat -c %u:%g "$bb/root/made-inside")" "1000:1000" "a file chowned to 1000 inside is 1000 on disk"
rm "$bb/root/made-inside" "$bb/root/root-owned"
owners "$bb" >"$_sb_state/owners.after"
check "no file of the tree changed owner" diff "$_sb_state/owners.before" "$_sb_state/owners.after"
ok "inside, the tree's files show their owners" grep -q "^root root" <<<"$(brun -U "$bb" -- stat -c '%U %G' /bin/busybox)"

# Two machines at once get disjoint ranges; the ranges are given back.
brun -U -M first "$bb" --read-only -- sh -c "cat /proc/self/uid_map; $HOLD" >"$_sb_state/first" &
p1=$!
wait_for 5 test -s "$_sb_state/first"
second=$(brun -U -M second "$bb" --read-only -- cat /proc/self/uid_map | awk '{print $2}')
machine_release first
wait "$p1"
first=$(awk '{print $2}' "$_sb_state/first")
ok "two machines at once get disjoint ranges ($first, $second)" \
        bash -c "(( $first + 65536 <= $second || $second + 65536 <= $first ))"
brun --private-users=0x20000000 -M holder "$bb" --read-only -- sh -c "$HOLD" 2>"$_sb_state/holder" &
p1=$!
check "a machine holds range 0x20000000" wait_for 5 test -e /run/boxctl/uidranges/536870912.lock || diag "$(cat "$_sb_state/holder")"
rc=0; err=$(brun --private-users=0x20000000 -M taker "$bb" --read-only -- true 2>&1) || rc=$?
ok "a range in use is refused (exit $rc): $err" test "$rc" -ne 0
busy_in_one_line() { has busy "$1" && one_line "$1"; }
ok "...saying it is busy, in one line" busy_in_one_line "$err"
machine_release holder
wait "$p1"
is "$(ls /run/boxctl/uidranges 2>/dev/null | wc -l)" 0 "the range locks are released at exit"

# What root inside must not do (tests/helpers/probe tries each).
rc=0
out=$(brun -U --bind-ro="$BOXCTL_PROBE:/probe" "$bb" -- /probe 7:0) || rc=$?
diag "$out"
is "$rc" 0 "with -U, root inside can neither mknod nor open a block device, load a module, write sysrq-trigger or /proc/sys, open files by handle, nor set the clock"
for t in mknod-block-device open-host-disk init-module write-sysrq-trigger open-by-handle; do
        ok "...$t refused" grep -q "^$t ok" <<<"$out"
done
secret=$(test_tmpdir)
echo "host secret" >"$secret/file"
out=$(brun -U "$bb" -- sh -c "cat $secret/file /proc/1/root$secret/file 2>&1; grep -c '$secret' /proc/self/mountinfo" || true)
ok "a host file is not reachable without a bind asking for it" lacks "host secret" "$out"
is "$(brun -U --bind-ro="$secret:/mnt/s" "$bb" -- cat /mnt/s/file)" "host secret" "...and is through one that asks"
is "$(brun -U --bind="$secret:/mnt/s" "$bb" -- stat -c %u /mnt/s/file)" 0 "a bind is idmapped like the root: host root's file is root's inside"
chmod 0755 "$secret"
is "$(brun -U --bind="$secret:/mnt/s:noidmap" "$bb" -- stat -c %u /mnt/s/file)" 65534 "...unless :noidmap (then it is nobody's)"
check "...and root inside cannot write to a :noidmap bind of a host root's file" brun -U --bind="$secret:/mnt/s:noidmap" "$bb" -- sh -c '! echo x >> /mnt/s/file'

# The chown fallback: idempotent, resumable, undoable.
cb=$work/chowned
cp -a "$bb" "$cb"
# POSIX ACLs name users and groups, and chown() drops file capabilities.
touch "$cb/root/acl-file" "$cb/root/cap-file"
mkdir "$cb/root/acl-dir"
setfacl -m u:1000:r,g:1001:rw "$cb/root/acl-file"
setfacl -d -m u:1002:rwx "$cb/root/acl-dir"
setcap cap_net_raw+ep "$cb/root/cap-file"
brun --private-users=0x30000000 --private-users-ownership=chown "$cb" -- true
is "$(stat -c %u:%g "$cb/bin/busybox")" "805306368:805306368" "chown shifts the files' owners to BASE"
is "$(getfacl -n -p "$cb/root/acl-file" | grep -E '^(user|group):[0-9]')" "user:$((0x30000000 + 1000)):r--
group:$((0x30000000 + 1001)):rw-" "...and the users and groups its POSIX ACLs name"
ok "...and those of default ACLs" grep -q "^default:user:$((0x30000000 + 1002)):rwx" <<<"$(getfacl -n -p "$cb/root/acl-dir")"
is "$(getcap -n "$cb/root/cap-file")" "$cb/root/cap-file cap_net_raw=ep [rootid=805306368]" \
        "...and gives file capabilities back, with the machine's root as theirs"
is "$(brun --private-users=0x30000000 --private-users-ownership=chown "$cb" -- stat -c %u /bin/busybox)" 0 "...and inside they are root's"
setfattr -n trusted.boxctl.uidshift -v 805306368 "$cb"
chown 0:0 "$cb/etc/passwd" "$cb/sbin"
rc=0; err=$(brun --private-users=0x30000000 --private-users-ownership=chown "$cb" -- true 2>&1) || rc=$?
ok "an interrupted shift is noticed..." grep -q "was interrupted; finishing it" <<<"$err"
is "$(stat -c %u "$cb/etc/passwd"):$(stat -c %u "$cb/sbin")" "805306368:805306368" "...and finished"
ok "...and its mark removed" bash -c "! getfattr -n trusted.boxctl.uidshift '$cb' 2>/dev/null | grep -q uidshift"
brun --private-users=identity --private-users-ownership=chown "$cb" -- true
is "$(stat -c %u:%g "$cb/bin/busybox")" "0:0" "--private-users=identity with chown shifts it back"
is "$(getfacl -n -p "$cb/root/acl-file" | grep -E '^(user|group):[0-9]')" "user:1000:r--
group:1001:rw-" "...its ACLs too"
is "$(getcap -n "$cb/root/cap-file")" "$cb/root/cap-file cap_net_raw=ep" "...and its file capabilities, host root's again"

# Bad input.
bad() {
        local desc=$1 pattern=$2 rc=0 err
        shift 2
        owners "$bb" >"$_sb_state/b.before"
        err=$("$BOXCTL" "$@" 2>&1 >/dev/null) || rc=$?
        owners "$bb" >"$_sb_state/b.after"
        if ((rc != 0)) && [[ $(wc -l <<<"$err") == 1 && $err =~ $pattern ]] && cmp -s "$_sb_state/b.before" "$_sb_state/b.after"; then
                pass "$desc: $err"
        else
                fail "$desc (exit $rc): $err" || true
        fi
}
bad "a base not 65536-aligned" "must be a multiple of 65536" run "$bb" --private-users=0x10000001 -- true
bad "a base below the range" "must lie in 0x80000" run "$bb" --private-users=0x10000 -- true
bad "a base above the range" "must lie in 0x80000" run "$bb" --private-users=0x70000000 -- true
bad "a size over 65536" "must lie in" run "$bb" --private-users=0x10000000:70000 -- true
bad "a size other than 65536 for boot" "a booted OS needs all 65536 UIDs" boot "$bb" --private-users=0x10000000:1000
bad "garbage" "use pick, identity, no, or BASE" run "$bb" --private-users=lots -- true
bad "identity with idmap" "identity maps every UID to itself" run "$bb" --private-users=identity --private-users-ownership=idmap -- true
bad "ownership without a user namespace" "needs a user namespace" run "$bb" --private-users-ownership=chown -- true
bad ":idmap without a user namespace" "idmapping needs a user namespace" run "$bb" --bind=/etc:/mnt:idmap -- true
bad "an unknown ownership mode" "invalid --private-users-ownership" run "$bb" -U --private-users-ownership=sometimes -- true

sq=$work/tree.sqfs
mksquashfs "$bb" "$sq" -quiet -noappend >/dev/null
mkdir "$work/ro"
mount -o loop,ro "$sq" "$work/ro"
cleanup_push umount -d "$work/ro"
sha_before=$(sha256sum <"$sq")
rc=0; err=$("$BOXCTL" run --register=no --private-users=0x40000000 --private-users-ownership=chown "$work/ro" -- true 2>&1) || rc=$?
ok "chown on a read-only file system is refused (exit $rc)" test "$rc" -ne 0
ok "...saying why" has "cannot chown its files: read-only file system" "$err"
is "$(wc -l <<<"$err")" 1 "...in one line"
check "...and it idmaps instead, when allowed to choose" brun --private-users=0x40000000 "$work/ro" --read-only -- true
is "$(sha256sum <"$sq")" "$sha_before" "nothing was written to the image"
umount -d "$work/ro"
cleanup_pop

# A Debian machine with -U boots, runs its processes as BASE on the host, powers off.
deb=$work/debian
cp -a "$(fixture_debian)" "$deb"
owners "$deb" >"$_sb_state/deb.before"
"$BOXCTL" boot --register=no -U "$deb" -M udeb >"$_sb_state/console" 2>&1 &
pid=$!
cleanup_push kill -KILL "$pid"
wait_for 30 guest_exec udeb test -S /run/systemd/private >/dev/null 2>&1 || true
is "$(guest_exec udeb systemctl is-system-running --wait 2>&1)" running "Debian with -U boots to a running system"
is "$(guest_exec udeb id -u)" 0 "inside, id -u is 0"
leader=$(machine_leader udeb)
ubase=$(awk '{print $2}' /proc/$leader/uid_map)
is "$(stat -c %u /proc/$leader)" "$ubase" "on the host, the guest's init runs as BASE ($ubase)"
ok "all its processes run as BASE..BASE+65535" bash -c "for p in \$(cat \$(find '$(machine_scope_dirs udeb | head -n1)' -name cgroup.procs)); do u=\$(stat -c %u /proc/\$p); (( u >= $ubase && u < $ubase + 65536 )) || exit 1; done"
check "its cgroup is delegated to its root" test "$(stat -c %u "$(machine_scope_dirs udeb | head -n1)")" = "$ubase"
guest_exec udeb systemctl poweroff || true
rc=0; wait "$pid" || rc=$?
cleanup_pop
is "$rc" 0 "it powers off cleanly, exit 0"
owners "$deb" >"$_sb_state/deb.after"
# Files the guest made (journal, machine id...) are new; none of the old ones changed owner.
changed=$(LC_ALL=C join -j2 -o 1.1,2.1,0 <(awk '{print $1, $2}' "$_sb_state/deb.before" | LC_ALL=C sort -k2) \
        <(awk '{print $1, $2}' "$_sb_state/deb.after" | LC_ALL=C sort -k2) | awk '$1 != $2' | head -5)
is "$changed" "" "no file of the Debian tree changed owner"

leaks_check
