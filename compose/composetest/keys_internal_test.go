package composetest

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/assert"
)

// composeKeysOf lists the YAML keys of the struct type t at prefix, as
// firstUnsupportedKey walks them (embedded structs inline).
func composeKeysOf(t reflect.Type, prefix string) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, inline, skip := composeYAMLKey(f)
		if skip {
			continue
		}
		if inline && f.Type.Kind() == reflect.Struct {
			keys = append(keys, composeKeysOf(f.Type, prefix)...)
			continue
		}
		if prefix != "" {
			name = prefix + "." + name
		}
		keys = append(keys, name)
	}
	return keys
}

// Every key of a compose service is carried into the Spec, ignored for a
// reason, or rejected: a compose-go upgrade that adds a key fails here
// until the key is classified in composeKeyRules (until then ServiceSpec
// rejects a service that sets it).
func TestComposeKeysClassified(t *testing.T) {
	all := composeKeysOf(reflect.TypeFor[types.ServiceConfig](), "")
	all = append(all, composeKeysOf(reflect.TypeFor[types.HealthCheckConfig](), "healthcheck")...)
	all = append(all, composeKeysOf(reflect.TypeFor[types.ServicePortConfig](), "ports")...)
	seen := map[string]bool{}
	for _, k := range all {
		seen[k] = true
		rule, ok := composeKeyRules[k]
		if !assert.True(t, ok, "compose key %q is neither carried, ignored nor rejected: classify it in composeKeyRules", k) {
			continue
		}
		if rule.kind != keyCarried {
			assert.NotEmpty(t, rule.why, "%s: an ignored or rejected key says why", k)
		}
	}
	var stale []string
	for k := range composeKeyRules {
		if !seen[k] {
			stale = append(stale, k)
		}
	}
	sort.Strings(stale)
	assert.Empty(t, stale, "rules for keys compose-go no longer has")
	for k := range composeKeysWalked {
		assert.Equal(t, keyCarried, composeKeyRules[k].kind, "%s: only carried keys are walked", k)
	}
}

// A key with no rule (as a newer compose-go's would be) is rejected
// when set, and named.
func TestComposeUnknownKeyRejected(t *testing.T) {
	type newer struct {
		types.ServiceConfig `yaml:",inline"`
		Shiny               string `yaml:"shiny,omitempty"`
	}
	key, _ := firstUnsupportedKey(reflect.ValueOf(newer{ServiceConfig: types.ServiceConfig{Name: "web"}}), "")
	assert.Empty(t, key, "not set: nothing to reject")
	key, why := firstUnsupportedKey(reflect.ValueOf(newer{Shiny: "yes"}), "")
	assert.Equal(t, "shiny", key)
	assert.True(t, strings.Contains(why, "does not know this key"), why)

	svc := types.ServiceConfig{Name: "web"}
	svc.Ports = []types.ServicePortConfig{{Target: 80}, {Target: 81, Published: "8081", HostIP: "0.0.0.0"}}
	svc.HealthCheck = &types.HealthCheckConfig{Test: types.HealthCheckTest{"CMD", "true"}}
	key, _ = firstUnsupportedKey(reflect.ValueOf(svc), "")
	assert.Empty(t, key, "published and host_ip are ignored")
}

// A key set to what leaving it out gives counts as unset: false and an
// empty block through a pointer; a 0 through a pointer does not (umask:
// 0 is not the default 022).
func TestComposeDefaultValuesUnset(t *testing.T) {
	no, zero := false, uint32(0)
	svc := types.ServiceConfig{Name: "web"}
	svc.Init = &no
	svc.Deploy = &types.DeployConfig{}
	key, _ := firstUnsupportedKey(reflect.ValueOf(svc), "")
	assert.Empty(t, key, "init: false and deploy: {} are the defaults")

	yes := true
	svc.Init = &yes
	key, _ = firstUnsupportedKey(reflect.ValueOf(svc), "")
	assert.Equal(t, "init", key)

	svc.Init = nil
	svc.Umask = &zero
	key, _ = firstUnsupportedKey(reflect.ValueOf(svc), "")
	assert.Equal(t, "umask", key)
}
