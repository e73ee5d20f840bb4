// Command hangcriu stands in for `criu swrk 3` in the checkpoint tests
// (tests/integration/stall_test.go builds it): a CRIU that stops
// answering. HANGCRIU in its environment picks how:
//
//	silent  answers nothing at all, not even the version query
//	freeze  answers the version query (3.17.1); given a dump, freezes the
//	        cgroup it is asked to freeze, as CRIU does first, and then
//	        answers nothing more
//
// It never exits by itself: the runtime has to end it (or die: then it
// gets SIGKILL).
package main

import (
	"os"
	"path/filepath"
	"time"

	"github.com/checkpoint-restore/go-criu/v7/rpc"
	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"
)

func main() {
	// a runtime killed by the test's own guard takes this with it
	unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0)
	sock := os.NewFile(3, "criu-server")
	buf := make([]byte, 64*1024)
	for os.Getenv("HANGCRIU") == "freeze" {
		n, err := sock.Read(buf)
		if err != nil || n == 0 {
			os.Exit(1)
		}
		req := new(rpc.CriuReq)
		if err := proto.Unmarshal(buf[:n], req); err != nil {
			os.Exit(1)
		}
		if req.GetType() != rpc.CriuReqType_VERSION {
			freeze(req.GetOpts().GetFreezeCgroup())
			break
		}
		t := rpc.CriuReqType_VERSION
		resp := &rpc.CriuResp{Type: &t, Success: proto.Bool(true), Version: &rpc.CriuVersion{
			MajorNumber: proto.Int32(3), MinorNumber: proto.Int32(17), Sublevel: proto.Int32(1)}}
		data, _ := proto.Marshal(resp)
		if _, err := sock.Write(data); err != nil {
			os.Exit(1)
		}
	}
	for {
		time.Sleep(time.Hour)
	}
}

// freeze freezes a v1 freezer cgroup or a v2 cgroup.
func freeze(dir string) {
	if dir == "" {
		return
	}
	if err := os.WriteFile(filepath.Join(dir, "freezer.state"), []byte("FROZEN"), 0); err != nil {
		os.WriteFile(filepath.Join(dir, "cgroup.freeze"), []byte("1"), 0)
	}
}
