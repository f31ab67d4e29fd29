//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// hostArgs are the flags every diagnosis runs with: the host checks, the
// controller (where hoofbeat runs) checked directly, cmp1 over SSH as an
// operator would, with a key and a known_hosts made for the suite.
var hostArgs []string

// setupHosts starts an sshd on cmp1's address inside cmp1's namespaces,
// with a generated host key, and returns how to stop it (by its process
// group, which only it is in). The sshd listens only on 192.0.2.11, which
// exists only inside the lab.
func setupHosts() (stop func(), err error) {
	if _, err := os.Stat("/usr/sbin/sshd"); err != nil {
		return func() {}, fmt.Errorf("no sshd on this machine (apt-get install openssh-server): %w", err)
	}
	dir, err := os.MkdirTemp("", "hoofbeat-e2e-ssh")
	if err != nil {
		return func() {}, err
	}
	for _, k := range []string{"hostkey", "id"} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "hoofbeat-e2e", "-f", filepath.Join(dir, k)).CombinedOutput(); err != nil {
			return func() { os.RemoveAll(dir) }, fmt.Errorf("ssh-keygen: %v: %s", err, out)
		}
	}
	pub, _ := os.ReadFile(filepath.Join(dir, "id.pub"))
	hostPub, _ := os.ReadFile(filepath.Join(dir, "hostkey.pub"))
	f := strings.Fields(string(hostPub))
	os.WriteFile(filepath.Join(dir, "authorized_keys"), pub, 0o600)
	os.WriteFile(filepath.Join(dir, "known_hosts"), []byte(fmt.Sprintf("cmp1,192.0.2.11 %s %s\n", f[0], f[1])), 0o600)
	cfg := fmt.Sprintf(`ListenAddress 192.0.2.11
Port 22
HostKey %[1]s/hostkey
AuthorizedKeysFile %[1]s/authorized_keys
PidFile none
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
`, dir)
	os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(cfg), 0o600)
	onCmp1 := filepath.Join(repo, "lab", "on.sh")
	if out, err := exec.Command(onCmp1, "cmp1", "mkdir", "-p", "/run/sshd").CombinedOutput(); err != nil {
		return func() { os.RemoveAll(dir) }, fmt.Errorf("prepare cmp1: %v: %s", err, out)
	}
	logf, _ := os.Create(filepath.Join(dir, "sshd.log"))
	cmd := exec.Command(onCmp1, "cmp1", "/usr/sbin/sshd", "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return func() { os.RemoveAll(dir) }, err
	}
	stop = func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		cmd.Wait()
		logf.Close()
		os.RemoveAll(dir)
	}
	// Wait until it answers.
	for i := 0; i < 50; i++ {
		out, err := exec.Command(onCmp1, "cmp1", "sh", "-c", "ss -ltn | grep -q '192.0.2.11:22 '").CombinedOutput()
		if err == nil {
			hostArgs = []string{"--hosts", "--ssh", "--ssh-user", "root", "--ssh-identity", filepath.Join(dir, "id"), "--known-hosts", filepath.Join(dir, "known_hosts")}
			return stop, nil
		}
		_ = out
		time.Sleep(100 * time.Millisecond)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "sshd.log"))
	stop()
	return func() {}, fmt.Errorf("sshd on cmp1 did not start: %s", b)
}
