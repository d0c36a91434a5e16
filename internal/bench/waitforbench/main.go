// Command waitforbench measures how soon cmd/waitfor notices a port that
// opens, next to the 1-second polling loop of wait-for-it and dockerize, and
// what waiting costs in CPU time and connection attempts.
//
//	go run ./internal/bench/waitforbench [-trials 30]
//
// Protocol, per trial and per tool (interleaved, in random order): pick a
// free 127.0.0.1 port, start the waiter on it, open the port after 300 ms +
// uniform 0-1 s, and measure from the moment the listener is open to the
// moment the waiter process has exited. The baseline is this program re-run
// as a tiny Go loop: dial, and sleep 1 s if refused.
//
// CPU time is the process's user+sys time (os.ProcessState) divided by its
// lifetime, so it includes the start-up; a steady-state figure comes from
// separate runs that wait 5 s for a port that never opens. Attempts are
// counted by waitfor itself: its -json log reports them per target.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"time"
)

const (
	baselineEnv = "WAITFORBENCH_BASELINE_ADDR"
	floorEnv    = "WAITFORBENCH_FLOOR_ADDR"
)

func main() {
	if addr := os.Getenv(baselineEnv); addr != "" {
		baseline(addr)
		return
	}
	if addr := os.Getenv(floorEnv); addr != "" {
		floor(addr)
		return
	}
	trials := flag.Int("trials", 30, "trials per tool")
	steady := flag.Duration("steady", 5*time.Second, "length of each steady-state wait")
	flag.Parse()
	if err := bench(*trials, *steady); err != nil {
		fmt.Fprintln(os.Stderr, "waitforbench:", err)
		os.Exit(1)
	}
}

// baseline is the behaviour of wait-for-it/dockerize: try, sleep 1 s.
func baseline(addr string) {
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			os.Exit(0)
		}
		time.Sleep(time.Second)
	}
}

// floor is the least a Go poller can cost here: a bare loop that dials
// every 20 ms (50/s), for 5 s, with one P like waitfor.
func floor(addr string) {
	runtime.GOMAXPROCS(1)
	var d net.Dialer
	t := time.NewTimer(time.Hour)
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); {
		if c, err := d.DialContext(context.Background(), "tcp", addr); err == nil {
			_ = c.Close()
		}
		t.Reset(20 * time.Millisecond)
		<-t.C
	}
}

type sample struct {
	latency   time.Duration // listener open -> process exited
	cpuPerSec float64       // ms of CPU per s of lifetime
	attempts  int           // waitfor only
	waiting   time.Duration // process start -> listener open
}

func bench(trials int, steady time.Duration) error {
	dir, err := os.MkdirTemp("", "waitforbench-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	bin := filepath.Join(dir, "waitfor")
	build := exec.Command("go", "build", "-tags", "waitfor_notls", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd/waitfor")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building cmd/waitfor (run from the module root): %v\n%s", err, out)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	fi, _ := os.Stat(bin)
	fmt.Printf("waitfor binary: %d bytes (static, stripped)\n", fi.Size())
	fmt.Printf("%d trials per tool, port opened 300ms + U(0,1s) after start, interleaved\n\n", trials)

	var wf, base []sample
	for i := range trials {
		tools := []string{"waitfor", "baseline"}
		if rand.IntN(2) == 0 {
			tools[0], tools[1] = tools[1], tools[0]
		}
		for _, tool := range tools {
			delay := 300*time.Millisecond + time.Duration(rand.Int64N(int64(time.Second)))
			s, err := trial(tool, bin, self, delay)
			if err != nil {
				return fmt.Errorf("trial %d %s: %w", i, tool, err)
			}
			if tool == "waitfor" {
				wf = append(wf, s)
			} else {
				base = append(base, s)
			}
		}
		fmt.Fprintf(os.Stderr, "\rtrial %d/%d", i+1, trials)
	}
	fmt.Fprintln(os.Stderr)

	lat := func(ss []sample) []time.Duration {
		out := make([]time.Duration, len(ss))
		for i, s := range ss {
			out[i] = s.latency
		}
		slices.Sort(out)
		return out
	}
	wl, bl := lat(wf), lat(base)
	fmt.Println("latency from port open to waiter exit (nearest rank):")
	fmt.Printf("  %-9s p50 %8s  p90 %8s  p99 %8s  max %8s\n", "waitfor", ms(pct(wl, 50)), ms(pct(wl, 90)), ms(pct(wl, 99)), ms(wl[len(wl)-1]))
	fmt.Printf("  %-9s p50 %8s  p90 %8s  p99 %8s  max %8s\n", "baseline", ms(pct(bl, 50)), ms(pct(bl, 90)), ms(pct(bl, 99)), ms(bl[len(bl)-1]))
	fmt.Printf("  baseline/waitfor: p50 x%.0f, p99 x%.0f\n\n",
		float64(pct(bl, 50))/float64(pct(wl, 50)), float64(pct(bl, 99))/float64(pct(wl, 99)))

	var cpu, rate []float64
	for _, s := range wf {
		cpu = append(cpu, s.cpuPerSec)
		// The last attempt is the one that succeeded after the port opened.
		rate = append(rate, float64(s.attempts-1)/s.waiting.Seconds())
	}
	slices.Sort(cpu)
	slices.Sort(rate)
	fmt.Println("waitfor, per trial (0.3-1.3 s lifetimes, start-up included):")
	fmt.Printf("  CPU        median %.2f ms/s, max %.2f ms/s\n", cpu[len(cpu)/2], cpu[len(cpu)-1])
	fmt.Printf("  attempts   median %.1f /s, max %.1f /s\n", rate[len(rate)/2], rate[len(rate)-1])

	fmt.Printf("waitfor, steady state (3 waits of %v on a port that never opens):\n", steady)
	for range 3 {
		cpuMS, attempts, err := steadyState(bin, steady)
		if err != nil {
			return err
		}
		fmt.Printf("  CPU %.2f ms/s, %.1f attempts/s\n", cpuMS/steady.Seconds(), float64(attempts)/steady.Seconds())
	}
	fmt.Println("reference: a bare Go loop dialing the closed port every 20 ms for 5 s (the floor on this machine):")
	for range 3 {
		addr, err := freePort()
		if err != nil {
			return err
		}
		cmd := exec.Command(self)
		cmd.Env = append(os.Environ(), floorEnv+"="+addr)
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return err
		}
		st := cmd.ProcessState
		fmt.Printf("  CPU %.2f ms/s\n", float64(st.UserTime()+st.SystemTime())/float64(time.Millisecond)/time.Since(start).Seconds())
	}
	return nil
}

func trial(tool, bin, self string, delay time.Duration) (sample, error) {
	addr, err := freePort()
	if err != nil {
		return sample{}, err
	}
	var cmd *exec.Cmd
	var stderr bytes.Buffer
	if tool == "waitfor" {
		cmd = exec.Command(bin, "-json", "-timeout", "10s", "tcp://"+addr)
		cmd.Stderr = &stderr
	} else {
		cmd = exec.Command(self)
		cmd.Env = append(os.Environ(), baselineEnv+"="+addr)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return sample{}, err
	}
	time.Sleep(time.Until(start.Add(delay)))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return sample{}, err
	}
	opened := time.Now()
	defer func() { _ = l.Close() }()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	if err := cmd.Wait(); err != nil {
		return sample{}, fmt.Errorf("%v: %s", err, stderr.String())
	}
	exited := time.Now()
	st := cmd.ProcessState
	s := sample{
		latency:   exited.Sub(opened),
		cpuPerSec: float64(st.UserTime()+st.SystemTime()) / float64(time.Millisecond) / exited.Sub(start).Seconds(),
		waiting:   opened.Sub(start),
	}
	if tool == "waitfor" {
		s.attempts, err = attemptsFromLog(stderr.Bytes(), "ready")
		if err != nil {
			return sample{}, err
		}
	}
	return s, nil
}

// steadyState waits d on a closed port and returns CPU ms and attempts.
func steadyState(bin string, d time.Duration) (float64, int, error) {
	addr, err := freePort()
	if err != nil {
		return 0, 0, err
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "-json", "-timeout", d.String(), "tcp://"+addr)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil {
		return 0, 0, fmt.Errorf("a closed port was reported ready")
	}
	st := cmd.ProcessState
	n, err := attemptsFromLog(stderr.Bytes(), "not ready")
	return float64(st.UserTime()+st.SystemTime()) / float64(time.Millisecond), n, err
}

func attemptsFromLog(log []byte, msg string) (int, error) {
	sc := bufio.NewScanner(bytes.NewReader(log))
	for sc.Scan() {
		var rec struct {
			Msg      string `json:"msg"`
			Attempts int    `json:"attempts"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return 0, fmt.Errorf("log line %q: %v", sc.Text(), err)
		}
		if rec.Msg == msg {
			return rec.Attempts, nil
		}
	}
	return 0, fmt.Errorf("no %q line in the log: %s", msg, log)
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// pct is the nearest-rank percentile of sorted values.
func pct(sorted []time.Duration, p int) time.Duration {
	i := (p*len(sorted)+99)/100 - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + "ms"
}
