package main

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bin is the waitfor binary built by TestMain, static like in an image.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "waitfor-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "waitfor")
	build := exec.Command("go", "build", "-tags", "waitfor_notls", "-trimpath", "-ldflags=-s -w", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building waitfor: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
	elapsed        time.Duration
}

func runWaitfor(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(cleanEnv(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		res.code = exitErr.ExitCode()
	default:
		t.Fatalf("running waitfor: %v", err)
	}
	return res
}

// cleanEnv is the test's environment without WAITFOR_* variables.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WAITFOR_") {
			env = append(env, kv)
		}
	}
	return env
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// serve listens on a free loopback port and hands every connection to
// handle in a goroutine of its own, until the test ends.
func serve(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { _ = c.Close() }()
				handle(c)
			}()
		}
	}()
	return l.Addr().String()
}

// openAddr accepts connections and closes them at once.
func openAddr(t *testing.T) string { return serve(t, func(net.Conn) {}) }

func TestExitCodes(t *testing.T) {
	up, down := openAddr(t), freeAddr(t)

	r := runWaitfor(t, nil, "tcp://"+up)
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "msg=ready target=tcp://"+up+" attempts=1")

	r = runWaitfor(t, nil, "-timeout", "200ms", up, "tcp://"+down)
	assert.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stderr, `msg="not ready" target=tcp://`+down)
	assert.Contains(t, r.stderr, "connection refused")
	assert.Contains(t, r.stderr, `msg="timed out after 200ms"`)

	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"tcp://db"}, `invalid target \"tcp://db\": want tcp://host:port`},
		{[]string{"-timeout", "soon", up}, `invalid value \"soon\" for flag -timeout`},
		{[]string{"-nope", up}, "flag provided but not defined: -nope"},
		{[]string{"-status", "2x", "http://" + up}, `invalid -status: invalid HTTP status \"2x\"`},
		{[]string{up, "echo", "hi"}, `invalid target \"echo\"`},
		{[]string{}, "no target and no command given"},
		{[]string{up, "--"}, "no command after --"},
		{[]string{"-cmd", "'unterminated", up}, "invalid -cmd"},
	} {
		r = runWaitfor(t, nil, tc.args...)
		assert.Equal(t, 2, r.code, "%q: %s", tc.args, r.stderr)
		assert.Contains(t, r.stderr, tc.msg, "%q", tc.args)
	}

	r = runWaitfor(t, nil, "-timeout", "10s", down, "--", "/no/such/command")
	assert.Equal(t, 127, r.code, r.stderr)
	assert.NotContains(t, r.stderr, "msg=waiting", "a missing command is reported before waiting")
	r = runWaitfor(t, nil, up, "--", "no-such-command-waitfor")
	assert.Equal(t, 127, r.code, r.stderr)
	assert.Contains(t, r.stderr, "executable file not found")

	r = runWaitfor(t, nil, "-h")
	assert.Equal(t, 0, r.code)
	assert.Contains(t, r.stdout, "Usage: waitfor [flags] TARGET... [-- COMMAND ARGS...]")
	assert.Contains(t, r.stdout, "WAITFOR_TIMEOUT")
}

func TestCommandRunsAfterWaitAndStrict(t *testing.T) {
	up, down := openAddr(t), freeAddr(t)
	r := runWaitfor(t, nil, up, "--", "sh", "-c", "echo started; exit 7")
	assert.Equal(t, 7, r.code, "the command's exit code is waitfor's")
	assert.Equal(t, "started\n", r.stdout)

	// Without -strict the command runs after a timeout, like wait-for-it.
	r = runWaitfor(t, nil, "-timeout", "100ms", down, "--", "echo", "anyway")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "anyway\n", r.stdout)
	assert.Contains(t, r.stderr, "running the command anyway")

	r = runWaitfor(t, nil, "-strict", "-timeout", "100ms", down, "--", "echo", "anyway")
	assert.Equal(t, 1, r.code)
	assert.Empty(t, r.stdout)

	// Command targets: -cmd, split like a shell.
	dir := t.TempDir()
	flagFile := filepath.Join(dir, "ready flag")
	time.AfterFunc(100*time.Millisecond, func() { _ = os.WriteFile(flagFile, nil, 0o644) })
	r = runWaitfor(t, nil, "-timeout", "5s", "-cmd", `test -e "`+flagFile+`"`)
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, `target="cmd:test -e `+flagFile+`"`)
}

func TestExecReplacesTheProcess(t *testing.T) {
	up := openAddr(t)
	cmd := exec.Command(bin, "tcp://"+up, "--", "/bin/sh", "-c", "echo $$")
	cmd.Env = cleanEnv()
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	require.NoError(t, cmd.Start())
	pid := cmd.Process.Pid
	require.NoError(t, cmd.Wait())
	assert.Equal(t, strconv.Itoa(pid), strings.TrimSpace(stdout.String()),
		"the command must run as the waitfor process itself (execve), not as a child")
}

// stopSignalCodes are the signals that end a wait, with their exit codes.
var stopSignalCodes = []struct {
	sig  syscall.Signal
	name string
	code int
}{{syscall.SIGHUP, "SIGHUP", 129}, {syscall.SIGINT, "SIGINT", 130}, {syscall.SIGQUIT, "SIGQUIT", 131}, {syscall.SIGTERM, "SIGTERM", 143}}

func TestSignalDuringWait(t *testing.T) {
	for _, tc := range stopSignalCodes {
		t.Run(tc.sig.String(), func(t *testing.T) {
			// A TCP target that never answers and a command check that
			// hangs (it writes its pid first): both are being waited for.
			pidFile := filepath.Join(t.TempDir(), "check.pid")
			cmd := exec.Command(bin, "-v", "-json", "-timeout", "0", "-attempt-timeout", "1h", freeAddr(t),
				"-cmd", `sh -c 'echo $$ > "$0"; exec sleep 30' `+pidFile, "--", "echo", "must not run")
			cmd.Env = cleanEnv()
			var stdout bytes.Buffer
			cmd.Stdout = &stdout
			stderr, err := cmd.StderrPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())
			// Wait until it is checking: the first "not ready" line, and
			// the check has started.
			buf := make([]byte, 4096)
			var seen string
			for !strings.Contains(seen, `"not ready"`) {
				n, err := stderr.Read(buf)
				require.NoError(t, err)
				seen += string(buf[:n])
			}
			checkPID := waitForPIDFile(t, pidFile)
			var rest bytes.Buffer
			copied := make(chan struct{})
			go func() { _, _ = rest.ReadFrom(stderr); close(copied) }()
			require.NoError(t, cmd.Process.Signal(tc.sig))
			<-copied
			err = cmd.Wait()
			var exitErr *exec.ExitError
			require.ErrorAs(t, err, &exitErr)
			assert.Equal(t, tc.code, exitErr.ExitCode(), "128+%d", int(tc.sig))
			assert.Empty(t, stdout.String())
			assert.Contains(t, rest.String(), `"msg":"interrupted while waiting"`)
			assert.NotContains(t, rest.String(), "goroutine ", "no Go runtime dump")
			// The hanging check was killed, not left behind.
			assert.Eventually(t, func() bool { return !processRunning(checkPID) }, 10*time.Second, 10*time.Millisecond,
				"check process %d still runs after waitfor exited", checkPID)
		})
	}
}

// TestSignalAtStartup sends the signal within the first milliseconds of the
// process, while the Go runtime and main are starting. waitfor catches the
// signals from the first statement of main on (catchSignals): once that has
// returned, the outcome must be 128+n. Before, the process dies by the
// signal (the kernel's default, before the Go runtime installed its
// handlers) or gets the Go runtime's default for an unhandled signal (for
// SIGQUIT a goroutine dump and exit 2): no Go program can handle a signal
// during the runtime's own start-up. So a dump is accepted only if it shows
// that main had not got past catchSignals: it must not be in main.run.
func TestSignalAtStartup(t *testing.T) {
	for _, tc := range stopSignalCodes {
		caught, early := 0, 0
		// Spread the signals over the first milliseconds of the process.
		for i := range 20 {
			cmd := exec.Command(bin, "-timeout", "0", freeAddr(t), "--", "echo", "must not run")
			cmd.Env = cleanEnv()
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			require.NoError(t, cmd.Start())
			time.Sleep(time.Duration(i) * 200 * time.Microsecond)
			require.NoError(t, cmd.Process.Signal(tc.sig))
			err := cmd.Wait()
			var exitErr *exec.ExitError
			require.ErrorAs(t, err, &exitErr, "%v: it must not run on", tc.sig)
			ws := exitErr.Sys().(syscall.WaitStatus)
			switch {
			case ws.Signaled():
				assert.Equal(t, tc.sig, ws.Signal())
				early++
			case ws.ExitStatus() == tc.code:
				caught++
			case tc.sig == syscall.SIGQUIT && ws.ExitStatus() == 2 && strings.HasPrefix(stderr.String(), "SIGQUIT: quit"):
				if strings.Contains(stderr.String(), "main.run(") {
					t.Errorf("SIGQUIT reached Go's default after catchSignals:\n%s", truncate(stderr.String(), 2000))
				}
				early++
			default:
				t.Errorf("%v at start-up: %v: %s", tc.sig, ws, truncate(stderr.String(), 2000))
			}
			assert.Empty(t, stdout.String())
		}
		t.Logf("%v at start-up: %d caught by waitfor (%d), %d before the handling was in place", tc.sig, caught, tc.code, early)
	}
}

// waitForPIDFile waits until a test command wrote its pid to name.
func waitForPIDFile(t *testing.T, name string) int {
	t.Helper()
	var pid int
	require.Eventually(t, func() bool {
		data, err := os.ReadFile(name)
		if err != nil || !strings.HasSuffix(string(data), "\n") {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(data)))
		return err == nil
	}, 30*time.Second, 5*time.Millisecond, "no pid in %s", name)
	return pid
}

// processRunning reports whether pid exists and is not a zombie.
func processRunning(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	_, after, _ := strings.Cut(string(data), ") ")
	return !strings.HasPrefix(after, "Z") && !strings.HasPrefix(after, "X")
}

// killSleep kills the background "sleep" whose pid a test command wrote to
// pidFile, if that pid is still a sleep.
func killSleep(t *testing.T, pidFile string) {
	t.Helper()
	data, err := os.ReadFile(pidFile)
	if err != nil {
		return // it never started
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	require.NoError(t, err)
	comm, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil || strings.TrimSpace(string(comm)) != "sleep" {
		return
	}
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
}

func TestNoTargetsExecsAtOnce(t *testing.T) {
	// Not even a timeout matters: there is nothing to wait for.
	cmd := exec.Command(bin, "-timeout", "1ns", "-strict", "--", "/bin/sh", "-c", "echo $$; exit 7")
	cmd.Env = cleanEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start())
	pid := cmd.Process.Pid
	err := cmd.Wait()
	var exitErr *exec.ExitError
	require.ErrorAs(t, err, &exitErr)
	assert.Equal(t, 7, exitErr.ExitCode(), "the command's exit code is waitfor's")
	assert.Equal(t, strconv.Itoa(pid), strings.TrimSpace(stdout.String()), "exec'd in place: same PID")
	assert.Contains(t, stderr.String(), "msg=exec command=/bin/sh")
	assert.NotContains(t, stderr.String(), "msg=waiting")

	// From the environment as in the devstack image: ENTRYPOINT ["/waitfor", "--"].
	r := runWaitfor(t, []string{"WAITFOR_TARGETS= "}, "--", "echo", "at once")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "at once\n", r.stdout)

	r = runWaitfor(t, nil, "--", "no-such-command-waitfor")
	assert.Equal(t, 127, r.code, r.stderr)
}

func TestCommandCheck(t *testing.T) {
	dir := t.TempDir()

	// Exit 0 while a background child holds stdout and stderr open: ready
	// on the first attempt.
	pidFile := filepath.Join(dir, "bg.pid")
	t.Cleanup(func() { killSleep(t, pidFile) })
	r := runWaitfor(t, nil, "-strict", "-timeout", "60s", "-cmd", `sh -c 'sleep 30 & echo $! > "$0"; exit 0' `+pidFile, "--", "echo", "ran")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "ran\n", r.stdout)
	assert.Regexp(t, `msg=ready target="cmd:sh -c .*" attempts=1 `, r.stderr)

	// Each attempt's own exit status and output are read: 3, 3, 3, then 0;
	// every attempt also leaves an orphan behind.
	counter := filepath.Join(dir, "n")
	script := `n=$(cat "$0" 2>/dev/null || echo 0); echo $((n+1)) > "$0"; (sleep 0.01 &); echo "try $n" >&2; [ "$n" -ge 3 ] || exit 3`
	r = runWaitfor(t, nil, "-v", "-strict", "-timeout", "60s", "-cmd", "sh -c '"+script+"' "+counter, "--", "echo", "ran")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "ran\n", r.stdout)
	for n := range 3 {
		assert.Contains(t, r.stderr, `attempt=`+strconv.Itoa(n+1)+` elapsed_ms=`)
		assert.Contains(t, r.stderr, `error="exit status 3: try `+strconv.Itoa(n)+`"`)
	}
	assert.Contains(t, r.stderr, " attempts=4 ")

	// A check that hangs is killed with its children at the attempt timeout.
	hung := filepath.Join(dir, "hung.pid")
	// (An attempt timeout a loaded machine can still start sh and write
	// the pid file in.)
	r = runWaitfor(t, nil, "-v", "-timeout", "4s", "-attempt-timeout", "1500ms",
		"-cmd", `sh -c 'sleep 30 & echo $! > "$0"; wait' `+hung)
	assert.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stderr, "signal: killed")
	assert.False(t, processRunning(waitForPIDFile(t, hung)), "the hung check's child must be killed with it")

	// A command that does not exist fails the wait at once.
	r = runWaitfor(t, nil, "-timeout", "60s", "-cmd", "no-such-command-waitfor --flag")
	assert.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stderr, "attempts=1 ")
	assert.Contains(t, r.stderr, "executable file not found")
}

func TestEnvironmentConfiguration(t *testing.T) {
	up, down1, down2 := openAddr(t), freeAddr(t), freeAddr(t)
	r := runWaitfor(t, []string{
		"WAITFOR_TARGETS=tcp://" + up + ", " + down1 + " tcp://" + down2,
		"WAITFOR_TIMEOUT=0.2",
		"WAITFOR_STRICT=yes",
		"WAITFOR_JSON=1",
	}, "--", "echo", "no")
	assert.Equal(t, 1, r.code, r.stderr)
	assert.Greater(t, r.elapsed, 200*time.Millisecond)
	assert.Contains(t, r.stderr, `"msg":"timed out after 200ms"`)
	assert.Empty(t, r.stdout, "strict: the command must not run")
	assert.Equal(t, 2, strings.Count(r.stderr, `"msg":"not ready"`), r.stderr)
	assert.Contains(t, r.stderr, `"target":"tcp://`+up+`","attempts":1`)

	// A flag wins over its variable.
	r = runWaitfor(t, []string{"WAITFOR_TIMEOUT=10s"}, "-timeout", "100ms", down1)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, `msg="timed out after 100ms"`)

	r = runWaitfor(t, []string{"WAITFOR_QUIET=true"}, up)
	assert.Equal(t, 0, r.code)
	assert.Empty(t, r.stderr)

	r = runWaitfor(t, []string{"WAITFOR_INTERVAL=fast"}, up)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, `invalid WAITFOR_INTERVAL=\"fast\"`)
	r = runWaitfor(t, []string{"WAITFOR_STRICT=maybe"}, up)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "WAITFOR_STRICT")

	srv := openHTTP(t, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
	r = runWaitfor(t, []string{"WAITFOR_STATUS=404"}, "-timeout", "2s", "http://"+srv+"/")
	assert.Equal(t, 0, r.code, r.stderr)
	r = runWaitfor(t, nil, "-timeout", "100ms", "http://"+srv+"/")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "status 404, want 2xx")
}

// openHTTP serves one canned HTTP response to every connection.
func openHTTP(t *testing.T, response string) string {
	return serve(t, func(c net.Conn) {
		buf := make([]byte, 4096)
		_, _ = c.Read(buf)
		_, _ = c.Write([]byte(response))
	})
}

func TestPasswordsNeverPrinted(t *testing.T) {
	down := freeAddr(t)
	const pw = "s3cr3t-pw"
	for _, args := range [][]string{
		{"-v", "-timeout", "100ms", "postgres://app:" + pw + "@" + down + "/app"},
		{"-v", "-json", "-timeout", "100ms", "redis://:" + pw + "@" + down},
		{"-v", "-timeout", "100ms", "redis://" + pw + "@" + down},
		{"-v", "-timeout", "100ms", "mysql://root:" + pw + "@" + down + "/x"},
		{"-v", "-timeout", "100ms", "http://admin:" + pw + "@" + down + "/health"},
		{"postgres://app:" + pw + "@db:notaport/app"},
		{"tcp://app:" + pw + "@db:5432"},
		{"app:" + pw + "@db:5432"},
		{"ftp://app:" + pw + "@db"},
		{"-h"},
	} {
		r := runWaitfor(t, nil, args...)
		assert.NotEqual(t, 0, r.code+len(r.stdout), "%q", args)
		assert.NotContains(t, r.stderr+r.stdout, pw, "%q", args)
	}
	r0 := runWaitfor(t, []string{"WAITFOR_TARGETS=redis://:" + pw + "@[::1"})
	assert.Equal(t, 2, r0.code)
	assert.Contains(t, r0.stderr, "redis://:xxxxx@[::1")
	assert.NotContains(t, r0.stderr, pw)
	r := runWaitfor(t, nil, "-timeout", "100ms", "postgres://app:"+pw+"@"+down+"/app")
	assert.Contains(t, r.stderr, "postgres://app:xxxxx@"+down+"/app")
}

func TestJSONLinesParse(t *testing.T) {
	up, down := openAddr(t), freeAddr(t)
	r := runWaitfor(t, nil, "-json", "-v", "-timeout", "150ms", up, down, "--", "true")
	assert.Equal(t, 0, r.code, r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	require.Greater(t, len(lines), 5)
	msgs := map[string]int{}
	for _, line := range lines {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), "line %q", line)
		for _, k := range []string{"time", "level", "msg"} {
			assert.Contains(t, rec, k, "line %q", line)
		}
		msgs[rec["msg"].(string)]++
	}
	assert.Equal(t, 1, msgs["waiting"])
	assert.Equal(t, 1, msgs["ready"])
	assert.Greater(t, msgs["not ready"], 3)
	assert.Equal(t, 1, msgs["exec"])
}

func TestSplitWords(t *testing.T) {
	for in, want := range map[string][]string{
		`pg_isready -h db`:            {"pg_isready", "-h", "db"},
		`sh -c 'test -e "/a b"'`:      {"sh", "-c", `test -e "/a b"`},
		`echo "a \"b\" \$c" d\ e ''`:  {"echo", `a "b" $c`, "d e", ""},
		"  spaced\tout \n":            {"spaced", "out"},
		`mixed'quo'"tes"`:             {"mixedquotes"},
		`back\\slash "keep \n as is"`: {`back\slash`, `keep \n as is`},
	} {
		got, err := splitWords(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{`'open`, `"open`} {
		_, err := splitWords(in)
		assert.Error(t, err, in)
	}
}

// TestBinaryIsSmallAndStatic holds the promise made to image builders: the
// stripped static build stays at most 3 MB and needs no dynamic loader.
func TestBinaryIsSmallAndStatic(t *testing.T) {
	st, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() > 3_000_000 {
		t.Fatalf("waitfor binary is %d bytes, want <= 3,000,000", st.Size())
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("waitfor binary has a dynamic loader (PT_INTERP): want a static build")
		}
	}
	t.Logf("waitfor binary: %d bytes, static", st.Size())
}

func TestSplitTargets(t *testing.T) {
	for in, want := range map[string][]string{
		"":                                    nil,
		"tcp://db:5432":                       {"tcp://db:5432"},
		" tcp://db:5432, http://api/healthz ": {"tcp://db:5432", "http://api/healthz"},
		"db:5432,cache:6379":                  {"db:5432", "cache:6379"},
		// A password holding the separators stays in its URL.
		"postgres://app:Kq7v,Lm3p@db:5432/app":                 {"postgres://app:Kq7v,Lm3p@db:5432/app"},
		"postgres://app:pa  ss@db/app redis://:x,y@cache:6379": {"postgres://app:pa  ss@db/app", "redis://:x,y@cache:6379"},
		"postgres://app:a,b c@db/app,tcp://q:1":                {"postgres://app:a,b c@db/app", "tcp://q:1"},
		// A URL that has its userinfo is complete.
		"postgres://app:pw@db/app,x@y": {"postgres://app:pw@db/app", "x@y"},
	} {
		assert.Equal(t, want, splitTargets(in), in)
	}
}
