package main

import (
	"strings"
	"testing"
)

// canaryPasswords hold / ? # @ % : , and space raw; their 4-character pieces must
// never be printed (see internal/redact/canary_test.go for the library).
var canaryPasswords = []string{
	"Kq7v/Zx9w+Lm3p",
	"Rt5b?Ny8c#Hj2d",
	"Wp4e@Ua6f@Gs1k",
	"Yc3m%2FDv9n:Fb7x",
	"Qe8r:/?#@%Tz5u",
	"Hv2k,Lm3p Zt6q", // WAITFOR_TARGETS' separators, inside a password
}

func canaryPieces(pw string) []string {
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

// TestCanaryBinary runs the waitfor binary with secrets in its arguments,
// in WAITFOR_TARGETS and WAITFOR_CMD, in -cmd, in text and JSON mode, with
// -v (every failed check logged), and scans all it prints.
func TestCanaryBinary(t *testing.T) {
	down := freeAddr(t)
	runs := 0
	for _, pw := range canaryPasswords {
		type run struct {
			env  []string
			args []string
		}
		cases := []run{
			{nil, []string{"-v", "-timeout", "100ms", "postgres://app:" + pw + "@" + down + "/app"}},
			{nil, []string{"-v", "-json", "-timeout", "100ms", "mysql://root:" + pw + "@" + down + "/x"}},
			{nil, []string{"-v", "-timeout", "100ms", "redis://:" + pw + "@" + down}},
			{nil, []string{"-v", "-timeout", "100ms", "http://admin:" + pw + "@" + down + "/health"}},
			{nil, []string{"-v", "-json", "-timeout", "100ms", "http://" + down + "/health?token=" + pw}},
			{nil, []string{"-v", "-timeout", "100ms", "postgres://app@" + down + "/app?sslmode=disable&password=" + pw}},
			{nil, []string{"-timeout", "100ms", "app:" + pw + "@" + down}},
			{nil, []string{"-timeout", "100ms", "postgres://app:" + pw + "@db:notaport/app"}},
			{nil, []string{"-v", "-timeout", "100ms", "-cmd", "mysqladmin ping -p'" + pw + "'"}},
			{nil, []string{"-v", "-json", "-timeout", "100ms", "-cmd", "redis-cli -a '" + pw + "' ping"}},
			{nil, []string{"-v", "-timeout", "100ms", "-cmd", "psql 'postgres://app:" + pw + "@db/app' -c 'select 1'"}},
			{nil, []string{"-v", "-timeout", "100ms", "-cmd", "sh -c 'echo \"$@\"; exit 1' sh -p'" + pw + "' --password='" + pw + "' PGPASSWORD='" + pw + "'"}},
			{nil, []string{"-v", "-timeout", "100ms", "-cmd", "env PGPASSWORD='" + pw + "' false"}},
			{nil, []string{"-cmd", "PGPASSWORD='" + pw + "' 'unbalanced"}},
			{nil, []string{"-p" + pw, down}},
			{nil, []string{"-timeout", "100ms", down, "--", "PGPASSWORD=" + pw, "server"}},
			{[]string{"WAITFOR_TARGETS=postgres://app:" + pw + "@" + down + "/app,redis://:" + pw + "@" + down, "WAITFOR_VERBOSE=1", "WAITFOR_TIMEOUT=100ms"}, nil},
			{[]string{"WAITFOR_TARGETS=postgres://app:" + pw + "@db:5432/app"}, []string{"-timeout", "100ms"}},
			{[]string{"WAITFOR_CMD=mysqladmin ping -p'" + pw + "'", "WAITFOR_JSON=1", "WAITFOR_VERBOSE=1", "WAITFOR_TIMEOUT=100ms"}, nil},
		}
		for _, c := range cases {
			r := runWaitfor(t, c.env, c.args...)
			runs++
			out := r.stdout + r.stderr
			if strings.TrimSpace(out) == "" {
				t.Errorf("env %q args %q: nothing printed to scan", c.env, c.args)
			}
			for _, p := range canaryPieces(pw) {
				if strings.Contains(out, p) {
					t.Errorf("env %q args %q: the output shows %q of the password %q:\n%s", c.env, c.args, p, pw, out)
					break
				}
			}
		}
	}
	t.Logf("canary: %d runs of the binary (%d passwords), output scanned", runs, len(canaryPasswords))
}
