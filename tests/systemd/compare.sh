#!/bin/bash
# compare.sh LOG: the casco-vs-runc table of a guest-suites.sh log.
# Top-level results (--- PASS/FAIL/SKIP: Name) per suite and runtime. Exit 1
# when casco fails a case that runc passes (or that only casco runs), or a
# casco suite did not finish or failed without a failing test.
log=${1:?usage: compare.sh LOG}
known=$(dirname "$0")/casco-known.tsv
awk -v known="$known" '
  BEGIN { while ((getline line < known) > 0) if (line !~ /^#/ && split(line, f, "\t") >= 3) why[f[1] "/" f[2]] = f[3] }
  /^== suite / { s = $3; r = $4; next }
  /^@@SUITE / { split($4, e, "="); exitc[$2 "/" $3] = e[2]; next }
  s != "" && /^--- (PASS|FAIL|SKIP): / {
    st = $2; sub(":", "", st); k = s "/" $3
    if (!(k in seen)) { seen[k] = 1; order[++n] = k }
    res[k "/" r] = st
  }
  END {
    bad = 0; pass = 0; fail = 0
    printf "%-12s %-40s %-6s %-6s\n", "suite", "test", "casco", "runc"
    for (i = 1; i <= n; i++) {
      k = order[i]; c = res[k "/casco"]; g = res[k "/runc"]
      split(k, p, "/")
      note = ""
      if (c == "PASS") pass++
      if (c == "FAIL") { fail++
        if (k in why) note = "  (known: " why[k] ")"
        else if (g == "FAIL") note = "  (runc fails too)"
        else { note = "  <-- casco only"; bad = 1 } }
      if (c == "PASS" && (k in why)) note = "  (listed in casco-known.tsv but passes now: remove it)"
      printf "%-12s %-40s %-6s %-6s%s\n", p[1], p[2], c == "" ? "-" : c, g == "" ? "-" : g, note
    }
    for (k in exitc) {
      split(k, p, "/")
      if (p[2] != "casco") continue
      if (exitc[k] != 0) {
        nf = 0; for (j in res) if (index(j, p[1] "/") == 1 && j ~ /\/casco$/ && res[j] == "FAIL") nf++
        if (nf == 0) { printf "systemd: suite %s (casco) exited %s without a failing test\n", p[1], exitc[k]; bad = 1 }
      }
    }
    printf "systemd: casco %d passed, %d failed\n", pass, fail
    exit bad
  }' "$log" || bad=1
for s in $(sed -n 's/^== suite \([^ ]*\) casco$/\1/p' "$log" | sort -u); do
  grep -q "^@@SUITE $s casco exit=" "$log" || { echo "systemd: suite $s (casco) did not finish"; bad=1; }
done
exit ${bad:-0}
