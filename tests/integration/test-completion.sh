#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The bash completion completes verbs, options and option values.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"

. "$BOXCTL_SRCDIR/shell-completion/bash/boxctl"

complete_words() {
        COMP_WORDS=("$@")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMPREPLY=()
        _boxctl
        printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' '
}

is "$(complete_words boxctl b)" "boot " "a verb"
is "$(complete_words boxctl "")" "--help --version boot help run version " "all verbs"
is "$(complete_words boxctl boot --con)" "--console " "an option"
is "$(complete_words boxctl boot --console "")" "interactive passive pipe read-only " "console modes"
ok "capabilities" grep -q "CAP_SYS_ADMIN" <<<"$(complete_words boxctl run --capability CAP_SYS_A)"
d=$(mktemp -d)
mkdir "$d/tree-a"
is "$(complete_words boxctl boot "$d/tr")" "$d/tree-a " "a tree directory"
rmdir "$d/tree-a" "$d"
if command -v zsh >/dev/null; then
        check "the zsh completion parses" zsh -n "$BOXCTL_SRCDIR/shell-completion/zsh/_boxctl"
fi
