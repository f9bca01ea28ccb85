#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Run opencontainers/runtime-tools' validation suite against an OCI runtime
# and count the results: every program's "ok" and "not ok" lines, the
# programs that reported a failure as an error block of no check (some fail
# so, printing no "not ok" and a plan of 1..0), and the programs that ran
# clean (exit 0, no "not ok", no such error).
#
#   tools/oci-conformance.sh [--runtime PATH] [--only NAME,...] [--keep DIR] RUNTIME_TOOLS_DIR
#
# RUNTIME_TOOLS_DIR is a checkout built with
#   GOFLAGS=-mod=vendor GOPROXY=off make runtimetest validation-executables
# (commit 260e151 builds with Debian 12's Go 1.19). --runtime defaults to
# build/src/oci/boxctl-oci; runc or crun may be named to compare. Each runtime gets a
# fresh --root of its own, removed afterwards. The run holds the integration
# tests' lock (the runtimes' containers use machine names and cgroups that the
# tests use too). Each program's output is kept in DIR (default: a temporary
# directory, printed at the end). Prints one line a program and the totals:
#   total: OK ok, NOTOK not ok, E programs that failed without a check, CLEAN/PROGRAMS programs clean

set -uo pipefail

runtime=
only=
keep=
while (($#)); do
        case $1 in
        --runtime) runtime=$2; shift 2 ;;
        --only) only=$2; shift 2 ;;
        --keep) keep=$2; shift 2 ;;
        -h|--help) sed -n '4,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "oci-conformance: unknown option $1" >&2; exit 2 ;;
        *) break ;;
        esac
done
(($# == 1)) || { echo "oci-conformance: name the runtime-tools checkout (see --help)" >&2; exit 2; }
rtt=$(realpath "$1") || exit 2
[[ -x $rtt/runtimetest ]] || { echo "oci-conformance: $rtt/runtimetest missing: build it first (see --help)" >&2; exit 2; }
top=$(realpath "$(dirname "${BASH_SOURCE[0]}")/..")
runtime=$(realpath "${runtime:-$top/build/src/oci/boxctl-oci}") || exit 2
[[ -x $runtime ]] || { echo "oci-conformance: $runtime is not executable" >&2; exit 2; }

state=$(mktemp -d /tmp/oci-conformance-root.XXXXXX)
wrap=$(mktemp /tmp/oci-conformance-wrap.XXXXXX)
out=${keep:-$(mktemp -d /tmp/oci-conformance-out.XXXXXX)}
mkdir -p "$out"
trap 'rm -rf "$state" "$wrap"' EXIT
printf '#!/bin/sh\nexec %q --root %q "$@"\n' "$runtime" "$state" >"$wrap"
chmod +x "$wrap"

cache=${BOXCTL_TEST_CACHE:-/var/cache/boxctl-tests}
mkdir -p "$cache"
exec {lock}>"$cache/integration.lock"
flock -w 1800 "$lock" || { echo "oci-conformance: timed out waiting for $cache/integration.lock" >&2; exit 1; }

cd "$rtt" || exit 2
ok=0 notok=0 errors=0 clean=0 programs=0
for t in validation/*/*.t; do
        name=${t#validation/}
        name=${name%%/*}
        if [[ -n $only && ",$only," != *",$name,"* ]]; then
                continue
        fi
        programs=$((programs + 1))
        rc=0
        RUNTIME=$wrap timeout 300 "./$t" >"$out/$name.tap" 2>&1 || rc=$?
        o=$(grep -c '^ok ' "$out/$name.tap")
        n=$(grep -c '^not ok ' "$out/$name.tap")
        # Some programs report a failure only as a YAML block holding
        # "error" that belongs to no test line (right after "TAP version",
        # and then "1..0"): that is a failure too. An error block after an
        # "ok" line is that check's expected error.
        e=$(awk '/^(ok|not ok) / { t = 1 } /^(TAP version|1\.\.)/ { t = 0 } /^ *"error":/ && !t { n++ } END { print n + 0 }' "$out/$name.tap")
        ok=$((ok + o))
        notok=$((notok + n))
        errors=$((errors + (e > 0)))
        if ((rc == 0 && n == 0 && e == 0)); then
                clean=$((clean + 1))
        fi
        printf '%-40s %4d ok %4d not ok  %s exit %d\n' "$name" "$o" "$n" "$( ((e > 0)) && echo error || echo '     ')" "$rc"
done
# A container a test left behind (one that never deleted its own).
"$runtime" --root "$state" list -q 2>/dev/null | while read -r id; do
        [[ -n $id ]] && "$runtime" --root "$state" delete --force "$id" >/dev/null 2>&1
done
echo "total: $ok ok, $notok not ok, $errors programs that failed without a check, $clean/$programs programs clean (output in $out)"
