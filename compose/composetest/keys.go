package composetest

import (
	"fmt"
	"reflect"
	"strings"
)

// What ServiceSpec does with each key of a compose service: every field
// of compose-go's ServiceConfig (and of the healthcheck and port configs
// it reads) has a rule, and a field with none is rejected, so a newer
// compose-go cannot add a key that is silently ignored
// (TestComposeKeysClassified fails until it is classified).

type composeKeyKind int

const (
	keyCarried  composeKeyKind = iota + 1 // into the Spec (its values checked in specOfService)
	keyIgnored                            // no effect on a fixture, for the reason given
	keyRejected                           // fails ServiceSpec; why says what to do instead
)

type composeKeyRule struct {
	kind composeKeyKind
	why  string
}

func carried() composeKeyRule               { return composeKeyRule{kind: keyCarried} }
func ignored(why string) composeKeyRule     { return composeKeyRule{kind: keyIgnored, why: why} }
func unsupported(why string) composeKeyRule { return composeKeyRule{kind: keyRejected, why: why} }

const (
	whyEngine   = "a fixture's Spec carries image, entrypoint, command, user, environment, ports, expose, tmpfs and healthcheck only: leave it out (a compose file or override of the tests' own), or run the container with lifecycle.Run"
	whyMounts   = "a fixture mounts nothing but tmpfs: use tmpfs: for scratch data, bake files into the image, or copy them in after Start (lifecycle Container.CopyTo)"
	whyOthers   = "a fixture is one container: start each service it needs with its own ServiceSpec and dockhandtest.Start, and reach them through Server.HostPort"
	whyLoader   = "resolved by compose.Load"
	whyHostPort = "a fixture publishes every port on an ephemeral host port of the client's bind address (tests run in parallel): ask Server.HostPort"
	whyMeta     = "metadata the engine does not use"
)

// composeKeyRules classifies the keys of a service by YAML path
// ("cap_add", "healthcheck.test"). Only carried struct keys
// (healthcheck, ports) have rules for their own keys.
var composeKeyRules = map[string]composeKeyRule{
	"name":           carried(),
	"profiles":       ignored("compose.Load chose the enabled services; ServiceSpec enables the one it is asked for, as docker compose up service does"),
	"deploy":         unsupported(whyEngine),
	"develop":        unsupported("develop.watch needs a file watcher: leave it out"),
	"restart":        ignored("the fixture owns its container's lifecycle: a container that stops fails the waiting test"),
	"scale":          carried(), // checked: 1
	"attach":         ignored("log attachment of docker compose up: a fixture attaches to nothing (its last log lines go to a failed test's log)"),
	"container_name": ignored("the fixture names its container by the Spec's hash, so that equal Specs share it"),
	"provider":       unsupported("a provider service runs a CLI plugin, not a container"),
	"extends":        ignored(whyLoader),
	"external_links": unsupported(whyOthers),
	"links":          unsupported(whyOthers),
	"net":            unsupported(whyEngine),
	"pre_start":      unsupported("lifecycle hooks are not run by a fixture: do the work in the test after Start"),
	"post_start":     unsupported("lifecycle hooks are not run by a fixture: do the work in the test after Start"),
	"pre_stop":       unsupported("lifecycle hooks are not run by a fixture: do the work in the test after Start"),
	"#extensions":    ignored("x- extension keys are for tools"),

	"annotations":         unsupported(whyEngine),
	"blkio_config":        unsupported(whyEngine),
	"cap_add":             unsupported(whyEngine),
	"cap_drop":            unsupported(whyEngine),
	"cgroup_parent":       unsupported(whyEngine),
	"cgroup":              unsupported(whyEngine),
	"cpu_count":           unsupported(whyEngine),
	"cpu_percent":         unsupported(whyEngine),
	"cpu_period":          unsupported(whyEngine),
	"cpu_quota":           unsupported(whyEngine),
	"cpu_rt_period":       unsupported(whyEngine),
	"cpu_rt_runtime":      unsupported(whyEngine),
	"cpus":                unsupported(whyEngine),
	"cpuset":              unsupported(whyEngine),
	"cpu_shares":          unsupported(whyEngine),
	"command":             carried(),
	"configs":             unsupported(whyMounts),
	"credential_spec":     unsupported(whyEngine),
	"device_cgroup_rules": unsupported(whyEngine),
	"devices":             unsupported(whyEngine),
	"dns":                 unsupported(whyEngine),
	"dns_opt":             unsupported(whyEngine),
	"dns_search":          unsupported(whyEngine),
	"domainname":          unsupported(whyEngine),
	"entrypoint":          carried(),
	"environment":         carried(),
	"env_file":            ignored(whyLoader + " into environment"),
	"extra_hosts":         unsupported(whyEngine),
	"group_add":           unsupported(whyEngine),
	"gpus":                unsupported(whyEngine),
	"hostname":            unsupported(whyEngine),
	"image":               carried(),
	"init":                unsupported(whyEngine),
	"ipc":                 unsupported(whyEngine),
	"isolation":           unsupported(whyEngine),
	"labels":              ignored("the fixture's container carries Dockhand's ownership labels; the service's are for other tools"),
	"label_file":          ignored(whyLoader + " into labels, which are ignored"),
	"logging":             unsupported(whyEngine + " (the fixture reads its container's log)"),
	"log_driver":          unsupported(whyEngine + " (the fixture reads its container's log)"),
	"log_opt":             unsupported(whyEngine + " (the fixture reads its container's log)"),
	"mem_limit":           unsupported(whyEngine),
	"mem_reservation":     unsupported(whyEngine),
	"memswap_limit":       unsupported(whyEngine),
	"mem_swappiness":      unsupported(whyEngine),
	"mac_address":         unsupported(whyEngine),
	"models":              unsupported(whyEngine),
	"network_mode":        unsupported(whyEngine),
	"networks":            carried(), // checked: the default network only
	"oom_kill_disable":    unsupported(whyEngine),
	"oom_score_adj":       unsupported(whyEngine),
	"pid":                 unsupported(whyEngine),
	"pids_limit":          unsupported(whyEngine),
	"platform":            unsupported(whyEngine),
	"privileged":          unsupported(whyEngine),
	"pull_policy":         carried(), // checked: missing
	"pull_refresh_after":  unsupported(whyEngine),
	"read_only":           unsupported(whyEngine),
	"runtime":             unsupported(whyEngine),
	"secrets":             unsupported(whyMounts + "; pass secrets in environment:"),
	"security_opt":        unsupported(whyEngine),
	"shm_size":            unsupported(whyEngine),
	"stop_grace_period":   ignored("the fixture removes its container with force, after its tests"),
	"stop_signal":         ignored("the fixture removes its container with force, after its tests"),
	"storage_opt":         unsupported(whyEngine),
	"sysctls":             unsupported(whyEngine),
	"tmpfs":               carried(),
	"ulimits":             unsupported(whyEngine),
	"umask":               unsupported(whyEngine),
	"use_api_socket":      unsupported(whyEngine),
	"user":                carried(),
	"userns_mode":         unsupported(whyEngine),
	"uts":                 unsupported(whyEngine),
	"volume_driver":       unsupported(whyMounts),
	"volumes":             unsupported(whyMounts),
	"volumes_from":        unsupported(whyMounts),
	"working_dir":         unsupported(whyEngine),

	"build":      carried(), // checked: beside image: only, and not run
	"depends_on": unsupported(whyOthers),
	"dockerfile": unsupported("a fixture never builds: build the image first and name it in image:"),
	"expose":     carried(),
	"ports":      carried(),
	"stdin_open": unsupported(whyEngine),
	"tty":        unsupported(whyEngine + " (a tty changes the log's format)"),

	"healthcheck":                carried(),
	"healthcheck.test":           carried(),
	"healthcheck.timeout":        carried(),
	"healthcheck.interval":       carried(), // capped at healthInterval
	"healthcheck.start_interval": carried(), // caps interval (engines before API 1.44 have no start_interval)
	"healthcheck.retries":        carried(), // to the engine; Start waits for healthy, it never fails on unhealthy
	"healthcheck.start_period":   carried(),
	"healthcheck.disable":        carried(),
	"healthcheck.#extensions":    ignored("x- extension keys are for tools"),

	"ports.target":       carried(),
	"ports.protocol":     carried(),
	"ports.published":    ignored(whyHostPort),
	"ports.host_ip":      ignored(whyHostPort),
	"ports.mode":         ignored("host or ingress: a swarm setting"),
	"ports.name":         ignored(whyMeta),
	"ports.app_protocol": ignored(whyMeta),
	"ports.#extensions":  ignored("x- extension keys are for tools"),
}

// composeKeysWalked are the carried keys whose own keys have rules.
var composeKeysWalked = map[string]bool{"healthcheck": true, "ports": true}

// firstUnsupportedKey returns the first set key of the struct v (at the
// YAML path prefix) that is rejected or has no rule, with the reason.
func firstUnsupportedKey(v reflect.Value, prefix string) (key, why string) {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "", ""
		}
		v = v.Elem()
	}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, inline, skip := composeYAMLKey(f)
		if skip {
			continue
		}
		fv := v.Field(i)
		if inline && f.Type.Kind() == reflect.Struct {
			if k, w := firstUnsupportedKey(fv, prefix); k != "" {
				return k, w
			}
			continue
		}
		if unset(fv) {
			continue
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		rule, ok := composeKeyRules[path]
		switch {
		case !ok:
			return path, "composetest does not know this key (a newer compose-go?): leave it out, or run the container with lifecycle.Run"
		case rule.kind == keyRejected:
			return path, rule.why
		}
		if rule.kind == keyCarried && composeKeysWalked[path] {
			if fv.Kind() == reflect.Slice {
				for j := 0; j < fv.Len(); j++ {
					if k, w := firstUnsupportedKey(fv.Index(j), path); k != "" {
						return fmt.Sprintf("%s[%d]%s", path, j, strings.TrimPrefix(k, path)), w
					}
				}
				continue
			}
			if k, w := firstUnsupportedKey(fv, path); k != "" {
				return k, w
			}
		}
	}
	return "", ""
}

// unset reports whether a key's value is what leaving the key out
// gives: the zero value, an empty list or map, false through a pointer
// (init: false) and an empty block through a pointer (deploy: {}). A
// number through a pointer counts as set even when 0: its default is not
// always 0 (umask: 0 is not the default 022).
func unset(v reflect.Value) bool {
	switch {
	case v.IsZero():
		return true
	case v.Kind() == reflect.Slice || v.Kind() == reflect.Map:
		return v.Len() == 0
	case v.Kind() == reflect.Pointer:
		e := v.Elem()
		return (e.Kind() == reflect.Bool || e.Kind() == reflect.Struct) && e.IsZero()
	}
	return false
}

// composeYAMLKey is a field's YAML key: inline for an embedded struct
// (ContainerSpec) and for the x- extensions, which are "#extensions";
// skip for a field that is no key (yaml:"-", CustomLabels).
func composeYAMLKey(f reflect.StructField) (name string, inline, skip bool) {
	tag := f.Tag.Get("yaml")
	name, opts, _ := strings.Cut(tag, ",")
	if name == "-" || !f.IsExported() {
		return "", false, true
	}
	if name == "" {
		name = "?" + f.Name // no YAML key of its own: never in the rules
	}
	return name, strings.Contains(opts, "inline"), false
}
