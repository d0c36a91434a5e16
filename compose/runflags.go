package compose

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/format"
	"github.com/compose-spec/compose-go/v2/types"
)

// WithEntrypoint overrides the service's entrypoint in a one-off
// container (run --entrypoint), as lifecycle.WithEntrypoint does; with no
// arguments it clears it.
func WithEntrypoint(args ...string) RunOption {
	return &option{name: "WithEntrypoint", verbs: run, run: func(s *runSettings) error {
		if len(args) > 0 && args[0] == "" {
			return invalidf("compose: WithEntrypoint: empty program name: want a program to run")
		}
		s.entrypoint, s.entrypointSet = append([]string{}, args...), true
		return nil
	}}
}

// WithUser runs a one-off container as user (name, uid or uid:gid; run -u),
// as lifecycle.WithUser.
func WithUser(user string) RunOption {
	return &option{name: "WithUser", verbs: run, run: func(s *runSettings) error {
		if user == "" {
			return invalidf("compose: WithUser: empty user: want a name, uid or uid:gid")
		}
		s.user = user
		return nil
	}}
}

// WithWorkdir sets a one-off container's working directory (run -w),
// which must be absolute, as lifecycle.WithWorkdir.
func WithWorkdir(dir string) RunOption {
	return &option{name: "WithWorkdir", verbs: run, run: func(s *runSettings) error {
		if !strings.HasPrefix(dir, "/") {
			return invalidf("compose: WithWorkdir(%q): want an absolute path", dir)
		}
		s.workdir = dir
		return nil
	}}
}

// WithVolumes adds mounts to a one-off container in the compose short
// syntax (run -v): "/host/path:/path[:ro]", "./rel:/path" (relative to the
// project's working directory), "volume:/path[:ro]" for a volume the
// project declares, "/path" for an anonymous volume.
func WithVolumes(specs ...string) RunOption {
	return &option{name: "WithVolumes", verbs: run, run: func(s *runSettings) error {
		for _, spec := range specs {
			v, err := format.ParseVolume(spec)
			if err != nil {
				return invalidf("compose: WithVolumes(%q): %v: want [SOURCE:]TARGET[:MODE]", spec, err)
			}
			if v.Target == "" || !strings.HasPrefix(v.Target, "/") {
				return invalidf("compose: WithVolumes(%q): want an absolute target path", spec)
			}
			s.volumes = append(s.volumes, v)
		}
		return nil
	}}
}

// WithServicePorts publishes the service's ports on the one-off container
// (run --service-ports), which Run otherwise leaves unpublished.
func WithServicePorts() RunOption {
	return &option{name: "WithServicePorts", verbs: run, run: func(s *runSettings) error { s.servicePorts = true; return nil }}
}

// applyRunFlags applies WithEntrypoint, WithUser, WithWorkdir and
// WithVolumes to the one-off container's copy of the service; a named
// volume must be one the project declares.
func (s *Stack) applyRunFlags(one *types.ServiceConfig, set *runSettings) error {
	if set.entrypointSet {
		one.Entrypoint = set.entrypoint
	}
	if set.user != "" {
		one.User = set.user
	}
	if set.workdir != "" {
		one.WorkingDir = set.workdir
	}
	if len(set.volumes) == 0 {
		return nil
	}
	vols := append([]types.ServiceVolumeConfig{}, one.Volumes...) // the project's service must not change
	for _, v := range set.volumes {
		switch {
		case v.Type == types.VolumeTypeBind && !filepath.IsAbs(v.Source):
			v.Source = filepath.Join(s.p.WorkingDir, v.Source)
		case v.Type == types.VolumeTypeVolume && v.Source != "":
			if _, ok := s.p.Volumes[v.Source]; !ok {
				return invalidf("compose %s: WithVolumes: volume %q is not declared in the project (volumes: %v)", s.p.Name, v.Source, slices.Sorted(maps.Keys(s.p.Volumes)))
			}
		}
		vols = append(vols, v)
	}
	one.Volumes = vols
	return nil
}
