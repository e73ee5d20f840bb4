#!/bin/bash
# mutants.sh: run the integration suite once per deliberate runtime defect
# (see runc-mutant) and print which tests caught it. Every line must name
# at least one failing test; "CAUGHT BY NOTHING" means the suite is blind
# to that defect. Run as root from the repo: tests/integration/testdata/mutants.sh
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=$(mktemp -d /tmp/casco-test-mutants-XXXXXX)
trap 'rm -rf "$bin"' EXIT
(cd "$here/.." && go test -c -o "$bin/integration.test" .) || exit 1
blind=0
try() {
  local out failed
  out=$(cd "$here/.." && RUNTIME="$here/runc-mutant" "$bin/integration.test" 2>&1)
  failed=$(echo "$out" | grep -E '^\s*--- FAIL' | sed 's/^\s*--- FAIL: //; s/ (.*//' | grep -v / | tr '\n' ' ')
  if [ -z "$failed" ]; then failed="CAUGHT BY NOTHING"; blind=1; fi
  printf '%-70.70s %s\n' "$1" "$failed"
}
while IFS= read -r m; do MUTANT_JQ="$m" try "$m"; done <<'LIST'
.linux.namespaces |= map(select(.type != "network"))
.root.readonly = false
.linux.maskedPaths = []
.linux.readonlyPaths = []
.process.rlimits = []
.process.capabilities.bounding += ["CAP_SYS_ADMIN"]
.process.noNewPrivileges = false
.process.user.additionalGids = []
del(.process.oomScoreAdj)
.hostname = "other"
if .linux.uidMappings then .linux.uidMappings[0].hostID = 200000 else . end
.mounts |= map(.options |= (. // [] | map(select(. != "nosuid"))))
del(.linux.resources.pids)
del(.hooks.poststart)
if .process.consoleSize then .process.consoleSize = {"height":24,"width":80} else . end
.linux.devices = []
.process.env += ["EXTRA=1"]
.process.cwd = "/"
del(.process.user.umask)
.mounts |= map(if .destination == "/scratch" then .options = ["mode=755"] else . end)
del(.annotations)
LIST
for m in kill-ignores-signal run-exit-zero state-status-lies pidfile-newline create-is-run create-error-exit-zero; do
  MUTANT_CMD=$m try "MUTANT_CMD=$m"
done
exit $blind
