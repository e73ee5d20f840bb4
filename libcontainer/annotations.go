package libcontainer

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/casco-runtime/casco/seccomp"
)

// crun's extensions to OCI: annotations under run.oci. that podman (and
// other engines written for crun) put in config.json. Each one crun's man
// page documents is either honoured as crun honours it or refused with an
// error naming it, so that a config written for crun never runs with one
// of them quietly dropped. Other run.oci.* keys are no more crun's than
// casco's (run.oci.krun.* belongs to a handler) and are left alone, as
// crun leaves them.
const (
	annKeepOriginalGroups   = "run.oci.keep_original_groups"
	annSeccompFailUnknown   = "run.oci.seccomp_fail_unknown_syscall"
	annTimensOffset         = "run.oci.timens_offset"
	annHooksStdout          = "run.oci.hooks.stdout"
	annHooksStderr          = "run.oci.hooks.stderr"
	annSystemdSubgroup      = "run.oci.systemd.subgroup"
	annDelegateCgroup       = "run.oci.delegate-cgroup"
	annMountContextType     = "run.oci.mount_context_type"
	annSeccompReceiver      = "run.oci.seccomp.receiver"
	annSeccompPlugins       = "run.oci.seccomp.plugins"
	annSeccompBPFData       = "run.oci.seccomp_bpf_data"
	annPidfdReceiver        = "run.oci.pidfd_receiver"
	annSystemdForceCgroupV1 = "run.oci.systemd.force_cgroup_v1"
	annHandler              = "run.oci.handler"
)

// honouredAnnotations check the value of each crun annotation casco acts
// on; the check runs when the bundle is loaded, before anything is made.
var honouredAnnotations = map[string]func(s *specs.Spec, v string) error{
	annKeepOriginalGroups: func(*specs.Spec, string) error { return nil },
	annSeccompFailUnknown: checkSeccompNames,
	annTimensOffset:       checkTimensAnnotation,
	annHooksStdout:        checkHookOutput,
	annHooksStderr:        checkHookOutput,
	annSystemdSubgroup:    checkSystemdSubgroup,
	annMountContextType:   checkMountContextType,
	annPidfdReceiver:      checkPidfdReceiver,
	annSeccompBPFData:     checkSeccompBPFData,
}

// refusedAnnotations say why casco refuses the rest of crun's annotations.
var refusedAnnotations = map[string]string{
	annDelegateCgroup:       "casco does not make a delegated sub-cgroup (it needs run.oci.systemd.subgroup, which casco does not support)",
	annSeccompReceiver:      "casco does not send the seccomp listener to a socket named by an annotation (use linux.seccomp.listenerPath)",
	annSeccompPlugins:       "casco does not load seccomp notification plugins",
	annSystemdForceCgroupV1: "casco does not mount a named cgroup v1 hierarchy over the container's cgroup mount",
	annHandler:              "casco has no krun or wasm handler: it runs the process itself",
}

// validateAnnotations refuses a crun annotation casco does not support and
// a supported one whose value is wrong, naming the annotation.
func validateAnnotations(s *specs.Spec) error {
	keys := make([]string, 0, len(s.Annotations))
	for k := range s.Annotations {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the same config always fails on the same annotation
	for _, k := range keys {
		v := s.Annotations[k]
		if why, ok := refusedAnnotations[k]; ok {
			return fmt.Errorf("annotation %s=%q: %s", k, v, why)
		}
		if check, ok := honouredAnnotations[k]; ok {
			if err := check(s, v); err != nil {
				return fmt.Errorf("annotation %s=%q: %w", k, v, err)
			}
		}
	}
	return nil
}

// UnderstoodAnnotations are the crun annotations casco honours, for the
// features document's potentiallyUnsafeConfigAnnotations.
func UnderstoodAnnotations() []string {
	names := make([]string, 0, len(honouredAnnotations))
	for k := range honouredAnnotations {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// keepOriginalGroups: run.oci.keep_original_groups leaves the process the
// supplementary groups it inherited from the caller (setgroups is not
// called, additionalGids are not set). Under rootless podman those are the
// user's own groups, which a setgroups-denied user namespace could never
// give back; "0" asks for the usual setgroups.
func keepOriginalGroups(s *specs.Spec) bool {
	v, ok := s.Annotations[annKeepOriginalGroups]
	return ok && v != "0"
}

// checkSeccompNames: with run.oci.seccomp_fail_unknown_syscall on, a
// syscall name libseccomp does not know is an error, not a skipped rule.
func checkSeccompNames(s *specs.Spec, v string) error {
	if v == "0" || s.Linux.Seccomp == nil {
		return nil
	}
	if name := seccomp.UnknownSyscall(s.Linux.Seccomp); name != "" {
		return fmt.Errorf("linux.seccomp: syscall %q is unknown to libseccomp %s", name, seccomp.LibseccompVersion())
	}
	return nil
}

// checkSeccompBPFData: run.oci.seccomp_bpf_data is a BPF program in
// base64 that is loaded in place of linux.seccomp (whose flags still
// apply), as crun does; podman sends it for a precompiled profile.
func checkSeccompBPFData(s *specs.Spec, v string) error {
	_, err := rawSeccompFilter(s, v)
	return err
}

func rawSeccompFilter(s *specs.Spec, v string) (*seccomp.Filter, error) {
	prog, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("not base64: %w", err)
	}
	return seccomp.Raw(prog, s.Linux.Seccomp)
}

// containerSeccomp is the filter the container's processes get: the
// program run.oci.seccomp_bpf_data gives, else linux.seccomp compiled
// (through the cache: a large profile costs tens of ms), else none.
func containerSeccomp(s *specs.Spec, cacheDir string) (*seccomp.Filter, error) {
	f, err := compileSeccomp(s, cacheDir)
	if f != nil {
		// runc's words for the same fact, which its users' scripts look for
		logrus.WithField("flags", seccomp.FlagNames(f.Flags)).Debugf("seccomp filter flags: %d", f.Flags)
	}
	return f, err
}

func compileSeccomp(s *specs.Spec, cacheDir string) (*seccomp.Filter, error) {
	if v, ok := s.Annotations[annSeccompBPFData]; ok {
		f, err := rawSeccompFilter(s, v)
		if err != nil {
			return nil, fmt.Errorf("annotation %s: %w", annSeccompBPFData, err)
		}
		return f, nil
	}
	if s.Linux.Seccomp == nil {
		return nil, nil
	}
	return seccomp.CompileCached(s.Linux.Seccomp, cacheDir)
}

// timensClocks are the clocks a time namespace offsets, by the names and
// numbers /proc/PID/timens_offsets accepts.
var timensClocks = map[string]string{
	"monotonic": "monotonic", "1": "monotonic",
	"boottime": "boottime", "7": "boottime",
}

// annotationTimeOffsets parses run.oci.timens_offset: lines of
// "CLOCK SECS NSECS", as /proc/PID/timens_offsets takes them.
func annotationTimeOffsets(v string) (map[string]specs.LinuxTimeOffset, error) {
	offs := map[string]specs.LinuxTimeOffset{}
	for _, line := range strings.Split(v, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("%q is not \"CLOCK SECS NSECS\"", line)
		}
		clock, ok := timensClocks[f[0]]
		if !ok {
			return nil, fmt.Errorf("clock %q: only monotonic and boottime have offsets", f[0])
		}
		secs, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("seconds %q: %w", f[1], err)
		}
		ns, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil || ns >= 1e9 {
			return nil, fmt.Errorf("nanoseconds %q: not in [0, 999999999]", f[2])
		}
		if _, dup := offs[clock]; dup {
			return nil, fmt.Errorf("clock %s given twice", clock)
		}
		offs[clock] = specs.LinuxTimeOffset{Secs: secs, Nanosecs: uint32(ns)}
	}
	return offs, nil
}

// checkTimensAnnotation: the offsets are written into a time namespace the
// container creates; crun drops them silently without one, casco says so.
func checkTimensAnnotation(s *specs.Spec, v string) error {
	offs, err := annotationTimeOffsets(v)
	if err != nil {
		return err
	}
	if !hasNamespace(s, specs.TimeNamespace) || nsPath(s, specs.TimeNamespace) != "" {
		return fmt.Errorf("offsets are set in a new time namespace: linux.namespaces has none")
	}
	for clock, off := range offs {
		if have, ok := s.Linux.TimeOffsets[clock]; ok && have != off {
			return fmt.Errorf("clock %s: linux.timeOffsets gives it %d s %d ns already", clock, have.Secs, have.Nanosecs)
		}
	}
	return nil
}

// timeOffsets are the container's clock offsets: linux.timeOffsets and
// run.oci.timens_offset together (validateAnnotations refused a conflict).
func timeOffsets(s *specs.Spec) map[string]specs.LinuxTimeOffset {
	v, ok := s.Annotations[annTimensOffset]
	if !ok {
		return s.Linux.TimeOffsets
	}
	offs, err := annotationTimeOffsets(v)
	if err != nil {
		return s.Linux.TimeOffsets
	}
	for clock, off := range s.Linux.TimeOffsets {
		offs[clock] = off
	}
	return offs
}

// checkHookOutput: the hooks' output file is opened by the runtime on the
// host, so its path must be absolute to mean one file whatever the cwd.
func checkHookOutput(_ *specs.Spec, v string) error {
	if !filepath.IsAbs(v) {
		return fmt.Errorf("the hooks' output file must be an absolute path")
	}
	return nil
}

// openHookOutput opens the file run.oci.hooks.stdout or .stderr names, as
// crun does: created if missing, appended to. nil when the annotation is
// not set; created says the open made the file, for the caller to remove
// it if it gives up.
//
// crun opens the path as given, following every symlink and waiting on a
// FIFO. casco cannot trust the path that far: engines pass an image's
// annotations into config.json (podman 4 does), so an image could name
// the file root appends to. The open therefore
//   - does not follow a symlink at the last component (O_NOFOLLOW), nor a
//     /proc magic link anywhere (RESOLVE_NO_MAGICLINKS), so the path means
//     the file it names; symlinks of the host's own layout in the parent
//     path (/var/run) still work, and the kernel's protected_symlinks
//     keeps a user's link in a sticky directory from redirecting root;
//   - never waits (O_NONBLOCK: a FIFO without reader fails at once, one
//     with a reader is refused below) and never takes a controlling
//     terminal (O_NOCTTY);
//   - accepts only a regular file, not executable (a script appended to
//     runs as whoever runs it), on a filesystem that holds files rather
//     than the kernel's knobs (procfs, sysfs, cgroupfs and their kin,
//     where appending to core_pattern or release_agent would run code).
//
// /dev/stdout and /dev/stderr, which crun's users name to see the hooks'
// output with the runtime's own, are casco's own streams: duplicated,
// not reopened through /proc.
func openHookOutput(annotations map[string]string, key string) (f *os.File, created bool, err error) {
	path, ok := annotations[key]
	if !ok {
		return nil, false, nil
	}
	switch path {
	case "/dev/stdout":
		f, err = dupStream(os.Stdout)
	case "/dev/stderr":
		f, err = dupStream(os.Stderr)
	default:
		f, created, err = openHostLog(path)
	}
	if err != nil {
		return nil, false, fmt.Errorf("annotation %s: %w", key, err)
	}
	return f, created, nil
}

// dupStream is a new descriptor for one of casco's own output streams.
func dupStream(s *os.File) (*os.File, error) {
	fd, err := unix.FcntlInt(s.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("dup %s: %w", s.Name(), err)
	}
	return os.NewFile(uintptr(fd), s.Name()), nil
}

// hostLogCreateTries bounds openHostLog's retries when the file appears
// and disappears between its two opens.
const hostLogCreateTries = 16

// openHostLog opens a host file for appending as openHookOutput says,
// creating it (0600) if missing. The file is first opened without
// O_CREAT so that created is true only when this open made it.
func openHostLog(path string) (*os.File, bool, error) {
	const flags = unix.O_WRONLY | unix.O_APPEND | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_NOCTTY | unix.O_CLOEXEC
	open := func(create bool) (int, error) {
		how := &unix.OpenHow{Flags: flags, Resolve: unix.RESOLVE_NO_MAGICLINKS}
		if create { // openat2 takes a mode only with O_CREAT
			how.Flags |= unix.O_CREAT | unix.O_EXCL
			how.Mode = 0o600
		}
		return unix.Openat2(unix.AT_FDCWD, path, how)
	}
	for i := 0; i < hostLogCreateTries; i++ {
		fd, err := open(false)
		created := false
		if err == unix.ENOENT {
			fd, err = open(true)
			if err == unix.EEXIST {
				continue // made by someone else meanwhile: open it as found
			}
			created = err == nil
		}
		if err == unix.ELOOP {
			return nil, false, fmt.Errorf("%s: a symlink, which casco does not follow there (name the file itself)", path)
		}
		if err != nil {
			return nil, false, &os.PathError{Op: "open", Path: path, Err: err}
		}
		if err := checkHostLog(fd); err != nil {
			unix.Close(fd)
			if created {
				os.Remove(path)
			}
			return nil, false, fmt.Errorf("%s: %w", path, err)
		}
		// O_NONBLOCK was for the open; the hooks get an ordinary file.
		if err := unix.SetNonblock(fd, false); err != nil {
			unix.Close(fd)
			return nil, false, fmt.Errorf("%s: %w", path, err)
		}
		return os.NewFile(uintptr(fd), path), created, nil
	}
	return nil, false, fmt.Errorf("%s: created and removed by someone else %d times while casco opened it", path, hostLogCreateTries)
}

// checkHostLog refuses an opened hook output file that is not a plain
// log file (see openHookOutput).
func checkHostLog(fd int) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("fstat: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return fmt.Errorf("not a regular file (%s)", fileKind(st.Mode))
	}
	if st.Mode&0o111 != 0 {
		return fmt.Errorf("an executable file (mode %04o), not a log", st.Mode&0o7777)
	}
	var fs unix.Statfs_t
	if err := unix.Fstatfs(fd, &fs); err != nil {
		return fmt.Errorf("fstatfs: %w", err)
	}
	if name, ok := kernelFilesystems[int64(fs.Type)]; ok {
		return fmt.Errorf("on %s, the kernel's interface rather than a file", name)
	}
	return nil
}

// kernelFilesystems are the filesystems whose files are the kernel's
// controls: writing to one changes the host, not a log.
var kernelFilesystems = map[int64]string{
	unix.PROC_SUPER_MAGIC:    "procfs",
	unix.SYSFS_MAGIC:         "sysfs",
	unix.CGROUP_SUPER_MAGIC:  "cgroupfs",
	unix.CGROUP2_SUPER_MAGIC: "cgroup2fs",
	unix.DEBUGFS_MAGIC:       "debugfs",
	unix.TRACEFS_MAGIC:       "tracefs",
	unix.SECURITYFS_MAGIC:    "securityfs",
	unix.SELINUX_MAGIC:       "selinuxfs",
	unix.SMACK_MAGIC:         "smackfs",
	unix.BPF_FS_MAGIC:        "bpffs",
	0x62656570:               "configfs", // CONFIGFS_MAGIC, not in x/sys/unix
	unix.EFIVARFS_MAGIC:      "efivarfs",
	unix.PSTOREFS_MAGIC:      "pstore",
	unix.BINFMTFS_MAGIC:      "binfmt_misc",
	unix.DEVPTS_SUPER_MAGIC:  "devpts",
}

// fileKind names a file type for an error message.
func fileKind(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return "a directory"
	case unix.S_IFIFO:
		return "a FIFO"
	case unix.S_IFSOCK:
		return "a socket"
	case unix.S_IFCHR:
		return "a character device"
	case unix.S_IFBLK:
		return "a block device"
	case unix.S_IFLNK:
		return "a symlink"
	}
	return fmt.Sprintf("type %#o", mode&unix.S_IFMT)
}

// checkPidfdReceiver: crun sends a pidfd of the container's init over the
// unix socket named, as casco does for --pidfd-socket.
func checkPidfdReceiver(_ *specs.Spec, v string) error {
	if !filepath.IsAbs(v) {
		return fmt.Errorf("the socket must be an absolute path")
	}
	return nil
}

// sendPidfdReceiver sends the init's pidfd where run.oci.pidfd_receiver
// says, if it says.
func sendPidfdReceiver(s *specs.Spec, pid int) error {
	path, ok := s.Annotations[annPidfdReceiver]
	if !ok {
		return nil
	}
	if err := sendPidfd(path, pid); err != nil {
		return fmt.Errorf("annotation %s: %w", annPidfdReceiver, err)
	}
	return nil
}

// checkSystemdSubgroup: crun puts the container in a sub-cgroup of the
// systemd scope named by this annotation; "" (crun's default on cgroup v1)
// is what casco always does: the processes go in the scope itself.
func checkSystemdSubgroup(_ *specs.Spec, v string) error {
	if v != "" {
		return fmt.Errorf("casco places the container in its cgroup itself, not in a sub-cgroup of it: only \"\" is supported")
	}
	return nil
}

// checkMountContextType: the SELinux context mount option for volumes.
// casco applies no SELinux mount labels (features: selinux disabled), so
// any valid type has nothing to change; an invalid one is refused as crun
// refuses it.
func checkMountContextType(_ *specs.Spec, v string) error {
	switch v {
	case "context", "fscontext", "defcontext", "rootcontext":
		return nil
	}
	return fmt.Errorf("not one of context, fscontext, defcontext, rootcontext")
}
