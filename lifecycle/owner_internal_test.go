package lifecycle

// Table tests for the pure parts of ownership: the owner identity's label
// form, /proc/<pid>/stat parsing, the Sweep decisions and the proof that
// an image is a Dockhand build itself.

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testBoot = "dc213ac1-0ec2-4188-b4bd-8eab545959d3"

var testOwner = owner{pid: 4711, start: 123456, host: hostID{boot: testBoot, pidns: 4026531836, timens: 4026531834}}

func TestOwnerLabelRoundTrip(t *testing.T) {
	s := testOwner.String()
	assert.Equal(t, "pid=4711,start=123456,boot="+testBoot+",pidns=4026531836,timens=4026531834", s)
	o, err := parseOwner(s)
	require.NoError(t, err)
	assert.Equal(t, testOwner, o)
	// Key order is not significant; timens 0 is a kernel without time namespaces.
	o, err = parseOwner("boot=" + testBoot + ",timens=0,pidns=9,start=0,pid=1")
	require.NoError(t, err)
	assert.Equal(t, owner{pid: 1, start: 0, host: hostID{boot: testBoot, pidns: 9}}, o)
}

func TestParseOwnerRejects(t *testing.T) {
	good := "pid=4711,start=123456,boot=" + testBoot + ",pidns=4026531836,timens=4026531834"
	for name, in := range map[string]string{
		"empty":          "",
		"bare pid":       "4711", // the pre-identity label form
		"missing timens": "pid=4711,start=123456,boot=" + testBoot + ",pidns=4026531836",
		"extra key":      good + ",uid=0",
		"duplicate key":  good + ",pid=4711",
		"pid zero":       strings.Replace(good, "pid=4711", "pid=0", 1),
		"pid negative":   strings.Replace(good, "pid=4711", "pid=-5", 1),
		"pid text":       strings.Replace(good, "pid=4711", "pid=x", 1),
		"start negative": strings.Replace(good, "start=123456", "start=-1", 1),
		"boot uppercase": strings.Replace(good, testBoot, strings.ToUpper(testBoot), 1),
		"boot empty":     strings.Replace(good, "boot="+testBoot, "boot=", 1),
		"boot slash":     strings.Replace(good, testBoot, "../etc", 1),
		"pidns zero":     strings.Replace(good, "pidns=4026531836", "pidns=0", 1),
		"space":          strings.Replace(good, ",", ", ", 1),
		"no equals":      strings.Replace(good, "pid=4711", "pid4711", 1),
		"trailing comma": good + ",",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseOwner(in)
			require.Error(t, err)
			assert.True(t, errors.Is(err, errNoOwner), "%v", err)
		})
	}
}

func TestParseStat(t *testing.T) {
	// Fields after the command: state, ppid, ... field 22 (start time) is the 20th.
	rest := " S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 987654 21 22\n"
	for name, tc := range map[string]struct {
		in    string
		state byte
		start uint64
		ok    bool
	}{
		"plain":           {"42 (sleep)" + rest, 'S', 987654, true},
		"spaces in comm":  {"42 (my prog)" + rest, 'S', 987654, true},
		"parens in comm":  {"42 (a) Z (b))" + rest, 'S', 987654, true},
		"zombie":          {"42 (sleep) Z" + rest[2:], 'Z', 987654, true},
		"no comm":         {"42 sleep" + rest, 0, 0, false},
		"too few fields":  {"42 (sleep) S 1 2 3", 0, 0, false},
		"start not count": {"42 (sleep)" + strings.Replace(rest, "987654", "x", 1), 0, 0, false},
		"empty":           {"", 0, 0, false},
	} {
		t.Run(name, func(t *testing.T) {
			state, start, err := parseStat([]byte(tc.in))
			if !tc.ok {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.state, state)
			assert.Equal(t, tc.start, start)
		})
	}
}

func TestOwnerVerdict(t *testing.T) {
	me := owner{pid: 100, start: 5, host: testOwner.host}
	other := func(f func(*owner)) string { o := testOwner; f(&o); return o.String() }
	probe := func(l liveness) func(owner) liveness { return func(owner) liveness { return l } }
	for name, tc := range map[string]struct {
		label string
		meErr error
		probe liveness
		want  bool
		why   string
	}{
		"gone":                {testOwner.String(), nil, ownerGone, true, "gone"},
		"alive":               {testOwner.String(), nil, ownerAlive, false, "alive"},
		"cannot tell":         {testOwner.String(), nil, ownerUnknown, false, "cannot tell"},
		"missing label":       {"", nil, ownerGone, false, "no owner"},
		"malformed label":     {"4711", nil, ownerGone, false, "no owner"},
		"other boot or host":  {other(func(o *owner) { o.host.boot = "0000" }), nil, ownerGone, false, "another host"},
		"other pid namespace": {other(func(o *owner) { o.host.pidns++ }), nil, ownerGone, false, "another pid namespace"},
		"other time ns":       {other(func(o *owner) { o.host.timens++ }), nil, ownerGone, false, "another time namespace"},
		"this process":        {me.String(), nil, ownerGone, false, "this process"},
		"no self identity":    {testOwner.String(), errors.New("not Linux"), ownerGone, false, "cannot identify itself"},
	} {
		t.Run(name, func(t *testing.T) {
			probed := false
			got, why := ownerVerdict(tc.label, me, tc.meErr, func(o owner) liveness {
				probed = true
				return probe(tc.probe)(o)
			})
			assert.Equal(t, tc.want, got)
			assert.Contains(t, why, tc.why)
			if tc.want {
				assert.True(t, probed, "only a probe can prove an owner gone")
			}
		})
	}
}

func TestSweepVerdict(t *testing.T) {
	gone := func(string) (bool, string) { return true, "owner gone" }
	ours := map[string]string{LabelManaged: "true", LabelSession: "s", LabelClient: "c", LabelOwner: testOwner.String(), LabelPID: "4711", LabelPersistent: ""}
	with := func(m map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	legacyImage := map[string]string{LabelManaged: "true", LabelSession: "s", LabelPID: "4711", LabelHost: "h"}
	for name, tc := range map[string]struct {
		labels, image map[string]string
		imageKnown    bool
		want          bool
	}{
		"ours, owner gone":            {ours, nil, true, true},
		"ours from a plain image":     {ours, map[string]string{"maintainer": "x"}, true, true},
		"ours from a legacy image":    {ours, legacyImage, true, true},
		"not managed":                 {with(ours, LabelManaged, ""), nil, true, false},
		"persistent":                  {with(ours, LabelPersistent, "true", LabelOwner, ""), nil, true, false},
		"persistent, dead pid forged": {with(ours, LabelPersistent, "true"), nil, true, false},
		"image labelled persistent":   {ours, map[string]string{LabelPersistent: "true"}, true, false},
		"image unknown":               {ours, nil, false, false},
		"inherited from legacy image": {legacyImage, legacyImage, true, false},
		"inherited from a commit":     {ours, ours, true, false},
	} {
		t.Run(name, func(t *testing.T) {
			got, why := sweepVerdict(tc.labels, tc.image, tc.imageKnown, gone)
			assert.Equal(t, tc.want, got, why)
		})
	}
	alive := func(string) (bool, string) { return false, "owner alive" }
	got, why := sweepVerdict(ours, nil, true, alive)
	assert.False(t, got)
	assert.Equal(t, "owner alive", why)
}

func TestImageSweepVerdict(t *testing.T) {
	gone := func(string) (bool, string) { return true, "owner gone" }
	l := map[string]string{LabelBuildOwner: testOwner.String(), LabelBuildPersistent: ""}
	assert.True(t, first(imageSweepVerdict(l, true, false, gone)))
	assert.False(t, first(imageSweepVerdict(l, false, false, gone)), "not the build itself")
	assert.False(t, first(imageSweepVerdict(l, true, true, gone)), "in use")
	assert.False(t, first(imageSweepVerdict(map[string]string{LabelBuildOwner: testOwner.String(), LabelBuildPersistent: "true"}, true, false, gone)), "persistent")
	assert.False(t, first(imageSweepVerdict(l, true, false, func(string) (bool, string) { return false, "alive" })))
}

func first(b bool, _ string) bool { return b }

// history renders the history the classic builder gives an image built
// with these labels on top of base (newest step first).
func history(labels map[string]string, base ...string) []string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var h []string
	for i := len(keys) - 1; i >= 0; i-- {
		h = append(h, "/bin/sh -c #(nop)  LABEL "+keys[i]+"="+labels[keys[i]])
	}
	return append(h, base...)
}

func TestBuiltHere(t *testing.T) {
	c := &Client{session: "s1", id: "c1", pid: 4711, host: "h"}
	labels := c.buildLabels(map[string]string{"app": "x", "zzz": "last"}, []string{"app:1", "registry.example.com/team/app"})
	base := []string{"/bin/sh -c #(nop)  CMD [\"sh\"]", "/bin/sh -c #(nop) ADD file:abc in / "}
	ours := history(labels, base...)
	assert.True(t, builtHere(labels, ours), "our own build")

	derivedLabels := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range labels {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for name, tc := range map[string]struct {
		labels map[string]string
		hist   []string
	}{
		"FROM ours + RUN":                 {labels, append([]string{"/bin/sh -c echo hi > /f"}, ours...)},
		"FROM ours + LABEL sorting last":  {derivedLabels("zzzz", "1"), append([]string{"/bin/sh -c #(nop)  LABEL zzzz=1"}, ours...)},
		"FROM ours + LABEL sorting first": {derivedLabels("a", "1"), append([]string{"/bin/sh -c #(nop)  LABEL a=1"}, ours...)},
		"FROM ours + our first label again": {labels,
			append([]string{"/bin/sh -c #(nop)  LABEL app=x"}, ours...)},
		"FROM ours + our last label again": {labels,
			append([]string{"/bin/sh -c #(nop)  LABEL zzz=last"}, ours...)},
		"no seal":             {derivedLabels(LabelBuildSeal, ""), ours},
		"malformed seal":      {derivedLabels(LabelBuildSeal, "x/y"), ours},
		"owner relabelled":    {derivedLabels(LabelBuildOwner, "pid=1"), history(derivedLabels(LabelBuildOwner, "pid=1"), base...)},
		"history too short":   {labels, ours[:3]},
		"steps not label":     {labels, append(base, ours...)},
		"one LABEL, many kvs": {labels, append([]string{"/bin/sh -c #(nop)  LABEL a=1 b=2"}, ours[1:]...)},
		"empty history":       {labels, nil},
	} {
		t.Run(name, func(t *testing.T) {
			assert.False(t, builtHere(tc.labels, tc.hist))
		})
	}
}

func TestBuildLabelsAreImageOnly(t *testing.T) {
	for _, persist := range []bool{false, true} {
		c := &Client{session: "s1", id: "c1", pid: 4711, host: "h", persist: persist,
			labels: map[string]string{LabelSession: "forged", "team": "a"}}
		l := c.buildLabels(map[string]string{LabelOwner: "forged", "app": "x"}, []string{"app", "docker.io/library/app:2", "127.0.0.1:5000/x/y:3"})
		assert.Equal(t, "app:latest app:2 127.0.0.1:5000/x/y:3", l[LabelBuildTags])
		for _, k := range ownershipKeys {
			assert.NotContains(t, l, k, "%s on a built image would be inherited by its containers", k)
		}
		assert.Equal(t, "s1", l[LabelBuildSession])
		assert.Equal(t, "c1", l[LabelBuildClient])
		assert.Equal(t, "x", l["app"])
		assert.Equal(t, "a", l["team"])
		if persist {
			assert.Equal(t, "true", l[LabelBuildPersistent])
			assert.Empty(t, l[LabelBuildOwner])
		} else {
			assert.Empty(t, l[LabelBuildPersistent])
		}
	}
}

func TestSessionLabelsSetEveryOwnershipKey(t *testing.T) {
	for _, persist := range []bool{false, true} {
		c := &Client{session: "s1", id: "c1", pid: 4711, host: "h", persist: persist}
		user := map[string]string{LabelClient: "forged", LabelOwner: "forged", LabelPersistent: "forged", "app": "x"}
		l := c.sessionLabels(user)
		for _, k := range ownershipKeys {
			_, ok := l[k]
			assert.True(t, ok, "%s must be set explicitly, or an image's value would be inherited", k)
		}
		assert.Equal(t, "c1", l[LabelClient])
		assert.Equal(t, "x", l["app"])
		if persist {
			assert.Equal(t, "true", l[LabelPersistent])
			assert.Equal(t, "", l[LabelOwner])
			assert.Equal(t, "", l[LabelPID])
		} else {
			assert.Equal(t, "", l[LabelPersistent])
			assert.Equal(t, "4711", l[LabelPID])
			assert.Equal(t, selfOwnerLabel(), l[LabelOwner])
		}
	}
}

func TestInherited(t *testing.T) {
	img := map[string]string{LabelManaged: "true", LabelSession: "s", LabelPID: "1"}
	assert.True(t, inherited(map[string]string{LabelManaged: "true", LabelSession: "s", LabelPID: "1", "extra": "y"}, img))
	assert.False(t, inherited(map[string]string{LabelManaged: "true", LabelSession: "s", LabelPID: "1", LabelClient: "c"}, img))
	assert.False(t, inherited(map[string]string{LabelManaged: "true", LabelSession: "s", LabelPID: "2"}, img))
	// An explicit empty value differs from an absent key.
	assert.False(t, inherited(map[string]string{LabelManaged: "true", LabelSession: "s", LabelPID: "1", LabelOwner: ""}, img))
}
