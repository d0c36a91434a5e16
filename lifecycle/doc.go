// Package lifecycle drives a Docker engine through the whole container
// lifecycle from Go: pull, run, ps, exec, stop, rm, rmi, build, push, logs,
// volumes, ports and networks.
package lifecycle
