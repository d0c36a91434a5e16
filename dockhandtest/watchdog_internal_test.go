package dockhandtest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What the watchdog releases is what its process held and did not
// release itself, whatever the process got to write before it ended.
func TestReadWatch(t *testing.T) {
	const hello = watchdogHello + " tok 4711\n"
	cases := []struct {
		name, in string
		want     []held
	}{
		{"ended before its first hold", hello, nil},
		{"ended while finding its server", hello + "hold k1 h1\n", []held{{key: "k1", name: "h1"}}},
		{"ended holding", hello + "hold k1 h1\nserver h1 id1\n", []held{{key: "k1", name: "h1", id: "id1"}}},
		{"released it (Main)", hello + "hold k1 h1\nserver h1 id1\nrelease h1\n", nil},
		{"held again after a release", hello + "hold k1 h1\nserver h1 id1\nrelease h1\nhold k1 h2\nserver h2 id2\n",
			[]held{{key: "k1", name: "h2", id: "id2"}}},
		{"two keys, in order, one released", hello + "hold k2 h2\nhold k1 h1\nserver h1 id1\nserver h2 id2\nrelease h1\n",
			[]held{{key: "k2", name: "h2", id: "id2"}}},
		{"a line cut short by its end", hello + "hold k1 h1\nserver h1 id1\nrelease h", []held{{key: "k1", name: "h1", id: "id1"}}},
		{"unknown lines ignored", hello + "hold k1 h1\nsomething else\nserver nohold id9\n", []held{{key: "k1", name: "h1"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var pid string
			got, err := readWatch(strings.NewReader(tc.in), "tok", &pid)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, "4711", pid)
		})
	}
	for _, in := range []string{"", "hello\n", watchdogHello + " other 1\nhold k1 h1\n"} {
		var pid string
		_, err := readWatch(strings.NewReader(in), "tok", &pid)
		assert.Error(t, err, "no or a wrong handshake: %q", in)
	}
}
