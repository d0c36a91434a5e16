// Package ex holds the few helpers the examples share: a main that stops
// on Ctrl-C, a client whose resources carry extra labels, and printing.
package ex

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/dockhand/dockhand/lifecycle"
)

// LabelsEnv names the environment variable with extra labels, as
// "key=value,key2=value2", put on everything an example creates. Tests use
// it to find what an example left behind.
const LabelsEnv = "DOCKHAND_LABELS"

// Main runs run with a context that is cancelled on Ctrl-C (SIGINT) or
// SIGTERM, so an example stops what it is doing and still cleans up in its
// deferred calls. It exits with status 1 if run fails.
func Main(run func(ctx context.Context) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx)
	interrupted := ctx.Err() != nil
	stop()
	switch {
	case err != nil && interrupted && errors.Is(err, context.Canceled):
		fmt.Fprintln(os.Stderr, "\ninterrupted: cleaned up and stopped")
		os.Exit(130)
	case err != nil:
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// Client connects to the Docker engine the environment names (DOCKER_HOST,
// the current docker context, or the local socket).
func Client(ctx context.Context) (*lifecycle.Client, error) {
	var opts []lifecycle.ClientOption
	if v := os.Getenv(LabelsEnv); v != "" {
		labels := map[string]string{}
		for _, kv := range strings.Split(v, ",") {
			k, val, _ := strings.Cut(kv, "=")
			if k = strings.TrimSpace(k); k != "" {
				labels[k] = val
			}
		}
		opts = append(opts, lifecycle.WithClientLabels(labels))
	}
	return lifecycle.New(ctx, opts...)
}

// Later returns a context for clean-up work, which must run even after
// Ctrl-C cancelled ctx; it is bounded to a minute.
func Later(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
}

var step int

// Step prints a numbered heading and the docker CLI command that does the
// same thing, so the example can be compared with the CLI.
func Step(title, cli string) {
	step++
	fmt.Printf("\n%d. %s\n", step, title)
	if cli != "" {
		fmt.Printf("   same as: %s\n", cli)
	}
}

// Say prints an indented line.
func Say(format string, args ...any) {
	fmt.Printf("   "+format+"\n", args...)
}

// Look tells the reader what to run in another terminal to see the effect.
func Look(format string, args ...any) {
	fmt.Printf("   -> look: "+format+"\n", args...)
}

// Short returns the first 12 characters of an id, as docker prints them.
func Short(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
