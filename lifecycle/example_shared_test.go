package lifecycle_test

import (
	"context"
	"errors"
	"log"

	"github.com/dockhand/dockhand/lifecycle"
)

// A container shared by several processes: each holds its key before it
// looks the container up, and the last to release it removes it.
func ExampleClient_Hold() {
	ctx := context.Background()
	c, err := lifecycle.New(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	const key = "myapp-db-3f2a9c" // a hash of what makes the container
	h, err := c.Hold(ctx, key)    // first: a last holder's release cannot miss us
	if err != nil {
		log.Fatal(err)
	}
	ct, err := c.Container(ctx, key)
	if errors.Is(err, lifecycle.ErrNotFound) {
		ct, err = c.Run(ctx, "redis:7", lifecycle.WithName(key),
			lifecycle.WithLabels(map[string]string{lifecycle.LabelShared: key})) // ErrConflict: another process won, look again
	}
	if err != nil {
		log.Fatal(err)
	}
	// ... use ct ...
	if last, err := h.Release(ctx); err == nil && last {
		// Rename, count again, remove: a holder that came since keeps it.
		_, _ = c.RemoveShared(ctx, key, ct.ID())
	}
}

// Before adopting or removing a container found under a shared key, make
// sure Dockhand made it as that key's shared container (its labels are
// not merely its image's), and whether its maker may still use it.
func ExampleClient_IsShared() {
	ctx := context.Background()
	c, err := lifecycle.New(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	const key = "myapp-db-3f2a9c"
	ct, err := c.Container(ctx, key)
	if err != nil {
		log.Fatal(err)
	}
	shared, err := c.IsShared(ctx, key, ct.ID())
	if err != nil || !shared {
		log.Fatalf("%s is not ours to share: %v", key, err)
	}
	if gone, err := c.OwnerGone(ctx, ct.ID()); err == nil && !gone {
		log.Printf("%s: its maker may still use it", key)
	}
}

// A watchdog process releases, by key and name, the hold of a process
// that ended without releasing it, and removes the shared container when
// that process was the last holder. The names come from the process
// while it lived (Hold.Key, Hold.Name, Container.ID).
func ExampleClient_ReleaseHold() {
	ctx := context.Background()
	c, err := lifecycle.New(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	const key = "myapp-db-3f2a9c"
	const hold = "dockhand-hold-myapp-db-3f2a9c-4711-9e1f03aa" // its Hold.Name()
	const id = "5d41402abc4b"                                  // its container's ID()
	last, err := c.ReleaseHold(ctx, key, hold)
	if err != nil {
		log.Fatal(err)
	}
	if last {
		// Rename, count again, remove: a holder that came since keeps it.
		if _, err := c.RemoveShared(ctx, key, id); err != nil {
			log.Print(err)
		}
	}
}
