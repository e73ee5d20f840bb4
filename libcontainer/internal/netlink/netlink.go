// Package netlink is a minimal rtnetlink client: the few requests
// linux.netDevices needs (move and rename a link, add an address, set a
// link up), without a netlink library and its start-up cost for every
// other container.
package netlink

import (
	"encoding/binary"
	"fmt"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// Socket is a route netlink socket.
type Socket struct {
	fd  int
	seq uint32
}

// Open opens a route netlink socket in the calling thread's network
// namespace.
func Open() (*Socket, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("netlink bind: %w", err)
	}
	return &Socket{fd: fd}, nil
}

// Close closes the socket.
func (s *Socket) Close() { unix.Close(s.fd) }

// MoveLink moves link index into the network namespace nsfd, renamed to
// name in the same request (a name ending in %d lets the kernel pick).
func (s *Socket) MoveLink(index int32, nsfd int, name string) error {
	body := ifinfo(index, 0, 0)
	body = attr(body, unix.IFLA_NET_NS_FD, u32(uint32(nsfd)))
	body = attr(body, unix.IFLA_IFNAME, cString(name))
	return s.request(unix.RTM_NEWLINK, 0, body)
}

// SetUp sets link index up.
func (s *Socket) SetUp(index int32) error {
	return s.request(unix.RTM_NEWLINK, 0, ifinfo(index, unix.IFF_UP, unix.IFF_UP))
}

// attr appends one rtattr.
func attr(b []byte, typ uint16, data []byte) []byte {
	n := unix.SizeofRtAttr + len(data)
	b = binary.NativeEndian.AppendUint16(b, uint16(n))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func u32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }

func cString(s string) []byte { return append([]byte(s), 0) }

// ifinfo is struct ifinfomsg.
func ifinfo(index int32, flags, change uint32) []byte {
	b := make([]byte, unix.SizeofIfInfomsg)
	binary.NativeEndian.PutUint32(b[4:], uint32(index))
	binary.NativeEndian.PutUint32(b[8:], flags)
	binary.NativeEndian.PutUint32(b[12:], change)
	return b
}

// request sends one message and waits for the kernel's acknowledgement.
func (s *Socket) request(typ, flags uint16, body []byte) error {
	s.seq++
	msg := make([]byte, unix.SizeofNlMsghdr, unix.SizeofNlMsghdr+len(body))
	binary.NativeEndian.PutUint32(msg[0:], uint32(unix.SizeofNlMsghdr+len(body)))
	binary.NativeEndian.PutUint16(msg[4:], typ)
	binary.NativeEndian.PutUint16(msg[6:], flags|unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	binary.NativeEndian.PutUint32(msg[8:], s.seq)
	msg = append(msg, body...)
	if err := unix.Sendto(s.fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	buf := make([]byte, 65536)
	for {
		n, _, err := unix.Recvfrom(s.fd, buf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.Header.Seq != s.seq || m.Header.Type != unix.NLMSG_ERROR || len(m.Data) < 4 {
				continue
			}
			if errno := int32(binary.NativeEndian.Uint32(m.Data)); errno != 0 {
				return syscall.Errno(-errno)
			}
			return nil
		}
	}
}

// Addr is one address of a link, as RTM_NEWADDR takes it back.
type Addr struct {
	family, prefixLen, scope uint8
	local, address           []byte
}

func (a Addr) String() string { return fmt.Sprintf("%v/%d", net.IP(a.address), a.prefixLen) }

// PermanentAddrs lists a link's permanent addresses of global scope: what
// runtime-spec says moves with the link (the kernel drops them on the move).
func PermanentAddrs(index int) ([]Addr, error) {
	rib, err := syscall.NetlinkRIB(unix.RTM_GETADDR, unix.AF_UNSPEC)
	if err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	msgs, err := syscall.ParseNetlinkMessage(rib)
	if err != nil {
		return nil, err
	}
	var out []Addr
	for _, m := range msgs {
		if m.Header.Type != unix.RTM_NEWADDR || len(m.Data) < unix.SizeofIfAddrmsg {
			continue
		}
		family, plen, flags, scope := m.Data[0], m.Data[1], uint32(m.Data[2]), m.Data[3]
		if int(binary.NativeEndian.Uint32(m.Data[4:])) != index || scope != unix.RT_SCOPE_UNIVERSE {
			continue
		}
		attrs, err := syscall.ParseNetlinkRouteAttr(&m)
		if err != nil {
			return nil, err
		}
		a := Addr{family: family, prefixLen: plen, scope: scope}
		for _, at := range attrs {
			switch at.Attr.Type {
			case unix.IFA_LOCAL:
				a.local = at.Value
			case unix.IFA_ADDRESS:
				a.address = at.Value
			case unix.IFA_FLAGS:
				flags = binary.NativeEndian.Uint32(at.Value)
			}
		}
		if flags&unix.IFA_F_PERMANENT != 0 {
			out = append(out, a)
		}
	}
	return out, nil
}

// AddAddr adds an address to link index.
func (s *Socket) AddAddr(index int32, a Addr) error {
	body := []byte{a.family, a.prefixLen, 0, a.scope}
	body = binary.NativeEndian.AppendUint32(body, uint32(index))
	if a.local != nil {
		body = attr(body, unix.IFA_LOCAL, a.local)
	}
	if a.address != nil {
		body = attr(body, unix.IFA_ADDRESS, a.address)
	}
	return s.request(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL, body)
}
