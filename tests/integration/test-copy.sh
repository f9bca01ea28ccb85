#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Files in and out of running machines: "boxctl copy-to", "copy-from" and
# "bind", and the stock machinectl's copy-to, copy-from and bind against boxd
# (machine1's CopyToMachine, CopyFromMachine, BindMountMachine). A busybox
# machine in the host's user namespace and one with -U: owners come back as
# they went, shifted in between; a guest's symlink to /etc leads to the
# machine's /etc, never the host's; a failed copy leaves nothing behind.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

bus_start
boxd_start

dir=$(realpath "$(test_tmpdir)")
cp -a "$(fixture_busybox)" "$dir/bb"
cp -a "$(fixture_busybox)" "$dir/ubb"

listed() { "$BOXCTL" list --no-legend | grep -q "^$1 "; }
sh_() { "$BOXCTL" shell "$@"; }
# The owner, mode and modification time of PATH as machine NAME sees them.
stat_in() { sh_ "$1" -- stat -c '%u:%g %a %Y' "$2"; }
stat_host() { stat -c '%u:%g %a %Y' "$1"; }
# No temporary of a copy (".#NAME.XXXXXX") left in machine NAME's DIR.
no_temporaries() { ! sh_ "$1" -- ls -a "$2" | grep -q '^\.#'; }

boot_machine bb "$dir/bb"
boot_machine ubb "$dir/ubb" -U
check "busybox machine booted" wait_for 30 guest_exec bb pidof sleep
check "busybox machine with -U booted" wait_for 30 guest_exec ubb pidof sleep
check "both are registered" wait_for 10 bash -c "$(declare -f listed); BOXCTL=$BOXCTL; listed bb && listed ubb"
uleader=$(machine_leader ubb)
read -r _ ushift _ </proc/"$uleader"/uid_map
ok "machine ubb has a UID shift ($ushift)" test "$ushift" -gt 0

# The sources: a file and a tree of owners and modes, all with one old mtime.
src=$dir/src
mkdir -p "$src/tree/sub"
printf 'file-content\n' >"$src/file"
chown 1234:2345 "$src/file"
chmod 0640 "$src/file"
printf 'a\n' >"$src/tree/a"
chown 42:43 "$src/tree/a"
chmod 4755 "$src/tree/a"
printf 'b\n' >"$src/tree/sub/b"
chown 65534:100 "$src/tree/sub/b"
chmod 0600 "$src/tree/sub/b"
ln "$src/tree/sub/b" "$src/tree/hard-b"
ln -s a "$src/tree/link"
chown -h 7:8 "$src/tree/link"
chown 1000:1000 "$src/tree/sub"
chmod 0750 "$src/tree/sub"
chmod 0705 "$src/tree"
find "$src" -exec touch -h -d @1000000000 {} +
entries=(. a sub sub/b hard-b link)

for m in bb ubb; do
        # copy-to: a file, then a tree; owners as they were, inside.
        "$BOXCTL" copy-to "$m" "$src/file" /root/file
        is "$(stat_in "$m" /root/file)" "1234:2345 640 1000000000" "$m: copy-to a file keeps its owner, mode and mtime inside"
        is "$(sh_ "$m" -- cat /root/file)" "file-content" "$m: ...and its content"
        "$BOXCTL" copy-to "$m" "$src/tree" /root/tree
        for e in "${entries[@]}"; do
                is "$(stat_in "$m" "/root/tree/$e")" "$(stat_host "$src/tree/$e")" "$m: copy-to a tree: $e as on the host"
        done
        is "$(sh_ "$m" -- readlink /root/tree/link)" a "$m: ...a symlink stays a symlink"
        is "$(sh_ "$m" -- stat -c %i /root/tree/hard-b)" "$(sh_ "$m" -- stat -c %i /root/tree/sub/b)" \
                "$m: ...a hard link stays one"
        ok "$m: no temporary is left" no_temporaries "$m" /root

        # copy-from: back to the host as it went.
        "$BOXCTL" copy-from "$m" /root/tree "$dir/back-$m"
        for e in "${entries[@]}"; do
                is "$(stat_host "$dir/back-$m/$e")" "$(stat_host "$src/tree/$e")" "$m: copy-from the tree: $e as it was"
        done
        ok "$m: ...and the same contents" diff -r "$src/tree" "$dir/back-$m"
        # A file the machine made, with its own owner.
        sh_ "$m" -- sh -c 'echo made-inside >/root/made && chown 5:6 /root/made && chmod 0604 /root/made'
        "$BOXCTL" copy-from "$m" /root/made "$dir/made-$m"
        is "$(stat -c '%u:%g %a' "$dir/made-$m")" "5:6 604" "$m: copy-from a file the machine made: its owner inside"
        is "$(cat "$dir/made-$m")" made-inside "$m: ...and its content"
done

# Under -U the host sees the shifted owners, the machine the original ones.
is "$(stat -c '%u:%g' /proc/"$uleader"/root/root/file)" "$((ushift + 1234)):$((ushift + 2345))" \
        "ubb: the host sees the copied file's owner shifted by $ushift"
is "$(stat_in ubb /root/file)" "1234:2345 640 1000000000" "ubb: ...the machine its own"

# Defaults: without a destination, the same path on the other side.
sh_ bb -- mkdir -p "$dir/same"
mkdir -p "$dir/same"
cp "$src/file" "$dir/same/to"
"$BOXCTL" copy-to bb "$dir/same/to"
is "$(sh_ bb -- cat "$dir/same/to")" "file-content" "copy-to without MACHINE-PATH: the host's path"
sh_ bb -- sh -c "echo from-guest >$dir/same/from"
"$BOXCTL" copy-from bb "$dir/same/from"
is "$(cat "$dir/same/from")" from-guest "copy-from without HOST-PATH: the machine's path"
( cd "$src" && "$BOXCTL" copy-to bb file /root/relative )
is "$(sh_ bb -- cat /root/relative)" "file-content" "a relative host path is taken from the current directory"

# --force: replaces whole, a file and a tree.
printf 'new-content\n' >"$dir/newfile"
fails_with "copy-to onto an existing file without --force" "destination /root/file exists in machine bb (--force replaces it)" \
        "$BOXCTL" copy-to bb "$dir/newfile" /root/file
is "$(sh_ bb -- cat /root/file)" "file-content" "...the file is unchanged"
"$BOXCTL" copy-to --force bb "$dir/newfile" /root/file
is "$(sh_ bb -- cat /root/file)" "new-content" "copy-to --force replaces a file"
sh_ bb -- touch /root/tree/only-in-old
"$BOXCTL" copy-to bb "$src/tree" /root/tree --force
ok "copy-to --force replaces a tree whole (nothing of the old one stays)" \
        bash -c "! $(printf %q "$BOXCTL") shell bb -- test -e /root/tree/only-in-old"
ok "...and leaves no temporary" no_temporaries bb /root
fails_with "copy-from onto an existing host file without --force" "destination $dir/made-bb exists on the host" \
        "$BOXCTL" copy-from bb /root/file "$dir/made-bb"
is "$(cat "$dir/made-bb")" made-inside "...the host's file is unchanged"
"$BOXCTL" copy-from --force bb /root/file "$dir/made-bb"
is "$(cat "$dir/made-bb")" new-content "copy-from --force replaces it"

# A copy that fails half-way leaves nothing: the machine's /dev is a 4 MiB tmpfs.
mkdir "$dir/big"
head -c 3M /dev/zero | tr '\0' x >"$dir/big/1"
cp "$dir/big/1" "$dir/big/2"
fails_with "a copy that runs out of room" "No space left on device" "$BOXCTL" copy-to bb "$dir/big" /dev/big
ok "...leaves nothing of it in the machine" bash -c "! $(printf %q "$BOXCTL") shell bb -- ls -a /dev | grep -q big"

# Symlink escapes: the guest's /x points at /etc. What boxctl reads and writes
# through it is the machine's /etc; the host's /etc is untouched.
etc_hash() { { sha256sum /etc/passwd /etc/group /etc/hostname; ls -a /etc; } | sha256sum; }
before=$(etc_hash)
sh_ bb -- ln -s /etc /x
sh_ bb -- ln -s ../../../../../../etc /root/up
sh_ bb -- sh -c 'cat /etc/passwd >/root/passwd.guest && echo copytest:x:4242:4242::/:/bin/false >>/root/passwd.guest'
"$BOXCTL" copy-from bb /root/passwd.guest "$dir/passwd.new"
"$BOXCTL" copy-to bb "$src/file" /x/boxctl-copy-escape
ok "copy-to through /x -> /etc writes the machine's /etc" sh_ bb -- test -f /etc/boxctl-copy-escape
ok "...not the host's" test ! -e /etc/boxctl-copy-escape
"$BOXCTL" copy-to bb "$src/file" /root/up/boxctl-copy-escape2
ok "copy-to through a relative ../../.. link stays in the machine" sh_ bb -- test -f /etc/boxctl-copy-escape2
ok "...not the host's" test ! -e /etc/boxctl-copy-escape2
"$BOXCTL" copy-to --force bb "$dir/passwd.new" /x/passwd
ok "copy-to --force onto /x/passwd replaces the machine's passwd" sh_ bb -- grep -q copytest /etc/passwd
"$BOXCTL" copy-from bb /x/passwd "$dir/got-passwd"
ok "copy-from /x/passwd reads the machine's passwd" grep -q copytest "$dir/got-passwd"
"$BOXCTL" copy-from bb /root/up/group "$dir/got-group"
is "$(cat "$dir/got-group")" "$(cat "$dir/bb/etc/group")" "copy-from through ../../.. reads the machine's group file"
"$BOXCTL" copy-from bb /x "$dir/got-x"
is "$(readlink "$dir/got-x")" /etc "copy-from /x copies the symlink, not the host's /etc"
sh_ bb -- sh -c 'mkdir /root/lt && ln -s /etc /root/lt/etc'
"$BOXCTL" copy-from bb /root/lt "$dir/got-lt"
ok "...a symlink in a copied tree is never followed" test -L "$dir/got-lt/etc"
fails_with "a path through a magic link in the machine" "/proc/1/root/etc/passwd" \
        "$BOXCTL" copy-from bb /proc/1/root/etc/passwd "$dir/magic"
ok "...copies nothing" test ! -e "$dir/magic"
is "$(etc_hash)" "$before" "the host's /etc is untouched by all of that"

# bind: a host directory into each machine, idmapped under -U.
share=$dir/share-$$
mkdir "$share"
echo shared >"$share/f"
chown 1234:2345 "$share/f"
"$BOXCTL" bind bb "$share" /mnt/share --mkdir
is "$(sh_ bb -- cat /mnt/share/f)" shared "bind --mkdir: the host directory is visible inside"
is "$(sh_ bb -- stat -c %u:%g /mnt/share/f)" "1234:2345" "...with its owners"
sh_ bb -- sh -c 'echo written-inside >/mnt/share/g'
is "$(cat "$share/g")" written-inside "...and what the machine writes shows on the host"
ok "the mount is in the machine's mount namespace" grep -q "share-$$" /proc/"$(machine_leader bb)"/mountinfo
ok "...not the host's" bash -c "! grep -q 'share-$$' /proc/self/mountinfo"
"$BOXCTL" bind ubb "$share" /mnt/share --mkdir
is "$(sh_ ubb -- stat -c %u:%g /mnt/share/f)" "1234:2345" "bind under -U is idmapped: host owners show as the same UIDs inside"
is "$(stat -c %u:%g /proc/"$uleader"/root/mnt/share)" "$ushift:$ushift" "...and --mkdir made its mount point as the machine's root"
sh_ ubb -- sh -c 'echo by-ubb-root >/mnt/share/h'
is "$(stat -c %u:%g "$share/h")" "0:0" "...and a file the machine's root writes there is the host's root's"
"$BOXCTL" bind --read-only bb "$share" /mnt/ro --mkdir
ok "bind --read-only: readable" sh_ bb -- test -f /mnt/ro/f
ok "...not writable" bash -c "! $(printf %q "$BOXCTL") shell bb -- sh -c 'echo x >/mnt/ro/x' 2>/dev/null"
echo file-bind >"$dir/single"
sh_ bb -- touch /root/single-target
"$BOXCTL" bind bb "$dir/single" /root/single-target
is "$(sh_ bb -- cat /root/single-target)" file-bind "bind a file onto a file"
sh_ bb -- umount /mnt/share
ok "unmounted inside, it is gone" bash -c "! $(printf %q "$BOXCTL") shell bb -- test -e /mnt/share/f"
ok "bind through /x -> /etc mounts on the machine's /etc, not the host's" \
        bash -c "$(printf %q "$BOXCTL") bind bb $(printf %q "$share") /x/boxctl-bind --mkdir && $(printf %q "$BOXCTL") shell bb -- test -f /etc/boxctl-bind/f && test ! -e /etc/boxctl-bind"

# The stock machinectl, served by boxd. It insists that the host booted with
# systemd; this sandbox has its own /run.
mkdir -p /run/systemd/system
machinectl copy-to bb "$src/file" /root/mc-file
is "$(stat_in bb /root/mc-file)" "1234:2345 640 1000000000" "machinectl copy-to: a file, owner, mode and mtime kept"
fails_with "machinectl copy-to onto an existing file" "exists" machinectl copy-to bb "$dir/newfile" /root/mc-file
machinectl copy-to --force bb "$dir/newfile" /root/mc-file
is "$(sh_ bb -- cat /root/mc-file)" new-content "machinectl copy-to --force replaces it"
machinectl copy-to ubb "$src/tree" /root/mc-tree
is "$(stat_in ubb /root/mc-tree/a)" "42:43 4755 1000000000" "machinectl copy-to into a -U machine: owners as on the host, inside"
machinectl copy-from ubb /root/mc-tree "$dir/mc-back"
is "$(stat_host "$dir/mc-back/sub/b")" "$(stat_host "$src/tree/sub/b")" "machinectl copy-from a -U machine: owners shifted back"
fails_with "machinectl copy-from a missing source" "does not exist in machine ubb" \
        machinectl copy-from ubb /nonexistent "$dir/mc-none"
machinectl bind --mkdir bb "$share" /mnt/mc
is "$(sh_ bb -- cat /mnt/mc/f)" shared "machinectl bind --mkdir: visible inside"
machinectl bind --read-only --mkdir ubb "$share" /mnt/mc-ro
is "$(sh_ ubb -- stat -c %u /mnt/mc-ro/f)" 1234 "machinectl bind --read-only into a -U machine: idmapped"
ok "...read-only" bash -c "! $(printf %q "$BOXCTL") shell ubb -- sh -c 'echo x >/mnt/mc-ro/x' 2>/dev/null"
rm -rf /run/systemd/system

# Bad input: one line each, nothing done.
fails_with "an unknown machine" "machine 'nosuch': no such machine" "$BOXCTL" copy-to nosuch "$src/file" /root/x
fails_with "bind into an unknown machine" "machine 'nosuch': no such machine" "$BOXCTL" bind nosuch "$share" /mnt
fails_with "a missing host source" "source $dir/nonexistent does not exist on the host" \
        "$BOXCTL" copy-to bb "$dir/nonexistent" /root/x
fails_with "a missing machine source" "source /nonexistent does not exist in machine bb" \
        "$BOXCTL" copy-from bb /nonexistent "$dir/x"
fails_with "a destination directory missing" "the directory /no/such of destination /no/such/x does not exist in machine bb" \
        "$BOXCTL" copy-to bb "$src/file" /no/such/x
fails_with "a relative path in the machine" "the path in the machine 'root/x' is not absolute" \
        "$BOXCTL" copy-to bb "$src/file" root/x
fails_with "a relative source in the machine" "the path in the machine 'etc/passwd' is not absolute" \
        "$BOXCTL" copy-from bb etc/passwd "$dir/x"
fails_with "the machine's root as a destination" "destination '/' in machine bb is not an absolute path to a file or directory other than /" \
        "$BOXCTL" copy-to bb "$src/file" /
fails_with "bind onto a file for a directory" "destination /etc/passwd in machine bb is not a directory" \
        "$BOXCTL" bind bb "$share" /etc/passwd
fails_with "bind onto a missing target" "destination /nonexistent does not exist in machine bb (--mkdir makes it)" \
        "$BOXCTL" bind bb "$share" /nonexistent
fails_with "bind of a missing source" "source $dir/nonexistent on the host" "$BOXCTL" bind bb "$dir/nonexistent" /mnt
fails_with "--force for bind" "unknown option '--force'; try 'boxctl bind --help'" "$BOXCTL" bind --force bb "$share" /mnt
fails_with "--mkdir for copy-to" "unknown option '--mkdir'" "$BOXCTL" copy-to --mkdir bb "$src/file" /root/x
fails_with "too few arguments" "copy-from needs NAME, a source" "$BOXCTL" copy-from bb
fails_with "an invalid name" "invalid machine name" "$BOXCTL" copy-to 'a/b' "$src/file" /root/x
fails_with "not root" "only root may reach into machines" \
        setpriv --reuid=65534 --regid=65534 --clear-groups "$BOXCTL" copy-to bb "$src/file" /root/x
ok "no copy was left by any of it" bash -c "! $(printf %q "$BOXCTL") shell bb -- test -e /root/x"

# A machine that has ended is no longer there to copy to.
"$BOXCTL" poweroff ubb
finish_machine ubb
is "$rc" 0 "machine ubb powered off cleanly"
fails_with "copy-to a machine that ended" "machine 'ubb': no such machine" "$BOXCTL" copy-to ubb "$src/file" /root/x

# Done: the binds went with the machines.
"$BOXCTL" poweroff bb
finish_machine bb
is "$rc" 0 "machine bb powered off cleanly"
ok "no process's mount table has the bound directory any more" \
        bash -c "! grep -qs 'share-$$' /proc/[0-9]*/mountinfo"
bus_stop
leaks_check
