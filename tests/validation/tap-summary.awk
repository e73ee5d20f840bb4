# Turn one validation program's TAP output into result rows.
#
# Variables (set with -v):
#   prog     program name
#   rc       the program's exit status (124/137: killed by the timeout)
#   limit    the per-program timeout in seconds, for the message
#   errfile  the program's stderr (optional), to say why it went wrong
#
# Output, tab separated, one row per test:
#   prog  number  pass|fail|skip  description  detail
# where detail, for failures, is the diagnostics the program printed about
# the test, squeezed onto one line (may be empty).
#
# Besides the numbered tests there may be one row numbered "-" for the
# program as a whole:
#   - fail when it crashed, timed out, printed no plan or ran fewer tests
#     than it planned, so that such a program never looks green;
#   - for programs that plan no tests ("1..0") and report a problem only as
#     an "error" in a YAML diagnostic (the hook and lifecycle programs):
#     fail with that error, or pass when there is none;
#   - for the negative programs (see BEGIN): pass or fail.
#
# Only top-level TAP lines count: the nested runtimetest output that some
# programs embed sits inside indented YAML/JSON diagnostics.

function out(num, status, desc, detail) {
	gsub(/\t/, " ", desc)
	gsub(/\t/, " ", detail)
	if (length(detail) > 400)
		detail = substr(detail, 1, 400) "..."
	rows[++nrows] = prog "\t" num "\t" status "\t" desc "\t" detail
	lastrow = nrows
	laststatus = status
}

function flush(   i, k, f) {
	# Failures without diagnostics of their own (typically "exit status
	# 1" from a create that failed) get the runtime's complaints from
	# stderr, in order.
	read_errs()
	k = 0
	for (i = 1; i <= nrows; i++) {
		split(rows[i], f, "\t")
		if (f[3] == "fail" && f[5] == "" && k < nerrs) {
			k++
			rows[i] = f[1] "\t" f[2] "\t" f[3] "\t" f[4] "\tstderr: " errs[k]
		}
		print rows[i]
	}
}

# Diagnostic line, trimmed; "" for YAML/JSON punctuation.
function diagline(l) {
	sub(/^[ \t#]+/, "", l)
	sub(/[ \t,]+$/, "", l)
	if (l ~ /^(---|\.\.\.|[{}]|)$/)
		return ""
	return l
}

function adddetail(s, l) {
	return (s == "" ? l : s " | " l)
}

# The runtime's complaints in the program's stderr (errfile), in order,
# into errs[1..nerrs].
function read_errs(   l) {
	nerrs = 0
	if (errfile == "")
		return
	while ((getline l < errfile) > 0) {
		# Any line but the suite's own boilerplate and non-error logs.
		if (l ~ /^[ \t]*$/ || l ~ /^(failed to (create|start|delete) the container|exit status [0-9]+)$/)
			continue
		if (l ~ /level=/ && l !~ /level=(error|fatal)/)
			continue
		if (match(l, /msg="/)) {
			l = substr(l, RSTART + 5)
			sub(/"$/, "", l)
		}
		errs[++nerrs] = l
	}
	close(errfile)
}

# The runtime's complaint, from the program's stderr (errfile), if any.
function stderr_reason(   l, best, last) {
	if (errfile == "")
		return ""
	best = ""; last = ""
	while ((getline l < errfile) > 0) {
		if (l ~ /^[ \t]*$/ || l ~ /^(failed to (create|start|delete) the container|exit status [0-9]+)$/)
			continue
		last = l
		if (best == "" && l ~ /level=error|error|Error/)
			best = l
	}
	close(errfile)
	if (best == "")
		best = last
	if (match(best, /msg="/)) {
		best = substr(best, RSTART + 5)
		sub(/"$/, "", best)
	}
	if (length(best) > 240)
		best = substr(best, 1, 240) "..."
	return best
}

BEGIN {
	ran = 0; plan = -1; bailed = ""; nrows = 0; lastrow = 0
	pending = ""; attached = 0
	# Negative tests: they hand the runtime an invalid config and pass by
	# exiting 0 in silence once the runtime refuses it. When the runtime
	# wrongly accepts it they print runtimetest's TAP from inside the
	# container and exit 1; that TAP is not theirs to count.
	negative = (prog == "process_capabilities_fail" || prog == "process_rlimits_fail")
}

/^TAP version/ { next }

/^Bail out!/ { bailed = $0; next }

/^1\.\.[0-9]+/ {
	plan = substr($1, 4) + 0
	next
}

/^(not )?ok([ \t]|$)/ {
	line = $0
	failed = (line ~ /^not /)
	sub(/^(not )?ok[ \t]*/, "", line)
	num = ran + 1
	if (match(line, /^[0-9]+/)) {
		num = substr(line, 1, RLENGTH) + 0
		line = substr(line, RLENGTH + 1)
	}
	sub(/^[ \t]*(-[ \t]*)?/, "", line)
	directive = ""
	if (match(line, /#[ \t]*([Ss][Kk][Ii][Pp]|[Tt][Oo][Dd][Oo])/)) {
		directive = toupper(substr(line, RSTART, RLENGTH))
		pre = substr(line, 1, RSTART - 1)
		post = substr(line, RSTART + 1)
		sub(/[ \t]+$/, "", pre)
		sub(/^[ \t]+/, "", post)
		line = (pre == "" ? post : pre " (" post ")")
	}
	if (line == "")
		line = "(unnamed test)"
	ran++
	# Diagnostics normally follow their test; RuntimeInsideValidate alone
	# prints its YAML (the container's stdout and stderr) before it.
	if (directive ~ /SKIP|TODO/)
		out(num, "skip", line, "")
	else if (failed)
		out(num, "fail", line, (pending ~ /"stdout":/ ? pending : ""))
	else
		out(num, "pass", line, "")
	pending = ""
	attached = 0
	next
}

{
	# Remember the first "error" a top-level diagnostic reports, for
	# programs that report problems only that way.
	if (firsterr == "" && $0 ~ /^  +"error": "/) {
		firsterr = $0
		sub(/^ +"error": "/, "", firsterr)
		sub(/(\\n|",?$).*/, "", firsterr)
	}
	l = diagline($0)
	if (l == "")
		next
	if (lastrow > 0 && laststatus == "fail" && (attached || pending == "")) {
		# Diagnostics right after a failure describe it.
		split(rows[lastrow], f, "\t")
		rows[lastrow] = f[1] "\t" f[2] "\t" f[3] "\t" f[4] "\t" adddetail(f[5], l)
		attached = 1
	} else {
		pending = adddetail(pending, l)
	}
}

END {
	if (negative) {
		nrows = 0
		if (rc == 0 && NR == 0)
			out("-", "pass", "program: the runtime refused the invalid config", "")
		else if (rc == 124 || rc == 137)
			out("-", "fail", "program: timed out after " limit "s", "")
		else
			out("-", "fail", "program: the runtime accepted the invalid config (exit status " rc ")", "")
		flush()
		exit
	}
	why = ""
	if (rc == 124 || rc == 137)
		why = "timed out after " limit "s"
	else if (rc != 0)
		why = "exited with status " rc
	if (bailed != "")
		why = (why == "" ? "" : why "; ") bailed
	if (plan < 0)
		why = (why == "" ? "" : why "; ") "no TAP plan"
	else if (ran < plan)
		why = (why == "" ? "" : why "; ") "planned " plan " tests, ran " ran
	if (ran == 0 && plan == 0 && why == "") {
		# "1..0": several lifecycle and hook programs plan no tests and
		# report a problem only as an "error" in a YAML diagnostic.
		if (firsterr == "")
			out("-", "pass", "program: no error reported", "")
		else
			out("-", "fail", "program: reported error: " firsterr, pending)
		flush()
		exit
	}
	if (ran == 0 && plan != 0 && why !~ /no TAP plan|planned/)
		why = (why == "" ? "" : why "; ") "no tests ran"
	if (why != "") {
		reason = stderr_reason()
		if (reason == "")
			reason = firsterr
		out("-", "fail", "program: " why, reason)
	}
	flush()
}
