package lifecycle

import "context"

// Processes is what Top returns: ps's column titles and one row per
// process.
type Processes struct {
	Titles    []string   // "UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD" by default
	Processes [][]string // one row per process, a field per title
}

// Top lists the processes running in the container (docker top), with
// ps's arguments psArgs ("-o", "pid,comm") if given, else the engine's
// default "-ef". The container must be running.
func (ct *Container) Top(ctx context.Context, psArgs ...string) (Processes, error) {
	if err := ct.valid("top"); err != nil {
		return Processes{}, err
	}
	r, err := ct.c.api.ContainerTop(ctx, ct.id, psArgs)
	if err != nil {
		return Processes{}, ct.c.lookupErr(err, "top of container %s", ct)
	}
	return Processes{Titles: r.Titles, Processes: r.Processes}, nil
}
