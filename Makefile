# ttai: build the nginx module, the CLI and the unit tests.
#
#   make            the module (build/nginx/ngx_http_ttai_module.so)
#                   and the CLI (build/ttai)
#   make lib        the core alone: build/libttai.a
#   make unit       build and run the C unit tests of shared/
#   make fuzz       the libFuzzer targets of t/fuzz/ (clang): build/fuzz/
#   make test       everything: scripts/test.sh
#   make clean
#
# shared/ is compiled once, position-independent, into build/libttai.a;
# the module, the CLI and every unit-test program link that archive.
# Every object records the headers it read (-MMD -MP), so editing any
# header rebuilds exactly what includes it.  The fuzz targets link a
# copy of the core of their own, compiled by clang with the fuzzer's
# coverage and the address and undefined-behaviour sanitizers, in
# build/fuzz/.  The tools' declarations,
# shared/tools/schemas/*.json, become build/gen/ttai_tools_decl.c
# (scripts/gen-tools, in perl), which is part of the archive too.

SHELL := /bin/bash

NGX_SRC   ?= /usr/share/nginx/src
BUILD     := build
NGX_BUILD := $(BUILD)/nginx
MODULE    := $(NGX_BUILD)/ngx_http_ttai_module.so
LIBTTAI   := $(BUILD)/libttai.a

# Debian's own flags for nginx modules (dpkg-buildflags), written out so
# that the build does not depend on the directory it runs from.
NGX_CC_OPT := -g -O2 -fstack-protector-strong -Wformat \
              -Werror=format-security -fPIC -Wdate-time -D_FORTIFY_SOURCE=2
NGX_LD_OPT := -Wl,-z,relro -Wl,-z,now -fPIC

CC      ?= cc
CFLAGS  ?= -g -O2
WARN    := -Wall -Wextra -Werror -Wpointer-arith -Wno-unused-parameter

# the core's folders, one concern each; like nginx's src/core, src/http,
# each is on the include path, so a header is included by its name alone
SHARED_DIRS := $(sort $(patsubst %/,%,$(dir $(wildcard shared/*/*.[ch]))))
SHARED_INCS := $(addprefix -I,$(SHARED_DIRS))

ALL_CFLAGS := $(CFLAGS) $(WARN) -D_GNU_SOURCE -fPIC -fstack-protector-strong \
              -Werror=format-security -D_FORTIFY_SOURCE=2 $(SHARED_INCS) \
              -MMD -MP

SHARED_SRCS := $(wildcard shared/*/*.c)
SHARED_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(SHARED_SRCS))
SHARED_LIBS := -ljwt -lsodium -ljansson -lsqlite3 -lm

TOOL_JSON   := $(sort $(wildcard shared/tools/schemas/*.json))
GEN_DIR     := $(BUILD)/gen
GEN_SRCS    := $(GEN_DIR)/ttai_tools_decl.c
GEN_OBJS    := $(GEN_SRCS:.c=.o)

CLI_SRCS := $(wildcard cli/*.c)
CLI_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(CLI_SRCS))
CLI_LIBS := $(SHARED_LIBS) -lcurl

UNIT_SRCS  := $(wildcard t/unit/test_*.c)
UNIT_OBJS  := $(patsubst %.c,$(BUILD)/%.o,$(UNIT_SRCS))
UNIT_BINS  := $(patsubst t/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))

MODULE_SRCS := $(wildcard ngx_ttai_module/*.c ngx_ttai_module/*.h) \
               $(wildcard shared/*/*.h)


.PHONY: all lib module cli unit bench-tools fuzz test clean FORCE

# kept, so that a test program relinks without compiling again
.SECONDARY: $(UNIT_OBJS)

all: module cli

lib: $(LIBTTAI)

module: $(MODULE)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# generated: the list of JSON files is a prerequisite too, so that
# removing one regenerates
$(GEN_DIR)/schemas: FORCE
	@mkdir -p $(@D)
	@echo '$(TOOL_JSON)' | cmp -s - $@ || echo '$(TOOL_JSON)' > $@

$(GEN_DIR)/ttai_tools_decl.c: scripts/gen-tools $(TOOL_JSON) $(GEN_DIR)/schemas
	@echo "gen-tools $@"
	@perl scripts/gen-tools -o $@ $(TOOL_JSON)

$(GEN_OBJS): $(BUILD)/%.o: $(BUILD)/%.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBTTAI): $(SHARED_OBJS) $(GEN_OBJS)
	@rm -f $@
	ar rcs $@ $^

# configure again when a source file is added or removed: config lists
# the sources at configure time
$(NGX_BUILD)/sources: FORCE
	@mkdir -p $(NGX_BUILD)
	@echo '$(sort $(MODULE_SRCS))' | cmp -s - $@ \
	    || echo '$(sort $(MODULE_SRCS))' > $@

$(NGX_BUILD)/Makefile: config $(NGX_BUILD)/sources
	@mkdir -p $(NGX_BUILD)
	@echo "configure: nginx $(shell nginx -v 2>&1 | sed 's|.*/||') module build in $(NGX_BUILD)"
	@cd $(NGX_SRC) && . ./conf_flags && TTAI_LIB=$(CURDIR)/$(LIBTTAI) ./configure \
	    --with-cc-opt="$(NGX_CC_OPT)" --with-ld-opt="$(NGX_LD_OPT)" \
	    "$${NGX_CONF_FLAGS[@]}" \
	    --add-dynamic-module=$(CURDIR) \
	    --builddir=$(CURDIR)/$(NGX_BUILD) \
	    > $(CURDIR)/$(NGX_BUILD)/configure.log 2>&1 \
	|| { tail -n 15 $(CURDIR)/$(NGX_BUILD)/configure.log; \
	     rm -f $(CURDIR)/$(NGX_BUILD)/Makefile; exit 1; }

# nginx's Makefile does not know the archive: a newer one must relink
$(MODULE): $(NGX_BUILD)/Makefile $(MODULE_SRCS) $(LIBTTAI)
	@[ ! -f $@ ] || [ ! $(LIBTTAI) -nt $@ ] || rm -f $@
	@$(MAKE) --no-print-directory -s -f $(CURDIR)/$(NGX_BUILD)/Makefile \
	    -C $(NGX_SRC) modules
	@touch $@
	@echo "built $(MODULE)"

cli: $(BUILD)/ttai

$(BUILD)/ttai: $(CLI_OBJS) $(LIBTTAI)
	$(CC) -o $@ $(CLI_OBJS) $(LIBTTAI) $(CLI_LIBS)

$(BUILD)/unit/%: $(BUILD)/t/unit/%.o $(LIBTTAI)
	@mkdir -p $(@D)
	$(CC) -o $@ $< $(LIBTTAI) $(SHARED_LIBS) -lcmocka

unit: $(UNIT_BINS)
	@scripts/run-unit $(UNIT_BINS)

# the benchmarks' own programs (scripts/bench.sh builds them)
bench-tools: $(BUILD)/tools/vector-bench

$(BUILD)/tools/vector-bench: $(BUILD)/scripts/bench/vector_bench.o $(LIBTTAI)
	@mkdir -p $(@D)
	$(CC) -o $@ $< $(LIBTTAI) $(SHARED_LIBS)

# the fuzz targets: the core again, instrumented; scripts/fuzz runs them
FUZZ_CC     ?= clang
FUZZ_DIR    := $(BUILD)/fuzz
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN) \
               -fsanitize=fuzzer-no-link $(WARN) -D_GNU_SOURCE \
               $(SHARED_INCS) -MMD -MP
FUZZ_LIB    := $(FUZZ_DIR)/libttai.a
FUZZ_OBJS   := $(patsubst %.c,$(FUZZ_DIR)/%.o,$(SHARED_SRCS)) \
               $(patsubst $(GEN_DIR)/%.c,$(FUZZ_DIR)/gen/%.o,$(GEN_SRCS))
FUZZ_SRCS   := $(wildcard t/fuzz/fuzz_*.c)
FUZZ_BINS   := $(patsubst t/fuzz/%.c,$(FUZZ_DIR)/%,$(FUZZ_SRCS))

.SECONDARY: $(FUZZ_BINS:=.o)

$(FUZZ_DIR)/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/gen/%.o: $(GEN_DIR)/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%.o: t/fuzz/fuzz_%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/fuzz_%.o $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) \
	    $(SHARED_LIBS)

fuzz: $(FUZZ_BINS)

test:
	@scripts/test.sh

clean:
	rm -rf $(BUILD)

-include $(SHARED_OBJS:.o=.d) $(GEN_OBJS:.o=.d) $(CLI_OBJS:.o=.d) \
         $(UNIT_OBJS:.o=.d) $(FUZZ_OBJS:.o=.d) $(FUZZ_BINS:=.d)
