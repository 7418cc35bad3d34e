# toolgate - see README.md. The two commands: `make run` and `make check`.
SHELL := /bin/bash
.DEFAULT_GOAL := all

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0-dev)
ifeq ($(origin CC),default)
CC := gcc
endif
PKGS := fcgi jansson libpq libcrypto libjwt libcurl libargon2
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wconversion -Wformat=2 -Wstrict-prototypes
CFLAGS := -std=c17 -D_GNU_SOURCE -O2 -g $(WARN) -D_FORTIFY_SOURCE=2 \
	-fstack-protector-strong -fPIE -I. -I/usr/include/postgresql \
	-DTG_VERSION='"$(VERSION)"'
LDFLAGS := -pie -Wl,-z,relro,-z,now
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

B := build
BA := build-asan

APP_SRC := $(sort $(wildcard fcgi/*.c lib/*.c handlers/*.c))
APP_SRC_NOMAIN := $(filter-out fcgi/main.c,$(APP_SRC))
SQL := $(sort $(wildcard sql/*.sql))
GEN := $(B)/gen/migrations.c

APP_OBJ := $(APP_SRC:%.c=$(B)/%.o) $(B)/gen/migrations.o
APP_OBJ_NOMAIN := $(APP_SRC_NOMAIN:%.c=$(B)/%.o) $(B)/gen/migrations.o
ASAN_OBJ_NOMAIN := $(APP_SRC_NOMAIN:%.c=$(BA)/%.o) $(BA)/gen/migrations.o
# Every application object but fcgi/main.o, in one static library: the
# toolgate binary and the unit tests link against it, and the linker pulls
# only the members a program needs (one definition of every symbol, no
# weak-symbol copies).
LIB := $(B)/libtoolgate.a
LIB_ASAN := $(BA)/libtoolgate.a

UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
# tests/unit/failalloc.c: the allocation-failure hook every unit test links
# (malloc/calloc/realloc wrapped; tests/unit/failalloc.h).
UNIT_WRAP := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/unit/%)
UNIT_ASAN := $(UNIT_SRC:tests/unit/%.c=$(BA)/tests/unit/%)
IT_SRC := $(sort $(wildcard tests/integration/test_*.c))
IT_LIB := $(filter-out $(IT_SRC),$(wildcard tests/integration/*.c))
IT_BIN := $(IT_SRC:tests/integration/%.c=$(B)/tests/integration/%)

.PHONY: all deps run start stop check unit unit-build asan-build \
	integration-build sandbox-test integration valgrind fuzz bench bench-streams fmt fmt-check fmt-new clean help \
	layers-check ui

all: deps $(B)/toolgate sandbox

deps:
	@bash scripts/deps.sh

help:
	@echo 'toolgate make targets (README.md "Commands"):'
	@echo '  make run          build, start the private stack under var/ (PostgreSQL, nginx, toolgate), follow the log; Ctrl-C stops it'
	@echo '  make start        the same stack in the background;  make stop  stops it'
	@echo '  make all          (default) install missing Debian packages, build build/toolgate and the sandbox helper'
	@echo '  make check        every test suite (tests/run.sh; TG_SUITES="stack integration" for a subset)'
	@echo '  make unit         build and run the unit tests only'
	@echo '  make ui           the web console in chromium against a test stack (tests/ui, docs/ui.md)'
	@echo '  make valgrind     the unit tests under valgrind'
	@echo '  make bench        throughput and latency through nginx (docs/performance.md)'
	@echo '  make bench-streams  1,000 idle streams: memory and list_changed fan-out'
	@echo '  make fuzz         libFuzzer on the request parser (FUZZ_SECONDS=60)'
	@echo '  make deps         install the missing Debian packages (scripts/deps.sh)'
	@echo '  make fmt          clang-format the C sources (.clang-format; .clang-format-ignore lists the files it leaves alone)'
	@echo '  make fmt-check    fail when make fmt would change something (make check runs it first)'
	@echo '  make layers-check fail when a layering rule of docs/architecture.md is broken (make check runs it first)'
	@echo '  make clean        remove build/ and build-asan/'
	@echo '  make help         this list'
	@echo 'The binary: build/toolgate --help'

$(LIB): $(APP_OBJ_NOMAIN)
	@rm -f $@
	$(AR) rcs $@ $^
$(LIB_ASAN): $(ASAN_OBJ_NOMAIN)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/toolgate: $(B)/fcgi/main.o $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(GEN): $(SQL) scripts/embed_sql.sh
	@mkdir -p $(dir $@)
	sh scripts/embed_sql.sh $(SQL) > $@.tmp && mv $@.tmp $@

$(B)/gen/migrations.o: $(GEN)
	$(CC) $(CFLAGS) -c -o $@ $<
$(BA)/gen/migrations.o: $(GEN)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(ASAN_FLAGS) -c -o $@ $<

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<
$(BA)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(ASAN_FLAGS) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

# Unit tests: one cmocka binary per module, linked against the library.
$(B)/tests/unit/test_%: tests/unit/test_%.c $(B)/tests/unit/failalloc.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(LDFLAGS) $(UNIT_WRAP) -o $@ $^ $(PKG_LIBS) -lcmocka
$(BA)/tests/unit/test_%: tests/unit/test_%.c $(BA)/tests/unit/failalloc.o $(LIB_ASAN)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(ASAN_FLAGS) $(PKG_CFLAGS) $(LDFLAGS) $(UNIT_WRAP) -o $@ $^ $(PKG_LIBS) -lcmocka

# Integration tests: cmocka + libcurl against the running stack.
$(B)/tests/integration/%: tests/integration/%.c $(IT_LIB) tests/integration/it.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(LDFLAGS) -o $@ $< $(IT_LIB) $(PKG_LIBS) -lcmocka

unit-build: $(UNIT_BIN)
asan-build: $(UNIT_ASAN)
# and the sandbox helper's test build (sandbox/sandbox.mk sandbox-test:
# its test hooks are in no binary `make all` builds)
integration-build: $(IT_BIN) sandbox-test

unit: deps unit-build
	@for t in $(UNIT_BIN); do $$t || exit 1; done

run: all
	@bash scripts/stack.sh run

start: all
	@bash scripts/stack.sh start

stop:
	@bash scripts/stack.sh stop

check: fmt-check layers-check all unit-build asan-build integration-build
	@bash tests/run.sh

# The layering rules of docs/architecture.md ("Layers"): lib/ includes only
# lib/, no SQL in handlers/ or the CLI, no include cycle between modules, no
# C file over 1,200 lines. `check` runs it before building.
layers-check:
	@python3 scripts/layers_check.py

# The web console's browser tests alone (they also run in check).
ui: all
	@TG_SUITES="stack ui" bash tests/run.sh

# Benchmarks (not in check): bench/run.sh prints one table, also written to
# bench/results/latest.md (docs/performance.md).
bench: all
	@bash bench/run.sh
	@bash bench/streams.sh

# The stream process alone: 1,000 idle streams, memory and fan-out
# (bench/streams.sh, docs/performance.md "Streams").
bench-streams: all
	@bash bench/streams.sh

valgrind: unit-build
	@for t in $(UNIT_BIN); do valgrind -q --error-exitcode=99 --leak-check=full $$t || exit 1; done

# libFuzzer target for the request/JSON front door (clang; not in check).
fuzz: deps
	@mkdir -p $(B)/fuzz
	clang -std=c17 -D_GNU_SOURCE -g -O1 -I. -I/usr/include/postgresql \
		-fsanitize=fuzzer,address,undefined \
		-o $(B)/fuzz/fuzz_request tests/fuzz/fuzz_request.c $(APP_SRC_NOMAIN) $(GEN) $(PKG_LIBS)
	$(B)/fuzz/fuzz_request -max_total_time=$${FUZZ_SECONDS:-60} tests/fuzz/corpus

# Formatting (.clang-format, the house KNF style as far as clang-format 14
# goes): every C source and header of the app, the sandbox and the tests,
# less the files listed in .clang-format-ignore. `fmt` rewrites them in
# place (idempotent), `fmt-check` fails if it would change anything; `check`
# runs fmt-check first. `fmt-new BASE=<commit>` formats only the lines changed
# since BASE in every file, ignored ones included (git clang-format).
CLANG_FORMAT ?= $(shell command -v clang-format-14 2>/dev/null || echo clang-format)
FMT_ALL = $(sort $(wildcard fcgi/*.[ch] lib/*.[ch] handlers/*.[ch] sandbox/*.[ch]) \
	$(shell find tests -name node_modules -prune -o -name '*.[ch]' -type f -print))
FMT_IGNORE = $(shell sed -e 's/\#.*//' -e '/^[[:space:]]*$$/d' .clang-format-ignore 2>/dev/null)
FMT_SRC = $(filter-out $(FMT_IGNORE),$(FMT_ALL))

fmt: deps
	@$(CLANG_FORMAT) -i --style=file $(FMT_SRC)

fmt-check: deps
	@$(CLANG_FORMAT) --dry-run -Werror --style=file $(FMT_SRC) || \
		{ echo "fmt-check: the files above are not formatted; run 'make fmt'" >&2; exit 1; }

fmt-new:
	@test -n "$(BASE)" || { echo "usage: make fmt-new BASE=<commit>" >&2; exit 1; }
	git clang-format --binary $(CLANG_FORMAT) --style=file $(BASE) -- $(FMT_ALL)

clean:
	rm -rf $(B) $(BA)

.SECONDARY:

-include sandbox/sandbox.mk
ifeq ($(wildcard sandbox/sandbox.mk),)
.PHONY: sandbox
sandbox:
endif

-include $(APP_OBJ:.o=.d) $(ASAN_OBJ_NOMAIN:.o=.d) \
	$(B)/tests/unit/failalloc.d $(BA)/tests/unit/failalloc.d

# lib/pkg_embed.c embeds lib/pkg_resolver.py with .incbin (docs/packages.md)
$(B)/lib/pkg_embed.o $(BA)/lib/pkg_embed.o: lib/pkg_resolver.py
