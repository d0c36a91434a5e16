// Package compose runs compose projects (compose.yaml) on a Docker engine
// from Go, without the docker CLI, so that the docker compose v2 CLI
// recognises the result: the same container, network and volume names
// (project-service-N, project_default, project_volume), the same
// com.docker.compose.* labels, and the same config hash, so docker
// compose ps/logs/down work on a stack Up started and Stack.Down/Ps work
// on a stack docker compose started, and neither recreates the other's
// unchanged containers.
//
//	p, err := compose.Load(ctx, compose.WithWorkingDir("deploy"))
//	s := compose.New(client, p)
//	err = s.Up(ctx, compose.WithWait())
//	defer s.Down(ctx, compose.WithRemoveVolumes())
//	addr, err := s.Port(ctx, "db", "5432") // "127.0.0.1:49153"
//
// Loading is compose-go's (github.com/compose-spec/compose-go/v2) with
// the CLI's options: interpolation, .env, env_file, several files merged
// in order, extends, profiles, default file discovery and project name
// precedence.
//
// Up schedules services over the dependency graph as a ready queue: each
// service is created at once and started the moment its own depends_on
// conditions hold (service_started, service_healthy,
// service_completed_successfully, required: false). Health and exit
// waits follow the engine's event stream; nothing polls or sleeps.
//
// compose is a layer over package lifecycle, not beside it: it creates,
// starts, stops, removes, lists and waits for containers, and creates,
// lists and removes networks and volumes, through a lifecycle.Client. Its
// waits are lifecycle's conditions (Container.Healthy with
// WithFailUnhealthy, Exited(0), Ready), its stop grace periods follow
// lifecycle's rule (whole seconds, rounded up), and its errors wrap
// lifecycle's classes (errors.Is(err, lifecycle.ErrNotFound)) and
// *lifecycle.ExitError (exit code, OOM kill, last log lines), naming the
// service. Every container, network and volume carries the creating
// lifecycle.Client's dev.dockhand.* session labels, written by lifecycle,
// so Client.Cleanup and Sweep remove a stack a crashed program left behind.
//
// Differences from docker compose, on purpose:
//   - Ports without a host IP are published on the lifecycle.Client's bind
//     address (127.0.0.1 for a local engine), not 0.0.0.0, so a development
//     database is not opened to the network by accident; WithAllInterfaces
//     behaves like the CLI.
//   - Down removes anonymous volumes with their containers (the CLI keeps
//     them without -v); named volumes still need WithRemoveVolumes.
//   - A second Up does not re-run a one-shot service (one that others
//     depend on with service_completed_successfully) that already
//     completed with exit code 0; the CLI starts it again.
//   - A container kept by Up keeps the session labels of the client that
//     created it.
//
// Not supported: build secrets, ssh and dockerfile_inline, BuildKit-only
// build features (builds use the engine's classic builder), secrets and
// configs, develop/watch, models, provider services, pre_start/post_start
// hooks, links, device requests (gpus), and start_interval on engines
// older than API 1.44.
package compose
