package ex

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestRegistryUnreachable(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"no DNS (as this engine says it, in the pull request's answer)", errors.New(`pull busybox:1.37: Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 10.255.255.53:53: no such host`), true},
		{"a stand-in's name, which no DNS has", errors.New(`pull dockhand.test/busybox:1: Error response from daemon: Get "https://dockhand.test/v2/": dial tcp: lookup dockhand.test on 10.255.255.53:53: no such host`), true},
		{"a build's FROM (classic builder)", errors.New(`service "app": build: build /src: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 10.255.255.53:53: no such host`), true},
		{"a build's FROM (BuildKit)", errors.New(`failed to resolve source metadata for docker.io/library/golang:1.26-bookworm: failed to do request: Head "https://registry-1.docker.io/v2/library/golang/manifests/1.26-bookworm": dial tcp: lookup registry-1.docker.io: no such host`), true},
		{"a proxy that never answers", errors.New(`Error response from daemon: Get "https://registry-1.docker.io/v2/": net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)`), true},
		{"a proxy that refuses", errors.New(`Error response from daemon: Get "https://registry-1.docker.io/v2/": proxyconnect tcp: dial tcp 10.0.0.1:3128: connect: connection refused`), true},
		{"a registry on the loopback that is gone", errors.New(`push 127.0.0.1:5000/x:1: Get "http://127.0.0.1:5000/v2/": dial tcp 127.0.0.1:5000: connect: connection refused`), true},
		{"the second of joined errors", errors.Join(errors.New(`service "web": start: boom`), errors.New(`service "cache": pull redis:7-alpine: Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: i/o timeout`)), true},
		{"marked already", fmt.Errorf("up: %w", ErrNoRegistry), true},

		{"nil", nil, false},
		{"an engine that cannot be reached", errors.New(`Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?`), false},
		{"an engine over TCP whose name does not resolve", errors.New(`error during connect: Get "http://docker.invalid:2375/v1.41/images/json": dial tcp: lookup docker.invalid: no such host`), false},
		{"a missing tag", errors.New(`Error response from daemon: manifest for busybox:9.99 not found: manifest unknown: manifest unknown`), false},
		{"a missing repository", errors.New(`Error response from daemon: pull access denied for nosuch/image, repository does not exist or may require 'docker login': denied: requested access to the resource is denied`), false},
		{"refused credentials", errors.New(`Error response from daemon: Get "https://registry.example.com/v2/": unauthorized: authentication required`), false},
		{"a network error elsewhere on another line", errors.New("Get \"https://registry.example.com/v2/\": unauthorized\nhealthcheck: dial tcp 127.0.0.1:80: connect: connection refused"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := RegistryUnreachable(tc.err); got != tc.want {
				t.Errorf("RegistryUnreachable(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

func TestNoRegistryError(t *testing.T) {
	cause := fmt.Errorf("service \"db\": pull postgres:17-alpine: %w", errors.New(`Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host`))
	err := error(&NoRegistryError{Images: []string{"postgres:17-alpine", "golang:1.26-bookworm"}, Command: "go run ./examples/devstack -offline", Err: cause})
	want := "cannot pull postgres:17-alpine, golang:1.26-bookworm: no registry could be reached:\n" +
		"    service \"db\": pull postgres:17-alpine: Get \"https://registry-1.docker.io/v2/\": dial tcp: lookup registry-1.docker.io: no such host\n" +
		"To run without a registry, build the offline stand-in images once and use them:\n" +
		"    scripts/test-images && go run ./examples/devstack -offline"
	if err.Error() != want {
		t.Errorf("Error():\n%s\nwant:\n%s", err, want)
	}
	if !errors.Is(err, ErrNoRegistry) || !errors.Is(err, cause) {
		t.Errorf("errors.Is: want both ErrNoRegistry and the cause reachable")
	}
	if !RegistryUnreachable(err) {
		t.Errorf("RegistryUnreachable(NoRegistryError) = false")
	}
	unnamed := (&NoRegistryError{Command: "go run ./examples/run -image " + Busybox, Err: cause}).Error()
	if !strings.HasPrefix(unnamed, "no registry could be reached:\n") {
		t.Errorf("without images: %q", unnamed)
	}
}

func TestStandIn(t *testing.T) {
	for image, want := range map[string]bool{
		"dockhand.test/busybox:1":         true,
		"dockhand.test/postgres:15":       true,
		"registry.test:5000/team/app:1":   true,
		"busybox:1.37":                    false,
		"docker.io/library/busybox:1.37":  false,
		"127.0.0.1:5000/dockhand.test:1":  false,
		"ghcr.io/dockhand.test/busybox:1": false,
		"not a reference":                 false,
	} {
		if got := StandIn(image); got != want {
			t.Errorf("StandIn(%q) = %v, want %v", image, got, want)
		}
	}
}
