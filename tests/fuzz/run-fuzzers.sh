#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs every libFuzzer target of tests/fuzz for SECONDS each (default 12),
# two at a time (FUZZ_JOBS), each on a copy of its seed corpus so that the
# repository is left as it is. Builds them first in build-fuzz (clang,
# -Dfuzz=true), setting that up if needed (FUZZ_BUILDDIR to use another).
# Fails when a target crashes, leaks, breaks one of its checks or times out,
# naming the target and the input that did it (kept with its log).
# Reproduce one: build-fuzz/tests/fuzz/TARGET INPUT
set -u

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
builddir=${FUZZ_BUILDDIR:-$srcdir/build-fuzz}
seconds=${1:-12}
jobs=${FUZZ_JOBS:-2}

if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
        echo "usage: $0 [SECONDS]" >&2
        exit 2
fi

if [ ! -f "$builddir/build.ninja" ]; then
        CC=clang meson setup "$builddir" "$srcdir" -Dfuzz=true >"${TMPDIR:-/tmp}/fuzz-setup.$$.log" 2>&1 || {
                cat "${TMPDIR:-/tmp}/fuzz-setup.$$.log" >&2
                echo "cannot set up $builddir (needs clang)" >&2
                exit 1
        }
        rm -f "${TMPDIR:-/tmp}/fuzz-setup.$$.log"
elif ! meson introspect --buildoptions "$builddir" | grep -q '"name": "fuzz", "value": true'; then
        meson configure "$builddir" -Dfuzz=true >/dev/null || exit 1
fi

# The targets are what tests/fuzz/meson.build lists.
mapfile -t targets < <(sed -n "s/^ *'\(fuzz-[a-z0-9-]*\)',\?$/\1/p" "$srcdir/tests/fuzz/meson.build")
if [ ${#targets[@]} -eq 0 ]; then
        echo "no targets found in tests/fuzz/meson.build" >&2
        exit 1
fi
ninja -C "$builddir" "${targets[@]/#/tests/fuzz/}" >/dev/null || {
        echo "building the fuzz targets failed" >&2
        ninja -C "$builddir" "${targets[@]/#/tests/fuzz/}" 2>&1 | tail -30 >&2
        exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/boxctl-fuzz.XXXXXX")
keep=0
cleanup() {
        if [ "$keep" = 0 ]; then
                rm -rf "$work"
        fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_one() {
        local t=$1 dir="$work/$1"

        mkdir -p "$dir/corpus"
        if [ -d "$srcdir/tests/fuzz/corpus/$t" ]; then
                cp -r "$srcdir/tests/fuzz/corpus/$t/." "$dir/corpus/"
        fi
        # -timeout: one input taking more than 10 s is a hang; the outer
        # timeout only guards against libFuzzer itself not ending.
        timeout -k 10 $((seconds + 120)) "$builddir/tests/fuzz/$t" \
                -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
                -print_final_stats=1 -artifact_prefix="$dir/" \
                "$dir/corpus" >"$dir/log" 2>&1
        echo $? >"$dir/rc"
}

running=0
for t in "${targets[@]}"; do
        if [ "$running" -ge "$jobs" ]; then
                wait -n
                running=$((running - 1))
        fi
        run_one "$t" &
        running=$((running + 1))
done
wait

passed=0
failed=0
for t in "${targets[@]}"; do
        dir="$work/$t"
        rc=$(cat "$dir/rc" 2>/dev/null || echo "?")
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
        artifact=$(find "$dir" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | head -1)
        if [ "$rc" = 0 ] && [ -z "$artifact" ]; then
                passed=$((passed + 1))
                echo "PASS $t: ${execs:-?} inputs in ${seconds} s"
        else
                failed=$((failed + 1))
                keep=1
                echo "FAIL $t (exit status $rc)"
                echo "     input: ${artifact:-none written (see the log)}"
                echo "     log:   $dir/log"
                grep -m3 -E 'ERROR:|runtime error|check failed|SUMMARY' "$dir/log" | sed 's/^/     /'
        fi
done
if [ "$keep" = 1 ]; then
        echo "inputs and logs kept in $work"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
