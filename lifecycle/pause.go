package lifecycle

import "context"

// Pause suspends every process of the container (docker pause): it stays
// up, with status "paused", until Unpause. Pausing a container that is not
// running is an error from the engine.
func (ct *Container) Pause(ctx context.Context) error {
	if err := ct.valid("pause"); err != nil {
		return err
	}
	if err := ct.c.api.ContainerPause(ctx, ct.id); err != nil {
		return ct.c.lookupErr(err, "pause container %s", ct)
	}
	return nil
}

// Unpause resumes the processes of a paused container (docker unpause).
func (ct *Container) Unpause(ctx context.Context) error {
	if err := ct.valid("unpause"); err != nil {
		return err
	}
	if err := ct.c.api.ContainerUnpause(ctx, ct.id); err != nil {
		return ct.c.lookupErr(err, "unpause container %s", ct)
	}
	return nil
}
