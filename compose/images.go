package compose

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/distribution/reference"
)

// ServiceImage is the image of one container of the stack, as docker
// compose images shows it.
type ServiceImage struct {
	ContainerName string
	Service       string
	Repository    string // "dockhand.test/busybox", "postgres": of the reference the container was created from
	Tag           string // "1", "latest" ("" for a reference by digest)
	ImageID       string // "sha256:..."
	Size          int64  // bytes
	Platform      string // "linux/amd64"
	Created       time.Time
}

// ShortID is ImageID as docker compose images shows it in its IMAGE ID
// column: without the algorithm ("sha256:"), at most 12 characters. It
// is safe on any id, short or empty.
func (im ServiceImage) ShortID() string {
	id := im.ImageID
	if _, hex, ok := strings.Cut(id, ":"); ok {
		id = hex
	}
	if len(id) > 12 {
		id = id[:12]
	}
	return id
}

// Images lists the images of the stack's containers, stopped and one-off
// (Run) ones included (WithServices: those of the named services), one
// entry per container sorted by container name, as docker compose images
// does. Repository and Tag are those of the image reference the container
// was created from, ImageID, Size, Platform and Created those of the image
// it runs. As with the CLI, a service its profile disables may be named:
// its containers (from an Up with the profile enabled) are listed.
func (s *Stack) Images(ctx context.Context, opts ...ImagesOption) (_ []ServiceImage, err error) {
	defer scrub(&err)
	set, err := applyOpts("Images", opts, ImagesOption.applyImages)
	if err != nil {
		return nil, err
	}
	if err := s.checkNamed("images", set.services); err != nil {
		return nil, err
	}
	cts, err := s.containers(ctx, true, true)
	if err != nil {
		return nil, err
	}
	want := toSet(set.services)
	out := []ServiceImage{}
	for _, ct := range cts {
		svc := ct.Labels[LabelService]
		if len(want) > 0 && !want[svc] {
			continue
		}
		img, err := s.c.InspectImage(ctx, ct.Image)
		if err != nil {
			return nil, fmt.Errorf("compose %s: images: container %s: %w", s.p.Name, ctName(ct), err)
		}
		si := ServiceImage{ContainerName: ctName(ct), Service: svc, ImageID: img.ID, Size: img.Size, Platform: img.Platform, Created: img.Created}
		// As the CLI: parsed from the reference the container was made
		// from; a bare image id does not parse (no repository, no tag).
		if ref, err := reference.ParseDockerRef(ct.Image); err == nil {
			si.Repository = reference.FamiliarName(ref)
			if t, ok := ref.(reference.Tagged); ok {
				si.Tag = t.Tag()
			}
		}
		out = append(out, si)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ContainerName < out[j].ContainerName })
	return out, nil
}
