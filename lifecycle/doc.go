// Package lifecycle drives a Docker engine through the whole container
// lifecycle from Go: pull, run, ps, exec, stop, rm, rmi, build, push, logs,
// volumes, ports and networks. It is the only package of the module that
// talks to the engine; package compose and the test helpers build on it.
//
// # Client
//
// New connects to one engine, found as the docker CLI finds it: DOCKER_HOST,
// DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, DOCKER_API_VERSION, DOCKER_CONTEXT and
// the current context of the CLI configuration (~/.docker, or
// DOCKER_CONFIG), else DefaultHost. WithDockerHost, WithDockerContext,
// WithTLS and WithConfigDir say it explicitly. New pings the engine and
// negotiates the API version, so an unreachable engine is reported at once,
// naming the address tried. A Client is safe for concurrent use.
//
// Idempotent reads (inspect, list, version, ping, subscribing to events or
// logs) that fail on their connection or with a 5xx answer are retried with a
// short backoff, 4 tries by default (WithRetry). Calls that change state are
// never sent twice. The client logs through log/slog (WithLogger; default
// slog.Default()).
//
//	c, err := lifecycle.New(ctx)
//	if err != nil { ... }
//	defer c.Close()
//
// # Verbs and options
//
// Methods are named after the CLI's verbs, so a reader who knows docker finds
// the call: Client.Pull, Push, Tag, Build, RemoveImage, Run, Containers (ps),
// CreateVolume, CreateNetwork, ConnectNetwork; Container.Exec, Stop, Kill,
// Remove, Logs, Wait, CopyTo. Every call that can block takes a
// context.Context first.
//
// Options are typed per verb: Run takes RunOptions, Exec ExecOptions, Build
// BuildOptions, and so on. An option that serves several verbs satisfies
// several types (WithEnv is a ProcessOption: both a RunOption and an
// ExecOption; WithLabels serves Run, Build, CreateVolume and CreateNetwork), so
// godoc lists each verb's options under it and an option given to a verb it
// does not serve does not compile. WithContainerConfig hands the raw
// container.Config, HostConfig and NetworkingConfig to a func, for what the
// options do not cover; lifecycle still sets its ownership labels and the
// host address of port bindings after that func. Ports published without a
// host address (by WithPorts or a raw HostConfig) bind to the client's bind
// address: 127.0.0.1 for a local engine (see WithPorts, and below).
//
// # Engines on other machines
//
// One rule per client decides where published ports are bound and at which
// address the client reaches them (HostPort, PortReady, compose's Port):
//
//   - a local engine (unix socket, npipe, tcp:// to a loopback address):
//     bound to and reached at 127.0.0.1;
//   - a tcp:// engine at another address: bound to and reached at the
//     address the client reaches the engine by (a name is resolved), never
//     all interfaces; when the engine host does not own that address (NAT, a
//     name resolving differently there) the start fails with an error naming
//     WithAllInterfaces and DOCKHAND_HOST_OVERRIDE;
//   - an ssh:// engine (ssh://[user@]host[:port], through the docker CLI's
//     connection helper: `ssh … docker system dial-stdio`): bound to the
//     remote 127.0.0.1, reached through a listener on the local 127.0.0.1
//     that forwards each connection over SSH while the Client is open;
//   - a client in a container of its local engine, the socket mounted
//     (found from the engine: a container with one of this process's
//     addresses): bound to and reached at that network's gateway;
//   - WithHostOverride or DOCKHAND_HOST_OVERRIDE: reached at the given
//     address, bound to it when it is an IP address.
//
// Docker contexts with tcp:// (and TLS) or ssh:// endpoints work as
// DOCKER_HOST does. A bind mount names a path on the engine host: when that
// is not this machine's file system, the first Run with one logs a warning,
// and a refused one says whose path it was and suggests CopyTo or a volume.
//
// # Containers
//
// Client.Run and Client.Container return a *Container, a handle on one
// container as *exec.Cmd is on a process; its methods are safe for concurrent
// use. A Container made any other way (new(Container), a zero value) is not
// a handle: its methods return an error wrapping ErrInvalid, and its
// conditions fail at once with one, instead of crashing.
//
// Client.Create creates a container without starting it (docker create), with
// Run's options; Container.Start starts it, Rename renames it. Client.Containers
// lists containers (labels, state, health, exit code, ports) and
// Summary.Container turns a line of it into a handle.
//
// Run is detached by default and returns once the container has started.
// With WithStdin, WithStdout or WithStderr it runs in the foreground, as
// docker run does and as exec.Cmd.Run: it returns when the container exits,
// and a non-zero exit is an *ExitError (exit code, OOM kill, last log lines),
// returned with the handle. If anything fails after the container was created
// (a network connect, the start, the attach), Run removes the container and
// returns a *RunError: a failed Run leaves nothing behind.
//
// # Conditions
//
// Container.Healthy, Exited, Started, Ready, LogLine, Listening, PortReady and
// ExecSucceeds return waitfor.Condition values, to be waited on with waitfor.Wait alone or
// with other conditions:
//
//	err := waitfor.Wait(ctx, ctr.Healthy(), ctr.PortReady("5432"))
//
// Started, Ready, Healthy with WithFailUnhealthy and Exited(0) are docker
// compose's service_started, up --wait, service_healthy and
// service_completed_successfully; the compose package waits with them.
// Healthy, Exited, Started and Ready follow the engine's event stream, and LogLine the
// container's log stream, instead of polling (they implement waitfor.Watcher),
// so they notice a change as the engine records it. Listening reads the
// socket tables of the container's network namespace; PortReady also
// requires the port to be published and a connection to the host port to
// stay open, which tells a listening process from docker-proxy accepting
// alone; ExecSucceeds runs a command in the container. Every condition fails
// at once (waitfor.Permanent) with an *ExitError, which errors.As finds, when
// the container stops for good before it holds: waiting longer could only end
// in a timeout.
//
// # Ownership
//
// Every container, network and volume a Client creates carries ownership
// labels (LabelSession, LabelClient, LabelOwner, …), each set explicitly,
// so that none is ever inherited from an image; images the Client builds
// carry only image-only labels (LabelBuildSession, …). Client.Cleanup
// removes what its Client created (and a persistent session's resources,
// for its teardown); Client.Sweep removes what a process that is provably
// gone left behind. Both err on the side of keeping: a resource is removed
// only when its labels prove it is theirs to remove. A container shared by
// several processes (LabelShared) is held by each through a hold, a
// labelled volume nothing mounts (Client.Hold); the last holder removes it
// (Client.RemoveShared), and another process can release a hold for one
// that ended (Client.ReleaseHold).
//
// # Errors
//
// Errors wrap their cause (errors.As still finds the SDK's error) and, when
// the failure has one, a class to test with errors.Is: ErrInvalid (bad
// input, rejected before any engine call), ErrNotFound, ErrConflict (a name
// or a port in use, an image used by a container), ErrUnauthorized (a
// registry refusing the credentials), ErrUnavailable (an engine that cannot
// be reached) and ErrTooLarge (a ReadFile over its WithMaxSize). All but
// ErrTooLarge are the containerd errdefs classes the Docker SDK itself uses,
// so cerrdefs.IsNotFound and its kin agree with errors.Is.
//
// Secrets never show: errors, log records and the %v, %#v, JSON and
// log/slog forms of the package's values hide passwords in URLs, secret
// KEY=VALUE words and password flags of command lines, by the one rule of
// the module (internal/redact); engine messages are scrubbed the same way,
// and the log lines an *ExitError quotes too.
//
// # Examples
//
// Example shows the round trip (pull, run, ps, exec, stop, rm, rmi);
// ExampleContainer_Healthy, ExampleContainer_PortReady,
// ExampleContainer_LogLine and ExampleContainer_Exited show the conditions;
// ExampleClient_Cleanup shows ownership at work. They need an engine, so go
// test compiles them but does not run them.
package lifecycle
