package plan

import (
	"encoding/binary"
	"fmt"
	"io"
)

// The sync socket carries messages both ways between casco-init and its
// parent, each a type byte (Sync*) and a u32 payload length, native
// endian, then the payload: the init's error text, a pid, trace timings.
// The parent's answers (SyncGo) carry no payload.

// maxSyncMessage bounds what the parent reads from the init, which is the
// container's and may say anything.
const maxSyncMessage = 1 << 20

// SyncMsg is one message from the init: a type and its payload.
type SyncMsg struct {
	Type byte
	Data []byte
}

// ReadSync reads one message from the init.
func ReadSync(r io.Reader) (SyncMsg, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return SyncMsg{}, err
	}
	n := binary.NativeEndian.Uint32(hdr[1:])
	if n > maxSyncMessage {
		return SyncMsg{}, fmt.Errorf("sync message of %d bytes", n)
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(r, data); err != nil {
		return SyncMsg{}, err
	}
	return SyncMsg{Type: hdr[0], Data: data}, nil
}

// WriteSync sends the init a message without payload.
func WriteSync(w io.Writer, typ byte) error {
	var hdr [5]byte
	hdr[0] = typ
	_, err := w.Write(hdr[:])
	return err
}
