// Package dockhandtest runs the services a Go test needs (PostgreSQL,
// Redis, any image) in containers, shared by every test and every test
// process of one `go test ./...` that asks for the same service, with a
// fresh database per test. It is to Docker what net/http/httptest is to
// HTTP servers.
//
// The model:
//
//   - A service is a container made from a Spec. Every process that asks
//     for the same Spec (same image id, command, environment, ports,
//     mounts) gets the same container: its name is a hash of the Spec, and
//     the engine is the lock (a name conflict means "use it").
//   - Each process that uses a service registers as its holder (a small
//     labelled network, see lifecycle.Hold) before it looks the container
//     up. When the last holder releases it (Main, at the end of the test
//     binary) the container is removed. A holder killed with SIGKILL never
//     releases; the next run, or the next lifecycle Client.Sweep, removes
//     the container once no live process holds it.
//   - Per test isolation: NewPostgres gives each test its own database,
//     cloned from a template that the user's migrations built once per
//     server (CREATE DATABASE … TEMPLATE … STRATEGY FILE_COPY), dropped
//     when the test passes and kept, with its DSN in the test log, when it
//     fails. NewRedis gives each test its own logical database, flushed
//     after it.
//   - A first start without initdb: NewPostgres starts its server from an
//     image whose cluster is already initialised, made once per image and
//     configuration and kept for later runs (WithInitdb opts out).
//   - No engine: the test is skipped with the reason, or fails under
//     CI=true, where an engine-backed test must never skip silently.
//
// Call Main from TestMain so the last process removes the shared
// containers when it ends:
//
//	func TestMain(m *testing.M) { dockhandtest.Main(m) }
//
// Without it the containers stay until the next run or Sweep.
package dockhandtest
