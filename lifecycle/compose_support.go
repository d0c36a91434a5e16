package lifecycle

import (
	"context"

	"github.com/docker/docker/api/types/container"

	"github.com/dockhand/dockhand/waitfor"
)

// Labels returns extra merged with the session labels this client puts on
// everything it creates (dev.dockhand.*), for resources created through
// API() directly: the compose package creates containers, networks and
// volumes itself and labels them with this so Cleanup, Sweep and the test
// leak check find them. The session labels win over keys in extra, and
// every ownership key is set (empty where it does not apply), so a
// container labelled with them inherits none from its image.
func (c *Client) Labels(extra map[string]string) map[string]string {
	return c.sessionLabels(extra)
}

// WatchContainer waits on the engine's event stream until judge says the
// container id is done: it subscribes to the container's events (start,
// restart, health_status, die, oom, destroy), then calls judge with its
// inspection, and again after each event and every few seconds. judge
// returns done with a nil error when the container is where the caller
// wants it, or a non-nil error when it can never get there; either ends the
// wait. It returns the last inspection judged (after a die event of a
// container without a restart policy, one built from the event: the state
// and the configuration seen before).
//
// It is the event loop of Healthy and Exited, for the compose package's
// dependency conditions: a cut event stream is subscribed to again from the
// last event seen (so none is lost) and the container inspected again; a
// failed inspection is tried again. Only when the engine keeps failing
// does it give up, with the engine's error. A container that is gone ends
// the wait with an *ExitError.
func (c *Client) WatchContainer(ctx context.Context, id string, judge func(container.InspectResponse) (done bool, err error)) (container.InspectResponse, error) {
	ct := &Container{id: id, c: c}
	var last container.InspectResponse
	decide := func(_ context.Context, ins container.InspectResponse) (bool, error) {
		last = ins
		done, err := judge(ins)
		if err != nil {
			return true, waitfor.Permanent(err)
		}
		return done, nil
	}
	err := ct.watchEvents(ctx, []string{"start", "restart", "health_status", "die", "oom", "destroy"}, decide, nil)
	return last, err
}

// PublishAddress is the host address this client binds published ports to
// when their spec names none (see WithPorts and WithHostOverride): 127.0.0.1
// for a local engine, the address the client reaches a tcp:// engine by,
// the remote loopback of an ssh:// engine. The compose package gives it to
// ports without host_ip.
func (c *Client) PublishAddress(ctx context.Context) string { return c.bindAddress(ctx) }
