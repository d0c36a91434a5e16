// Command composebench measures compose.Stack against the docker compose
// v2 CLI on the local engine, with Dockhand's offline stand-in images:
//
//	go run ./internal/bench/composebench [-rounds 5]
//
// (1) a 5-service stack with healthchecks, Up(WithWait) and Down, rounds
// times, medians; (2) 20 independent services against 3, to show the
// services are created in parallel; (3) when `docker compose version`
// reports v2+, the same file with `docker compose up -d --wait` / `down`,
// interleaved with ours, and the ratio of medians.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dockhand/dockhand/compose"
	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
)

const fiveServices = `services:
  db:
    image: %[1]s
    environment: {POSTGRES_PASSWORD: bench}
    healthcheck: {test: [CMD, pg_isready, -U, postgres], interval: 1s, timeout: 3s, retries: 60}
  cache:
    image: %[2]s
    healthcheck: {test: [CMD, redis-cli, ping], interval: 1s, timeout: 3s, retries: 60}
  api:
    image: %[3]s
    init: true
    command: [sleep, "86400"]
    healthcheck: {test: [CMD, "true"], interval: 1s, retries: 60}
    depends_on:
      db: {condition: service_healthy}
      cache: {condition: service_healthy}
  worker:
    image: %[3]s
    init: true
    command: [sleep, "86400"]
    healthcheck: {test: [CMD, "true"], interval: 1s, retries: 60}
    depends_on:
      cache: {condition: service_healthy}
  web:
    image: %[3]s
    init: true
    command: [sleep, "86400"]
    healthcheck: {test: [CMD, "true"], interval: 1s, retries: 60}
    depends_on:
      api: {condition: service_healthy}
`

func independent(n int, image string) string {
	var b strings.Builder
	b.WriteString("services:\n")
	for i := range n {
		fmt.Fprintf(&b, "  s%02d:\n    image: %s\n    init: true\n    command: [sleep, \"86400\"]\n", i, image)
	}
	return b.String()
}

func main() {
	rounds := flag.Int("rounds", 5, "up/down rounds per measurement")
	flag.Parse()
	if err := run(*rounds); err != nil {
		fmt.Fprintln(os.Stderr, "composebench:", err)
		os.Exit(1)
	}
}

func run(rounds int) error {
	ctx := context.Background()
	c, err := lifecycle.New(ctx)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.Cleanup(cctx); err != nil {
			fmt.Fprintln(os.Stderr, "cleanup:", err)
		}
		c.Close()
	}()
	for _, img := range []string{testbench.Busybox, testbench.Postgres, testbench.Redis} {
		if _, err := c.InspectImage(ctx, img); err != nil {
			return fmt.Errorf("%s missing: run scripts/test-images (%v)", img, err)
		}
	}
	dir, err := os.MkdirTemp("", "composebench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	write := func(name, content string) (string, error) {
		d := filepath.Join(dir, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", err
		}
		return d, os.WriteFile(filepath.Join(d, "compose.yaml"), []byte(content), 0o644)
	}
	five, err := write("five", fmt.Sprintf(fiveServices, testbench.Postgres, testbench.Redis, testbench.Busybox))
	if err != nil {
		return err
	}
	wide, err := write("wide", independent(20, testbench.Busybox))
	if err != nil {
		return err
	}
	narrow, err := write("narrow", independent(3, testbench.Busybox))
	if err != nil {
		return err
	}
	cliVersion, cli := composeCLI(ctx)
	fmt.Printf("engine API %s, %d rounds; compose CLI: %s\n\n", c.APIVersion(), rounds, cliVersion)

	// (1) and (3): the 5-service stack, ours and the CLI's interleaved.
	var upOurs, downOurs, upCLI, downCLI []time.Duration
	for i := range rounds {
		name := fmt.Sprintf("bench5-%s-%d", c.Session()[:8], i)
		u, d, err := ours(ctx, c, five, name)
		if err != nil {
			return err
		}
		upOurs, downOurs = append(upOurs, u), append(downOurs, d)
		if cli {
			u, d, err := theirs(ctx, five, name+"-cli")
			if err != nil {
				return err
			}
			upCLI, downCLI = append(upCLI, u), append(downCLI, d)
		}
	}
	fmt.Println("(1) 5 services with healthchecks (postgres, redis, 3 busybox; interval 1s), up --wait + down:")
	fmt.Printf("    ours: up median %v, down median %v   (up: %v)\n", median(upOurs), median(downOurs), rounded(upOurs))
	if cli {
		fmt.Printf("    CLI:  up median %v, down median %v   (up: %v)\n", median(upCLI), median(downCLI), rounded(upCLI))
		ratio := float64(median(upOurs)+median(downOurs)) / float64(median(upCLI)+median(downCLI))
		fmt.Printf("(3) ours/CLI (up+down medians): %.2f   up only: %.2f   down only: %.2f\n",
			ratio, float64(median(upOurs))/float64(median(upCLI)), float64(median(downOurs))/float64(median(downCLI)))
	} else {
		fmt.Println("(3) skipped: docker compose v2 CLI not available")
	}

	// (2) 20 independent services against 3.
	var w20, w3 []time.Duration
	for i := range rounds {
		u, _, err := ours(ctx, c, wide, fmt.Sprintf("bench20-%s-%d", c.Session()[:8], i))
		if err != nil {
			return err
		}
		w20 = append(w20, u)
		u, _, err = ours(ctx, c, narrow, fmt.Sprintf("bench3-%s-%d", c.Session()[:8], i))
		if err != nil {
			return err
		}
		w3 = append(w3, u)
	}
	fmt.Printf("\n(2) independent services, up --wait median: 20 services %v, 3 services %v (x%.1f for x6.7 the services)\n",
		median(w20), median(w3), float64(median(w20))/float64(median(w3)))
	return nil
}

// ours brings the project in dir up (with wait) and down, timing both.
func ours(ctx context.Context, c *lifecycle.Client, dir, name string) (up, down time.Duration, err error) {
	p, err := compose.Load(ctx, compose.WithWorkingDir(dir), compose.WithProjectName(name))
	if err != nil {
		return 0, 0, err
	}
	s := compose.New(c, p)
	start := time.Now()
	if err := s.Up(ctx, compose.WithWait(), compose.WithWaitTimeout(3*time.Minute)); err != nil {
		_ = s.Down(ctx, compose.WithRemoveVolumes())
		return 0, 0, err
	}
	up = time.Since(start)
	start = time.Now()
	if err := s.Down(ctx, compose.WithRemoveVolumes()); err != nil {
		return 0, 0, err
	}
	return up, time.Since(start), nil
}

// theirs does the same with the docker compose CLI.
func theirs(ctx context.Context, dir, name string) (up, down time.Duration, err error) {
	start := time.Now()
	if out, err := exec.CommandContext(ctx, "docker", "compose", "--project-directory", dir, "-p", name, "up", "-d", "--wait").CombinedOutput(); err != nil {
		_ = exec.CommandContext(ctx, "docker", "compose", "--project-directory", dir, "-p", name, "down", "-v").Run()
		return 0, 0, fmt.Errorf("docker compose up: %v\n%s", err, out)
	}
	up = time.Since(start)
	start = time.Now()
	if out, err := exec.CommandContext(ctx, "docker", "compose", "--project-directory", dir, "-p", name, "down", "-v").CombinedOutput(); err != nil {
		return 0, 0, fmt.Errorf("docker compose down: %v\n%s", err, out)
	}
	return up, time.Since(start), nil
}

func composeCLI(ctx context.Context) (string, bool) {
	out, err := exec.CommandContext(ctx, "docker", "compose", "version", "--short").Output()
	if err != nil {
		return "not installed", false
	}
	v := strings.TrimSpace(string(out))
	return v, !strings.HasPrefix(strings.TrimPrefix(v, "v"), "1.")
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2].Round(time.Millisecond)
}

func rounded(d []time.Duration) []time.Duration {
	out := make([]time.Duration, len(d))
	for i, v := range d {
		out[i] = v.Round(10 * time.Millisecond)
	}
	return out
}
