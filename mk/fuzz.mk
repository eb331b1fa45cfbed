# Fuzzing and sanitizer builds. Included from the Makefile; works alone too:
#   make -f mk/fuzz.mk fuzz-build
#
#   make fuzz-build              the libFuzzer harnesses (tests/fuzz/) into build/fuzz/
#   make fuzz [FUZZ_SECONDS=60]  fuzz each harness that long, one after the other, on a
#                                copy of its corpus; new crashes go to build/fuzz/work/
#   make fuzz-regress            every harness once over its corpus, no mutation
#   make sanitize                mxfence and the unit programs with ASan + UBSan into
#                                build-san/ (./mxfence-san), then the test suite on them
#                                (tests/sanitize/suite.sh; make check runs it too)

# Whatever the Makefile's default goal is, this file does not change it.
fuzz_default_goal := $(.DEFAULT_GOAL)

FUZZ_CC ?= clang
FUZZ_BUILD ?= build/fuzz
FUZZ_SECONDS ?= 60
FUZZ_PKG_CONFIG ?= pkg-config
FUZZ_PKGS := libnftnl libmnl jansson inih libcurl ldns libcrypto

FUZZ_FEEDS := list postfix-cidr m365 aws google azure
FUZZ_OTHERS := policy flows state modelfile addr cachemeta spf dns nldump saved plan dnat
FUZZ_HARNESSES := $(FUZZ_FEEDS) $(FUZZ_OTHERS)

FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -std=gnu11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -Wall -Wextra \
	-Wno-unused-parameter -MMD -MP $(FUZZ_SAN) \
	$(shell $(FUZZ_PKG_CONFIG) --cflags $(FUZZ_PKGS) 2>/dev/null)
FUZZ_LDLIBS := $(shell $(FUZZ_PKG_CONFIG) --libs $(FUZZ_PKGS) 2>/dev/null) -lcidr -lpthread

FUZZ_SRCS := $(filter-out src/main.c,$(wildcard src/*.c src/nl/*.c))
FUZZ_LIB_OBJS := $(FUZZ_SRCS:src/%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_UTIL_OBJ := $(FUZZ_BUILD)/obj/fuzz_util.o $(FUZZ_BUILD)/obj/fuzz_fixtures.o
FUZZ_FEED_BINS := $(FUZZ_FEEDS:%=$(FUZZ_BUILD)/%)
FUZZ_OTHER_BINS := $(FUZZ_OTHERS:%=$(FUZZ_BUILD)/%)

ifeq ($(V),1)
FUZZ_Q :=
fuzz_quiet = @true
else
FUZZ_Q := @
fuzz_quiet = @printf '  %-6s %s\n'
endif

fuzz-build: $(FUZZ_FEED_BINS) $(FUZZ_OTHER_BINS)

$(FUZZ_BUILD)/obj $(FUZZ_BUILD)/obj/nl:
	$(FUZZ_Q)mkdir -p $@

# The code under test: coverage for libFuzzer, sanitizers.
$(FUZZ_BUILD)/obj/%.o: src/%.c | $(FUZZ_BUILD)/obj $(FUZZ_BUILD)/obj/nl
	$(fuzz_quiet) FUZZCC $<
	$(FUZZ_Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/obj/fuzz_%.o: tests/fuzz/fuzz_%.c | $(FUZZ_BUILD)/obj
	$(fuzz_quiet) FUZZCC $<
	$(FUZZ_Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -Isrc -c -o $@ $<

# One harness source, one binary per feed format.
$(FUZZ_BUILD)/obj/feed-%.o: tests/fuzz/fuzz_feed.c | $(FUZZ_BUILD)/obj
	$(fuzz_quiet) FUZZCC $< [$*]
	$(FUZZ_Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -Isrc \
		-DFUZZ_FORMAT='"$*"' -c -o $@ $<

$(FUZZ_FEED_BINS): $(FUZZ_BUILD)/%: $(FUZZ_BUILD)/obj/feed-%.o $(FUZZ_UTIL_OBJ) $(FUZZ_LIB_OBJS)
	$(fuzz_quiet) FUZZLD $@
	$(FUZZ_Q)$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ $(FUZZ_LDLIBS)

$(FUZZ_OTHER_BINS): $(FUZZ_BUILD)/%: $(FUZZ_BUILD)/obj/fuzz_%.o $(FUZZ_UTIL_OBJ) $(FUZZ_LIB_OBJS)
	$(fuzz_quiet) FUZZLD $@
	$(FUZZ_Q)$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ $(FUZZ_LDLIBS)

fuzz: fuzz-build
	$(FUZZ_Q)FUZZ_BUILD=$(FUZZ_BUILD) tests/fuzz/campaign $(FUZZ_SECONDS) $(FUZZ_HARNESSES)

fuzz-regress: fuzz-build
	$(FUZZ_Q)FUZZ_BUILD=$(FUZZ_BUILD) tests/fuzz/regress.sh

fuzz-clean:
	rm -rf $(FUZZ_BUILD)

# Dependency files are made by the compiler, never by a rule.
$(FUZZ_BUILD)/obj/%.d: ;
-include $(wildcard $(FUZZ_BUILD)/obj/*.d $(FUZZ_BUILD)/obj/nl/*.d)

# mxfence itself, and the programs of tests/unit and tests/tools, with ASan and UBSan.
SAN_CC ?= clang
SAN_BUILD ?= build-san
SAN_BIN ?= mxfence-san
SAN_CFLAGS := -std=gnu11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -MMD -MP $(FUZZ_SAN) \
	$(shell $(FUZZ_PKG_CONFIG) --cflags $(FUZZ_PKGS) 2>/dev/null)
SAN_OBJS := $(wildcard src/*.c src/nl/*.c)
SAN_OBJS := $(SAN_OBJS:src/%.c=$(SAN_BUILD)/%.o)
SAN_LIB_OBJS := $(filter-out $(SAN_BUILD)/main.o,$(SAN_OBJS))
SAN_UNIT := $(SAN_BUILD)/unit $(SAN_BUILD)/nl_test $(SAN_BUILD)/spf_test \
	$(SAN_BUILD)/policy_test $(SAN_BUILD)/feed_test $(SAN_BUILD)/state_test \
	$(SAN_BUILD)/diffview_test $(SAN_BUILD)/plan_test
# Each tests/unit/NAME.sh of a program runs NAME_test (unit.sh: unit); these run the
# sanitized ones. (layers.sh runs no program: a static check, nothing to sanitize.)
SAN_UNIT_SH := $(SAN_BUILD)/tests/unit.sh \
	$(patsubst tests/unit/%_test.c,$(SAN_BUILD)/tests/%.sh,$(wildcard tests/unit/*_test.c))
SAN_TOOLS := $(SAN_BUILD)/nl_drive $(SAN_BUILD)/spf_drive
$(SAN_BUILD) $(SAN_BUILD)/nl $(SAN_BUILD)/tests:
	$(FUZZ_Q)mkdir -p $@

$(SAN_BUILD)/%.o: src/%.c | $(SAN_BUILD) $(SAN_BUILD)/nl
	$(fuzz_quiet) SANCC $<
	$(FUZZ_Q)$(SAN_CC) $(SAN_CFLAGS) -c -o $@ $<

$(SAN_BIN): $(SAN_OBJS)
	$(fuzz_quiet) SANLD $@
	$(FUZZ_Q)$(SAN_CC) $(FUZZ_SAN) -o $@ $^ $(FUZZ_LDLIBS)

$(SAN_UNIT): $(SAN_BUILD)/%: tests/unit/%.c $(SAN_LIB_OBJS)
	$(fuzz_quiet) SANLD $@
	$(FUZZ_Q)$(SAN_CC) $(SAN_CFLAGS) -MF $@.d -Isrc -o $@ $< $(SAN_LIB_OBJS) $(FUZZ_LDLIBS)

$(SAN_TOOLS): $(SAN_BUILD)/%: tests/tools/%.c $(SAN_LIB_OBJS)
	$(fuzz_quiet) SANLD $@
	$(FUZZ_Q)$(SAN_CC) $(SAN_CFLAGS) -MF $@.d -Isrc -o $@ $< $(SAN_LIB_OBJS) $(FUZZ_LDLIBS)

$(SAN_UNIT_SH): $(SAN_BUILD)/tests/%.sh: | $(SAN_BUILD)/tests
	$(FUZZ_Q)printf '#!/bin/sh\nexec "%s/%s"\n' "$(CURDIR)/$(SAN_BUILD)" \
		"$(if $(filter unit,$*),unit,$*_test)" >$@
	$(FUZZ_Q)chmod +x $@

sanitize-build: $(SAN_BIN) $(SAN_UNIT) $(SAN_TOOLS) $(SAN_UNIT_SH)

sanitize: sanitize-build
	$(FUZZ_Q)tests/run sanitize

sanitize-clean:
	rm -rf $(SAN_BUILD) $(SAN_BIN)

$(SAN_BUILD)/%.d: ;
-include $(wildcard $(SAN_BUILD)/*.d $(SAN_BUILD)/nl/*.d)

.PHONY: fuzz-build fuzz fuzz-regress fuzz-clean sanitize sanitize-build sanitize-clean

.DEFAULT_GOAL := $(fuzz_default_goal)
