package main

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// go test -run '^TestDocs$' . -args -docs-out DIR writes the man pages to
// DIR/man8/ and the bash completion to DIR/casco.bash (make install).
var docsOut = flag.String("docs-out", "", "write the man pages and the bash completion under this directory")

// TestDocs checks that the man pages cover the command line as newApp
// defines it: a page per command, every flag on its command's page.
func TestDocs(t *testing.T) {
	app := newApp()
	pages := manPages(app)
	if len(pages) != len(app.Commands)+1 {
		t.Errorf("%d man pages for %d commands", len(pages), len(app.Commands))
	}
	main := pages["casco.8"]
	for _, f := range app.Flags {
		for _, n := range flagNames(f) {
			if !strings.Contains(main, manEscape(n)) {
				t.Errorf("casco.8 lacks the global flag %s", n)
			}
		}
	}
	for _, c := range app.Commands {
		page, ok := pages["casco-"+c.Name+".8"]
		if !ok {
			t.Errorf("no man page for %s", c.Name)
			continue
		}
		if !strings.Contains(main, `\fB`+manEscape(c.Name)+`\fR`) {
			t.Errorf("casco.8 does not list %s", c.Name)
		}
		for _, f := range c.Flags {
			for _, n := range flagNames(f) {
				if !strings.Contains(page, manEscape(n)) {
					t.Errorf("casco-%s.8 lacks %s", c.Name, n)
				}
			}
		}
	}
	for name, page := range pages {
		for i, line := range strings.Split(page, "\n") {
			if strings.HasPrefix(line, "'") || (strings.HasPrefix(line, ".") && !strings.HasPrefix(line, ".TH ") &&
				!strings.HasPrefix(line, ".SH ") && line != ".TP" && line != ".PP") {
				t.Errorf("%s line %d is a roff request it did not mean: %q", name, i+1, line)
			}
		}
	}
	if *docsOut == "" {
		return
	}
	dir := filepath.Join(*docsOut, "man8")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, page := range pages {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(*docsOut, "casco.bash"), []byte(bashCompletion(app)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBashCompletion runs the completion function in bash: what it offers
// for a few command lines.
func TestBashCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash:", err)
	}
	script := filepath.Join(t.TempDir(), "casco.bash")
	if err := os.WriteFile(script, []byte(bashCompletion(newApp())), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		line string // the words typed, the last one being completed
		want []string
		not  []string
	}{
		{"casco cre", []string{"create"}, []string{"run"}},
		{"casco --root /tmp/x ch", []string{"checkpoint"}, nil},
		{"casco --de", []string{"--debug"}, nil},
		{"casco delete -", []string{"--force", "-f", "--help"}, []string{"--debug"}},
		{"casco --log /dev/null exec --t", []string{"--tty"}, nil},
		{"casco run --bu", []string{"--bundle"}, nil},
	} {
		words := strings.Fields(tc.line)
		if strings.HasSuffix(tc.line, " ") {
			words = append(words, "")
		}
		cmd := exec.Command(bash, "-c", `source "$0"; COMP_WORDS=("${@}"); COMP_CWORD=$(($# - 1)); _casco; printf '%s\n' "${COMPREPLY[@]}"`, script)
		cmd.Args = append(cmd.Args, words...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v: %s", tc.line, err, out)
		}
		got := strings.Fields(string(out))
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("%q: offers %q, not %s", tc.line, got, w)
			}
		}
		for _, w := range tc.not {
			if slices.Contains(got, w) {
				t.Errorf("%q: offers %s", tc.line, w)
			}
		}
	}
}
