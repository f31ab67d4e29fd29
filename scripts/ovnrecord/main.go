// Command ovnrecord turns an OVN lab fixture (the contract's
// /work/ovn-fixtures/<scenario>/: an API snapshot taken without --hosts,
// nb.db and sb.db, and per chassis H.txt with its commands' outputs) into
// what "hoofbeat collect --hosts" would have saved there: the hosts are
// checked through the real collector, the databases answered by an
// ovsdb-server serving the fixture's files (-nb, -sb sockets) and ovn-trace
// run against that SB, the chassis' commands by their recorded outputs. It writes the snapshot and each
// host's recording, for the tests.
//
//	go run ./scripts/ovnrecord -fixture DIR -server vm1 -db-host ctl \
//	    -nb unix:/tmp/x/nb.sock -sb unix:/tmp/x/sb.sock -out FILE.json -record DIR
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hoofbeat/hoofbeat/internal/host"
	"github.com/hoofbeat/hoofbeat/internal/pipeline"
	"github.com/hoofbeat/hoofbeat/internal/run"
	"github.com/hoofbeat/hoofbeat/internal/snapshot"
)

func main() {
	fixture := flag.String("fixture", "", "the fixture folder")
	server := flag.String("server", "vm1", "the server (api-SERVER.json)")
	dbHost := flag.String("db-host", "ctl", "the host that holds the databases")
	nb := flag.String("nb", "", "the socket serving the fixture's nb.db")
	sb := flag.String("sb", "", "the socket serving the fixture's sb.db")
	out := flag.String("out", "", "the snapshot file to write")
	record := flag.String("record", "", "the folder for the hosts' recordings (optional)")
	flag.Parse()
	if err := record1(*fixture, *server, *dbHost, *nb, *sb, *out, *record); err != nil {
		fmt.Fprintln(os.Stderr, "ovnrecord:", err)
		os.Exit(1)
	}
}

func record1(fixture, server, dbHost, nb, sb, out, recDir string) error {
	f, err := os.Open(filepath.Join(fixture, "api-"+server+".json"))
	if err != nil {
		return err
	}
	snap, err := snapshot.Read(f)
	f.Close()
	if err != nil {
		return err
	}
	snap.Hosts = nil
	var recs []*run.Record
	reach := func(names []string, roles map[string][]string) ([]host.Target, func() error, error) {
		var ts []host.Target
		for _, n := range names {
			fr := &fixtureRunner{name: n, outputs: map[string][]byte{}}
			if err := fr.load(filepath.Join(fixture, n+".txt")); err != nil {
				return nil, nil, err
			}
			if n == dbHost {
				fr.nb, fr.sb = nb, sb
			}
			rec := &run.Record{Runner: fr}
			recs = append(recs, rec)
			ts = append(ts, host.Target{Name: n, Roles: roles[n], Runner: rec, Via: "ssh", Namespaces: fr})
		}
		return ts, func() error { return nil }, nil
	}
	req := pipeline.Request{Server: server, From: pipeline.Stored{Snapshot: snap, Name: "fixture"}, Hosts: &pipeline.HostCheck{Reach: reach}}
	got, err := pipeline.Collect(context.Background(), req)
	if err != nil {
		return err
	}
	w, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := snapshot.Write(w, got); err != nil {
		w.Close()
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	if recDir == "" {
		return nil
	}
	for _, r := range recs {
		if err := r.Save(filepath.Join(recDir, r.Host())); err != nil {
			return err
		}
	}
	return nil
}

// fixtureRunner answers a chassis' commands from H.txt and the database
// reads from the sockets serving the fixture's files.
type fixtureRunner struct {
	name    string
	nb, sb  string
	outputs map[string][]byte
}

func (r *fixtureRunner) Host() string { return r.name }

func (r *fixtureRunner) load(path string) error {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var cur string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		if c, ok := strings.CutPrefix(line, "### "); ok {
			cur = run.Quote(strings.Fields(c))
			r.outputs[cur] = []byte{}
			continue
		}
		if cur != "" {
			r.outputs[cur] = append(append(r.outputs[cur], line...), '\n')
		}
	}
	return sc.Err()
}

func (r *fixtureRunner) Run(ctx context.Context, cmd run.Command) (run.Result, error) {
	argv := cmd.Argv
	if len(argv) == 4 && argv[0] == "ovsdb-client" && argv[1] == "transact" {
		sock := map[string]string{host.OVNNBSocket: r.nb, host.OVNSBSocket: r.sb}[argv[2]]
		if sock == "" {
			return run.Result{Stderr: []byte(fmt.Sprintf("ovsdb-client: failed to connect to %q (No such file or directory)", argv[2])), ExitCode: 1},
				&run.Error{Host: r.name, Argv: argv, Kind: run.KindExit, Code: 1, Stderr: fmt.Sprintf("ovsdb-client: failed to connect to %q (No such file or directory)", argv[2])}
		}
		local := &run.Local{Name: r.name}
		return local.Run(ctx, run.Command{Argv: []string{argv[0], argv[1], sock, argv[3]}, Timeout: cmd.Timeout, MaxOutput: cmd.MaxOutput})
	}
	if len(argv) > 1 && argv[0] == "ovn-trace" && argv[1] == "--db="+host.OVNSBSocket && r.sb != "" {
		local := &run.Local{Name: r.name}
		return local.Run(ctx, run.Command{Argv: append([]string{argv[0], "--db=" + r.sb}, argv[2:]...), Timeout: cmd.Timeout, MaxOutput: cmd.MaxOutput})
	}
	key := run.Quote(argv)
	if key == run.Quote(host.PSArgs) {
		key = "ps -eo pid,user,args"
	}
	if out, ok := r.outputs[key]; ok {
		if key == "ps -eo pid,user,args" {
			_, out, _ = bytes.Cut(out, []byte("\n")) // the header line ps -o pid= does not print
		}
		if key == run.Quote(host.OVNConnectionArgs) && bytes.Contains(out, []byte("ovn-appctl: ")) {
			// The fixture keeps a failure's stderr as the output.
			return run.Result{Stderr: out, ExitCode: 1}, &run.Error{Host: r.name, Argv: argv, Kind: run.KindExit, Code: 1, Stderr: string(bytes.TrimSpace(out))}
		}
		return run.Result{Stdout: out}, nil
	}
	if run.Quote(argv) == "true" {
		return run.Result{}, nil
	}
	return run.Result{ExitCode: 1}, &run.Error{Host: r.name, Argv: argv, Kind: run.KindOther, Err: errNotRecorded}
}

// errNotRecorded is a command the fixture has no output of.
var errNotRecorded = errors.New("not in the lab's fixture")

// Namespaces lists the chassis' namespaces from its recorded "ip netns"
// (names only: the fixture has not their devices).
func (r *fixtureRunner) Namespaces(context.Context) ([]snapshot.Namespace, error) {
	out, ok := r.outputs["ip netns"]
	if !ok {
		return nil, fmt.Errorf("ip netns: not in the fixture")
	}
	var nss []snapshot.Namespace
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			nss = append(nss, snapshot.Namespace{Name: f[0]})
		}
	}
	return nss, nil
}
