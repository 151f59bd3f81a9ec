# netposture build. `make` builds the two binaries; `make test` is the one test command
# (deps, build, lint, unit tests under ASan+UBSan, end-to-end against real servers).
# Modules live in pkg/<module>/; each module's unit tests in tests/unit/<module>/.

CC       ?= gcc
PKGS     := libcurl openssl json-c yaml-0.1 expat libwebsockets zlib
STD      := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 -Wno-format-nonliteral
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS   ?= -O2 -g
ALL_CFLAGS = $(STD) $(WARN) $(CFLAGS) -Ipkg $(PKG_CFLAGS) -pthread -MMD -MP
LDLIBS   = $(PKG_LIBS) -pthread -lm
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

MODULES  := core kube aws posture observe controller http cli
# The CRDs compiled into netposturectl for offline validation (pkg/cli/crds.c).
CRD_FILES := $(sort $(wildcard crds/netposture.dev_*.yaml))
GEN_SRCS := build/gen/crds.c
LIB_SRCS := $(sort $(wildcard $(addsuffix /*.c,$(addprefix pkg/,$(MODULES)))))
LIB_OBJS := $(patsubst %.c,build/obj/%.o,$(LIB_SRCS) $(GEN_SRCS))
SAN_OBJS := $(patsubst %.c,build/san/%.o,$(LIB_SRCS) $(GEN_SRCS))
UNIT_MODULES := $(notdir $(patsubst %/,%,$(sort $(dir $(wildcard tests/unit/*/*.c)))))
UNIT_BINS := $(addprefix build/san/unit-,$(UNIT_MODULES))

BINS := bin/netposture-controller bin/netposturectl
PREFIX ?= /usr/local

# netposture_build_info{version,revision}: the git description (a tag once there is one) and
# commit, "unknown" outside a git checkout; `make VERSION=1.2.3` overrides.
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)

.PHONY: FORCE all deps test unit unit-build e2e e2e-tools lint format api-docs run clean bench fuzz fuzz-build image install
all: $(BINS) bin/kubectl-netposture

# The kubectl plugin: the same binary under the name kubectl looks for (`kubectl netposture`).
bin/kubectl-netposture: bin/netposturectl
	ln -sf netposturectl $@

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 bin/netposture-controller bin/netposturectl $(DESTDIR)$(PREFIX)/bin/
	ln -sf netposturectl $(DESTDIR)$(PREFIX)/bin/kubectl-netposture

build/gen/crds.c: $(CRD_FILES) hack/embed-crds.sh
	@mkdir -p $(dir $@)
	hack/embed-crds.sh $@ $(CRD_FILES)

build/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

build/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -O1 $(SAN) -c $< -o $@

build/libnetposture.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

build/san/libnetposture.a: $(SAN_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# The commands' objects read build/gen/version.h, rewritten only when its text changes.
build/gen/version.h: FORCE
	@mkdir -p $(dir $@)
	@printf '#define NP_VERSION "%s"\n#define NP_REVISION "%s"\n' '$(VERSION)' '$(REVISION)' >$@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi
CMD_OBJS := $(foreach d,obj san,$(patsubst %.c,build/$(d)/%.o,$(wildcard cmd/*/*.c)))
$(CMD_OBJS): ALL_CFLAGS += -Ibuild/gen -DNP_HAVE_VERSION_H
$(CMD_OBJS): build/gen/version.h

# Test helpers a module's unit tests borrow from another module's directory.
UNIT_EXTRA_controller := tests/unit/kube/fake_apiserver.c tests/unit/kube/helpers.c
UNIT_EXTRA_cli := tests/unit/kube/fake_apiserver.c tests/unit/kube/helpers.c tests/unit/observe/vpc_fixture.c tests/unit/observe/recorded_ec2.c
UNIT_EXTRA_observe := tests/unit/kube/fake_apiserver.c tests/unit/kube/helpers.c

define unit_rule
build/san/unit-$(1): $(patsubst %.c,build/san/%.o,$(wildcard tests/unit/$(1)/*.c) $(UNIT_EXTRA_$(1))) build/san/libnetposture.a
	$$(CC) $$(ALL_CFLAGS) $$(SAN) -o $$@ $$(filter %.o,$$^) build/san/libnetposture.a -lcriterion $$(LDLIBS)
endef
$(foreach m,$(UNIT_MODULES),$(eval $(call unit_rule,$(m))))

define bin_rule
bin/$(1): $(patsubst %.c,build/obj/%.o,$(wildcard cmd/$(1)/*.c)) build/libnetposture.a
	@mkdir -p bin
	$$(CC) $$(ALL_CFLAGS) -o $$@ $$(filter %.o,$$^) build/libnetposture.a $$(LDLIBS)
endef
$(foreach b,$(notdir $(BINS)),$(eval $(call bin_rule,$(b))))

# Small programs the end-to-end suite runs against the real servers (tests/e2e/tools/*.c).
E2E_TOOLS := $(patsubst tests/e2e/tools/%.c,build/e2e-tools/%,$(wildcard tests/e2e/tools/*.c))
build/e2e-tools/%: build/obj/tests/e2e/tools/%.o build/libnetposture.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< build/libnetposture.a $(LDLIBS)
# The controller under ASan+UBSan, for the end-to-end fault tests that look for sanitizer reports.
build/san/netposture-controller: $(patsubst %.c,build/san/%.o,$(wildcard cmd/netposture-controller/*.c)) build/san/libnetposture.a
	$(CC) $(ALL_CFLAGS) $(SAN) -o $@ $(filter %.o,$^) build/san/libnetposture.a $(LDLIBS)
# kstatus from sigs.k8s.io/cli-utils (the module proxy), as Flux and `kubectl wait` compute it.
build/e2e-tools/kstatus: $(wildcard tests/e2e/kstatus/*.go) tests/e2e/kstatus/go.mod tests/e2e/kstatus/go.sum
	@mkdir -p $(dir $@)
	cd tests/e2e/kstatus && go build -trimpath -o $(CURDIR)/$@ .
# hclrules from github.com/hashicorp/hcl/v2 (the module proxy): parses render terraform's output.
build/e2e-tools/hclrules: $(wildcard tests/e2e/hclrules/*.go) tests/e2e/hclrules/go.mod tests/e2e/hclrules/go.sum
	@mkdir -p $(dir $@)
	cd tests/e2e/hclrules && go build -mod=readonly -trimpath -o $(CURDIR)/$@ .
# promql: Prometheus's own PromQL parser (the module proxy) over manifests/monitoring.
build/e2e-tools/promql: $(wildcard tests/e2e/promql/*.go) tests/e2e/promql/go.mod tests/e2e/promql/go.sum
	@mkdir -p $(dir $@)
	cd tests/e2e/promql && GOFLAGS=-mod=readonly go build -trimpath -o $(CURDIR)/$@ .
e2e-tools: $(E2E_TOOLS) build/san/netposture-controller build/e2e-tools/kstatus build/e2e-tools/hclrules build/e2e-tools/promql

# libFuzzer targets (tests/fuzz/fuzz_*.c) over the library built again with clang, ASan+UBSan
# and fuzzer instrumentation in build/fuzz/ (never mixed with the gcc objects). `make fuzz` runs
# each for FUZZ_SECONDS (FUZZ_JOBS at once); hack/test.sh runs a short smoke of each.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 300
FUZZ_JOBS    ?= 1
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_OBJS    := $(patsubst %.c,build/fuzz/%.o,$(LIB_SRCS) $(GEN_SRCS))
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))

build/fuzz/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(ALL_CFLAGS) -O1 -gline-tables-only $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c $< -o $@

build/fuzz/libnetposture.a: $(FUZZ_OBJS)
	rm -f $@ && ar rcs $@ $^

build/fuzz/fuzz_%: build/fuzz/tests/fuzz/fuzz_%.o build/fuzz/libnetposture.a
	$(FUZZ_CC) $(ALL_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer $(FUZZ_LDFLAGS) -o $@ $< build/fuzz/libnetposture.a $(LDLIBS)

# The kubeconfig target never reads a file the fuzzer named (see the file).
build/fuzz/fuzz_kube_config: FUZZ_LDFLAGS = -Wl,--wrap=fopen

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	hack/fuzz.sh --seconds $(FUZZ_SECONDS) --jobs $(FUZZ_JOBS)

.SECONDARY:

unit-build: $(UNIT_BINS)

# Runs every module's unit tests; hack/test.sh parses Criterion's synthesis lines.
unit: $(UNIT_BINS)
	@rc=0; for t in $(UNIT_BINS); do echo "== $$t"; $$t --jobs 2 || rc=1; done; exit $$rc

deps:
	hack/deps.sh

test:
	hack/test.sh

e2e: all e2e-tools
	tests/e2e/run.sh

lint:
	hack/lint.sh

format:
	clang-format -i $$(hack/c-files.sh)

# docs/api.md from crds/ (make lint fails when it is out of date).
api-docs:
	hack/gen-api-docs.py

run:
	hack/run.sh

bench: all
	bench/run.sh

# The controller's OCI image from Debian packages, offline (build/image/; hack/image.sh).
image: all
	hack/image.sh

clean:
	rm -rf build bin

-include $(shell find build -name "*.d" 2>/dev/null)
