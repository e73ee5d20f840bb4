package main

/*
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

// The write end of the signal pipe: all a C signal handler can hand to Go.
static volatile sig_atomic_t casco_sigpipe = -1;

static void casco_on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	(void)!write(casco_sigpipe, &b, 1); // non-blocking: a full pipe drops it
	errno = saved;
}

// casco_catch sends sig to the pipe fd. SA_ONSTACK: Go's threads run on
// small stacks and keep an alternate one for signals. The signal is also
// unblocked in this thread, in case casco inherited it blocked (os/signal
// does the same on its own thread).
static int casco_catch(int fd, int sig)
{
	struct sigaction sa;
	sigset_t set;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = casco_on_signal;
	sa.sa_flags = SA_ONSTACK | SA_RESTART;
	sigfillset(&sa.sa_mask);
	casco_sigpipe = fd;
	if (sigaction(sig, &sa, NULL) < 0)
		return -1;
	sigemptyset(&set);
	sigaddset(&set, sig);
	return pthread_sigmask(SIG_UNBLOCK, &set, NULL) == 0 ? 0 : -1;
}
*/
import "C"

import (
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/casco-runtime/casco/libcontainer"
)

// signalCatcher holds every signal sent to a foreground run or exec, to
// pass on to the container's process once that runs, as runc does.
type signalCatcher struct {
	ch    chan os.Signal
	ready chan struct{}
	// abort is readable once SIGTERM, SIGINT or SIGHUP came before the
	// container's process runs: the caller stops waiting for the init and
	// removes what it made (libcontainer's CreateOpts.Abort).
	abort          *os.File
	abortR, abortW int        // the pipe's raw ends: never made blocking by (*os.File).Fd
	mu             sync.Mutex // running and the abort pipe change together
	running        bool
}

// stopSignals end a run, create or exec that is still waiting for the
// container's init; after that, they are the container's.
var stopSignals = []unix.Signal{unix.SIGTERM, unix.SIGINT, unix.SIGHUP}

func isStopSignal(sig os.Signal) bool {
	for _, s := range stopSignals {
		if sig == s {
			return true
		}
	}
	return false
}

// catchStop is for the commands that pass no signals on (create, and run
// or exec --detach): the stop signals only make the abort pipe readable.
func catchStop() (*os.File, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return nil, fmt.Errorf("signal pipe: %w", err)
	}
	for _, sig := range stopSignals {
		if r, err := C.casco_catch(C.int(p[1]), C.int(sig)); r != 0 {
			unix.Close(p[0])
			unix.Close(p[1])
			return nil, fmt.Errorf("catch signal %d: %w", sig, err)
		}
	}
	return os.NewFile(uintptr(p[0]), "abort"), nil
}

// goOwned are the signals the Go runtime must go on handling itself: it
// turns them into panics or crashes when the kernel raises them for a fault,
// and SIGPIPE decides what a broken stdout does. os/signal catches them.
var goOwned = []os.Signal{unix.SIGSEGV, unix.SIGBUS, unix.SIGFPE, unix.SIGILL, unix.SIGTRAP, unix.SIGABRT, unix.SIGSYS, unix.SIGPIPE}

// catchSignals starts catching every signal a process can catch, except
// SIGCHLD (ours), the Go runtime's SIGURG and SIGPROF, and the C library's
// 32 and 33 (os/signal leaves out the same).
//
// Most go through a C handler writing their number to a pipe: os/signal
// enables each signal with a round trip to the Go runtime's signal thread,
// for all 64 of them 1.5-3 ms and ~130 context switches per container on
// these machines, and ~1.4 ms of CPU. The few the runtime must own are
// caught by os/signal in the background, while the container is created.
func catchSignals() (*signalCatcher, error) {
	s := &signalCatcher{ch: make(chan os.Signal, 64), ready: make(chan struct{})}
	var p, a [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return nil, fmt.Errorf("signal pipe: %w", err)
	}
	if err := unix.Pipe2(a[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return nil, fmt.Errorf("signal pipe: %w", err)
	}
	s.abortR, s.abortW = a[0], a[1]
	s.abort = os.NewFile(uintptr(a[0]), "abort")
	for sig := 1; sig <= 64; sig++ {
		if !cCaught(unix.Signal(sig)) {
			continue
		}
		// EINVAL: one the C library keeps for itself
		if r, err := C.casco_catch(C.int(p[1]), C.int(sig)); r != 0 && err != unix.EINVAL {
			unix.Close(p[0])
			unix.Close(p[1])
			return nil, fmt.Errorf("catch signal %d: %w", sig, err)
		}
	}
	go s.readPipe(os.NewFile(uintptr(p[0]), "signals"))
	go func() {
		signal.Notify(s.ch, goOwned...)
		close(s.ready)
	}()
	return s, nil
}

// cCaught says whether sig goes through the C handler.
func cCaught(sig unix.Signal) bool {
	switch sig {
	case unix.SIGKILL, unix.SIGSTOP, unix.SIGCHLD, unix.SIGURG, unix.SIGPROF:
		return false
	case 32, 33: // glibc's own, for its threads
		return false
	}
	for _, g := range goOwned {
		if g == sig {
			return false
		}
	}
	return true
}

// readPipe turns the numbers the C handler wrote into signals on s.ch.
func (s *signalCatcher) readPipe(r *os.File) {
	buf := make([]byte, 64)
	for {
		n, err := r.Read(buf)
		if err != nil {
			return
		}
		for _, b := range buf[:n] {
			sig := syscall.Signal(b)
			s.mu.Lock()
			aborting := !s.running && isStopSignal(sig)
			if aborting {
				unix.Write(s.abortW, []byte{b})
			}
			s.mu.Unlock()
			if !aborting {
				s.ch <- sig
			}
		}
	}
}

// wait returns once every signal is caught: call it before the container's
// process may run, so that no signal meant for it ends casco instead.
func (s *signalCatcher) wait() { <-s.ready }

// forward passes caught signals to the process until it exits and returns
// its exit code, 128+signal when killed, as a shell would. It never stops
// catching: a signal that arrives while casco removes the container should
// not cut that short.
func (s *signalCatcher) forward(p *libcontainer.Init, tty *terminal) int {
	s.wait()
	// from now on a stop signal is the process's; one that came while it
	// was being started and nobody waited any more is passed on too
	s.mu.Lock()
	s.running = true
	var pending [16]byte
	if n, _ := unix.Read(s.abortR, pending[:]); n > 0 {
		for _, b := range pending[:n] {
			unix.Kill(p.Pid, syscall.Signal(b))
		}
	}
	s.mu.Unlock()
	done := make(chan syscall.WaitStatus, 1)
	go func() {
		ws, _ := p.Wait()
		done <- ws
	}()
	for {
		select {
		case ws := <-done:
			if tty != nil {
				tty.drain()
			}
			if ws.Signaled() {
				return 128 + int(ws.Signal())
			}
			return ws.ExitStatus()
		case sig := <-s.ch:
			switch sig {
			case unix.SIGWINCH:
				if tty != nil {
					tty.resize()
				}
			default:
				unix.Kill(p.Pid, sig.(syscall.Signal))
			}
		}
	}
}
