// Package ex holds the few helpers the examples share: a main that stops
// on Ctrl-C and says how to run offline when no registry can be reached, a
// client whose resources carry extra labels, printing, an HTTP GET that
// waits for a server to answer, and a registry inside the program that
// serves local-only images (see Pull).
package ex

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
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
// deferred calls. It exits with status 1 if run fails. When run fails
// because no registry could be reached, the error (a *NoRegistryError)
// names the missing images of offline.Images and says to run
// scripts/test-images and offline.Command instead.
func Main(offline Offline, run func(ctx context.Context) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx)
	interrupted := ctx.Err() != nil
	stop()
	if !interrupted && RegistryUnreachable(err) {
		err = noRegistry(err, offline)
	}
	switch {
	case err != nil && interrupted && errors.Is(err, context.Canceled):
		fmt.Fprintln(os.Stderr, "\ninterrupted: cleaned up and stopped")
		os.Exit(130)
	case err != nil:
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// noRegistry turns err into a *NoRegistryError for Main.
func noRegistry(err error, offline Offline) error {
	ctx, cancel := Later(context.Background())
	defer cancel()
	c, cerr := Client(ctx)
	if cerr != nil {
		return &NoRegistryError{Images: offline.Images, Command: offline.Command, Err: err}
	}
	defer c.Close()
	return NoRegistry(ctx, c, err, offline.Command, offline.Images...)
}

// Client connects to the Docker engine the environment names (DOCKER_HOST,
// the current docker context, or the local socket). What an example leaves
// on purpose (-keep, a development stack left running) is meant to outlive
// the example's process, so its session is persistent: lifecycle's Sweep of
// dead processes' leftovers never removes it.
func Client(ctx context.Context) (*lifecycle.Client, error) {
	opts := []lifecycle.ClientOption{lifecycle.WithPersistentSession()}
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

// Get fetches url and returns the body of a 200 answer, retrying for up
// to 15 seconds while the server starts. (A published port accepts
// connections at once, even before the server inside listens, so a
// connection alone proves nothing: wait for an answer.)
func Get(ctx context.Context, url string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return "", err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			b, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rerr == nil && resp.StatusCode == http.StatusOK {
				return string(b), nil
			}
			err = fmt.Errorf("%s: %s", url, resp.Status)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("no answer from %s: %w", url, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ForwardNote says, for an ssh:// engine, that the printed addresses are
// local ends of SSH forwards that last only while this program runs.
func ForwardNote(c *lifecycle.Client) {
	if strings.HasPrefix(c.Host(), "ssh://") {
		Say("the engine is reached over SSH (%s): the ports stay on its loopback, and these addresses forward to them only while this program runs", c.Host())
	}
}
