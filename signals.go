package main

import (
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/casco-runtime/casco/libcontainer"
)

// signalCatcher holds every signal sent to a foreground run or exec, to
// pass on to the container's process once that runs, as runc does.
type signalCatcher struct {
	ch    chan os.Signal
	ready chan struct{}
}

// catchSignals starts catching every signal in the background. os/signal
// enables each signal with a round trip to the Go runtime's signal thread:
// for all 64 of them that is 1.5-3 ms on these machines, so it overlaps with
// creating the container instead of coming before it. Until then a signal
// has its default effect, as it has anyway while casco itself starts.
func catchSignals() *signalCatcher {
	s := &signalCatcher{ch: make(chan os.Signal, 64), ready: make(chan struct{})}
	go func() {
		signal.Notify(s.ch)
		close(s.ready)
	}()
	return s
}

// wait returns once every signal is caught: call it before the container's
// process may run, so that no signal meant for it ends casco instead.
func (s *signalCatcher) wait() { <-s.ready }

// forward passes caught signals to the process until it exits and returns
// its exit code, 128+signal when killed, as a shell would. It never stops
// catching: that costs another round trip per signal, and a signal that
// arrives while casco removes the container should not cut that short.
func (s *signalCatcher) forward(p *libcontainer.Init, tty *terminal) int {
	s.wait()
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
			case unix.SIGCHLD, unix.SIGURG:
				// SIGCHLD is ours; SIGURG is the Go runtime's preemption signal
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
