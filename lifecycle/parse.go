package lifecycle

import (
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/go-connections/nat"
)

const portForm = "[host-ip:][host-port:]container-port[/tcp|udp|sctp]"

// parsePorts parses one -p spec, filling an empty host address with defaultIP.
func parsePorts(spec, defaultIP string) ([]nat.PortMapping, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, invalidf("invalid port spec %q: want %s", spec, portForm)
	}
	// nat.ParsePortSpec accepts too much (e.g. "80:80:80:tcp" becomes an IP
	// of "80"); check the host address ourselves.
	body, proto, _ := strings.Cut(spec, "/")
	if strings.Contains(proto, "/") {
		return nil, invalidf("invalid port spec %q: want %s", spec, portForm)
	}
	if proto != "" && proto != "tcp" && proto != "udp" && proto != "sctp" {
		return nil, invalidf("invalid port spec %q: unknown protocol %q, want tcp, udp or sctp", spec, proto)
	}
	if i := strings.LastIndex(body, ":"); i >= 0 {
		if j := strings.LastIndex(body[:i], ":"); j >= 0 {
			ip := strings.Trim(body[:j], "[]")
			if _, err := netip.ParseAddr(ip); err != nil {
				return nil, invalidf("invalid port spec %q: host address %q is not an IP address; want %s", spec, ip, portForm)
			}
		}
	}
	maps, err := nat.ParsePortSpec(spec)
	if err != nil {
		return nil, invalidf("invalid port spec %q: %v; want %s", spec, err, portForm)
	}
	for i := range maps {
		if maps[i].Port.Int() == 0 {
			return nil, invalidf("invalid port spec %q: container port must be 1-65535; want %s", spec, portForm)
		}
		if maps[i].Binding.HostIP == "" {
			maps[i].Binding.HostIP = defaultIP
		}
	}
	return maps, nil
}

// portSet turns port specs into the engine's exposed ports and bindings.
func portSet(specs []string, defaultIP string) (nat.PortSet, nat.PortMap, error) {
	exposed, bindings := nat.PortSet{}, nat.PortMap{}
	for _, s := range specs {
		maps, err := parsePorts(s, defaultIP)
		if err != nil {
			return nil, nil, err
		}
		for _, m := range maps {
			exposed[m.Port] = struct{}{}
			bindings[m.Port] = append(bindings[m.Port], m.Binding)
		}
	}
	return exposed, bindings, nil
}

// normPort turns "80", "80/udp" into the engine's "80/tcp" form.
func normPort(p string) (nat.Port, error) {
	num, proto, _ := strings.Cut(p, "/")
	if proto == "" {
		proto = "tcp"
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || n > 65535 || (proto != "tcp" && proto != "udp" && proto != "sctp") {
		return "", invalidf("invalid container port %q: want port[/tcp|udp|sctp], port 1-65535", p)
	}
	return nat.Port(strconv.Itoa(n) + "/" + proto), nil
}

const volumeForm = "name:/path[:ro], /host/path:/path[:ro] or /path"

// parseVolume parses a docker run -v spec into a mount.
func parseVolume(spec string) (mount.Mount, error) {
	parts := strings.Split(spec, ":")
	m := mount.Mount{}
	switch len(parts) {
	case 1:
		m.Type, m.Target = mount.TypeVolume, parts[0]
	case 2, 3:
		m.Source, m.Target = parts[0], parts[1]
		if len(parts) == 3 {
			for _, o := range strings.Split(parts[2], ",") {
				switch o {
				case "ro", "readonly":
					m.ReadOnly = true
				case "rw", "z", "Z", "":
				default:
					return m, invalidf("invalid volume spec %q: unknown mode %q, want ro or rw; want %s", spec, o, volumeForm)
				}
			}
		}
		switch {
		case m.Source == "":
			return m, invalidf("invalid volume spec %q: empty source; want %s", spec, volumeForm)
		case strings.HasPrefix(m.Source, "/") || strings.HasPrefix(m.Source, "."):
			abs, err := filepath.Abs(m.Source)
			if err != nil {
				return m, invalidf("invalid volume spec %q: %v", spec, err)
			}
			m.Type, m.Source = mount.TypeBind, abs
		default:
			if !validName(m.Source) {
				return m, invalidf("invalid volume spec %q: volume name %q must match [a-zA-Z0-9][a-zA-Z0-9_.-]*; want %s", spec, m.Source, volumeForm)
			}
			m.Type = mount.TypeVolume
		}
	default:
		return m, invalidf("invalid volume spec %q: want %s", spec, volumeForm)
	}
	if !strings.HasPrefix(m.Target, "/") {
		return m, invalidf("invalid volume spec %q: container path %q must be absolute; want %s", spec, m.Target, volumeForm)
	}
	return m, nil
}

// parseRestart parses a restart policy as docker run --restart does.
func parseRestart(p string) (container.RestartPolicy, error) {
	name, count, hasCount := strings.Cut(p, ":")
	rp := container.RestartPolicy{Name: container.RestartPolicyMode(name)}
	switch name {
	case "no", "always", "unless-stopped":
		if hasCount {
			return rp, invalidf("invalid restart policy %q: only on-failure takes a retry count", p)
		}
	case "on-failure":
		if hasCount {
			n, err := strconv.Atoi(count)
			if err != nil || n < 0 {
				return rp, invalidf("invalid restart policy %q: retry count %q must be a number >= 0", p, count)
			}
			rp.MaximumRetryCount = n
		}
	default:
		return rp, invalidf("invalid restart policy %q: want no, always, unless-stopped, on-failure or on-failure:N", p)
	}
	return rp, nil
}

// parseRef validates an image reference and returns it normalised
// (busybox -> docker.io/library/busybox:latest).
func parseRef(ref string) (reference.Named, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return nil, &classified{
			msg:   "invalid image reference " + strconvQuote(ref) + ": want [registry/]name[:tag][@digest], lowercase, e.g. postgres:17-alpine",
			class: ErrInvalid, cause: err,
		}
	}
	return reference.TagNameOnly(named), nil
}

func strconvQuote(s string) string { return strconv.Quote(s) }

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
