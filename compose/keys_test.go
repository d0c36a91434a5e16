package compose

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dockhand/dockhand/lifecycle"
)

// composeKeyPaths walks compose-go's types by reflection, as the loader
// reads YAML into them (embedded structs inline, into pointers, slices
// and maps), and returns every key's rule path. It does not descend
// into keys whose whole value is rejected or has no effect.
func composeKeyPaths() []string {
	var out []string
	var walk func(t reflect.Type, prefix string, seen map[reflect.Type]bool)
	walk = func(t reflect.Type, prefix string, seen map[reflect.Type]bool) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map || t.Kind() == reflect.Array {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		defer delete(seen, t)
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, inline, skip := yamlKey(f)
			if skip {
				continue
			}
			if inline && name == "" {
				walk(f.Type, prefix, seen)
				continue
			}
			p := pathOf(prefix, name)
			out = append(out, p)
			if ruleFor(p).stopsWalk() {
				continue
			}
			walk(f.Type, p, seen)
		}
	}
	walk(reflect.TypeOf(types.Project{}), "", map[reflect.Type]bool{})
	sort.Strings(out)
	return out
}

// TestEveryComposeKeyIsHandledOrRejected fails on any key of compose-go's
// project or service configuration that keyRules does not classify: a new
// compose-go release cannot add a key Dockhand silently ignores. It also
// fails on rules for keys compose-go no longer has.
func TestEveryComposeKeyIsHandledOrRejected(t *testing.T) {
	paths := composeKeyPaths()
	require.Greater(t, len(paths), 250, "the walk reaches the nested keys")
	seen := map[string]bool{}
	for _, p := range paths {
		seen[p] = true
		rule := ruleFor(p)
		if !assert.True(t, rule.known(), "compose key %s is neither handled nor rejected: classify it in keyRules (compose/keys.go)", p) {
			continue
		}
		if rule.kind != keyHandled {
			assert.NotEmpty(t, rule.why, "%s: a key without effect or rejected says why", p)
		}
	}
	for p := range keyRules {
		assert.True(t, seen[p], "keyRules has %s, which compose-go's types do not (or which sits under a rejected key)", p)
	}
	for _, p := range []string{"services.gpus", "services.develop", "services.models", "services.credential_spec", "services.use_api_socket"} {
		assert.Equal(t, keyRejected, keyRules[p].kind, p)
	}
}

// setNonZero sets the key at path (YAML names) inside v to a non-zero
// value, creating the pointers, slice elements and map entries on the way.
func setNonZero(t *testing.T, v reflect.Value, path []string) {
	t.Helper()
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		setNonZero(t, v.Elem(), path)
		return
	case reflect.Slice:
		if len(path) == 0 && !isStructy(v.Type().Elem()) {
			e := reflect.New(v.Type().Elem()).Elem()
			setNonZero(t, e, nil)
			v.Set(reflect.Append(v, e))
			return
		}
		e := reflect.New(v.Type().Elem()).Elem()
		setNonZero(t, e, path)
		v.Set(reflect.Append(reflect.MakeSlice(v.Type(), 0, 1), e))
		return
	case reflect.Map:
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
		e := reflect.New(v.Type().Elem()).Elem()
		setNonZero(t, e, path)
		v.SetMapIndex(reflect.ValueOf("k").Convert(v.Type().Key()), e)
		return
	}
	if len(path) == 0 {
		switch v.Kind() {
		case reflect.String:
			v.SetString("x")
		case reflect.Bool:
			v.SetBool(true)
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			v.SetInt(1)
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			v.SetUint(1)
		case reflect.Float32, reflect.Float64:
			v.SetFloat(1)
		case reflect.Struct:
			// a struct key set as a whole: set its first settable field
			for i := 0; i < v.NumField(); i++ {
				if _, _, skip := yamlKey(v.Type().Field(i)); !skip && v.Field(i).CanSet() {
					setNonZero(t, v.Field(i), nil)
					return
				}
			}
			t.Fatalf("cannot set a value of %s", v.Type())
		default:
			t.Fatalf("cannot set a value of kind %s (%s)", v.Kind(), v.Type())
		}
		return
	}
	require.Equal(t, reflect.Struct, v.Kind(), "path %v", path)
	if !setField(t, v, path) {
		t.Fatalf("%s has no key %s", v.Type(), path[0])
	}
}

func setField(t *testing.T, v reflect.Value, path []string) bool {
	for i := 0; i < v.NumField(); i++ {
		name, inline, skip := yamlKey(v.Type().Field(i))
		if skip {
			continue
		}
		if inline && name == "" {
			if setField(t, v.Field(i), path) {
				return true
			}
			continue
		}
		if name == path[0] {
			setNonZero(t, v.Field(i), path[1:])
			return true
		}
	}
	return false
}

// TestRejectedKeysFailWithTheirName sets each rejected key in turn, by
// reflection, and checks that checkKeys (run by Load and Up) fails with
// an error wrapping lifecycle.ErrInvalid that names the service and the key.
func TestRejectedKeysFailWithTheirName(t *testing.T) {
	n := 0
	for _, path := range composeKeyPaths() {
		rule := ruleFor(path)
		if !rule.isRejected() {
			continue
		}
		n++
		t.Run(path, func(t *testing.T) {
			p := &types.Project{Name: "keys", Services: types.Services{"app": {Name: "app", ContainerSpec: types.ContainerSpec{Image: "x"}}}}
			keys := strings.Split(path, ".")
			if keys[0] == "services" {
				svc := p.Services["app"]
				setNonZero(t, reflect.ValueOf(&svc).Elem(), keys[1:])
				p.Services["app"] = svc
			} else {
				setNonZero(t, reflect.ValueOf(p).Elem(), keys)
			}
			err := checkKeys(p)
			require.Error(t, err, "%s set but not rejected", path)
			assert.True(t, errors.Is(err, lifecycle.ErrInvalid), "%v wraps lifecycle.ErrInvalid", err)
			last := keys[len(keys)-1]
			assert.Contains(t, err.Error(), last, "the error names the key")
			assert.Contains(t, err.Error(), rule.why, "the error says why")
			if keys[0] == "services" {
				assert.Contains(t, err.Error(), `service "app"`, "the error names the service")
			}
		})
	}
	assert.Greater(t, n, 30, "rejected keys tried")
}

// TestImpliedDependenciesLoad: compose-go adds depends_on with restart:
// true for links and namespace references; those load.
func TestImpliedDependenciesLoad(t *testing.T) {
	for _, yaml := range []string{
		"    links: [db]\n",
		"    links: [\"db:database\"]\n",
		"    network_mode: service:db\n",
		"    ipc: service:db\n",
		"    pid: service:db\n",
		"    volumes_from: [\"db:ro\"]\n",
	} {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte("services:\n  db:\n    image: x\n  app:\n    image: x\n"+yaml), 0o644))
		_, err := Load(context.Background(), WithWorkingDir(dir), WithProjectName("keys"), WithoutOSEnv())
		assert.NoError(t, err, yaml)
	}
}

// TestNetworkIPAMPoolsLoad: an ipam pool (whose x- extensions compose-go
// keeps in an inline map, not a struct) loads, with its extensions, and
// its settings reach the project.
func TestNetworkIPAMPoolsLoad(t *testing.T) {
	p := loadYAML(t, `services:
  app:
    image: x
    networks: [back]
networks:
  back:
    ipam:
      config:
        - subnet: 10.231.9.0/24
          gateway: 10.231.9.1
          x-note: ignored
`)
	require.Len(t, p.Networks["back"].Ipam.Config, 1)
	assert.Equal(t, "10.231.9.1", p.Networks["back"].Ipam.Config[0].Gateway)
}

// TestHandledKeysPassTheCheck is the other side: a service using only
// handled keys loads.
func TestHandledKeysPassTheCheck(t *testing.T) {
	p := &types.Project{Name: "keys", Services: types.Services{"app": {Name: "app", ContainerSpec: types.ContainerSpec{
		Image: "x", CapAdd: []string{"NET_ADMIN"}, DeviceCgroupRules: []string{"c 1:3 mr"}, ShmSize: 1 << 20,
	}}}}
	require.NoError(t, checkKeys(p))
}

// TestLoadRejectsUnsupportedKeys checks Load itself on compose files a
// user writes: the error names the service and the key.
func TestLoadRejectsUnsupportedKeys(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"gpus", "    gpus: all\n", `service "app": gpus is not supported`},
		{"develop.watch", "    develop:\n      watch:\n        - path: .\n          action: sync\n          target: /app\n", `service "app": develop is not supported`},
		{"pull_policy daily", "    pull_policy: daily\n", `service "app": pull_policy is not supported: "daily"`},
		{"build.ssh", "    build:\n      context: .\n      ssh: [default]\n", `service "app": build.ssh is not supported`},
		{"secret from environment", "    secrets: [token]\nsecrets:\n  token:\n    environment: TOKEN\n", "secrets.token.environment is not supported"},
		{"npipe volume", "    volumes:\n      - type: npipe\n        source: //./pipe/x\n        target: //./pipe/x\n", `service "app": volumes[0].type is not supported: "npipe"`},
		{"uts of a service", "    uts: service:db\n  db:\n    image: x\n", `service "app": uts is not supported: "service:db"`},
		{"configs uid", "    configs:\n      - source: conf\n        uid: \"1000\"\nconfigs:\n  conf:\n    file: ./compose.yaml\n", `service "app": configs[0].uid is not supported`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte("services:\n  app:\n    image: x\n"+tc.yaml), 0o644))
			_, err := Load(context.Background(), WithWorkingDir(dir), WithProjectName("keys"), WithoutOSEnv())
			require.Error(t, err)
			assert.ErrorIs(t, err, lifecycle.ErrInvalid)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
