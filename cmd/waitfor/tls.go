//go:build waitfor_tls

package main

// https:// targets: crypto/tls adds about 2.5 MB to the binary, so it is
// only linked in a build with -tags waitfor_tls.
import _ "github.com/dockhand/dockhand/waitfor/waitfortls"
