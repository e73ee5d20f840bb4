//go:build !faultinject

package libcontainer

// fault marks a numbered step of an operation (create, start, exec,
// delete) where the test build (`-tags faultinject`, see fault_inject.go)
// can kill casco or make the step fail, to prove that every step is
// undone. In the production build it is empty and inlined away.
func fault(op, step string) error { return nil }
