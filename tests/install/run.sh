#!/bin/bash
# tests/install/run.sh: `make install` into a temporary DESTDIR (with a
# PREFIX of its own), then the installed casco run from / with a bare
# environment, nothing of the repository on its way: --version, --help,
# features. The man pages are roff with a page per command, the bash
# completion parses. `make uninstall` then leaves no file behind.
# Prints "test-install: ok" or one line per failure, and exits 1 on any.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
dest=$(mktemp -d /tmp/casco-install.XXXXXX)
trap 'rm -rf "$dest"' EXIT
prefix=/opt/casco-test
fails=0
fail() { echo "test-install: FAIL: $*"; fails=$((fails + 1)); }

make -s -C "$repo" install DESTDIR="$dest" PREFIX=$prefix >"$dest.log" 2>&1 || { cat "$dest.log"; rm -f "$dest.log"; echo "test-install: FAIL: make install"; exit 1; }
rm -f "$dest.log"
root=$dest$prefix
bin=$root/sbin/casco
[ -x "$bin" ] || fail "no $prefix/sbin/casco"
# the commands, as the installed binary itself lists them
cmds=$(cd / && env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$bin" --help 2>&1 | awk '/^COMMANDS:/ { on = 1; next } /^[A-Z]/ { on = 0 } on && $1 != "help," && NF { sub(",", "", $1); print $1 }')
[ -n "$cmds" ] || fail "casco --help lists no commands"
for c in "" $cmds; do
  page=$root/share/man/man8/casco${c:+-$c}.8
  if [ ! -f "$page" ]; then fail "no man page $(basename "$page")"; continue; fi
  head -1 "$page" | grep -q '^\.TH CASCO' || fail "$(basename "$page") is not a man page: $(head -1 "$page")"
done
comp=$root/share/bash-completion/completions/casco
[ -f "$comp" ] && bash -n "$comp" || fail "no bash completion, or it does not parse"
run() { # run ARGS...: the installed casco, from /, environment emptied
  (cd / && env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$bin" "$@")
}
out=$(run --version) && echo "$out" | grep -q '^casco version [0-9]' && echo "$out" | grep -q '^spec: [0-9]' || fail "casco --version: $out"
out=$(run --help) && echo "$out" | grep -q 'casco runs containers' || fail "casco --help: $out"
out=$(run features) && echo "$out" | grep -q '"ociVersionMin"' || fail "casco features: $out"
want=$(cd "$root" && find . -type f | sort)

make -s -C "$repo" uninstall DESTDIR="$dest" PREFIX=$prefix >/dev/null || fail "make uninstall"
left=$(cd "$dest" && find . -type f)
[ -z "$left" ] || fail "left after uninstall: $left"
if [ $fails = 0 ]; then
  echo "test-install: ok ($(echo "$want" | wc -l) files installed and removed: casco, $(echo "$want" | grep -c '\.8$') man pages, the bash completion)"
fi
[ $fails = 0 ]
