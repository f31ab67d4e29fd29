package run

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kevinburke/ssh_config"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SSHOptions say how to reach hosts over SSH. Empty fields take what
// OpenSSH's configuration (~/.ssh/config, /etc/ssh/ssh_config) gives for the
// host, then OpenSSH's defaults.
type SSHOptions struct {
	User string
	Port int
	// IdentityFiles are private keys tried after the agent's.
	IdentityFiles []string
	// KnownHosts are known_hosts files; host keys are always verified
	// against them, never accepted blindly.
	KnownHosts []string
	// ConfigFiles are ssh_config files read in order (default
	// ~/.ssh/config then /etc/ssh/ssh_config); ConfigFiles = []string{}
	// reads none.
	ConfigFiles []string
	// ConnectTimeout bounds dialling and the handshake (default 10s).
	ConnectTimeout time.Duration
	// Getenv reads SSH_AUTH_SOCK and HOME; nil means os.Getenv.
	Getenv func(string) string
}

// SSH runs commands on one host over SSH, one session per command on a
// single connection opened at the first command.
type SSH struct {
	name string
	opt  SSHOptions

	mu     sync.Mutex
	client *ssh.Client
	jumps  []*ssh.Client
	dialed error
}

// NewSSH returns a runner for host (a name as the operator would give it to
// ssh; the ssh_config may map it to another HostName).
func NewSSH(host string, opt SSHOptions) *SSH { return &SSH{name: host, opt: opt} }

// Host returns the host name as given.
func (s *SSH) Host() string { return s.name }

// Close closes the connection (and any jump hosts').
func (s *SSH) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	if s.client != nil {
		errs = append(errs, s.client.Close())
	}
	for i := len(s.jumps) - 1; i >= 0; i-- {
		errs = append(errs, s.jumps[i].Close())
	}
	s.client, s.jumps = nil, nil
	return errors.Join(errs...)
}

func (o SSHOptions) getenv(k string) string {
	if o.Getenv != nil {
		return o.Getenv(k)
	}
	return os.Getenv(k)
}

// target is where and as whom to connect for one host name.
type target struct {
	alias, hostname, user string
	port                  int
	identities            []string
	knownHosts            []string
	proxyJump             string
	strict                string
}

// resolve applies the options, then ssh_config, then defaults.
func (o SSHOptions) resolve(alias string) (target, error) {
	t := target{alias: alias}
	home := o.getenv("HOME")
	files := o.ConfigFiles
	if files == nil {
		if home != "" {
			files = append(files, filepath.Join(home, ".ssh", "config"))
		}
		files = append(files, "/etc/ssh/ssh_config")
	}
	var cfgs []*ssh_config.Config
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		c, err := ssh_config.DecodeBytes(b)
		if err != nil {
			return t, fmt.Errorf("read %s: %w", f, err)
		}
		cfgs = append(cfgs, c)
	}
	get := func(key string) string {
		for _, c := range cfgs {
			if v, err := c.Get(alias, key); err == nil && v != "" {
				return v
			}
		}
		return ""
	}
	getAll := func(key string) []string {
		var out []string
		for _, c := range cfgs {
			if v, err := c.GetAll(alias, key); err == nil {
				out = append(out, v...)
			}
		}
		return out
	}
	t.hostname = get("HostName")
	if t.hostname == "" {
		t.hostname = alias
	}
	t.hostname = strings.ReplaceAll(t.hostname, "%h", alias)
	t.user = o.User
	if t.user == "" {
		t.user = get("User")
	}
	if t.user == "" {
		t.user = o.getenv("USER")
	}
	if t.user == "" {
		t.user = "root"
	}
	t.port = o.Port
	if t.port == 0 {
		if p := get("Port"); p != "" {
			n, err := strconv.Atoi(p)
			if err != nil {
				return t, fmt.Errorf("ssh_config Port %q for %s: %w", p, alias, err)
			}
			t.port = n
		}
	}
	if t.port == 0 {
		t.port = 22
	}
	expand := func(p string) string {
		if strings.HasPrefix(p, "~/") && home != "" {
			return filepath.Join(home, p[2:])
		}
		return p
	}
	t.identities = append(t.identities, o.IdentityFiles...)
	for _, f := range getAll("IdentityFile") {
		t.identities = append(t.identities, expand(f))
	}
	if len(t.identities) == 0 && home != "" {
		for _, n := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
			t.identities = append(t.identities, filepath.Join(home, ".ssh", n))
		}
	}
	t.knownHosts = append(t.knownHosts, o.KnownHosts...)
	if len(t.knownHosts) == 0 {
		for _, f := range strings.Fields(get("UserKnownHostsFile")) {
			t.knownHosts = append(t.knownHosts, expand(f))
		}
		for _, f := range strings.Fields(get("GlobalKnownHostsFile")) {
			t.knownHosts = append(t.knownHosts, expand(f))
		}
	}
	if len(t.knownHosts) == 0 {
		if home != "" {
			t.knownHosts = append(t.knownHosts, filepath.Join(home, ".ssh", "known_hosts"))
		}
		t.knownHosts = append(t.knownHosts, "/etc/ssh/ssh_known_hosts")
	}
	t.proxyJump = get("ProxyJump")
	if strings.EqualFold(t.proxyJump, "none") {
		t.proxyJump = ""
	}
	return t, nil
}

// clientConfig builds the auth and host-key checking for t.
func (o SSHOptions) clientConfig(t target) (*ssh.ClientConfig, error) {
	var existing []string
	for _, f := range t.knownHosts {
		if _, err := os.Stat(f); err == nil {
			existing = append(existing, f)
		}
	}
	if len(existing) == 0 {
		return nil, fmt.Errorf("no known_hosts file (%s): host keys are never accepted unverified", strings.Join(t.knownHosts, ", "))
	}
	hk, err := knownhosts.New(existing...)
	if err != nil {
		return nil, fmt.Errorf("read known_hosts: %w", err)
	}
	var signers []ssh.Signer
	if sock := o.getenv("SSH_AUTH_SOCK"); sock != "" {
		if conn, err := net.Dial("unix", sock); err == nil {
			if ss, err := agent.NewClient(conn).Signers(); err == nil {
				signers = append(signers, ss...)
			}
		}
	}
	for _, f := range t.identities {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		sg, err := ssh.ParsePrivateKey(b)
		if err != nil {
			continue // passphrase-protected keys belong in the agent
		}
		signers = append(signers, sg)
	}
	if len(signers) == 0 {
		return nil, errors.New("no usable key: start ssh-agent and ssh-add a key, or give --ssh-identity")
	}
	timeout := o.ConnectTimeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	return &ssh.ClientConfig{
		User:            t.user,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signers...)},
		HostKeyCallback: hk,
		Timeout:         timeout,
	}, nil
}

// connect dials the host, through its jump hosts if any.
func (s *SSH) connect(ctx context.Context) (*ssh.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client != nil {
		return s.client, nil
	}
	if s.dialed != nil {
		return nil, s.dialed
	}
	c, jumps, err := s.opt.dial(ctx, s.name, 0)
	if err != nil {
		s.dialed = err
		return nil, err
	}
	s.client, s.jumps = c, jumps
	return c, nil
}

func (o SSHOptions) dial(ctx context.Context, alias string, depth int) (*ssh.Client, []*ssh.Client, error) {
	if depth > 4 {
		return nil, nil, errors.New("ProxyJump nested too deep")
	}
	t, err := o.resolve(alias)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := o.clientConfig(t)
	if err != nil {
		return nil, nil, err
	}
	addr := net.JoinHostPort(t.hostname, strconv.Itoa(t.port))
	var jumps []*ssh.Client
	var conn net.Conn
	if t.proxyJump != "" {
		hops := strings.Split(t.proxyJump, ",")
		last := strings.TrimSpace(hops[len(hops)-1])
		if u, h, ok := strings.Cut(last, "@"); ok {
			o2 := o
			o2.User = u
			o = o2
			last = h
		}
		jc, js, err := o.dial(ctx, last, depth+1)
		if err != nil {
			return nil, nil, fmt.Errorf("jump host %s: %w", last, err)
		}
		jumps = append(js, jc)
		conn, err = jc.DialContext(ctx, "tcp", addr)
		if err != nil {
			closeAll(jumps)
			return nil, nil, fmt.Errorf("dial %s through %s: %w", addr, last, err)
		}
	} else {
		d := net.Dialer{Timeout: cfg.Timeout}
		conn, err = d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("dial %s: %w", addr, err)
		}
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	} else {
		conn.SetDeadline(time.Now().Add(cfg.Timeout))
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if err != nil {
		conn.Close()
		closeAll(jumps)
		return nil, nil, fmt.Errorf("ssh handshake with %s: %w", addr, err)
	}
	conn.SetDeadline(time.Time{})
	return ssh.NewClient(c, chans, reqs), jumps, nil
}

func closeAll(cs []*ssh.Client) {
	for _, c := range cs {
		c.Close()
	}
}

// remotePath is the PATH commands get on the remote host.
const remotePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Run runs cmd in a new session. The remote side always goes through a
// shell, so the argv is quoted word by word; a command that outlives its
// deadline gets its session closed.
func (s *SSH) Run(ctx context.Context, cmd Command) (Result, error) {
	if len(cmd.Argv) == 0 {
		return Result{}, &Error{Host: s.name, Kind: KindOther, Err: errors.New("empty command")}
	}
	ctx, cancel := context.WithTimeout(ctx, cmd.timeout())
	defer cancel()
	c, err := s.connect(ctx)
	if err != nil {
		return Result{}, &Error{Host: s.name, Argv: cmd.Argv, Kind: KindUnreachable, Err: err}
	}
	sess, err := c.NewSession()
	if err != nil {
		return Result{}, &Error{Host: s.name, Argv: cmd.Argv, Kind: KindUnreachable, Err: err}
	}
	defer sess.Close()
	out := &capWriter{max: cmd.maxOutput()}
	errOut := &capWriter{max: maxStderr}
	sess.Stdout, sess.Stderr = out, errOut
	line := Quote(append([]string{"env", "LC_ALL=C", "PATH=" + remotePath}, cmd.Argv...))
	done := make(chan error, 1)
	go func() { done <- sess.Run(line) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		sess.Signal(ssh.SIGKILL)
		sess.Close()
		return Result{Stdout: out.buf, Truncated: out.truncated}, &Error{Host: s.name, Argv: cmd.Argv, Kind: KindTimeout, Err: ctx.Err()}
	}
	res := Result{Stdout: out.buf, Stderr: errOut.buf, Truncated: out.truncated}
	if err == nil {
		return res, nil
	}
	var ee *ssh.ExitError
	if errors.As(err, &ee) {
		res.ExitCode = ee.ExitStatus()
		kind := classify(res.ExitCode, errOut.buf)
		// env says "No such file or directory" with 127 for a missing program.
		if res.ExitCode == 127 || bytes.Contains(errOut.buf, []byte("env: ")) && res.ExitCode == 127 {
			kind = KindNotFound
		}
		return res, &Error{Host: s.name, Argv: cmd.Argv, Kind: kind, Code: res.ExitCode, Stderr: firstLine(errOut.buf)}
	}
	return res, &Error{Host: s.name, Argv: cmd.Argv, Kind: KindUnreachable, Err: err}
}
