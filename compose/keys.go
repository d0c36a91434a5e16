package compose

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// Every key of compose-go's project and service configuration is listed
// in keyRules: either Dockhand makes it work as the docker compose CLI
// does, or a project that sets it fails Load and Up with an error naming
// the service and the key. A key compose-go adds later and keyRules does
// not know is rejected too, and TestEveryComposeKeyIsHandledOrRejected
// fails until it is classified: no key is ever silently ignored.

// keyKind says what Dockhand does with a compose key.
type keyKind int

const (
	// keyHandled: converted as the CLI converts it (an API-version or
	// value check may still reject it, at Up, with an error naming it).
	keyHandled keyKind = iota + 1
	// keyAsCLI: the CLI gives it no effect on a single engine either
	// (swarm-only, Windows-only or metadata), so neither does Dockhand.
	keyAsCLI
	// keyRejected: setting it fails Load and Up.
	keyRejected
)

type keyRule struct {
	kind keyKind
	why  string // for keyAsCLI and keyRejected: the reason, in the error
}

func handled() keyRule             { return keyRule{kind: keyHandled} }
func asCLI(why string) keyRule     { return keyRule{kind: keyAsCLI, why: why} }
func rejected(why string) keyRule  { return keyRule{kind: keyRejected, why: why} }
func (r keyRule) stopsWalk() bool  { return r.kind == keyRejected || r.kind == keyAsCLI }
func (r keyRule) String() string   { return fmt.Sprintf("%d:%s", r.kind, r.why) }
func (r keyRule) isRejected() bool { return r.kind == keyRejected }
func (r keyRule) known() bool      { return r.kind != 0 }
func pathOf(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

const (
	whySwarm     = "a swarm setting: the CLI ignores it on a single engine too"
	whyWindows   = "Windows containers only"
	whyLoader    = "resolved by the compose loader"
	whyBuildOpts = "lifecycle.Build has no option for it"
	whyHooks     = "lifecycle hooks are not implemented"
)

// keyRules classifies every key by its path of YAML names from the
// project (services.NAME.cap_add is "services.cap_add"). A struct key
// whose rule is keyHandled has rules for each of its own keys.
var keyRules = map[string]keyRule{
	"name":                               handled(),
	"services":                           handled(),
	"networks":                           handled(),
	"volumes":                            handled(),
	"secrets":                            handled(),
	"configs":                            handled(),
	"models":                             rejected("AI models need Docker Model Runner, which Dockhand does not drive"),
	"jobs":                               rejected("jobs are not implemented"),
	"networks.name":                      handled(),
	"networks.driver":                    handled(),
	"networks.driver_opts":               handled(),
	"networks.ipam":                      handled(),
	"networks.ipam.driver":               handled(),
	"networks.ipam.config":               handled(),
	"networks.ipam.config.subnet":        handled(),
	"networks.ipam.config.gateway":       handled(),
	"networks.ipam.config.ip_range":      handled(),
	"networks.ipam.config.aux_addresses": handled(),
	"networks.ipam.options":              handled(),
	"networks.external":                  handled(),
	"networks.internal":                  handled(),
	"networks.attachable":                handled(),
	"networks.labels":                    handled(),
	"networks.enable_ipv4":               rejected("needs API 1.48 (Docker Engine 28)"),
	"networks.enable_ipv6":               handled(),
	"volumes.name":                       handled(),
	"volumes.driver":                     handled(),
	"volumes.driver_opts":                handled(),
	"volumes.external":                   handled(),
	"volumes.labels":                     handled(),
	// Top-level secrets and configs: file-based ones are bind mounts.
	"secrets.name":            handled(),
	"secrets.file":            handled(),
	"secrets.environment":     rejected("only file-based secrets are supported"),
	"secrets.content":         rejected("only file-based secrets are supported"),
	"secrets.external":        rejected("external secrets are swarm secrets"),
	"secrets.labels":          asCLI(whySwarm),
	"secrets.driver":          rejected("secret drivers are swarm secrets"),
	"secrets.driver_opts":     rejected("secret drivers are swarm secrets"),
	"secrets.template_driver": rejected("secret drivers are swarm secrets"),
	"configs.name":            handled(),
	"configs.file":            handled(),
	"configs.environment":     rejected("only file-based configs are supported"),
	"configs.content":         rejected("only file-based configs are supported"),
	"configs.external":        rejected("external configs are swarm configs"),
	"configs.labels":          asCLI(whySwarm),
	"configs.driver":          rejected("config drivers are swarm configs"),
	"configs.driver_opts":     rejected("config drivers are swarm configs"),
	"configs.template_driver": rejected("config drivers are swarm configs"),

	"services.name":           handled(),
	"services.profiles":       handled(),
	"services.restart":        handled(),
	"services.scale":          handled(),
	"services.attach":         asCLI("only attached up (not implemented) reads it; a detached up ignores it"),
	"services.container_name": handled(),
	"services.provider":       rejected("provider services run a CLI plugin instead of a container"),
	"services.extends":        asCLI(whyLoader),
	"services.external_links": handled(),
	"services.links":          handled(),
	"services.net":            rejected("a compose v1 key: use network_mode"),
	"services.pre_start":      rejected(whyHooks),
	"services.post_start":     rejected(whyHooks),
	"services.pre_stop":       rejected(whyHooks),
	"services.develop":        rejected("develop.watch needs a file watcher, which Dockhand does not run"),

	"services.deploy":                                          handled(),
	"services.deploy.mode":                                     handled(), // checked: replicated only
	"services.deploy.replicas":                                 handled(),
	"services.deploy.labels":                                   asCLI(whySwarm),
	"services.deploy.update_config":                            asCLI(whySwarm),
	"services.deploy.rollback_config":                          asCLI(whySwarm),
	"services.deploy.placement":                                asCLI(whySwarm),
	"services.deploy.endpoint_mode":                            asCLI(whySwarm),
	"services.deploy.resources":                                handled(),
	"services.deploy.resources.limits":                         handled(),
	"services.deploy.resources.limits.cpus":                    handled(),
	"services.deploy.resources.limits.memory":                  handled(),
	"services.deploy.resources.limits.pids":                    handled(),
	"services.deploy.resources.limits.devices":                 asCLI("the CLI reads devices from reservations only"),
	"services.deploy.resources.limits.generic_resources":       asCLI(whySwarm),
	"services.deploy.resources.reservations":                   handled(),
	"services.deploy.resources.reservations.cpus":              asCLI("a CPU reservation is a swarm setting: the CLI ignores it too"),
	"services.deploy.resources.reservations.memory":            handled(),
	"services.deploy.resources.reservations.pids":              asCLI("pids is a limit only: the CLI ignores a reservation too"),
	"services.deploy.resources.reservations.devices":           rejected("device requests (GPUs) need a device driver this engine does not offer"),
	"services.deploy.resources.reservations.generic_resources": asCLI(whySwarm),
	"services.deploy.restart_policy":                           handled(),
	"services.deploy.restart_policy.condition":                 handled(),
	"services.deploy.restart_policy.max_attempts":              handled(),
	"services.deploy.restart_policy.delay":                     asCLI("the engine's restart policy has no delay: the CLI ignores it too"),
	"services.deploy.restart_policy.window":                    asCLI("the engine's restart policy has no window: the CLI ignores it too"),

	"services.annotations":                          handled(), // checked: API 1.43
	"services.blkio_config":                         handled(),
	"services.blkio_config.weight":                  handled(),
	"services.blkio_config.weight_device":           handled(),
	"services.blkio_config.weight_device.?Path":     handled(),
	"services.blkio_config.weight_device.?Weight":   handled(),
	"services.blkio_config.device_read_bps":         handled(),
	"services.blkio_config.device_read_bps.?Path":   handled(),
	"services.blkio_config.device_read_bps.?Rate":   handled(),
	"services.blkio_config.device_read_iops":        handled(),
	"services.blkio_config.device_read_iops.?Path":  handled(),
	"services.blkio_config.device_read_iops.?Rate":  handled(),
	"services.blkio_config.device_write_bps":        handled(),
	"services.blkio_config.device_write_bps.?Path":  handled(),
	"services.blkio_config.device_write_bps.?Rate":  handled(),
	"services.blkio_config.device_write_iops":       handled(),
	"services.blkio_config.device_write_iops.?Path": handled(),
	"services.blkio_config.device_write_iops.?Rate": handled(),
	"services.cap_add":                              handled(),
	"services.cap_drop":                             handled(),
	"services.cgroup_parent":                        handled(),
	"services.cgroup":                               handled(),
	"services.cpu_count":                            handled(),
	"services.cpu_percent":                          handled(),
	"services.cpu_period":                           handled(),
	"services.cpu_quota":                            handled(),
	"services.cpu_rt_period":                        handled(),
	"services.cpu_rt_runtime":                       handled(),
	"services.cpus":                                 handled(),
	"services.cpuset":                               handled(),
	"services.cpu_shares":                           handled(),
	"services.command":                              handled(),
	"services.configs":                              handled(),
	"services.configs.source":                       handled(),
	"services.configs.target":                       handled(),
	"services.configs.uid":                          rejected("a bind-mounted config keeps its file's owner: the CLI ignores uid too"),
	"services.configs.gid":                          rejected("a bind-mounted config keeps its file's group: the CLI ignores gid too"),
	"services.configs.mode":                         rejected("a bind-mounted config keeps its file's mode: the CLI ignores mode too"),
	"services.credential_spec":                      rejected(whyWindows),
	"services.device_cgroup_rules":                  handled(),
	"services.devices":                              handled(),
	"services.devices.source":                       handled(),
	"services.devices.target":                       handled(),
	"services.devices.permissions":                  handled(),
	"services.dns":                                  handled(),
	"services.dns_opt":                              handled(),
	"services.dns_search":                           handled(),
	"services.domainname":                           handled(),
	"services.entrypoint":                           handled(),
	"services.environment":                          handled(),
	"services.env_file":                             asCLI(whyLoader),
	"services.extra_hosts":                          handled(),
	"services.group_add":                            handled(),
	"services.gpus":                                 rejected("GPU device requests need a device driver this engine does not offer"),
	"services.hostname":                             handled(),
	"services.image":                                handled(),
	"services.init":                                 handled(),
	"services.ipc":                                  handled(),
	"services.isolation":                            handled(),
	"services.labels":                               handled(),
	"services.label_file":                           asCLI(whyLoader),
	"services.logging":                              handled(),
	"services.logging.driver":                       handled(),
	"services.logging.options":                      handled(),
	"services.log_driver":                           handled(),
	"services.log_opt":                              handled(),
	"services.mem_limit":                            handled(),
	"services.mem_reservation":                      handled(),
	"services.memswap_limit":                        handled(),
	"services.mem_swappiness":                       handled(),
	"services.mac_address":                          handled(),
	"services.models":                               rejected("AI models need Docker Model Runner, which Dockhand does not drive"),
	"services.network_mode":                         handled(),
	"services.networks":                             handled(),
	"services.networks.aliases":                     handled(),
	"services.networks.driver_opts":                 handled(),
	"services.networks.gw_priority":                 handled(), // checked: API 1.48
	"services.networks.interface_name":              rejected("needs API 1.50 (Docker Engine 28.5)"),
	"services.networks.ipv4_address":                handled(),
	"services.networks.ipv6_address":                handled(),
	"services.networks.link_local_ips":              handled(),
	"services.networks.mac_address":                 handled(), // checked: first network only below API 1.44
	"services.networks.priority":                    handled(),
	"services.networks.use_service_name_alias":      handled(),
	"services.oom_kill_disable":                     handled(),
	"services.oom_score_adj":                        handled(),
	"services.pid":                                  handled(),
	"services.pids_limit":                           handled(),
	"services.platform":                             handled(),
	"services.privileged":                           handled(),
	"services.pull_policy":                          handled(), // checked: no refresh periods
	"services.pull_refresh_after":                   rejected("pull refresh periods are not implemented"),
	"services.read_only":                            handled(),
	"services.runtime":                              handled(),
	"services.secrets":                              handled(),
	"services.secrets.source":                       handled(),
	"services.secrets.target":                       handled(),
	"services.secrets.uid":                          rejected("a bind-mounted secret keeps its file's owner: the CLI ignores uid too"),
	"services.secrets.gid":                          rejected("a bind-mounted secret keeps its file's group: the CLI ignores gid too"),
	"services.secrets.mode":                         rejected("a bind-mounted secret keeps its file's mode: the CLI ignores mode too"),
	"services.security_opt":                         handled(),
	"services.shm_size":                             handled(),
	"services.stop_grace_period":                    handled(),
	"services.stop_signal":                          handled(),
	"services.storage_opt":                          handled(),
	"services.sysctls":                              handled(),
	"services.tmpfs":                                handled(),
	"services.ulimits":                              handled(),
	"services.ulimits.single":                       handled(),
	"services.ulimits.soft":                         handled(),
	"services.ulimits.hard":                         handled(),
	"services.umask":                                rejected("the engine API has no umask setting"),
	"services.use_api_socket":                       rejected("it mounts the engine's socket and the CLI's credentials into the container"),
	"services.user":                                 handled(),
	"services.userns_mode":                          handled(),
	"services.uts":                                  handled(),
	"services.volume_driver":                        handled(),
	"services.volumes":                              handled(),
	"services.volumes.type":                         handled(),
	"services.volumes.source":                       handled(),
	"services.volumes.target":                       handled(),
	"services.volumes.read_only":                    handled(),
	"services.volumes.consistency":                  asCLI("a Docker Desktop for Mac setting: the engine ignores it"),
	"services.volumes.bind":                         handled(),
	"services.volumes.bind.selinux":                 handled(),
	"services.volumes.bind.propagation":             handled(),
	"services.volumes.bind.create_host_path":        handled(),
	"services.volumes.bind.recursive":               handled(), // checked: enabled only
	"services.volumes.volume":                       handled(),
	"services.volumes.volume.labels":                handled(),
	"services.volumes.volume.nocopy":                handled(),
	"services.volumes.volume.subpath":               handled(), // checked: API 1.45
	"services.volumes.tmpfs":                        handled(),
	"services.volumes.tmpfs.size":                   handled(),
	"services.volumes.tmpfs.mode":                   handled(),
	"services.volumes.image":                        rejected("image volumes need API 1.47 (Docker Engine 28)"),
	"services.volumes_from":                         handled(),
	"services.working_dir":                          handled(),
	"services.depends_on":                           handled(),
	"services.depends_on.condition":                 handled(),
	"services.depends_on.restart":                   handled(), // converge restarts kept dependents of a recreated service
	"services.depends_on.required":                  handled(),
	"services.dockerfile":                           rejected("a legacy key: use build.dockerfile"),
	"services.expose":                               handled(),
	"services.healthcheck":                          handled(),
	"services.healthcheck.test":                     handled(),
	"services.healthcheck.timeout":                  handled(),
	"services.healthcheck.interval":                 handled(),
	"services.healthcheck.retries":                  handled(),
	"services.healthcheck.start_period":             handled(),
	"services.healthcheck.start_interval":           handled(), // checked: API 1.44
	"services.healthcheck.disable":                  handled(),
	"services.ports":                                handled(),
	"services.ports.name":                           asCLI("metadata: the CLI does not pass it to the engine"),
	"services.ports.mode":                           asCLI("host or ingress: a swarm setting, the CLI publishes on the host either way"),
	"services.ports.host_ip":                        handled(),
	"services.ports.target":                         handled(),
	"services.ports.published":                      handled(),
	"services.ports.protocol":                       handled(),
	"services.ports.app_protocol":                   asCLI("metadata: the CLI does not pass it to the engine"),
	"services.stdin_open":                           handled(),
	"services.tty":                                  handled(),

	"services.build":                     handled(),
	"services.build.context":             handled(),
	"services.build.dockerfile":          handled(),
	"services.build.dockerfile_inline":   rejected(whyBuildOpts),
	"services.build.entitlements":        rejected("entitlements need BuildKit"),
	"services.build.args":                handled(),
	"services.build.provenance":          rejected("attestations need BuildKit"),
	"services.build.sbom":                rejected("attestations need BuildKit"),
	"services.build.ssh":                 rejected("SSH forwarding needs BuildKit"),
	"services.build.labels":              handled(),
	"services.build.cache_from":          rejected(whyBuildOpts),
	"services.build.cache_to":            rejected("cache export needs BuildKit"),
	"services.build.no_cache":            handled(),
	"services.build.no_cache_filter":     rejected("per-stage cache control needs BuildKit"),
	"services.build.additional_contexts": rejected("additional contexts need BuildKit"),
	"services.build.pull":                rejected(whyBuildOpts),
	"services.build.extra_hosts":         rejected(whyBuildOpts),
	"services.build.isolation":           rejected(whyWindows),
	"services.build.network":             rejected(whyBuildOpts),
	"services.build.target":              handled(),
	"services.build.secrets":             rejected("build secrets need BuildKit"),
	"services.build.shm_size":            rejected(whyBuildOpts),
	"services.build.tags":                handled(),
	"services.build.ulimits":             rejected(whyBuildOpts),
	"services.build.platforms":           rejected("multi-platform builds need BuildKit"),
	"services.build.privileged":          rejected("privileged builds need BuildKit"),
}

// ruleFor is the rule of a key path; x- extension keys (#extensions in
// compose-go) are for tools, at any level: the CLI ignores the ones it
// does not know, and so does Dockhand.
func ruleFor(path string) keyRule {
	if r, ok := keyRules[path]; ok {
		return r
	}
	if path == "#extensions" || strings.HasSuffix(path, ".#extensions") {
		return asCLI("x- extension keys are for tools; the CLI ignores the ones it does not know")
	}
	return keyRule{}
}

// keyError is the error for a key Dockhand does not support.
func keyError(service, key, why string) error {
	if service == "" {
		return invalidf("compose: %s is not supported: %s", key, why)
	}
	return invalidf("compose: service %q: %s is not supported: %s", service, key, why)
}

// checkKeys fails on the first (in name order) service, network, volume,
// secret or config that sets a key Dockhand rejects or does not know, and
// on the values of handled keys that are not supported; the error names
// the service and the key and wraps lifecycle.ErrInvalid. It needs no
// engine: API-version checks come at Up, from the conversion.
func checkKeys(p *types.Project) error {
	top := reflect.ValueOf(p).Elem()
	t := top.Type()
	for i := 0; i < t.NumField(); i++ {
		name, inline, skip := yamlKey(t.Field(i))
		if skip || inline && name == "" || name == "services" {
			continue
		}
		if key, why := firstBadKey(top.Field(i), name, ""); key != "" {
			return keyError("", key, why)
		}
	}
	for _, svcName := range sortedKeys(p.Services) {
		svc := p.Services[svcName]
		if key, why := firstBadKey(reflect.ValueOf(svc), "services", ""); key != "" {
			return keyError(svcName, key, why)
		}
		if err := checkServiceValues(p, svc); err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// yamlKey is a struct field's YAML key; inline for an embedded struct
// (or the #extensions map); skip for fields that are not YAML keys.
func yamlKey(f reflect.StructField) (name string, inline, skip bool) {
	tag := f.Tag.Get("yaml")
	name, opts, _ := strings.Cut(tag, ",")
	if name == "-" || !f.IsExported() {
		return "", false, true
	}
	inline = strings.Contains(opts, "inline")
	if name == "" && !inline {
		name = "?" + f.Name // compose-go gives it no YAML name of its own
	}
	return name, inline, false
}

// firstBadKey walks a value (rule path rulePath, shown path shown) and
// returns the first non-zero key that is rejected or unknown, with why.
func firstBadKey(v reflect.Value, rulePath, shown string) (string, string) {
	if shown == "" {
		shown = strings.TrimPrefix(rulePath, "services.")
		if rulePath == "services" {
			shown = ""
		}
	}
	rule := ruleFor(rulePath)
	if rulePath != "services" && !isZero(v) {
		switch {
		case !rule.known():
			return shown, "Dockhand does not know this key (a newer compose-go?)"
		case rule.isRejected():
			return shown, rule.why
		}
	}
	if rule.stopsWalk() {
		return "", ""
	}
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return "", ""
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if k, why := firstBadKey(v.Index(i), rulePath, fmt.Sprintf("%s[%d]", shown, i)); k != "" {
				return k, why
			}
		}
	case reflect.Map:
		if !isStructy(v.Type().Elem()) {
			return "", ""
		}
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		for _, k := range keys {
			if k, why := firstBadKey(v.MapIndex(k), rulePath, joinShown(shown, fmt.Sprint(k))); k != "" {
				return k, why
			}
		}
	case reflect.Struct:
		return badStructKey(v, rulePath, shown)
	}
	return "", ""
}

func badStructKey(v reflect.Value, rulePath, shown string) (string, string) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name, inline, skip := yamlKey(t.Field(i))
		if skip {
			continue
		}
		if inline && name == "" {
			if v.Field(i).Kind() != reflect.Struct {
				// An inline map: the x- extensions of a type that names
				// them with a bare ",inline" tag (IPAMPool), which compose
				// ignores.
				continue
			}
			if k, why := badStructKey(v.Field(i), rulePath, shown); k != "" {
				return k, why
			}
			continue
		}
		rp := pathOf(rulePath, name)
		sp := joinShown(shown, name)
		if rulePath == "services" && shown == "" {
			sp = name
		}
		if k, why := firstBadKey(v.Field(i), rp, sp); k != "" {
			return k, why
		}
	}
	return "", ""
}

func joinShown(shown, key string) string {
	if shown == "" {
		return key
	}
	return shown + "." + key
}

// isStructy reports whether a type holds keys of its own (a struct,
// possibly behind pointers, slices or maps).
func isStructy(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map || t.Kind() == reflect.Array {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct
}

func isZero(v reflect.Value) bool {
	if !v.IsValid() || v.IsZero() {
		return true
	}
	switch v.Kind() {
	case reflect.Slice, reflect.Map:
		return v.Len() == 0
	}
	return false
}

// checkServiceValues rejects values of handled keys that Dockhand does
// not support, before any engine call.
func checkServiceValues(p *types.Project, svc types.ServiceConfig) error {
	bad := func(key, format string, args ...any) error {
		return keyError(svc.Name, key, fmt.Sprintf(format, args...))
	}
	switch svc.PullPolicy {
	case "", types.PullPolicyAlways, types.PullPolicyNever, types.PullPolicyMissing, types.PullPolicyIfNotPresent, types.PullPolicyBuild:
	default:
		return bad("pull_policy", "%q: refresh periods (daily, weekly, every_<duration>) are not implemented; want always, never, missing or build", svc.PullPolicy)
	}
	if svc.Deploy != nil && svc.Deploy.Mode != "" && svc.Deploy.Mode != "replicated" {
		return bad("deploy.mode", "%q: only replicated services run on a single engine", svc.Deploy.Mode)
	}
	for _, mode := range []struct{ key, value string }{{"uts", svc.Uts}, {"cgroup", svc.Cgroup}} {
		if strings.HasPrefix(mode.value, "service:") {
			return bad(mode.key, "%q: the engine cannot share this namespace with another container (the CLI passes it on and the engine refuses it)", mode.value)
		}
	}
	for i, v := range svc.Volumes {
		switch v.Type {
		case "", types.VolumeTypeBind, types.VolumeTypeVolume, types.VolumeTypeTmpfs:
		default:
			return bad(fmt.Sprintf("volumes[%d].type", i), "%q: want bind, volume or tmpfs (npipe is for Windows, cluster for swarm, image needs API 1.47)", v.Type)
		}
		if v.Bind != nil && v.Bind.Recursive != "" && v.Bind.Recursive != "enabled" {
			return bad(fmt.Sprintf("volumes[%d].bind.recursive", i), "%q needs API 1.44 (Docker Engine 25); want enabled", v.Bind.Recursive)
		}
	}
	for i, s := range svc.Secrets {
		obj, ok := p.Secrets[s.Source]
		if err := checkFileObject(svc.Name, fmt.Sprintf("secrets[%d]", i), "secrets", s.Source, types.FileObjectConfig(obj), ok); err != nil {
			return err
		}
	}
	for i, c := range svc.Configs {
		obj, ok := p.Configs[c.Source]
		if err := checkFileObject(svc.Name, fmt.Sprintf("configs[%d]", i), "configs", c.Source, types.FileObjectConfig(obj), ok); err != nil {
			return err
		}
	}
	for _, mode := range []struct{ key, value string }{{"network_mode", svc.NetworkMode}, {"ipc", svc.Ipc}, {"pid", svc.Pid}} {
		if ref, ok := strings.CutPrefix(mode.value, "service:"); ok {
			if _, known := p.Services[ref]; !known {
				return bad(mode.key, "%q names no service of the project", mode.value)
			}
		}
	}
	for i, vf := range svc.VolumesFrom {
		if strings.HasPrefix(vf, "container:") {
			continue
		}
		ref, _, _ := strings.Cut(vf, ":")
		if _, known := p.Services[ref]; !known {
			return bad(fmt.Sprintf("volumes_from[%d]", i), "%q names no service of the project (use container:NAME for a container)", vf)
		}
	}
	return nil
}

// checkFileObject checks a service's reference to a top-level secret or
// config: it must exist and be file-based.
func checkFileObject(service, key, kind, source string, obj types.FileObjectConfig, declared bool) error {
	if !declared {
		return keyError(service, key, fmt.Sprintf("%q is not declared in the top-level %s section", source, kind))
	}
	if obj.File == "" {
		return keyError(service, key, fmt.Sprintf("%q is not file-based: only file: %s are supported", source, kind))
	}
	return nil
}
