package host

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// NetnsScript lists every named network namespace with its devices in one
// shell invocation (one round trip over SSH, whatever the number of
// namespaces). It is a fixed string: nothing from outside is spliced in.
const NetnsScript = `for ns in $(ip netns list | cut -d' ' -f1); do printf '@@netns %s\n' "$ns"; ip -d -json -n "$ns" addr show 2>&1; printf '\n'; done`

// ParseNetnsBatch reads the output of NetnsScript.
func ParseNetnsBatch(b []byte) ([]snapshot.Namespace, error) {
	var out []snapshot.Namespace
	parts := bytes.Split(b, []byte("@@netns "))
	if len(bytes.TrimSpace(parts[0])) != 0 {
		return nil, fmt.Errorf("read namespaces: output before the first namespace: %q", trimBytes(parts[0], 80))
	}
	for _, p := range parts[1:] {
		name, rest, _ := bytes.Cut(p, []byte("\n"))
		ns := snapshot.Namespace{Name: strings.TrimSpace(string(name))}
		if ns.Name == "" {
			return nil, fmt.Errorf("read namespaces: a namespace without a name")
		}
		rest = bytes.TrimSpace(rest)
		if len(rest) > 0 && rest[0] == '[' {
			links, err := ParseIPAddr(rest)
			if err != nil {
				ns.Error = err.Error()
			} else {
				ns.Links = links
			}
		} else if len(rest) > 0 {
			ns.Error = strings.TrimSpace(string(trimBytes(rest, 200)))
		}
		out = append(out, ns)
	}
	return out, nil
}

func trimBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
