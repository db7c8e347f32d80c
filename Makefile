# byokfs — top-level Makefile (plain GNU make).
#   make            build build/byokfs (release, -O2)
#   make test       install test dependencies, build under ASan+UBSan, run every test
#   make fuzz       build the libFuzzer targets, run each FUZZ_SECONDS (default 60)
#   make test-tsan  build under ThreadSanitizer, run every mounted test against it
#   make demo       install dependencies, build, mount a demo volume on a local key file
#   make install    PREFIX=/usr/local DESTDIR=
#   make clean
# V=1 shows the full compiler command lines.

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
DESTDIR ?=

CC      ?= cc
CFLAGS  ?= -O2 -g
BUILD   ?= build

PKGS := fuse3 libsodium libcurl inih jansson

# Evaluated lazily (recursive '='), so `make demo` and `make test` can install
# the packages before anything needs them.
pkg_check = $(foreach p,$(PKGS),$(if $(shell pkg-config --exists $(p) && echo y),,\
  $(error $(p) is not installed (pkg-config $(p) failed): run scripts/install-deps as root)))
PKG_CFLAGS = $(pkg_check)$(shell pkg-config --cflags $(PKGS))
# libcurl is not linked: the HTTP providers load it with dlopen when a remote
# key is opened, so byokfs revoke/unlock/status start in a few milliseconds
# even on a loaded machine (libcurl brings some 30 libraries with it).
LINK_PKGS  = fuse3 libsodium inih jansson
PKG_LIBS   = $(shell pkg-config --libs $(LINK_PKGS)) -lpthread -lm -ldl

# Full RELRO, no lazy binding: the dynamic linker's lazy-resolution
# trampoline saves the vector registers, which hold key material after
# crypto, into the stack (found by tests/revoke/t0002).
HARDEN_LDFLAGS := -Wl,-z,now -Wl,-z,relro

WARN := -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes -Wvla \
        -Wwrite-strings -Wshadow -fno-common -Wformat=2
BASE_CFLAGS = -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -DFUSE_USE_VERSION=314 \
              -I. $(WARN) $(PKG_CFLAGS) -MMD -MP

VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

CORE_SRC := $(wildcard crypto/*.c) $(wildcard kms/*.c) $(wildcard fs/*.c)
CLI_SRC  := $(wildcard cli/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)

ifeq ($(V),1)
Q :=
else
Q := @
endif

.PHONY: all test unit demo install uninstall clean deps check-deps asan fuzz fuzzers tools tsan test-tsan

all: $(BUILD)/byokfs

# ---- release build -----------------------------------------------------------
REL_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(CORE_SRC) $(CLI_SRC))

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -DBYOKFS_VERSION='"$(VERSION)"' -c $< -o $@

$(BUILD)/byokfs: $(REL_OBJ)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $(HARDEN_LDFLAGS) $^ $(PKG_LIBS) -o $@

# ---- sanitizer build (tests) --------------------------------------------------
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# the test build can inject backing-store faults (fs/fault.c, docs/CRASH.md); the release build cannot
SAN_FLAGS += -DBYOKFS_FAULT_INJECTION
SAN_OBJ   := $(patsubst %.c,$(BUILD)/asan/obj/%.o,$(CORE_SRC) $(CLI_SRC))
SAN_CORE  := $(patsubst %.c,$(BUILD)/asan/obj/%.o,$(CORE_SRC))
UNIT_BIN  := $(patsubst tests/unit/%.c,$(BUILD)/asan/tests/%,$(UNIT_SRC))

$(BUILD)/asan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC/SAN  $<")
	$(Q)$(CC) $(BASE_CFLAGS) $(SAN_FLAGS) -DBYOKFS_VERSION='"$(VERSION)"' -c $< -o $@

$(BUILD)/asan/byokfs: $(SAN_OBJ)
	@$(if $(Q),echo "  LD/SAN  $@")
	$(Q)$(CC) $(SAN_FLAGS) $(HARDEN_LDFLAGS) $^ $(PKG_LIBS) -o $@

$(BUILD)/asan/tests/%: tests/unit/%.c tests/unit/unit.h $(SAN_CORE)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(CC) $(BASE_CFLAGS) $(SAN_FLAGS) $< $(SAN_CORE) $(PKG_LIBS) -o $@

# test tools (built with optimisation: they time things)
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOL_BIN := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRC))

$(BUILD)/tools/%: tests/tools/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TOOL    $@")
	$(Q)$(CC) -std=c11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE $< -lpthread -o $@

tools: $(TOOL_BIN)

asan: $(BUILD)/asan/byokfs $(UNIT_BIN) $(TOOL_BIN)

# ---- fuzzing: libFuzzer targets (clang) -------------------------------------------
# Every tests/fuzz/fuzz_*.c is a target, linked against the fs/, crypto/ and
# kms/ objects built with -fsanitize=fuzzer-no-link,address,undefined (an
# archive, so a target pulls in only what it uses). `make fuzz` runs each
# for FUZZ_SECONDS from its seed corpus tests/fuzz/corpus/NAME/, keeping what
# it finds in build/fuzz/corpus/NAME/ (tests/fuzz/run-fuzzers).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# clang's -Wformat=2 also flags vsnprintf in a helper with no format attribute
FUZZ_WARN    := -Wno-format-nonliteral
FUZZ_OBJ     := $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(CORE_SRC))
FUZZ_LIB     := $(BUILD)/fuzz/libbyokfs-fuzz.a
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN     := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
fuzz_cc_check = $(if $(shell command -v $(FUZZ_CC)),,\
  $(error $(FUZZ_CC) is not installed: run scripts/install-deps --test as root))

$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC/FUZZ $<")
	$(Q)$(fuzz_cc_check)$(FUZZ_CC) $(BASE_CFLAGS) $(FUZZ_WARN) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link \
	  -DBYOKFS_VERSION='"$(VERSION)"' -c $< -o $@

$(FUZZ_LIB): $(FUZZ_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZER  $@")
	$(Q)$(fuzz_cc_check)$(FUZZ_CC) $(BASE_CFLAGS) $(FUZZ_WARN) $(FUZZ_FLAGS) -fsanitize=fuzzer \
	  $< $(FUZZ_LIB) $(PKG_LIBS) -o $@

fuzzers: $(FUZZ_BIN)

fuzz: fuzzers
	tests/fuzz/run-fuzzers -t $(FUZZ_SECONDS) -w $(BUILD)/fuzz/corpus

# ---- ThreadSanitizer build and mounted tests -------------------------------------
# `make test-tsan` runs every mounted test (not the unit tests, nor the fuzz
# targets) against build/tsan/byokfs, which injects faults like the ASan
# build; tests/run says which few tests it skips under TSan and why. About
# ten minutes on two cores.
TSAN_FLAGS := -O1 -g -fsanitize=thread -fno-omit-frame-pointer -DBYOKFS_FAULT_INJECTION
TSAN_OBJ   := $(patsubst %.c,$(BUILD)/tsan/obj/%.o,$(CORE_SRC) $(CLI_SRC))

$(BUILD)/tsan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC/TSAN $<")
	$(Q)$(CC) $(BASE_CFLAGS) $(TSAN_FLAGS) -DBYOKFS_VERSION='"$(VERSION)"' -c $< -o $@

$(BUILD)/tsan/byokfs: $(TSAN_OBJ)
	@$(if $(Q),echo "  LD/TSAN $@")
	$(Q)$(CC) $(TSAN_FLAGS) $(HARDEN_LDFLAGS) $^ $(PKG_LIBS) -o $@

tsan: $(BUILD)/tsan/byokfs

# the tools and the release build: some mounted tests use them
test-tsan:
	$(MAKE) all tools tsan
	BYOKFS_SANITIZER=tsan tests/run

# ---- tests ---------------------------------------------------------------------
deps:
	scripts/install-deps

test:
	scripts/install-deps --test
	$(MAKE) all asan
	tests/run

# ---- demo ------------------------------------------------------------------------
demo: deps
	$(MAKE) all
	scripts/demo

# ---- install ---------------------------------------------------------------------
install: $(BUILD)/byokfs
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(SYSCONFDIR)/byokfs
	install -m 0755 $(BUILD)/byokfs $(DESTDIR)$(BINDIR)/byokfs
	install -m 0644 etc/byokfs.1 $(DESTDIR)$(MANDIR)/man1/byokfs.1
	@if [ -f etc/byokfs.conf.example ]; then \
	  install -m 0644 etc/byokfs.conf.example $(DESTDIR)$(SYSCONFDIR)/byokfs/byokfs.conf.example; fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/byokfs $(DESTDIR)$(MANDIR)/man1/byokfs.1

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
