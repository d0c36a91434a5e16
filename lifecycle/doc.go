// Package lifecycle drives a Docker engine through the whole container
// lifecycle from Go: pull, run, ps, exec, stop, rm, rmi, build, push, logs,
// volumes, ports and networks.
//
// # Ownership
//
// Every container, network and volume a Client creates carries ownership
// labels (LabelSession, LabelClient, LabelOwner, …), each set explicitly,
// so that none is ever inherited from an image; images the Client builds
// carry only image-only labels (LabelBuildSession, …). Client.Cleanup
// removes what its Client created (and a persistent session's resources,
// for its teardown); Client.Sweep removes what a process that is provably
// gone left behind. Both err on the side of keeping: a resource is removed
// only when its labels prove it is theirs to remove.
package lifecycle
