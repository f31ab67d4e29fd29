package host

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// DomainsScript prints the XML of every running domain, through libvirt's
// read-only socket (virsh -r): what each guest was started with, which a
// later change of nova.conf does not rewrite. It fails when the list does.
const DomainsScript = `set -e; c=qemu:///system; for d in $(virsh -r -q -c "$c" list --uuid); do virsh -r -c "$c" dumpxml "$d"; done`

// libvirtDaemon names the processes that serve libvirt's QEMU driver: the
// monolithic daemon, or the modular one.
var libvirtDaemon = regexp.MustCompile(`^(?:\S*/)?(?:libvirtd|virtqemud)$`)

// runsLibvirt reports whether a libvirt daemon is among procs.
func runsLibvirt(procs []snapshot.Process) bool {
	for _, p := range procs {
		if f := strings.Fields(p.Args); len(f) > 0 && libvirtDaemon.MatchString(f[0]) {
			return true
		}
	}
	return false
}

type domainXML struct {
	Name    string `xml:"name"`
	UUID    string `xml:"uuid"`
	Serials []struct {
		Type   string `xml:"type,attr"`
		Source struct {
			Mode    string `xml:"mode,attr"`
			Host    string `xml:"host,attr"`
			Service string `xml:"service,attr"`
		} `xml:"source"`
	} `xml:"devices>serial"`
}

// ParseDomains reads DomainsScript's output: domain documents one after
// the other.
func ParseDomains(b []byte) ([]snapshot.Domain, error) {
	var out []snapshot.Domain
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read libvirt domains: %w", err)
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			if text, isText := tok.(xml.CharData); isText && len(bytes.TrimSpace(text)) > 0 {
				return nil, fmt.Errorf("read libvirt domains: text %q where a <domain> was expected", trimBytes(bytes.TrimSpace(text), 40))
			}
			continue
		}
		if start.Name.Local != "domain" {
			return nil, fmt.Errorf("read libvirt domains: <%s> where a <domain> was expected", trimBytes([]byte(start.Name.Local), 40))
		}
		var x domainXML
		if err := d.DecodeElement(&x, &start); err != nil {
			return nil, fmt.Errorf("read libvirt domains: %w", err)
		}
		dom := snapshot.Domain{Name: x.Name, UUID: x.UUID}
		for _, s := range x.Serials {
			if s.Type == "tcp" {
				dom.Serials = append(dom.Serials, snapshot.DomainSerial{Mode: s.Source.Mode, Host: s.Source.Host, Service: s.Source.Service})
			}
		}
		out = append(out, dom)
	}
}
