package host

import (
	"fmt"

	"gopkg.in/ini.v1"

	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

// iniOptions reads oslo.config files: # and ; comments, keys repeated for
// multi-valued options (the last one wins for single values), values that
// may contain % and quotes, continuation lines indented.
var iniOptions = ini.LoadOptions{
	AllowShadows:               true,
	IgnoreInlineComment:        true,
	SpaceBeforeInlineComment:   true,
	AllowPythonMultilineValues: true,
	Insensitive:                false,
	UnescapeValueDoubleQuotes:  false,
	SkipUnrecognizableLines:    false,
}

// ParseNovaConf reads the options hoofbeat needs from nova.conf files,
// given in the order nova reads them (later files override earlier ones).
// Only [DEFAULT] host/my_ip and [serial_console] are kept: never secrets.
func ParseNovaConf(files map[string][]byte, order []string) (*snapshot.NovaConf, error) {
	nc := &snapshot.NovaConf{}
	for _, name := range order {
		b, ok := files[name]
		if !ok {
			continue
		}
		f, err := ini.LoadSources(iniOptions, b)
		if err != nil {
			return nil, fmt.Errorf("read %s: %s", name, iniProblem(err))
		}
		nc.Files = append(nc.Files, name)
		set := func(section, key string, dst *string) {
			s, err := f.GetSection(section)
			if err != nil || !s.HasKey(key) {
				return
			}
			v := s.Key(key).String()
			if vals := s.Key(key).ValueWithShadows(); len(vals) > 0 {
				v = vals[len(vals)-1]
			}
			// base_url is a URL: one with a password must not carry it
			// into a snapshot (nor any other value that is one).
			*dst = MaskURLCredentials(v)
		}
		set(ini.DefaultSection, "host", &nc.Host)
		set(ini.DefaultSection, "my_ip", &nc.MyIP)
		if f.HasSection("serial_console") {
			nc.SerialSection = true
		}
		set("serial_console", "enabled", &nc.Enabled)
		set("serial_console", "listen", &nc.Listen)
		set("serial_console", "proxyclient_address", &nc.ProxyClientAddress)
		set("serial_console", "base_url", &nc.BaseURL)
		set("serial_console", "port_range", &nc.PortRange)
		set("serial_console", "serialproxy_host", &nc.SerialProxyHost)
		set("serial_console", "serialproxy_port", &nc.SerialProxyPort)
	}
	return nc, nil
}

// iniProblem says what is wrong with a config file without quoting it: the
// ini library's errors repeat the offending line, and the file may be
// anything a process named (a key, a password file), so its content must
// not reach a snapshot's error text.
func iniProblem(err error) string {
	switch {
	case ini.IsErrDelimiterNotFound(err):
		return "not an ini file: a line has no key-value delimiter"
	case ini.IsErrEmptyKeyName(err):
		return "not an ini file: a line has an empty key name"
	}
	return "not an ini file"
}
