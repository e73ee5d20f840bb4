package libcontainer

import (
	"strings"
)

// capNumbers maps capability names to their numbers (linux/capability.h).
var capNumbers = map[string]uint{
	"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_FOWNER": 3,
	"CAP_FSETID": 4, "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8,
	"CAP_LINUX_IMMUTABLE": 9, "CAP_NET_BIND_SERVICE": 10, "CAP_NET_BROADCAST": 11,
	"CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13, "CAP_IPC_LOCK": 14, "CAP_IPC_OWNER": 15,
	"CAP_SYS_MODULE": 16, "CAP_SYS_RAWIO": 17, "CAP_SYS_CHROOT": 18, "CAP_SYS_PTRACE": 19,
	"CAP_SYS_PACCT": 20, "CAP_SYS_ADMIN": 21, "CAP_SYS_BOOT": 22, "CAP_SYS_NICE": 23,
	"CAP_SYS_RESOURCE": 24, "CAP_SYS_TIME": 25, "CAP_SYS_TTY_CONFIG": 26, "CAP_MKNOD": 27,
	"CAP_LEASE": 28, "CAP_AUDIT_WRITE": 29, "CAP_AUDIT_CONTROL": 30, "CAP_SETFCAP": 31,
	"CAP_MAC_OVERRIDE": 32, "CAP_MAC_ADMIN": 33, "CAP_SYSLOG": 34, "CAP_WAKE_ALARM": 35,
	"CAP_BLOCK_SUSPEND": 36, "CAP_AUDIT_READ": 37, "CAP_PERFMON": 38, "CAP_BPF": 39,
	"CAP_CHECKPOINT_RESTORE": 40,
}

// CapNames lists every capability casco knows, for `features`.
func CapNames() []string {
	names := make([]string, len(capNumbers))
	for n, i := range capNumbers {
		names[i] = n
	}
	return names
}

// capMask turns a list of capability names into a bit mask. Names are
// accepted with or without the CAP_ prefix, in any case. Names casco does
// not know are returned apart: runtime-spec 1.3 says a capability that
// cannot be mapped or granted is logged as a warning, not a failure (a
// config from a newer engine still runs), and runc ignores them too.
func capMask(names []string) (mask uint64, unknown []string) {
	for _, n := range names {
		up := strings.ToUpper(n)
		if !strings.HasPrefix(up, "CAP_") {
			up = "CAP_" + up
		}
		c, ok := capNumbers[up]
		if !ok {
			unknown = append(unknown, n)
			continue
		}
		mask |= 1 << c
	}
	return mask, unknown
}
