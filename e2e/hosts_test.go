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
// controller (where hoofbeat runs) checked directly, the compute hosts with
// instances (cmp1; and cmp2, vm4's hypervisor, with real guests) over SSH as
// an operator would, with a key and a known_hosts made for the suite.
var hostArgs []string

// sshHosts are the lab hosts the suite reaches over SSH, with their addresses.
func sshHosts() map[string]string {
	hosts := map[string]string{"cmp1": "192.0.2.11"}
	if guests == "real" {
		hosts["cmp2"] = "192.0.2.12"
	}
	return hosts
}

// setupHosts starts an sshd on each of sshHosts' addresses inside that
// host's namespaces, with a generated host key, and returns how to stop them
// (by their process groups, which only they are in). Each sshd listens only
// on its host's underlay address, which exists only inside the lab.
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
	var known strings.Builder
	for host, addr := range sshHosts() {
		fmt.Fprintf(&known, "%s,%s %s %s\n", host, addr, f[0], f[1])
	}
	os.WriteFile(filepath.Join(dir, "known_hosts"), []byte(known.String()), 0o600)
	var stops []func()
	stop = func() {
		for _, s := range stops {
			s()
		}
		os.RemoveAll(dir)
	}
	for host, addr := range sshHosts() {
		s, err := startSSHD(dir, host, addr)
		if err != nil {
			stop()
			return func() {}, err
		}
		stops = append(stops, s)
	}
	hostArgs = []string{"--hosts", "--ssh", "--ssh-user", "root", "--ssh-identity", filepath.Join(dir, "id"), "--known-hosts", filepath.Join(dir, "known_hosts")}
	return stop, nil
}

// startSSHD starts sshd on host, listening on addr, and waits until it does.
func startSSHD(dir, host, addr string) (stop func(), err error) {
	cfg := fmt.Sprintf(`ListenAddress %[2]s
Port 22
HostKey %[1]s/hostkey
AuthorizedKeysFile %[1]s/authorized_keys
PidFile none
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
`, dir, addr)
	conf := filepath.Join(dir, "sshd_config-"+host)
	os.WriteFile(conf, []byte(cfg), 0o600)
	on := filepath.Join(repo, "lab", "on.sh")
	if out, err := exec.Command(on, host, "mkdir", "-p", "/run/sshd").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("prepare %s: %v: %s", host, err, out)
	}
	logName := filepath.Join(dir, "sshd-"+host+".log")
	logf, _ := os.Create(logName)
	cmd := exec.Command(on, host, "/usr/sbin/sshd", "-D", "-e", "-f", conf)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop = func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		cmd.Wait()
		logf.Close()
	}
	for i := 0; i < 50; i++ {
		if exec.Command(on, host, "sh", "-c", "ss -ltn | grep -qF '"+addr+":22 '").Run() == nil {
			return stop, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, _ := os.ReadFile(logName)
	stop()
	return nil, fmt.Errorf("sshd on %s did not start: %s", host, b)
}
