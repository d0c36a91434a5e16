package lifecycle

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The fixtures are what a little-endian kernel (amd64, arm64) prints: each
// 32-bit word of an address in host byte order.
func skipOnBigEndian(t *testing.T) {
	t.Helper()
	var b [2]byte
	binary.NativeEndian.PutUint16(b[:], 1)
	if b[0] != 1 {
		t.Skip("the /proc/net fixtures are from a little-endian kernel")
	}
}

func TestParseHexAddrReadsKernelWordOrder(t *testing.T) {
	skipOnBigEndian(t)
	cases := []struct {
		in   string
		addr string
		port int
	}{
		{"0100007F:1F90", "127.0.0.1", 8080},
		{"00000000:0050", "0.0.0.0", 80},
		{"0A01A8C0:FFFF", "192.168.1.10", 65535},
		{"00000000000000000000000000000000:1F90", "::", 8080},
		{"00000000000000000000000001000000:0035", "::1", 53},
		// An IPv4-mapped IPv6 address reads as the IPv4 address.
		{"0000000000000000FFFF00000100007F:1F90", "127.0.0.1", 8080},
		{"000080FE00000000FF565002FFFEBDFE:0016", "fe80::250:56ff:febd:feff", 22},
		{"0100007f:1f90", "127.0.0.1", 8080},
	}
	for _, tc := range cases {
		addr, port, ok := parseHexAddr(tc.in)
		if assert.True(t, ok, tc.in) {
			assert.Equal(t, netip.MustParseAddr(tc.addr), addr, tc.in)
			assert.Equal(t, tc.port, port, tc.in)
		}
	}
	for _, in := range []string{"", "0100007F", "0100007F:", "0100007F:10000", "0100007F:XYZ", "01007F:1F90", "0100007G:1F90", "0100007F00:1F90", ":1F90"} {
		_, _, ok := parseHexAddr(in)
		assert.False(t, ok, "%q must be rejected", in)
	}
}

// Lines as /proc/net/{tcp,tcp6,udp,udp6} print them (trailing columns cut).
const (
	procTCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0
   1: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12346 1 0000000000000000 100 0 0 10 0
   2: 0100007F:1F90 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 12347 1 0000000000000000 20 4 30 10 -1
`
	procTCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 22345 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:0035 00000000000000000000000000000000:0000 06 00000000:00000000 00:00000000 00000000     0        0 0 3 0000000000000000
`
	procUDP = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  100: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 32345 2 0000000000000000 0
  101: 0100007F:A000 0100007F:0035 01 00000000:00000000 00:00000000 00000000     0        0 32346 2 0000000000000000 0
  102: 0100007F:A001 00000000:0000 01 00000000:00000000 00:00000000 00000000     0        0 32347 2 0000000000000000 0
`
)

func TestParseProcNetFindsTCPListenersAcrossTables(t *testing.T) {
	skipOnBigEndian(t)
	got := parseProcNet([]byte(procTCP+procTCP6), "tcp")
	assert.Equal(t, []socket{
		{addr: netip.MustParseAddr("127.0.0.1"), port: 8080, listening: true},
		{addr: netip.MustParseAddr("0.0.0.0"), port: 80, listening: true},
		{addr: netip.MustParseAddr("127.0.0.1"), port: 8080, listening: false}, // ESTABLISHED
		{addr: netip.MustParseAddr("::"), port: 8081, listening: true},
		{addr: netip.MustParseAddr("::1"), port: 53, listening: false}, // TIME_WAIT
	}, got)
}

func TestParseProcNetTreatsOnlyUnconnectedUDPSocketsAsListening(t *testing.T) {
	skipOnBigEndian(t)
	got := parseProcNet([]byte(procUDP), "udp")
	assert.Equal(t, []socket{
		{addr: netip.MustParseAddr("0.0.0.0"), port: 53, listening: true},
		{addr: netip.MustParseAddr("127.0.0.1"), port: 0xA000, listening: false}, // connected to :53
		{addr: netip.MustParseAddr("127.0.0.1"), port: 0xA001, listening: false}, // state 01, not 07
	}, got)
	// The same table read as tcp: state 07 is not LISTEN (0A) there.
	for _, s := range parseProcNet([]byte(procUDP), "tcp") {
		assert.False(t, s.listening, "%v:%d", s.addr, s.port)
	}
}

func TestParseProcNetSkipsHeadersAndMalformedLines(t *testing.T) {
	skipOnBigEndian(t)
	data := "garbage\n\n" +
		"   0: 0100007F:1F90\n" + // too few fields
		"   1 0100007F:1F90 00000000:0000 0A\n" + // no "sl:"
		"   2: 0100007Z:1F90 00000000:0000 0A\n" + // bad hex
		"   3: 0100007F:1F90 00000000:0000 XY\n" + // bad state
		"   4: 0100007F:1F90 00000000:0000 100\n" + // state out of range
		"   5: 0100007F:1F92 00000000:0000 0A" // last line without a newline
	assert.Equal(t, []socket{{addr: netip.MustParseAddr("127.0.0.1"), port: 0x1F92, listening: true}},
		parseProcNet([]byte(data), "tcp"))
	assert.Empty(t, parseProcNet(nil, "tcp"))
}
