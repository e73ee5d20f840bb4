package security

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// raceOutcome is what a symlink-exchange race against the runtime's mount
// preparation achieved.
type raceOutcome struct {
	creates, failed int      // containers created, creates that failed
	resolutions     int      // mount destinations resolved under attack
	swaps           int64    // exchanges the attacker made
	escaped         []string // mounts missing from the container: they landed outside its root
	hostWritten     []string // entries made in the host directory the symlinks aim at
}

// symlinkRace: a volume (a host directory) is shared by the container and
// an attacker, who swaps each directory d<i> in it with a symlink s<i> to a
// host directory, as fast as it can (renameat2 RENAME_EXCHANGE). The
// container's config mounts a tmpfs at /vol/d<i>/m for every i; m does not
// exist, so the runtime also makes it. Each resolution must stay inside
// the root: every tmpfs is in the container's mountinfo, and nothing is
// created in the host directory. The attacker is a goroutine of this test,
// standing for any process (another container) that shares the volume.
func symlinkRace(t *testing.T, budget time.Duration, maxCreates, perCreate int) raceOutcome {
	var out raceOutcome
	r := newRT(t)
	vol := filepath.Join(t.TempDir(), "volume")
	outside := filepath.Join(t.TempDir(), "outside")
	// the host directories the symlinks name exist: a runtime that follows
	// them must find something to mount on
	emptyOutside := func() {
		for i := 0; i < perCreate; i++ {
			os.RemoveAll(filepath.Join(outside, fmt.Sprint(i)))
			os.MkdirAll(filepath.Join(outside, fmt.Sprint(i)), 0o755)
		}
	}
	emptyOutside()
	b := newBundle(t, "sleep", "1000")
	b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/vol", Type: "bind", Source: vol, Options: []string{"rbind"}})
	for i := 0; i < perCreate; i++ {
		dst := fmt.Sprintf("/vol/d%d/m", i)
		b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: dst, Type: "tmpfs", Source: fmt.Sprintf("race-%d", i), Options: []string{"size=16k"}})
		// what the symlink names exists inside the root as well: resolved
		// there, the mount succeeds and stays in the container
		os.MkdirAll(filepath.Join(b.Rootfs, outside, fmt.Sprint(i)), 0o755)
	}
	reset := func() {
		os.RemoveAll(vol)
		os.MkdirAll(vol, 0o755)
		for i := 0; i < perCreate; i++ {
			os.Mkdir(filepath.Join(vol, fmt.Sprintf("d%d", i)), 0o755)
			target := filepath.Join(outside, fmt.Sprint(i))
			if i%2 == 1 { // half relative, climbing out of the root
				target = "../../../../../../../../.." + target
			}
			os.Symlink(target, filepath.Join(vol, fmt.Sprintf("s%d", i)))
		}
	}
	deadline := time.Now().Add(budget)
	for out.creates+out.failed < maxCreates && time.Now().Before(deadline) {
		reset()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var swaps atomic.Int64
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				i := n % perCreate
				if unix.Renameat2(unix.AT_FDCWD, filepath.Join(vol, fmt.Sprintf("d%d", i)), unix.AT_FDCWD, filepath.Join(vol, fmt.Sprintf("s%d", i)), unix.RENAME_EXCHANGE) == nil {
					swaps.Add(1)
				}
			}
		}()
		id := newID("race")
		pid, res := r.create(b, id)
		close(stop)
		wg.Wait()
		out.swaps += swaps.Load()
		if pid == 0 {
			out.failed++
			if strings.Contains(res.stderr, unix.EAGAIN.Error()) {
				// the kernel's "retry" of a raced scoped lookup: the
				// runtime must retry it, not give up its own create
				t.Errorf("a create under attack gave up on EAGAIN: %s", strings.TrimSpace(res.stderr))
			} else if out.failed == 1 {
				t.Logf("a create under attack failed (allowed, if nothing escaped): %s", strings.TrimSpace(res.stderr))
			}
		} else {
			out.creates++
			out.resolutions += perCreate
			seen := map[string]bool{}
			for _, m := range mounts(fmt.Sprintf("/proc/%d/mountinfo", pid)) {
				if m.FSType == "tmpfs" && strings.HasPrefix(m.Source, "race-") {
					seen[m.Source] = true
				}
			}
			for i := 0; i < perCreate; i++ {
				if src := fmt.Sprintf("race-%d", i); !seen[src] {
					out.escaped = append(out.escaped, fmt.Sprintf("%s (container %s)", src, id))
				}
			}
		}
		r.run("delete", "--force", id)
		filepath.Walk(outside, func(p string, info os.FileInfo, err error) error {
			if err == nil && p != outside && !(info.IsDir() && filepath.Dir(p) == outside) {
				out.hostWritten = append(out.hostWritten, p)
			}
			return nil
		})
		emptyOutside()
	}
	t.Logf("%d creates (%d failed), %d mount destinations resolved under attack, %d swaps", out.creates, out.failed, out.resolutions, out.swaps)
	if out.creates == 0 && len(out.hostWritten) == 0 {
		t.Fatalf("no create succeeded under attack: the race was never run")
	}
	return out
}

// CVE-2021-30465: symlink-exchange race on the destinations of mounts in a
// shared volume: no mount lands outside the container's root.
func TestCVE_2021_30465_MountTargetSwapRace(t *testing.T) {
	out := symlinkRace(t, 25*time.Second, 30, 50)
	if len(out.escaped) > 0 {
		t.Errorf("%d of %d mounts landed outside the root (missing from the container's mountinfo), e.g. %s", len(out.escaped), out.resolutions, out.escaped[0])
	}
}

// CVE-2024-45310: the runtime makes the missing parents of a mount's
// destination; racing a symlink, it must not create anything on the host.
func TestCVE_2024_45310_MkdirParentsRace(t *testing.T) {
	out := symlinkRace(t, 15*time.Second, 20, 40)
	if len(out.hostWritten) > 0 {
		t.Errorf("the runtime created %d entries outside the root, e.g. %s", len(out.hostWritten), out.hostWritten[0])
	}
}
