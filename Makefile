# hoofbeat's build and test entry points. `make test` is what CI runs
# (.ci/run) and what the README tells you to run.
SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
GO ?= go
BIN := bin/hoofbeat

.PHONY: build man dist unit lint fuzz e2e e2e-ovs e2e-ovn ovn-lab test bench demo browser

build:
	$(GO) build -o $(BIN) ./cmd/hoofbeat

# man: the man pages (section 1), one per verb, from the --help texts.
man: build
	$(BIN) man dist/man

# dist: static release binaries (linux amd64 and arm64, darwin arm64), a
# .deb per Linux architecture and SHA256SUMS, into dist/ (scripts/dist.sh;
# VERSION=v1.2.3 to name a release).
dist:
	scripts/dist.sh

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags e2e ./...
	@# The darwin build compiles here, in CI, not first on a user's Mac.
	GOOS=darwin GOARCH=arm64 $(GO) vet ./...
	@# Alert rules and the metrics' exposition, by promtool (installs it).
	scripts/promcheck.sh

# browser: Debian's chromium, for the HTML path picture's test in a real
# browser (it skips, saying why, where chromium is missing).
browser:
	scripts/install-chromium.sh

unit: browser
	$(GO) test -race -count=1 ./...

fuzz:
	scripts/fuzz.sh

# Which instances each flavour's lab runs: real (vm4, the small guest,
# booted by Nova's libvirt driver on cmp2 under qemu, plugged by os-vif) or
# fake (Nova's fake driver, a namespace standing in for each). The Linux
# bridge lab boots a real guest and runs the guest faults; the others keep
# fake ones (CI's 45 minutes; the Open vSwitch lab's cmp2 stays idle for
# TestIdleHostStaysHealthy). OVS_GUESTS=real make e2e-ovs and
# OVN_GUESTS=real make e2e-ovn boot vm4 there too and run the guest faults.
LAB_GUESTS ?= real
OVS_GUESTS ?= fake
OVN_GUESTS ?= fake
# E2E_SKIP: scenarios a suite skips (go test -skip), for make test's budget.
E2E_SKIP ?=
# e2e brings a fresh Linux bridge lab up (lab/down.sh first; OpenStack is
# installed on first use), seeds it and runs the end-to-end suite against
# it, the guest faults included.
e2e: build
	scripts/prometheus-tools.sh
	lab/down.sh
	LAB_L2=linuxbridge LAB_GUESTS=$(LAB_GUESTS) lab/up.sh
	lab/seed.sh
	$(GO) test -tags e2e -count=1 -timeout 40m -v ./e2e/...

# e2e-ovs runs the same suite against the Open vSwitch flavour, so that the
# OVS rules meet a real OVS: a lab has one flavour, hence a full down.sh
# before and after.
e2e-ovs: build
	scripts/prometheus-tools.sh
	lab/down.sh
	LAB_L2=ovs LAB_GUESTS=$(OVS_GUESTS) lab/up.sh
	lab/seed.sh
	$(GO) test -tags e2e -count=1 -timeout 40m -v $(if $(E2E_SKIP),-skip '$(E2E_SKIP)') ./e2e/...
	lab/down.sh

# e2e-ovn: the same against ML2/OVN (OVN NB/SB, ovn-northd, ovn-controller;
# no ML2 agents), with the OVN faults of lab/fault.sh.
e2e-ovn: ovn-lab
	$(GO) test -tags e2e -count=1 -timeout 40m -v ./e2e/...
	lab/down.sh

# ovn-lab: a fresh OVN lab, up and seeded.
ovn-lab: build
	lab/down.sh
	LAB_L2=ovn LAB_GUESTS=$(OVN_GUESTS) lab/up.sh
	lab/seed.sh

# test: fuzzing needs no lab and bringing a lab up is mostly waiting on its
# services, so the fuzzing runs (at low priority: the lab's readiness has
# deadlines) while the OVN lab comes up and is seeded; the suites follow.
# A failed bring-up ends the fuzzing (its own process group); a failed
# fuzz target fails the line once the lab is up. It runs 25000 executions
# a target here (make fuzz: 50000). To keep CI within its 45 minutes, the
# Open vSwitch suite skips here the faults made through the API alone
# (security groups, router, subnet, port, the audit log's lines), which
# the Linux bridge and OVN suites run.
API_FAULTS := TestFaults/(icmp-ingress|egress|router-interface|router-gateway|dhcp-disabled|port-admin-down|selinux-evidence)
test: lint unit
	setsid nice -n 10 env FUZZEXECS=$${FUZZEXECS:-25000} scripts/fuzz.sh & fuzz=$$!; \
	if ! $(MAKE) ovn-lab; then kill -- -$$fuzz 2>/dev/null; wait $$fuzz; exit 1; fi; \
	wait $$fuzz
	$(GO) test -tags e2e -count=1 -timeout 40m -v ./e2e/...
	lab/down.sh
	$(MAKE) e2e
	$(MAKE) e2e-ovs E2E_SKIP='$(API_FAULTS)'

bench:
	bench/run.sh

# demo: a real OpenStack in network namespaces (lab/), the ICMP rule of the
# server's security group removed for real, and hoofbeat finding it.
demo: build
	lab/up.sh
	lab/seed.sh
	lab/fault.sh icmp-ingress
	OS_CLOUD=lab-admin lab/on.sh ctl $(CURDIR)/$(BIN) diagnose vm1; status=$$?; \
	lab/fault.sh heal icmp-ingress; [ $$status -le 1 ]

# ---- the lab (lab/README.md): a real OpenStack Zed in network namespaces ----
.PHONY: lab lab-down seed record examples guests

# lab: install (first time) and start the two-host lab, wait until healthy.
lab:
	lab/up.sh

lab-down:
	lab/down.sh

seed: lab
	lab/seed.sh

# record: API and host fixtures from the lab, healthy and under every fault
# (inject, record, heal), into internal/{openstack,host}/testdata/lab/.
record: seed
	lab/record.sh --all

# guests: build (or reuse) the small guest image and boot it under qemu,
# without the lab, in its own namespace hbg-test: lease, metadata, getty
# login (lab/guest-test.sh; --guest debian for the cloud-init guest).
guests:
	lab/guest-test.sh

# examples: re-collect examples/snapshots/ (one per fault, and healthy) by
# running the e2e suite, which then also writes what "hoofbeat collect"
# sees of each scenario, hosts included. On the Linux bridge lab it writes
# every fault's; on the Open vSwitch lab (LAB_L2=ovs) those only it has.
examples: seed
	$(GO) test -tags e2e -count=1 -timeout 40m -run 'TestHealthyLab|TestFaults' ./e2e/... -args -examples $(CURDIR)/examples/snapshots
