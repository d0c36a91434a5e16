package compose

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/blkiodev"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The conversion of the keys docker compose turns into container settings
// beyond the common ones of toCreate: devices, blkio_config, secrets and
// configs, security_opt seccomp files, platform and MAC addresses.

// parsePlatform parses os/arch[/variant].
func parsePlatform(s string) (*ocispec.Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return nil, fmt.Errorf("invalid platform %q", s)
	}
	pl := &ocispec.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		pl.Variant = parts[2]
	}
	return pl, nil
}

// devices maps devices: as HOST[:CONTAINER[:PERMISSIONS]] device mappings.
// CDI device names (vendor.com/class=name) need a CDI-enabled engine
// (API 1.45): rejected.
func devices(svc types.ServiceConfig, r *container.Resources) error {
	for i, d := range svc.Devices {
		if d.Source == d.Target && strings.Contains(d.Source, "=") && !strings.HasPrefix(d.Source, "/") {
			return invalidf("compose: service %q: devices[%d] %q: CDI devices are not supported (they need API 1.45 and a CDI-enabled engine)", svc.Name, i, d.Source)
		}
		perms := d.Permissions
		if perms == "" {
			perms = "rwm"
		}
		r.Devices = append(r.Devices, container.DeviceMapping{PathOnHost: d.Source, PathInContainer: d.Target, CgroupPermissions: perms})
	}
	return nil
}

// blkio maps blkio_config to the engine's block I/O settings.
func blkio(b *types.BlkioConfig, r *container.Resources) {
	if b == nil {
		return
	}
	r.BlkioWeight = b.Weight
	for _, w := range b.WeightDevice {
		r.BlkioWeightDevice = append(r.BlkioWeightDevice, &blkiodev.WeightDevice{Path: w.Path, Weight: w.Weight})
	}
	throttle := func(in []types.ThrottleDevice) []*blkiodev.ThrottleDevice {
		var out []*blkiodev.ThrottleDevice
		for _, t := range in {
			out = append(out, &blkiodev.ThrottleDevice{Path: t.Path, Rate: uint64(t.Rate)})
		}
		return out
	}
	r.BlkioDeviceReadBps = throttle(b.DeviceReadBps)
	r.BlkioDeviceReadIOps = throttle(b.DeviceReadIOps)
	r.BlkioDeviceWriteBps = throttle(b.DeviceWriteBps)
	r.BlkioDeviceWriteIOps = throttle(b.DeviceWriteIOps)
}

// securityOpts passes security_opt on, with a seccomp profile file
// (seccomp=PATH or seccomp:PATH, relative to the project directory) read
// and sent as its compact JSON, as the CLI does: the engine cannot read
// the client's files. systempaths=unconfined is no engine option: like the
// CLI, it is dropped and reported as unconfined, for the caller to set
// MaskedPaths and ReadonlyPaths to empty lists. An option with neither
// "=" nor ":" (other than no-new-privileges) is an error.
func securityOpts(svc types.ServiceConfig, workingDir string) (opts []string, unconfined bool, err error) {
	if len(svc.SecurityOpt) == 0 {
		return nil, false, nil
	}
	out := make([]string, 0, len(svc.SecurityOpt))
	for _, opt := range svc.SecurityOpt {
		if opt == "systempaths=unconfined" {
			unconfined = true
			continue
		}
		key, val, ok := strings.Cut(opt, "=")
		if !ok {
			key, val, ok = strings.Cut(opt, ":")
		}
		if !ok && opt != "no-new-privileges" {
			return nil, false, invalidf("compose: service %q: security_opt %q: want KEY=VALUE, KEY:VALUE or no-new-privileges", svc.Name, opt)
		}
		if !ok || key != "seccomp" || val == "unconfined" || val == "builtin" {
			out = append(out, opt)
			continue
		}
		path := val
		if !filepath.IsAbs(path) && workingDir != "" {
			path = filepath.Join(workingDir, path)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, false, invalidf("compose: service %q: security_opt %q: read the seccomp profile: %v", svc.Name, opt, err)
		}
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return nil, false, invalidf("compose: service %q: security_opt %q: the seccomp profile %s is not JSON: %v", svc.Name, opt, path, err)
		}
		out = append(out, "seccomp="+b.String())
	}
	return out, unconfined, nil
}

// fileMounts mounts file-based secrets (at /run/secrets/NAME, or target:
// an absolute path, or a name under /run/secrets) and configs (at /NAME,
// or target) read-only, as the CLI does on a single engine.
func fileMounts(p *types.Project, svc types.ServiceConfig) ([]mount.Mount, error) {
	var out []mount.Mount
	for i, s := range svc.Secrets {
		obj, ok := p.Secrets[s.Source]
		if err := checkFileObject(svc.Name, fmt.Sprintf("secrets[%d]", i), "secrets", s.Source, types.FileObjectConfig(obj), ok); err != nil {
			return nil, err
		}
		target := s.Target
		switch {
		case target == "":
			target = "/run/secrets/" + s.Source
		case !strings.HasPrefix(target, "/"):
			target = "/run/secrets/" + target
		}
		m, err := fileMount(svc.Name, "secret", s.Source, obj.File, target)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	for i, c := range svc.Configs {
		obj, ok := p.Configs[c.Source]
		if err := checkFileObject(svc.Name, fmt.Sprintf("configs[%d]", i), "configs", c.Source, types.FileObjectConfig(obj), ok); err != nil {
			return nil, err
		}
		target := c.Target
		switch {
		case target == "":
			target = "/" + c.Source
		case !strings.HasPrefix(target, "/"):
			target = "/" + target
		}
		m, err := fileMount(svc.Name, "config", c.Source, obj.File, target)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// fileMount is a read-only bind mount of a secret's or config's file. A
// missing file fails before any engine call (the engine would create a
// directory in its place).
func fileMount(service, kind, name, file, target string) (mount.Mount, error) {
	if _, err := os.Stat(file); err != nil {
		return mount.Mount{}, invalidf("compose: service %q: %s %q: file %s: %v", service, kind, name, file, err)
	}
	return mount.Mount{Type: mount.TypeBind, Source: file, Target: target, ReadOnly: true}, nil
}

// macAddresses sets mac_address (the service's, or its networks'). Below
// API 1.44 the engine takes one MAC address, for the primary network,
// in the container config; a MAC on another network needs API 1.44.
func macAddresses(p *types.Project, svc types.ServiceConfig, spec *createSpec, o convertOptions) error {
	if spec.net == nil || len(spec.net.EndpointsConfig) == 0 {
		if svc.MacAddress != "" {
			//lint:ignore SA1019 the pre-1.44 field, as the CLI sets it for older engines
			spec.cfg.MacAddress = svc.MacAddress
		}
		return nil
	}
	keys := svc.NetworksByPriority()
	if len(svc.Networks) == 0 {
		keys = []string{"default"}
	}
	primary := ""
	if cfg := svc.Networks[keys[0]]; cfg != nil {
		primary = cfg.MacAddress
	}
	if svc.MacAddress != "" && primary != "" && svc.MacAddress != primary {
		return invalidf("compose: service %q: mac_address %s and networks.%s.mac_address %s differ", svc.Name, svc.MacAddress, keys[0], primary)
	}
	if primary == "" {
		primary = svc.MacAddress
	}
	if !o.apiAtLeast("1.44") {
		if primary != "" {
			//lint:ignore SA1019 the pre-1.44 field, as the CLI sets it for older engines
			spec.cfg.MacAddress = primary
		}
		return nil
	}
	for i, key := range keys {
		mac := ""
		if cfg := svc.Networks[key]; cfg != nil {
			mac = cfg.MacAddress
		}
		if i == 0 {
			mac = primary
		}
		if mac == "" {
			continue
		}
		name := p.Networks[key].Name
		if name == "" {
			name = p.Name + "_" + key
		}
		if ep := spec.net.EndpointsConfig[name]; ep != nil {
			ep.MacAddress = mac
		}
		for _, en := range spec.extra {
			if en.name == name {
				en.ep.MacAddress = mac
			}
		}
	}
	return nil
}

// checkServiceAPI fails on keys the engine's API version cannot honour,
// naming the key and the version needed, as the CLI does for
// healthcheck.start_interval. Up runs it for every service before any
// engine call that changes something; toCreate again.
func checkServiceAPI(svc types.ServiceConfig, o convertOptions) error {
	if hc := svc.HealthCheck; hc != nil && hc.StartInterval != nil {
		if !o.apiAtLeast("1.44") {
			return o.needAPI(svc, "healthcheck.start_interval", "1.44", "25")
		}
		if hc.StartPeriod == nil {
			return invalidf("compose: service %q: healthcheck.start_interval requires healthcheck.start_period", svc.Name)
		}
	}
	if len(svc.Annotations) > 0 && !o.apiAtLeast("1.43") {
		return o.needAPI(svc, "annotations", "1.43", "24")
	}
	for i, v := range svc.Volumes {
		if v.Volume != nil && v.Volume.Subpath != "" && !o.apiAtLeast("1.45") {
			return o.needAPI(svc, fmt.Sprintf("volumes[%d].volume.subpath", i), "1.45", "26")
		}
	}
	keys := svc.NetworksByPriority()
	for i, key := range keys {
		cfg := svc.Networks[key]
		if cfg == nil {
			continue
		}
		if cfg.GatewayPriority != 0 && !o.apiAtLeast("1.48") {
			return o.needAPI(svc, "networks."+key+".gw_priority", "1.48", "28")
		}
		if i > 0 && cfg.MacAddress != "" && !o.apiAtLeast("1.44") {
			return o.needAPI(svc, "networks."+key+".mac_address (not the primary network)", "1.44", "25")
		}
	}
	return nil
}

// precheck runs, for every service in name order, the checks of the
// conversion that need no container: the engine's API version
// (checkServiceAPI), the files of secrets, configs and seccomp profiles,
// devices and platform. Up runs it before it pulls, builds or creates
// anything, so such a mistake leaves nothing behind.
func precheck(p *types.Project, o convertOptions) error {
	for _, name := range sortedKeys(p.Services) {
		svc := p.Services[name]
		if err := checkServiceAPI(svc, o); err != nil {
			return err
		}
		if _, err := fileMounts(p, svc); err != nil {
			return err
		}
		if _, _, err := securityOpts(svc, p.WorkingDir); err != nil {
			return err
		}
		if err := devices(svc, &container.Resources{}); err != nil {
			return err
		}
		if svc.Platform != "" {
			if _, err := parsePlatform(svc.Platform); err != nil {
				return invalidf("compose: service %q: platform %q: want os/arch[/variant]", svc.Name, svc.Platform)
			}
		}
	}
	return nil
}
