#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# "boxctl boot" of a Debian tree with sysvinit. sysvinit has no signal for
# "power off" (systemd's SIGRTMIN+4 means nothing to it), so boxctl asks it
# with a runlevel request on /run/initctl.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

tree=$(test_tmpdir)/sysvinit
cp -a "$("$BOXCTL_SRCDIR/tests/fixtures/make-sysvinit-tree.sh")" "$tree"
console=$_sb_state/console-boot

boot_bg "$tree" -M sv --kill-timeout=60
check "sysvinit reaches runlevel 2" wait_for 30 grep -q boxctl-sysvinit-up "$console"
is "$(guest_exec sv cat /proc/1/comm)" "init" "sysvinit is PID 1"
check "its control fifo exists" guest_exec sv test -p /run/initctl
kill -TERM "$pid"
finish
is "$rc" 0 "SIGTERM powers it off through /run/initctl, exit 0"
ok "it ran its runlevel-0 scripts" grep -q "Will now halt" "$console"
ok "it was not killed by the timeout" bash -c "! grep -q 'kill timeout' '$console'"

boot_bg "$tree" -M sv --no-reboot
check "boots again" wait_for 30 grep -q boxctl-sysvinit-up "$console"
guest_exec sv /sbin/reboot >/dev/null 2>&1 || true
finish
is "$rc" 0 "reboot inside, with --no-reboot, ends boxctl with exit 0"
ok "...saying it rebooted" grep -q "rebooted; not starting it again" "$console"

leaks_check
