# sandbox.mk - the toolgate-sandbox helper, its test driver, tests and bench.
# Included by the top-level Makefile, which defines CC, CFLAGS and LDFLAGS.
#
#   make sandbox        build/toolgate-sandbox, build/sandbox-drive
#   make sandbox-test   build/tests/toolgate-sandbox-test (the test hooks;
#                       never installed; make integration-build builds it)
#   make check-sandbox  tests/sandbox/run.sh (attack cases + functional tests)
#   make bench-sandbox  median/p90 of a trivial tool vs the bare interpreter

SBX_PKGS     := libseccomp libcurl jansson
# Recursive (=): pkg-config runs when a recipe needs it, after `make deps`
# has installed the -dev packages on a fresh machine.
# The runner ships precompiled for the interpreter the sandbox uses by
# default (compiling its source costs ~8 ms per tool run); another
# TOOLGATE_SANDBOX_PYTHON falls back to the embedded source.
SBX_PYC_PYTHON ?= /usr/bin/python3.11
SBX_CFLAGS   = $(shell pkg-config --cflags $(SBX_PKGS)) -DSBX_PYC_PYTHON='"$(SBX_PYC_PYTHON)"'
# libcurl is headers only: the egress proxy dlopen()s it (proxy.c,
# load_curl()), so tool calls without egress do not pay ~12 ms of loading
# and relocating its 30 dependencies at every helper start.
SBX_LIBS     = $(shell pkg-config --libs jansson)
# libseccomp runs at build time only: seccomp-gen exports filter.c's
# programs as BPF into seccomp_bpf.c, which the helper loads with seccomp(2).
SBX_SECCOMP_LIBS = $(shell pkg-config --libs libseccomp)
SBX_JANSSON  = $(shell pkg-config --libs jansson)
SBX_OBJDIR   := build/sandbox
SBX_HELPER   := build/toolgate-sandbox
SBX_DRIVE    := build/sandbox-drive
SBX_SRCS     := sandbox/helper.c sandbox/child.c sandbox/zygote.c sandbox/seccomp.c \
                sandbox/landlock.c sandbox/proxy.c sandbox/packages.c \
                sandbox/fdio.c
SBX_OBJS     := $(patsubst sandbox/%.c,$(SBX_OBJDIR)/%.o,$(SBX_SRCS)) \
                $(SBX_OBJDIR)/embed.o $(SBX_OBJDIR)/seccomp_bpf.o $(SBX_OBJDIR)/parse.o
SBX_GEN      := $(SBX_OBJDIR)/seccomp-gen
SBX_DRIVE_OBJS := $(SBX_OBJDIR)/drive.o $(SBX_OBJDIR)/sandbox_client.o \
                $(SBX_OBJDIR)/status.o $(SBX_OBJDIR)/slots.o $(SBX_OBJDIR)/shm.o

.PHONY: sandbox check-sandbox bench-sandbox

sandbox: $(SBX_HELPER) $(SBX_DRIVE)

$(SBX_OBJDIR):
	mkdir -p $@

$(SBX_OBJDIR)/%.o: sandbox/%.c sandbox/sbx.h | $(SBX_OBJDIR)
	$(CC) $(CFLAGS) $(SBX_CFLAGS) -c -o $@ $<

$(SBX_GEN): $(SBX_OBJDIR)/seccomp_gen.o $(SBX_OBJDIR)/filter.o
	$(CC) $(LDFLAGS) -o $@ $^ $(SBX_SECCOMP_LIBS)

$(SBX_OBJDIR)/seccomp_bpf.c: $(SBX_GEN)
	$(SBX_GEN) $@

$(SBX_OBJDIR)/seccomp_bpf.o: $(SBX_OBJDIR)/seccomp_bpf.c sandbox/sbx.h
	$(CC) $(CFLAGS) $(SBX_CFLAGS) -c -o $@ $<

$(SBX_OBJDIR)/runner.pyc: sandbox/runner.py | $(SBX_OBJDIR)
	$(SBX_PYC_PYTHON) -I -S -c 'import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], dfile="runner.py", doraise=True, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)' sandbox/runner.py $@

$(SBX_OBJDIR)/embed.o: sandbox/embed.S sandbox/runner.py sandbox/validate.py $(SBX_OBJDIR)/runner.pyc | $(SBX_OBJDIR)
	$(CC) -c -DRUNNER_PY='"$(abspath sandbox/runner.py)"' \
	    -DRUNNER_PYC='"$(abspath $(SBX_OBJDIR)/runner.pyc)"' \
	    -DVALIDATE_PY='"$(abspath sandbox/validate.py)"' -o $@ $<

$(SBX_OBJDIR)/sandbox_client.o: lib/sandbox_client.c lib/sandbox_client.h lib/status.h | $(SBX_OBJDIR)
	$(CC) $(CFLAGS) -c -o $@ $<

$(SBX_OBJDIR)/parse.o: lib/parse.c lib/parse.h lib/status.h | $(SBX_OBJDIR)
	$(CC) $(CFLAGS) -c -o $@ $<

$(SBX_OBJDIR)/status.o: lib/status.c lib/status.h | $(SBX_OBJDIR)
	$(CC) $(CFLAGS) -c -o $@ $<

$(SBX_OBJDIR)/slots.o: lib/slots.c lib/slots.h lib/shm.h lib/status.h | $(SBX_OBJDIR)
	$(CC) $(CFLAGS) -c -o $@ $<

$(SBX_OBJDIR)/shm.o: lib/shm.c lib/shm.h | $(SBX_OBJDIR)
	$(CC) $(CFLAGS) -c -o $@ $<

$(SBX_HELPER): $(SBX_OBJS)
	$(CC) $(LDFLAGS) -o $@ $(SBX_OBJS) $(SBX_LIBS)
	chmod 0755 $@

$(SBX_DRIVE): $(SBX_DRIVE_OBJS)
	$(CC) $(LDFLAGS) -o $@ $(SBX_DRIVE_OBJS) $(SBX_JANSSON)
	chmod 0755 $@

check-sandbox: sandbox sandbox-test
	tests/sandbox/run.sh

# The test build (docs/sandbox.md "Test hooks"): the same helper with
# -DTG_SANDBOX_TEST_HOOKS, which adds --egress-test-allow (a loopback egress
# endpoint the proxy admits), --test-ready-first and --test-child-delay-ms.
# Under build/tests/, never installed; tests/sandbox runs it for exactly the
# cases that need a hook. build/toolgate-sandbox has none of that code and
# refuses the flags as unknown options.
SBX_HOOK_SRCS := sandbox/helper.c sandbox/child.c sandbox/zygote.c \
                sandbox/proxy.c
SBX_TEST_HELPER := build/tests/toolgate-sandbox-test
SBX_TEST_OBJS := $(patsubst sandbox/%.c,$(SBX_OBJDIR)/test-%.o,$(SBX_HOOK_SRCS)) \
                $(filter-out $(patsubst sandbox/%.c,$(SBX_OBJDIR)/%.o,$(SBX_HOOK_SRCS)),$(SBX_OBJS))

.PHONY: sandbox-test

sandbox-test: $(SBX_TEST_HELPER)

$(SBX_OBJDIR)/test-%.o: sandbox/%.c sandbox/sbx.h | $(SBX_OBJDIR)
	$(CC) $(CFLAGS) $(SBX_CFLAGS) -DTG_SANDBOX_TEST_HOOKS -c -o $@ $<

$(SBX_TEST_HELPER): $(SBX_TEST_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(SBX_TEST_OBJS) $(SBX_LIBS)
	chmod 0755 $@

bench-sandbox: sandbox
	/usr/bin/python3.11 -I -S tests/sandbox/bench.py

# Phase checkpoints (SBX_MARK in sbx.h): a separate binary, never installed.
SBX_TIMING_HELPER := build/toolgate-sandbox-timing
SBX_TIMING_OBJS := $(patsubst sandbox/%.c,$(SBX_OBJDIR)/timing-%.o,$(SBX_SRCS)) \
                $(SBX_OBJDIR)/embed.o $(SBX_OBJDIR)/seccomp_bpf.o

.PHONY: sandbox-timing phases-sandbox

sandbox-timing: $(SBX_TIMING_HELPER)

$(SBX_OBJDIR)/timing-%.o: sandbox/%.c sandbox/sbx.h | $(SBX_OBJDIR)
	$(CC) $(CFLAGS) $(SBX_CFLAGS) -DSBX_TIMING -c -o $@ $<

$(SBX_TIMING_HELPER): $(SBX_TIMING_OBJS)
	$(CC) $(LDFLAGS) -o $@ $(SBX_TIMING_OBJS) $(SBX_LIBS)
	chmod 0755 $@

phases-sandbox: sandbox-timing
	/usr/bin/python3.11 -I -S tests/sandbox/phases.py
