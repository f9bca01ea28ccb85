#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Quick start, as root on Debian 12: install what boxctl needs, build it,
# make a Debian 12 tree (cached after the first time) and boot it on this
# terminal. Log in as root, no password; "poweroff" ends it, as does pressing
# Ctrl-] three times within a second.
#
# The tree the machine boots is a copy, $BOXCTL_DEMO_TREE (default
# /var/lib/machines/boxctl-demo), made once from the cached pristine tree, so
# what you change in the machine is still there next time. Remove the
# directory to start afresh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ((EUID != 0)); then
        echo "demo.sh: run this as root (boxctl makes namespaces, mounts and cgroups)" >&2
        exit 1
fi

tools/install-deps.sh
if [[ ! -f build/build.ninja ]]; then
        meson setup build
fi
meson compile -C build

pristine=$(tests/fixtures/make-debian-tree.sh)
demo=${BOXCTL_DEMO_TREE:-/var/lib/machines/boxctl-demo}
if [[ ! -d $demo ]]; then
        echo "demo.sh: copying $pristine to $demo"
        mkdir -p "$(dirname "$demo")"
        rm -rf "$demo.tmp"
        cp -a "$pristine" "$demo.tmp"
        mv "$demo.tmp" "$demo"
fi

echo "demo.sh: booting $demo. Log in as root (no password); 'poweroff' or Ctrl-] x3 ends it."
exec build/src/boxctl/boxctl boot "$demo"
