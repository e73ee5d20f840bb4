package nsenter

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
)

// initHookWords reads the #define HOOK_* strings of init/hookwords.h.
func initHookWords(t *testing.T) map[string]string {
	t.Helper()
	src, err := os.ReadFile("init/hookwords.h")
	if err != nil {
		t.Fatal(err)
	}
	words := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^#define\s+(HOOK_[A-Z_]+)\s+("(?:[^"\\]|\\.)*")`).FindAllStringSubmatch(string(src), -1) {
		s, err := strconv.Unquote(m[2])
		if err != nil {
			t.Fatalf("hookwords.h: %s: %v", m[1], err)
		}
		words[m[1]] = s
	}
	return words
}

// TestHookWordsMatchInit: a hook the init runs fails in the same words as
// one casco runs itself: the init's strings are the Go runner's, and its
// account of how the hook ended is Go's (exec.ExitError's text).
func TestHookWordsMatchInit(t *testing.T) {
	c := initHookWords(t)
	for name, want := range map[string]string{
		"HOOK_FAILED":  HookFailed,
		"HOOK_TIMEOUT": HookTimeout,
		"HOOK_OUTPUT":  HookOutput,
	} {
		if got, ok := c[name]; !ok || got != want {
			t.Errorf("init/hookwords.h: %s is %q, the Go runner writes %q", name, got, want)
		}
	}

	// the init formats the end of the hook itself: as Go's runner reports it
	for _, tc := range []struct {
		script string
		init   string
	}{
		{"exit 7", fmt.Sprintf(c["HOOK_EXITED"], 7)},
		// Go names a signal in lower case; the init lowers the C library's name
		{"kill -TERM $$", fmt.Sprintf(c["HOOK_SIGNALED"], "terminated")},
	} {
		err := exec.Command("/bin/sh", "-c", tc.script).Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("sh -c %q: want an exit error, got %v", tc.script, err)
		}
		if exit.Error() != tc.init {
			t.Errorf("sh -c %q: Go's runner says %q, the init %q", tc.script, exit.Error(), tc.init)
		}
	}
	if c["HOOK_CORE_DUMPED"] != " (core dumped)" {
		t.Errorf("init/hookwords.h: HOOK_CORE_DUMPED is %q, Go's os.ProcessState says %q", c["HOOK_CORE_DUMPED"], " (core dumped)")
	}
}
