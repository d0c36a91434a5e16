// Push distributes an image: it uploads it to a registry, from where any
// machine with Docker can pull it and run it the same way.
//
// An image's name says where it lives: REGISTRY/REPOSITORY:TAG. Giving an
// image such a name (a tag) and pushing it uploads the layers the registry
// does not have yet. Here the example removes its local copy and pulls it
// back, as another machine would.
//
// Without -registry, it starts a private registry inside this program on
// 127.0.0.1 (Docker allows plain HTTP to registries on the loopback).
//
//	go run ./examples/push
//	go run ./examples/push -registry localhost:5000 -image alpine:3.20
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/dockhand/dockhand/examples/internal/ex"
	"github.com/dockhand/dockhand/lifecycle"
)

func main() {
	image := flag.String("image", "busybox:1.37", "local image to distribute (pulled if missing)")
	reg := flag.String("registry", "", "registry host:port to push to (default: a private one started by this example)")
	repo := flag.String("repo", "dockhand-examples/pushed:1", "repository:tag to push to inside the registry")
	user := flag.String("user", "", "registry user name, with the password in $REGISTRY_PASSWORD (default: the credentials of `docker login`)")
	// The password comes from the environment, not a flag: a flag's value
	// shows in `ps` and in the shell's history.
	password := os.Getenv("REGISTRY_PASSWORD")
	keep := flag.Bool("keep", false, "keep the pulled-back image (it is removed by default)")
	flag.Parse()
	offline := ex.Offline{Command: "go run ./examples/push -image " + ex.Busybox, Images: []string{*image}}
	ex.Main(offline, func(ctx context.Context) error { return run(ctx, *image, *reg, *repo, *user, password, *keep) })
}

func run(ctx context.Context, image, reg, repo, user, password string, keep bool) error {
	c, err := ex.Client(ctx)
	if err != nil {
		return err
	}
	defer c.Close()

	if reg == "" {
		ex.Step("Start a private registry for this example", "docker run -d -p 127.0.0.1:5000:5000 registry:2")
		r, err := ex.StartRegistry()
		if err != nil {
			return err
		}
		defer r.Close()
		reg = r.Addr
		ex.Say("registry listening on %s (it lives as long as this program)", reg)
	}
	if _, err := c.InspectImage(ctx, image); errors.Is(err, lifecycle.ErrNotFound) {
		if err := c.Pull(ctx, image, lifecycle.WithProgress(os.Stdout)); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	pushOpts := []lifecycle.PushOption{lifecycle.WithProgress(os.Stdout)}
	pullOpts := []lifecycle.PullOption{lifecycle.WithProgress(os.Stdout)}
	if user != "" {
		auth := lifecycle.WithAuth(user, password) // serves Push and Pull
		pushOpts, pullOpts = append(pushOpts, auth), append(pullOpts, auth)
	}

	ref := reg + "/" + repo
	ex.Step("Name the image after the registry", "docker tag "+image+" "+ref)
	if err := c.Tag(ctx, image, ref); err != nil {
		return err
	}
	defer func() {
		if keep {
			fmt.Printf("\nKept %s locally; `docker rmi %s` removes it.\n", ref, ref)
			return
		}
		ctx, cancel := ex.Later(ctx)
		defer cancel()
		ex.Step("Clean up: remove the local name (pass -keep to keep it)", "docker rmi "+ref)
		if err := c.RemoveImage(ctx, ref); err != nil && !errors.Is(err, lifecycle.ErrNotFound) {
			fmt.Fprintln(os.Stderr, "cleanup:", err)
		}
	}()

	ex.Step("Push it: upload its layers and manifest", "docker push "+ref)
	if err := c.Push(ctx, ref, pushOpts...); err != nil {
		return err
	}
	if tags, err := listTags(ctx, reg, repo); err == nil {
		ex.Say("the registry now has %s with tags %v", strings.Split(repo, ":")[0], tags)
	}

	ex.Step("Remove the local copy, as if we were another machine", "docker rmi "+ref)
	if err := c.RemoveImage(ctx, ref); err != nil {
		return err
	}
	if _, err := c.InspectImage(ctx, ref); !errors.Is(err, lifecycle.ErrNotFound) {
		return fmt.Errorf("%s still here after removing it: %v", ref, err)
	}
	ex.Say("%s is no longer on this machine", ref)

	ex.Step("Pull it back from the registry", "docker pull "+ref)
	if err := c.Pull(ctx, ref, pullOpts...); err != nil {
		return err
	}

	ex.Step("Run the image that came from the registry", "docker run --rm "+ref+" echo ...")
	var out strings.Builder
	ctr, err := c.Run(ctx, ref, lifecycle.WithCmd("echo", "running the image pulled from "+reg),
		lifecycle.WithStdout(&out), lifecycle.WithPull(lifecycle.PullNever))
	if err != nil {
		return err
	}
	rctx, cancel := ex.Later(ctx)
	defer cancel()
	if err := ctr.Remove(rctx, lifecycle.WithForce()); err != nil {
		return err
	}
	ex.Say("%s", strings.TrimSpace(out.String()))
	ex.Look("`docker images %s` shows the image, pulled back", reg+"/"+strings.Split(repo, ":")[0])
	return nil
}

// listTags asks the registry's HTTP API which tags a repository has.
func listTags(ctx context.Context, reg, repo string) ([]string, error) {
	name, _, _ := strings.Cut(repo, ":")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+reg+"/v2/"+name+"/tags/list", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("tags of %s at %s: %s", name, reg, resp.Status)
	}
	var body struct{ Tags []string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	return body.Tags, nil
}
