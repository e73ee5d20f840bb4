package plan

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// Op is one operation read back from an encoded plan.
type Op struct {
	Code uint32
	Ints []uint64
	Strs []string
}

// Decode reads an encoded plan (Bytes) the way casco-init parses it:
// strings end at their first NUL, as C sees them (a string cut short is
// returned up to its NUL, with the NUL, to mark the cut). It is the
// reference the encoder is tested against.
func Decode(b []byte) ([]Op, error) {
	bad := errors.New("malformed plan")
	if len(b) < 4 || int(binary.NativeEndian.Uint32(b)) != len(b)-4 {
		return nil, bad
	}
	b = b[4:]
	var ops []Op
	u32 := func() (uint32, bool) {
		if len(b) < 4 {
			return 0, false
		}
		v := binary.NativeEndian.Uint32(b)
		b = b[4:]
		return v, true
	}
	for len(b) > 0 {
		var op Op
		var ni, ns uint32
		var ok1, ok2, ok3 bool
		op.Code, ok1 = u32()
		ni, ok2 = u32()
		ns, ok3 = u32()
		if !ok1 || !ok2 || !ok3 || uint64(len(b)) < uint64(ni)*8 {
			return nil, bad
		}
		for i := uint32(0); i < ni; i++ {
			op.Ints = append(op.Ints, binary.NativeEndian.Uint64(b))
			b = b[8:]
		}
		for i := uint32(0); i < ns; i++ {
			n, ok := u32()
			if !ok || n == 0 || uint64(n) > uint64(len(b)) || b[n-1] != 0 {
				return nil, bad
			}
			str := b[:n-1]
			if i := bytes.IndexByte(str, 0); i >= 0 {
				op.Strs = append(op.Strs, string(str[:i])+"\x00")
			} else {
				op.Strs = append(op.Strs, string(str))
			}
			b = b[n:]
		}
		ops = append(ops, op)
	}
	return ops, nil
}
