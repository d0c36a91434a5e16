package compose_test

import (
	"context"
	"errors"
	"log"

	"github.com/dockhand/dockhand/compose"
	"github.com/dockhand/dockhand/lifecycle"
)

// A volume whose configuration changed in the compose file makes Up fail
// with lifecycle.ErrConflict, saying what changed; a test stack that does
// not need the old data recreates it.
func ExampleWithRecreateVolumes() {
	ctx := context.Background()
	c, err := lifecycle.New(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	p, err := compose.Load(ctx, compose.WithFiles("compose.yaml"))
	if err != nil {
		log.Fatal(err)
	}
	st := compose.New(c, p)
	err = st.Up(ctx)
	if errors.Is(err, lifecycle.ErrConflict) {
		log.Print(err) // volume shop_data exists with another configuration (...)
		err = st.Up(ctx, compose.WithRecreateVolumes())
	}
	if err != nil {
		log.Fatal(err)
	}
}
