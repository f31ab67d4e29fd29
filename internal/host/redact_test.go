package host

import (
	"strings"
	"testing"

	"github.com/hoofbeat/hoofbeat/internal/run"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

func TestMaskArgs(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"qemu-system-x86_64 -object secret,id=masterKey0,data=c2VjcmV0,format=base64 -uuid 1",
			"qemu-system-x86_64 -object secret,id=masterKey0,data=REDACTED,format=base64 -uuid 1"},
		{"openstack --os-password hunter2 server list", "openstack --os-password REDACTED server list"},
		{"tool --password=hunter2 --token abc --verbose", "tool --password=REDACTED --token REDACTED --verbose"},
		{"tool os_password=hunter2 admin_passwd=x", "tool os_password=REDACTED admin_passwd=REDACTED"},
		{"/usr/bin/mysql -u nova -phunter2 nova", "/usr/bin/mysql -u nova -pREDACTED nova"},
		{"mysqldump -phunter2 --all-databases", "mysqldump -pREDACTED --all-databases"},
		{"curl -u admin:hunter2 http://ctl/", "curl -u admin:REDACTED http://ctl/"},
		{"curl --user=admin:hunter2 http://ctl/", "curl --user=admin:REDACTED http://ctl/"},
		{"agent --transport-url rabbit://openstack:hunter2@ctl:5672,other:pw2@cmp1:5672/",
			"agent --transport-url rabbit://openstack:REDACTED@ctl:5672,other:REDACTED@cmp1:5672/"},
		{"qemu -drive file=rbd:vms/disk:id=nova:key=AQBhunter2:auth_supported=cephx", "qemu -drive file=rbd:vms/disk:id=nova:key=REDACTED"},
		// Not credentials: left as they are.
		{"ssh -p 22 ctl", "ssh -p 22 ctl"},
		{"dnsmasq --no-hosts --pid-file=/run/x.pid", "dnsmasq --no-hosts --pid-file=/run/x.pid"},
		{"sudo -u nova nova-manage", "sudo -u nova nova-manage"},
		{"curl http://ctl:8774/v2.1@x", "curl http://ctl:8774/v2.1@x"},
	} {
		if got := MaskArgs(tc.in); got != tc.want {
			t.Errorf("MaskArgs(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

// Every syntax oslo.config reads, and URLs with a password in any value.
func TestMaskConfig(t *testing.T) {
	in := `[DEFAULT]
transport_url = rabbit://openstack:hunter1@ctl:5672/
my_ip = 192.0.2.11
[database]
connection=mysql+pymysql://nova:hunter2@ctl/nova
[keystone_authtoken]
password: hunter3
memcache_secret_key:hunter4
#admin_password = hunter5
  password	=	hunter6
[serial_console]
base_url = ws://user:hunter7@ctl:6083/
listen = 192.0.2.11
[glance]
api_key = hunter8
`
	got := string(MaskConfig([]byte(in)))
	for i := 1; i <= 8; i++ {
		if s := "hunter" + string(rune('0'+i)); strings.Contains(got, s) {
			t.Errorf("%s is left:\n%s", s, got)
		}
	}
	for _, keep := range []string{"my_ip = 192.0.2.11", "listen = 192.0.2.11", "password: REDACTED", "connection=REDACTED",
		"memcache_secret_key:REDACTED", "base_url = ws://user:REDACTED@ctl:6083/"} {
		if !strings.Contains(got, keep) {
			t.Errorf("lacks %q:\n%s", keep, got)
		}
	}
	nc, err := ParseNovaConf(map[string][]byte{"f": []byte(got)}, []string{"f"})
	if err != nil || nc.Listen != "192.0.2.11" || nc.MyIP != "192.0.2.11" {
		t.Errorf("the masked file no longer reads: %+v %v", nc, err)
	}
}

// A recording keeps outputs masked by kind: config files, the process
// table (a line per process, spacing kept), anything else.
func TestRedactRecorded(t *testing.T) {
	ps := "  101 root     /usr/bin/mysql -phunter1 nova\n  102 nova     /usr/bin/python3 /usr/bin/nova-compute --config-file /etc/nova/nova.conf\n"
	got := string(RedactRecorded(run.Command{Argv: PSArgs}, []byte(ps)))
	want := "  101 root     /usr/bin/mysql -pREDACTED nova\n  102 nova     /usr/bin/python3 /usr/bin/nova-compute --config-file /etc/nova/nova.conf\n"
	if got != want {
		t.Errorf("ps:\n got %q\nwant %q", got, want)
	}
	if got := string(RedactRecorded(run.Cat("/etc/nova/nova.conf"), []byte("[a]\npassword: x\n"))); got != "[a]\npassword: REDACTED\n" {
		t.Errorf("cat: %q", got)
	}
	log := "2026-01-01 ERROR oslo.messaging Connection failed to rabbit://openstack:hunter1@ctl:5672/ password=hunter2\n"
	if got := string(RedactRecorded(run.Command{Argv: []string{"tail", "-n", "2000", "--", "/var/log/x.log"}}, []byte(log))); strings.Contains(got, "hunter") {
		t.Errorf("tail: %q", got)
	}
}

// What a snapshot keeps from a host carries no password either.
func TestSnapshotValuesMasked(t *testing.T) {
	nc, err := ParseNovaConf(map[string][]byte{"f": []byte("[serial_console]\nbase_url = wss://u:hunter1@ctl:6083/\n")}, []string{"f"})
	if err != nil || nc.BaseURL != "wss://u:REDACTED@ctl:6083/" {
		t.Errorf("base_url %q %v", nc.BaseURL, err)
	}
	procs := EvidenceProcesses([]snapshot.Process{{PID: 1, User: "nova", Args: "/usr/bin/python3 /usr/bin/nova-compute --transport-url rabbit://o:hunter2@ctl/ --os-password hunter3"}})
	if len(procs) != 1 || strings.Contains(procs[0].Args, "hunter") {
		t.Errorf("processes %+v", procs)
	}
	errs, _ := ScanLog("/var/log/nova/nova-compute.log", []byte("2026-01-01 12:00:00.000 1 ERROR nova.compute.manager [-] AMQP server on rabbit://openstack:hunter4@ctl:5672 is unreachable: password=hunter5\n"))
	if len(errs) != 1 {
		t.Fatalf("log lines %+v", errs)
	}
	for _, l := range errs {
		if strings.Contains(l.Line, "hunter") {
			t.Errorf("log line %q", l.Line)
		}
	}
}
