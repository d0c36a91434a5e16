// Package dockhandtest runs the services a Go test needs (PostgreSQL,
// MariaDB, Redis, any image) in containers, shared by every test and every test
// process of one `go test ./...` that asks for the same service, with a
// fresh database per test. It is to Docker what net/http/httptest is to
// HTTP servers.
//
// The model:
//
//   - A service is a container made from a Spec. Every process that asks
//     for the same Spec (same image id, command, environment, ports,
//     mounts, healthcheck) gets the same container: its name is a hash
//     of the Spec, and the engine is the lock (a name conflict means
//     "use it").
//   - Each process that uses a service registers as its holder (a small
//     labelled volume that nothing mounts, see lifecycle.Hold) before it
//     looks the container up. When the last holder releases it the
//     container is removed: Main releases at the end of the test binary;
//     without Main, the process's watchdog (below) does when it ends.
//     A holder whose watchdog dies with it never releases; the next run,
//     or the next lifecycle Client.Sweep, removes the container once no
//     live process holds it.
//   - Per test isolation: NewPostgres gives each test its own database,
//     cloned from a template that the user's migrations built once per
//     server (CREATE DATABASE … TEMPLATE … STRATEGY FILE_COPY), dropped
//     when the test passes and kept, with its DSN in the test log, when it
//     fails. NewMariaDB does the same on MariaDB, which has no database
//     templates: the template, made once under GET_LOCK, is copied table
//     by table (SHOW CREATE TABLE, then INSERT … SELECT), and migrations
//     that leave views, triggers, routines or events in it fail the test
//     with those named. WithMigrations and WithDurability mean the same
//     for both (DatabaseOption). NewRedis gives each test its own logical
//     database, flushed after it.
//   - A first start without initdb: NewPostgres starts its server from an
//     image whose cluster is already initialised, made once per image and
//     configuration and kept for later runs (WithInitdb opts out).
//   - A service of a compose file: package compose/composetest
//     (composetest.ServiceSpec) turns one service of a compose project
//     into a Spec, ready when its healthcheck passes. It lives apart so
//     that this package imports only lifecycle and waitfor, and a test
//     build that uses no compose file never builds compose-go.
//   - No engine: the test is skipped with the reason, or fails under
//     CI=true, where an engine-backed test must never skip silently.
//
// Call Main from TestMain so the last process removes the shared
// containers as it ends:
//
//	func TestMain(m *testing.M) { dockhandtest.Main(m) }
//
// Without it, the watchdog releases them. At its first hold, a test
// process starts its watchdog: its own test binary run again, which this
// package's init turns into the watchdog before any test code runs (init
// functions of packages that do not import dockhandtest may run in it
// first). It reads a pipe only the test process writes to, in a session
// of its own, with its standard input and output on /dev/null, so `go
// test` does not wait for it. When the test process ends, however it
// ends (no TestMain, a panic, a timeout, SIGKILL), the pipe closes and
// the watchdog releases the holds the process did not release, and, for
// a service no other live process holds, removes the container. With
// Main it finds nothing to do. Main is still worth calling: it releases
// at once, and its errors reach the test output (the watchdog's go
// nowhere). On systems without Unix processes (Windows) there is no
// watchdog: without Main the containers stay until the next run or
// Sweep.
//
// Do not prune volumes while tests run: `docker volume prune` on engines
// before 23.0 (API 1.41 and older) removes unused named volumes, holds
// included (later engines prune only anonymous volumes unless --all). A
// pruned hold no longer counts: the next process keeps a running service
// whose maker still lives, but replaces one whose maker is gone, though
// other processes may still use it. `docker network prune` no longer
// touches holds.
package dockhandtest
