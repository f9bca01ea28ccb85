#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# "boxctl boot" of a Debian 12 tree with systemd: it reaches multi-user.target
# with no failed unit, powers off cleanly on SIGTERM and on "systemctl
# poweroff", reboots, and a person can log in on its console.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

# Booting writes into a tree (journal, machine id): boot a copy, so the cached
# fixture stays pristine and /etc/machine-id starts empty every time.
tree=$(test_tmpdir)/debian
cp -a "$(fixture_debian)" "$tree"
console=$_sb_state/console-boot

guest() { guest_exec deb "$@"; }
# Waits for the boot to finish; prints what systemd says of the system.
system_state() {
        # systemctl needs the manager's socket, made early in the boot.
        wait_for 30 guest test -S /run/systemd/private >/dev/null 2>&1 || true
        guest timeout 60 systemctl is-system-running --wait 2>&1 || true
}

boot_bg "$tree" -M deb
state=$(system_state)
is "$state" "running" "Debian boots to a running system (no failed unit)"
if [[ $state != running ]]; then
        diag "$(guest systemctl --failed --no-pager 2>&1 || true)"
fi
check "multi-user.target is active" guest systemctl is-active multi-user.target
is "$(guest cat /proc/1/comm)" "systemd" "systemd is PID 1"
is "$(guest systemd-detect-virt --container || true)" "container-other" "systemd knows it is in a container"
uuid=$(tr '\0' '\n' </proc/"$(machine_leader deb)"/environ | sed -n 's/^container_uuid=//p')
is "$(guest cat /etc/machine-id)" "${uuid//-/}" "the machine id systemd uses is the one boxctl reports"
is "$(guest stat -f -c %T /sys/fs/cgroup)" "cgroup2fs" "the guest sees a pure cgroup2 hierarchy"
check "systemd manages its own cgroup subtree" test -d "$(machine_scope_dirs deb | head -n 1)/init.scope"
is "$(guest hostname)" "deb" "the hostname is the machine name"
ok "the console shows the boot" grep -q "Welcome to" "$console"
kill -TERM "$pid"
finish
is "$rc" 0 "SIGTERM powers it off cleanly, exit 0"
ok "systemd went through its shutdown" grep -q "Powering off" "$console"
leaks_check "nothing left after a power-off by SIGTERM"

boot_bg "$tree" -M deb
is "$(system_state)" "running" "boots again"
guest systemctl poweroff || true
finish
is "$rc" 0 "'systemctl poweroff' inside ends it with exit 0"

boot_bg "$tree" -M deb
is "$(system_state)" "running" "boots again"
first=$(machine_leader deb)
guest systemctl reboot || true
rebooted() { local l; l=$(machine_leader deb 2>/dev/null) && [[ $l != "$first" ]]; }
check "'systemctl reboot' boots it again" wait_for 30 rebooted
is "$(system_state)" "running" "...to a running system"
kill -TERM "$pid"
finish
is "$rc" 0 "and it powers off with exit 0"

# A person at the console: root logs in (no password in the test tree),
# runs a command, and powers off from the shell.
rc=0
python3 "$BOXCTL_SRCDIR/tests/lib/pty-drive.py" --log "$console" timeout:90 \
        'expect:login: ' 'send:root\r' 'expect:# ' 'send:echo "sum=$((40+2))"\r' 'expect:sum=42' \
        'send:systemctl poweroff\r' -- "$BOXCTL" boot "$tree" -M deb || rc=$?
is "$rc" 0 "root logs in on the console, runs a command and powers off (exit 0)"
if ((rc != 0)); then diag "$(tail -c 2000 "$console")"; fi

leaks_check
