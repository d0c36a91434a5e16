package waitfor_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/waitfor"
)

func TestParseTarget(t *testing.T) {
	for _, tc := range []struct{ in, str string }{
		{"db:5432", "tcp://db:5432"},
		{"tcp://db:5432", "tcp://db:5432"},
		{"tcp://db:5432/", "tcp://db:5432"},
		{"[::1]:5432", "tcp://[::1]:5432"},
		{"tcp://[::1]:5432", "tcp://[::1]:5432"},
		{"http://api:8080/healthz?full=1", "http://api:8080/healthz?full=1"},
		{"https://user:pw@api/healthz", "https://user:xxxxx@api/healthz"},
		{"unix:///run/app.sock", "unix:///run/app.sock"},
		{"file:///ready", "file:///ready"},
		{"file:///ready?nonempty=1", "file:///ready?nonempty=1"},
		{"file:///ready?nonempty=false", "file:///ready"},
		{"postgres://app:secret@db:5432/app", "postgres://app:xxxxx@db:5432/app"},
		{"postgresql://db", "postgresql://db"},
		{"redis://:secret@cache:6379", "redis://:xxxxx@cache:6379"},
		{"redis://secret@cache", "redis://:xxxxx@cache:6379"},
		{"redis://default:secret@cache:6380/2", "redis://default:xxxxx@cache:6380"},
		{"mysql://user:secret@db:3306/x", "mysql://user:xxxxx@db:3306/x"},
		{"dns://db", "dns://db"},
	} {
		c, err := waitfor.ParseTarget(tc.in)
		if assert.NoError(t, err, tc.in) {
			assert.Equal(t, tc.str, c.String(), tc.in)
			assert.NotContains(t, c.String(), "secret")
		}
	}

	for _, tc := range []struct{ in, msg string }{
		{"tcp://db", `invalid target "tcp://db": want tcp://host:port`},
		{"tcp://db:0", `invalid target "tcp://db:0": want tcp://host:port`},
		{"tcp://db:99999", `invalid target "tcp://db:99999": want tcp://host:port`},
		{"db", `invalid target "db": want host:port or scheme://address`},
		{"", `invalid target ""`},
		{"ftp://x:21", `invalid target "ftp://x:21": unknown scheme "ftp"`},
		{"unix://run/app.sock", `want unix:///absolute/path.sock`},
		{"file:///x?empty=1", `want file:///absolute/path[?nonempty=1]`},
		{"postgres://app:secret@db:notaport/app", `invalid target "postgres://app:xxxxx@db:notaport/app": not a valid URL; want postgres://`},
		{"redis://:secret@cache:6379/x", `invalid target "redis://:xxxxx@cache:6379/x"`},
		{"http://", `want http://host[:port]/path`},
		{"dns://a:53", `want dns://hostname`},
		{"app:secret@db:5432", `invalid target "xxxxx@db:5432"`},
	} {
		_, err := waitfor.ParseTarget(tc.in)
		if assert.Error(t, err, tc.in) {
			assert.Contains(t, err.Error(), tc.msg)
			assert.NotContains(t, err.Error(), "secret")
		}
	}
}

const marker = "PW-MARKER-ZZ"

func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{
		"db:5432", "[::1]:5432", "tcp://db:5432", "http://u:p@api:8080/x?y=1#z", "https://api",
		"unix:///run/app.sock", "file:///ready?nonempty=1", "postgres://app:pw@db:5432/app",
		"postgresql://db", "redis://:pw@cache:6379/0", "redis://pw@cache", "mysql://u:p@db/x",
		"dns://db", "tcp://", "://", "a@b@c:1", "http://[::1", "postgres://u:p@[::1]:5/d",
		"redis://u:p:q@h/%zz", "http://a:b@c@d/e", "tcp://%41:1", "file:///x?nonempty=2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := waitfor.ParseTarget(s)
		if err == nil {
			require.NotNil(t, c)
			_ = c.String()
		}
		if strings.Contains(s, marker[:4]) {
			return // the marker also comes from the input
		}
		// Raw (unescaped) passwords holding / ? # @ % : put where a
		// password goes: after the scheme, before a host:port, in the
		// query. Neither the description nor the error may show them.
		for _, pw := range rawPasswords {
			var inputs []string
			if i := strings.Index(s, "://"); i >= 0 {
				inputs = append(inputs, s[:i+3]+"app:"+pw+"@"+s[i+3:], s[:i+3]+":"+pw+"@"+s[i+3:])
			} else {
				inputs = append(inputs, "app:"+pw+"@"+s)
			}
			sep := "?"
			if strings.Contains(s, "?") {
				sep = "&"
			}
			inputs = append(inputs, s+sep+"password="+pw, s+sep+"sslmode=disable&token="+pw)
			for _, in := range inputs {
				checkHidden(t, in)
			}
		}
		// With a recognisable password put into the URL by net/url
		// (escaped), neither the description nor the error may show it.
		u, perr := url.Parse(s)
		if perr != nil || u.Host == "" {
			return
		}
		u.User = url.UserPassword(u.User.Username(), marker)
		s2 := u.String()
		if strings.Count(s2, marker) != 1 {
			return // the marker also came from elsewhere
		}
		checkHidden(t, s2)
	})
}

// rawPasswords hold the marker amid the characters that end a URL part.
var rawPasswords = []string{
	marker,
	marker + "/q+Lk?x#y@z%41:w",
	"Zx9/" + marker,
	"@" + marker + "@",
	":" + marker + "%zz",
	"?" + marker + "#",
	"a#b/" + marker + "?c=d",
	"%2F" + marker + "//",
}

// checkHidden fails when ParseTarget's error or the condition's String,
// %v, %#v or JSON shows the marker of the password in input.
func checkHidden(t *testing.T, input string) {
	t.Helper()
	c, err := waitfor.ParseTarget(input)
	if err != nil {
		require.NotContains(t, err.Error(), marker[:4], "input %q", input)
		return
	}
	j, _ := json.Marshal(c)
	for _, out := range []string{c.String(), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), string(j)} {
		require.NotContains(t, out, marker[:4], "input %q", input)
	}
}
