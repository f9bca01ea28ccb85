#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The whole test run, as CI does it: install dependencies, build the test
# fixtures (so that their cost is paid once, before any timed test), build
# boxctl twice (plain, and with AddressSanitizer + UBSan), then:
# - the unit tests on both builds;
# - the integration tests on the sanitized build on the hybrid layout with
#   tests/stress-host.sh beside them (CPU hogs, and cgroups, mounts, links
#   and loop devices that come and go under other names, as on a host that
#   others use; the tests must pass anyway, and leave all that alone);
# - the integration tests on the plain build on the pure cgroup2 layout;
# - tests/fuzz/run-fuzzers.sh, when it is there.
# Exits non-zero if any step or test failed, and ends with the line
# "N passed, M failed", counted from meson's test logs.
#
# BOXCTL_BUILD and BOXCTL_BUILD_ASAN name the two build directories (build
# and build-asan by default), e.g. to run beside someone else's builds.

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

# with_stress CMD...: CMD with tests/stress-host.sh running beside it, once
# its load is on; stopped afterwards, and it must have cleaned up after
# itself.
stress_pid=
with_stress() {
        local ready rc=0 i
        ready=$(mktemp -u "${TMPDIR:-/tmp}/stress-host-ready.XXXXXX")
        tests/stress-host.sh --max-seconds 3600 --ready "$ready" &
        stress_pid=$!
        for ((i = 0; i < 600; i++)); do
                [[ -e $ready ]] && break
                kill -0 "$stress_pid" 2>/dev/null || break
                sleep 0.1
        done
        if [[ ! -e $ready ]]; then
                echo "run-all: tests/stress-host.sh did not start its load within 60 s" >&2
                stop_stress
                return 1
        fi
        rm -f "$ready"
        "$@" || rc=$?
        stop_stress || {
                echo "run-all: tests/stress-host.sh did not clean up after itself" >&2
                ((rc != 0)) || rc=1
        }
        return "$rc"
}

stop_stress() {
        local rc=0
        [[ -n $stress_pid ]] || return 0
        kill -TERM "$stress_pid" 2>/dev/null
        wait "$stress_pid" || rc=$?
        stress_pid=
        return "$rc"
}
trap stop_stress EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Sanitizer reports must fail the test that triggered them.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}

build=${BOXCTL_BUILD:-build}
asan=${BOXCTL_BUILD_ASAN:-build-asan}
# One log per meson test run (--logbase), so that two runs on one build are
# both counted.
logs=("$build/meson-logs/unit.json" "$asan/meson-logs/unit.json"
        "$asan/meson-logs/integration-stressed.json" "$build/meson-logs/integration-unified.json")
# A log left by an earlier run must not be counted as this run's.
rm -f "${logs[@]}"

if step tools/install-deps.sh && step fixtures &&
        step setup "$build" && step setup "$asan" -Db_sanitize=address,undefined -Dstatic_helpers_dir="$PWD/$build" &&
        step meson compile -C "$build" && step meson compile -C "$asan"; then
        step meson test -C "$build" --suite unit --logbase unit --print-errorlogs
        step meson test -C "$asan" --suite unit --logbase unit --print-errorlogs
        # Each integration test runs twice, once on each cgroup layout: on the
        # hybrid layout with the sanitized build and tests/stress-host.sh
        # beside it (a sanitizer report or a race under load fails it), then
        # on the pure cgroup2 layout with the plain build, on a quiet host.
        # Two passes, not three, keep the whole run near half an hour on 2
        # cores. An integration test's time includes its wait for the sandbox
        # lock, which someone else's test run may hold, and a loaded host
        # makes everything slower: a hang still ends, only later.
        step with_stress meson test -C "$asan" --suite integration-hybrid --logbase integration-stressed \
                --timeout-multiplier 5 --print-errorlogs
        step meson test -C "$build" --suite integration-unified --logbase integration-unified \
                --timeout-multiplier 5 --print-errorlogs
        # The fuzz targets (tests/fuzz), once they are there.
        if [[ -x tests/fuzz/run-fuzzers.sh ]]; then
                step tests/fuzz/run-fuzzers.sh
        fi
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
