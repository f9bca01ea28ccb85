#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Every bad input gets one line on stderr that names the object and the
# reason, a non-zero exit, and leaves the tree exactly as it was.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

work=$(test_tmpdir)
tree=$work/tree
cp -a "$(fixture_busybox)" "$tree"
mkdir -p "$work/empty" "$work/noinit/etc"
echo "ID=test" >"$work/noinit/etc/os-release"
cp -a "$tree" "$work/___"
echo "not a tree" >"$work/file"
ln -s /nowhere/at/all "$tree/dangling"

snapshot_all() { for t in "$tree" "$work/noinit" "$work/empty"; do tree_snapshot "$t"; done; }
snapshot_all >"$_sb_state/before"

# bad DESC PATTERN ARGS...: boxctl ARGS fails with one stderr line matching PATTERN.
bad() {
        local desc=$1 pattern=$2 rc=0 lines
        shift 2
        "$BOXCTL" "$@" >"$_sb_state/out" 2>"$_sb_state/err" </dev/null || rc=$?
        lines=$(wc -l <"$_sb_state/err")
        if ((rc != 0)) && [[ $lines == 1 && ! -s $_sb_state/out ]] && grep -qE -- "$pattern" "$_sb_state/err"; then
                pass "$desc: $(cat "$_sb_state/err")"
        else
                fail "$desc (exit $rc, $lines lines on stderr)" || true
                diag "stderr: $(cat "$_sb_state/err")"
                diag "stdout: $(cat "$_sb_state/out")"
                diag "wanted one line matching: $pattern"
        fi
}

bad "no verb" "no verb given"
bad "unknown verb" "unknown verb 'frobnicate'" frobnicate
bad "no tree" "no OS tree given" boot
bad "missing path" "$work/missing: No such file or directory" boot "$work/missing"
bad "a file where a tree is expected" "image $work/file: not a disk image: expected a GPT or MBR partition table .* found a text file" boot "$work/file"
bad "no os-release" "$work/empty: no os-release found" boot "$work/empty"
bad "no init" "$work/noinit: no init found \(looked for /usr/lib/systemd/systemd, /lib/systemd/systemd, /sbin/init\)" boot "$work/noinit"
bad "the host's root" "/: refusing to boot the host's own root" run / -- true
bad "run without a command" "no command given" run "$tree"
bad "invalid name" "invalid machine name 'bad name'" boot "$tree" -M "bad name"
bad "name with an underscore" "invalid machine name 'a_b'" boot "$tree" --name=a_b
bad "name of 65 characters" "invalid machine name '$(printf 'a%.0s' {1..65})'" boot "$tree" -M "$(printf 'a%.0s' {1..65})"
bad "name starting with a hyphen" "invalid machine name '-x'" boot "$tree" --machine=-x
bad "directory name with no usable character" "$work/___: cannot make a machine name .*--machine=NAME" boot "$work/___"
bad "invalid hostname" "invalid hostname 'a..b'" boot "$tree" --hostname=a..b
bad "--bind source missing" "--bind source $work/nope: No such file or directory" boot "$tree" --bind="$work/nope:/mnt"
bad "--bind with a relative destination" "invalid --bind '/etc:mnt'" boot "$tree" --bind=/etc:mnt
bad "--bind with an unknown flag" "invalid --bind '/etc:/mnt:rx'" boot "$tree" --bind=/etc:/mnt:rx
bad "--bind onto /proc" "--bind destination /proc: reserved" boot "$tree" --bind=/etc:/proc
bad "--bind of a device" "--bind source /dev/null: only directories and regular files" boot "$tree" --bind=/dev/null:/x
bad "two binds on one place" "conflicting options: two --bind mounts on /mnt" boot "$tree" --bind=/etc:/mnt --bind-ro=/var:/mnt
bad "--bind and --tmpfs on one place" "conflicting options: --bind and --tmpfs both on /mnt" boot "$tree" --bind=/etc:/mnt --tmpfs=/mnt
bad "--tmpfs on /dev" "--tmpfs destination /dev: reserved" boot "$tree" --tmpfs=/dev
bad "--tmpfs relative" "invalid --tmpfs 'tmp'" boot "$tree" --tmpfs=tmp
bad "--bind through a dangling symlink" "$tree: cannot create mount point /dangling/x" run "$tree" --bind=/etc:/dangling/x -- true
bad "keep and drop one capability" "conflicting options: cap_sys_admin both kept" boot "$tree" --capability=CAP_SYS_ADMIN --drop-capability=sys_admin
bad "unknown capability" "unknown capability 'CAP_FLY'" boot "$tree" --capability=CAP_FLY
bad "unknown console mode" "invalid --console mode 'autopipe'" boot "$tree" --console=autopipe
bad "bad kill timeout" "invalid --kill-timeout 'soon'" boot "$tree" --kill-timeout=soon
bad "bad machine id" "invalid machine id 'xyz'" boot "$tree" --machine-id=xyz
bad "all-zero machine id" "invalid machine id '0{32}'" boot "$tree" --machine-id=00000000000000000000000000000000
if [[ -s /etc/machine-id ]]; then
        bad "the host's machine id" "$tree: its machine id is the host's own" run "$tree" --machine-id="$(cat /etc/machine-id)" -- true
fi
bad "--setenv without =" "invalid --setenv 'FOO'" boot "$tree" -E FOO
bad "unknown option" "unknown option '--frobnicate'" boot "$tree" --frobnicate
bad "option without its value" "option '--console' needs a value" boot "$tree" --console

# The pool verbs that need libarchive or libcurl run in boxctl-image; boxctl
# itself loads neither (nor their fifty-odd dependencies) when it starts.
BOXCTL_IMAGE_HELPER=$work/no-such-helper bad "a pool verb without its helper" \
        "import-tar: cannot run $work/no-such-helper, which does it: No such file or directory" import-tar "$work/file" x
libs=$(ldd "$BOXCTL")
ok "boxctl links neither libarchive nor libcurl ($(wc -l <<<"$libs") libraries)" \
        bash -c '! grep -qE "lib(archive|curl|crypto|xml2)\.so" <<<"$1"' _ "$libs"
ok "...boxctl-image does" grep -q "libarchive.so" <<<"$(ldd "$(dirname "$BOXCTL")/boxctl-image")"

snapshot_all >"$_sb_state/after"
check "no tree was changed by any of it" diff "$_sb_state/before" "$_sb_state/after"

out=$("$BOXCTL" boot --help)
ok "boot --help says how to use it" grep -q "Usage: boxctl boot PATH" <<<"$out"
ok "run --help says how to use it" grep -q "Usage: boxctl run PATH" <<<"$("$BOXCTL" run --help)"
ok "--version prints the version" grep -qE "^boxctl [0-9]" <<<"$("$BOXCTL" --version)"
ok "help lists the verbs" grep -q "boot" <<<"$("$BOXCTL" help)"

leaks_check
