package compose

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/dockhand/dockhand/lifecycle"
)

type lsSettings struct{ all bool }

// StackSummary is one compose project on the engine, as docker compose ls
// shows it.
type StackSummary struct {
	Name        string
	Status      string // the states of its containers with their counts: "exited(1), running(2)"
	ConfigFiles string // the compose files it was started from, comma-separated
}

// Ls lists the compose projects that have running containers on the
// engine (WithAll: any container), whoever started them, sorted by name,
// as docker compose ls does.
func Ls(ctx context.Context, c *lifecycle.Client, opts ...LsOption) (_ []StackSummary, err error) {
	defer scrub(&err)
	set, err := applyOpts("Ls", opts, LsOption.applyLs)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, invalidf("compose: Ls: nil client")
	}
	lo := []lifecycle.ListOption{lifecycle.WithFilter("label", LabelProject), lifecycle.WithFilter("label", LabelConfigHash)}
	if set.all {
		lo = append(lo, lifecycle.WithAll())
	}
	cts, err := c.Containers(ctx, lo...)
	if err != nil {
		return nil, fmt.Errorf("compose: ls: %w", err)
	}
	type acc struct {
		states map[string]int
		files  string
	}
	byName := map[string]*acc{}
	for _, ct := range cts {
		name := ct.Labels[LabelProject]
		a := byName[name]
		if a == nil {
			a = &acc{states: map[string]int{}, files: ct.Labels[LabelConfigFiles]}
			byName[name] = a
		}
		a.states[ct.State]++
	}
	out := make([]StackSummary, 0, len(byName))
	for name, a := range byName {
		states := make([]string, 0, len(a.states))
		for st := range a.states {
			states = append(states, st)
		}
		sort.Strings(states)
		for i, st := range states {
			states[i] = fmt.Sprintf("%s(%d)", st, a.states[st])
		}
		out = append(out, StackSummary{Name: name, Status: strings.Join(states, ", "), ConfigFiles: a.files})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
