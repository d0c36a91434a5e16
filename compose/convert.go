package compose

import (
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/versions"
	"github.com/docker/go-connections/nat"
	units "github.com/docker/go-units"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// imageName is the image a service runs: image:, or project-service for a
// service that is only built (the CLI's default name).
func imageName(p *types.Project, svc types.ServiceConfig) string {
	if svc.Image != "" {
		return svc.Image
	}
	return p.Name + "-" + svc.Name
}

// containerName is project-service-N, or container_name.
func containerName(p *types.Project, svc types.ServiceConfig, n int) string {
	if svc.ContainerName != "" {
		return svc.ContainerName
	}
	return fmt.Sprintf("%s-%s-%d", p.Name, svc.Name, n)
}

// replicas is scale:, else deploy.replicas, else 1.
func replicas(svc types.ServiceConfig) int {
	if svc.Scale != nil {
		return *svc.Scale
	}
	if svc.Deploy != nil && svc.Deploy.Replicas != nil {
		return *svc.Deploy.Replicas
	}
	return 1
}

// createSpec is everything ContainerCreate needs, plus the networks to
// connect before start (API < 1.44 takes only one network at create).
type createSpec struct {
	cfg      *container.Config
	host     *container.HostConfig
	net      *network.NetworkingConfig
	extra    []extraNet
	platform *ocispec.Platform // platform:, for the engine to pick the image's variant
}

type extraNet struct {
	name string
	ep   *network.EndpointSettings
}

type convertOptions struct {
	apiVersion string
	// networkContainer resolves network_mode: service:NAME to a container id
	// (Up resolves service references before, see resolveServiceRefs).
	networkContainer func(service string) (string, error)
	// serviceContainerNames lists a service's container names, for links:.
	serviceContainerNames func(service string) ([]string, error)
}

// apiAtLeast reports whether the engine's API version is at least v. An
// unknown version (unit tests) counts as new enough.
func (o convertOptions) apiAtLeast(v string) bool {
	return o.apiVersion == "" || versions.GreaterThanOrEqualTo(o.apiVersion, v)
}

// needAPI is the error for a key the engine's API version cannot honour.
func (o convertOptions) needAPI(svc types.ServiceConfig, key, version, engine string) error {
	return invalidf("compose: service %q: %s needs API %s (Docker Engine %s); this engine speaks API %s",
		svc.Name, key, version, engine, o.apiVersion)
}

// toCreate turns a service into the engine's create request for replica n.
func toCreate(p *types.Project, svc types.ServiceConfig, n int, labels map[string]string, o convertOptions) (*createSpec, error) {
	if err := checkServiceAPI(svc, o); err != nil {
		return nil, err
	}
	var spec0 createSpec
	exposed, bindings, err := ports(svc)
	if err != nil {
		return nil, fmt.Errorf("service %s: %w", svc.Name, err)
	}
	cfg := &container.Config{
		Hostname:     svc.Hostname,
		Domainname:   svc.DomainName,
		User:         svc.User,
		ExposedPorts: exposed,
		Tty:          svc.Tty,
		OpenStdin:    svc.StdinOpen,
		Env:          envList(svc.Environment),
		Image:        imageName(p, svc),
		WorkingDir:   svc.WorkingDir,
		Labels:       labels,
		StopSignal:   svc.StopSignal,
	}
	if svc.Command != nil {
		cfg.Cmd = []string(svc.Command)
	}
	if svc.Entrypoint != nil {
		cfg.Entrypoint = []string(svc.Entrypoint)
		if len(svc.Entrypoint) == 0 {
			cfg.Entrypoint = []string{""} // entrypoint: [] clears the image's
		}
	}
	if svc.StopGracePeriod != nil {
		secs := int(time.Duration(*svc.StopGracePeriod).Seconds())
		cfg.StopTimeout = &secs
	}
	if hc := svc.HealthCheck; hc != nil {
		cfg.Healthcheck = healthConfig(hc, o.apiVersion)
	}
	if svc.NetworkMode == "disabled" {
		cfg.NetworkDisabled = true
	}
	if svc.Platform != "" {
		pl, err := parsePlatform(svc.Platform)
		if err != nil {
			return nil, invalidf("compose: service %q: platform %q: want os/arch[/variant]", svc.Name, svc.Platform)
		}
		if o.apiAtLeast("1.41") {
			spec0.platform = pl
		}
	}
	hc := &container.HostConfig{
		PortBindings:   bindings,
		RestartPolicy:  restartPolicy(svc),
		CapAdd:         svc.CapAdd,
		CapDrop:        svc.CapDrop,
		DNS:            svc.DNS,
		DNSSearch:      svc.DNSSearch,
		DNSOptions:     svc.DNSOpts,
		ExtraHosts:     svc.ExtraHosts.AsList(":"),
		GroupAdd:       svc.GroupAdd,
		IpcMode:        container.IpcMode(svc.Ipc),
		PidMode:        container.PidMode(svc.Pid),
		UTSMode:        container.UTSMode(svc.Uts),
		UsernsMode:     container.UsernsMode(svc.UserNSMode),
		Privileged:     svc.Privileged,
		ReadonlyRootfs: svc.ReadOnly,
		CgroupnsMode:   container.CgroupnsMode(svc.Cgroup),
		VolumeDriver:   svc.VolumeDriver,
		ShmSize:        int64(svc.ShmSize),
		Sysctls:        svc.Sysctls,
		Runtime:        svc.Runtime,
		Init:           svc.Init,
		OomScoreAdj:    int(svc.OomScoreAdj),
		Isolation:      container.Isolation(svc.Isolation),
		StorageOpt:     svc.StorageOpt,
		VolumesFrom:    volumesFrom(p, svc),
	}
	hc.Resources = resources(svc)
	if err := devices(svc, &hc.Resources); err != nil {
		return nil, err
	}
	var unconfined bool
	if hc.SecurityOpt, unconfined, err = securityOpts(svc, p.WorkingDir); err != nil {
		return nil, err
	}
	if unconfined { // systempaths=unconfined, as the CLI sends it
		hc.MaskedPaths, hc.ReadonlyPaths = []string{}, []string{}
	}
	if len(svc.Annotations) > 0 {
		hc.Annotations = svc.Annotations
	}
	if hc.Links, err = links(p, svc, n, o); err != nil {
		return nil, err
	}
	switch {
	case svc.Logging != nil:
		hc.LogConfig = container.LogConfig{Type: svc.Logging.Driver, Config: svc.Logging.Options}
	case svc.LogDriver != "" || len(svc.LogOpt) > 0:
		hc.LogConfig = container.LogConfig{Type: svc.LogDriver, Config: svc.LogOpt}
	}
	if len(svc.Tmpfs) > 0 {
		hc.Tmpfs = map[string]string{}
		for _, t := range svc.Tmpfs {
			path, opts, _ := strings.Cut(t, ":")
			hc.Tmpfs[path] = opts
		}
	}
	binds, mounts, err := volumes(p, svc)
	if err != nil {
		return nil, err
	}
	files, err := fileMounts(p, svc)
	if err != nil {
		return nil, err
	}
	hc.Binds, hc.Mounts = binds, append(mounts, files...)
	spec := &createSpec{cfg: cfg, host: hc, platform: spec0.platform}
	if err := networking(p, svc, n, spec, o); err != nil {
		return nil, err
	}
	if len(hc.Links) > 0 {
		// On a user network the engine reads the endpoint's links: like
		// the CLI, every endpoint has them, those connected after create too.
		if spec.net != nil {
			for _, ep := range spec.net.EndpointsConfig {
				ep.Links = hc.Links
			}
		}
		for _, en := range spec.extra {
			en.ep.Links = hc.Links
		}
	}
	if err := macAddresses(p, svc, spec, o); err != nil {
		return nil, err
	}
	return spec, nil
}

// volumesFrom is HostConfig.VolumesFrom: each volumes_from entry as
// resolved (a container ID or name, as the hash has it, see refs.go) with
// the mode of the compose file's entry, which the engine needs.
func volumesFrom(p *types.Project, svc types.ServiceConfig) []string {
	if len(svc.VolumesFrom) == 0 {
		return nil
	}
	orig := svc.VolumesFrom
	if ps, ok := p.Services[svc.Name]; ok && len(ps.VolumesFrom) == len(orig) {
		orig = ps.VolumesFrom
	}
	out := make([]string, 0, len(orig))
	for i, vf := range svc.VolumesFrom {
		ref, mode, _ := strings.Cut(strings.TrimPrefix(orig[i], "container:"), ":")
		if vf == orig[i] { // not resolved
			vf = ref
		}
		if mode != "" {
			vf += ":" + mode
		}
		out = append(out, vf)
	}
	return out
}

func envList(m types.MappingWithEquals) []string {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if v != nil {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k+"="+*m[k])
	}
	return out
}

func healthConfig(h *types.HealthCheckConfig, apiVersion string) *container.HealthConfig {
	if h.Disable {
		return &container.HealthConfig{Test: []string{"NONE"}}
	}
	out := &container.HealthConfig{Test: h.Test}
	if h.Interval != nil {
		out.Interval = time.Duration(*h.Interval)
	}
	if h.Timeout != nil {
		out.Timeout = time.Duration(*h.Timeout)
	}
	if h.StartPeriod != nil {
		out.StartPeriod = time.Duration(*h.StartPeriod)
	}
	// start_interval needs API 1.44 (engine 25); older engines reject it.
	if h.StartInterval != nil && apiVersion != "" && versions.GreaterThanOrEqualTo(apiVersion, "1.44") {
		out.StartInterval = time.Duration(*h.StartInterval)
	}
	if h.Retries != nil {
		out.Retries = int(*h.Retries)
	}
	return out
}

// restartPolicy is restart:, unless deploy.restart_policy is set: it wins,
// as with the CLI (condition any is always, none is no).
func restartPolicy(svc types.ServiceConfig) container.RestartPolicy {
	name, max, _ := strings.Cut(svc.Restart, ":")
	rp := container.RestartPolicy{Name: container.RestartPolicyMode(name)}
	if max != "" {
		rp.MaximumRetryCount, _ = strconv.Atoi(max)
	}
	if svc.Restart == "" {
		rp.Name = container.RestartPolicyDisabled
	}
	if svc.Deploy != nil && svc.Deploy.RestartPolicy != nil {
		d := svc.Deploy.RestartPolicy
		rp = container.RestartPolicy{Name: container.RestartPolicyMode(d.Condition)}
		switch d.Condition {
		case "any":
			rp.Name = container.RestartPolicyAlways
		case "none", "":
			rp.Name = container.RestartPolicyDisabled
		}
		if d.MaxAttempts != nil {
			rp.MaximumRetryCount = int(*d.MaxAttempts)
		}
	}
	return rp
}

func resources(svc types.ServiceConfig) container.Resources {
	r := container.Resources{
		Memory:             int64(svc.MemLimit),
		MemoryReservation:  int64(svc.MemReservation),
		MemorySwap:         int64(svc.MemSwapLimit),
		NanoCPUs:           int64(svc.CPUS * 1e9),
		CPUShares:          svc.CPUShares,
		CPUQuota:           svc.CPUQuota,
		CPUPeriod:          svc.CPUPeriod,
		CpusetCpus:         svc.CPUSet,
		CgroupParent:       svc.CgroupParent,
		CPUCount:           svc.CPUCount,
		CPUPercent:         int64(svc.CPUPercent),
		CPURealtimePeriod:  svc.CPURTPeriod,
		CPURealtimeRuntime: svc.CPURTRuntime,
		DeviceCgroupRules:  svc.DeviceCgroupRules,
	}
	if svc.MemSwappiness != 0 {
		sw := int64(svc.MemSwappiness)
		r.MemorySwappiness = &sw
	}
	blkio(svc.BlkioConfig, &r)
	if svc.PidsLimit != 0 {
		pl := svc.PidsLimit
		r.PidsLimit = &pl
	}
	if svc.OomKillDisable {
		t := true
		r.OomKillDisable = &t
	}
	if svc.Deploy != nil && svc.Deploy.Resources.Limits != nil {
		l := svc.Deploy.Resources.Limits
		if l.MemoryBytes != 0 {
			r.Memory = int64(l.MemoryBytes)
		}
		if l.NanoCPUs != 0 {
			r.NanoCPUs = int64(float64(l.NanoCPUs) * 1e9)
		}
		if l.Pids != 0 {
			pl := l.Pids
			r.PidsLimit = &pl
		}
	}
	if svc.Deploy != nil && svc.Deploy.Resources.Reservations != nil && svc.Deploy.Resources.Reservations.MemoryBytes != 0 {
		r.MemoryReservation = int64(svc.Deploy.Resources.Reservations.MemoryBytes)
	}
	for name, u := range svc.Ulimits {
		if u == nil {
			continue
		}
		soft, hard := int64(u.Soft), int64(u.Hard)
		if u.Single != 0 {
			soft, hard = int64(u.Single), int64(u.Single)
		}
		r.Ulimits = append(r.Ulimits, &units.Ulimit{Name: name, Soft: soft, Hard: hard})
	}
	sort.Slice(r.Ulimits, func(i, j int) bool { return r.Ulimits[i].Name < r.Ulimits[j].Name })
	return r
}

// ports publishes ports: and exposes expose:. A port without host_ip is
// left without one: lifecycle gives it the client's bind address (or all
// interfaces, with WithAllInterfaces) when it creates the container.
func ports(svc types.ServiceConfig) (nat.PortSet, nat.PortMap, error) {
	exposed := nat.PortSet{}
	bindings := nat.PortMap{}
	for _, p := range svc.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = "tcp"
		}
		port, err := nat.NewPort(proto, strconv.Itoa(int(p.Target)))
		if err != nil {
			return nil, nil, fmt.Errorf("invalid port %d/%s: %w", p.Target, proto, err)
		}
		exposed[port] = struct{}{}
		bindings[port] = append(bindings[port], nat.PortBinding{HostIP: p.HostIP, HostPort: p.Published})
	}
	for _, e := range svc.Expose {
		proto := "tcp"
		num, pr, ok := strings.Cut(e, "/")
		if ok {
			proto = pr
		}
		port, err := nat.NewPort(proto, num)
		if err != nil {
			return nil, nil, fmt.Errorf("invalid expose %q: %w", e, err)
		}
		exposed[port] = struct{}{}
	}
	if len(exposed) == 0 {
		return nil, nil, nil
	}
	return exposed, bindings, nil
}

// volumes turns volumes: into binds (bind mounts, so a missing host
// directory is created as the CLI does) and mounts (volumes, tmpfs).
func volumes(p *types.Project, svc types.ServiceConfig) ([]string, []mount.Mount, error) {
	var binds []string
	var mounts []mount.Mount
	for _, v := range svc.Volumes {
		switch v.Type {
		case types.VolumeTypeBind:
			src := v.Source
			if v.Bind != nil && !bool(v.Bind.CreateHostPath) {
				m := mount.Mount{Type: mount.TypeBind, Source: src, Target: v.Target, ReadOnly: v.ReadOnly}
				if v.Bind.Propagation != "" {
					m.BindOptions = &mount.BindOptions{Propagation: mount.Propagation(v.Bind.Propagation)}
				}
				mounts = append(mounts, m)
				continue
			}
			opts := []string{}
			if v.ReadOnly {
				opts = append(opts, "ro")
			}
			if v.Bind != nil && v.Bind.SELinux != "" {
				opts = append(opts, v.Bind.SELinux)
			}
			if v.Bind != nil && v.Bind.Propagation != "" {
				opts = append(opts, v.Bind.Propagation)
			}
			b := src + ":" + v.Target
			if len(opts) > 0 {
				b += ":" + strings.Join(opts, ",")
			}
			binds = append(binds, b)
		case types.VolumeTypeVolume, "":
			src := v.Source
			if src != "" {
				vol, ok := p.Volumes[src]
				if !ok {
					return nil, nil, fmt.Errorf("service %s: volume %q is not declared in the top-level volumes section", svc.Name, src)
				}
				if vol.Name != "" {
					src = vol.Name
				}
			}
			m := mount.Mount{Type: mount.TypeVolume, Source: src, Target: v.Target, ReadOnly: v.ReadOnly}
			if vo := v.Volume; vo != nil && (vo.NoCopy || vo.Subpath != "" || len(vo.Labels) > 0) {
				m.VolumeOptions = &mount.VolumeOptions{NoCopy: vo.NoCopy, Subpath: vo.Subpath, Labels: vo.Labels}
			}
			mounts = append(mounts, m)
		case types.VolumeTypeTmpfs:
			m := mount.Mount{Type: mount.TypeTmpfs, Target: v.Target, ReadOnly: v.ReadOnly}
			if v.Tmpfs != nil {
				m.TmpfsOptions = &mount.TmpfsOptions{SizeBytes: int64(v.Tmpfs.Size)}
				if v.Tmpfs.Mode != 0 {
					m.TmpfsOptions.Mode = fs.FileMode(v.Tmpfs.Mode)
				}
			}
			mounts = append(mounts, m)
		default:
			return nil, nil, fmt.Errorf("service %s: volume type %q is not supported", svc.Name, v.Type)
		}
	}
	return binds, mounts, nil
}

// networking sets the network mode and endpoints. The service name is
// always an alias on each of its networks, as with the CLI.
func networking(p *types.Project, svc types.ServiceConfig, n int, spec *createSpec, o convertOptions) error {
	if svc.NetworkMode != "" {
		mode := svc.NetworkMode
		if mode == "disabled" {
			mode = "none" // with Config.NetworkDisabled, as the CLI
		}
		if name, ok := strings.CutPrefix(mode, "service:"); ok {
			if o.networkContainer == nil {
				return fmt.Errorf("service %s: network_mode %s: no container", svc.Name, mode)
			}
			id, err := o.networkContainer(name)
			if err != nil {
				return fmt.Errorf("service %s: network_mode %s: %w", svc.Name, mode, err)
			}
			mode = "container:" + id
		}
		spec.host.NetworkMode = container.NetworkMode(mode)
		return nil
	}
	if len(p.Networks) == 0 {
		spec.host.NetworkMode = "none"
		return nil
	}
	keys := svc.NetworksByPriority()
	if len(svc.Networks) == 0 {
		keys = []string{"default"}
	}
	for i, key := range keys {
		nw, ok := p.Networks[key]
		if !ok {
			return fmt.Errorf("service %s: network %q is not declared in the top-level networks section", svc.Name, key)
		}
		name := nw.Name
		if name == "" {
			name = p.Name + "_" + key
		}
		ep := &network.EndpointSettings{}
		cfg := svc.Networks[key]
		if cfg.ServiceNameAliasEnabled() {
			ep.Aliases = append(ep.Aliases, svc.Name)
		}
		if cfg != nil {
			ep.Aliases = append(ep.Aliases, cfg.Aliases...)
			if cfg.Ipv4Address != "" || cfg.Ipv6Address != "" || len(cfg.LinkLocalIPs) > 0 {
				ep.IPAMConfig = &network.EndpointIPAMConfig{IPv4Address: cfg.Ipv4Address, IPv6Address: cfg.Ipv6Address, LinkLocalIPs: cfg.LinkLocalIPs}
			}
			ep.DriverOpts = cfg.DriverOpts
			ep.GwPriority = cfg.GatewayPriority
		}
		if i == 0 {
			spec.host.NetworkMode = container.NetworkMode(name)
			spec.net = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{name: ep}}
			continue
		}
		if o.apiVersion != "" && versions.GreaterThanOrEqualTo(o.apiVersion, "1.44") {
			spec.net.EndpointsConfig[name] = ep
			continue
		}
		spec.extra = append(spec.extra, extraNet{name: name, ep: ep})
	}
	return nil
}
