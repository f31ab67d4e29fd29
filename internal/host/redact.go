package host

import (
	"bytes"
	"regexp"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/run"
)

// Redacted replaces a secret wherever hoofbeat masks one.
const Redacted = "REDACTED"

// Secrets leave a host in two ways: a snapshot (the values the collector
// keeps) and a --record directory (the commands' outputs). Both mask them
// here, with the same patterns.

// urlAuthority is a URL's scheme and authority; urlUserPassword one
// user:password@ in it. An authority may name several hosts, each with its
// credentials (rabbit://u:p@h1:5672,u:p@h2:5672/). A password stops at "/"
// so that host:port/path@x is no credential.
var (
	urlAuthority    = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s]*`)
	urlUserPassword = regexp.MustCompile(`([^,@:]*):[^,@]*@`)
)

// secretName is an option or argument named for a credential: password,
// os_password, admin_passwd, metadata_proxy_shared_secret, token.
const secretName = `[\w.-]*(?:password|passwd|secret|token)[\w.-]*`

// secretAssign is a credential given as name=value (--password=X,
// os_password=X); argAssign adds libvirt's "-object secret,…,data=…" and
// Ceph's key=, which only command lines carry.
var (
	secretAssign = regexp.MustCompile(`(?i)(` + secretName + `)=[^,\s]+`)
	argAssign    = regexp.MustCompile(`(?i)(\b(?:data|key)|` + secretName + `)=[^,\s]+`)
)

// secretOption is a credential given as the argument after an option
// named for it: --password X, --os-token X.
var secretOption = regexp.MustCompile(`(?i)((?:^|\s)--?[\w-]*(?:password|passwd|secret|token)[\w-]*)(\s+)[^-\s]\S*`)

// mysqlProgram names the clients that take their password glued to -p.
var mysqlProgram = regexp.MustCompile(`(?:^|[\s/])(?:mysql|mysqldump|mysqladmin|mariadb[\w-]*)(?:\s|$)`)

var mysqlPassword = regexp.MustCompile(`(\s-p)\S+`)

// userPassword is curl's -u/--user user:password.
var userPassword = regexp.MustCompile(`((?:^|\s)(?:-u|--user)[\s=]+[^:\s]*):\S+`)

// MaskURLCredentials masks the password of every URL in s.
func MaskURLCredentials(s string) string {
	return urlAuthority.ReplaceAllStringFunc(s, func(a string) string {
		i := strings.Index(a, "://") + len("://")
		return a[:i] + urlUserPassword.ReplaceAllString(a[i:], "${1}:"+Redacted+"@")
	})
}

// MaskArgs masks the credentials in a command line (or in a line of ps
// output): name=value and --option value forms, mysql's -pPASSWORD, curl's
// -u user:password and URLs with a password.
func MaskArgs(s string) string {
	s = argAssign.ReplaceAllString(s, "${1}="+Redacted)
	s = secretOption.ReplaceAllString(s, "${1}${2}"+Redacted)
	if mysqlProgram.MatchString(s) {
		s = mysqlPassword.ReplaceAllString(s, "${1}"+Redacted)
	}
	s = userPassword.ReplaceAllString(s, "${1}:"+Redacted)
	return MaskURLCredentials(s)
}

// configSecret is an oslo.config option whose value is a secret, in each
// syntax oslo.config reads: "key = value", "key=value", "key: value"
// (commented-out ones too: they are often the previous password). The
// names are those of OpenStack's secret options (password, admin_password,
// memcache_secret_key, metadata_proxy_shared_secret, transport_url,
// [database] connection…); a name that only looks like one loses nothing
// the collector reads.
var configSecret = regexp.MustCompile(`(?im)^([ \t]*(?:[#;][ \t]*)?(?:[\w.-]*(?:password|passwd|secret|token|credential|transport_url|connection)[\w.-]*|(?:[\w.-]*_)?key)[ \t]*[=:][ \t]*)\S.*$`)

// MaskConfig masks secret values in an oslo.config (ini) file, and the
// password of any URL in it.
func MaskConfig(b []byte) []byte {
	b = configSecret.ReplaceAll(b, []byte("${1}"+Redacted))
	return []byte(MaskURLCredentials(string(b)))
}

// MaskLine masks the credentials a log line may carry: name=value forms
// and URLs with a password.
func MaskLine(s string) string {
	return MaskURLCredentials(secretAssign.ReplaceAllString(s, "${1}="+Redacted))
}

// RedactRecorded masks the secrets in a command's output before a
// recording keeps it (run.Record's Redact): config files read with cat,
// command lines in ps's output, and credentials in any other output.
func RedactRecorded(cmd run.Command, stdout []byte) []byte {
	switch {
	case len(cmd.Argv) > 0 && cmd.Argv[0] == "cat":
		return MaskConfig(stdout)
	case len(cmd.Argv) > 0 && cmd.Argv[0] == PSArgs[0]:
		return maskLines(stdout, MaskArgs)
	}
	return maskLines(stdout, MaskLine)
}

// maskLines applies mask to each line, so that a pattern cannot reach
// across lines and the line structure stays as it was.
func maskLines(b []byte, mask func(string) string) []byte {
	lines := bytes.SplitAfter(b, []byte("\n"))
	var out bytes.Buffer
	out.Grow(len(b))
	for _, l := range lines {
		s := string(l)
		nl := strings.HasSuffix(s, "\n")
		s = mask(strings.TrimSuffix(s, "\n"))
		out.WriteString(s)
		if nl {
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}
