package lifecycle

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"strconv"
	"time"
)

// Version is the library version recorded on every resource it creates.
const Version = "0.1.0"

// Label keys that Dockhand puts on every container, network, volume and
// image it creates. Cleanup and Sweep select resources by them and never
// touch anything else.
const (
	LabelManaged = "dev.dockhand.managed" // always "true"
	LabelVersion = "dev.dockhand.version" // library version
	LabelSession = "dev.dockhand.session" // session id of the creating Client
	LabelPID     = "dev.dockhand.pid"     // pid of the owning process
	LabelHost    = "dev.dockhand.host"    // hostname of the owning process
	LabelCreated = "dev.dockhand.created" // creation time, RFC 3339
	// LabelPersistent marks the resources of a session made with
	// WithPersistentSession: meant to outlive their process, never swept.
	LabelPersistent = "dev.dockhand.persistent"
)

func newSessionID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// sessionLabels returns the labels for a resource made now by this client,
// merged under the user's own labels (which never override ours).
func (c *Client) sessionLabels(user map[string]string) map[string]string {
	out := make(map[string]string, len(user)+6)
	for k, v := range user {
		out[k] = v
	}
	for k, v := range c.labels {
		out[k] = v
	}
	out[LabelManaged] = "true"
	out[LabelVersion] = Version
	out[LabelSession] = c.session
	if c.persist {
		out[LabelPersistent] = "true" // no owner pid: Sweep leaves it alone
	} else {
		out[LabelPID] = strconv.Itoa(c.pid)
	}
	out[LabelHost] = c.host
	out[LabelCreated] = time.Now().UTC().Format(time.RFC3339)
	return out
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}
