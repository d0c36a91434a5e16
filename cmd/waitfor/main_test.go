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
	assert.Less(t, r.elapsed, time.Second)
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
		{[]string{}, "no target given"},
		{[]string{up, "--"}, "no command after --"},
		{[]string{"-cmd", "'unterminated", up}, "invalid -cmd"},
	} {
		r = runWaitfor(t, nil, tc.args...)
		assert.Equal(t, 2, r.code, "%q: %s", tc.args, r.stderr)
		assert.Contains(t, r.stderr, tc.msg, "%q", tc.args)
	}

	start := time.Now()
	r = runWaitfor(t, nil, "-timeout", "10s", down, "--", "/no/such/command")
	assert.Equal(t, 127, r.code, r.stderr)
	assert.Less(t, time.Since(start), 2*time.Second, "a missing command is reported before waiting")
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

func TestSignalDuringWait(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGTERM, 143}, {syscall.SIGINT, 130}} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			cmd := exec.Command(bin, "-v", "-json", "-timeout", "0", freeAddr(t), "--", "echo", "must not run")
			cmd.Env = cleanEnv()
			var stdout bytes.Buffer
			cmd.Stdout = &stdout
			stderr, err := cmd.StderrPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())
			// Wait until it is checking: the first "not ready" line.
			buf := make([]byte, 4096)
			var seen string
			for !strings.Contains(seen, `"not ready"`) {
				n, err := stderr.Read(buf)
				require.NoError(t, err)
				seen += string(buf[:n])
			}
			go func() { _, _ = bytes.NewBuffer(nil).ReadFrom(stderr) }()
			start := time.Now()
			require.NoError(t, cmd.Process.Signal(tc.sig))
			err = cmd.Wait()
			elapsed := time.Since(start)
			var exitErr *exec.ExitError
			require.ErrorAs(t, err, &exitErr)
			assert.Equal(t, tc.code, exitErr.ExitCode())
			assert.Less(t, elapsed, 100*time.Millisecond)
			assert.Empty(t, stdout.String())
		})
	}
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
	assert.Less(t, r.elapsed, time.Second)
	assert.Empty(t, r.stdout, "strict: the command must not run")
	assert.Equal(t, 2, strings.Count(r.stderr, `"msg":"not ready"`), r.stderr)
	assert.Contains(t, r.stderr, `"target":"tcp://`+up+`","attempts":1`)

	// A flag wins over its variable.
	r = runWaitfor(t, []string{"WAITFOR_TIMEOUT=10s"}, "-timeout", "100ms", down1)
	assert.Equal(t, 1, r.code)
	assert.Less(t, r.elapsed, time.Second)

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
