package nsenter

// The words of a failed hook, runc's, which engines and scripts match on.
// casco's hook runner (libcontainer) writes them from these, the init
// (createContainer and startContainer hooks) from init/hookwords.h:
// TestHookWordsMatchInit holds the two equal. Each is a format C's printf
// and Go's fmt read alike.
const (
	// HookFailed starts the error: the hook's kind and its index in the list.
	HookFailed = "error running %s hook #%d: "
	// HookTimeout is why a hook that ran past its timeout (seconds) failed.
	HookTimeout = "hook ran past specified timeout of %.1fs"
	// HookOutput follows why it failed: what the hook wrote to stdout and stderr.
	HookOutput = ", stdout: %s, stderr: %s"
)
