package lifecycle

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/dockhand/dockhand/waitfor"
)

type socket struct {
	addr      netip.Addr
	port      int
	listening bool // TCP LISTEN, or a bound, unconnected UDP socket
}

// sockets returns the container's sockets of proto (tcp, udp), from the
// host's /proc when the engine is local, else through exec.
func (ct *Container) sockets(ctx context.Context, pid int, proto string) ([]socket, string, error) {
	if proto != "tcp" && proto != "udp" {
		return nil, "", waitfor.Permanent(invalidf("container %s: cannot tell whether %s ports listen (tcp and udp only)", ct, proto))
	}
	files := []string{"/proc/net/" + proto, "/proc/net/" + proto + "6"}
	if data, ok := hostProcNet(pid, ct.id, proto); ok {
		return parseProcNet(data, proto), "host /proc", nil
	}
	res, err := ct.Exec(ctx, append([]string{"cat"}, files...))
	if err != nil {
		if isNoSuchCommand(err.Error()) {
			return nil, "exec", waitfor.Permanent(noSocketView(ct, err))
		}
		return nil, "exec", err
	}
	// tcp6 is missing when the kernel has no IPv6: cat then exits 1 but
	// prints tcp.
	if !bytes.Contains(res.Stdout, []byte("local_address")) {
		// The engine reports an exec that could not start on stdout.
		out := strings.TrimSpace(string(res.Stdout) + "\n" + string(res.Stderr))
		if (res.ExitCode == 126 || res.ExitCode == 127) && isNoSuchCommand(out) {
			return nil, "exec", waitfor.Permanent(noSocketView(ct, errors.New(out)))
		}
		return nil, "exec", fmt.Errorf("cat %s in container %s: exit code %d: %s", strings.Join(files, " "), ct, res.ExitCode, out)
	}
	return parseProcNet(res.Stdout, proto), "exec cat", nil
}

func noSocketView(ct *Container, err error) error {
	return fmt.Errorf("cannot see the sockets of container %s: its process is not visible in this host's /proc (is the engine remote?) and the image has no cat: %w", ct, err)
}

// hostProcNet reads /proc/<pid>/net/<proto>{,6} on this host, if pid is the
// container's process here: the engine may run elsewhere (a VM, another
// PID namespace), where the pid means another process or nothing.
func hostProcNet(pid int, id, proto string) ([]byte, bool) {
	dir := "/proc/" + strconv.Itoa(pid)
	cg, err := os.ReadFile(dir + "/cgroup")
	if err != nil || !bytes.Contains(cg, []byte(id)) {
		return nil, false
	}
	data, err := os.ReadFile(dir + "/net/" + proto)
	if err != nil {
		return nil, false
	}
	if v6, err := os.ReadFile(dir + "/net/" + proto + "6"); err == nil {
		data = append(data, v6...)
	}
	// The pid may have been reused between the two reads.
	if cg2, err := os.ReadFile(dir + "/cgroup"); err != nil || !bytes.Equal(cg, cg2) {
		return nil, false
	}
	return data, true
}

// parseProcNet parses the kernel's socket tables (/proc/net/tcp, tcp6,
// udp, udp6; several may be concatenated):
//
//	sl  local_address rem_address   st ...
//	 0: 0100007F:1F90 00000000:0000 0A ...
//
// Addresses are hex words in host byte order; st 0A is TCP LISTEN and 07
// (TCP_CLOSE) an unconnected UDP socket.
func parseProcNet(data []byte, proto string) []socket {
	var out []socket
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasSuffix(f[0], ":") {
			continue
		}
		addr, port, ok := parseHexAddr(f[1])
		if !ok {
			continue
		}
		st, err := strconv.ParseUint(f[3], 16, 8)
		if err != nil {
			continue
		}
		var listening bool
		if proto == "udp" {
			_, rport, ok := parseHexAddr(f[2])
			listening = ok && st == 0x07 && rport == 0
		} else {
			listening = st == 0x0A
		}
		out = append(out, socket{addr: addr, port: port, listening: listening})
	}
	return out
}

func parseHexAddr(s string) (netip.Addr, int, bool) {
	h, p, ok := strings.Cut(s, ":")
	if !ok {
		return netip.Addr{}, 0, false
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.Addr{}, 0, false
	}
	raw, err := hex.DecodeString(h)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.Addr{}, 0, false
	}
	// Each 32-bit word is printed as a number in host byte order.
	var b [16]byte
	for i := 0; i < len(raw); i += 4 {
		w := binary.BigEndian.Uint32(raw[i:])
		binary.NativeEndian.PutUint32(b[i:], w)
	}
	if len(raw) == 4 {
		return netip.AddrFrom4([4]byte(b[:4])), int(port), true
	}
	return netip.AddrFrom16(b).Unmap(), int(port), true
}
