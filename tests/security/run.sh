#!/bin/sh
# run.sh RUNTIME [go test args...]: the security suite against RUNTIME,
# ending with one line "security: N passed, M failed, K skipped" (tests and
# subtests; a skipped one is never counted as passed).
set -u
runtime=$1; shift
cd "$(dirname "$0")"
log=$(mktemp)
RUNTIME=$runtime ${GO:-go} test -count=1 -v -timeout 20m "$@" . 2>&1 | tee "$log" | grep -v '^=== \(RUN\|PAUSE\|CONT\)'
# every test and subtest: a skipped subtest shows, it is never hidden in a passing parent
pass=$(grep -c '^ *--- PASS' "$log"); fail=$(grep -c '^ *--- FAIL' "$log"); skip=$(grep -c '^ *--- SKIP' "$log")
code=0; tail -1 "$log" | grep -q '^ok' || code=1
rm -f "$log"
echo "security: $pass passed, $fail failed, $skip skipped"
exit $code
