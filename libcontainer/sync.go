package libcontainer

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// syncMsg is one message from the init: a type and its payload.
type syncMsg struct {
	typ  byte
	data []byte
}

func readSync(r io.Reader) (syncMsg, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return syncMsg{}, err
	}
	n := binary.NativeEndian.Uint32(hdr[1:])
	if n > 1<<20 {
		return syncMsg{}, fmt.Errorf("sync message of %d bytes", n)
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(r, data); err != nil {
		return syncMsg{}, err
	}
	return syncMsg{typ: hdr[0], data: data}, nil
}

func writeSync(w *os.File, typ byte) error {
	var hdr [5]byte
	hdr[0] = typ
	_, err := w.Write(hdr[:])
	return err
}
