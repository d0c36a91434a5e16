package compose

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/dockhand/dockhand/internal/redact"
)

// LoadOption configures Load.
type LoadOption func(*loadConfig) error

type loadConfig struct {
	files      []string
	workingDir string
	name       string
	env        []string
	envFiles   []string
	profiles   []string
	noOSEnv    bool
}

// WithFiles names the compose files, merged in order (base first, then
// overrides), as docker compose -f a.yaml -f b.yaml. Without it Load
// discovers compose.yaml, compose.yml, docker-compose.yml or
// docker-compose.yaml (and the matching override file) in the working
// directory or its parents, or takes COMPOSE_FILE.
func WithFiles(paths ...string) LoadOption {
	return func(c *loadConfig) error {
		for _, p := range paths {
			if p == "" {
				return fmt.Errorf("compose: WithFiles: empty file name")
			}
		}
		c.files = append(c.files, paths...)
		return nil
	}
}

// WithWorkingDir sets the project directory (docker compose
// --project-directory): relative paths, .env and the default project
// name are taken from it. By default it is the directory of the first file.
func WithWorkingDir(dir string) LoadOption {
	return func(c *loadConfig) error { c.workingDir = dir; return nil }
}

// WithProjectName sets the project name (docker compose -p). It wins over
// COMPOSE_PROJECT_NAME, the top-level name: and the directory name. It
// must already be normalised: lowercase letters, digits, '-' and '_',
// starting with a letter or digit.
func WithProjectName(name string) LoadOption {
	return func(c *loadConfig) error { c.name = name; return nil }
}

// WithVariables adds variables for interpolating the compose files
// (${VAR}), as "KEY=VALUE" strings. They win over the process environment
// and the .env file. (A one-off container's environment is WithEnv.)
func WithVariables(kv ...string) LoadOption {
	return func(c *loadConfig) error {
		if err := checkEnv("WithVariables", kv); err != nil {
			return err
		}
		c.env = append(c.env, kv...)
		return nil
	}
}

// WithVariablesMap adds variables for interpolation from a map; see WithVariables.
func WithVariablesMap(m map[string]string) LoadOption {
	return func(c *loadConfig) error {
		for k, v := range m {
			if k == "" {
				return invalidf("compose: WithVariablesMap: empty variable name")
			}
			c.env = append(c.env, k+"="+v)
		}
		return nil
	}
}

// WithEnvFiles reads interpolation variables from these files instead of
// the project directory's .env (docker compose --env-file).
func WithEnvFiles(paths ...string) LoadOption {
	return func(c *loadConfig) error { c.envFiles = append(c.envFiles, paths...); return nil }
}

// WithProfiles enables profiles (docker compose --profile). Without it,
// COMPOSE_PROFILES is read as the CLI does. "*" enables every profile.
func WithProfiles(profiles ...string) LoadOption {
	return func(c *loadConfig) error { c.profiles = append(c.profiles, profiles...); return nil }
}

// WithoutOSEnv keeps the process environment out of interpolation and of
// the project name (COMPOSE_PROJECT_NAME, COMPOSE_FILE, COMPOSE_PROFILES):
// only WithVariables and the .env file count. The CLI always reads the process
// environment; so does Load by default.
func WithoutOSEnv() LoadOption {
	return func(c *loadConfig) error { c.noOSEnv = true; return nil }
}

// Load loads a compose project with the compose specification's loading
// rules (github.com/compose-spec/compose-go/v2), in the order the docker
// compose CLI applies them: explicit variables, then the process
// environment, then the .env file for interpolation; COMPOSE_FILE and
// default file discovery; merging of several files; extends; profiles;
// project name from WithProjectName, COMPOSE_PROJECT_NAME, the top-level
// name: or the project directory's name (normalised). An invalid file
// fails with compose-go's message, which names the file and the key.
//
// A key Dockhand does not support fails Load with an error naming the
// service and the key, wrapping lifecycle.ErrInvalid (see the package
// documentation): nothing in the file is silently ignored.
//
// The services carry the labels the CLI records on containers
// (ServiceConfig.CustomLabels), so a Stack made from this project is
// recognised by docker compose ps/down.
func Load(ctx context.Context, opts ...LoadOption) (*types.Project, error) {
	var cfg loadConfig
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("compose: Load: nil LoadOption")
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	po := []cli.ProjectOptionsFn{
		// As the CLI: paths resolved, environment resolved after loading
		// (env_file merged into environment and discarded), which is
		// the form the config hash is computed on.
		cli.WithResolvedPaths(true),
		cli.WithoutEnvironmentResolution,
		cli.WithWorkingDirectory(cfg.workingDir),
		cli.WithEnv(cfg.env), // explicit variables first: nothing overrides them
	}
	if !cfg.noOSEnv {
		po = append(po, cli.WithOsEnv)
		if _, ok := os.LookupEnv("PWD"); !ok {
			if wd, err := os.Getwd(); err == nil {
				po = append(po, cli.WithEnv([]string{"PWD=" + wd}))
			}
		}
	}
	po = append(po,
		cli.WithEnvFiles(cfg.envFiles...),
		cli.WithDotEnv,
		cli.WithConfigFileEnv,
		cli.WithDefaultConfigPath,
		// The project directory may only be known now: read its .env too.
		cli.WithEnvFiles(cfg.envFiles...),
		cli.WithDotEnv,
		cli.WithDefaultProfiles(cfg.profiles...),
		cli.WithName(cfg.name),
	)
	options, err := cli.NewProjectOptions(cfg.files, po...)
	if err != nil {
		return nil, fmt.Errorf("compose: load: %w", scrubLoadErr(err, cfg, nil))
	}
	if len(options.ConfigPaths) == 0 {
		wd, _ := options.GetWorkingDir()
		return nil, fmt.Errorf("compose: load: no configuration file provided: none of %s found in %s or its parents",
			strings.Join(cli.DefaultFileNames, ", "), wd)
	}
	p, err := options.LoadProject(ctx)
	if err != nil {
		return nil, fmt.Errorf("compose: load: %w", scrubLoadErr(err, cfg, options.Environment))
	}
	env := p.Environment
	if p, err = p.WithServicesEnvironmentResolved(true); err != nil {
		return nil, fmt.Errorf("compose: load: %w", scrubLoadErr(err, cfg, env))
	}
	if p.Name == "" {
		return nil, errors.New("compose: load: project name is empty: use WithProjectName")
	}
	for name, s := range p.Services {
		s.CustomLabels = cliLabels(p, name, cfg.envFiles)
		p.Services[name] = s
	}
	for name, s := range p.DisabledServices {
		s.CustomLabels = cliLabels(p, name, cfg.envFiles)
		p.DisabledServices[name] = s
	}
	// No key silently ignored: what Dockhand cannot do fails here.
	if err := checkKeys(p); err != nil {
		return nil, err
	}
	return p, nil
}

// scrubLoadErr hides secrets in an error of compose-go, which may quote a
// line of a .env or env_file ("unterminated quoted value ...", "unexpected
// character ... in variable name ..."), a template of the compose file
// ("Invalid template: ...") or a value: the rest of such a line is hidden,
// as is the message of a ${VAR:?message} in a .env or env_file ("failed
// to read FILE: required variable VAR is missing a value: message"),
// interpolated with the file's own variables and the service's
// environment; then the values of secret-named variables known to Load
// (explicit, from the environment, from .env) and anything
// internal/redact recognises. The result prints the scrubbed text and
// wraps err for errors.Is and errors.As.
func scrubLoadErr(err error, cfg loadConfig, env map[string]string) error {
	msg := hideEnvFileReasons(err.Error())
	for _, marker := range []string{"unterminated quoted value", "in variable name", "Invalid template:"} {
		for from := 0; ; {
			i := strings.Index(msg[from:], marker)
			if i < 0 {
				break
			}
			start := from + i + len(marker)
			end := strings.IndexByte(msg[start:], '\n')
			if end < 0 {
				end = len(msg)
			} else {
				end += start
			}
			msg = msg[:start] + " " + redact.Mask + msg[end:]
			from = start + 1 + len(redact.Mask)
		}
	}
	var secrets []string
	add := func(k, v string) {
		if redact.IsSecretName(k) {
			secrets = append(secrets, v)
		}
	}
	for _, kv := range cfg.env {
		k, v, _ := strings.Cut(kv, "=")
		add(k, v)
	}
	if !cfg.noOSEnv {
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			add(k, v)
		}
	}
	for k, v := range env {
		add(k, v)
	}
	return redact.ErrorMessage(err, redact.Values(msg, secrets...))
}

// hideEnvFileReasons hides, on each line of msg that reports a .env or
// env_file it could not read, the message of a missing required variable.
func hideEnvFileReasons(msg string) string {
	const read, missing = "failed to read ", "is missing a value:"
	lines := strings.Split(msg, "\n")
	for i, line := range lines {
		r := strings.Index(line, read)
		if r < 0 {
			continue
		}
		if m := strings.Index(line[r:], missing); m >= 0 {
			lines[i] = line[:r+m+len(missing)] + " " + redact.Mask
		}
	}
	return strings.Join(lines, "\n")
}

// cliLabels are the labels docker compose sets on every service's containers.
func cliLabels(p *types.Project, service string, envFiles []string) types.Labels {
	l := types.Labels{
		LabelProject:     p.Name,
		LabelService:     service,
		LabelVersion:     ComposeVersion,
		LabelWorkingDir:  p.WorkingDir,
		LabelConfigFiles: strings.Join(p.ComposeFiles, ","),
		LabelOneoff:      "False",
	}
	if len(envFiles) > 0 {
		l[LabelEnvironmentFile] = strings.Join(envFiles, ",")
	}
	return l
}
