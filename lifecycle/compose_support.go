package lifecycle

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
