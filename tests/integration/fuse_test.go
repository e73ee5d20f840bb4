package integration

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// flushHolder is a FUSE file system of one file, "f", served by the test
// itself. It answers every request but FLUSH and READ, which it holds
// until release. A process that closes the file (as exit does with every
// file still open) waits in the kernel for the answer: a process killed
// but not yet out of exit, as a slow NFS or FUSE server leaves one. A
// process that reads it waits too, unkillable: the kernel has handed the
// request over and waits it out, before its exit has begun.
type flushHolder struct {
	fd      int
	dir     string
	flushed chan int // the pid of each process whose FLUSH is held
	reads   chan int // the pid of each process whose READ is held
	once    sync.Once
}

// The FUSE wire protocol (linux/fuse.h): requests start with a 40-byte
// header, answers with a 16-byte one.
const (
	fuseLookup    = 1
	fuseForget    = 2
	fuseGetattr   = 3
	fuseOpen      = 14
	fuseRead      = 15
	fuseStatfs    = 17
	fuseRelease   = 18
	fuseFlush     = 25
	fuseInit      = 26
	fuseOpendir   = 27
	fuseReaddir   = 28
	fuseRelDir    = 29
	fuseInterrupt = 36
	fuseBatchFgt  = 42
	fuseRootIno   = 1
	fuseFileIno   = 2
)

// newFlushHolder mounts the file system on dir (made if missing) and
// serves it until the test ends, when it aborts whatever it holds and
// unmounts.
func newFlushHolder(t *testing.T, dir string) *flushHolder {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open("/dev/fuse", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no FUSE here, cannot hold a process in exit: %v", err)
	}
	opts := fmt.Sprintf("fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other", fd)
	if err := unix.Mount("casco-test", dir, "fuse", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		unix.Close(fd)
		t.Skipf("cannot mount FUSE on %s, cannot hold a process in exit: %v", dir, err)
	}
	h := &flushHolder{fd: fd, dir: dir, flushed: make(chan int, 16), reads: make(chan int, 16)}
	done := make(chan struct{})
	go func() { h.serve(); close(done) }()
	t.Cleanup(func() {
		h.release()
		select {
		case <-done:
			unix.Close(fd)
		case <-time.After(hangGuard):
			t.Errorf("the FUSE server on %s still reads after a forced unmount", dir)
		}
	})
	return h
}

// release aborts the connection (a forced unmount does, for FUSE): every
// request held ends with an error, so the processes waiting finish their
// exit, and the server's read ends. Then the mount goes.
func (h *flushHolder) release() {
	h.once.Do(func() {
		unix.Unmount(h.dir, unix.MNT_FORCE)
		unix.Unmount(h.dir, unix.MNT_DETACH)
	})
}

func (h *flushHolder) serve() {
	buf := make([]byte, 1<<20)
	for {
		n, err := unix.Read(h.fd, buf)
		if errors.Is(err, unix.EINTR) || errors.Is(err, unix.ENOENT) {
			continue // ENOENT: a request that was interrupted meanwhile
		}
		if err != nil || n < 40 {
			return // aborted, unmounted or closed: done
		}
		req := buf[:n]
		op := binary.LittleEndian.Uint32(req[4:])
		unique := binary.LittleEndian.Uint64(req[8:])
		node := binary.LittleEndian.Uint64(req[16:])
		pid := binary.LittleEndian.Uint32(req[32:])
		body := req[40:]
		switch op {
		case fuseForget, fuseBatchFgt, fuseInterrupt:
			// no answer expected; an interrupted FLUSH stays held
		case fuseFlush:
			h.flushed <- int(pid) // held: no answer until release
		case fuseRead:
			h.reads <- int(pid) // held: no answer until release
		case fuseInit:
			out := make([]byte, 64)
			le := binary.LittleEndian
			le.PutUint32(out[0:], 7)                   // major
			le.PutUint32(out[4:], 31)                  // minor
			le.PutUint32(out[8:], le.Uint32(body[8:])) // max_readahead
			le.PutUint16(out[16:], 16)                 // max_background
			le.PutUint16(out[18:], 12)                 // congestion_threshold
			le.PutUint32(out[20:], 1<<16)              // max_write
			le.PutUint32(out[24:], 1)                  // time_gran
			h.answer(unique, 0, out)
		case fuseLookup:
			name := string(body)
			if i := len(name) - 1; i >= 0 && name[i] == 0 {
				name = name[:i]
			}
			if node != fuseRootIno || name != "f" {
				h.answer(unique, unix.ENOENT, nil)
				continue
			}
			out := make([]byte, 40, 128) // nodeid, generation, valid times: 0 = no caching
			binary.LittleEndian.PutUint64(out[0:], fuseFileIno)
			h.answer(unique, 0, append(out, fuseAttr(fuseFileIno)...))
		case fuseGetattr:
			h.answer(unique, 0, append(make([]byte, 16), fuseAttr(node)...))
		case fuseOpen, fuseOpendir:
			h.answer(unique, 0, make([]byte, 16))
		case fuseStatfs:
			out := make([]byte, 80)
			binary.LittleEndian.PutUint32(out[40:], 4096) // bsize
			binary.LittleEndian.PutUint32(out[44:], 255)  // namelen
			binary.LittleEndian.PutUint32(out[48:], 4096) // frsize
			h.answer(unique, 0, out)
		case fuseRelease, fuseRelDir, fuseReaddir:
			h.answer(unique, 0, nil) // READDIR: an empty directory
		default:
			h.answer(unique, unix.ENOSYS, nil)
		}
	}
}

// fuseAttr is a struct fuse_attr: the root directory or the file, of one
// page (a read of an empty file never asks the server).
func fuseAttr(ino uint64) []byte {
	a := make([]byte, 88)
	le := binary.LittleEndian
	le.PutUint64(a[0:], ino)
	le.PutUint64(a[8:], 4096) // size
	mode, nlink := uint32(unix.S_IFREG|0o644), uint32(1)
	if ino == fuseRootIno {
		mode, nlink = unix.S_IFDIR|0o755, 2
	}
	le.PutUint32(a[60:], mode)
	le.PutUint32(a[64:], nlink)
	le.PutUint32(a[80:], 4096) // blksize
	return a
}

func (h *flushHolder) answer(unique uint64, errno unix.Errno, data []byte) {
	out := make([]byte, 16, 16+len(data))
	binary.LittleEndian.PutUint32(out[0:], uint32(16+len(data)))
	binary.LittleEndian.PutUint32(out[4:], uint32(-int32(errno)))
	binary.LittleEndian.PutUint64(out[8:], unique)
	unix.Write(h.fd, append(out, data...))
}
