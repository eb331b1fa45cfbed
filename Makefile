# mxfence: compile provider ranges and relay lists into an nftables allow-list.
#   make            build ./mxfence
#   make demo       install missing Debian packages, build, run on the default policy
#   make test       build everything the tests need, run every test (installs nothing)
#   make check      install test packages, then make test
#   make bench      the benchmark, side by side with the anchor tools
#   make install    PREFIX=/usr/local DESTDIR=
#   make deb        the Debian package into out/ (DEB_OUT=), see contrib/deb.sh

PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/mxfence
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
DEB_OUT ?= out
PKG_CONFIG ?= pkg-config
CC ?= cc

PKGS := libnftnl libmnl jansson inih libcurl ldns libcrypto
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Wshadow -Wformat=2 -Wno-format-nonliteral \
	-D_GNU_SOURCE -MMD -MP
CFLAGS += $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
# libcurl: headers only; src/http.c loads it with dlopen when a download starts.
LINK_PKGS := $(filter-out libcurl,$(PKGS))
LDLIBS += $(shell $(PKG_CONFIG) --libs $(LINK_PKGS) 2>/dev/null) -lcidr -lpthread

BUILD ?= build
# src/nl/: the kernel layer, the only files that include libmnl and libnftnl.
SRCS := $(wildcard src/*.c src/nl/*.c)
OBJS := $(SRCS:src/%.c=$(BUILD)/%.o)
LIB_OBJS := $(filter-out $(BUILD)/main.o,$(OBJS))

ifeq ($(V),1)
Q :=
quiet = @true
else
Q := @
quiet = @printf '  %-6s %s\n'
endif

all: mxfence

mxfence: $(OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: src/%.c | $(BUILD) $(BUILD)/nl
	$(quiet) CC $<
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD) $(BUILD)/nl:
	$(Q)mkdir -p $@

# Test programs link the objects without main(): the unit tests (each run by
# tests/unit/NAME.sh), and the tools the shell tests drive (tests/tools).
UNIT_PROGS := tests/unit/unit tests/unit/nl_test tests/unit/spf_test tests/unit/policy_test \
	tests/unit/feed_test tests/unit/state_test tests/unit/diffview_test tests/unit/plan_test
TOOL_PROGS := tests/tools/nl_drive tests/tools/spf_drive
TEST_PROGS := $(UNIT_PROGS) $(TOOL_PROGS)
tests/unit/%: tests/unit/%.c $(LIB_OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(CFLAGS) -Isrc -o $@ $< $(LIB_OBJS) $(LDLIBS)
tests/tools/%: tests/tools/%.c $(LIB_OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(CFLAGS) -Isrc -o $@ $< $(LIB_OBJS) $(LDLIBS)

deps:
	$(Q)sh contrib/deps.sh build

test-deps:
	$(Q)sh contrib/deps.sh build test deb

deb:
	$(Q)sh contrib/deps.sh build deb
	$(Q)sh contrib/deb.sh $(DEB_OUT)

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)sh contrib/demo.sh

# The whole suite on what is installed; check installs the test packages first.
test:
	$(Q)$(MAKE) --no-print-directory all $(TEST_PROGS) fuzz-build sanitize-build
	$(Q)tests/run

check: test-deps
	$(Q)$(MAKE) --no-print-directory test

bench: test-deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)sh tests/bench/bench.sh

# Every systemd unit of contrib/systemd, @SBINDIR@ replaced by the installed binary's folder.
UNITS := $(notdir $(wildcard $(addprefix contrib/systemd/*.,service timer socket path target)))
# The default policy and its relay list go to $(SYSCONFDIR)/mxfence unless files of those names
# are there already (an installed policy is the administrator's); the policy's ../data/ paths
# are rewritten to the feed snapshots' installed folder, $(DATADIR).
install: mxfence
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(SYSCONFDIR)/mxfence $(DESTDIR)$(DATADIR)
	install -m 0755 mxfence $(DESTDIR)$(SBINDIR)/mxfence
	install -m 0644 man/mxfence.8 $(DESTDIR)$(MANDIR)/man8/mxfence.8
	install -m 0644 man/mxfence.conf.5 $(DESTDIR)$(MANDIR)/man5/mxfence.conf.5
	install -m 0644 data/*.json $(DESTDIR)$(DATADIR)/
	for f in mxfence.conf relays.txt; do \
		d=$(DESTDIR)$(SYSCONFDIR)/mxfence/$$f; \
		if [ -e $$d ]; then echo "kept $$d"; continue; fi; \
		sed 's|^\(file[ \t]*=[ \t]*\)\.\./data/|\1$(DATADIR)/|' rules/$$f >$$d.tmp && \
		chmod 0644 $$d.tmp && mv -f $$d.tmp $$d || exit 1; \
	done
	install -d $(DESTDIR)$(UNITDIR)
	for u in $(UNITS); do \
		sed 's|@SBINDIR@|$(SBINDIR)|g' contrib/systemd/$$u >$(DESTDIR)$(UNITDIR)/$$u.tmp && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u.tmp && \
		mv -f $(DESTDIR)$(UNITDIR)/$$u.tmp $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done

clean:
	rm -rf $(BUILD) mxfence $(TEST_PROGS) tests/unit/*.d tests/tools/*.d out

.PHONY: all deps test-deps demo test check bench clean install deb

include mk/fuzz.mk

-include $(OBJS:.o=.d) $(TEST_PROGS:=.d)
