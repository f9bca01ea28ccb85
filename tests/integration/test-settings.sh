#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Settings files, NAME.box (settings-file.h): a file beside the image in the
# pool gives environment, hostname, parameters, a user namespace, read-only
# and limits; the command line wins over it (and the file over it with
# --settings=override; --settings=no reads none). Its Bind= is ignored with
# one warning, as it is not trusted, while the same file in /run/boxctl or in
# /etc/boxctl (an overlay on /etc in a mount namespace of its own: the real
# /etc is never written) is honoured, and wins over the one in the pool.
# start, and boxd's start of an enabled machine, read it too (the limits in
# "boxctl status"). A bad file fails with one line naming FILE:LINE.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

pool=$(realpath "$(test_tmpdir)")
config=$(realpath "$(test_tmpdir)")
export BOXCTL_POOL=$pool BOXCTL_CONFIG_DIR=$config
bus_start
boxd_start

cp -a "$(fixture_busybox)" "$pool/sb"
share=$(realpath "$(test_tmpdir)")
echo shared >"$share/marker"
box=$pool/sb.box
brun() { "$BOXCTL" run --register=no "$@"; }
# stderr_of CMD...: CMD's stderr (its stdout dropped); fails when CMD does.
stderr_of() { "$@" 2>&1 >/dev/null; }
sees_share() { brun "$@" sb -- sh -c 'cat /mnt/share/marker 2>/dev/null || echo none'; }
cleanup_push stop_all

# --- keys that narrow the machine, from the (untrusted) pool ---
cat >"$box" <<'EOF'
# a comment
[Exec]
Environment=FROM_FILE=pool
Environment=SECOND=2
Hostname=from-file
Parameters=sh -c 'echo "$FROM_FILE $SECOND $(hostname)"'
EOF
is "$(brun sb 2>&1)" "pool 2 from-file" "run NAME: Environment=, Hostname= and Parameters= from POOL/NAME.box"
is "$(brun -E FROM_FILE=cli --hostname=cli-host sb -- sh -c 'echo "$FROM_FILE ${SECOND:-unset} $(hostname)"')" \
        "cli unset cli-host" "the command line wins: --setenv replaces every Environment=, --hostname and the command theirs"
is "$(brun --settings=override -E FROM_FILE=cli sb -- echo from-cli)" "pool 2 from-file" \
        "--settings=override: the file wins over the command line, its Parameters= too"
is "$(brun --settings=no sb -- sh -c 'echo "${FROM_FILE:-unset} $(hostname)"')" "unset sb" "--settings=no: no file is read"
is "$(brun -M other sb -- sh -c 'echo "${FROM_FILE:-unset}"')" "unset" "the file is the machine's: -M other reads other.box"
outside=$(realpath "$(test_tmpdir)")
cp -a "$(fixture_busybox)" "$outside/tree"
printf '[Exec]\nEnvironment=FROM_FILE=beside\n' >"$outside/tree.box"
is "$(brun "$outside/tree" -- sh -c 'echo "$FROM_FILE"')" "beside" "a tree given by its path: the directory that holds it holds NAME.box"

cat >"$box" <<'EOF'
[Exec]
PrivateUsers=pick
[Files]
ReadOnly=yes
EOF
map=$(brun sb -- cat /proc/self/uid_map | awk '{ print $1, $3 }')
base=$(brun sb -- cat /proc/self/uid_map | awk '{ print $2 }')
ok "PrivateUsers=pick: root inside is UID $base outside, 65536 of them ($map)" \
        bash -c '[[ $1 == "0 65536" && $2 -ge 524288 ]]' _ "$map" "$base"
is "$(brun --private-users=no sb -- cat /proc/self/uid_map | awk '{ print $1, $2 }')" "0 0" \
        "--private-users=no on the command line wins over PrivateUsers="
check_fails "ReadOnly=yes: the tree is read-only" brun sb -- touch /file-from-machine
ok "...and nothing was written" test ! -e "$pool/sb/file-from-machine"

# --- Bind= beside the image: ignored with one warning; trusted places honour it ---
printf '[Files]\nBind=%s:/mnt/share\nBindReadOnly=/etc\n[Exec]\nEnvironment=X=1\n' "$share" >"$box"
err=$(stderr_of brun sb -- true)
ok "an untrusted Bind= is ignored with one warning line: $err" \
        bash -c '[[ $1 == *"$2: ignoring Bind=, BindReadOnly=: a settings file beside the image may not widen"* && $1 != *$'"'"'\n'"'"'* ]]' _ "$err" "$box"
is "$(sees_share)" "none" "...and the machine does not see the bind"
is "$(sees_share --settings=trusted 2>&1)" "shared" "--settings=trusted: the pool's file is honoured whole, without a warning"

mkdir -p /run/boxctl
cleanup_push rm -f /run/boxctl/sb.box
printf '[Files]\nBind=%s:/mnt/share\n' "$share" >/run/boxctl/sb.box
is "$(sees_share 2>&1)" "shared" "/run/boxctl/NAME.box is trusted: its Bind= is honoured, without a warning"
is "$(brun sb -- sh -c 'echo "${X:-unset}"' 2>&1)" "unset" "...and the pool's file is not read then"
rm /run/boxctl/sb.box

# /etc/boxctl: an overlay on /etc, in a mount namespace that ends with the command.
etc_run() {
        unshare --mount --propagation private -- bash -c '
                set -e
                mount -t tmpfs tmpfs "$1"
                mkdir "$1/u" "$1/w"
                mount -t overlay overlay -o "lowerdir=/etc,upperdir=$1/u,workdir=$1/w" /etc
                mkdir -p /etc/boxctl
                printf "[Files]\nBind=%s:/mnt/share\n[Exec]\nEnvironment=X=etc\n" "$2" >/etc/boxctl/sb.box
                shift 2
                BOXCTL_CONFIG_DIR= "$@"' _ "$(test_tmpdir)" "$share" "$@"
}
is "$(etc_run "$BOXCTL" run --register=no sb -- sh -c 'cat /mnt/share/marker; echo "$X"' 2>&1)" "shared
etc" "/etc/boxctl/NAME.box is trusted: its Bind= and Environment= are honoured, without a warning"
ok "...the real /etc is untouched" test ! -e /etc/boxctl/sb.box

# --- unknown sections and keys: a warning each, and the machine runs ---
printf '[Exec]\nEnvironment=A=1\nFrobnicate=yes\n[Future]\nKey=1\n' >"$box"
err=$(stderr_of brun sb -- true) && rc=0 || rc=$?
is "$rc" 0 "unknown keys and sections do not stop the machine"
is "$err" "boxctl: $box:3: unknown key Frobnicate= in [Exec], ignored
boxctl: $box:4: unknown section [Future], ignored" "...a warning line each, naming FILE:LINE"

# --- bad files: one line naming FILE:LINE and the key; nothing runs ---
printf '[Files]\nBind=relative/path\n' >"$box"
fails_with "a relative Bind= (checked though not trusted)" \
        "$box:2: invalid Bind= 'relative/path': the source must be an absolute path" brun sb -- true
printf '[Exec]\n# fine\n[ResourceLimits]\nMemoryMax=lots\n' >"$box"
fails_with "a bad MemoryMax=" "$box:4: invalid MemoryMax= 'lots': use bytes" brun sb -- true
fails_with "...and start fails the same way" "$box:4: invalid MemoryMax= 'lots'" "$BOXCTL" start sb
ok "...leaving nothing running" bash -c '! "$1" list --no-legend | grep -q "^sb "' _ "$BOXCTL"
printf '[Exec]\nthis is not an assignment\n' >"$box"
fails_with "a line that is no assignment" "$box:2: expected KEY=VALUE or [SECTION], found 'this is not an assignment'" brun sb -- true
printf '[Exec\n' >"$box"
fails_with "a section without its ]" "$box:1: a section header without its ']'" brun sb -- true
printf '[Exec]\nBoot=\x00\n' >"$box"
fails_with "a NUL byte" "$box:2: a NUL byte; not a text file" brun sb -- true
rm "$box"
ln -s /etc/passwd "$box"
fails_with "a symlink beside the image" "$box: a symlink; a settings file beside the image must be a regular file" brun sb -- true
rm "$box"
fails_with "--settings=bogus" "invalid --settings 'bogus': use yes, no, trusted or override" brun --settings=bogus sb -- true

# --- start, and boxd's start of an enabled machine, read it ---
printf '[ResourceLimits]\nTasksMax=33\nMemoryMax=48M\n[Exec]\nEnvironment=FROM_FILE=start\n' >"$box"
check "start NAME" "$BOXCTL" start sb
out=$("$BOXCTL" status sb)
ok "start NAME: TasksMax= is the machine's limit" grep -qE '^ +Tasks: [0-9]+ \(limit: 33\)$' <<<"$out"
ok "...and MemoryMax=" grep -qE '^ +Memory: .*max: 48.0M\)$' <<<"$out"
check "stop" "$BOXCTL" stop sb
check "start NAME --pids-max=44" "$BOXCTL" start sb --pids-max=44
out=$("$BOXCTL" status sb)
ok "...the option wins over TasksMax=" grep -qE '^ +Tasks: [0-9]+ \(limit: 44\)$' <<<"$out"
ok "...and MemoryMax= still applies" grep -qE '^ +Memory: .*max: 48.0M\)$' <<<"$out"
check "stop" "$BOXCTL" stop sb

check "enable sb" "$BOXCTL" enable -q sb
boxd_stop
BOXCTL_BINARY=$BOXCTL boxd_start
check "boxd starts the enabled machine" wait_for 60 bash -c '"$1" list --no-legend | grep -q "^sb "' _ "$BOXCTL"
ok "...with the limits of its settings file" bash -c '"$1" status sb | grep -qE "^ +Tasks: [0-9]+ \(limit: 33\)$"' _ "$BOXCTL"
check "stop" "$BOXCTL" stop sb
check "disable sb" "$BOXCTL" disable -q sb

bus_stop
leaks_check
