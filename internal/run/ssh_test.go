package run

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// sshd is a minimal SSH server on loopback for the tests: public-key auth
// for one key, "exec" requests run by sh -c, and direct-tcpip (for
// ProxyJump). It stands for a real sshd, which the test machines lack.
type sshd struct {
	addr    string
	hostKey ssh.Signer
	ln      net.Listener
	wg      sync.WaitGroup
	mu      sync.Mutex
	execs   []string
	jumps   int
}

func newKey(t *testing.T) (ssh.Signer, []byte) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	blk, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	return s, pem.EncodeToMemory(blk)
}

func startSSHD(t *testing.T, client ssh.PublicKey) *sshd {
	hk, _ := newKey(t)
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
		if string(k.Marshal()) == string(client.Marshal()) {
			return nil, nil
		}
		return nil, fmt.Errorf("unknown key")
	}}
	cfg.AddHostKey(hk)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &sshd{addr: ln.Addr().String(), hostKey: hk, ln: ln}
	t.Cleanup(func() { ln.Close(); d.wg.Wait() })
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			d.wg.Add(1)
			go func() { defer d.wg.Done(); d.serve(c, cfg) }()
		}
	}()
	return d
}

func (d *sshd) serve(c net.Conn, cfg *ssh.ServerConfig) {
	defer c.Close()
	_, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		switch nc.ChannelType() {
		case "direct-tcpip":
			var p struct {
				Host     string
				Port     uint32
				OrigHost string
				OrigPort uint32
			}
			ssh.Unmarshal(nc.ExtraData(), &p)
			up, err := net.Dial("tcp", net.JoinHostPort(p.Host, fmt.Sprint(p.Port)))
			if err != nil {
				nc.Reject(ssh.ConnectionFailed, err.Error())
				continue
			}
			ch, rq, _ := nc.Accept()
			go ssh.DiscardRequests(rq)
			d.mu.Lock()
			d.jumps++
			d.mu.Unlock()
			go func() { io.Copy(ch, up); ch.Close() }()
			go func() { io.Copy(up, ch); up.Close() }()
		case "session":
			ch, rq, _ := nc.Accept()
			go func() {
				defer ch.Close()
				for r := range rq {
					if r.Type != "exec" {
						r.Reply(false, nil)
						continue
					}
					var p struct{ Cmd string }
					ssh.Unmarshal(r.Payload, &p)
					r.Reply(true, nil)
					d.mu.Lock()
					d.execs = append(d.execs, p.Cmd)
					d.mu.Unlock()
					cmd := exec.Command("sh", "-c", p.Cmd)
					cmd.Stdout, cmd.Stderr = ch, ch.Stderr()
					code := 0
					if err := cmd.Run(); err != nil {
						code = 255
						if ee, ok := err.(*exec.ExitError); ok {
							code = ee.ExitCode()
						}
					}
					b := make([]byte, 4)
					binary.BigEndian.PutUint32(b, uint32(code))
					ch.SendRequest("exit-status", false, b)
					return
				}
			}()
		default:
			nc.Reject(ssh.UnknownChannelType, "no")
		}
	}
}

// sshSetup writes a client key, a known_hosts and an ssh_config into a
// temporary HOME.
func sshSetup(t *testing.T, config string, servers ...*sshd) (home string, getenv func(string) string) {
	home = t.TempDir()
	os.MkdirAll(filepath.Join(home, ".ssh"), 0o700)
	var kh []string
	for _, s := range servers {
		kh = append(kh, knownhosts.Line([]string{knownhosts.Normalize(s.addr)}, s.hostKey.PublicKey()))
	}
	os.WriteFile(filepath.Join(home, ".ssh", "known_hosts"), []byte(strings.Join(kh, "\n")+"\n"), 0o600)
	os.WriteFile(filepath.Join(home, ".ssh", "config"), []byte(config), 0o600)
	return home, func(k string) string {
		if k == "HOME" {
			return home
		}
		return ""
	}
}

func TestSSH(t *testing.T) {
	client, pemKey := newKey(t)
	d := startSSHD(t, client.PublicKey())
	host, port, _ := net.SplitHostPort(d.addr)
	home, getenv := sshSetup(t, fmt.Sprintf("Host cmp1\n  HostName %s\n  Port %s\n  User nova\n  IdentityFile ~/.ssh/lab_key\n", host, port), d)
	os.WriteFile(filepath.Join(home, ".ssh", "lab_key"), pemKey, 0o600)

	r := NewSSH("cmp1", SSHOptions{Getenv: getenv, ConfigFiles: []string{filepath.Join(home, ".ssh", "config")}})
	defer r.Close()
	ctx := context.Background()
	res, err := r.Run(ctx, Command{Argv: []string{"echo", "it's", "a b"}})
	if err != nil || string(res.Stdout) != "it's a b\n" {
		t.Fatalf("echo over ssh: %q %v", res.Stdout, err)
	}
	if _, err := r.Run(ctx, Command{Argv: []string{"hoofbeat-no-such-tool"}}); KindOf(err) != KindNotFound {
		t.Errorf("missing binary over ssh: %v", err)
	}
	if _, err := r.Run(ctx, Command{Argv: []string{"sh", "-c", "exit 4"}}); KindOf(err) != KindExit {
		t.Errorf("exit 4: %v", err)
	}
	if _, err := r.Run(ctx, Command{Argv: []string{"sleep", "5"}, Timeout: 50 * time.Millisecond}); KindOf(err) != KindTimeout {
		t.Errorf("hang: %v", err)
	}
	d.mu.Lock()
	first := d.execs[0]
	d.mu.Unlock()
	if first != `env LC_ALL=C PATH=`+remotePath+` echo 'it'\''s' 'a b'` {
		t.Errorf("remote command line %q", first)
	}
}

func TestSSHRefusesUnknownHostKeys(t *testing.T) {
	client, pemKey := newKey(t)
	d := startSSHD(t, client.PublicKey())
	other := startSSHD(t, client.PublicKey())
	host, port, _ := net.SplitHostPort(d.addr)
	// known_hosts holds another server's key for this address.
	home, getenv := sshSetup(t, fmt.Sprintf("Host cmp1\n  HostName %s\n  Port %s\n", host, port))
	kf := filepath.Join(home, ".ssh", "known_hosts")
	os.WriteFile(kf, []byte(knownhosts.Line([]string{knownhosts.Normalize(d.addr)}, other.hostKey.PublicKey())+"\n"), 0o600)
	key := filepath.Join(home, "id")
	os.WriteFile(key, pemKey, 0o600)
	r := NewSSH("cmp1", SSHOptions{Getenv: getenv, IdentityFiles: []string{key}, ConfigFiles: []string{filepath.Join(home, ".ssh", "config")}})
	_, err := r.Run(context.Background(), Command{Argv: []string{"true"}})
	if KindOf(err) != KindUnreachable || !strings.Contains(err.Error(), "key mismatch") {
		t.Errorf("mismatching host key: %v", err)
	}
	os.Remove(kf)
	r = NewSSH("cmp1", SSHOptions{Getenv: getenv, IdentityFiles: []string{key}, KnownHosts: []string{kf}, ConfigFiles: []string{}})
	_, err = r.Run(context.Background(), Command{Argv: []string{"true"}})
	if err == nil || !strings.Contains(err.Error(), "never accepted unverified") {
		t.Errorf("no known_hosts: %v", err)
	}
}

func TestSSHProxyJump(t *testing.T) {
	client, pemKey := newKey(t)
	jump := startSSHD(t, client.PublicKey())
	target := startSSHD(t, client.PublicKey())
	jh, jp, _ := net.SplitHostPort(jump.addr)
	th, tp, _ := net.SplitHostPort(target.addr)
	cfg := fmt.Sprintf("Host bastion\n  HostName %s\n  Port %s\nHost cmp1\n  HostName %s\n  Port %s\n  ProxyJump bastion\n", jh, jp, th, tp)
	home, getenv := sshSetup(t, cfg, jump, target)
	key := filepath.Join(home, "id")
	os.WriteFile(key, pemKey, 0o600)
	r := NewSSH("cmp1", SSHOptions{Getenv: getenv, IdentityFiles: []string{key}, ConfigFiles: []string{filepath.Join(home, ".ssh", "config")}})
	defer r.Close()
	res, err := r.Run(context.Background(), Command{Argv: []string{"echo", "via bastion"}})
	if err != nil || string(res.Stdout) != "via bastion\n" {
		t.Fatalf("%q %v", res.Stdout, err)
	}
	jump.mu.Lock()
	defer jump.mu.Unlock()
	if jump.jumps != 1 || len(jump.execs) != 0 {
		t.Errorf("jump host: %d tunnels, %d execs", jump.jumps, len(jump.execs))
	}
}
