# ttai: build the nginx module, the CLI and the unit tests.
#
#   make            the module (build/nginx/ngx_http_ttai_module.so)
#                   and the CLI (build/ttai)
#   make unit       build and run the C unit tests of shared/
#   make test       everything: scripts/test.sh
#   make clean

SHELL := /bin/bash

NGX_SRC   ?= /usr/share/nginx/src
BUILD     := build
NGX_BUILD := $(BUILD)/nginx
MODULE    := $(NGX_BUILD)/ngx_http_ttai_module.so

# Debian's own flags for nginx modules (dpkg-buildflags), written out so
# that the build does not depend on the directory it runs from.
NGX_CC_OPT := -g -O2 -fstack-protector-strong -Wformat \
              -Werror=format-security -fPIC -Wdate-time -D_FORTIFY_SOURCE=2
NGX_LD_OPT := -Wl,-z,relro -Wl,-z,now -fPIC

CC      ?= cc
CFLAGS  ?= -g -O2
WARN    := -Wall -Wextra -Werror -Wpointer-arith -Wno-unused-parameter
ALL_CFLAGS := $(CFLAGS) $(WARN) -D_GNU_SOURCE -Ishared

SHARED_SRCS := $(wildcard shared/*.c)
SHARED_HDRS := $(wildcard shared/*.h)
SHARED_LIBS := -ljwt -lsodium -ljansson -lsqlite3

CLI_SRCS := $(wildcard cli/*.c)
CLI_LIBS := $(SHARED_LIBS) -lcurl

UNIT_SRCS  := $(wildcard t/unit/test_*.c)
UNIT_BINS  := $(patsubst t/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))

MODULE_SRCS := $(wildcard ngx_ttai_module/*.c ngx_ttai_module/*.h) \
               $(SHARED_SRCS) $(SHARED_HDRS)


.PHONY: all module cli unit test clean FORCE

all: module cli

module: $(MODULE)

# configure again when a source file is added or removed: config lists
# the sources at configure time
$(NGX_BUILD)/sources: FORCE
	@mkdir -p $(NGX_BUILD)
	@echo '$(sort $(MODULE_SRCS))' | cmp -s - $@ \
	    || echo '$(sort $(MODULE_SRCS))' > $@

$(NGX_BUILD)/Makefile: config $(NGX_BUILD)/sources
	@mkdir -p $(NGX_BUILD)
	@echo "configure: nginx $(shell nginx -v 2>&1 | sed 's|.*/||') module build in $(NGX_BUILD)"
	@cd $(NGX_SRC) && . ./conf_flags && ./configure \
	    --with-cc-opt="$(NGX_CC_OPT)" --with-ld-opt="$(NGX_LD_OPT)" \
	    "$${NGX_CONF_FLAGS[@]}" \
	    --add-dynamic-module=$(CURDIR) \
	    --builddir=$(CURDIR)/$(NGX_BUILD) \
	    > $(CURDIR)/$(NGX_BUILD)/configure.log 2>&1 \
	|| { tail -n 15 $(CURDIR)/$(NGX_BUILD)/configure.log; \
	     rm -f $(CURDIR)/$(NGX_BUILD)/Makefile; exit 1; }

$(MODULE): $(NGX_BUILD)/Makefile $(MODULE_SRCS)
	@$(MAKE) --no-print-directory -s -f $(CURDIR)/$(NGX_BUILD)/Makefile \
	    -C $(NGX_SRC) modules
	@echo "built $(MODULE)"

cli: $(BUILD)/ttai

$(BUILD)/ttai: $(CLI_SRCS) $(SHARED_SRCS) $(SHARED_HDRS)
	@mkdir -p $(BUILD)
	$(CC) $(ALL_CFLAGS) -o $@ $(CLI_SRCS) $(SHARED_SRCS) $(CLI_LIBS)

$(BUILD)/unit/%: t/unit/%.c $(SHARED_SRCS) $(SHARED_HDRS)
	@mkdir -p $(BUILD)/unit
	$(CC) $(ALL_CFLAGS) -o $@ $< $(SHARED_SRCS) $(SHARED_LIBS) -lcmocka

unit: $(UNIT_BINS)
	@scripts/run-unit $(UNIT_BINS)

test:
	@scripts/test.sh

clean:
	rm -rf $(BUILD)
