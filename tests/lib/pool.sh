# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# Helpers for the tests of the image pool (test-pool.sh, test-pool-raw.sh).
# Source it after common.sh (fails_with is there); $pool is the pool under
# test.

# nothing_hidden: the pool holds no ".#" entries (half-made images).
nothing_hidden() { [[ -z $(find "$pool" -mindepth 1 -maxdepth 1 -name '.#*' -print -quit) ]]; }

# names: the pool's images, by name, on one line.
names() { "$BOXCTL" list-images --no-legend | awk '{print $1}' | paste -sd' '; }

# meta DIR: every path's type, mode, owner, size, mtime, link target, link
# count and inode group (hard links), xattrs (with ACLs and capabilities),
# sorted: what a copy must keep.
meta() {
        # (A directory's size is the file system's business, not content.)
        (cd "$1" && find . \( -type d -printf '%P\t%y\t%#m\t%U:%G\t-\t%T@\t%l\t%n\n' \) -o \
                -printf '%P\t%y\t%#m\t%U:%G\t%s\t%T@\t%l\t%n\n' | LC_ALL=C sort &&
                find . \( -type c -o -type b \) -exec stat -c '%n %F %t:%T' {} + | LC_ALL=C sort &&
                getfattr -R -h -d -m - --absolute-names . 2>/dev/null | grep -v '^$' &&
                find . -type f -links +1 -printf '%i %P\n' | LC_ALL=C sort |
                awk '{ if ($1 == prev) print first " = " $2; else { prev = $1; first = $2 } }' | LC_ALL=C sort)
}

# progress_re WHAT: a progress line of WHAT with its total known (bytes of
# the total, the share, the rate, the time left); progress_re_bare WHAT:
# with none (bytes and rate).
progress_re() { printf '%s: [0-9.]+[BKMG] of [0-9.]+[BKMG] \\([0-9]+%%\\), [0-9.]+[BKMG]/s, [0-9]+:[0-9]{2} left' "$1"; }
progress_re_bare() { printf '%s: [0-9.]+[BKMG], [0-9.]+[BKMG]/s' "$1"; }
