package libcontainer

import (
	"fmt"
	"net"
	"runtime"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/casco-runtime/casco/libcontainer/internal/netlink"
)

// linux.netDevices: each named link of casco's network namespace moves into
// the container's, renamed in the same request (a name ending in %d lets
// the kernel pick), with its permanent global addresses, and is set up.
// On delete casco does nothing with it, as runtime-spec says and runc
// does: when the namespace dies the kernel destroys virtual links and
// returns physical ones to the initial namespace.

// validNetDevName checks a link name as the kernel would (dev_valid_name).
func validNetDevName(name string) error {
	if name == "" || len(name) >= unix.IFNAMSIZ || name == "." || name == ".." ||
		strings.ContainsAny(name, "/: \t\n") {
		return fmt.Errorf("%q is not a valid link name", name)
	}
	return nil
}

// validateNetDevices refuses what the move would fail on, before anything is made.
func validateNetDevices(s *specs.Spec) error {
	if len(s.Linux.NetDevices) == 0 {
		return nil
	}
	if !hasNamespace(s, specs.NetworkNamespace) {
		return fmt.Errorf("linux.netDevices: needs a network namespace (moving links into the host's own is meaningless)")
	}
	for name, dev := range s.Linux.NetDevices {
		if err := validNetDevName(name); err != nil {
			return fmt.Errorf("linux.netDevices: %w", err)
		}
		if dev.Name != "" {
			if err := validNetDevName(strings.Replace(dev.Name, "%d", "0", 1)); err != nil {
				return fmt.Errorf("linux.netDevices[%q].name: %w", name, err)
			}
		}
	}
	return nil
}

// moveNetDevices moves the config's links into the container's network
// namespace (the init's, or the one it joins by path).
func moveNetDevices(s *specs.Spec, ns *nsPlan, initPid int) error {
	if len(s.Linux.NetDevices) == 0 {
		return nil
	}
	path := ns.paths[specs.NetworkNamespace]
	if path == "" {
		path = "/proc/" + strconv.Itoa(initPid) + "/ns/net"
	}
	nsfd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("linux.netDevices: open network namespace %s: %w", path, err)
	}
	defer unix.Close(nsfd)
	host, err := netlink.Open()
	if err != nil {
		return fmt.Errorf("linux.netDevices: %w", err)
	}
	defer host.Close()
	names := make([]string, 0, len(s.Linux.NetDevices))
	for name := range s.Linux.NetDevices {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := moveNetDevice(host, nsfd, name, s.Linux.NetDevices[name].Name); err != nil {
			return fmt.Errorf("linux.netDevices[%q]: %w", name, err)
		}
	}
	return nil
}

func moveNetDevice(host *netlink.Socket, nsfd int, name, newName string) error {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return fmt.Errorf("no link %q in casco's network namespace: %w", name, err)
	}
	addrs, err := netlink.PermanentAddrs(ifi.Index)
	if err != nil {
		return err
	}
	if newName == "" {
		newName = name
	}
	if err := host.MoveLink(int32(ifi.Index), nsfd, newName); err != nil {
		return fmt.Errorf("move into the container's network namespace as %q: %w", newName, err)
	}
	return inNetns(nsfd, func() error {
		c, err := netlink.Open()
		if err != nil {
			return err
		}
		defer c.Close()
		index := int32(ifi.Index) // kept across the move unless taken there
		if !strings.Contains(newName, "%") {
			moved, err := net.InterfaceByName(newName)
			if err != nil {
				return fmt.Errorf("find %q in the container: %w", newName, err)
			}
			index = int32(moved.Index)
		}
		for _, a := range addrs {
			if err := c.AddAddr(index, a); err != nil {
				return fmt.Errorf("restore address %v: %w", a, err)
			}
		}
		if err := c.SetUp(index); err != nil {
			return fmt.Errorf("set %q up: %w", newName, err)
		}
		return nil
	})
}

// inNetns runs fn on a thread of its own in the network namespace nsfd.
// The thread stays locked: Go ends it with the goroutine, so no other
// goroutine ever runs in the container's namespace.
func inNetns(nsfd int, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Setns(nsfd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns into the container's network namespace: %w", err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}
