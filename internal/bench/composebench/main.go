// Command composebench measures compose.Stack against the docker compose
// CLIs (v2.40 plugin, v5 standalone docker-compose-v5; see
// scripts/install-compose-cli) on the local engine, with Dockhand's
// offline stand-in images:
//
//	go run ./internal/bench/composebench [-rounds 5]
//
// (1) a 5-service stack with healthchecks, Up(WithWait) and Down, rounds
// times, medians; (2) 20 independent services against 3, to show the
// services are created in parallel; (3) for each CLI release installed,
// the same file with `up -d --wait` / `down`, interleaved with ours in
// every round, and the ratio of medians.
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
	clis, missing := composeCLIs(ctx)
	fmt.Printf("engine API %s, %d rounds; compose CLIs:", c.APIVersion(), rounds)
	for _, cli := range clis {
		fmt.Printf(" %s (%s)", cli.version, strings.Join(cli.argv, " "))
	}
	for _, m := range missing {
		fmt.Printf(" [%s]", m)
	}
	fmt.Print("\n\n")

	// (1) and (3): the 5-service stack, ours and each CLI's interleaved.
	var upOurs, downOurs []time.Duration
	upCLI := make([][]time.Duration, len(clis))
	downCLI := make([][]time.Duration, len(clis))
	for i := range rounds {
		name := fmt.Sprintf("bench5-%s-%d", c.Session()[:8], i)
		u, d, err := ours(ctx, c, five, name)
		if err != nil {
			return err
		}
		upOurs, downOurs = append(upOurs, u), append(downOurs, d)
		for k, cli := range clis {
			u, d, err := theirs(ctx, cli.argv, five, fmt.Sprintf("%s-cli%d", name, k))
			if err != nil {
				return err
			}
			upCLI[k], downCLI[k] = append(upCLI[k], u), append(downCLI[k], d)
		}
	}
	fmt.Println("(1) 5 services with healthchecks (postgres, redis, 3 busybox; interval 1s), up --wait + down:")
	fmt.Printf("    ours:        up median %v, down median %v   (up: %v)\n", median(upOurs), median(downOurs), rounded(upOurs))
	for k, cli := range clis {
		fmt.Printf("    CLI %-8s up median %v, down median %v   (up: %v)\n", cli.version+":", median(upCLI[k]), median(downCLI[k]), rounded(upCLI[k]))
	}
	for k, cli := range clis {
		ratio := float64(median(upOurs)+median(downOurs)) / float64(median(upCLI[k])+median(downCLI[k]))
		fmt.Printf("(3) ours/CLI %s (up+down medians): %.2f   up only: %.2f   down only: %.2f\n", cli.version,
			ratio, float64(median(upOurs))/float64(median(upCLI[k])), float64(median(downOurs))/float64(median(downCLI[k])))
	}
	if len(clis) == 0 {
		fmt.Println("(3) skipped: no docker compose CLI available (scripts/install-compose-cli)")
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

// theirs does the same with a docker compose CLI (argv: the command
// before the compose arguments).
func theirs(ctx context.Context, argv []string, dir, name string) (up, down time.Duration, err error) {
	cmd := func(args ...string) *exec.Cmd {
		full := append(append(slices.Clone(argv[1:]), "--project-directory", dir, "-p", name), args...)
		return exec.CommandContext(ctx, argv[0], full...)
	}
	start := time.Now()
	if out, err := cmd("up", "-d", "--wait").CombinedOutput(); err != nil {
		_ = cmd("down", "-v").Run()
		return 0, 0, fmt.Errorf("%s up: %v\n%s", strings.Join(argv, " "), err, out)
	}
	up = time.Since(start)
	start = time.Now()
	if out, err := cmd("down", "-v").CombinedOutput(); err != nil {
		return 0, 0, fmt.Errorf("%s down: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return up, time.Since(start), nil
}

type composeCLI struct {
	version string
	argv    []string
}

// composeCLIs finds the CLI releases scripts/install-compose-cli installs:
// the `docker compose` plugin (v2.40) and docker-compose-v5 (v5; or
// COMPOSE_V5_BIN); missing says which were not found.
func composeCLIs(ctx context.Context) (found []composeCLI, missing []string) {
	v5 := os.Getenv("COMPOSE_V5_BIN")
	if v5 == "" {
		v5 = "docker-compose-v5"
		if _, err := exec.LookPath(v5); err != nil {
			v5 = "/usr/local/bin/docker-compose-v5"
		}
	}
	for _, argv := range [][]string{{"docker", "compose"}, {v5}} {
		out, err := exec.CommandContext(ctx, argv[0], append(slices.Clone(argv[1:]), "version", "--short")...).Output()
		v := strings.TrimPrefix(strings.TrimSpace(string(out)), "v")
		if err != nil || strings.HasPrefix(v, "1.") {
			missing = append(missing, strings.Join(argv, " ")+" not installed")
			continue
		}
		found = append(found, composeCLI{version: v, argv: argv})
	}
	return found, missing
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
