# svrcert top-level Makefile.
#
#   make              build svrcert.ko and the userspace programs
#   make check        install what is needed (apt), check the userspace layers,
#                     build, run every test
#   make demo         the whole system in a guest, narrated
#   make modules      svrcert.ko only (KDIR= to choose the kernel tree)
#   make userspace    libsvrcert.a, svrcertd, svrcertctl
#   make fuzz         long libFuzzer runs
#   make bench        scripts/bench-* (not part of check)
#   make install      install programs, man pages, unit, DKMS source
#   make deb          Debian packages svrcert and svrcert-dkms (build/deb/)

SHELL := /bin/bash
TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
KDIR ?= $(shell $(TOP)/scripts/kdir)
O_US := $(TOP)/build
PREFIX ?= /usr/local
DKMS_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' $(TOP)/dkms.conf)
DESTDIR ?=

CC ?= cc
# userspace/ by concern, lowest layer first (userspace/LAYERS); every
# folder but the two programs' goes into libsvrcert.a.
US_DIRS := $(shell grep -v '^\#' $(TOP)/userspace/LAYERS)
US_LIB_DIRS := $(filter-out daemon ctl,$(US_DIRS))
PKGS := libnl-genl-3.0 libnl-3.0 openssl libcurl inih jansson libmicrohttpd
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcrypt
WARN := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wvla
US_CFLAGS := -std=gnu11 -O2 -g $(WARN) -D_GNU_SOURCE -fstack-protector-strong \
	-D_FORTIFY_SOURCE=2 -I$(TOP)/include/uapi -I$(TOP)/userspace \
	$(PKG_CFLAGS) $(EXTRA_CFLAGS)
US_LDFLAGS := -Wl,-z,relro,-z,now $(EXTRA_LDFLAGS)

LIB_SRC := $(sort $(foreach d,$(US_LIB_DIRS),$(wildcard userspace/$(d)/*.c)))
CTL_SRC := $(sort $(wildcard userspace/ctl/*.c))
D_SRC := $(sort $(wildcard userspace/daemon/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
HELPER_SRC := $(sort $(wildcard tests/tools/*.c))
# code the tools share (tests/tools/shared/), linked into each of them
TOOL_SHARED_SRC := $(sort $(wildcard tests/tools/shared/*.c))

LIB_OBJ := $(LIB_SRC:%.c=$(O_US)/%.o)
CTL_OBJ := $(CTL_SRC:%.c=$(O_US)/%.o)
D_OBJ := $(D_SRC:%.c=$(O_US)/%.o)
LIBA := $(O_US)/libsvrcert.a
CTL := $(O_US)/svrcertctl
DAEMON := $(O_US)/svrcertd
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(O_US)/tests/%)
HELPER_BIN := $(HELPER_SRC:tests/tools/%.c=$(O_US)/tools/%)
TOOL_SHARED_OBJ := $(TOOL_SHARED_SRC:%.c=$(O_US)/%.o)

.PHONY: all modules userspace check check-deps check-unit check-fuzz \
	check-kunit check-guest check-guest-stock check-guest-debug demo fuzz \
	bench install deb clean unit-bins helpers

all: modules userspace

modules:
	$(MAKE) -C $(KDIR) M=$(TOP) modules

userspace: $(CTL) $(DAEMON) helpers

helpers: $(HELPER_BIN)

$(O_US)/%.o: %.c $(wildcard userspace/*/*.h) include/uapi/linux/svrcert.h
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) -c -o $@ $<

$(LIBA): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(CTL): $(CTL_OBJ) $(LIBA)
	$(CC) $(US_LDFLAGS) -o $@ $(CTL_OBJ) $(LIBA) $(PKG_LIBS)

$(DAEMON): $(D_OBJ) $(LIBA)
	$(CC) $(US_LDFLAGS) -o $@ $(D_OBJ) $(LIBA) $(PKG_LIBS)

# Their fixtures are headers (tests/unit/*.h, tests/pki/testpki.h).
$(O_US)/tests/%: tests/unit/%.c $(LIBA) $(wildcard tests/unit/*.h tests/pki/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) -Itests/unit -o $@ $< $(LIBA) $(PKG_LIBS) -lcmocka

$(TOOL_SHARED_OBJ): $(wildcard tests/tools/shared/*.h)

$(O_US)/tools/%: tests/tools/%.c $(TOOL_SHARED_OBJ) $(LIBA) $(wildcard tests/tools/shared/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) -o $@ $< $(TOOL_SHARED_OBJ) $(LIBA) $(PKG_LIBS)

unit-bins: $(UNIT_BIN)

# ---- tests ---------------------------------------------------------------

check: check-deps
	scripts/check-layers
	$(MAKE) all unit-bins
	$(MAKE) deb
	scripts/check-all

# The inner loop (<= 10 min): unit, short fuzz, the stock guest's smoke and
# verdict tests; `make check` stays the full gate CI runs.
.PHONY: check-quick
check-quick: check-deps
	$(MAKE) all unit-bins
	scripts/check-all --quick

check-deps:
	scripts/deps

check-unit: userspace unit-bins
	scripts/run-unit

check-fuzz:
	scripts/run-fuzz --short

# guest-run builds svrcert.ko itself, per kernel; the tests need the
# userspace programs and tools.
check-kunit:
	scripts/guest-run --kernel debug --only kunit

check-guest-debug: userspace
	scripts/guest-run --kernel debug --timeout 4800

check-guest-stock: userspace
	scripts/guest-run --kernel stock

check-guest: check-guest-stock check-guest-debug

demo: check-deps
	$(MAKE) all
	scripts/demo

fuzz:
	scripts/run-fuzz --long

bench: all
	scripts/bench-datapath --ipv6 --outbound --unconfigured
	scripts/bench-keys
	scripts/bench-crl

# ---- install -------------------------------------------------------------

# PREFIX follows into the unit's ExecStart=. Config files (/etc/svrcert,
# the default svrcert.conf unless one exists), the unit, sysusers.d and
# modules-load.d go to their system places; then `systemd-sysusers`,
# `systemctl daemon-reload`, `systemctl enable --now svrcertd`.
SYSCONFDIR ?= /etc
UNITDIR ?= /lib/systemd/system
LIBDIR_SYS ?= /usr/lib
COMPLETIONSDIR ?= $(PREFIX)/share/bash-completion/completions
install: userspace
	install -D -m 0755 $(CTL) $(DESTDIR)$(PREFIX)/sbin/svrcertctl
	install -D -m 0755 $(DAEMON) $(DESTDIR)$(PREFIX)/sbin/svrcertd
	for m in Documentation/man/*.[0-9]; do \
		s=$${m##*.}; install -D -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man$$s/$${m##*/}; \
	done
	install -d -m 0755 $(DESTDIR)$(UNITDIR)
	sed 's|^ExecStart=/usr/local/sbin/|ExecStart=$(PREFIX)/sbin/|' scripts/svrcertd.service \
		>$(DESTDIR)$(UNITDIR)/svrcertd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/svrcertd.service
	install -D -m 0644 scripts/svrcert.sysusers $(DESTDIR)$(LIBDIR_SYS)/sysusers.d/svrcert.conf
	install -D -m 0644 scripts/svrcert.modules-load $(DESTDIR)$(LIBDIR_SYS)/modules-load.d/svrcert.conf
	install -D -m 0644 scripts/completion/svrcertctl $(DESTDIR)$(COMPLETIONSDIR)/svrcertctl
	install -D -m 0644 scripts/svrcert.logrotate $(DESTDIR)$(SYSCONFDIR)/logrotate.d/svrcert
	install -D -m 0644 Documentation/svrcert.conf.example \
		$(DESTDIR)$(PREFIX)/share/doc/svrcert/svrcert.conf.example
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/svrcert
	[ -e $(DESTDIR)$(SYSCONFDIR)/svrcert/svrcert.conf ] || \
		install -m 0644 scripts/svrcert.conf $(DESTDIR)$(SYSCONFDIR)/svrcert/svrcert.conf
	# DKMS source tree: then `dkms add -m svrcert -v $(DKMS_VERSION)` and
	# `dkms install -m svrcert -v $(DKMS_VERSION)`
	install -d $(DESTDIR)/usr/src/svrcert-$(DKMS_VERSION)
	cp -r --parents Kbuild dkms.conf kmod/*.[ch] include tests/kunit/*.[ch] \
		$(DESTDIR)/usr/src/svrcert-$(DKMS_VERSION)/

# ---- Debian packages -----------------------------------------------------

# svrcert and svrcert-dkms (debian/), built from the committed tree
# (git archive HEAD: what is packaged is what a commit names) in build/deb/,
# so the work tree stays clean; the .debs and lintian's verdict land there.
# Needs debhelper, dh-dkms, lintian (scripts/deps).
DEB_DIR := $(O_US)/deb
deb:
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/svrcert-$(DKMS_VERSION)
	git -C $(TOP) archive --format=tar HEAD | \
		tar -x -C $(DEB_DIR)/svrcert-$(DKMS_VERSION)
	cd $(DEB_DIR)/svrcert-$(DKMS_VERSION) && dpkg-buildpackage -us -uc -b -jauto
	lintian --fail-on error,warning --info $(DEB_DIR)/*.changes
	@ls -l $(DEB_DIR)/*.deb

clean:
	rm -rf $(O_US)
	-$(MAKE) -C $(KDIR) M=$(TOP) clean 2>/dev/null
