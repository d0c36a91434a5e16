package redact_test

// The canary secret scan: every public path of the module that accepts a
// secret is driven with passwords full of the characters that end URL
// parts, and everything it shows (errors, descriptions, %v, %+v, %#v, JSON,
// log/slog text and JSON output, the lifecycle client's own logs) is scanned
// for any piece of them. cmd/waitfor's canary, which runs the binary, is in
// cmd/waitfor/canary_test.go.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockhand/dockhand/compose"
	"github.com/dockhand/dockhand/internal/redact"
	"github.com/dockhand/dockhand/internal/testbench"
	"github.com/dockhand/dockhand/lifecycle"
	"github.com/dockhand/dockhand/waitfor"
)

// canaryPasswords are made of 4-character pieces, unlikely anywhere else,
// joined by / ? # @ % : (raw, unescaped) and a few escapes.
var canaryPasswords = []string{
	"Kq7v/Zx9w+Lm3p",
	"Rt5b?Ny8c#Hj2d",
	"Wp4e@Ua6f@Gs1k",
	"Yc3m%2FDv9n:Fb7x",
	"Qe8r:/?#@%Tz5u",
	"Bn6h//Jw2y%zz@Ck4q?Vx=1&Pd8s",
	"Hv2k,Lm3p;Zt6q", // a comma and a semicolon, raw
}

// pieces are the parts of pw of 4 or more letters and digits: none may be
// shown, so a password cut at a '/' or a '#' is a leak too.
func pieces(pw string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(pw, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) {
		if len(f) >= 4 {
			out = append(out, f)
		}
	}
	return out
}

// scanner renders values every way a program shows them and fails the test
// on any piece of the password.
type scanner struct {
	t       *testing.T
	pw      string
	outputs int
	masked  int // outputs that show the mask: the secret was there, hidden
}

func (s *scanner) check(path, how, out string) {
	s.t.Helper()
	s.outputs++
	if strings.Contains(out, redact.Mask) {
		s.masked++
	}
	for _, p := range pieces(s.pw) {
		if strings.Contains(out, p) {
			s.t.Errorf("%s: %s shows %q of the password %q:\n%s", path, how, p, s.pw, out)
			return
		}
	}
}

// scan renders each value with %v, %+v, %#v, %s, String/Error, JSON and
// slog's text and JSON handlers (as an attribute, and for errors also the
// conventional "err" key).
func (s *scanner) scan(path string, values ...any) {
	s.t.Helper()
	for _, v := range values {
		if v == nil {
			continue
		}
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			s.check(path, verb, fmt.Sprintf(verb, v))
		}
		switch x := v.(type) {
		case error:
			s.check(path, "Error()", x.Error())
		case fmt.Stringer:
			s.check(path, "String()", x.String())
		}
		if j, err := json.Marshal(v); err == nil {
			s.check(path, "json.Marshal", string(j))
		} else {
			s.check(path, "json.Marshal error", err.Error())
		}
		for _, h := range []func(*bytes.Buffer) slog.Handler{
			func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
			func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		} {
			var b bytes.Buffer
			log := slog.New(h(&b))
			log.Info("canary", "value", v)
			log.Error("canary", "err", v)
			log.Info("canary", slog.Group("g", "value", v))
			s.check(path, "slog", b.String())
		}
	}
}

// canaryPath is one public path that accepts a secret. With wantMask, some
// output must show the mask, proving that the secret reached what is shown
// and was hidden there (the path cannot pass by showing nothing).
type canaryPath struct {
	name     string
	run      func(t *testing.T, pw string) []any
	wantMask bool
}

// quickWait waits briefly for conds that cannot be ready and returns every
// Attempt and the final error, to be scanned.
func quickWait(conds ...waitfor.Condition) []any {
	var mu sync.Mutex
	var out []any
	w := waitfor.Waiter{Timeout: 50 * time.Millisecond, OnAttempt: func(a waitfor.Attempt) {
		mu.Lock()
		defer mu.Unlock()
		if len(out) < 6 {
			out = append(out, a)
		}
	}}
	err := w.Wait(context.Background(), conds...)
	var werr *waitfor.Error
	if errors.As(err, &werr) {
		for _, p := range werr.Pending {
			out = append(out, p)
		}
	}
	return append(out, err)
}

func targetPath(name, format string) canaryPath {
	return canaryPath{name: name, wantMask: true, run: func(t *testing.T, pw string) []any {
		in := fmt.Sprintf(format, pw)
		c, err := waitfor.ParseTarget(in)
		if err != nil {
			return []any{err}
		}
		return append([]any{c, waitfor.All(c), waitfor.Not(c)}, quickWait(c)...)
	}}
}

func commandPath(name string, args func(pw string) []string) canaryPath {
	return canaryPath{name: name, wantMask: true, run: func(t *testing.T, pw string) []any {
		a := args(pw)
		c := waitfor.Command(a[0], a[1:]...)
		return append([]any{c, c.Check(context.Background()), waitfor.Any(c)}, quickWait(c)...)
	}}
}

// waitforPaths need no engine: a closed loopback port stands for the
// server.
var waitforPaths = []canaryPath{
	targetPath("ParseTarget postgres userinfo", "postgres://app:%s@127.0.0.1:1/app"),
	targetPath("ParseTarget postgresql userinfo", "postgresql://app:%s@127.0.0.1:1"),
	targetPath("ParseTarget postgres ?password=", "postgres://app@127.0.0.1:1/app?sslmode=disable&password=%s"),
	targetPath("ParseTarget mysql userinfo", "mysql://root:%s@127.0.0.1:1/x"),
	targetPath("ParseTarget redis :password@", "redis://:%s@127.0.0.1:1"),
	targetPath("ParseTarget redis user:password@", "redis://default:%s@127.0.0.1:1/0"),
	{name: "ParseTarget redis password@", run: func(t *testing.T, pw string) []any {
		// redis://a:b@ is user a, password b by definition: a lone
		// password holding ':' cannot be written this way.
		pw = strings.ReplaceAll(pw, ":", "%3A")
		return targetPath("", "redis://%s@127.0.0.1:1").run(t, pw)
	}},
	targetPath("ParseTarget http userinfo", "http://admin:%s@127.0.0.1:1/health"),
	targetPath("ParseTarget http ?token=", "http://127.0.0.1:1/health?token=%s"),
	targetPath("ParseTarget http ?api_key= then more", "http://127.0.0.1:1/health?API_KEY=%s&full=1"),
	targetPath("ParseTarget host:port with userinfo", "app:%s@127.0.0.1:1"),
	targetPath("ParseTarget tcp with userinfo", "tcp://app:%s@127.0.0.1:1"),
	targetPath("ParseTarget unknown scheme", "ftp://app:%s@127.0.0.1"),
	{name: "HTTP condition (value, pointer, Authorization header)", run: func(t *testing.T, pw string) []any {
		h := waitfor.HTTP("http://admin:" + pw + "@127.0.0.1:1/health?token=" + pw)
		h.Header = map[string]string{"Authorization": "Bearer " + pw}
		bad := &waitfor.HTTPCondition{URL: "http://admin:" + pw + "@127.0.0.1:notaport/"}
		return append([]any{h, *h, bad, *bad, bad.Validate(), bad.Check(context.Background())}, quickWait(h)...)
	}},
	{name: "Redis condition (value, pointer)", run: func(t *testing.T, pw string) []any {
		r := waitfor.Redis("127.0.0.1:1", pw)
		r.Username = "default"
		return append([]any{r, *r}, quickWait(r)...)
	}},
	{name: "Postgres and MySQL conditions", run: func(t *testing.T, pw string) []any {
		p, _ := waitfor.ParseTarget("postgres://app:" + pw + "@127.0.0.1:1/app")
		m, _ := waitfor.ParseTarget("mysql://app:" + pw + "@127.0.0.1:1/app")
		pc, _ := p.(*waitfor.PostgresCondition)
		mc, _ := m.(*waitfor.MySQLCondition)
		if pc == nil || mc == nil {
			return []any{p, m}
		}
		return []any{pc, *pc, mc, *mc}
	}},
	commandPath("Command mysqladmin -pSECRET (not found)", func(pw string) []string { return []string{"mysqladmin", "ping", "-p" + pw} }),
	commandPath("Command mysql --password SECRET", func(pw string) []string { return []string{"mysql", "--password", pw, "-e", "select 1"} }),
	commandPath("Command mysql --password=SECRET", func(pw string) []string { return []string{"mysql", "--password=" + pw} }),
	commandPath("Command redis-cli -a SECRET", func(pw string) []string { return []string{"redis-cli", "-a", pw, "ping"} }),
	commandPath("Command psql URL", func(pw string) []string {
		return []string{"psql", "postgres://app:" + pw + "@db/app", "-c", "select 1"}
	}),
	commandPath("Command env PGPASSWORD=", func(pw string) []string { return []string{"env", "PGPASSWORD=" + pw, "MYSQL_PWD=" + pw, "false"} }),
	commandPath("Command line as one word", func(pw string) []string { return []string{"mysqladmin ping -p" + pw} }),
	{name: "Command whose output echoes the secrets", wantMask: true, run: func(t *testing.T, pw string) []any {
		c := waitfor.Command("sh", "-c", `echo "$@"; exit 1`, "sh", "-p"+pw, "--password="+pw, "PGPASSWORD="+pw, "postgres://app:"+pw+"@db/app")
		err := c.Check(context.Background())
		if err == nil || !strings.Contains(err.Error(), "PGPASSWORD=xxxxx") {
			t.Errorf("the error of %s does not show the scrubbed output: %v", c, err)
		}
		return []any{c, err}
	}},
}

// fakeEngine answers the ping and fails every other call: for the paths
// that must reject bad input before any engine call.
func fakeEngine(t *testing.T) *lifecycle.Client {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/_ping") {
			w.Header().Set("API-Version", "1.41")
			_, _ = w.Write([]byte("OK"))
			return
		}
		http.Error(w, `{"message":"fake engine"}`, http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	c, err := lifecycle.New(context.Background(), lifecycle.WithDockerHost("tcp://"+srv.Listener.Addr().String()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// composeDir writes a project directory with compose.yaml and the given
// .env and app.env contents.
func composeDir(t *testing.T, composeYAML, dotenv, appEnv string) string {
	dir := t.TempDir()
	if composeYAML == "" {
		composeYAML = "name: canary\nservices:\n  app:\n    image: busybox\n"
	}
	for name, content := range map[string]string{"compose.yaml": composeYAML, ".env": dotenv, "app.env": appEnv} {
		if content == "" && name != "compose.yaml" {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func load(dir string, opts ...compose.LoadOption) error {
	_, err := compose.Load(context.Background(), append([]compose.LoadOption{compose.WithWorkingDir(dir), compose.WithoutOSEnv()}, opts...)...)
	return err
}

// offlinePaths need no engine, or one that is never called (fake).
func offlinePaths(c *lifecycle.Client) []canaryPath {
	ctx := context.Background()
	run := func(opts ...lifecycle.RunOption) error {
		_, err := c.Run(ctx, "busybox", opts...)
		return err
	}
	return []canaryPath{
		{name: "lifecycle.WithEnv name with a space", run: func(t *testing.T, pw string) []any {
			return []any{run(lifecycle.WithEnv("DATABASE_URL =postgres://app:" + pw + "@db/app"))}
		}},
		{name: "lifecycle.WithEnv value alone, empty name", run: func(t *testing.T, pw string) []any {
			return []any{run(lifecycle.WithEnv("A=1", pw)), run(lifecycle.WithEnv("=" + pw))}
		}},
		{name: "lifecycle.WithBuildArgs", run: func(t *testing.T, pw string) []any {
			_, err1 := c.Build(ctx, t.TempDir(), lifecycle.WithBuildArgs("="+pw))
			_, err2 := c.Build(ctx, t.TempDir(), lifecycle.WithBuildArgs(pw))
			_, err3 := c.Build(ctx, t.TempDir(), lifecycle.WithBuildArgs("DB PASSWORD="+pw))
			return []any{err1, err2, err3}
		}},
		{name: "lifecycle.WithCmd/WithEntrypoint empty program", wantMask: true, run: func(t *testing.T, pw string) []any {
			return []any{run(lifecycle.WithCmd("", "-p"+pw, "--password", pw)), run(lifecycle.WithEntrypoint("", "--password="+pw))}
		}},
		{name: "lifecycle options holding secrets", run: func(t *testing.T, pw string) []any {
			return []any{lifecycle.WithEnv("PGPASSWORD=" + pw), lifecycle.WithAuth("u", pw), lifecycle.WithCmd("mysqladmin", "-p"+pw),
				lifecycle.WithBuildArgs("TOKEN=" + pw)}
		}},
		{name: "lifecycle.Credentials", wantMask: true, run: func(t *testing.T, pw string) []any {
			cr := lifecycle.Credentials{Username: "u", Password: pw}
			return []any{cr, &cr, []lifecycle.Credentials{cr}, map[string]any{"auth": cr}}
		}},
		{name: "lifecycle.WithAuth on a failing engine", run: func(t *testing.T, pw string) []any {
			return []any{c.Pull(ctx, "127.0.0.1:1/canary/x:1", lifecycle.WithAuth("u", pw))}
		}},
		{name: "compose .env unterminated quote", wantMask: true, run: func(t *testing.T, pw string) []any {
			return []any{load(composeDir(t, "", "A=1\nDB_PASSWORD=\""+pw+"\nB=2\n", ""))}
		}},
		{name: "compose .env unterminated quote, plain name", wantMask: true, run: func(t *testing.T, pw string) []any {
			return []any{load(composeDir(t, "", "DATABASE_URL='postgres://app:"+pw+"@db/app\n", ""))}
		}},
		{name: "compose .env bad variable name", wantMask: true, run: func(t *testing.T, pw string) []any {
			return []any{load(composeDir(t, "", "DB!PASSWORD="+pw+"\n", ""))}
		}},
		{name: "compose env_file unterminated quote", wantMask: true, run: func(t *testing.T, pw string) []any {
			y := "name: canary\nservices:\n  app:\n    image: busybox\n    env_file: app.env\n"
			return []any{load(composeDir(t, y, "", "SECRET_KEY=\""+pw+"\n"))}
		}},
		{name: "compose invalid template", wantMask: true, run: func(t *testing.T, pw string) []any {
			y := "name: canary\nservices:\n  app:\n    image: busybox\n    environment:\n      DATABASE_URL: 'postgres://app:" + pw + "@db/${'\n"
			return []any{load(composeDir(t, y, "", ""))}
		}},
		{name: "compose required variable with a secret default", run: func(t *testing.T, pw string) []any {
			y := "name: canary\nservices:\n  app:\n    image: ${IMG:?x}\n"
			return []any{load(composeDir(t, y, "", ""), compose.WithVariables("DB_PASSWORD="+pw))}
		}},
		{name: "compose.WithEnv bad entries", run: func(t *testing.T, pw string) []any {
			d := composeDir(t, "", "", "")
			return []any{load(d, compose.WithVariables("DATABASE_URL =postgres://app:"+pw+"@db/app")), load(d, compose.WithVariables(pw)),
				load(d, compose.WithVariables("="+pw)), load(d, compose.WithVariablesMap(map[string]string{"": pw}))}
		}},
		{name: "compose.WithRunEnv and options", run: func(t *testing.T, pw string) []any {
			d := composeDir(t, "", "", "")
			p, err := compose.Load(ctx, compose.WithWorkingDir(d), compose.WithoutOSEnv())
			if err != nil {
				t.Fatal(err)
			}
			s := compose.New(c, p)
			_, err1 := s.Run(ctx, "app", []string{"true"}, compose.WithEnv("X "+pw))
			_, err2 := s.Run(ctx, "app", []string{"true"}, compose.WithEnv(pw))
			_, err3 := s.Run(ctx, "app", []string{"true"}, compose.WithEnv("="+pw))
			return []any{err1, err2, err3, compose.WithEnv("PGPASSWORD=" + pw), compose.WithVariables("DB_PASSWORD=" + pw)}
		}},
		{name: "redact.Error around a foreign error", wantMask: true, run: func(t *testing.T, pw string) []any {
			return []any{redact.Error(fmt.Errorf("exec: %q: not found: PGPASSWORD=%s postgres://app:%s@db", "mysql -p"+pw, pw, pw))}
		}},
	}
}

// TestCanaryOffline drives the paths that need no engine.
func TestCanaryOffline(t *testing.T) {
	c := fakeEngine(t)
	paths := append(append([]canaryPath{}, waitforPaths...), offlinePaths(c)...)
	runCanary(t, paths)
}

func runCanary(t *testing.T, paths []canaryPath) {
	t.Helper()
	total := 0
	for _, pw := range canaryPasswords {
		s := &scanner{t: t, pw: pw}
		for _, p := range paths {
			before, values := s.masked, p.run(t, pw)
			if len(values) == 0 {
				t.Errorf("%s: nothing to scan", p.name)
			}
			s.scan(p.name, values...)
			if p.wantMask && s.masked == before {
				t.Errorf("%s: no output shows %q: the secret did not reach what is shown", p.name, redact.Mask)
			}
		}
		total += s.outputs
	}
	if total == 0 {
		t.Fatal("nothing was scanned")
	}
	t.Logf("canary: %d paths x %d passwords, %d outputs scanned", len(paths), len(canaryPasswords), total)
}

// TestCanaryEngine drives the paths that need a real engine: the
// ExecSucceeds condition in a running container, exec errors the engine
// words, a pull with credentials; the lifecycle client's own slog output
// (debug level, JSON) is scanned too.
func TestCanaryEngine(t *testing.T) {
	var logs testbench.Buffer
	c := testbench.Client(t, lifecycle.WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	img := testbench.BusyboxImage(t, c)
	ctr, err := c.Run(ctx, img, lifecycle.WithPull(lifecycle.PullNever), lifecycle.WithCmd("sleep", "300"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ctr.Remove(context.Background(), lifecycle.WithForce()) })

	exec := func(name string, cmd func(pw string) []string) canaryPath {
		return canaryPath{name: name, wantMask: true, run: func(t *testing.T, pw string) []any {
			cond := ctr.ExecSucceeds(cmd(pw)...)
			checkErr := cond.Check(ctx)
			if checkErr == nil {
				t.Errorf("%s: %s is ready, want a failure to scan", name, cond)
			}
			if strings.Contains(name, "echoes") && (checkErr == nil || !strings.Contains(checkErr.Error(), "MYSQL_PWD=xxxxx")) {
				t.Errorf("the error of %s does not show the scrubbed output: %v", cond, checkErr)
			}
			return append([]any{cond, checkErr}, quickWait(cond)...)
		}}
	}
	paths := []canaryPath{
		exec("ExecSucceeds mysqladmin -pSECRET (not in the image)", func(pw string) []string { return []string{"mysqladmin", "ping", "-p" + pw} }),
		exec("ExecSucceeds redis-cli -a SECRET", func(pw string) []string { return []string{"redis-cli", "-a", pw, "ping"} }),
		exec("ExecSucceeds psql URL as one word", func(pw string) []string { return []string{"psql postgres://app:" + pw + "@db/app"} }),
		exec("ExecSucceeds env PGPASSWORD=", func(pw string) []string { return []string{"env", "PGPASSWORD=" + pw, "false"} }),
		exec("ExecSucceeds output echoes the secrets", func(pw string) []string {
			return []string{"sh", "-c", `echo "$@"; echo "$@" >&2; exit 3`, "sh", "-p" + pw, "--password=" + pw, "MYSQL_PWD=" + pw, "mysql://root:" + pw + "@db/x"}
		}),
		{name: "Exec of a command line as one word", run: func(t *testing.T, pw string) []any {
			_, err := ctr.Exec(ctx, []string{"mysqladmin ping -p" + pw})
			return []any{err}
		}},
		{name: "Run with a secret env and a missing command", run: func(t *testing.T, pw string) []any {
			ct, err := c.Run(ctx, img, lifecycle.WithPull(lifecycle.PullNever), lifecycle.WithEnv("PGPASSWORD="+pw),
				lifecycle.WithCmd("/no/such/tool", "--password="+pw))
			if ct != nil {
				_ = ct.Remove(context.Background(), lifecycle.WithForce())
			}
			return []any{err}
		}},
		{name: "ExitError of a container that logged its secrets", wantMask: true, run: func(t *testing.T, pw string) []any {
			ct, err := c.Run(ctx, img, lifecycle.WithPull(lifecycle.PullNever), lifecycle.WithCmd("sh", "-c",
				`echo "DATABASE_URL=postgres://app:$1@db/app"; echo "PGPASSWORD=$1" >&2; exit 4`, "sh", pw))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = ct.Remove(context.Background(), lifecycle.WithForce()) }()
			werr := (&waitfor.Waiter{Timeout: time.Minute}).Wait(ctx, ct.Exited(0))
			var ee *lifecycle.ExitError
			if !errors.As(werr, &ee) || len(ee.Logs) != 2 {
				t.Fatalf("want an *ExitError with the 2 log lines, got %v", werr)
			}
			return []any{werr, ee, ee.Logs}
		}},
		{name: "compose Up: a service's command and another's log hold the secret", run: func(t *testing.T, pw string) []any {
			// The runtime's "not found" error quotes the command line; the
			// other service logs a URL and exits, quoted in the Up error.
			// The password reaches the shell as $1, not in its script: a raw
			// '&' or '?' would be the shell's, and the log would not show
			// the URL a program prints.
			yaml := fmt.Sprintf("services:\n"+
				"  badcmd:\n    image: %[1]s\n    command: [\"psql postgres://app:%[2]s@db/app\", \"--password=%[2]s\"]\n"+
				"  logger:\n    image: %[1]s\n    command: [\"sh\", \"-c\", \"echo \\\"DATABASE_URL=postgres://app:$$1@db/app\\\"; echo \\\"PGPASSWORD=$$1\\\"; exit 3\", \"sh\", \"%[2]s\"]\n",
				img, pw)
			p, err := compose.Load(ctx, compose.WithWorkingDir(composeDir(t, yaml, "", "")),
				compose.WithProjectName("canary-"+c.Session()[:8]), compose.WithoutOSEnv())
			if err != nil {
				t.Fatal(err)
			}
			st := compose.New(c, p)
			defer func() { _ = st.Down(context.Background(), compose.WithRemoveVolumes(), compose.WithGracePeriod(0)) }()
			upErr := st.Up(ctx, compose.WithWait(), compose.WithWaitTimeout(time.Minute))
			if upErr == nil {
				t.Fatal("Up succeeded; want a failure to scan")
			}
			return []any{upErr}
		}},
		{name: "Pull with credentials from an unreachable registry", run: func(t *testing.T, pw string) []any {
			return []any{c.Pull(ctx, "127.0.0.1:1/canary/x:1", lifecycle.WithAuth("u", pw))}
		}},
	}
	runCanary(t, paths)
	for _, pw := range canaryPasswords {
		s := &scanner{t: t, pw: pw}
		s.check("lifecycle client slog output", "JSON handler", logs.String())
	}
}
