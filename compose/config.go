package compose

import (
	"bytes"
	"fmt"
)

type configSettings struct {
	format   string
	services []string
}

// WithFormat chooses the document Config renders (config --format):
// "yaml" (the default) or "json".
func WithFormat(format string) ConfigOption {
	return &option{name: "WithFormat", verbs: configVerb, cfg: func(s *configSettings) error {
		switch format {
		case "yaml", "json":
			s.format = format
			return nil
		}
		return invalidf("compose: WithFormat(%q): want \"yaml\" or \"json\"", format)
	}}
}

// Config renders the project as docker compose config prints it: the
// model loaded, interpolated and normalised (default network, resolved
// paths, env_file merged into environment), without the networks,
// volumes, secrets and configs no enabled service uses, each '$' of a
// value escaped as "$$" so that the document loads back to the same
// project, as YAML (WithFormat("json") for config --format json).
// For a project from Load the bytes equal those docker compose config
// v5.6 prints for the same files, project name, directory and variables;
// v2.40 prints the same model with its keys in another order, other
// quotes, and bind.create_host_path: true on short-syntax bind mounts.
// The document holds the services' environment values, as the CLI's
// does: treat it as a secret when they are.
//
// WithServices narrows it to these services and their dependencies, as
// docker compose config svc... does; a service disabled by its profile
// is enabled by naming it, as with the CLI.
//
// Config only renders the project the stack holds: it neither talks to
// the engine nor blocks, so it takes no context, and a Stack made with
// New(nil, p) serves it. The env_file entries a service still lists (in
// a project not made by Load, or of a service WithServices enables) are
// read and merged into its environment here, as the CLI does. Two
// services with the same container_name fail it. Its errors show no
// secret, as those of the other verbs: a value an env_file quotes in an
// error is hidden.
func (s *Stack) Config(opts ...ConfigOption) (out []byte, err error) {
	defer scrub(&err)
	set, err := applyOpts("Config", opts, ConfigOption.applyConfig)
	if err != nil {
		return nil, err
	}
	if set.format == "" {
		set.format = "yaml"
	}
	if s == nil || s.p == nil {
		return nil, invalidf("compose: Config: no project: make the Stack with New and a loaded project")
	}
	if err := s.checkNamed("config", set.services); err != nil {
		return nil, err
	}
	// The CLI's steps after loading, in its order (config.go and
	// ToProject of docker/compose): enable what is named, narrow to it,
	// drop unused resources, resolve the environment, check names. Each
	// returns a copy: the stack's project is left as it is.
	p, err := s.p.WithServicesEnabled(set.services...)
	if err != nil {
		return nil, fmt.Errorf("compose %s: config: %w", s.p.Name, err)
	}
	if p, err = p.WithSelectedServices(set.services); err != nil {
		return nil, fmt.Errorf("compose %s: config: %w", s.p.Name, err)
	}
	p = p.WithoutUnnecessaryResources()
	if p, err = resolveEnv(p); err != nil {
		return nil, fmt.Errorf("compose %s: config: %w", s.p.Name, err)
	}
	if err := p.CheckContainerNameUnicity(); err != nil {
		return nil, fmt.Errorf("compose %s: config: %w", s.p.Name, err)
	}
	if set.format == "json" {
		out, err = p.MarshalJSON()
	} else {
		out, err = p.MarshalYAML()
	}
	if err != nil {
		return nil, fmt.Errorf("compose %s: config: %w", s.p.Name, err)
	}
	// Interpolation is done: a '$' left is literal, and is written the
	// way the compose file spells a literal '$'.
	return bytes.ReplaceAll(out, []byte("$"), []byte("$$")), nil
}
