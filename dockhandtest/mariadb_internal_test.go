package dockhandtest

import (
	"errors"
	"strings"
	"testing"

	"github.com/dockhand/dockhand/lifecycle"
)

// MariaDB 10.5 or newer is accepted; older, or MySQL, is refused with
// the version named.
func TestCheckMariaDBVersion(t *testing.T) {
	for _, tc := range []struct {
		version string
		bad     string
	}{
		{version: "10.11.18-MariaDB-0+deb12u1"},
		{version: "11.4.2-MariaDB-ubu2404"},
		{version: "10.5.0-MariaDB"},
		{version: "10.4.34-MariaDB", bad: `MariaDB 10.4 (version "10.4.34-MariaDB"): want 10.5 or newer`},
		{version: "8.0.36", bad: `server version "8.0.36": want MariaDB 10.5 or newer`},
		{version: "", bad: `server version "": want MariaDB`},
	} {
		err := checkMariaDBVersion(tc.version)
		if tc.bad == "" {
			if err != nil {
				t.Errorf("%q: %v", tc.version, err)
			}
			continue
		}
		if !errors.Is(err, lifecycle.ErrInvalid) || err == nil || !strings.Contains(err.Error(), tc.bad) {
			t.Errorf("%q: got %v, want ErrInvalid naming %q", tc.version, err, tc.bad)
		}
	}
}

// Names are quoted for MariaDB whatever they hold.
func TestMariaDBQuoting(t *testing.T) {
	if got, want := myIdent("a`b"), "`a``b`"; got != want {
		t.Errorf("myIdent: got %s, want %s", got, want)
	}
	if got, want := myString(`it's a \ test`), `'it\'s a \\ test'`; got != want {
		t.Errorf("myString: got %s, want %s", got, want)
	}
}
