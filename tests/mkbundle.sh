#!/bin/sh
# mkbundle.sh DIR: a small OCI bundle in DIR: a busybox-static rootfs and a
# config.json whose container shows its isolation (hostname, PID 1, a user
# namespace's uid map, its own mounts). Used by `make demo`.
set -eu
dir=$1
"$(dirname "$0")/mkrootfs.sh" "$dir/rootfs"
cat > "$dir/config.json" <<'JSON'
{
	"ociVersion": "1.3.0",
	"root": {"path": "rootfs", "readonly": true},
	"hostname": "casco-demo",
	"process": {
		"terminal": false,
		"user": {"uid": 0, "gid": 0},
		"cwd": "/",
		"env": ["PATH=/bin", "TERM=xterm"],
		"args": ["sh", "-c", "echo \"hostname:  $(hostname)\"; echo \"uid_map:   $(cat /proc/self/uid_map)\"; echo '-- ps: the container sees only itself, as PID 1'; ps -o pid,user,args; echo '-- its mounts'; cat /proc/self/mounts"],
		"capabilities": {
			"bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
			"effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
			"permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
		},
		"rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
		"noNewPrivileges": true
	},
	"mounts": [
		{"destination": "/proc", "type": "proc", "source": "proc"},
		{"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
		{"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
		{"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
		{"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}
	],
	"linux": {
		"uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
		"gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
		"namespaces": [
			{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"},
			{"type": "mount"}, {"type": "user"}, {"type": "cgroup"}
		],
		"maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
		"readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
	}
}
JSON
echo "$dir"
