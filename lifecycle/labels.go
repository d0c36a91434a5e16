package lifecycle

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/distribution/reference"
)

// Version is the library version recorded on every resource it creates.
const Version = "0.1.0"

// Ownership labels of the containers, networks and volumes Dockhand
// creates. Cleanup and Sweep select resources by them and never touch
// anything else.
//
// The model: every resource belongs to the Client that created it
// (LabelClient), within a session (LabelSession), and to the process that
// ran that Client (LabelOwner: pid, start time, boot and namespace
// identity). Each of these keys is set explicitly on every resource, to
// an empty value where it does not apply, so none is ever inherited from
// an image (the engine copies an image's labels into every container made
// from it): a container whose ownership labels equal its image's is not
// Dockhand's, whoever started it.
//
//   - Cleanup removes what its own Client created, plus the persistent
//     resources of its session (the teardown of a WithPersistentSession
//     stack, from a later process with the same WithSession id).
//   - Sweep removes a resource only when it can prove that the owning
//     process is gone: same boot and pid namespace as the sweeping
//     process, and that pid no longer runs or now names a process started
//     at another time. It keeps, and logs at debug level why, everything
//     else: resources of live processes, of other hosts, boots and pid
//     namespaces, with a missing or malformed owner, and every persistent
//     resource.
const (
	LabelManaged = "dev.dockhand.managed" // always "true"
	LabelVersion = "dev.dockhand.version" // library version
	LabelSession = "dev.dockhand.session" // session id of the creating Client
	LabelClient  = "dev.dockhand.client"  // random id of the creating Client
	// LabelOwner is the identity of the owning process
	// ("pid=…,start=…,boot=…,pidns=…,timens=…"), or "" for a persistent
	// resource and where the process cannot identify itself (not Linux).
	LabelOwner   = "dev.dockhand.owner"
	LabelPID     = "dev.dockhand.pid"     // pid of the owning process, for humans ("" when persistent)
	LabelHost    = "dev.dockhand.host"    // hostname of the owning process, for humans
	LabelCreated = "dev.dockhand.created" // creation time, RFC 3339
	// LabelPersistent is "true" on the resources of a session made with
	// WithPersistentSession, meant to outlive their process: never swept.
	LabelPersistent = "dev.dockhand.persistent"
)

// Labels of the images Dockhand builds. They are image-only keys: an
// image's labels reach every container made from it, so an image carries
// none of the container ownership labels above, and nothing reads these
// keys on a container. Cleanup finds its Client's builds by them, and
// Sweep removes a build of a process that is gone, once no container uses
// it. An image only counts as Dockhand's build when its newest history
// steps are exactly the label steps of that build (LabelBuildSeal), so an
// image someone built FROM it, which inherits these labels, is not.
const (
	LabelBuildSession    = "dev.dockhand.build.session"    // session id of the building Client
	LabelBuildClient     = "dev.dockhand.build.client"     // random id of the building Client
	LabelBuildOwner      = "dev.dockhand.build.owner"      // identity of the building process, as LabelOwner
	LabelBuildPersistent = "dev.dockhand.build.persistent" // "true" for a WithPersistentSession build
	LabelBuildVersion    = "dev.dockhand.build.version"    // library version
	// LabelBuildTags lists the tags the build gave the image, space
	// separated: Cleanup and Sweep remove those, never a tag someone else
	// added later.
	LabelBuildTags = "dev.dockhand.build.tags"
	// LabelBuildSeal is "<n>/<digest>": the build added n label steps,
	// and digest is the SHA-256 of the other n-1 labels it set.
	LabelBuildSeal = "dev.dockhand.build.seal"
)

// ownershipKeys are the container labels compared with the image's to
// tell a resource Dockhand created from one that inherited its labels.
var ownershipKeys = []string{LabelManaged, LabelSession, LabelClient, LabelOwner, LabelPID, LabelPersistent}

func newSessionID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// sessionLabels returns the labels for a container, network or volume
// made now by this client, merged over the user's own labels (which never
// override ours). Every ownership key is set, "" where it does not apply.
func (c *Client) sessionLabels(user map[string]string) map[string]string {
	out := make(map[string]string, len(user)+len(c.labels)+9)
	for k, v := range user {
		out[k] = v
	}
	for k, v := range c.labels {
		out[k] = v
	}
	out[LabelManaged] = "true"
	out[LabelVersion] = Version
	out[LabelSession] = c.session
	out[LabelClient] = c.id
	out[LabelHost] = c.host
	out[LabelCreated] = time.Now().UTC().Format(time.RFC3339)
	if c.persist {
		out[LabelPersistent] = "true" // no owner: Sweep leaves it alone
		out[LabelOwner], out[LabelPID] = "", ""
	} else {
		out[LabelPersistent] = ""
		out[LabelOwner] = selfOwnerLabel()
		out[LabelPID] = strconv.Itoa(c.pid)
	}
	return out
}

// buildLabels are the labels of an image this client builds: the user's
// and the client's own labels, less any container ownership key, and the
// image-only build labels; no
// creation time (an image records that itself, and the classic builder
// adds each label as a LABEL step, so a label that changes on every build
// would make every step after it miss the cache).
func (c *Client) buildLabels(user map[string]string, tags []string) map[string]string {
	out := make(map[string]string, len(user)+len(c.labels)+6)
	for k, v := range user {
		out[k] = v
	}
	for k, v := range c.labels {
		out[k] = v
	}
	for _, k := range ownershipKeys {
		delete(out, k) // containers would inherit them as ownership
	}
	out[LabelBuildSession] = c.session
	out[LabelBuildClient] = c.id
	out[LabelBuildVersion] = Version
	out[LabelBuildTags] = buildTags(tags)
	if c.persist {
		out[LabelBuildPersistent], out[LabelBuildOwner] = "true", ""
	} else {
		out[LabelBuildPersistent], out[LabelBuildOwner] = "", selfOwnerLabel()
	}
	delete(out, LabelBuildSeal)
	out[LabelBuildSeal] = buildSeal(out)
	return out
}

// buildTags is the LabelBuildTags value for a build tagged refs, each as
// the engine lists it among an image's tags.
func buildTags(refs []string) string {
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		if named, err := parseRef(r); err == nil {
			out = append(out, reference.FamiliarString(named))
		}
	}
	return strings.Join(out, " ")
}

// buildSeal is the LabelBuildSeal value for a build that sets labels
// (the seal itself not among them).
func buildSeal(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		if k != LabelBuildSeal {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%d:%s%d:%s", len(k), k, len(labels[k]), labels[k])
	}
	return fmt.Sprintf("%d/%x", len(keys)+1, h.Sum(nil))
}

// builtHere reports whether an image with these labels and this history
// (the engine's, newest step first) is the very image a Dockhand build
// made, not one built on top of it: the classic builder adds each build
// label as its own LABEL step, in key order, after the Dockerfile's
// steps, so the newest n steps of our build are exactly those n labels
// (n and their digest in LabelBuildSeal). An image built FROM ours, even
// one adding labels only, has newer steps of its own.
func builtHere(labels map[string]string, createdBy []string) bool {
	seal := labels[LabelBuildSeal]
	ns, _, ok := strings.Cut(seal, "/")
	n, err := strconv.Atoi(ns)
	if !ok || err != nil || n < 2 || n > len(createdBy) {
		return false
	}
	set := make(map[string]string, n)
	prev := ""
	for i := n - 1; i >= 0; i-- { // oldest of the n first: keys ascend
		k, v, ok := labelStep(createdBy[i])
		if !ok || (i < n-1 && k <= prev) {
			return false
		}
		set[k], prev = v, k
	}
	return set[LabelBuildSeal] == seal && buildSeal(set) == seal
}

// labelStep parses the history entry of a one-label LABEL step
// ("/bin/sh -c #(nop)  LABEL key=value").
func labelStep(createdBy string) (key, value string, ok bool) {
	_, rest, ok := strings.Cut(createdBy, "#(nop)")
	if !ok {
		return "", "", false
	}
	rest, ok = strings.CutPrefix(strings.TrimLeft(rest, " "), "LABEL ")
	if !ok {
		return "", "", false
	}
	return strings.Cut(rest, "=")
}

// inherited reports whether a container's ownership labels are exactly
// its image's: then the engine copied them and Dockhand did not create
// the container (the resources Dockhand creates set each key itself).
func inherited(ct, img map[string]string) bool {
	for _, k := range ownershipKeys {
		cv, cok := ct[k]
		iv, iok := img[k]
		if cok != iok || cv != iv {
			return false
		}
	}
	return true
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown"
	}
	return h
}
