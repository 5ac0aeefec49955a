# xtc: one Makefile for the BPF objects, their skeletons, the loader and tests.
# `make V=1` shows the commands.

BUILD    ?= build
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
PYTHON   ?= /usr/bin/python3
PKGS     := libxdp libbpf libnl-3.0 libnl-route-3.0 inih
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
XTC_CFLAGS = $(CFLAGS) -DXTC_VERSION=\"$(XTC_VERSION)\" -Wall -Wextra -Werror -std=gnu11 -Iinclude -Iuserspace -I$(BUILD) $(PKG_CFLAGS)
BPF_CFLAGS = -g -O2 -target bpf -Wall -Wextra -Werror -Iinclude -I$(ARCH_INC)

BPF_SRCS  := xdp/xtc_xdp.bpf.c xdp/xtc_probe.bpf.c tc/xtc_tc.bpf.c
BPF_OBJS  := $(patsubst %.bpf.c,$(BUILD)/%.bpf.o,$(notdir $(BPF_SRCS)))
SKELS     := $(BPF_OBJS:.bpf.o=.skel.h)
LIB_SRCS  := $(filter-out userspace/main.c,$(wildcard userspace/*.c))
LIB_OBJS  := $(patsubst userspace/%.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
HDRS      := $(wildcard include/*.h userspace/*.h)
TESTRUN   := $(BUILD)/xtc-testrun
# Small drivers that let tests call one loader module directly.
DRIVERS   := $(patsubst tests/unit/%.c,$(BUILD)/%,$(wildcard tests/unit/*_drv.c))

.SECONDARY: $(BPF_OBJS)
.PHONY: all deps test test-unit test-host test-vm demo demo-clean bench bench-quick clean
all: $(BUILD)/xtc $(TESTRUN) $(DRIVERS)

deps:
	$(Q)scripts/deps.sh

$(BUILD) $(BUILD)/obj:
	$(Q)mkdir -p $@

vpath %.bpf.c xdp tc
$(BUILD)/%.bpf.o: %.bpf.c $(HDRS) | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst .,_,$(basename $(basename $(notdir $<)))) \
		> $@.tmp 2> $@.log || { cat $@.log; rm -f $@.tmp; exit 1; }
	$(Q)mv $@.tmp $@ && rm -f $@.log

$(BUILD)/obj/%.o: userspace/%.c $(HDRS) $(SKELS) | $(BUILD)/obj
	$(call msg,CC,$@)
	$(Q)$(CC) $(XTC_CFLAGS) -c $< -o $@

$(BUILD)/libxtc.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/xtc: $(BUILD)/obj/main.o $(BUILD)/libxtc.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/obj/main.o: userspace/main.c $(HDRS) $(SKELS) | $(BUILD)/obj
	$(call msg,CC,$@)
	$(Q)$(CC) $(XTC_CFLAGS) -c $< -o $@

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

# `make -s print-VAR` prints a variable, so tests compile exactly as the build does.
print-%:
	@echo '$($*)'
