// Package composetest runs a service of a compose file as a test fixture,
// as net/http/httptest serves net/http handlers in tests: ServiceSpec
// loads the project with [compose.Load] (.env, interpolation, profiles,
// extends, several files merged) and turns one service into a
// [dockhandtest.Spec], which [dockhandtest.Start] shares between tests
// and test processes and removes after them, like the built-in
// PostgreSQL and Redis fixtures.
//
// The model: a fixture is one container, on the engine's default
// network, reached from the test through ephemeral host ports. The Spec
// carries what such a container is made of (image, entrypoint, command,
// user, environment, ports and expose, tmpfs) and its readiness: the
// service's healthcheck, which replaces the image's and which the engine
// runs, with its interval capped for test speed. Every other key of the
// service is either ignored, because the fixture owns what it sets
// (container_name, restart, labels, a host port the file fixes), or
// rejected before any engine call with the service, the key and what to
// do instead (volumes, depends_on, cap_add, ...). Every key of
// compose-go's service type has a rule: a key a newer compose-go adds is
// rejected until it is classified.
//
// The package lives apart from dockhandtest so that only the tests that
// use a compose file build compose-go: dockhandtest imports lifecycle and
// waitfor only.
package composetest
