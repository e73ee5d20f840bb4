# casco: build, demo, test, bench.
# Every target installs the Debian packages it needs, so a fresh Debian 12
# machine (as root) needs nothing else.

GO        ?= $(shell command -v go || echo /usr/local/go/bin/go)
export PATH := $(PATH):/usr/local/go/bin
VERSION   := 0.1.0
COMMIT    := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
# Linked statically (as runc's release builds are), with musl (see below): no
# dynamic loader, no symbol binding, no libc NSS (osusergo,netgo).
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -linkmode external -extldflags "-static -Wl,-z,stack-size=8388608"
DEMO_DIR  ?= /var/tmp/casco-demo

# name:package pairs installed on demand
BUILD_PKGS := libseccomp-dev libc6-dev pkg-config gcc musl-tools
TEST_PKGS  := busybox-static golang-github-containers-common procps criu iptables iproute2 fuse-overlayfs
BENCH_PKGS := crun time gnuplot-nox

# The reference runtime every casco-beside-runc comparison runs against:
# upstream runc, built from the Go module proxy with cgo and libseccomp
# (tags seccomp) and linked statically (as runc's release builds are), so the
# same binary runs in the QEMU guests. Built once, cached in /var/tmp.
REF_RUNC_VERSION := 1.5.3
REF_RUNC_DIR     ?= /var/tmp/casco-runc/v$(REF_RUNC_VERSION)
REF_RUNC         := $(REF_RUNC_DIR)/runc

.PHONY: prebuild crun-compare all runc-ref casco casco-faultinject deps-build deps-test demo test unit fuzz soak integration integration-runc security rootless validation v2 systemd test-engines cri kubelet bench clean \
        docs install uninstall test-install

all: casco

# Both casco and casco-init are linked statically with musl. A static glibc
# start-up probes the CPU (some twenty CPUID instructions, each a trap to the
# hypervisor on a VM) and resolves its ifuncs: ~0.7 ms of every casco command
# and ~0.4 ms of every container's init here. musl's headers leave out the
# kernel's (linux/, asm/, asm-generic/ from linux-libc-dev) and libseccomp's;
# Debian's libseccomp.a links as it is (seccomp/fortify_musl.go stands in for
# the one glibc-only function it calls). -z stack-size: musl's threads get
# glibc's 8 MiB of stack (virtual) for the C code cgo runs on them.
MUSL_INC := build/musl-include
MUSL_LIB := build/musl-lib
MULTIARCH = $(shell gcc -print-multiarch)
$(MUSL_INC)/.done: Makefile | deps-build
	@mkdir -p $(MUSL_INC) $(MUSL_LIB)
	@for d in linux asm-generic; do ln -sfn /usr/include/$$d $(MUSL_INC)/$$d; done
	@ln -sfn /usr/include/$(MULTIARCH)/asm $(MUSL_INC)/asm
	@for h in seccomp.h seccomp-syscalls.h; do ln -sfn /usr/include/$$h $(MUSL_INC)/$$h; done
	@ln -sfn /usr/lib/$(MULTIARCH)/libseccomp.a $(MUSL_LIB)/libseccomp.a
	@touch $@

# urfave_cli_no_docs: no man/markdown generator, whose package set-up costs ~0.5 ms per start.
# GOEXPERIMENT=jsonv2: encoding/json on the v2 engine (same v1 semantics), whose
# first decode of the runtime-spec types costs half as much: 1-4 ms less per run.
# nogreenteagc: Go 1.26's default GC keeps each small-object span's mark bits
# inside the span and initialises them when the span is allocated, so every
# span a command touches is resident at both ends; a casco command never lives
# long enough to collect. Without it: 100-300 KiB less peak RSS per command
# (RssAnon at exit 1040-1072 -> 904-1000 KiB for state; run 7.8 -> 7.6 MiB).
casco: deps-build nsenter/bin/casco-init $(MUSL_INC)/.done
	CC=musl-gcc CGO_CFLAGS="-O2 -I$(CURDIR)/$(MUSL_INC)" CGO_LDFLAGS="-L$(CURDIR)/$(MUSL_LIB)" \
	  GOEXPERIMENT=jsonv2,nogreenteagc CGO_ENABLED=1 $(GO) build -trimpath -tags urfave_cli_no_docs,osusergo,netgo -ldflags '$(LDFLAGS)' -o casco .

# casco-init, the container's init, embedded in casco. No unwind tables:
# nothing unwinds the init's C (no exceptions, no backtraces), and they
# grow with every function (one file per subject: ~1.5 KiB).
INIT_SRC := $(wildcard nsenter/init/*.c nsenter/init/*.h)
nsenter/bin/casco-init: $(INIT_SRC) $(MUSL_INC)/.done
	musl-gcc -static -Os -s -fno-asynchronous-unwind-tables -Wall -Werror -I$(MUSL_INC) -o $@ nsenter/init/*.c

# make install [PREFIX=/usr/local] [DESTDIR=]: casco in $(PREFIX)/sbin (as
# runc), casco(8) and casco-COMMAND(8), and the bash completion. The pages
# and the completion are written from the command line's own definitions
# (docs.go) by a test build (the production casco leaves urfave/cli's doc
# code out), so they cannot drift from it.
PREFIX      ?= /usr/local
BINDIR      := $(PREFIX)/sbin
MAN8DIR     := $(PREFIX)/share/man/man8
BASHCOMPDIR := $(PREFIX)/share/bash-completion/completions
docs: deps-build nsenter/bin/casco-init
	@rm -rf build/docs
	$(GO) test -count=1 -run '^TestDocs$$' . -args -docs-out $(CURDIR)/build/docs

install: casco docs
	install -D -m 0755 casco $(DESTDIR)$(BINDIR)/casco
	install -d $(DESTDIR)$(MAN8DIR)
	install -m 0644 build/docs/man8/*.8 $(DESTDIR)$(MAN8DIR)/
	install -D -m 0644 build/docs/casco.bash $(DESTDIR)$(BASHCOMPDIR)/casco

# casco.8 and casco-*.8 are the pages install puts (one per command)
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/casco $(DESTDIR)$(BASHCOMPDIR)/casco $(DESTDIR)$(MAN8DIR)/casco.8 $(DESTDIR)$(MAN8DIR)/casco-*.8

# install into a temporary DESTDIR, run the installed casco from / , uninstall
test-install: casco
	tests/install/run.sh

# `make runc-ref` builds the reference runc ($(REF_RUNC)) once; the suites
# that compare casco with runc depend on it. The check: the version it
# reports and a seccomp that works (`features` says so only when libseccomp
# is linked in).
runc-ref: $(REF_RUNC)
$(REF_RUNC): | deps-build
	@echo "building the reference runc $(REF_RUNC_VERSION) into $(REF_RUNC_DIR)"
	@mkdir -p $(REF_RUNC_DIR) && rm -rf $(REF_RUNC_DIR)/.build
	GOBIN=$(REF_RUNC_DIR)/.build CGO_ENABLED=1 $(GO) install -trimpath -tags 'seccomp netgo osusergo' \
	  -ldflags '-s -w -extldflags -static' github.com/opencontainers/runc@v$(REF_RUNC_VERSION)
	@$(REF_RUNC_DIR)/.build/runc --version | grep -qx 'runc version $(REF_RUNC_VERSION)' \
	  || { echo "$(REF_RUNC_DIR)/.build/runc is not runc $(REF_RUNC_VERSION)" >&2; exit 1; }
	@$(REF_RUNC_DIR)/.build/runc features | tr -d ' \n' | grep -q '"seccomp":{"enabled":true' \
	  || { echo "$(REF_RUNC_DIR)/.build/runc has no seccomp (libseccomp not linked)" >&2; exit 1; }
	@mv $(REF_RUNC_DIR)/.build/runc $@ && rm -rf $(REF_RUNC_DIR)/.build

# apt-get only when a package is missing: a machine that has them stays offline
define install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  (apt-get -o DPkg::Lock::Timeout=900 update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -q $$missing >/dev/null) \
	  || { echo "apt-get install$$missing failed" >&2; exit 1; }; fi
endef

deps-build:
	$(call install,$(BUILD_PKGS))

deps-test: deps-build
	$(call install,$(TEST_PKGS))

demo: casco deps-test
	@rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)
	@tests/mkbundle.sh $(DEMO_DIR) >/dev/null
	@echo "== a busybox container: its own hostname, PID 1, a user namespace, its own mounts"
	./casco --root $(DEMO_DIR)/state run --bundle $(DEMO_DIR) demo-$$$$
	@rm -rf $(DEMO_DIR)

# The suites run in two lanes that share nothing: the host's (containers on
# this kernel, engines, CRI) and the guests' (QEMU: cgroup v2, systemd),
# whose output is kept and printed after the host's. Every package either
# lane needs is installed first, so no two apt-gets race for the lock.
HOST_SUITES  := unit test-install fuzz integration security rootless validation test-engines cri kubelet
GUEST_SUITES := v2 systemd
SUITE_PKGS    = $(TEST_PKGS) $(ROOTLESS_PKGS) tmux conmon containerd docker.io containernetworking-plugins jq musl-tools util-linux \
                qemu-system-x86 cpio debootstrap e2fsprogs file
test: casco runc-ref deps-test
	$(call install,$(SUITE_PKGS))
	@mkdir -p build; rm -f build/guest-suites.log build/guest-suites.rc; \
	echo "make test: $(GUEST_SUITES) run in QEMU guests beside the host suites; their output follows"; \
	setsid $(MAKE) --no-print-directory prebuild >build/prebuild.log 2>&1 & pre=$$!; \
	( $(MAKE) --no-print-directory -j1 $(GUEST_SUITES) >build/guest-suites.log 2>&1; echo $$? >build/guest-suites.rc ) & guests=$$!; \
	$(MAKE) --no-print-directory -j1 $(HOST_SUITES); host=$$?; \
	wait $$guests; guest=$$(cat build/guest-suites.rc 2>/dev/null || echo 1); \
	kill -- -$$pre 2>/dev/null; wait $$pre; \
	echo "== the guest suites ($(GUEST_SUITES)):"; cat build/guest-suites.log; \
	echo "make test: host suites exit $$host, guest suites exit $$guest"; \
	[ "$$host" = 0 ] && [ "$$guest" = 0 ] && echo "make test: all suites passed"

# The CRI and kubelet suites' builds (containerd 2, the CRI tools, the
# kubelet: half an hour on a fresh machine) start with make test, niced, so
# they are done by the time those suites come; each build is locked, so a
# suite that comes first waits for it instead of building again. A failed
# build here is built again, with its error shown, by the suite.
prebuild:
	-GO=$(GO) nice -n 10 tests/cri/build.sh containerd
	-GO=$(GO) nice -n 10 tests/cri/build.sh cri-tools
	-GO=$(GO) nice -n 10 tests/cri/build.sh ginkgo
	-GO=$(GO) tests/kubelet/build.sh

unit: nsenter/bin/casco-init
	$(GO) test -count=1 . ./cgroups/ ./seccomp/ ./libcontainer/... ./nsenter/

integration: casco
	RUNTIME=$(CURDIR)/casco $(GO) test -count=1 ./tests/integration/

# the same suite against the reference runc: what it fails is a test that
# encodes another runtime's behaviour or a feature runc lacks (each of
# those skips with its reason; see tests/integration/RUNC-CONTRACT.md)
integration-runc: runc-ref
	RUNTIME=$(REF_RUNC) $(GO) test -count=1 ./tests/integration/

# the attacker's side: one test per class of runc CVE, fault injection at
# every step of create/start/exec/delete, parallel lifecycles (tests/security/)
security: casco casco-faultinject deps-test
	GO=$(GO) FAULT_RUNTIME=$(CURDIR)/build/casco-faultinject tests/security/run.sh $(CURDIR)/casco

# casco with the fault-injection hook (libcontainer/fault): a test
# build only; the production binary has no trace of it
casco-faultinject: deps-build nsenter/bin/casco-init $(MUSL_INC)/.done
	CC=musl-gcc CGO_CFLAGS="-O2 -I$(CURDIR)/$(MUSL_INC)" CGO_LDFLAGS="-L$(CURDIR)/$(MUSL_LIB)" \
	  GOEXPERIMENT=jsonv2,nogreenteagc CGO_ENABLED=1 $(GO) build -trimpath -tags urfave_cli_no_docs,osusergo,netgo,faultinject -ldflags '$(LDFLAGS)' -o build/casco-faultinject .

# each fuzz target a few seconds, on the corpus kept in testdata/fuzz/
# a number of inputs per target, not a time: a -fuzztime deadline that
# ends while a worker is busy fails the run with "context deadline
# exceeded" on a loaded machine (Go's fuzzer), whatever the code does
FUZZTIME ?= 2000x
fuzz: nsenter/bin/casco-init
	@mkdir -p build; for t in libcontainer:FuzzValidateID libcontainer/plan:FuzzParseMountOptions libcontainer:FuzzConfig \
	    libcontainer/plan:FuzzPlanEncoding libcontainer:FuzzLoadState seccomp:FuzzCompile; do \
	  pkg=$${t%%:*}; name=$${t#*:}; \
	  $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) ./$$pkg/ >build/fuzz.log 2>&1 \
	    || { cat build/fuzz.log; echo "fuzz $$name: FAILED (a failing input, if the log names one, is in $$pkg/testdata/fuzz/$$name/)"; exit 1; }; \
	  echo "fuzz $$name ($(FUZZTIME)): $$(grep -o 'execs: [0-9]*' build/fuzz.log | tail -1)"; done

# 1,000 lifecycles; host fds, mounts, cgroups and casco's state must stay flat
soak: casco deps-test
	cd tests/security && RUNTIME=$(CURDIR)/casco $(GO) test -tags soak -count=1 -v -timeout 60m -run '^TestSoak$$' .

# an unprivileged user (made and removed by the suite) runs casco and
# runc case by case; a case casco fails fails the run (tests/rootless/)
ROOTLESS_PKGS := uidmap python3 passwd util-linux podman catatonit fuse-overlayfs slirp4netns
rootless: casco runc-ref deps-test
	$(call install,$(ROOTLESS_PKGS))
	tests/rootless/run.sh $(CURDIR)/casco $(REF_RUNC)

validation: casco
	tests/validation/check.sh $(CURDIR)/casco

# the cgroup v2 suites (the cgroups tests, the whole integration suite,
# rootless), for real, in one boot of the throw-away QEMU guest without
# systemd (tests/guest, image cached in /var/tmp)
v2: runc-ref deps-test
	GO=$(GO) REF_RUNC=$(REF_RUNC) tests/v2/run.sh

# crun's annotations, casco beside Debian's crun in the cgroup v2 guest
# (crun refuses hybrid hosts); not part of make test
crun-compare: deps-test
	$(call install,crun)
	GO=$(GO) tests/v2/crun.sh

# the systemd cgroup driver against a real systemd (PID 1 of the same
# guest, booted with systemd), casco vs runc
systemd: runc-ref deps-test
	GO=$(GO) REF_RUNC=$(REF_RUNC) tests/systemd/run.sh

# podman, containerd and dockerd drive casco and runc, case by case
test-engines: casco runc-ref
	tests/engines/run.sh $(REF_RUNC) $(CURDIR)/casco

# Kubernetes' CRI: critest and a crictl walkthrough under containerd 1.6 and
# 2.x (built from the Go module proxy, cached in /var/tmp/casco-cri), with
# runc and casco as RuntimeClass handlers side by side
cri: casco runc-ref
	GO=$(GO) tests/cri/run.sh $(REF_RUNC) $(CURDIR)/casco

# a standalone kubelet runs static pods on containerd 2, with runc and casco
kubelet: casco runc-ref
	GO=$(GO) tests/kubelet/run.sh $(REF_RUNC) $(CURDIR)/casco

bench: casco runc-ref
	$(call install,$(BENCH_PKGS))
	REF_RUNC=$(REF_RUNC) tests/bench/bench.sh $(CURDIR)/casco
	REF_RUNC=$(REF_RUNC) tests/bench/checkpoint.sh $(CURDIR)/casco

clean:
	rm -rf casco nsenter/bin/casco-init build
