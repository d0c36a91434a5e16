//go:build !linux

package lifecycle

// killProcessTree needs /proc to find the exec's processes and prove
// they are the container's: outside Linux it never kills, and the
// command is left to end by itself (killExec warns).
func killProcessTree(int, string) (killed int, ok bool) { return 0, false }
