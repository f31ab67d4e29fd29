package run

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// OpenSSH runs commands on a host through the system's OpenSSH client, as
// Ansible and hotsos do: the host is reached exactly as the operator's own
// "ssh HOST" reaches it — ssh_config with Match and Include, ProxyCommand
// and ProxyJump, certificates (CertificateFile, @cert-authority), an
// existing ControlMaster's socket (ControlPath), Kerberos. hoofbeat only
// tightens it: BatchMode (it never prompts), StrictHostKeyChecking=yes (an
// unknown or changed host key is refused, whatever the configuration
// says), no agent, X11 or port forwarding, known_hosts left as they are.
//
// A check runs dozens of commands on a host: one connection each would
// cost a key exchange each (most of a check's time over SSH). Unless the
// operator's ssh_config has a ControlPath of its own (then that master is
// used, as their ssh would), the runner shares one connection: a master of
// its own (ControlMaster=auto) on a socket in a private directory, ended by
// Close.
type OpenSSH struct {
	name string
	opt  SSHOptions
	// program is the ssh client's path.
	program string

	muxOnce sync.Once
	// muxDir holds the control socket; "" when the runner does not
	// multiplex (the operator's own ControlPath, or none could be made).
	muxDir string
}

// controlPersist is how long the master outlives its last command if
// Close is never called (a killed hoofbeat).
const controlPersist = "30"

// hostRE is what a host name given to ssh may be: a name or an address,
// never an option ("-oProxyCommand=…") nor a user ("root@…"), as a name
// read from a cloud could try to be.
var hostRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.:-]*$`)

// SystemSSH is the path of the system's ssh client, or "" when there is
// none on PATH.
func SystemSSH() string {
	p, err := exec.LookPath("ssh")
	if err != nil {
		return ""
	}
	return p
}

// NewOpenSSH returns a runner for host through the ssh client at program.
func NewOpenSSH(host, program string, opt SSHOptions) (*OpenSSH, error) {
	if !hostRE.MatchString(host) {
		return nil, fmt.Errorf("host name %q cannot be given to ssh", host)
	}
	for _, f := range append(append([]string{}, opt.KnownHosts...), opt.IdentityFiles...) {
		if strings.ContainsAny(f, " \t\r\n\"'") {
			return nil, fmt.Errorf("file %q: ssh options cannot carry a path with spaces or quotes", f)
		}
	}
	if len(opt.ConfigFiles) > 1 {
		return nil, errors.New("the ssh client reads one configuration file (-F)")
	}
	return &OpenSSH{name: host, opt: opt, program: program}, nil
}

// NewSSHRunner reaches host as the operator's ssh does: through the
// system's OpenSSH client when it is installed, else through the built-in
// client (ssh_config's User, Port, IdentityFile, ProxyJump and known_hosts
// only).
func NewSSHRunner(host string, opt SSHOptions) (Runner, error) {
	if p := SystemSSH(); p != "" {
		return NewOpenSSH(host, p, opt)
	}
	return NewSSH(host, opt), nil
}

// Host returns the host name as given.
func (s *OpenSSH) Host() string { return s.name }

// args is the ssh command line that runs line on the host.
func (s *OpenSSH) args(line string) []string {
	a := s.base()
	if s.muxDir != "" {
		a = append(a, "-o", "ControlMaster=auto", "-o", "ControlPath="+filepath.Join(s.muxDir, "%C"), "-o", "ControlPersist="+controlPersist)
	}
	return append(a, "--", s.name, line)
}

// base is the options every ssh run of the runner gets.
func (s *OpenSSH) base() []string {
	timeout := s.opt.ConnectTimeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	a := []string{"-T", "-x", "-a",
		"-o", "BatchMode=yes",
		"-o", "StrictHostKeyChecking=yes",
		"-o", "UpdateHostKeys=no",
		"-o", "ClearAllForwardings=yes",
		"-o", "ConnectTimeout=" + strconv.Itoa(max(1, int(timeout/time.Second))),
	}
	if len(s.opt.ConfigFiles) == 1 {
		a = append(a, "-F", s.opt.ConfigFiles[0])
	}
	if s.opt.User != "" {
		a = append(a, "-l", s.opt.User)
	}
	if s.opt.Port != 0 {
		a = append(a, "-p", strconv.Itoa(s.opt.Port))
	}
	for _, f := range s.opt.IdentityFiles {
		a = append(a, "-i", f)
	}
	if len(s.opt.KnownHosts) > 0 {
		a = append(a, "-o", "UserKnownHostsFile="+strings.Join(s.opt.KnownHosts, " "))
	}
	return a
}

// setupMux decides, once, whether the runner keeps a master of its own:
// not when ssh_config gives the host a ControlPath (ssh -G, which connects
// nowhere, prints the configuration in effect).
func (s *OpenSSH) setupMux(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, s.program, append(append(s.base(), "-G"), "--", s.name)...)
	c.Env = s.env()
	out, err := c.Output()
	if err != nil {
		return
	}
	for _, l := range strings.Split(string(out), "\n") {
		if k, v, _ := strings.Cut(strings.TrimSpace(l), " "); k == "controlpath" && v != "none" {
			return
		}
	}
	dir, err := os.MkdirTemp("", "hoofbeat-ssh-")
	if err != nil {
		return
	}
	// A unix socket's path is at most 104-108 bytes; %C is 40.
	if len(dir) > 60 {
		os.Remove(dir)
		return
	}
	s.muxDir = dir
}

// Close ends the runner's own master, if it started one, and removes its
// socket's directory.
func (s *OpenSSH) Close() error {
	s.muxOnce.Do(func() {}) // no master can start after Close
	if s.muxDir == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	a := append(s.base(), "-o", "ControlPath="+filepath.Join(s.muxDir, "%C"), "-O", "exit", "--", s.name)
	c := exec.CommandContext(ctx, s.program, a...)
	c.Env = s.env()
	c.Run() // no master (none was started, or it died): nothing to end
	return os.RemoveAll(s.muxDir)
}

// env is what the ssh client needs of the environment: the home (its
// configuration, keys, known_hosts), the user, the agent, a PATH for
// ProxyCommand, Kerberos' credentials cache.
func (s *OpenSSH) env() []string {
	var env []string
	for _, k := range []string{"HOME", "USER", "LOGNAME", "SSH_AUTH_SOCK", "PATH", "KRB5CCNAME"} {
		if v := s.opt.getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// Run runs cmd on the host: a shell line quoted word by word, as the
// built-in client sends it. ssh's own failures (exit 255: unreachable,
// host key refused, no key accepted) make the host unreachable.
func (s *OpenSSH) Run(ctx context.Context, cmd Command) (Result, error) {
	if len(cmd.Argv) == 0 {
		return Result{}, &Error{Host: s.name, Kind: KindOther, Err: errors.New("empty command")}
	}
	s.muxOnce.Do(func() { s.setupMux(ctx) })
	ctx, cancel := context.WithTimeout(ctx, cmd.timeout())
	defer cancel()
	line := Quote(append([]string{"env", "LC_ALL=C", "PATH=" + remotePath}, cmd.Argv...))
	c := exec.CommandContext(ctx, s.program, s.args(line)...)
	c.Env = s.env()
	// A ProxyCommand left holding the output is not waited for.
	c.WaitDelay = 500 * time.Millisecond
	out := &capWriter{max: cmd.maxOutput()}
	errOut := &capWriter{max: maxStderr}
	c.Stdout, c.Stderr = out, errOut
	err := c.Run()
	res := Result{Stdout: out.buf, Stderr: errOut.buf, Truncated: out.truncated}
	if c.ProcessState != nil {
		res.ExitCode = c.ProcessState.ExitCode()
	}
	if err == nil {
		return res, nil
	}
	e := &Error{Host: s.name, Argv: cmd.Argv, Err: err, Stderr: firstLine(errOut.buf)}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		e.Kind = KindTimeout
	case errors.As(err, &ee) && ee.ExitCode() == 255:
		// ssh's own failure: its last line says it ("Host key
		// verification failed."), after any banner of @ signs.
		e.Kind, e.Err, e.Stderr = KindUnreachable, errors.New(lastLine(errOut.buf)), ""
		if e.Err.Error() == "" {
			e.Err = errors.New("ssh failed (exit status 255)")
		}
	case errors.As(err, &ee):
		e.Code = ee.ExitCode()
		e.Kind = classify(e.Code, errOut.buf)
		if e.Code == 127 { // env: the program is not installed there
			e.Kind = KindNotFound
		}
	default:
		e.Kind = KindUnreachable
	}
	return res, e
}

// lastLine is the last non-empty line of b, cut at 200 bytes.
func lastLine(b []byte) string {
	ls := strings.Split(strings.TrimSpace(string(b)), "\n")
	return firstLine([]byte(ls[len(ls)-1]))
}
