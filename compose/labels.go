package compose

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/compose-spec/compose-go/v2/types"
)

// Labels the docker compose CLI records on containers, networks and
// volumes. Stacks started by this package carry them too, so docker
// compose ps/down/logs see them, and Down finds stacks the CLI started.
const (
	LabelProject         = "com.docker.compose.project"
	LabelService         = "com.docker.compose.service"
	LabelContainerNumber = "com.docker.compose.container-number"
	LabelOneoff          = "com.docker.compose.oneoff"
	LabelConfigHash      = "com.docker.compose.config-hash"
	LabelWorkingDir      = "com.docker.compose.project.working_dir"
	LabelConfigFiles     = "com.docker.compose.project.config_files"
	LabelEnvironmentFile = "com.docker.compose.project.environment_file"
	LabelDependsOn       = "com.docker.compose.depends_on"
	LabelImage           = "com.docker.compose.image"
	LabelVersion         = "com.docker.compose.version"
	LabelNetwork         = "com.docker.compose.network"
	LabelVolume          = "com.docker.compose.volume"
	LabelSlug            = "com.docker.compose.slug"
	LabelReplace         = "com.docker.compose.replace"
)

// ComposeVersion is the value of the com.docker.compose.version label. It
// names the compose CLI release whose behaviour (names, labels, config
// hash) this package follows.
const ComposeVersion = "2.40.3"

// ServiceHash returns the configuration hash of a service as docker
// compose computes it for the com.docker.compose.config-hash label: the
// SHA-256 of the service's JSON form with the fields that do not need a
// new container cleared (build, pull_policy, scale, deploy.replicas,
// depends_on, profiles). Up recreates a container whose label differs.
// Two differences can make it disagree with a given CLI release: the
// JSON form is compose-go's, and a newer compose-go may know fields an
// older one does not (only when the file uses them, as they are omitted
// when empty).
func ServiceHash(s types.ServiceConfig) (string, error) {
	s.Build = nil
	s.PullPolicy = ""
	s.Scale = nil
	if s.Deploy != nil {
		d := *s.Deploy // a copy: the project's service must not change
		d.Replicas = nil
		s.Deploy = &d
	}
	s.DependsOn = nil
	s.Profiles = nil
	b, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// networkHash is the CLI's hash of a network's configuration.
func networkHash(n types.NetworkConfig) (string, error) {
	b, err := json.Marshal(n)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// volumeHash is the CLI's hash of a volume's configuration (driver
// defaulting to local).
func volumeHash(v types.VolumeConfig) (string, error) {
	if v.Driver == "" {
		v.Driver = "local"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
