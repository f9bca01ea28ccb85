#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The bash completion completes verbs, options, option values and the names
# of running machines.
set -euo pipefail
export LC_ALL=C # the order the expected lists are in
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"

. "$BOXCTL_SRCDIR/shell-completion/bash/boxctl"

complete_words() {
        COMP_WORDS=("$@")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMPREPLY=()
        _boxctl
        printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' '
}

is "$(complete_words boxctl bo)" "boot " "a verb"
# Every verb that "boxctl --help" lists, and nothing else, in both shells.
help_verbs=$("$BOXCTL" --help | sed -n '/^Verbs:/,/^$/p' | grep -oE '^  [a-z][a-z-]*' | tr -d ' ' | sort | tr '\n' ' ')
ok "boxctl --help lists verbs ($help_verbs)" test "$(wc -w <<<"$help_verbs")" -gt 20
is "$(complete_words boxctl "")" "--help --version $help_verbs" "all verbs, as boxctl --help lists them"
zsh_verbs=$(sed -n "/^_boxctl_verbs() {/,/^}/p" "$BOXCTL_SRCDIR/shell-completion/zsh/_boxctl" |
        grep -oE "^ +['\"][a-z][a-z-]*:" | tr -d " '\":" | sort | tr '\n' ' ')
is "$zsh_verbs" "$help_verbs" "zsh: all verbs, as boxctl --help lists them"
is "$(complete_words boxctl boot --con)" "--console " "an option"
is "$(complete_words boxctl boot --console "")" "interactive passive pipe read-only " "console modes"
ok "capabilities" grep -q "CAP_SYS_ADMIN" <<<"$(complete_words boxctl run --capability CAP_SYS_A)"
is "$(complete_words boxctl boot --console = p)" "passive pipe " "a value after '='"
is "$(complete_words boxctl boot --register "")" "auto no yes " "register modes"
is "$(complete_words boxctl start --wai)" "--wait --wait-timeout " "start: --wait options"
is "$(complete_words boxctl start --wait "")" "ready registered " "start: what --wait waits for"
is "$(complete_words boxctl boot --notify)" "--notify-ready " "boot: --notify-ready"
is "$(complete_words boxctl run --notify)" " " "run: no --notify-ready"
is "$(complete_words boxctl stop --)" "--help --kill-timeout " "stop: options"
is "$(complete_words boxctl console --)" "--help --read-only " "console: options"
# The groups come from "boxctl run --system-call-filter=help": stand in for it.
boxctl() {
        [[ $* == "run --system-call-filter=help" ]] || return 1
        printf '%s\n' "@clock           setting the system clock" "    adjtimex clock_adjtime" "@mount           mounting" "    mount"
}
is "$(complete_words boxctl run --system-call-filter "")" "@clock @mount " "system call groups"
is "$(complete_words boxctl run --system-call-filter "~@m")" "~@mount " "system call groups to refuse"
unset -f boxctl

# The verbs about running machines.
is "$(complete_words boxctl list --)" "--all --help --no-legend --output " "list: options"
is "$(complete_words boxctl list -o "")" "json table " "list: output modes"
is "$(complete_words boxctl status --)" "--full --help --output " "status: options"
is "$(complete_words boxctl show --)" "--help --property --value " "show: options"
is "$(complete_words boxctl show -p Lea)" "Leader " "show: property names"
is "$(complete_words boxctl reboot --)" "--help --quiet " "reboot: options"
is "$(complete_words boxctl kill --)" "--help --kill-whom --quiet --signal " "kill: options"
is "$(complete_words boxctl shell --)" "--help --pipe --pty --setenv --uid " "shell: options"
is "$(complete_words boxctl kill --kill-whom "")" "all leader " "kill: whom"
is "$(complete_words boxctl kill --signal SIGUS)" "SIGUSR1 SIGUSR2 " "kill: signals"
ok "kill: real-time signals" grep -q "SIGRTMIN+4" <<<"$(complete_words boxctl kill -s SIGRTMIN)"
# Machine names come from "boxctl list --no-legend": stand in for it.
boxctl() {
        [[ $* == "list --no-legend" ]] || return 1
        printf '%s\n' "bb      container boxctl busybox -  -" "deb     container boxctl debian  12 -"
}
is "$(complete_words boxctl status "")" "bb deb " "status: running machines"
is "$(complete_words boxctl poweroff d)" "deb " "poweroff: a running machine"
is "$(complete_words boxctl kill --signal SIGUSR1 b)" "bb " "kill: a machine after the signal"
is "$(complete_words boxctl show bb "")" "bb deb " "show: more machines"
is "$(complete_words boxctl list "")" " " "list: no machine names"
is "$(complete_words boxctl shell "")" "bb deb " "shell: running machines"
is "$(complete_words boxctl stop d)" "deb " "stop: a running machine"
is "$(complete_words boxctl console --read-only "")" "bb deb " "console: running machines"
is "$(complete_words boxctl shell -u nobody -E A=b d)" "deb " "shell: a machine after options and their values"
is "$(complete_words boxctl shell bb "")" " " "shell: nothing after the machine (the command is the machine's)"
# No registry: "boxctl list" fails, saying so on stderr.
boxctl() { echo "boxctl: no machine registry on the system bus" >&2; return 1; }
is "$(complete_words boxctl status "" 2>&1)" " " "no registry: no names, and nothing on the terminal"
unset -f boxctl

d=$(mktemp -d)
mkdir "$d/tree-a"
is "$(complete_words boxctl boot "$d/tr")" "$d/tree-a " "a tree directory"
mkdir "$d/pool-a"
is "$(BOXCTL_POOL=$d complete_words boxctl start poo)" "pool-a " "start: a tree of the pool (\$BOXCTL_POOL)"
is "$(BOXCTL_POOL=$d complete_words boxctl enable "")" "pool-a tree-a " "enable: the machines of the pool"
is "$(complete_words boxctl enable --)" "--help --quiet " "enable: options"
is "$(complete_words boxctl disable --q)" "--quiet " "disable: options"
is "$(complete_words boxctl boot --memory-m)" "--memory-max " "boot: a limit option"
is "$(complete_words boxctl set-property m1 CPU)" "CPUQuota= CPUQuotaPeriodSec= CPUWeight= " "set-property: the keys"
is "$(complete_words boxctl boot --allowed-)" "--allowed-cpus --allowed-memory-nodes " "boot: the cpuset options"
is "$(complete_words boxctl import-tar --format "")" "bzip2 gzip none uncompressed xz zstd " "import-tar: the formats"
is "$(complete_words boxctl import-raw --)" "--format --help --pool --quiet " "import-raw: options"
is "$(complete_words boxctl export-raw --format "")" "bzip2 gzip none uncompressed xz zstd " "export-raw: the formats"
is "$(complete_words boxctl import-fs --)" "--help --pool --quiet " "import-fs: options"
is "$(complete_words boxctl clone --)" "--help --pool --quiet " "clone: options"
is "$(complete_words boxctl import-fs "$d/tr")" "$d/tree-a " "import-fs: a directory"
: >"$d/disk-a.raw"
is "$(BOXCTL_POOL=$d complete_words boxctl export-raw "")" "disk-a " "export-raw: the pool's disk images"
rm "$d/disk-a.raw"
is "$(complete_words boxctl list-images --n)" "--no-legend " "list-images: options"
is "$(complete_words boxctl pull-tar --)" "--help --pool --quiet --verify " "pull-tar: options"
is "$(complete_words boxctl pull-raw --verify "")" "checksum no signature " "pull-raw: the verifications"
is "$(complete_words boxctl boot --settings "")" "no override trusted yes " "boot: the settings modes"
is "$(complete_words boxctl start --sett)" "--settings " "start: --settings"
is "$(complete_words boxctl login --)" "--help " "login: options"
is "$(complete_words boxctl top --)" "--batch --delay --help --iterations --no-legend --order " "top: options"
is "$(complete_words boxctl top --order "")" "cpu io memory name tasks " "top: the columns"
is "$(complete_words boxctl copy-to --)" "--force --help " "copy-to: options"
is "$(complete_words boxctl bind --)" "--help --mkdir --read-only " "bind: options"
: >"$d/hostfile"
is "$(complete_words boxctl copy-to m1 "$d/hostf")" "$d/hostfile " "copy-to: a host path after the machine"
is "$(complete_words boxctl copy-to m1 "$d/hostfile" "$d/h")" " " "copy-to: not the host's files for the machine's path"
is "$(complete_words boxctl copy-from m1 /etc/x "$d/hostf")" "$d/hostfile " "copy-from: a host path last"
rm "$d/hostfile"
mkdir -p "$d/config/enabled"
: >"$d/config/enabled/en-a"
: >"$d/config/enabled/en-b"
is "$(BOXCTL_CONFIG_DIR=$d/config complete_words boxctl disable "")" "en-a en-b " "disable: the enabled machines (\$BOXCTL_CONFIG_DIR)"
is "$(BOXCTL_CONFIG_DIR=$d/config complete_words boxctl disable en-a "")" "en-a en-b " "disable: more than one"
rm -r "$d/config"
rmdir "$d/tree-a" "$d/pool-a" "$d"
if command -v zsh >/dev/null; then
        check "the zsh completion parses" zsh -n "$BOXCTL_SRCDIR/shell-completion/zsh/_boxctl"
fi
