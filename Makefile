# mxfence: compile provider ranges and relay lists into an nftables allow-list.
#   make            build ./mxfence
#   make demo       install missing Debian packages, build, run on the default policy
#   make check      install test packages, build, run every test
#   make bench      the benchmark, side by side with the anchor tools
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
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
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD) $(BUILD)/nl:
	$(Q)mkdir -p $@

# Test programs link the objects without main().
TEST_PROGS := tests/unit/unit tests/unit/nl_test tests/unit/nl_drive tests/unit/spf_test \
	tests/unit/spf_drive
tests/unit/%: tests/unit/%.c $(LIB_OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(CFLAGS) -Isrc -o $@ $< $(LIB_OBJS) $(LDLIBS)

deps:
	$(Q)sh contrib/deps.sh build

test-deps:
	$(Q)sh contrib/deps.sh build test

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)sh contrib/demo.sh

check: test-deps
	$(Q)$(MAKE) --no-print-directory all $(TEST_PROGS) fuzz-build sanitize-build
	$(Q)tests/run

bench: test-deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)sh tests/bench/bench.sh

# systemd units, @SBINDIR@ replaced by the installed binary's folder.
UNITS := mxfence-refresh.service mxfence-refresh.timer
install: mxfence
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(SYSCONFDIR)/mxfence
	install -m 0755 mxfence $(DESTDIR)$(SBINDIR)/mxfence
	install -m 0644 man/mxfence.8 $(DESTDIR)$(MANDIR)/man8/mxfence.8
	install -m 0644 man/mxfence.conf.5 $(DESTDIR)$(MANDIR)/man5/mxfence.conf.5
	install -m 0644 rules/mxfence.conf $(DESTDIR)$(SYSCONFDIR)/mxfence/mxfence.conf.example
	install -d $(DESTDIR)$(UNITDIR)
	for u in $(UNITS); do \
		sed 's|@SBINDIR@|$(SBINDIR)|g' contrib/systemd/$$u >$(DESTDIR)$(UNITDIR)/$$u.tmp && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u.tmp && \
		mv -f $(DESTDIR)$(UNITDIR)/$$u.tmp $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done

clean:
	rm -rf $(BUILD) mxfence $(TEST_PROGS) tests/unit/*.d out

.PHONY: all deps test-deps demo check bench clean install

include mk/fuzz.mk

-include $(OBJS:.o=.d)
