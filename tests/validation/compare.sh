#!/usr/bin/env bash
# Run the OCI validation suite against the reference runc and against casco,
# and list every test that runc passes and casco does not.
#
# usage: compare.sh CASCO_BIN
#
# Environment:
#   RUNC                  the reference runc (default: the one `make runc-ref`
#                         builds)
#   COMPARE_REUSE_RUNC=1  reuse the runc results of the previous comparison
#                         (out/compare/runc, runc-asis) instead of running
#                         runc again
#   RUNC_ALLOW_SYSCALLS   syscalls added to every seccomp profile in runc's
#                         run (default statx: runc 1.5's own init needs it,
#                         README.md "runc on this machine"); runc also runs
#                         once as is, to count what that costs it
#   VALIDATION_TESTS, VALIDATION_TIMEOUT   passed on to run.sh
#
# Prints a per-program table and writes it, with the lists, to RESULTS.md
# beside this script. Full results: out/compare/{runc,casco}/.
# Exits 0 whatever the results; non-zero only if the suite cannot run.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "compare.sh: $*" >&2; exit 2; }

[[ $# == 1 ]] || die "usage: compare.sh CASCO_BIN"
[[ $(id -u) == 0 ]] || die "the validation suite needs root"
casco=$(command -v "$1") || die "casco binary $1 not found"
casco=$(readlink -f "$casco")

runc=${RUNC:-/var/tmp/casco-runc/v1.5.3/runc}
[[ -x $runc ]] || die "no reference runc at $runc (make runc-ref builds it)"
runc=$(readlink -f "$runc")

out=$here/out/compare
mkdir -p "$out"

allow=${RUNC_ALLOW_SYSCALLS-statx}
start=$(date +%s)
if [[ ${COMPARE_REUSE_RUNC:-} == 1 && -s $out/runc/results.tsv && -s $out/runc-asis/results.tsv ]]; then
	echo "compare.sh: reusing runc results in $out/runc and $out/runc-asis" >&2
else
	echo "compare.sh: running the suite against $runc, profiles allowing ${allow:-nothing more}" >&2
	VALIDATION_ALLOW_SYSCALLS=$allow "$here/run.sh" "$runc" "$out/runc" >"$out/runc.log" 2>&1 ||
		{ cat "$out/runc.log" >&2; die "the suite could not run against runc"; }
	echo "compare.sh: running the suite against $runc as is" >&2
	VALIDATION_ALLOW_SYSCALLS= "$here/run.sh" "$runc" "$out/runc-asis" >"$out/runc-asis.log" 2>&1 ||
		{ cat "$out/runc-asis.log" >&2; die "the suite could not run against runc"; }
fi
echo "compare.sh: running the suite against $casco" >&2
"$here/run.sh" "$casco" "$out/casco" >"$out/casco.log" 2>&1 ||
	{ cat "$out/casco.log" >&2; die "the suite could not run against casco"; }
elapsed=$(($(date +%s) - start))

ver() {
	local v
	v=$("$1" --version 2>/dev/null | head -1 | tr -d '\r')
	echo "${v:-?}, sha256 $(sha256sum "$1" | cut -c1-12), built $(date -u -r "$1" '+%Y-%m-%d %H:%M UTC')"
}
runc_ver=$(ver "$runc")
casco_ver=$(ver "$casco")
runc_total=$(grep '^validation:' "$out/runc/summary.txt")
runc_asis_total=$(grep '^validation:' "$out/runc-asis/summary.txt")
# Failures of runc as is that its run with $allow allowed does not have:
# what its ENOSYS stub costs it, per program (a program that stopped
# early as is counts once).
stub=$(awk -F'\t' 'FNR == NR { if ($3 == "fail") bad[$1 "\t" $2] = 1; next }
	$3 == "fail" && !(($1 "\t" $2) in bad) { n[$1]++ }
	END { for (p in n) printf "%s\t%d\n", p, n[p] }' "$out/runc/results.tsv" "$out/runc-asis/results.tsv" | sort)
stub_progs=$(grep -c . <<<"$stub" || true)
stub_tests=$(awk -F'\t' '{ s += $2 } END { print s + 0 }' <<<"$stub")
casco_total=$(grep '^validation:' "$out/casco/summary.txt")
runc_leaks=$(grep '^LEAK:' "$out/runc/summary.txt" || true)
casco_leaks=$(grep '^LEAK:' "$out/casco/summary.txt" || true)

# One awk pass over both result sets and the baseline. Sections are
# separated by lines "@@ NAME" so the shell can lay them out as text or
# markdown.
report=$(awk -F'\t' '
	FILENAME == ARGV[1] { if ($0 !~ /^#/ && NF >= 3) why[$1 SUBSEP $2] = $3; next }
	FILENAME == ARGV[2] { k = $1 SUBSEP $2; rs[k] = $3; rd[k] = $4; rx[k] = $5; order[++n] = k; progs[$1] = 1; rc[$1, $3]++; next }
	{ k = $1 SUBSEP $2; cs[k] = $3; cd[k] = $4; cx[k] = $5; progs[$1] = 1; cc[$1, $3]++; extra[++m] = k }
	function cell(c, p) {
		return c[p, "pass"] + 0 "/" c[p, "fail"] + 0 "/" c[p, "skip"] + 0
	}
	# What casco'"'"'s run says about program p as a whole.
	function progwhy(p,   k) {
		k = p SUBSEP "-"
		if ((k in cs) && cs[k] == "fail")
			return cd[k] (cx[k] == "" ? "" : ": " cx[k])
		return "casco'"'"'s run of " p " stopped early"
	}
	function name(k,   f) {
		split(k, f, SUBSEP)
		return f[1] " #" f[2]
	}
	END {
		print "@@ table"
		np = 0
		for (p in progs) list[++np] = p
		# insertion sort: few dozen names
		for (i = 2; i <= np; i++) {
			v = list[i]
			for (j = i - 1; j > 0 && list[j] > v; j--) list[j + 1] = list[j]
			list[j + 1] = v
		}
		for (i = 1; i <= np; i++) {
			p = list[i]
			mark = ""
			if (rc[p, "pass"] > cc[p, "pass"]) mark = "worse"
			else if (rc[p, "pass"] < cc[p, "pass"]) mark = "better"
			else if (rc[p, "fail"] != cc[p, "fail"] || rc[p, "skip"] != cc[p, "skip"]) mark = "differs"
			print p "\t" cell(rc, p) "\t" cell(cc, p) "\t" mark
		}
		# Tests runc passes that are simply absent from casco'"'"'s run (its
		# program stopped early) are summed up per program, with casco'"'"'s
		# own account of the program, rather than listed one by one.
		for (i = 1; i <= n; i++) {
			k = order[i]
			split(k, f, SUBSEP)
			if (rs[k] == "pass" && !(k in cs)) missing[f[1]]++
		}
		print "@@ regressions"
		for (i = 1; i <= n; i++) {
			k = order[i]
			split(k, f, SUBSEP)
			p = f[1]
			has = (k in cs)
			if (rs[k] != "pass" || (has && cs[k] == "pass")) continue
			if (has) {
				# Same number, different test: say what casco ran.
				d = (cd[k] == rd[k] ? "" : "[casco'"'"'s #" f[2] ": " cd[k] "] ")
				print name(k) "\t" rd[k] "\t" cs[k] "\t" d cx[k]
				continue
			}
			if (missing[p] == 1) {
				print name(k) "\t" rd[k] "\tmissing\t" progwhy(p)
				continue
			}
			if (!(p in shown)) {
				shown[p] = 1
				print p " (" missing[p] " tests)\tall missing from casco'"'"'s run\tmissing\t" progwhy(p)
			}
		}
		print "@@ improvements"
		for (i = 1; i <= n; i++) {
			k = order[i]
			if (rs[k] == "fail" && (k in cs) && cs[k] == "pass")
				print name(k) "\t" cd[k] (cd[k] == rd[k] ? "" : " (runc'"'"'s test: " rd[k] ")")
		}
		# Tests only casco'"'"'s run got to (runc'"'"'s program stopped early):
		# one line per program.
		for (i = 1; i <= m; i++) {
			k = extra[i]
			split(k, f, SUBSEP)
			if (!(k in rs) && cs[k] == "pass") { onlyc[f[1]]++; lastc[f[1]] = k }
		}
		for (i = 1; i <= m; i++) {
			k = extra[i]
			split(k, f, SUBSEP)
			p = f[1]
			if (!(p in onlyc) || (p in said)) continue
			said[p] = 1
			if (onlyc[p] == 1)
				print name(lastc[p]) "\t" cd[lastc[p]] " (not in the runc run)"
			else
				print p " (" onlyc[p] " tests)\tpass with casco, not in the runc run"
		}
		print "@@ runcfail"
		for (i = 1; i <= n; i++) {
			k = order[i]
			if (rs[k] != "fail") continue
			print name(k) "\t" rd[k] "\t" ((k in why) ? why[k] : "UNEXPLAINED: " rx[k]) "\t" ((k in cs) ? cs[k] : "missing")
		}
	}
' "$here/runc-baseline.tsv" "$out/runc/results.tsv" "$out/casco/results.tsv")

section() { awk -v s="@@ $1" '$0 == s { on = 1; next } /^@@ / { on = 0 } on' <<<"$report"; }
nreg=$(section regressions | grep -c . || true)
nimp=$(section improvements | grep -c . || true)
nunexpl=$(section runcfail | grep -c $'\tUNEXPLAINED: ' || true)

# ---- text, to stdout --------------------------------------------------------
{
	echo "runc:  $runc ($runc_ver)"
	echo "       $runc_total (profiles allowing ${allow:-nothing more})"
	echo "       as is: $runc_asis_total; $stub_tests failures in $stub_progs programs are the stub's"
	echo "casco: $casco ($casco_ver)"
	echo "       $casco_total"
	echo "both runs took ${elapsed}s"
	[[ -n $runc_leaks ]] && echo "runc  $runc_leaks"
	[[ -n $casco_leaks ]] && echo "casco $casco_leaks"
	echo
	printf '%-34s %-12s %-12s %s\n' PROGRAM 'RUNC P/F/S' 'CASCO P/F/S' ''
	section table | awk -F'\t' '{ printf "%-34s %-12s %-12s %s\n", $1, $2, $3, $4 }'
	echo
	echo "runc passes, casco does not ($nreg):"
	section regressions | awk -F'\t' '{
		printf "  %s: %s\n      casco: %s%s\n", $1, $2, $3, ($4 == "" ? "" : ": " (length($4) > 200 ? substr($4, 1, 200) "..." : $4))
	}'
	if ((nimp)); then
		echo
		echo "casco passes, runc does not ($nimp):"
		section improvements | awk -F'\t' '{ printf "  %s: %s\n", $1, $2 }'
	fi
	if ((nunexpl)); then
		echo
		echo "runc failures not explained in runc-baseline.tsv ($nunexpl):"
		section runcfail | awk -F'\t' '$3 ~ /^UNEXPLAINED: / { printf "  %s: %s\n      %s\n", $1, $2, substr($3, 1, 200) }'
	fi
	echo
	echo "compare: $nreg tests pass with runc but not with casco"
}

# ---- markdown ---------------------------------------------------------------
md() { sed -e 's/|/\\|/g' -e 's/`/'"'"'/g'; }
{
	echo "# OCI validation: runc vs casco"
	echo
	echo "Generated by \`tests/validation/compare.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC')" \
		"with runtime-tools v0.9.0 (see README.md). Kernel $(uname -r)."
	echo
	echo "| runtime | binary | version | result |"
	echo "| --- | --- | --- | --- |"
	echo "| runc, profiles allowing ${allow:-nothing more} | the reference runc (\`make runc-ref\`) | $(md <<<"$runc_ver") | $runc_total |"
	echo "| runc as is | the same | | $runc_asis_total |"
	# a binary in the repository by its path there, not this machine's
	echo "| casco | ${casco#"$(cd "$here/../.." && pwd)"/} | $(md <<<"$casco_ver") | $casco_total |"
	echo
	[[ -n $runc_leaks$casco_leaks ]] && { echo "Leaks: runc: ${runc_leaks:-none}; casco: ${casco_leaks:-none}"; echo; }
	echo "runc runs the suite twice. As is, runc 1.5 cannot start most of its"
	echo "containers: runtime-tools' default seccomp profile lists no syscall as"
	echo "new as statx, runc's ENOSYS stub answers statx with ENOSYS, and runc's"
	echo "init needs statx after the filter is loaded (README.md, \"runc on this"
	echo "machine\"). So the comparison below is with runc's run whose profiles"
	echo "also allow ${allow:-nothing more}; casco runs every profile as given."
	echo "Of the as-is run's failures, $stub_tests (in $stub_progs programs) are"
	echo "gone once the profiles allow ${allow:-nothing more}:"
	echo
	awk -F'\t' '{ printf "%s%s (%d)", (NR > 1 ? ", " : ""), $1, $2 } END { if (NR) print "." }' <<<"$stub" | fold -s -w 76
	echo
	echo "## Tests runc passes and casco does not ($nreg)"
	echo
	if ((nreg)); then
		echo "| test | description | casco | casco's detail |"
		echo "| --- | --- | --- | --- |"
		section regressions | awk -F'\t' '{ print $1 "\t" $2 "\t" $3 "\t" substr($4, 1, 300) }' | md |
			awk -F'\t' '{ printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }'
	else
		echo "None."
	fi
	echo
	if ((nimp)); then
		echo "## Tests casco passes and runc does not ($nimp)"
		echo
		section improvements | md | awk -F'\t' '{ printf "- %s: %s\n", $1, $2 }'
		echo
	fi
	echo "## Per program (passed/failed/skipped)"
	echo
	echo "| program | runc | casco | |"
	echo "| --- | --- | --- | --- |"
	section table | md | awk -F'\t' '{ printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }'
	echo
	echo "## Why runc fails what it fails here"
	echo
	echo "| test | description | reason (runc-baseline.tsv) | casco |"
	echo "| --- | --- | --- | --- |"
	section runcfail | md | awk -F'\t' '{ printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }'
} >"$here/RESULTS.md"
echo "compare.sh: wrote $here/RESULTS.md" >&2
exit 0
