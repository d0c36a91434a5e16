package lifecycle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/docker/cli/cli/config"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/pkg/jsonmessage"
	"github.com/moby/go-archive"
	"github.com/moby/patternmatcher/ignorefile"
	"github.com/moby/term"

	"github.com/dockhand/dockhand/internal/redact"
)

// PullPolicy says when Run pulls its image.
type PullPolicy int

const (
	PullMissing PullPolicy = iota // pull only if the image is not present (default)
	PullAlways                    // always pull, to get the newest image for the tag
	PullNever                     // never pull; fail if the image is not present
)

// Progress is one message of a pull, push or build stream.
type Progress struct {
	ID      string // layer id or "" for the whole operation
	Status  string // "Downloading", "Pull complete", "Step 2/5 : RUN ...", ...
	Current int64  // bytes done, when known
	Total   int64  // bytes in all, when known
}

// Credentials authenticate to a registry. They never appear in logs or errors.
type Credentials struct {
	Username string
	Password string
}

// String hides the password.
func (c Credentials) String() string { return c.Username + ":" + redact.Mask }

// GoString hides the password from %#v as well.
func (c Credentials) GoString() string {
	return fmt.Sprintf("lifecycle.Credentials{Username:%q, Password:%q}", c.Username, redact.Mask)
}

// MarshalJSON hides the password from JSON: {"username":...,"password":"xxxxx"}.
func (c Credentials) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}{c.Username, redact.Mask})
}

// LogValue hides the password from log/slog: a group of username and a
// masked password.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("username", c.Username), slog.String("password", redact.Mask))
}

// Image describes a local image.
type Image struct {
	ID       string
	Tags     []string
	Size     int64
	Labels   map[string]string
	Platform string    // "linux/amd64", "linux/arm/v7": os/architecture[/variant]
	Created  time.Time // zero when the image does not record it
	// Entrypoint and Cmd are what a container of the image runs unless
	// told otherwise (ENTRYPOINT, CMD).
	Entrypoint, Cmd []string
	// Volumes are the container paths the image declares as volumes
	// (VOLUME), sorted: a container gets an anonymous volume at each one
	// that no mount of its own has as its destination (a mount on a
	// parent directory does not count).
	Volumes []string
}

// Pull pulls an image by reference ("postgres:17-alpine",
// "127.0.0.1:5000/team/app@sha256:..."), with credentials from the docker
// CLI configuration (config.json, credential helpers) unless WithAuth is given.
func (c *Client) Pull(ctx context.Context, ref string, opts ...PullOption) error {
	s, err := applyOpts("Pull", opts, PullOption.applyPull)
	if err != nil {
		return err
	}
	named, err := parseRef(ref)
	if err != nil {
		return err
	}
	return c.pull(ctx, named, s)
}

func (c *Client) pull(ctx context.Context, named reference.Named, s *imageSettings) error {
	ref := reference.FamiliarString(named)
	auth, err := c.registryAuth(named, s.auth)
	if err != nil {
		return err
	}
	c.logger.Debug("pulling image", "image", ref)
	rc, err := c.api.ImagePull(ctx, named.String(), image.PullOptions{RegistryAuth: auth, Platform: s.platform})
	if err != nil {
		return c.opErr(err, "pull %s", ref)
	}
	defer rc.Close()
	if err := c.stream(rc, s, nil); err != nil {
		return c.opErr(err, "pull %s", ref)
	}
	return nil
}

// Push pushes a local image to its registry.
func (c *Client) Push(ctx context.Context, ref string, opts ...PushOption) error {
	s, err := applyOpts("Push", opts, PushOption.applyPush)
	if err != nil {
		return err
	}
	named, err := parseRef(ref)
	if err != nil {
		return err
	}
	ref = reference.FamiliarString(named)
	auth, err := c.registryAuth(named, s.auth)
	if err != nil {
		return err
	}
	if auth == "" {
		// The engine wants a header even for registries that need no auth.
		auth, _ = registry.EncodeAuthConfig(registry.AuthConfig{})
	}
	c.logger.Debug("pushing image", "image", ref)
	rc, err := c.api.ImagePush(ctx, named.String(), image.PushOptions{RegistryAuth: auth})
	if err != nil {
		return c.opErr(err, "push %s", ref)
	}
	defer rc.Close()
	if err := c.stream(rc, s, nil); err != nil {
		// An engine of API 1.41 reports a missing local image inside the
		// stream, with no class: ask for the image to tell.
		if _, ierr := c.api.ImageInspect(ctx, named.String()); cerrdefs.IsNotFound(ierr) {
			return &classified{msg: fmt.Sprintf("push %s: no such local image", ref), class: ErrNotFound,
				cause: errors.Join(err, ierr), quiet: true}
		}
		return c.opErr(err, "push %s", ref)
	}
	return nil
}

// Tag gives the image src the additional reference dst (docker tag).
func (c *Client) Tag(ctx context.Context, src, dst string) error {
	if src == "" {
		return invalidf("invalid source image %q: want an image reference or id", src)
	}
	named, err := parseRef(dst)
	if err != nil {
		return err
	}
	if err := c.api.ImageTag(ctx, src, named.String()); err != nil {
		return c.opErr(err, "tag %s as %s", src, dst)
	}
	return nil
}

// RemoveImage removes an image by reference or id (docker rmi). An image
// used by a container fails with an error wrapping ErrConflict that names
// the container, unless WithForce is given.
func (c *Client) RemoveImage(ctx context.Context, ref string, opts ...RemoveImageOption) error {
	s, err := applyOpts("RemoveImage", opts, RemoveImageOption.applyRemoveImage)
	if err != nil {
		return err
	}
	if ref == "" {
		return invalidf("invalid image %q: want an image reference or id", ref)
	}
	if _, err := c.api.ImageRemove(ctx, ref, image.RemoveOptions{Force: s.force, PruneChildren: true}); err != nil {
		return c.lookupErr(err, "remove image %s", ref)
	}
	return nil
}

// InspectImage returns a local image, or an error wrapping ErrNotFound.
func (c *Client) InspectImage(ctx context.Context, ref string) (*Image, error) {
	if ref == "" {
		return nil, invalidf("invalid image %q: want an image reference or id", ref)
	}
	ii, err := c.api.ImageInspect(ctx, ref)
	if err != nil {
		return nil, c.lookupErr(err, "inspect image %s", ref)
	}
	img := &Image{ID: ii.ID, Tags: ii.RepoTags, Size: ii.Size}
	if ii.Os != "" || ii.Architecture != "" {
		img.Platform = ii.Os + "/" + ii.Architecture
	}
	if img.Platform != "" && ii.Variant != "" {
		img.Platform += "/" + ii.Variant
	}
	if ii.Created != "" {
		img.Created, _ = time.Parse(time.RFC3339Nano, ii.Created) // an unreadable time stays zero
	}
	if ii.Config != nil {
		img.Labels = ii.Config.Labels
		img.Entrypoint, img.Cmd = ii.Config.Entrypoint, ii.Config.Cmd
		img.Volumes = slices.Sorted(maps.Keys(ii.Config.Volumes))
	}
	return img, nil
}

// Build builds an image from the Dockerfile in contextDir, honouring its
// .dockerignore, and returns the image id. The image carries the
// image-only build labels (LabelBuildSession, …), never the ownership
// labels of containers, so Cleanup can remove it and no container made
// from it counts as Dockhand's.
func (c *Client) Build(ctx context.Context, contextDir string, opts ...BuildOption) (string, error) {
	s, err := applyOpts("Build", opts, BuildOption.applyBuild)
	if err != nil {
		return "", err
	}
	st, err := os.Stat(contextDir)
	if err != nil || !st.IsDir() {
		return "", invalidf("invalid build context %q: want a directory", contextDir)
	}
	dockerfile := firstNonEmpty(s.dockerfile, "Dockerfile")
	dfPath := dockerfile
	if !filepath.IsAbs(dfPath) {
		dfPath = filepath.Join(contextDir, dockerfile)
	}
	if _, err := os.Stat(dfPath); err != nil {
		return "", invalidf("invalid build: Dockerfile %q not found in context %q", dockerfile, contextDir)
	}
	excludes, err := readDockerignore(contextDir)
	if err != nil {
		return "", err
	}
	// The Dockerfile and .dockerignore must reach the engine even if ignored.
	excludes = append(excludes, "!"+filepath.ToSlash(dockerfile), "!.dockerignore")
	tarball, err := archive.TarWithOptions(contextDir, &archive.TarOptions{ExcludePatterns: excludes})
	if err != nil {
		return "", fmt.Errorf("build %s: packing context: %w", contextDir, err)
	}
	defer tarball.Close()
	c.logger.Debug("building image", "context", contextDir, "tags", s.tags)
	var body io.Reader = tarball
	var upload *contextUpload
	if c.foreignFS(ctx) {
		upload = &contextUpload{r: tarball}
		body = upload
		c.sayUpload(&s.image, fmt.Sprintf("Sending build context %s to the engine at %s", contextDir, c.addr), 0)
	}
	resp, err := c.api.ImageBuild(ctx, body, build.ImageBuildOptions{
		Tags: s.tags, Dockerfile: filepath.ToSlash(dockerfile), BuildArgs: s.buildArgs, Target: s.target,
		NoCache: s.noCache, Remove: true, ForceRemove: true, Labels: c.buildLabels(s.labels, s.tags),
		Platform: s.image.platform, Version: build.BuilderV1,
	})
	if err != nil {
		return "", c.opErr(err, "build %s", contextDir)
	}
	defer resp.Body.Close()
	if upload != nil {
		n := upload.sent()
		c.sayUpload(&s.image, fmt.Sprintf("Sent build context: %d bytes", n), n)
	}
	var id string
	aux := func(m jsonmessage.JSONMessage) {
		var aux struct{ ID string }
		if m.Aux != nil && json.Unmarshal(*m.Aux, &aux) == nil && aux.ID != "" {
			id = aux.ID
		}
	}
	if err := c.stream(resp.Body, &s.image, aux); err != nil {
		return "", c.opErr(err, "build %s", contextDir)
	}
	if id == "" && len(s.tags) > 0 {
		// Old engines report the id only as "Successfully built"; ask.
		if ii, err := c.api.ImageInspect(ctx, s.tags[0]); err == nil {
			id = ii.ID
		}
	}
	return id, nil
}

func readDockerignore(dir string) ([]string, error) {
	f, err := os.Open(filepath.Join(dir, ".dockerignore"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("reading .dockerignore: %w", err)
	}
	defer f.Close()
	p, err := ignorefile.ReadAll(f)
	if err != nil {
		return nil, invalidf("invalid .dockerignore in %s: %v", dir, err)
	}
	return p, nil
}

// PruneImages removes the dangling (untagged, unused) images this client
// built — a rebuild leaves the previous image dangling — and returns the
// bytes reclaimed. Images built FROM one of ours inherit its build labels:
// they are not ours and are kept, as are other clients' builds.
func (c *Client) PruneImages(ctx context.Context) (uint64, error) {
	f := filters.NewArgs(filters.Arg("label", LabelBuildSession+"="+c.session), filters.Arg("dangling", "true"))
	imgs, err := c.api.ImageList(ctx, image.ListOptions{Filters: f})
	if err != nil {
		return 0, c.opErr(err, "prune images: list")
	}
	var reclaimed uint64
	var errs []error
	for _, im := range imgs {
		l := im.Labels
		if l[LabelBuildClient] != c.id && !(c.persist && l[LabelBuildPersistent] == "true") {
			continue
		}
		if built, err := c.builtHere(ctx, im.ID, l); err != nil {
			return reclaimed, err
		} else if !built {
			c.logger.Debug("prune images: keeping an image built on top of one of ours", "image", short(im.ID))
			continue
		}
		// Never forced: an image a container uses stays.
		_, err := c.api.ImageRemove(ctx, im.ID, image.RemoveOptions{PruneChildren: true})
		switch {
		case err == nil:
			reclaimed += uint64(max(im.Size, 0))
		case cerrdefs.IsNotFound(err):
		case isInUse(err):
			c.logger.Debug("prune images: keeping an image in use", "image", short(im.ID))
		default:
			errs = append(errs, c.opErr(err, "prune images: remove %s", short(im.ID)))
		}
	}
	return reclaimed, errors.Join(errs...)
}

// registryAuth returns the X-Registry-Auth header for the registry of named.
func (c *Client) registryAuth(named reference.Named, explicit *Credentials) (string, error) {
	var ac registry.AuthConfig
	domain := reference.Domain(named)
	if explicit != nil {
		ac = registry.AuthConfig{Username: explicit.Username, Password: explicit.Password, ServerAddress: domain}
	} else {
		cf, err := config.Load(configDir(c.cfgDir))
		if err != nil {
			return "", fmt.Errorf("reading docker config for %s credentials: %w", domain, err)
		}
		key := domain
		if domain == "docker.io" {
			key = "https://index.docker.io/v1/"
		}
		a, err := cf.GetAuthConfig(key)
		if err != nil {
			return "", fmt.Errorf("credentials for %s: %w", domain, err)
		}
		if a.Username == "" && a.Password == "" && a.IdentityToken == "" && a.RegistryToken == "" {
			return "", nil
		}
		ac = registry.AuthConfig{Username: a.Username, Password: a.Password, ServerAddress: a.ServerAddress,
			IdentityToken: a.IdentityToken, RegistryToken: a.RegistryToken}
	}
	return registry.EncodeAuthConfig(ac)
}

// stream consumes a pull/push/build message stream: it renders it to the
// progress writer, calls the progress func, and returns the stream's error
// as the engine sent it, a *jsonmessage.JSONError (errors.As finds it; its
// Code is a failed build step's exit status). The caller names the
// operation: stream adds nothing to the message.
func (c *Client) stream(r io.Reader, s *imageSettings, auxFunc func(jsonmessage.JSONMessage)) error {
	var render io.Writer = io.Discard
	var fd uintptr
	isTerm := false
	if s.progress != nil {
		render = s.progress
		if f, ok := s.progress.(*os.File); ok {
			fd, isTerm = term.GetFdInfo(f)
		}
	}
	aux := func(m jsonmessage.JSONMessage) {
		if auxFunc != nil {
			auxFunc(m)
		}
	}
	if s.progressFunc != nil {
		pr, pw := io.Pipe()
		tee := io.TeeReader(r, pw)
		done := make(chan struct{})
		go func() {
			defer close(done)
			dec := json.NewDecoder(pr)
			for {
				var m jsonmessage.JSONMessage
				if dec.Decode(&m) != nil {
					_, _ = io.Copy(io.Discard, pr)
					return
				}
				p := Progress{ID: m.ID, Status: strings.TrimRight(firstNonEmpty(m.Status, m.Stream), "\n")}
				if m.Progress != nil {
					p.Current, p.Total = m.Progress.Current, m.Progress.Total
				}
				if p.Status != "" {
					s.progressFunc(p)
				}
			}
		}()
		err := jsonmessage.DisplayJSONMessagesStream(tee, render, fd, isTerm, aux)
		_, _ = io.Copy(io.Discard, tee)
		pw.Close()
		<-done
		return err
	}
	return jsonmessage.DisplayJSONMessagesStream(r, render, fd, isTerm, aux)
}

// opErr wraps an engine error with the operation, mapping connection
// failures to the engine-unreachable explanation.
func (c *Client) opErr(err error, format string, args ...any) error {
	if isConnErr(err) {
		return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), c.engineErr(err))
	}
	return wrap(err, format, args...)
}
