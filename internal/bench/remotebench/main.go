// Command remotebench times the seed's container cycle with the library
// on a local engine, over tcp:// and over ssh:// side by side in one run,
// and the extra cost per connection of the SSH forward that keeps an ssh://
// engine's published ports on its loopback:
//
//	go run ./internal/bench/remotebench [-rounds 7] [-conns 100]   (as root)
//
// The remote engines are this machine's engine reached from a network
// namespace (internal/testbench.SetupRemote): over a veth pair to socat on
// the engine's socket (tcp://), or to an sshd running `docker system
// dial-stdio` (ssh://). Each mode is a child process with one client,
// driven round by round, the order rotating every round; one warm-up cycle
// per mode is not counted. The cycle is the seed's without the pull (a
// pull from a registry on the client's 127.0.0.1 is not one the remote
// engine can reach): run -d (sleep, with init), ps, exec, stop (1 s grace),
// rm, a foreground run with a custom entrypoint and its removal. Reported:
// the median per step and of the per-round totals, and the ratios to local.
//
// The connection cost: a busybox httpd published on all interfaces, asked
// for its page over a fresh connection each time, alternately through the
// address HostPort gives (over ssh://: a local listener, one `ssh -W` per
// connection on a shared ControlMaster) and directly at the engine host's
// veth address. Reported: medians and p90 of both and the difference.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
	"github.com/dockhand/dockhand/waitfor"
)

var steps = []string{"run -d", "ps", "exec", "stop", "rm", "run --entrypoint"}
var modes = []string{"local", "tcp", "ssh"}

func main() {
	rounds := flag.Int("rounds", 7, "measured rounds per mode (at least 5)")
	conns := flag.Int("conns", 100, "connections per path for the forward's cost")
	image := flag.String("image", testbench.Busybox, "local image to cycle")
	child := flag.Bool("child", false, "internal: serve one mode's cycles on stdin/stdout")
	flag.Parse()
	if *child {
		if err := serve(*image); err != nil {
			fmt.Fprintln(os.Stderr, "remotebench child:", err)
			os.Exit(1)
		}
		return
	}
	if *rounds < 5 {
		fmt.Fprintln(os.Stderr, "remotebench: -rounds must be at least 5")
		os.Exit(2)
	}
	if err := run(*rounds, *conns, *image); err != nil {
		fmt.Fprintln(os.Stderr, "remotebench:", err)
		os.Exit(1)
	}
}

// reply is a child's answer to one command.
type reply struct {
	Steps   []float64 `json:"steps,omitempty"` // ms per step of one cycle
	Forward []float64 `json:"forward,omitempty"`
	Direct  []float64 `json:"direct,omitempty"`
	Host    string    `json:"host,omitempty"`
	Err     string    `json:"err,omitempty"`
}

type childProc struct {
	mode string
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Scanner
}

func (c *childProc) ask(line string) (reply, error) {
	if _, err := fmt.Fprintln(c.in, line); err != nil {
		return reply{}, fmt.Errorf("%s: %w", c.mode, err)
	}
	if !c.out.Scan() {
		return reply{}, fmt.Errorf("%s: child ended (%v)", c.mode, c.out.Err())
	}
	var r reply
	if err := json.Unmarshal(c.out.Bytes(), &r); err != nil {
		return reply{}, fmt.Errorf("%s: %w: %s", c.mode, err, c.out.Text())
	}
	if r.Err != "" {
		return r, fmt.Errorf("%s: %s", c.mode, r.Err)
	}
	return r, nil
}

func run(rounds, conns int, image string) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	children := map[string]*childProc{}
	defer func() {
		for _, c := range children {
			_, _ = c.ask("quit")
			_ = c.in.Close()
			_ = c.cmd.Wait()
		}
	}()
	for _, mode := range modes {
		var cmd *exec.Cmd
		if mode == "local" {
			cmd = exec.CommandContext(ctx, exe, "-child", "-image", image)
		} else {
			dir, err := os.MkdirTemp("", "remotebench-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			b, err := testbench.SetupRemote(mode, dir)
			if err != nil {
				return fmt.Errorf("%s bench: %w", mode, err)
			}
			defer func() {
				if err := b.Close(); err != nil {
					fmt.Fprintln(os.Stderr, "remotebench:", err)
				}
			}()
			cmd = b.Command(ctx, exe, "-child", "-image", image)
		}
		cmd.Stderr = os.Stderr
		in, err := cmd.StdinPipe()
		if err != nil {
			return err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return err
		}
		c := &childProc{mode: mode, cmd: cmd, in: in, out: bufio.NewScanner(out)}
		children[mode] = c
		r, err := c.ask("hello")
		if err != nil {
			return err
		}
		fmt.Printf("%-5s client on %s\n", mode, r.Host)
	}

	per := map[string][][]float64{} // mode -> rounds of steps
	for round := -1; round < rounds; round++ {
		order := slices.Clone(modes)
		if round >= 0 {
			k := round % len(order)
			order = append(order[k:], order[:k]...)
		}
		for _, mode := range order {
			r, err := children[mode].ask("cycle")
			if err != nil {
				return err
			}
			if round >= 0 { // round -1 is the warm-up
				per[mode] = append(per[mode], r.Steps)
			}
		}
	}
	fmt.Printf("\nthe seed cycle without the pull, %d rounds per mode, order rotating; medians in ms\n", rounds)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "step\tlocal\ttcp\tssh\ttcp/local\tssh/local\t")
	med := func(mode string, i int) float64 {
		var xs []float64
		for _, r := range per[mode] {
			if i < 0 {
				xs = append(xs, sum(r))
			} else {
				xs = append(xs, r[i])
			}
		}
		return median(xs)
	}
	for i, s := range append(slices.Clone(steps), "total") {
		if s == "total" {
			i = -1
		}
		l, t, h := med("local", i), med("tcp", i), med("ssh", i)
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.1f\t%.2f\t%.2f\t\n", s, l, t, h, t/l, h/l)
	}
	_ = tw.Flush()

	fmt.Printf("\none HTTP request on a fresh connection to a published port, %d per path, alternating; ms\n", conns)
	tw = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\tHostPort p50\tp90\tdirect p50\tp90\textra p50\t")
	for _, mode := range modes {
		r, err := children[mode].ask(fmt.Sprintf("conns %d", conns))
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t\n", mode, median(r.Forward), pct(r.Forward, 0.9),
			median(r.Direct), pct(r.Direct, 0.9), median(r.Forward)-median(r.Direct))
	}
	_ = tw.Flush()
	fmt.Println("(local: both paths are 127.0.0.1; tcp: HostPort is the veth address, the direct path too; ssh: HostPort is the local end of the SSH forward, direct is the veth address)")
	return nil
}

func sum(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s
}

func median(xs []float64) float64 { return pct(xs, 0.5) }

func pct(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[int(p*float64(len(s)-1)+0.5)]
}

// serve is a child: one client, commands on stdin, one JSON reply a line.
func serve(image string) error {
	ctx := context.Background()
	c, err := lifecycle.New(ctx)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = c.Cleanup(cctx)
		_ = c.Close()
	}()
	enc := json.NewEncoder(os.Stdout)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var r reply
		var err error
		switch f := strings.Fields(in.Text()); {
		case len(f) == 0:
			continue
		case f[0] == "quit":
			return enc.Encode(reply{})
		case f[0] == "hello":
			r.Host = c.Host()
		case f[0] == "cycle":
			r.Steps, err = cycle(ctx, c, image)
		case f[0] == "conns" && len(f) == 2:
			var n int
			if _, err = fmt.Sscan(f[1], &n); err == nil {
				r.Forward, r.Direct, err = connCost(ctx, c, image, n)
			}
		default:
			err = fmt.Errorf("unknown command %q", in.Text())
		}
		if err != nil {
			r.Err = err.Error()
		}
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return in.Err()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func cycle(ctx context.Context, c *lifecycle.Client, image string) ([]float64, error) {
	var out []float64
	t := time.Now()
	lap := func() { out = append(out, ms(time.Since(t))); t = time.Now() }
	ctr, err := c.Run(ctx, image, lifecycle.WithCmd("sleep", "300"), lifecycle.WithInit())
	if err != nil {
		return nil, err
	}
	lap()
	if _, err := c.Containers(ctx, lifecycle.WithFilter("id", ctr.ID())); err != nil {
		return nil, err
	}
	lap()
	if _, err := ctr.Exec(ctx, []string{"echo", "hello"}); err != nil {
		return nil, err
	}
	lap()
	if err := ctr.Stop(ctx, lifecycle.WithGracePeriod(time.Second)); err != nil {
		return nil, err
	}
	lap()
	if err := ctr.Remove(ctx); err != nil {
		return nil, err
	}
	lap()
	fg, err := c.Run(ctx, image, lifecycle.WithEntrypoint("/bin/echo"), lifecycle.WithCmd("hello"), lifecycle.WithStdout(io.Discard))
	if err != nil {
		return nil, err
	}
	if err := fg.Remove(ctx); err != nil {
		return nil, err
	}
	lap()
	return out, nil
}

// connCost asks a web server in a container for its page n times over each
// path, alternating: the address HostPort gives, and the engine host's
// address directly (the port is published on all interfaces for this).
func connCost(ctx context.Context, c *lifecycle.Client, image string, n int) (fwd, direct []float64, err error) {
	ctr, err := c.Run(ctx, image, lifecycle.WithCmd("sh", "-c", "mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www"),
		lifecycle.WithPorts("8080"), lifecycle.WithAllInterfaces(), lifecycle.WithInit())
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = ctr.Remove(context.WithoutCancel(ctx), lifecycle.WithForce()) }()
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := waitfor.Wait(wctx, ctr.PortReady("8080")); err != nil {
		return nil, nil, err
	}
	addr, err := ctr.HostPort(ctx, "8080")
	if err != nil {
		return nil, nil, err
	}
	ins, err := ctr.Inspect(ctx)
	if err != nil {
		return nil, nil, err
	}
	host := firstNonEmpty(os.Getenv("DOCKHAND_REMOTE_ENGINE_IP"), "127.0.0.1")
	directAddr := net.JoinHostPort(host, ins.NetworkSettings.Ports["8080/tcp"][0].HostPort)
	for i := 0; i < n; i++ {
		for k := 0; k < 2; k++ {
			viaHostPort := (i+k)%2 == 0 // the other path first on odd rounds
			a := directAddr
			if viaHostPort {
				a = addr
			}
			d, err := get(ctx, a)
			if err != nil {
				return nil, nil, err
			}
			if viaHostPort {
				fwd = append(fwd, ms(d))
			} else {
				direct = append(direct, ms(d))
			}
		}
	}
	return fwd, direct, nil
}

// get opens a connection, sends one HTTP request and reads the answer to
// the end (HTTP/1.0: the server closes).
func get(ctx context.Context, addr string) (time.Duration, error) {
	start := time.Now()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET / HTTP/1.0\r\n\r\n"); err != nil {
		return 0, err
	}
	b, err := io.ReadAll(conn)
	if err != nil {
		return 0, err
	}
	if !strings.Contains(string(b), "hello") {
		return 0, fmt.Errorf("%s answered %q", addr, b)
	}
	return time.Since(start), nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
