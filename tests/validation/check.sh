#!/usr/bin/env bash
# check.sh CASCO_BIN: the validation suite as a gate for `make test`.
#
# Runs every program against CASCO_BIN and fails when casco fails a test
# that is not explained: neither in runc-baseline.tsv (runc fails it on this
# machine too, with the reason) nor in casco-known.tsv (casco's own known
# failures, each with its reason). So every failure that runc passes is a
# bug that stops CI.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
casco=${1:?usage: check.sh CASCO_BIN}
out=$(mktemp -d /tmp/casco-validation-check.XXXXXX)
# The suite calls the runtime without --root: casco's default state root
# gets the seccomp filter cache. Leave /run/casco as we found it.
had_root=0 had_cache=0
[ -d /run/casco ] && had_root=1
[ -d /run/casco/.seccomp-cache ] && had_cache=1
restore() {
	rm -rf "$out"
	[ $had_cache = 1 ] || rm -rf /run/casco/.seccomp-cache
	[ $had_root = 1 ] || rmdir /run/casco 2>/dev/null || true
}
trap restore EXIT

"$here/run.sh" "$casco" "$out" >"$out.log" 2>&1
rc=$?
tail -n 1 "$out.log"
[ $rc -eq 0 ] || { cat "$out.log"; rm -f "$out.log"; echo "check.sh: the suite could not run" >&2; exit 2; }
rm -f "$out.log"

known() { grep -v '^#' "$here/runc-baseline.tsv" "$here/casco-known.tsv" 2>/dev/null | cut -f1,2 | sed 's/^[^:]*://' | sort -u; }
unexplained=$(awk -F'\t' '$3=="fail"{print $1"\t"$2"\t"$4}' "$out/results.tsv" |
	while IFS=$'\t' read -r prog num desc; do
		# a program-level failure ("-") or a numbered test: either may be listed
		if ! known | grep -qxF "$prog	$num" && ! known | grep -qxF "$prog	-"; then
			printf '  %s #%s: %s\n' "$prog" "$num" "$desc"
		fi
	done)
if [ -n "$unexplained" ]; then
	echo "validation: casco fails tests that runc passes on this machine:"
	echo "$unexplained"
	exit 1
fi
echo "validation: every casco failure is one runc shares or a known, explained one"
