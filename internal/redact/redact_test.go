package redact_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/dockhand/dockhand/internal/redact"
)

func TestURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://app:secret@db:5432/app", "postgres://app:xxxxx@db:5432/app"},
		{"postgres://app:Zx9/q+Lk@db:5432/app", "postgres://app:xxxxx@db:5432/app"},
		{"postgres://app:a/b?c#d@e%f:g@db/app", "postgres://app:xxxxx@db/app"},
		{"postgres://app@db/app?password=hunter2", "postgres://app@db/app?password=xxxxx"},
		{"postgres://app@db/app?sslmode=disable&PassWord=hun&ter#2&x=1", "postgres://app@db/app?sslmode=disable&PassWord=xxxxx&x=1"},
		{"postgres://db/app?sslpassword=k&sslmode=require", "postgres://db/app?sslpassword=xxxxx&sslmode=require"},
		{"http://api:8080/healthz?token=abc", "http://api:8080/healthz?token=xxxxx"},
		{"http://api/x?api_key=1&apikey=2&access_token=3&key=4&auth=5&pwd=6&pass=7&secret=8&keep=9", "http://api/x?api_key=xxxxx&apikey=xxxxx&access_token=xxxxx&key=xxxxx&auth=xxxxx&pwd=xxxxx&pass=xxxxx&secret=xxxxx&keep=9"},
		{"http://api:8080/healthz?full=1", "http://api:8080/healthz?full=1"},
		{"redis://secret@cache", "redis://xxxxx@cache"},
		{"https://ghp_token@github.com/x", "https://xxxxx@github.com/x"},
		{"postgres://app@db/app", "postgres://app@db/app"},
		{"mysql://root:@db", "mysql://root:xxxxx@db"},
		{"app:secret@db:5432", "xxxxx@db:5432"},
		{"db:5432", "db:5432"},
		{"http://api/x?email=a@b.com", "http://xxxxx@b.com"}, // unsure: more is hidden
	} {
		if got := redact.URL(tc.in); got != tc.want {
			t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestIsSecretName(t *testing.T) {
	for _, n := range []string{"PGPASSWORD", "MYSQL_PWD", "MYSQL_ROOT_PASSWORD", "REDIS_PASS", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY",
		"API_KEY", "apikey", "api-key", "DOCKER_AUTH", "GOOGLE_APPLICATION_CREDENTIALS", "password", "PassWord", "sslpassword", "X-Amz-Signature", "key"} {
		if !redact.IsSecretName(n) {
			t.Errorf("IsSecretName(%q) = false", n)
		}
	}
	for _, n := range []string{"PATH", "HOME", "POSTGRES_USER", "DATABASE_URL", "sslmode", "", "KEYBOARD"} {
		if redact.IsSecretName(n) {
			t.Errorf("IsSecretName(%q) = true", n)
		}
	}
}

func TestEnv(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"PGPASSWORD=s3/c?r#t", "PGPASSWORD=xxxxx"},
		{"MYSQL_PWD=x", "MYSQL_PWD=xxxxx"},
		{"DATABASE_URL=postgres://app:pw@db/app", "DATABASE_URL=postgres://app:xxxxx@db/app"},
		{"DATABASE_URL =postgres://app:pw@db/app", "DATABASE_URL =postgres://app:xxxxx@db/app"},
		{"PATH=/bin:/usr/bin", "PATH=/bin:/usr/bin"},
	} {
		if got := redact.Env(tc.in); got != tc.want {
			t.Errorf("Env(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if k := redact.EnvKey("A=b"); k != "A" {
		t.Errorf("EnvKey = %q", k)
	}
	if k := redact.EnvKey("DB_PASSWORD"); k != "DB_PASSWORD" {
		t.Errorf("EnvKey(name without =) = %q", k)
	}
	if k := redact.EnvKey("s3/cr?t"); k != "" {
		t.Errorf("EnvKey(value without =) = %q, want empty", k)
	}
}

func TestArgs(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{[]string{"mysqladmin", "ping", "-psecret"}, []string{"mysqladmin", "ping", "-pxxxxx"}},
		{[]string{"mysql", "--password=se cret", "-e", "select 1"}, []string{"mysql", "--password=xxxxx", "-e", "select 1"}},
		{[]string{"mysql", "--password", "secret"}, []string{"mysql", "--password", "xxxxx"}},
		{[]string{"redis-cli", "-a", "secret", "ping"}, []string{"redis-cli", "-a", "xxxxx", "ping"}},
		{[]string{"ls", "-a", "/tmp"}, []string{"ls", "-a", "/tmp"}},
		{[]string{"redis-cli", "-p", "6379", "ping"}, []string{"redis-cli", "-p", "6379", "ping"}},
		{[]string{"sshpass", "-p", "s3cret", "ssh", "x"}, []string{"sshpass", "-p", "xxxxx", "ssh", "x"}},
		{[]string{"x", "--pass", "p"}, []string{"x", "--pass", "xxxxx"}},
		{[]string{"env", "PGPASSWORD=pw", "pg_isready"}, []string{"env", "PGPASSWORD=xxxxx", "pg_isready"}},
		{[]string{"psql", "postgres://app:p/w@db/app", "-c", "select 1"}, []string{"psql", "postgres://app:xxxxx@db/app", "-c", "select 1"}},
		{[]string{"curl", "-u", "admin:pw", "http://x"}, []string{"curl", "-u", "admin:xxxxx", "http://x"}},
		{[]string{"curl", "-H", "Authorization: Bearer abc", "http://x"}, []string{"curl", "-H", "Authorization: xxxxx", "http://x"}},
		{[]string{"sh", "-c", "mysqladmin ping -psecret && redis-cli -a 'se cret' ping"}, []string{"sh", "-c", "mysqladmin ping -pxxxxx && redis-cli -a xxxxx ping"}},
	} {
		got := redact.Args(tc.in)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("Args(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`line 3: unterminated quoted value "a b/c?d`, `line 3: unterminated quoted value "a b/c?d`}, // no rule applies: callers add Values
		{`invalid PASSWORD="a b c" next`, `invalid PASSWORD=xxxxx next`},
		{`PASSWORD="a b c`, `PASSWORD=xxxxx`},
		{`dial "postgres://app:Zx9/q+Lk@db:5432/app": refused`, `dial "postgres://app:xxxxx@db:5432/app": refused`},
		{"a\nAuthorization: Basic dXNlcjpwdw==\nb", "a\nAuthorization: xxxxx\nb"},
		{`exec: "mysqladmin ping -psecret": not found`, `exec: "mysqladmin ping -pxxxxx not found`}, // the rest of the word may be password,
		{"plain text, nothing secret", "plain text, nothing secret"},
	} {
		if got := redact.Text(tc.in); got != tc.want {
			t.Errorf("Text(%q) =\n %q, want\n %q", tc.in, got, tc.want)
		}
	}
	if got := redact.Values(`unterminated quoted value "a b/c?d`, "a b/c?d"); got != `unterminated quoted value "xxxxx` {
		t.Errorf("Values = %q", got)
	}
}

func TestError(t *testing.T) {
	cause := fmt.Errorf("open PGPASSWORD=hunter2: %w", fs.ErrNotExist)
	err := redact.Error(cause)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Error("errors.Is lost the cause")
	}
	var target interface{ Unwrap() error }
	if !errors.As(err, &target) {
		t.Error("errors.As lost the wrapper")
	}
	j, jerr := json.Marshal(err)
	for _, out := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), string(j)} {
		if strings.Contains(out, "hunter2") || !strings.Contains(out, "PGPASSWORD=xxxxx") {
			t.Errorf("scrubbed error shows %q", out)
		}
	}
	if jerr != nil {
		t.Error(jerr)
	}
	if redact.Error(nil) != nil {
		t.Error("Error(nil) != nil")
	}
}

func TestJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "q\"b\\s\n\t\r\x01\x7f", "héllo \u2028 \xff end", "<&>"} {
		var back string
		if err := json.Unmarshal(redact.JSON(s), &back); err != nil {
			t.Errorf("JSON(%q) = %s: %v", s, redact.JSON(s), err)
			continue
		}
		if want := strings.ToValidUTF8(s, "\uFFFD"); back != want {
			t.Errorf("JSON(%q) decodes to %q", s, back)
		}
	}
}
