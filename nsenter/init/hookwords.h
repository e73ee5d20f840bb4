/*
 * hookwords.h: the words of a failed hook, runc's, which engines and
 * scripts match on. casco's own hook runner (prestart, createRuntime,
 * poststart, poststop) writes them from package nsenter's constants
 * (hookwords.go), the init (createContainer, startContainer) from these:
 * TestHookWordsMatchInit holds the two equal. The strings are formats
 * both C's printf and Go's fmt read alike.
 */
#ifndef CASCO_HOOKWORDS_H
#define CASCO_HOOKWORDS_H

#define HOOK_FAILED "error running %s hook #%d: "           /* kind, index */
#define HOOK_TIMEOUT "hook ran past specified timeout of %.1fs" /* seconds */
#define HOOK_OUTPUT ", stdout: %s, stderr: %s"               /* after why it failed */
/* why it failed, in the words of Go's os.ProcessState */
#define HOOK_EXITED "exit status %d"
#define HOOK_SIGNALED "signal: %s" /* the signal's name, lower case */
#define HOOK_CORE_DUMPED " (core dumped)"

#endif
