# xtc: one Makefile for the BPF objects, their skeletons, the loader and tests.
# `make V=1` shows the commands.

BUILD    ?= build
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
PYTHON   ?= /usr/bin/python3
PKGS     := libxdp libbpf libnl-3.0 libnl-route-3.0 libsystemd libmicrohttpd
ARCH_INC := /usr/include/$(shell $(CC) -dumpmachine)

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# Deferred (=) so that a fresh machine can run `make deps` first.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))
CFLAGS    ?= -O2 -g
XTC_VERSION ?= 0.1.0
# userspace/ is in layers, lowest first; a file includes only its own layer and
# those below it (tests/unit/test_layers.py checks).
LAYERS    := util model kernel config engine cli
# XTC_DEFINES: for tests only, seen by BPF and C alike (e.g. -DXTC_TEST_LAYOUT=1,
# include/xtc_shared.h: maps of another layout).
XTC_DEFINES ?=
XTC_CFLAGS = $(CFLAGS) $(XTC_DEFINES) -DXTC_VERSION=\"$(XTC_VERSION)\" -Wall -Wextra -Werror -std=gnu11 -Iinclude \
	     $(addprefix -Iuserspace/,$(LAYERS)) -I$(BUILD) $(PKG_CFLAGS)
# BPF_DEFINES: for tests only (e.g. -DXTC_TEST_VARIANT=1, include/xtc_maps.bpf.h).
BPF_DEFINES ?=
BPF_CFLAGS = -g -O2 -target bpf -Wall -Wextra -Werror -Iinclude -I$(ARCH_INC) $(BPF_DEFINES) \
	     $(XTC_DEFINES)

BPF_SRCS  := xdp/xtc_xdp.bpf.c xdp/xtc_probe.bpf.c tc/xtc_tc.bpf.c
BPF_OBJS  := $(patsubst %.bpf.c,$(BUILD)/%.bpf.o,$(notdir $(BPF_SRCS)))
# The XDP classifier again, without the metadata handoff (xdp/xtc_xdp.bpf.c says why).
BPF_OBJS  += $(BUILD)/xtc_xdp_nh.bpf.o
SKELS     := $(BPF_OBJS:.bpf.o=.skel.h)
LIB_SRCS  := $(filter-out userspace/cli/main.c,$(wildcard $(patsubst %,userspace/%/*.c,$(LAYERS))))
LIB_OBJS  := $(patsubst userspace/%.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
HDRS      := $(wildcard include/*.h $(patsubst %,userspace/%/*.h,$(LAYERS)))
TESTRUN   := $(BUILD)/xtc-testrun
# Small drivers that let tests call one loader module directly.
DRIVERS   := $(patsubst tests/unit/%.c,$(BUILD)/%,$(wildcard tests/unit/*_drv.c))

.SECONDARY: $(BPF_OBJS)
.PHONY: all deps test test-unit test-host test-vm demo demo-clean demo-daemon bench bench-quick clean
all: $(BUILD)/xtc $(TESTRUN) $(DRIVERS)

deps:
	$(Q)scripts/deps.sh

$(BUILD) $(BUILD)/obj:
	$(Q)mkdir -p $@

vpath %.bpf.c xdp tc
$(BUILD)/%.bpf.o: %.bpf.c $(HDRS) | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/xtc_xdp_nh.bpf.o: xdp/xtc_xdp.bpf.c $(HDRS) | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DXTC_XDP_NO_HANDOFF -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst .,_,$(basename $(basename $(notdir $<)))) \
		> $@.tmp 2> $@.log || { cat $@.log; rm -f $@.tmp; exit 1; }
	$(Q)mv $@.tmp $@ && rm -f $@.log

$(BUILD)/obj/%.o: userspace/%.c $(HDRS) $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(XTC_CFLAGS) -c $< -o $@

$(BUILD)/libxtc.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/xtc: $(BUILD)/obj/cli/main.o $(BUILD)/libxtc.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(TESTRUN): tests/bpf/xtc_testrun.c $(BUILD)/libxtc.a $(HDRS) $(SKELS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(XTC_CFLAGS) -o $@ $< $(BUILD)/libxtc.a $(PKG_LIBS)

$(BUILD)/%_drv: tests/unit/%_drv.c $(BUILD)/libxtc.a $(HDRS) $(SKELS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(XTC_CFLAGS) -o $@ $< $(BUILD)/libxtc.a $(PKG_LIBS)

# Tests need root, bpffs and the Debian packages; `make test` sets all up.
PYTEST = $(PYTHON) -m pytest -q -rs -p no:cacheprovider

test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/mount-bpffs.sh
	$(Q)$(PYTEST) tests

test-unit: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/mount-bpffs.sh
	$(Q)$(PYTEST) tests/unit tests/bpf tests/config tests/cli

test-host: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/mount-bpffs.sh
	$(Q)$(PYTEST) tests/host

test-vm: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(PYTEST) tests/vm

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/mount-bpffs.sh
	$(Q)XTC=$(abspath $(BUILD)/xtc) scripts/demo.sh

demo-clean:
	$(Q)XTC=$(abspath $(BUILD)/xtc) scripts/demo-clean.sh

demo-daemon: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/mount-bpffs.sh
	$(Q)XTC=$(abspath $(BUILD)/xtc) scripts/demo-daemon.sh

# Benchmarks report ratios against baselines measured in the same run.
bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/mount-bpffs.sh
	$(Q)BUILD=$(abspath $(BUILD)) $(PYTHON) bench/run.py

bench-quick: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/mount-bpffs.sh
	$(Q)BUILD=$(abspath $(BUILD)) $(PYTHON) bench/run.py --quick

clean:
	$(call msg,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)

# `make fuzz`: the config reader and validator under libFuzzer, ASan and UBSan
# (UB aborts), for FUZZ_SECONDS over the corpus in tests/fuzz/corpus.  It builds
# the util, model and config layers apart, in $(FUZZ_DIR), and links them with
# tests/fuzz/fake_host.c in place of kernel/: a fixed host answers the
# questions config asks the kernel, so a run is hermetic and fast.  New inputs
# and crashes go to $(FUZZ_DIR), never into the repository; `make fuzz-merge`
# adds the new inputs that reach new code to tests/fuzz/corpus.  libFuzzer
# checks each input for leaks itself: the scan at exit would only repeat it,
# and it fails under ptrace (strace-based tools such as check-build-deps).
FUZZ_SECONDS   ?= 30
FUZZ_TIMEOUT   ?= 25
FUZZ_DIR       := $(BUILD)/fuzz
FUZZ_ARTIFACTS ?= $(FUZZ_DIR)/artifacts/
FUZZ_LAYERS    := util model config
FUZZ_SRCS      := $(filter $(foreach l,$(FUZZ_LAYERS),userspace/$(l)/%),$(LIB_SRCS))
FUZZ_OBJS      := $(patsubst userspace/%.c,$(FUZZ_DIR)/obj/%.o,$(FUZZ_SRCS))
FUZZ_SAN       := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS     = -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN) $(filter-out $(CFLAGS),$(XTC_CFLAGS))
FUZZER         := $(FUZZ_DIR)/config_fuzz
FUZZ_HARNESS   := $(wildcard tests/fuzz/*.c)

$(FUZZ_DIR)/obj/%.o: userspace/%.c $(HDRS)
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

# glob is wrapped so that include cannot leave the harness's directory.
$(FUZZER): $(FUZZ_HARNESS) tests/fuzz/fuzz.h $(FUZZ_OBJS) $(HDRS)
	$(call msg,FUZZ-LD,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Wl,--wrap=glob -o $@ $(FUZZ_HARNESS) \
		$(FUZZ_OBJS) $(PKG_LIBS)

.PHONY: fuzz fuzz-merge
fuzz: deps
	$(Q)$(MAKE) --no-print-directory $(FUZZER)
	$(Q)mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/tmp $(FUZZ_ARTIFACTS)
	$(Q)TMPDIR=$(abspath $(FUZZ_DIR)/tmp) ASAN_OPTIONS="leak_check_at_exit=0:$$ASAN_OPTIONS" \
		$(FUZZER) -max_total_time=$(FUZZ_SECONDS) \
		-timeout=$(FUZZ_TIMEOUT) -dict=tests/fuzz/config.dict -print_final_stats=1 \
		-artifact_prefix=$(FUZZ_ARTIFACTS) $(FUZZ_DIR)/corpus tests/fuzz/corpus

fuzz-merge: $(FUZZER)
	$(Q)mkdir -p $(FUZZ_DIR)/tmp
	$(Q)TMPDIR=$(abspath $(FUZZ_DIR)/tmp) $(FUZZER) -merge=1 -timeout=$(FUZZ_TIMEOUT) \
		-artifact_prefix=$(FUZZ_ARTIFACTS) tests/fuzz/corpus $(FUZZ_DIR)/corpus

# Install, uninstall and the Debian package.  The BPF objects are built into
# build/xtc as libbpf skeletons, so xtc loads nothing else at run time (libxdp
# loads its own dispatcher from the libxdp1 package): the binary, the man
# pages, the default config, the example, the systemd unit and the bash
# completion are all there is to install.  /etc/xtc/xtc.ini is installed only
# when absent and never removed: it is the operator's.  The binary reads
# /etc/xtc/xtc.ini unless given -c, so SYSCONFDIR is for staging trees.
PREFIX      ?= /usr/local
DESTDIR     ?=
SBINDIR     ?= $(PREFIX)/sbin
MANDIR      ?= $(PREFIX)/share/man
DOCDIR      ?= $(PREFIX)/share/doc/xtc
SYSCONFDIR  ?= /etc
# systemd searches /usr/local/lib/systemd/system too; the package uses /lib.
UNITDIR     ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
INSTALL     ?= install
DEB_ARCH     = $(shell dpkg --print-architecture)
DEB          = $(BUILD)/xtc_$(XTC_VERSION)_$(DEB_ARCH).deb
DEB_STAGE    = $(BUILD)/deb
DEB_MAINTAINER ?= xtc maintainers <maintainers@users.noreply.b-seed-ec95b4fa.example>
# Everything install puts down but the config, relative to DESTDIR.
INSTALLED   = $(SBINDIR)/xtc $(MANDIR)/man8/xtc.8 $(MANDIR)/man5/xtc.ini.5 \
	      $(DOCDIR)/xtc.ini.example $(UNITDIR)/xtc.service $(UNITDIR)/xtc-daemon.service \
	      $(BASHCOMPDIR)/xtc

.PHONY: install uninstall deb test-install
install: $(BUILD)/xtc
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)$(INSTALL) -d -m 0755 $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(SYSCONFDIR)/xtc
	$(Q)$(INSTALL) -m 0755 $(BUILD)/xtc $(DESTDIR)$(SBINDIR)/xtc
	$(Q)$(INSTALL) -m 0644 docs/man/xtc.8 $(DESTDIR)$(MANDIR)/man8/xtc.8
	$(Q)$(INSTALL) -m 0644 docs/man/xtc.ini.5 $(DESTDIR)$(MANDIR)/man5/xtc.ini.5
	$(Q)$(INSTALL) -m 0644 configs/xtc.ini.example $(DESTDIR)$(DOCDIR)/xtc.ini.example
	$(Q)for u in xtc xtc-daemon; do \
		sed 's|@SBINDIR@|$(SBINDIR)|g' packaging/systemd/$$u.service.in > $(DESTDIR)$(UNITDIR)/$$u.service.tmp && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u.service.tmp && \
		mv $(DESTDIR)$(UNITDIR)/$$u.service.tmp $(DESTDIR)$(UNITDIR)/$$u.service || exit 1; \
	done
	$(Q)$(INSTALL) -m 0644 packaging/bash-completion/xtc $(DESTDIR)$(BASHCOMPDIR)/xtc
	$(Q)if [ -e $(DESTDIR)$(SYSCONFDIR)/xtc/xtc.ini ]; then \
		echo "  KEEP     $(DESTDIR)$(SYSCONFDIR)/xtc/xtc.ini (exists: an installed config is never overwritten)"; \
	else $(INSTALL) -m 0644 configs/xtc.ini $(DESTDIR)$(SYSCONFDIR)/xtc/xtc.ini; fi

uninstall:
	$(call msg,UNINST,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	$(Q)rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null || true
	$(Q)if [ -e $(DESTDIR)$(SYSCONFDIR)/xtc/xtc.ini ]; then \
		echo "  KEEP     $(DESTDIR)$(SYSCONFDIR)/xtc/xtc.ini (your configuration: remove it yourself)"; fi

# build/xtc_VERSION_ARCH.deb: `make install` into a staging tree with the
# Debian paths, then packaging/deb/mkdeb.sh (strip, gzip, DEBIAN/).
# The packaged binary is built apart, in $(BUILD)/deb-build, with Debian's
# hardening flags (fortify, stack protector, relro, bindnow), as a Debian
# build would: CFLAGS reaches the compile and the link lines.
DEB_CFLAGS = $(foreach f,CFLAGS CPPFLAGS LDFLAGS,$(shell DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get $(f)))
deb:
	$(Q)rm -rf $(DEB_STAGE)
	$(Q)$(MAKE) --no-print-directory install BUILD=$(BUILD)/deb-build CFLAGS='$(DEB_CFLAGS)' \
		DESTDIR=$(abspath $(DEB_STAGE))/debian/xtc \
		PREFIX=/usr SYSCONFDIR=/etc UNITDIR=/lib/systemd/system \
		BASHCOMPDIR=/usr/share/bash-completion/completions
	$(Q)MAINTAINER='$(DEB_MAINTAINER)' packaging/deb/mkdeb.sh $(DEB_STAGE)/debian/xtc $(XTC_VERSION) $(DEB)

test-install: deps
	$(Q)$(MAKE) --no-print-directory $(BUILD)/xtc
	$(Q)$(PYTEST) tests/install

# `make -s print-VAR` prints a variable, so tests compile exactly as the build does.
print-%:
	@echo '$($*)'
