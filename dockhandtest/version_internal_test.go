package dockhandtest

import (
	"errors"
	"strings"
	"testing"

	"github.com/dockhand/dockhand/lifecycle"
)

// The SQL per server version: STRATEGY FILE_COPY from 15 on; servers
// older than 13 (no DROP DATABASE … WITH (FORCE)) are refused by name.
func TestVersionSQL(t *testing.T) {
	for _, tc := range []struct {
		num  string
		want string
		bad  string
	}{
		{num: "170002", want: `CREATE DATABASE "d" TEMPLATE "t" STRATEGY FILE_COPY`},
		{num: "150000", want: `CREATE DATABASE "d" TEMPLATE "t" STRATEGY FILE_COPY`},
		{num: "140011", want: `CREATE DATABASE "d" TEMPLATE "t"`},
		{num: "130000", want: `CREATE DATABASE "d" TEMPLATE "t"`},
		{num: "120017", bad: "PostgreSQL 12.17 (server_version_num 120017): want 13 or newer"},
		{num: "x", bad: `server_version_num "x"`},
	} {
		v, err := checkVersion(tc.num)
		if tc.bad != "" {
			if !errors.Is(err, lifecycle.ErrInvalid) || !strings.Contains(err.Error(), tc.bad) {
				t.Errorf("%s: got %v, want ErrInvalid naming %q", tc.num, err, tc.bad)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.num, err)
		}
		if got := createFromTemplate(v, "d", "t"); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.num, got, tc.want)
		}
	}
}
