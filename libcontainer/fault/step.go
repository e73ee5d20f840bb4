//go:build !faultinject

// Package fault marks the numbered steps of an operation (create, start,
// exec, delete, events) where the test build (`-tags faultinject`, see
// inject.go) can kill casco or make the step fail, to prove that every
// step is undone. In the production build Step is empty and inlined away.
package fault

// Step marks step `step` of operation op.
func Step(op, step string) error { return nil }
