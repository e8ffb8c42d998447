# SPDX-License-Identifier: LGPL-2.1-or-later
# lvqcow build.  One target per check:
#   make            build build/lvqcow
#   make check      dependencies, build, unit + shell tests, the same under
#                   ASan/UBSan, a short fuzz run and the VM tests
#   make check-unit / check-sh / check-asan / fuzz / fuzz-long
#   make check-vm   the VM tests: a Debian kernel under qemu, its root the
#                   host's over 9p, with a real device-mapper, runs
#                   tests/vm/guest/ and the tests in tests/vm/suite
#   make check-long the snapshot-tree model run at 1000 operations, and
#                   every fault point of the tree operations, metadata
#                   commits included
#   make bench-img / bench-nbd / bench-meta
#   make bench-nbd-vm  fio on /dev/nbdN against a raw LV, in the test VM
#   make bench-gc   lvqcow img coalesce against qemu-img commit and rebase;
#                   client stalls during live snapshots and coalesces,
#                   Volume.create under a coalesce
#   make bench-lvm-host  LVM commands in process (src/lvm) and as the lvm
#                   binary, metadata only, on a loop device
#   make bench-lvm  lvqcow calls in the test VM at 10/100/1000 volumes beside
#                   their LVM commands in process and as the lvm binary
#   make demo       the README's lifecycle demo
#   make demo-lvm   the same demo on an lvqcow SR, in the test VM
#                   (DEMO_SR_TYPE=fileqcow runs the directory SR there)
#   make install DESTDIR=D
#   make deb / make rpm   the packages, into $(PKG_OUT) (default build/pkg)

BUILD ?= build
PREFIX ?= /usr
XSS_ROOT ?= $(PREFIX)/libexec/xapi-storage-script
# 0: leave the plugin directories to the package scripts
PLUGIN_DIRS ?= 1
CC ?= gcc
PKGS := json-c libxml-2.0 zlib
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# liblvm2cmd is opened with dlopen by src/lvm only when an LVM command
# runs, never linked: the NBD server must not load it (docs/lvm.md).
# Its soname is read from the development symlink (liblvm2-dev).
LVM2CMD_SONAME := $(shell objdump -p "$$($(CC) -print-file-name=liblvm2cmd.so)" 2>/dev/null | \
	awk '/SONAME/ {print $$2}')
LVM2CMD_SONAME := $(if $(LVM2CMD_SONAME),$(LVM2CMD_SONAME),liblvm2cmd.so.2.03)

WARN := -Wall -Wextra -Wshadow -Wno-unused-parameter -Wformat=2 \
	-Werror=implicit-function-declaration -Werror=vla -Wstrict-prototypes
OPT ?= -O2
ifeq ($(SAN),1)
OPT := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDSAN := -fsanitize=address,undefined
endif
CFLAGS_ALL = -std=gnu11 -g $(OPT) $(WARN) -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 \
	-Iinclude $(PKG_CFLAGS) -DLVM2CMD_SONAME='"$(LVM2CMD_SONAME)"' $(CFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -lpthread -ldl $(LDSAN) $(LDFLAGS)

LIB_SRCS := $(filter-out $(wildcard src/*/test-*.c src/*/fuzz-*.c),$(wildcard src/*/*.c))
ENTRY_DIRS := cli plugin volume datapath
ENTRY_TEST_SRCS := $(wildcard $(ENTRY_DIRS:%=%/test-*.c))
ENTRY_SRCS := $(filter-out $(ENTRY_TEST_SRCS),$(wildcard $(ENTRY_DIRS:%=%/*.c)))
UNIT_SRCS := $(wildcard src/*/test-*.c)
FUZZ_SRCS := $(wildcard src/*/fuzz-*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
ENTRY_OBJS := $(ENTRY_SRCS:%.c=$(BUILD)/%.o)
ENTRY_LIB_OBJS := $(filter-out $(BUILD)/cli/main.o,$(ENTRY_OBJS))
# Unit tests of the entry points (the call tables) link every entry
# object but the binary's main().
ENTRY_UNIT_BINS := $(ENTRY_TEST_SRCS:%.c=$(BUILD)/unit/%)
UNIT_BINS := $(patsubst src/%.c,$(BUILD)/unit/%,$(UNIT_SRCS)) $(ENTRY_UNIT_BINS)
FUZZ_BINS := $(patsubst src/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))

.PHONY: deb rpm all deps check check-unit check-sh check-asan check-long check-vm fuzz fuzz-long \
	bench-img bench-nbd bench-nbd-vm bench-meta bench-gc bench-lvm-host bench-lvm demo demo-lvm install clean

all: $(BUILD)/lvqcow

deps:
	@./scripts/deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(BUILD)/liblq.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

# The binary carries a zip archive at its end, so that a Python wrapper
# loading a call's script with runpy runs the call (cli/py/__main__.py).
$(BUILD)/lvqcow: $(ENTRY_OBJS) $(BUILD)/liblq.a cli/py/__main__.py scripts/append-pyzip.py
	$(CC) $(OPT) -o $@.tmp $(ENTRY_OBJS) $(BUILD)/liblq.a $(LDLIBS_ALL)
	python3 scripts/append-pyzip.py $@.tmp cli/py/__main__.py
	mv -f $@.tmp $@

$(BUILD)/unit/%: src/%.c $(BUILD)/liblq.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -MF $@.d -UNDEBUG -o $@ $< $(BUILD)/liblq.a $(LDLIBS_ALL) -lcmocka

$(ENTRY_UNIT_BINS): $(BUILD)/unit/%: %.c $(ENTRY_LIB_OBJS) $(BUILD)/liblq.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -MF $@.d -UNDEBUG -o $@ $< $(ENTRY_LIB_OBJS) $(BUILD)/liblq.a $(LDLIBS_ALL) -lcmocka

# libFuzzer targets are always built with clang and the sanitizers.
FUZZ_CFLAGS = -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
	-D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -Iinclude $(PKG_CFLAGS) \
	-DLVM2CMD_SONAME='"$(LVM2CMD_SONAME)"'
# Built from every library source in one step (no per-file .d): any
# header may change them.
$(BUILD)/fuzz/%: src/%.c $(LIB_SRCS) $(wildcard include/lq/*.h src/*/*.h)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< $(LIB_SRCS) $(PKG_LIBS) -lpthread -ldl

install: $(BUILD)/lvqcow
	./scripts/install.sh "$(BUILD)/lvqcow" "$(DESTDIR)" "$(PREFIX)" "$(XSS_ROOT)" "$(PLUGIN_DIRS)"

PKG_OUT ?= $(BUILD)/pkg
deb:
	./packaging/build.sh deb "$(PKG_OUT)"

rpm:
	./packaging/build.sh rpm "$(PKG_OUT)"

check-unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "unit: $$t"; $$t; done

# The normal build kills the tree operations at every fault point, their
# metadata commits' included; the sanitizer build, five times slower,
# skips the commit points there (test-crash-points kills every commit at
# each of them).
check-sh: $(BUILD)/lvqcow
	LVQCOW_TREE_CRASH_FULL=$(if $(filter 1,$(SAN)),0,1) ./tests/run.sh "$(BUILD)"

check-asan:
	$(MAKE) BUILD=build-asan SAN=1 check-unit check-sh

fuzz: $(FUZZ_BINS)
	./tests/fuzz.sh $(BUILD)/fuzz 20

fuzz-long: $(FUZZ_BINS)
	./tests/fuzz.sh $(BUILD)/fuzz 600

check-long: $(BUILD)/lvqcow
	LQ_TREE_LONG_OPS=1000 ./tests/run.sh "$(BUILD)" tree-long
	LVQCOW_TREE_CRASH_FULL=1 ./tests/run.sh "$(BUILD)" tree-crash

check-vm: deps all
	./tests/vm/run.sh "$(BUILD)"

check: deps
	$(MAKE) all
	$(MAKE) check-unit
	$(MAKE) check-sh
	$(MAKE) check-asan
	$(MAKE) fuzz
	$(MAKE) check-vm

bench-img: deps all
	./bench/img.sh "$(BUILD)"

bench-nbd: deps all
	./bench/nbd.sh "$(BUILD)"

# fio on a volume's /dev/nbdN against a raw LV, in the VM guest.
bench-nbd-vm: all
	@uptime
	./tests/vm/run.sh "$(BUILD)" "bash bench/nbd-vm.sh"
	@uptime

bench-meta: deps all
	./bench/meta.sh "$(BUILD)"

$(BUILD)/bench/lvm-layer: bench/lvm-layer.c $(BUILD)/liblq.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(BUILD)/liblq.a $(LDLIBS_ALL)

bench-lvm-host: deps all $(BUILD)/bench/lvm-layer
	./bench/lvm-host.sh "$(BUILD)"

$(BUILD)/bench/lvm-fill: bench/lvm-fill.c $(BUILD)/liblq.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(BUILD)/liblq.a $(LDLIBS_ALL)

bench-lvm: deps all $(BUILD)/bench/lvm-layer $(BUILD)/bench/lvm-fill
	./bench/lvm-vm.sh "$(BUILD)"

bench-gc: deps all
	./bench/gc.sh "$(BUILD)"

demo: deps all
	./tests/demo.sh "$(BUILD)"

DEMO_SR_TYPE ?= lvqcow
demo-lvm: deps all
	./tests/vm/run.sh "$(BUILD)" ./tests/demo.sh "$(BUILD)" "$(DEMO_SR_TYPE)"

clean:
	rm -rf build build-asan

# A unit test binary is built from its source in one step; its .d file
# (named after the binary) carries the headers it includes.
-include $(LIB_OBJS:.o=.d) $(ENTRY_OBJS:.o=.d) $(UNIT_BINS:=.d)
