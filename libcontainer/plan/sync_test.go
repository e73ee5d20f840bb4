package plan

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// TestSyncFraming: a message is its type, its length and its payload; an
// answer has no payload; a length past the bound is refused before
// anything that large is allocated.
func TestSyncFraming(t *testing.T) {
	var b bytes.Buffer
	if err := WriteSync(&b, SyncGo); err != nil {
		t.Fatal(err)
	}
	b.Write([]byte{SyncPid})
	b.Write(binary.NativeEndian.AppendUint32(nil, 3))
	b.WriteString("123")
	if m, err := ReadSync(&b); err != nil || m.Type != SyncGo || len(m.Data) != 0 {
		t.Errorf("answer read back as %+v, %v", m, err)
	}
	if m, err := ReadSync(&b); err != nil || m.Type != SyncPid || string(m.Data) != "123" {
		t.Errorf("pid message read back as %+v, %v", m, err)
	}
	b.Reset()
	b.Write([]byte{SyncError})
	b.Write(binary.NativeEndian.AppendUint32(nil, maxSyncMessage+1))
	if _, err := ReadSync(&b); err == nil {
		t.Errorf("a message longer than %d bytes was accepted", maxSyncMessage)
	}
}
