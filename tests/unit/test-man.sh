#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The man pages cover the binaries: every verb and every option that
# "boxctl --help", "boxctl VERB --help", "boxd --help" and "boxctl-oci --help"
# print, every option of the binaries' getopt tables (some verbs, such as
# boxctl-oci's, have no --help of their own) and every set-property key
# appear in the built page; and man renders each page without a warning.
#
# Environment (set by tests/unit/meson.build): BOXCTL, BOXD, BOXCTL_OCI (the
# built binaries), BOXCTL_SRCDIR, BOXCTL_MAN_DIR (where the pages were built;
# empty when meson did not find scdoc).
set -euo pipefail

: "${BOXCTL:?}" "${BOXD:?}" "${BOXCTL_OCI:?}" "${BOXCTL_SRCDIR:?}"
man_dir=${BOXCTL_MAN_DIR:-}

n=0
failed=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }

if ! command -v man >/dev/null; then
        echo "1..0 # SKIP man (man-db) is not installed: tools/install-deps.sh installs it"
        exit 0
fi
if [[ -z $man_dir ]]; then
        echo "1..0 # SKIP the man pages were not built: scdoc was not found when meson configured (tools/install-deps.sh installs it)"
        exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The page as a reader sees it: one long line a paragraph (nothing is broken
# or hyphenated inside an option's name), plain ASCII.
render() {
        LC_ALL=C MANWIDTH=2000 man -l "$1" 2>/dev/null | sed "s/.\x08//g"
}

# The words of a rendered page, each a key of the array words_PAGE: runs of
# letters, digits, '_' and '-', so "--bind" is not found in "--bind-ro", nor
# "-M" in "-MX"; and its entries' labels (tagged paragraphs: "       VERB ...").
# A page is scanned once: forks are dear on a loaded CI host.
declare -A words labels
load_page() {
        local t
        words=() labels=()
        while read -r t; do words[$t]=1; done < <(grep -oE -- '[A-Za-z0-9_-]+' "$1" | sort -u)
        while read -r t; do labels[$t]=1; done < <(grep -oE -- '^       [a-z][a-z0-9-]*' "$1" | tr -d ' ' | sort -u)
}

# The long options, short options and set-property keys in a help text.
long_options() { grep -oE -- '--[a-z][a-z0-9-]*' "$1" | sort -u; }
short_options() { grep -oE -- '^ +-[A-Za-z]([ ,]|$)' "$1" | grep -oE -- '-[A-Za-z]' | sort -u; }
# The verbs of a "Verbs:" block: its lines "  NAME  summary", up to a blank line.
verbs_of() { sed -n '/^Verbs:/,/^$/p' "$1" | grep -oE '^  [a-z][a-z-]*' | tr -d ' ' | sort -u; }
# The long options of the getopt tables in C files: { "name", ..._argument, ...
table_options() { grep -hoE '\{ *"[a-z][a-z0-9-]*", *(no|required|optional)_argument' "$@" | cut -d'"' -f2 | sed 's/^/--/' | sort -u; }

# check_covered WHAT WORD...: one test for all WORDs of WHAT in the loaded page.
check_covered() {
        local what=$1 missing=()
        shift
        for w in "$@"; do
                [[ -n ${words[$w]:-} ]] || missing+=("$w")
        done
        if (( ${#missing[@]} == 0 )); then
                pass "$what: all $# in the page"
        else
                fail "$what: not in the page: ${missing[*]}" "add them to docs/man/ (the .scd source of the page)"
        fi
}

# check_verbs WHAT VERB...: each verb heads an entry of its own (a tagged
# paragraph: "       VERB ARGS..." at the entries' indent) in the loaded page,
# not only a word somewhere in the text.
check_verbs() {
        local what=$1 missing=()
        shift
        for v in "$@"; do
                [[ -n ${labels[$v]:-} ]] || missing+=("$v")
        done
        if (( ${#missing[@]} == 0 )); then
                pass "$what: each of the $# verbs has an entry"
        else
                fail "$what: no entry for the verbs: ${missing[*]}" "add them to docs/man/ (the .scd source of the page)"
        fi
}

# check_renders PAGE: man renders it, and groff warns about nothing
# (undefined macros, bad escapes, characters it cannot show).
check_renders() {
        local page=$1 err=$tmp/warnings
        if LC_ALL=C man --warnings=w -l "$page" >/dev/null 2>"$err" && [[ ! -s $err ]]; then
                pass "$(basename "$page"): man --warnings renders it without a warning"
        else
                mapfile -t lines <"$err"
                fail "$(basename "$page"): man --warnings complained" "${lines[@]}"
        fi
}

for page in boxctl.1 boxd.8 boxctl-oci.8; do
        if [[ -s $man_dir/$page ]]; then
                pass "$page was built"
        else
                fail "$page was built" "no $man_dir/$page"
                continue
        fi
        check_renders "$man_dir/$page"
        render "$man_dir/$page" >"$tmp/$page.txt"
        grep -q '^NAME' "$tmp/$page.txt" && grep -q '^SYNOPSIS' "$tmp/$page.txt" && grep -q '^SEE ALSO' "$tmp/$page.txt" &&
                grep -q '^EXIT STATUS' "$tmp/$page.txt" && grep -q '^ENVIRONMENT' "$tmp/$page.txt" &&
                grep -q '^FILES' "$tmp/$page.txt" && grep -q '^EXAMPLES' "$tmp/$page.txt" &&
                pass "$page has NAME, SYNOPSIS, EXIT STATUS, ENVIRONMENT, FILES, EXAMPLES and SEE ALSO" ||
                fail "$page has NAME, SYNOPSIS, EXIT STATUS, ENVIRONMENT, FILES, EXAMPLES and SEE ALSO"
done

# ---- boxctl.box(5): every section and key of the settings file parser ----
page=$man_dir/boxctl.box.5
if [[ -s $page ]]; then
        pass "boxctl.box.5 was built"
        check_renders "$page"
        render "$page" >"$tmp/boxctl.box.5.txt"
        load_page "$tmp/boxctl.box.5.txt"
        # The parser's table: { "SECTION", "KEY", ...
        mapfile -t keys < <(grep -oE '^        \{ "[A-Za-z]+", "[A-Za-z]+",' "$BOXCTL_SRCDIR/src/core/settings-file.c" |
                cut -d'"' -f2,4 | tr '"' ' ')
        missing=()
        for k in "${keys[@]}"; do
                read -r section key <<<"$k"
                [[ -n ${words[$section]:-} && -n ${words[$key]:-} ]] || missing+=("[$section] $key=")
        done
        if ((${#keys[@]} > 20 && ${#missing[@]} == 0)); then
                pass "boxctl.box(5) has all ${#keys[@]} keys of src/core/settings-file.c"
        else
                fail "boxctl.box(5) has every key of src/core/settings-file.c (${#keys[@]} found)" "missing: ${missing[*]}"
        fi
else
        fail "boxctl.box.5 was built" "no $page"
fi

# ---- boxctl(1) ----
page=$tmp/boxctl.1.txt
if [[ -f $page ]]; then
        load_page "$page"
        "$BOXCTL" --help >"$tmp/boxctl.help"
        mapfile -t verbs < <(verbs_of "$tmp/boxctl.help")
        (( ${#verbs[@]} > 10 )) && pass "boxctl --help lists ${#verbs[@]} verbs" || fail "boxctl --help lists its verbs"
        check_verbs "boxctl(1)" "${verbs[@]}"
        mapfile -t opts < <(long_options "$tmp/boxctl.help")
        check_covered "boxctl --help: long options" "${opts[@]}"
        for v in "${verbs[@]}"; do
                [[ $v == help || $v == version ]] && continue
                if ! "$BOXCTL" "$v" --help >"$tmp/verb.help" 2>"$tmp/verb.err" || ! grep -q '^Usage: boxctl' "$tmp/verb.help"; then
                        fail "boxctl $v --help shows its usage" "$(head -n1 "$tmp/verb.err")"
                        continue
                fi
                mapfile -t opts < <(long_options "$tmp/verb.help")
                mapfile -t shorts < <(short_options "$tmp/verb.help")
                check_covered "boxctl $v --help: ${#opts[@]} long and ${#shorts[@]} short options" "${opts[@]}" "${shorts[@]}"
        done
        "$BOXCTL" set-property --help >"$tmp/sp.help"
        mapfile -t keys < <(grep -oE '(^|[ ,])[A-Z][A-Za-z]*[a-z][A-Za-z]*=' "$tmp/sp.help" | tr -d ' ,=' | sort -u)
        (( ${#keys[@]} >= 9 )) && pass "set-property --help names ${#keys[@]} keys" || fail "set-property --help names its keys" "${keys[*]}"
        check_covered "boxctl set-property: keys" "${keys[@]}"
        mapfile -t opts < <(table_options "$BOXCTL_SRCDIR"/src/boxctl/*.c)
        check_covered "boxctl: the ${#opts[@]} options of its getopt tables" "${opts[@]}"
fi

# ---- boxd(8) ----
page=$tmp/boxd.8.txt
if [[ -f $page ]]; then
        load_page "$page"
        "$BOXD" --help >"$tmp/boxd.help"
        mapfile -t opts < <(long_options "$tmp/boxd.help")
        (( ${#opts[@]} >= 3 )) && pass "boxd --help lists ${#opts[@]} options" || fail "boxd --help lists its options"
        check_covered "boxd --help: long options" "${opts[@]}"
        mapfile -t envs < <(grep -oE '\$[A-Z_]+' "$tmp/boxd.help" | tr -d '$' | sort -u)
        check_covered "boxd --help: environment variables" "${envs[@]}"
        mapfile -t opts < <(table_options "$BOXCTL_SRCDIR"/src/boxd/*.c)
        check_covered "boxd: the ${#opts[@]} options of its getopt table" "${opts[@]}"
fi

# ---- boxctl-oci(8) ----
page=$tmp/boxctl-oci.8.txt
if [[ -f $page ]]; then
        load_page "$page"
        "$BOXCTL_OCI" --help >"$tmp/oci.help"
        mapfile -t verbs < <(verbs_of "$tmp/oci.help")
        (( ${#verbs[@]} >= 8 )) && pass "boxctl-oci --help lists ${#verbs[@]} verbs" || fail "boxctl-oci --help lists its verbs"
        check_verbs "boxctl-oci(8)" "${verbs[@]}"
        mapfile -t opts < <(long_options "$tmp/oci.help")
        check_covered "boxctl-oci --help: long options" "${opts[@]}"
        # Its verbs have no --help (runc's have none either): their getopt tables.
        mapfile -t opts < <(table_options "$BOXCTL_SRCDIR"/src/oci/*.c)
        (( ${#opts[@]} >= 20 )) && pass "src/oci has ${#opts[@]} options in its getopt tables" ||
                fail "src/oci has its options in getopt tables" "${opts[*]}"
        check_covered "boxctl-oci: the options of its verbs' getopt tables" "${opts[@]}"
fi

echo "1..$n"
(( failed == 0 ))
