#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The whole test run, as CI does it: install dependencies, build the test
# fixtures (so that their cost is paid once, before any timed test), build
# boxctl twice (plain, and with AddressSanitizer + UBSan for the unit tests),
# run the full suite on the plain build and the unit suite on the sanitized
# one. Exits non-zero if any step or test failed, and ends with the line
# "N passed, M failed", counted from meson's test logs.

set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit

failed_steps=()

step() {
        local start=$SECONDS rc=0
        echo "==> $*"
        "$@" || rc=$?
        echo "==> exit $rc after $((SECONDS - start)) s: $*"
        if ((rc != 0)); then
                failed_steps+=("$*")
        fi
        return "$rc"
}

setup() {
        local dir=$1
        shift
        if [[ -f $dir/meson-private/coredata.dat ]]; then
                meson setup --reconfigure "$dir" "$@"
        else
                meson setup "$dir" "$@"
        fi
}

fixtures() {
        tests/fixtures/make-busybox-tree.sh &&
                tests/fixtures/make-debian-tree.sh &&
                tests/fixtures/make-sysvinit-tree.sh &&
                tests/fixtures/make-images.sh >/dev/null &&
                tests/fixtures/make-images.sh "$(tests/fixtures/make-debian-tree.sh)" >/dev/null
}

# testlog.json holds one JSON object a line, one line a test.
count() {
        python3 - "$@" <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                result = json.loads(line).get("result")
                if result in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif result == "SKIP":
                    skipped += 1
                else:   # FAIL, ERROR, TIMEOUT, UNEXPECTEDPASS, ...
                    failed += 1
    except FileNotFoundError:
        pass
print(passed, failed, skipped)
PY
}

# Sanitizer reports must fail the test that triggered them.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}

logs=(build/meson-logs/testlog.json build-asan/meson-logs/testlog.json)
# A log left by an earlier run must not be counted as this run's.
rm -f "${logs[@]}"

if step tools/install-deps.sh && step fixtures &&
        step setup build && step setup build-asan -Db_sanitize=address,undefined &&
        step meson compile -C build && step meson compile -C build-asan; then
        step meson test -C build --print-errorlogs
        step meson test -C build-asan --suite unit --print-errorlogs
fi

read -r passed failed skipped < <(count "${logs[@]}")

for s in "${failed_steps[@]}"; do
        echo "run-all: failed: $s"
done
if ((skipped > 0)); then
        echo "run-all: $skipped skipped"
fi
echo "$passed passed, $failed failed"

if ((${#failed_steps[@]} > 0 || failed > 0 || passed == 0)); then
        exit 1
fi
