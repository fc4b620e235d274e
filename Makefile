# queuectl - see README.md.
#   make            build ./queuectl
#   make check      unit tests, integration tests, the same under ASan+UBSan,
#                   valgrind memcheck, 20 s of each fuzzer; ends with
#                   "N passed, N failed"
#   make memcheck   only the valgrind part of make check
#   make chaos      2,000 jobs under kill -9 (tests/chaos.sh; CHAOS_JOBS=N)
#   make check-multihost  one spool on a GlusterFS volume mounted by 3
#                   simulated hosts (tests/multihost/; root and /dev/fuse,
#                   skipped otherwise; installs GlusterFS from Debian)
#   make fuzz       the libFuzzer harnesses, 10 min each (tests/fuzz/)
#   make demo       a short tour on a temporary spool
#   make bench      queuectl beside nq, task-spooler and the machine's limits
#                   (bench/; about 15 minutes; BENCH_QUICK=1 for 1.5)
#   make install    PREFIX, DESTDIR, CFLAGS, LDFLAGS honoured; the binary,
#                   the man pages, the systemd units (ExecStart=$(BINDIR))
#                   and the bash completion

VERSION    = 0.1.0
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
# systemd units (contrib/systemd/README); systemd also reads /usr/local/lib
SYSTEMDUNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSTEMDUSERUNITDIR ?= $(PREFIX)/lib/systemd/user
# where the bash-completion package looks (XDG_DATA_DIRS: /usr/local/share too)
BASHCOMPDIR        ?= $(PREFIX)/share/bash-completion/completions
CFLAGS    ?= -O2 -g
PKG_CONFIG ?= pkg-config
PKGS       = libcjson libbsd
# libbsd (and its libmd) linked from their static archives, as Debian's
# libbsd-dev ships them: two shared objects fewer to map and relocate at
# every start of queuectl, about 0.08 ms of the ~0.8 ms an enqueue takes
# (bench/). STATIC_LIBBSD=0 links them as shared libraries.
STATIC_LIBBSD ?= 1
ifeq ($(STATIC_LIBBSD),1)
BSD_LIBS = -Wl,-Bstatic $(shell $(PKG_CONFIG) --static --libs libbsd) -Wl,-Bdynamic
else
BSD_LIBS = $(shell $(PKG_CONFIG) --libs libbsd)
endif

WARN     = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
QCFLAGS  = -std=c11 -pthread -D_GNU_SOURCE -DVERSION='"$(VERSION)"' $(WARN) $(WERROR) \
           $(shell $(PKG_CONFIG) --cflags $(PKGS))
# libm only if the compiler left a call to it (floor at -O0): with -O2 it
# inlines them and queuectl starts without loading libm.
LIBS     = $(shell $(PKG_CONFIG) --libs libcjson) $(BSD_LIBS) -pthread \
           -Wl,--as-needed -lm -Wl,--no-as-needed
SANFLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
           -fno-sanitize-recover=undefined

SRCS    = $(wildcard src/*.c)
HDRS    = $(wildcard src/*.h)
OBJS    = $(SRCS:src/%.c=build/obj/%.o)
# the library part: no command layer (main, cli, cmd_*)
LIBOBJS = $(filter-out build/obj/main.o build/obj/cli.o build/obj/cmd_%.o,$(OBJS))
UNIT    = $(patsubst tests/unit/%.c,build/unit/%,$(wildcard tests/unit/test_*.c))

all: queuectl

queuectl: $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $(OBJS) $(LIBS)

build/obj/%.o: src/%.c $(HDRS)
	@mkdir -p build/obj
	$(CC) $(QCFLAGS) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# test builds: with crash points (src/crash.h), one also with sanitizers
build/asan/queuectl: $(SRCS) $(HDRS)
	@mkdir -p build/asan
	$(CC) $(QCFLAGS) $(SANFLAGS) -DQUEUECTL_CRASH_POINTS -o $@ $(SRCS) $(LIBS)

build/test/queuectl: $(SRCS) $(HDRS)
	@mkdir -p build/test
	$(CC) $(QCFLAGS) $(CFLAGS) -DQUEUECTL_CRASH_POINTS -o $@ $(SRCS) $(LIBS)

build/unit/%: tests/unit/%.c tests/unit/tap.h $(LIBOBJS)
	@mkdir -p build/unit
	$(CC) $(QCFLAGS) $(CPPFLAGS) $(CFLAGS) -Isrc -o $@ $< $(LIBOBJS) $(LIBS)

deps:
	@sh tests/deps.sh test

check: WERROR = -Werror
check: deps
	$(MAKE) WERROR=-Werror queuectl build/asan/queuectl build/test/queuectl $(UNIT)
	@UNIT_TESTS="$(UNIT)" ASAN_QUEUECTL=build/asan/queuectl MEMCHECK=1 FUZZ=1 \
	    CRASH_QUEUECTL=build/test/queuectl QUEUECTL=./queuectl bash tests/run.sh

memcheck: deps queuectl
	@MEMCHECK=1 TESTS=none QUEUECTL=./queuectl bash tests/run.sh

chaos: queuectl
	@QUEUECTL=./queuectl bash tests/chaos.sh

check-multihost: queuectl build/test/queuectl
	@r=0; bash tests/multihost/smoke.sh || exit 1; \
	QUEUECTL=./queuectl bash tests/multihost/run.sh || r=1; \
	QUEUECTL=./queuectl CRASH_QUEUECTL=build/test/queuectl \
	    bash tests/multihost/core.sh || r=1; exit $$r

fuzz:
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-600} bash tests/fuzz/run.sh

demo: queuectl
	@sh tests/demo.sh ./queuectl

bench: queuectl
	@sh bench/deps.sh && bash bench/run.sh

lint:
	mandoc -Tlint -W warning man/queuectl.1 man/queuectl-spool.5

SYSTEMD_UNIT = queuectl-worker@.service

install: queuectl
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 755 queuectl $(DESTDIR)$(BINDIR)/queuectl
	install -m 644 man/queuectl.1 $(DESTDIR)$(MANDIR)/man1/queuectl.1
	install -m 644 man/queuectl-spool.5 $(DESTDIR)$(MANDIR)/man5/queuectl-spool.5
	install -d $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSTEMDUSERUNITDIR)
	sed 's|@BINDIR@|$(BINDIR)|g' contrib/systemd/$(SYSTEMD_UNIT).in \
	    >$(DESTDIR)$(SYSTEMDUNITDIR)/$(SYSTEMD_UNIT)
	sed 's|@BINDIR@|$(BINDIR)|g' contrib/systemd/user/$(SYSTEMD_UNIT).in \
	    >$(DESTDIR)$(SYSTEMDUSERUNITDIR)/$(SYSTEMD_UNIT)
	chmod 644 $(DESTDIR)$(SYSTEMDUNITDIR)/$(SYSTEMD_UNIT) $(DESTDIR)$(SYSTEMDUSERUNITDIR)/$(SYSTEMD_UNIT)
	install -d $(DESTDIR)$(BASHCOMPDIR)
	install -m 644 contrib/bash-completion/queuectl $(DESTDIR)$(BASHCOMPDIR)/queuectl

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/queuectl $(DESTDIR)$(MANDIR)/man1/queuectl.1 \
	    $(DESTDIR)$(MANDIR)/man5/queuectl-spool.5 \
	    $(DESTDIR)$(SYSTEMDUNITDIR)/$(SYSTEMD_UNIT) $(DESTDIR)$(SYSTEMDUSERUNITDIR)/$(SYSTEMD_UNIT) \
	    $(DESTDIR)$(BASHCOMPDIR)/queuectl

clean:
	rm -rf build queuectl

.PHONY: all deps check memcheck chaos check-multihost fuzz demo bench lint install uninstall clean
