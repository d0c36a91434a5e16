// Package waitfor waits until services and files are ready: a TCP port that
// accepts connections, an HTTP endpoint that answers 2xx, a PostgreSQL server
// that is no longer starting up, a Redis that has finished loading, a file
// that appeared, a command that exits 0, ...
//
// It is built for container entrypoints, where it replaces shell loops such as
// `until nc -z db 5432; do sleep 1; done`. Instead of a fixed 1 s sleep it
// polls with a short exponential backoff (1 ms growing to 20 ms by default,
// with jitter), so a dependency is noticed within about 20 ms of becoming
// ready, while a waiting process costs only a few milliseconds of CPU per
// second and at most about 50 connection attempts per second.
//
// A Condition is checked with Check; every call is bounded by
// Waiter.AttemptTimeout, so a server that accepts a connection but never
// answers cannot eat the whole budget. Name-resolution failures, refused or
// reset connections and EOF are "not ready yet"; only errors wrapped with
// Permanent stop a wait early.
//
//	err := waitfor.Wait(ctx, waitfor.TCP("db:5432"), waitfor.HTTP("http://api:8080/healthz"))
//
// Targets can be given as strings (see ParseTarget), which is what the
// waitfor command (cmd/waitfor) does.
//
// Secrets never show: a condition's String, its errors and its %v, %#v,
// JSON and log/slog forms hide the password of a URL (whatever characters
// it holds), secret query values (password=, token=, ...), secret
// KEY=VALUE words and password flags of commands (-pSECRET, --password X,
// redis-cli -a X), by the one rule of the module (internal/redact).
//
// The package uses the standard library only and does not import net/http:
// HTTP checks speak HTTP/1.1 themselves, so that a static entrypoint binary
// stays small. https:// uses crypto/tls, which adds about 2.5 MB to a static
// binary; a build with -tags waitfor_notls leaves it out (cmd/waitfor's
// small build does), and then an https condition fails at once with a
// Permanent error and ParseTarget rejects https:// targets saying why.
package waitfor
