package compose

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"sort"
	"strings"

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
// hash) this package follows: the current one, docker compose v5.
const ComposeVersion = "5.6.0"

// LegacyComposeVersion is the previous compose CLI release whose config
// hash Up still accepts as unchanged: docker compose v2.40.
const LegacyComposeVersion = "2.40.3"

// ServiceHash returns the configuration hash of a service as docker
// compose v5 (ComposeVersion) computes it for the
// com.docker.compose.config-hash label: the SHA-256 of the service's JSON
// form with the fields that do not need a new container cleared (build,
// pull_policy, scale, deploy.replicas, depends_on, profiles), its
// top-level keys in the CLI's fixed order. Up writes this hash and
// recreates a container whose label is neither this hash nor the one
// docker compose v2.40 (LegacyComposeVersion) writes for the same
// service, so stacks made by either CLI release are kept.
//
// The two releases encode a service differently: v2.40 hashes the JSON of
// its own compose-go release (v2.9.1), which writes create_host_path on
// binds and env_file's required even when true; v5 hashes the JSON of
// the compose-go this module uses, with the top-level key order pinned.
func ServiceHash(s types.ServiceConfig) (string, error) {
	b, err := v5JSON(trimHashFields(s))
	if err != nil {
		return "", err
	}
	return hexSHA256(b), nil
}

// legacyServiceHash is the hash docker compose v2.40 writes for s.
func legacyServiceHash(s types.ServiceConfig) (string, error) {
	b, err := cliJSON(trimHashFields(s))
	if err != nil {
		return "", err
	}
	return hexSHA256(b), nil
}

// configUnchanged reports whether a container's config-hash label is the
// hash of svc as either CLI release writes it (hash is ServiceHash(svc)).
func configUnchanged(label string, svc types.ServiceConfig, hash string) bool {
	if label == hash {
		return true
	}
	legacy, err := legacyServiceHash(svc)
	return err == nil && label == legacy
}

// trimHashFields clears what both CLI releases leave out of the hash.
func trimHashFields(s types.ServiceConfig) types.ServiceConfig {
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
	return s
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// cliFieldOrder is the order of types.ServiceConfig's JSON fields in the
// compose-go release docker compose v2.40 is built with; keys it does not
// list follow in sorted order.
var cliFieldOrder = strings.Fields(`profiles annotations attach build develop
	blkio_config cap_add cap_drop cgroup_parent cgroup cpu_count cpu_percent
	cpu_period cpu_quota cpu_rt_period cpu_rt_runtime cpus cpuset cpu_shares
	command configs container_name credential_spec depends_on deploy
	device_cgroup_rules devices dns dns_opt dns_search dockerfile domainname
	entrypoint provider environment env_file expose extends external_links
	extra_hosts group_add gpus hostname healthcheck image init ipc isolation
	labels label_file links logging log_driver log_opt mem_limit
	mem_reservation memswap_limit mem_swappiness mac_address models net
	network_mode networks oom_kill_disable oom_score_adj pid pids_limit
	platform ports privileged pull_policy read_only restart runtime scale
	secrets security_opt shm_size stdin_open stop_grace_period stop_signal
	storage_opt sysctls tmpfs tty ulimits use_api_socket user userns_mode uts
	volume_driver volumes volumes_from working_dir post_start pre_stop`)

// v5FieldOrder is the top-level key order docker compose v5 pins for the
// hash: v2.40's, with pre_start before post_start and pull_refresh_after
// last; keys it does not list follow in sorted order.
var v5FieldOrder = func() []string {
	var out []string
	for _, k := range cliFieldOrder {
		if k == "post_start" {
			out = append(out, "pre_start")
		}
		out = append(out, k)
	}
	return append(out, "pull_refresh_after")
}()

// v5JSON encodes a service as docker compose v5 does for the hash: the
// plain JSON of each value, the top-level keys in v5FieldOrder.
func v5JSON(s types.ServiceConfig) ([]byte, error) {
	raw, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	fields := map[string]json.RawMessage{}
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, err
	}
	return orderedJSON(fields, v5FieldOrder), nil
}

// Older encodings of the two types whose empty-value rules changed.
type cliBind struct {
	SELinux        string `json:"selinux,omitempty"`
	Propagation    string `json:"propagation,omitempty"`
	CreateHostPath bool   `json:"create_host_path,omitempty"`
	Recursive      string `json:"recursive,omitempty"`
}

type cliVolume struct {
	Type        string                     `json:"type,omitempty"`
	Source      string                     `json:"source,omitempty"`
	Target      string                     `json:"target,omitempty"`
	ReadOnly    bool                       `json:"read_only,omitempty"`
	Consistency string                     `json:"consistency,omitempty"`
	Bind        *cliBind                   `json:"bind,omitempty"`
	Volume      *types.ServiceVolumeVolume `json:"volume,omitempty"`
	Tmpfs       *types.ServiceVolumeTmpfs  `json:"tmpfs,omitempty"`
	Image       *types.ServiceVolumeImage  `json:"image,omitempty"`
}

type cliEnvFile struct {
	Path     string `json:"path,omitempty"`
	Required bool   `json:"required"`
	Format   string `json:"format,omitempty"`
}

// cliJSON encodes a service as the CLI's compose-go does.
func cliJSON(s types.ServiceConfig) ([]byte, error) {
	raw, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	fields := map[string]json.RawMessage{}
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, err
	}
	if len(s.Volumes) > 0 {
		vols := make([]cliVolume, len(s.Volumes))
		for i, v := range s.Volumes {
			vols[i] = cliVolume{Type: v.Type, Source: v.Source, Target: v.Target, ReadOnly: v.ReadOnly,
				Consistency: v.Consistency, Volume: v.Volume, Tmpfs: v.Tmpfs, Image: v.Image}
			if v.Bind != nil {
				vols[i].Bind = &cliBind{SELinux: v.Bind.SELinux, Propagation: v.Bind.Propagation,
					CreateHostPath: bool(v.Bind.CreateHostPath), Recursive: v.Bind.Recursive}
			}
		}
		if fields["volumes"], err = json.Marshal(vols); err != nil {
			return nil, err
		}
	}
	if len(s.EnvFiles) > 0 {
		files := make([]cliEnvFile, len(s.EnvFiles))
		for i, f := range s.EnvFiles {
			files[i] = cliEnvFile{Path: f.Path, Required: bool(f.Required), Format: f.Format}
		}
		if fields["env_file"], err = json.Marshal(files); err != nil {
			return nil, err
		}
	}
	return orderedJSON(fields, cliFieldOrder), nil
}

// orderedJSON writes a JSON object of fields, the keys in order first,
// then the others sorted.
func orderedJSON(fields map[string]json.RawMessage, order []string) []byte {
	var buf bytes.Buffer
	buf.WriteByte('{')
	emit := func(k string) {
		if buf.Len() > 1 {
			buf.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(fields[k])
	}
	seen := map[string]bool{}
	for _, k := range order {
		if _, ok := fields[k]; ok && !seen[k] {
			seen[k] = true
			emit(k)
		}
	}
	rest := make([]string, 0, len(fields))
	for k := range fields {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		emit(k)
	}
	buf.WriteByte('}')
	return buf.Bytes()
}

// networkHash is the hash docker compose v5 (ComposeVersion) writes in the
// com.docker.compose.config-hash label of a network: the SHA-256 of the
// network's JSON form, which includes its name (<project>_<key> unless
// the file names it).
func networkHash(n types.NetworkConfig) (string, error) {
	b, err := json.Marshal(n)
	if err != nil {
		return "", err
	}
	return hexSHA256(b), nil
}

// legacyNetworkHash is the hash docker compose v2.40 writes for n: its
// compose-go release (v2.9.1) has no ipam.options field, so they are
// accepted in the file but take no part in its JSON form; otherwise the
// two releases encode a network alike.
func legacyNetworkHash(n types.NetworkConfig) (string, error) {
	n.Ipam.Options = nil
	return networkHash(n)
}

// networkUnchanged reports whether a network's config-hash label is the
// hash of n as either CLI release writes it (hash is networkHash(n)), so
// Up keeps a network either release made. have are the IPAM options the
// engine keeps for the network: v2.40's hash leaves ipam.options out (and
// v2.40 creates the network without them), so its hash counts only when
// the network has exactly the options the file asks for; otherwise the
// network lacks them and is changed.
func networkUnchanged(label string, n types.NetworkConfig, hash string, have map[string]string) bool {
	if label == hash {
		return true
	}
	legacy, err := legacyNetworkHash(n)
	return err == nil && label == legacy && maps.Equal(have, n.Ipam.Options)
}

// volumeHash is the hash both CLI releases write in the
// com.docker.compose.config-hash label of a volume: the SHA-256 of the
// volume's JSON form (which includes its name) with the driver defaulting
// to local.
func volumeHash(v types.VolumeConfig) (string, error) {
	if v.Driver == "" {
		v.Driver = "local"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return hexSHA256(b), nil
}
