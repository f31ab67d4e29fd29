package run

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// realSSHD starts the system's sshd on 127.0.0.1, on a free port, with a
// host key of its own and one authorized key; it is stopped, by its PID,
// when the test ends. It returns the port and the host's public key line.
func realSSHD(t *testing.T, dir, name, authorized string, extra ...string) (int, string) {
	t.Helper()
	sshd := "/usr/sbin/sshd"
	if _, err := os.Stat(sshd); err != nil {
		t.Skip("no sshd (Debian: openssh-server)")
	}
	if os.Geteuid() != 0 {
		t.Skip("sshd needs root here")
	}
	key := filepath.Join(dir, name+"_host_ed25519")
	keygen(t, key)
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cfg := filepath.Join(dir, name+"_sshd_config")
	writeTestFile(t, cfg, fmt.Sprintf(`ListenAddress 127.0.0.1
Port %d
HostKey %s
PidFile %s
AuthorizedKeysFile %s
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowTcpForwarding yes
LogLevel ERROR
%s
`, port, key, filepath.Join(dir, name+".pid"), authorized, strings.Join(extra, "\n")))
	cmd := exec.Command(sshd, "-D", "-e", "-f", cfg)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	for deadline := time.Now().Add(5 * time.Second); ; {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd %s did not listen: %v", name, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	f := strings.Fields(string(pub))
	return port, f[0] + " " + f[1]
}

func keygen(t *testing.T, path string) {
	t.Helper()
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "hoofbeat-test", "-f", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
}

func writeTestFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestOpenSSHThroughProxyCommand: a host the operator's ssh_config reaches
// through a ProxyCommand hop (ssh -W through a jump sshd) is reached so by
// hoofbeat, its host key checked against known_hosts; a host whose key is
// unknown is refused even where the configuration says
// StrictHostKeyChecking no, and so is a host whose key changed.
func TestOpenSSHThroughProxyCommand(t *testing.T) {
	program := SystemSSH()
	if program == "" {
		t.Skip("no ssh client")
	}
	dir := t.TempDir()
	id := filepath.Join(dir, "id_ed25519")
	keygen(t, id)
	authorized := filepath.Join(dir, "authorized_keys")
	pub, _ := os.ReadFile(id + ".pub")
	writeTestFile(t, authorized, string(pub))
	// A second key, not authorized, whose certificate the target's CA
	// signed: only CertificateFile gets it in.
	ca, certKey := filepath.Join(dir, "user_ca"), filepath.Join(dir, "id_cert")
	keygen(t, ca)
	keygen(t, certKey)
	if out, err := exec.Command("ssh-keygen", "-q", "-s", ca, "-I", "hoofbeat-test", "-n", "root", "-V", "+1h", certKey+".pub").CombinedOutput(); err != nil {
		t.Fatalf("sign: %v %s", err, out)
	}
	jumpPort, jumpKey := realSSHD(t, dir, "jump", authorized)
	targetPort, targetKey := realSSHD(t, dir, "target", authorized, "TrustedUserCAKeys "+ca+".pub")

	known := filepath.Join(dir, "known_hosts")
	// The jump host and the target by the aliases ssh checks them under;
	// "changed" claims the jump's key for the target's address.
	writeTestFile(t, known, fmt.Sprintf("jump %s\ntarget %s\nchanged %s\n", jumpKey, targetKey, jumpKey))
	marker := filepath.Join(dir, "hops")
	cfg := filepath.Join(dir, "ssh_config")
	hop := fmt.Sprintf("ProxyCommand sh -c 'echo %%h:%%p >> %s; exec ssh -F %s -W %%h:%%p jump'", marker, cfg)
	writeTestFile(t, cfg, fmt.Sprintf(`Host jump
  HostName 127.0.0.1
  Port %d
  HostKeyAlias jump
Host target
  HostName 127.0.0.1
  Port %d
  HostKeyAlias target
  %s
Host unknown
  HostName 127.0.0.1
  Port %d
  HostKeyAlias unknown
  StrictHostKeyChecking no
  %s
Host target-pj
  HostName 127.0.0.1
  Port %d
  HostKeyAlias target
  ProxyJump jump
Host target-mux
  HostName 127.0.0.1
  Port %d
  HostKeyAlias target
  ControlPath %s
  ControlMaster no
  %s
Host target-cert
  HostName 127.0.0.1
  Port %d
  HostKeyAlias target
  IdentityFile %s
  CertificateFile %s
  IdentitiesOnly yes
  IdentityAgent none
Host changed
  HostName 127.0.0.1
  Port %d
  HostKeyAlias changed
  %s
Host * !target-cert
  IdentityFile %s
Host *
  User root
  IdentitiesOnly yes
  UserKnownHostsFile %s
  GlobalKnownHostsFile /dev/null
`, jumpPort, targetPort, hop, targetPort, hop, targetPort, targetPort, filepath.Join(dir, "mux"), hop, targetPort, certKey, certKey+"-cert.pub", targetPort, hop, id, known))
	before, _ := os.ReadFile(known)

	opt := SSHOptions{ConfigFiles: []string{cfg}, ConnectTimeout: 5 * time.Second,
		Getenv: func(k string) string { return map[string]string{"HOME": dir, "PATH": os.Getenv("PATH")}[k] }}
	ctx := context.Background()
	r, err := NewOpenSSH("target", program, opt)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(ctx, Command{Argv: []string{"printf", "%s|", "a b", "$HOME;x", "it's"}})
	if err != nil {
		t.Fatalf("through the ProxyCommand: %v", err)
	}
	if got := string(res.Stdout); got != "a b|$HOME;x|it's|" {
		t.Errorf("stdout %q: the words were not kept", got)
	}
	hops, _ := os.ReadFile(marker)
	if !strings.Contains(string(hops), fmt.Sprintf("127.0.0.1:%d", targetPort)) {
		t.Errorf("the ProxyCommand was not used: %q", hops)
	}
	_, err = r.Run(ctx, Command{Argv: []string{"sh", "-c", "exit 3"}})
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindExit || e.Code != 3 {
		t.Errorf("exit 3: %v", err)
	}
	_, err = r.Run(ctx, Command{Argv: []string{"no-such-program-hoofbeat"}})
	if !errors.As(err, &e) || e.Kind != KindNotFound {
		t.Errorf("missing program: %v", err)
	}
	// Three commands, one connection: the runner's own master carried
	// them (the ProxyCommand ran once). Close ends it and its directory.
	if hops, _ := os.ReadFile(marker); strings.Count(string(hops), "\n") != 1 {
		t.Errorf("want one connection for three commands, the ProxyCommand ran for: %q", hops)
	}
	if r.muxDir == "" {
		t.Fatal("no control socket directory")
	}
	sock, _ := filepath.Glob(filepath.Join(r.muxDir, "*"))
	if len(sock) != 1 {
		t.Errorf("control sockets: %v", sock)
	}
	if err := r.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if _, err := os.Stat(r.muxDir); !os.IsNotExist(err) {
		t.Errorf("%s left behind: %v", r.muxDir, err)
	}
	if len(sock) == 1 {
		check := exec.Command(program, "-F", cfg, "-o", "ControlPath="+sock[0], "-O", "check", "target")
		if out, err := check.CombinedOutput(); err == nil {
			t.Errorf("the master outlived Close: %s", out)
		}
	}
	os.Remove(marker)

	// ProxyJump, as ssh does it.
	pj, err := NewOpenSSH("target-pj", program, opt)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := pj.Run(ctx, Command{Argv: []string{"echo", "jumped"}}); err != nil || string(res.Stdout) != "jumped\n" {
		t.Errorf("ProxyJump: %q %v", res.Stdout, err)
	}

	// A user certificate (CertificateFile): its key alone is not
	// authorized.
	cert, err := NewOpenSSH("target-cert", program, opt)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := cert.Run(ctx, Command{Argv: []string{"echo", "certified"}}); err != nil || string(res.Stdout) != "certified\n" {
		t.Errorf("CertificateFile: %q %v", res.Stdout, err)
	}

	// The operator's ControlMaster: commands go through its socket, with
	// no new connection (the ProxyCommand does not run again).
	master := exec.Command(program, "-F", cfg, "-M", "-N", "-o", "ControlMaster=yes", "-o", "BatchMode=yes", "target-mux")
	if err := master.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		master.Process.Kill()
		master.Wait()
	})
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "mux")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the control master did not start")
		}
	}
	hopsBefore, _ := os.ReadFile(marker)
	mux, err := NewOpenSSH("target-mux", program, opt)
	defer mux.Close()
	if err != nil {
		t.Fatal(err)
	}
	if res, err := mux.Run(ctx, Command{Argv: []string{"echo", "shared"}}); err != nil || string(res.Stdout) != "shared\n" {
		t.Errorf("ControlPath: %q %v", res.Stdout, err)
	}
	if hopsAfter, _ := os.ReadFile(marker); string(hopsAfter) != string(hopsBefore) {
		t.Errorf("a new connection was made instead of the master's: %q", hopsAfter)
	}
	if mux.muxDir != "" {
		t.Errorf("a master of its own (%s) beside the operator's ControlPath", mux.muxDir)
	}

	for _, h := range []struct{ host, says string }{
		{"unknown", "Host key verification failed"},
		{"changed", "Host key verification failed"},
	} {
		r, err := NewOpenSSH(h.host, program, opt)
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Run(ctx, Command{Argv: []string{"true"}})
		if !errors.As(err, &e) || e.Kind != KindUnreachable || !strings.HasSuffix(err.Error(), h.says+".") {
			t.Errorf("%s: %v, want unreachable: %s", h.host, err, h.says)
		}
	}
	if after, _ := os.ReadFile(known); string(after) != string(before) {
		t.Errorf("known_hosts was changed:\n%s", after)
	}
}

// TestOpenSSHRefusesHostileNames: a host name from a cloud never becomes
// an ssh option or a user.
func TestOpenSSHRefusesHostileNames(t *testing.T) {
	for _, h := range []string{"-oProxyCommand=touch /tmp/x", "root@evil", "a b", "", "x\ny", "-F"} {
		if _, err := NewOpenSSH(h, "ssh", SSHOptions{}); err == nil {
			t.Errorf("%q accepted", h)
		}
	}
	r, err := NewOpenSSH("cmp1.example", "ssh", SSHOptions{User: "ops", Port: 2222, KnownHosts: []string{"/k"}})
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Join(r.args("true"), " ")
	for _, want := range []string{"-o BatchMode=yes", "-o StrictHostKeyChecking=yes", "-l ops", "-p 2222", "-o UserKnownHostsFile=/k", "-- cmp1.example true"} {
		if !strings.Contains(args, want) {
			t.Errorf("args %q lack %q", args, want)
		}
	}
}
