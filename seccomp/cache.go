package seccomp

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// The compiled-program cache.
//
// libseccomp takes tens of milliseconds on a real profile (podman's), more
// than the kernel needs to start a whole container, and engines start many
// containers with the same profile. CompileCached keeps programs in files
// named after a hash of everything the program depends on:
//
//   - the seccomp section, as canonical JSON (encoding/json of the spec
//     struct: fixed field order, no maps), minus listenerPath and
//     listenerMetadata, which do not change the program;
//   - the libseccomp version (its syscall tables and code generator);
//   - the native architecture and the kernel release (libseccomp asks the
//     kernel which actions exist);
//   - cacheFormat, bumped whenever this package changes what it generates.
//
// File layout (integers little endian):
//
//	magic   [8]byte  "CASCOBPF"
//	format  uint32   cacheFormat
//	length  uint32   program length in bytes
//	key     [32]byte the hash the file is named after
//	sum     [32]byte sha256 of the program
//	program [length]byte
//
// Files are written to a temporary name and renamed, so readers see whole
// files or nothing; a file that fails any check is ignored and rewritten.
// Only a directory owned by the caller and not writable by group or others is
// used: whoever can write a cached program can choose a container's filter.

const (
	cacheFormat    = 1
	cacheMagic     = "CASCOBPF"
	cacheHeaderLen = 8 + 4 + 4 + 32 + 32
)

// CompileCached is Compile with a cache of compiled programs in dir (for
// example /run/casco/seccomp-cache). Cache problems never fail the call: the
// program is then compiled as if there were no cache.
func CompileCached(cfg *specs.LinuxSeccomp, dir string) (*Filter, error) {
	if cfg == nil {
		return nil, errors.New("seccomp: no seccomp configuration")
	}
	flags, notify, err := filterFlags(cfg)
	if err != nil {
		return nil, err
	}
	key, err := cacheKey(cfg)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, hex.EncodeToString(key[:])+".bpf")

	usable := cacheDirUsable(dir)
	if usable {
		if prog, err := readCacheFile(path, key); err == nil {
			return &Filter{Program: prog, Flags: flags, Notify: notify}, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			logrus.Debugf("seccomp: ignoring cache entry %s: %v", path, err)
		}
	}

	prog, err := compileProgram(cfg)
	if err != nil {
		return nil, err
	}
	if usable {
		if err := writeCacheFile(dir, path, key, prog); err != nil {
			logrus.Debugf("seccomp: not caching program: %v", err)
		}
	}
	return &Filter{Program: prog, Flags: flags, Notify: notify}, nil
}

var (
	envOnce sync.Once
	envDesc string
)

// cacheEnv describes what, besides the profile, the program depends on.
func cacheEnv() string {
	envOnce.Do(func() {
		native, _ := libseccomp.GetNativeArch()
		var uts unix.Utsname
		_ = unix.Uname(&uts)
		envDesc = fmt.Sprintf("casco-seccomp format=%d libseccomp=%s arch=%s kernel=%s\n",
			cacheFormat, libVersion(), native, unix.ByteSliceToString(uts.Release[:]))
	})
	return envDesc
}

func cacheKey(cfg *specs.LinuxSeccomp) ([32]byte, error) {
	c := *cfg
	c.ListenerPath, c.ListenerMetadata = "", ""
	j, err := json.Marshal(&c)
	if err != nil {
		return [32]byte{}, fmt.Errorf("seccomp: encoding profile: %w", err)
	}
	h := sha256.New()
	h.Write([]byte(cacheEnv()))
	h.Write(j)
	var key [32]byte
	h.Sum(key[:0])
	return key, nil
}

// cacheDirUsable creates dir if needed and says whether it can be trusted.
func cacheDirUsable(dir string) bool {
	if dir == "" {
		return false
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		logrus.Debugf("seccomp: cache directory: %v", err)
		return false
	}
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		logrus.Debugf("seccomp: cache directory: %v", err)
		return false
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR || int(st.Uid) != os.Geteuid() || st.Mode&0o022 != 0 {
		logrus.Warnf("seccomp: not using cache directory %s: must be a directory owned by uid %d and not writable by group or others", dir, os.Geteuid())
		return false
	}
	return true
}

func readCacheFile(path string, key [32]byte) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) < cacheHeaderLen {
		return nil, fmt.Errorf("short file (%d bytes)", len(data))
	}
	if string(data[:8]) != cacheMagic {
		return nil, errors.New("bad magic")
	}
	if f := binary.LittleEndian.Uint32(data[8:]); f != cacheFormat {
		return nil, fmt.Errorf("format %d, want %d", f, cacheFormat)
	}
	n := binary.LittleEndian.Uint32(data[12:])
	prog := data[cacheHeaderLen:]
	if uint64(n) != uint64(len(prog)) || n == 0 || n%bpfInsnSize != 0 || n/bpfInsnSize > maxInsns {
		return nil, fmt.Errorf("program length %d, file holds %d bytes", n, len(prog))
	}
	if !bytes.Equal(data[16:48], key[:]) {
		return nil, errors.New("key mismatch")
	}
	if sum := sha256.Sum256(prog); !bytes.Equal(data[48:80], sum[:]) {
		return nil, errors.New("checksum mismatch")
	}
	return prog, nil
}

func writeCacheFile(dir, path string, key [32]byte, prog []byte) error {
	buf := make([]byte, cacheHeaderLen, cacheHeaderLen+len(prog))
	copy(buf, cacheMagic)
	binary.LittleEndian.PutUint32(buf[8:], cacheFormat)
	binary.LittleEndian.PutUint32(buf[12:], uint32(len(prog)))
	copy(buf[16:48], key[:])
	sum := sha256.Sum256(prog)
	copy(buf[48:80], sum[:])
	buf = append(buf, prog...)

	tmp, err := os.CreateTemp(dir, ".tmp-*.bpf")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(buf); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
