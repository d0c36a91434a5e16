package testbench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockhand/dockhand/lifecycle"
)

// Remote engines: a client in a network namespace of its own, whose
// 127.0.0.1 is not the engine's, reaching the engine of this machine over a
// veth pair (host side 10.231.N.1, client side 10.231.N.2; N a subnet no
// interface of the machine uses, chosen under a lock shared by the test
// processes; the veth names carry the pid and a sequence number):
//
//   - "tcp": the engine's socket exposed with socat on 10.231.N.1:2375
//     (and TLS on 2376), accepting 10.231.N.2 only,
//     DOCKER_HOST=tcp://10.231.N.1:2375;
//   - "ssh": an sshd on 10.231.N.1:2222 with a key made for the run,
//     DOCKER_HOST=ssh://root@10.231.N.1:2222 (the client's ssh finds the key
//     and the host key through a wrapper first in PATH).
//
// The test body runs in a child process: the test binary again, under
// `ip netns exec`, running only this test. Everything is torn down when the
// test ends, failed or not: the child's processes in the namespace, socat,
// sshd, the namespace and the veth pair.

// RemoteKinds are the kinds of remote engine InRemote sets up.
var RemoteKinds = []string{"tcp", "ssh"}

const remoteChildEnv = "DOCKHAND_REMOTE_CHILD"

// InRemoteChild reports whether this process is the child InRemote started
// (the test body runs here), and the kind of remote engine.
func InRemoteChild() (kind string, ok bool) {
	v := os.Getenv(remoteChildEnv)
	if v == "" {
		return "", false
	}
	kind, _, _ = strings.Cut(v, ":")
	return kind, true
}

// RemoteHost is the engine host's address as the child sees it (10.231.N.1),
// or "" outside a child.
func RemoteHost() string { return os.Getenv("DOCKHAND_REMOTE_ENGINE_IP") }

// InRemote runs body with the client in a fresh network namespace reaching
// this machine's engine over kind ("tcp" or "ssh"). In the parent it sets
// up the bench, runs the test binary again inside the namespace for this
// test only, relays its output and fails t if the child did not pass. It
// needs root and the ip, socat and sshd commands: without them the test
// skips (fails under CI=true).
func InRemote(t *testing.T, kind string, body func(t *testing.T)) {
	t.Helper()
	if v := os.Getenv(remoteChildEnv); v != "" {
		if v != kind+":"+t.Name() {
			t.Skipf("not this child's test (%s)", v)
		}
		body(t)
		return
	}
	b := NewRemoteBench(t, kind)
	b.runChild(t)
}

// RemoteBench is one set-up remote engine for a test.
type RemoteBench struct {
	Kind      string
	NS        string // network namespace name
	HostIP    string // the engine host's end of the veth: 10.231.N.1
	ClientIP  string // the client's end: 10.231.N.2
	Host      string // DOCKER_HOST for the client
	hostLink  string
	peerLink  string
	dir       string   // keys, configs, the ssh wrapper
	env       []string // extra environment of the child
	procs     []*exec.Cmd
	sshdPort  int
	sshConfig string
}

var benchSeq atomic.Int32

// NewRemoteBench sets up the namespace, veth pair and the engine's endpoint
// of kind, and tears them down when the test ends, failing it if any is
// left. Without root or the commands it needs, the test skips (fails under
// CI=true).
func NewRemoteBench(t *testing.T, kind string) *RemoteBench {
	t.Helper()
	if err := RemoteBenchUsable(kind); err != nil {
		Unavailable(t, "%v", err)
	}
	sweepStaleBenches(t.Logf)
	b, err := SetupRemote(kind, t.TempDir())
	if err != nil {
		t.Fatalf("remote bench: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("remote bench: %v", err)
		}
	})
	return b
}

// RemoteBenchUsable says why a remote bench of kind cannot be set up here
// (nil when it can): it needs root and the ip and socat commands, and sshd,
// ssh, ssh-keygen and docker for kind "ssh".
func RemoteBenchUsable(kind string) error {
	if kind != "tcp" && kind != "ssh" {
		return fmt.Errorf("unknown remote bench kind %q (want tcp or ssh)", kind)
	}
	if runtime.GOOS != "linux" {
		return fmt.Errorf("the remote engine bench needs Linux network namespaces, not %s", runtime.GOOS)
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("the remote engine bench needs root (network namespaces)")
	}
	need := []string{"ip", "socat"}
	if kind == "ssh" {
		need = append(need, "sshd", "ssh", "ssh-keygen", "docker")
	}
	for _, n := range need {
		if _, err := lookPath(n); err != nil {
			return fmt.Errorf("the remote engine bench needs %s (apt-get install iproute2 socat openssh-server openssh-client)", n)
		}
	}
	return nil
}

// SetupRemote sets up a remote bench of kind with its keys and configs in
// dir (which the caller removes). Close tears it down.
func SetupRemote(kind, dir string) (_ *RemoteBench, err error) {
	if err := RemoteBenchUsable(kind); err != nil {
		return nil, err
	}
	b := &RemoteBench{Kind: kind, dir: dir}
	defer func() {
		if err != nil {
			_ = b.Close()
		}
	}()
	// Names unique to this process (pid) and bench (seq); the subnet is
	// chosen, under a lock shared by every test process, among those no
	// interface of this machine has an address in.
	seq := int(benchSeq.Add(1))
	b.NS = fmt.Sprintf("dhnet-%d-%d", os.Getpid(), seq)
	b.hostLink, b.peerLink = benchLinkNames(os.Getpid(), seq)
	if err = b.network(); err != nil {
		b.removeNetwork()
		b.NS = ""
		return nil, fmt.Errorf("network: %w", err)
	}
	sock := "/var/run/docker.sock"
	if h := os.Getenv("DOCKER_HOST"); strings.HasPrefix(h, "unix://") {
		sock = strings.TrimPrefix(h, "unix://")
	}
	switch kind {
	case "tcp":
		if err := b.start("socat", fmt.Sprintf("TCP-LISTEN:2375,bind=%s,range=%s/32,reuseaddr,fork", b.HostIP, b.ClientIP), "UNIX-CONNECT:"+sock); err != nil {
			return nil, err
		}
		if err := waitListen(b.HostIP + ":2375"); err != nil {
			return nil, err
		}
		b.Host = "tcp://" + b.HostIP + ":2375"
		if err := b.tlsEndpoint(sock); err != nil {
			return nil, fmt.Errorf("tls endpoint: %w", err)
		}
	case "ssh":
		if err := b.sshd(); err != nil {
			return nil, err
		}
		b.Host = fmt.Sprintf("ssh://root@%s:%d", b.HostIP, b.sshdPort)
	}
	b.env = append(b.env, "DOCKER_HOST="+b.Host, "DOCKER_CONTEXT=", "DOCKHAND_REMOTE_ENGINE_IP="+b.HostIP)
	return b, nil
}

func lookPath(n string) (string, error) {
	if p, err := exec.LookPath(n); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/sbin"} {
		if _, err := os.Stat(filepath.Join(d, n)); err == nil {
			return filepath.Join(d, n), nil
		}
	}
	return "", fmt.Errorf("%s not found", n)
}

func run(args ...string) error {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// benchLinkNames names the veth pair of bench seq of process pid: unique
// among live processes, within the 15 characters of an interface name.
func benchLinkNames(pid, seq int) (host, peer string) {
	id := strconv.FormatInt(int64(pid), 36) + "x" + strconv.FormatInt(int64(seq), 36)
	return "dhv" + id, "dhc" + id
}

// benchSubnetRe finds the third octet of the 10.231.N.0/24 addresses in
// `ip -o -4 addr show` output.
var benchSubnetRe = regexp.MustCompile(`\binet 10\.231\.(\d+)\.`)

// freeBenchSubnet picks N for 10.231.N.0/24 among those no address in
// ipAddrs (`ip -o -4 addr show`) is in, starting at from.
func freeBenchSubnet(ipAddrs string, from int) (int, bool) {
	used := map[int]bool{}
	for _, m := range benchSubnetRe.FindAllStringSubmatch(ipAddrs, -1) {
		n, _ := strconv.Atoi(m[1])
		used[n] = true
	}
	for i := 0; i < 250; i++ {
		if n := (from + i) % 250; !used[n] {
			return n, true
		}
	}
	return 0, false
}

// network creates the namespace and the veth pair (names unique to this
// bench, so removeNetwork deletes only what this bench made) and gives them
// addresses in a subnet no interface of this machine uses. The choice and
// the address are made under a lock held by one test process at a time.
func (b *RemoteBench) network() error {
	peer := b.peerLink
	for _, c := range [][]string{
		{"ip", "netns", "add", b.NS},
		{"ip", "link", "add", b.hostLink, "type", "veth", "peer", "name", peer},
		{"ip", "link", "set", peer, "netns", b.NS},
	} {
		if err := run(c...); err != nil {
			return err
		}
	}
	unlock, err := lockBenchNetworks()
	if err != nil {
		return err
	}
	defer unlock()
	out, err := exec.Command("ip", "-o", "-4", "addr", "show").Output()
	if err != nil {
		return fmt.Errorf("ip addr show: %w", err)
	}
	n, ok := freeBenchSubnet(string(out), os.Getpid()*7%250)
	if !ok {
		return errors.New("no free subnet in 10.231.0.0/16 for the bench")
	}
	b.HostIP, b.ClientIP = fmt.Sprintf("10.231.%d.1", n), fmt.Sprintf("10.231.%d.2", n)
	for _, c := range [][]string{
		{"ip", "addr", "add", b.HostIP + "/24", "dev", b.hostLink},
		{"ip", "link", "set", b.hostLink, "up"},
		{"ip", "-n", b.NS, "addr", "add", b.ClientIP + "/24", "dev", peer},
		{"ip", "-n", b.NS, "link", "set", peer, "up"},
		{"ip", "-n", b.NS, "link", "set", "lo", "up"},
	} {
		if err := run(c...); err != nil {
			return err
		}
	}
	return nil
}

func (b *RemoteBench) removeNetwork() {
	// The names are this bench's own (pid and seq): nothing else has them.
	_ = run("ip", "link", "del", b.hostLink) // also removes the peer
	_ = run("ip", "netns", "del", b.NS)
}

// start runs a helper process in its own process group (socat forks per
// connection), killed with its parent if this process dies.
func (b *RemoteBench) start(name string, args ...string) error {
	p, err := lookPath(name)
	if err != nil {
		return err
	}
	cmd := exec.Command(p, args...)
	cmd.SysProcAttr = ownGroupDyingWithUs()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	b.procs = append(b.procs, cmd)
	return nil
}

func waitListen(addr string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listens on %s: %w", addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (b *RemoteBench) sshd() error {
	d := b.dir
	for _, k := range []string{"host", "id"} {
		if err := run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "dockhand-bench", "-f", filepath.Join(d, k)); err != nil {
			return err
		}
	}
	pub, err := os.ReadFile(filepath.Join(d, "id.pub"))
	if err != nil {
		return err
	}
	hostPub, err := os.ReadFile(filepath.Join(d, "host.pub"))
	if err != nil {
		return err
	}
	b.sshdPort = 2222
	sshPath, err := lookPath("ssh")
	if err != nil {
		return err
	}
	sshd, err := lookPath("sshd")
	if err != nil {
		return err
	}
	b.sshConfig = filepath.Join(d, "ssh_config")
	files := []struct {
		name, content string
		mode          os.FileMode
	}{
		{"authorized_keys", string(pub), 0o600},
		{"known_hosts", fmt.Sprintf("[%s]:%d %s", b.HostIP, b.sshdPort, hostPub), 0o600},
		{"sshd_config", fmt.Sprintf(`Port %d
ListenAddress %s
HostKey %s
AuthorizedKeysFile %s
PidFile %s
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowTcpForwarding yes
MaxSessions 100
MaxStartups 100
LogLevel ERROR
`, b.sshdPort, b.HostIP, filepath.Join(d, "host"), filepath.Join(d, "authorized_keys"), filepath.Join(d, "sshd.pid")), 0o600},
		{"ssh_config", fmt.Sprintf(`Host *
  IdentityFile %s
  IdentitiesOnly yes
  UserKnownHostsFile %s
  StrictHostKeyChecking yes
  LogLevel ERROR
`, filepath.Join(d, "id"), filepath.Join(d, "known_hosts")), 0o600},
		{"bin/ssh", fmt.Sprintf("#!/bin/sh\nexec %s -F %s \"$@\"\n", sshPath, b.sshConfig), 0o755},
	}
	if err := os.MkdirAll(filepath.Join(d, "bin"), 0o755); err != nil {
		return err
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(d, f.name), []byte(f.content), f.mode); err != nil {
			return err
		}
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return err
	}
	if err := b.start(sshd, "-D", "-e", "-f", filepath.Join(d, "sshd_config")); err != nil {
		return err
	}
	if err := waitListen(fmt.Sprintf("%s:%d", b.HostIP, b.sshdPort)); err != nil {
		return err
	}
	b.env = append(b.env, "PATH="+filepath.Join(d, "bin")+":"+os.Getenv("PATH"))
	return nil
}

// SSHCommand returns the ssh command line (the wrapper with the bench's key)
// for kind "ssh", for tests that measure the forward.
func (b *RemoteBench) SSHCommand() string { return filepath.Join(b.dir, "bin", "ssh") }

// Env is the environment a client in the namespace needs (DOCKER_HOST, PATH
// with the ssh wrapper, ...), to append to os.Environ().
// Env is empty on a nil bench.
func (b *RemoteBench) Env() []string {
	if b == nil {
		return nil
	}
	return append([]string(nil), b.env...)
}

// Command returns cmd to run inside the namespace with the bench's environment.
func (b *RemoteBench) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", b.NS, name}, args...)...)
	cmd.Env = append(os.Environ(), b.env...)
	return cmd
}

func (b *RemoteBench) runChild(t *testing.T) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := b.Command(ctx, exe, "-test.run", runPattern(t), "-test.count", "1", "-test.v")
	cmd.Env = append(cmd.Env, remoteChildEnv+"="+b.Kind+":"+t.Name())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err = cmd.Run()
	t.Logf("child in %s over %s (%s), %s:\n%s", b.NS, b.Kind, b.Host, time.Since(start).Round(time.Millisecond), out.String())
	if err != nil {
		t.Fatalf("the test failed with the client in namespace %s over %s: %v", b.NS, b.Kind, err)
	}
	if !strings.Contains(out.String(), "--- PASS: "+t.Name()) {
		t.Fatalf("the child did not run and pass %s", t.Name())
	}
}

// Close ends every process in the namespace and the helpers, removes the
// namespace and the veth pair, and says if any of them is still there.
func (b *RemoteBench) Close() error {
	if b.NS != "" {
		killNamespace(b.NS)
	}
	for _, p := range b.procs {
		killGroup(p.Process.Pid)
		_ = p.Wait()
	}
	b.procs = nil
	if b.NS == "" {
		return nil
	}
	b.removeNetwork()
	var errs []error
	if err := run("ip", "link", "show", b.hostLink); err == nil {
		errs = append(errs, fmt.Errorf("veth %s still exists after teardown", b.hostLink))
	}
	if out, _ := exec.Command("ip", "netns", "list").Output(); regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(b.NS) + `\b`).Match(out) {
		errs = append(errs, fmt.Errorf("namespace %s still exists after teardown", b.NS))
	}
	b.NS = ""
	return errors.Join(errs...)
}

// killNamespace kills every process in the network namespace ns.
func killNamespace(ns string) {
	out, err := exec.Command("ip", "netns", "pids", ns).Output()
	if err != nil {
		return
	}
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil {
			killPid(pid)
		}
	}
}

// sweepStaleBenches removes the namespaces and veths of benches whose test
// process is gone (killed before its cleanup ran): dhnet-PID-N.
func sweepStaleBenches(logf func(string, ...any)) {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	re := regexp.MustCompile(`(?m)^dhnet-(\d+)-\d+\b`)
	for _, m := range re.FindAllStringSubmatch(string(out), -1) {
		pid, _ := strconv.Atoi(m[1])
		if pid == os.Getpid() || pidAlive(pid) {
			continue
		}
		logf("remote bench: removing namespace %s of dead process %d", m[0], pid)
		killNamespace(m[0])
		// Only the veths inside the dead namespace: deleting one removes
		// its pair, whose host end is that bench's and no live bench's.
		if out, err := exec.Command("ip", "-n", m[0], "-o", "link", "show", "type", "veth").Output(); err == nil {
			for _, name := range vethNames(string(out)) {
				_ = run("ip", "-n", m[0], "link", "del", name)
			}
		}
		_ = run("ip", "netns", "del", m[0])
	}
}

// vethNames lists the interface names in `ip -o link show` output
// ("7: dhc1x2@if8: <...>").
func vethNames(ipLinks string) []string {
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^\d+:\s+([^:@\s]+)`).FindAllStringSubmatch(ipLinks, -1) {
		names = append(names, m[1])
	}
	return names
}

// Debian is the Debian stand-in (same C library as the build host), where
// InContainer runs the test binary.
const Debian = "dockhand.test/debian:bookworm"

// InContainer runs body with the client in a container of this machine's
// engine with the engine's socket mounted (a test runner in a container):
// the test binary again, mounted into the Debian stand-in, running only this
// test; InRemoteChild reports kind "container" there. The container is
// removed when the child ends.
func InContainer(t *testing.T, body func(t *testing.T)) {
	t.Helper()
	if v := os.Getenv(remoteChildEnv); v != "" {
		if v != "container:"+t.Name() {
			t.Skipf("not this child's test (%s)", v)
		}
		body(t)
		return
	}
	c := Client(t)
	img := RequireImage(t, c, Debian)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	sock := "/var/run/docker.sock"
	if h := os.Getenv("DOCKER_HOST"); strings.HasPrefix(h, "unix://") {
		sock = strings.TrimPrefix(h, "unix://")
	} else if h != "" {
		Unavailable(t, "InContainer needs a local engine socket, not DOCKER_HOST=%s", h)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var out Buffer
	start := time.Now()
	ctr, err := c.Run(ctx, img, lifecycle.WithVolumes(exe+":/dockhand.test:ro", sock+":/var/run/docker.sock"),
		lifecycle.WithEnv(remoteChildEnv+"=container:"+t.Name(), "CI="+os.Getenv("CI"), "DOCKER_HOST=unix:///var/run/docker.sock"),
		lifecycle.WithEntrypoint("/dockhand.test"), lifecycle.WithCmd("-test.run", runPattern(t), "-test.count", "1", "-test.v"),
		lifecycle.WithStdout(&out), lifecycle.WithStderr(&out))
	if ctr != nil {
		defer func() { _ = ctr.Remove(context.WithoutCancel(ctx), lifecycle.WithForce()) }()
	}
	t.Logf("child in a container with the engine socket mounted, %s:\n%s", time.Since(start).Round(time.Millisecond), out.String())
	if err != nil {
		t.Fatalf("the test failed with the client in a container: %v", err)
	}
	if !strings.Contains(out.String(), "--- PASS: "+t.Name()) {
		t.Fatalf("the child did not run and pass %s", t.Name())
	}
}

// runPattern is the -test.run pattern for exactly t.
func runPattern(t *testing.T) string {
	parts := strings.Split(t.Name(), "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}
