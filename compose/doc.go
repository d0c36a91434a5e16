// Package compose runs compose projects (compose.yaml) on a Docker engine
// from Go, without the docker CLI, so that the docker compose CLI (v5, and
// v2.40) recognises the result: the same container, network and volume
// names (project-service-N, project_default, project_volume), the same
// com.docker.compose.* labels, and the same config hash, so docker
// compose ps/logs/down work on a stack Up started and Stack.Down/Ps work
// on a stack docker compose started, and neither recreates the other's
// unchanged containers. Up writes docker compose v5's config hash and
// keeps containers labelled with either release's hash; v2.40, which
// hashes bind mounts differently, recreates Up's containers that have one.
// Networks and volumes carry the CLI's config hash too: Up keeps a
// network either release made, except one v2.40 made without the
// ipam.options the file sets (v2.40 leaves them out of the network and of
// its hash), which Up recreates with them; v2.40 in turn recreates Up's
// networks that set them.
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
// precedence. Stack.Config prints the loaded project as docker compose
// config does, byte for byte as v5 prints it (YAML, or JSON with
// WithFormat); v2.40 writes the same model with its keys in another
// order, other quotes and bind.create_host_path on short-syntax binds.
//
// Up schedules services over the dependency graph as a ready queue: each
// service is created at once and started the moment its own depends_on
// conditions hold (service_started, service_healthy,
// service_completed_successfully, required: false). Health and exit
// waits follow the engine's event stream; nothing polls or sleeps.
//
// Convergence follows the CLI: a container whose configuration or image
// changed is recreated under its name and number, taking over the old
// container's anonymous volumes (an image VOLUME's data survives) and
// labelled com.docker.compose.replace; kept dependents with
// depends_on.restart: true restart, and network_mode: service:x
// dependents follow a recreated x. Scaling down removes the highest
// numbers; new replicas take numbers after the highest, not a gap. A
// project network whose configuration changed (config-hash label) is
// recreated and the project's containers reconnected; a changed project
// volume makes Up fail unless WithRecreateVolumes; a network with the
// project's name but another project's label is an error
// (lifecycle.ErrConflict), never adopted. Down leaves one-off containers
// (Run) unless WithRemoveOrphans.
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
//   - A second Up does not re-run a one-shot service (one that others
//     depend on with service_completed_successfully) that already
//     completed with exit code 0; the CLI starts it again.
//   - A container kept by Up keeps the session labels of the client that
//     created it.
//   - WithRemoveOrphans makes Down remove running one-off containers too
//     (CLI 2.40 and 5.6 remove only stopped ones).
//   - With WithRemoveVolumes (down -v), Down also removes the anonymous
//     volumes of the orphan and one-off containers it removes, and those a
//     recreated container took over (the CLI leaves both even with -v).
//     Without it Down keeps every volume, anonymous ones included, as the
//     CLI does; so do scaling down and the other removals of Up.
//   - Stop grace periods (WithGracePeriod, stop_grace_period) are rounded
//     up to whole seconds, as lifecycle does; the CLI truncates them
//     (1.5s stops after 1 s, here after 2 s).
//   - Pull lets every pull run to its end and returns all failures, each
//     naming the service and image; the CLI stops the other pulls at the
//     first failure of a service without build:. Its progress is one line
//     per service skipped and per image pulling, pulled or failed, without
//     the layers. Neither Pull nor Up reads DOCKER_DEFAULT_PLATFORM.
//   - CopyTo and CopyFrom (cp) mean what lifecycle's Container.CopyTo and
//     CopyFrom mean: the destination is a directory the source is copied
//     into (CopyTo's must exist; CopyFrom creates its own), so cp's
//     renaming forms (a destination that does not exist becomes the copy)
//     and "-" for a tar stream are not offered, nor --follow-link and
//     --archive; and CopyFrom keeps lifecycle's protections against what an
//     untrusted image puts in the archive (no setuid bits, device nodes or
//     links pointing outside the destination).
//
// No compose key is silently ignored: each one either works as the CLI
// makes it work on a single engine, has no effect there for the CLI
// either (swarm-only deploy settings, x- extensions), or makes Load and
// Up fail with an error naming the service and the key (wrapping
// lifecycle.ErrInvalid). Rejected: gpus and device reservations, CDI
// devices, develop.watch, models, provider services, pre_start,
// post_start and pre_stop hooks, credential_spec, use_api_socket, umask,
// jobs, secrets and configs that are not file-based (and their uid, gid
// and mode), pull_policy refresh periods, deploy.mode global, the BuildKit-only
// build keys and those lifecycle.Build has no option for. Keys the
// engine's API version cannot honour fail Up before anything is created,
// naming the version needed: healthcheck.start_interval (1.44),
// annotations (1.43), volume subpath (1.45), gw_priority (1.48), a MAC
// address on a second network (1.44); image volumes (1.47) and
// networks.interface_name (1.50) are rejected at Load.
package compose
