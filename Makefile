# wsproxy - a small, auditable HTTP/1.1 and WebSocket reverse proxy.

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN     = -Wall -Wextra -Werror -std=c11
PREFIX  ?= /usr/local
DESTDIR ?=
# crypt_r(3) for the userlists' password hashes (libxcrypt on glibc)
LDLIBS  ?= -lcrypt
BINDIR   = $(PREFIX)/sbin
MANDIR   = $(PREFIX)/share/man

OBJS = wsproxy.o config.o cfgwords.o cfgglobal.o cfgproxy.o cfgoption.o \
       cfgserver.o acl.o match.o http.o framing.o buf.o relay.o session.o \
       connect.o forwardfor.o acceptproxy.o net.o log.o logtarget.o \
       accesslog.o scoreboard.o listener.o lb.o check.o proxyproto.o \
       kwtable.o inetd.o aclregex.o cfgreply.o reply.o capture.o \
       exchange.o cfgrules.o logfmt.o redirect.o userlist.o ruleexec.o \
       answer.o cfgredirect.o cfgtcprules.o tcprules.o \
       cfguserlist.o track.o sticktable.o cfgstick.o stkfetch.o \
       counters.o srvstate.o statcsv.o clisock.o cli.o clicmd.o \
       count.o cfgstats.o strbuf.o statspage.o statshtml.o promex.o \
       keeper.o
HDRS = config.h cfgparse.h acl.h match.h http.h framing.h buf.h relay.h \
       session.h connect.h forwardfor.h acceptproxy.h net.h log.h \
       logtarget.h accesslog.h scoreboard.h listener.h lb.h check.h \
       proxyproto.h kwtable.h inetd.h aclregex.h reply.h capture.h \
       exchange.h sessionstate.h rules.h logfmt.h redirect.h userlist.h \
       ruleexec.h answer.h tcprules.h sticktable.h track.h stkfetch.h \
       counters.h srvstate.h statcsv.h clisock.h cli.h \
       clicmd.h version.h count.h strbuf.h statspage.h statshtml.h promex.h \
       keeper.h
BATS       ?= bats
BATS_FLAGS ?=
TEST_HELPERS = test/backend test/wsclient test/rawclient test/freeport \
               test/udpsink test/sdlaunch test/ppeer test/lftest \
               test/cryptpw test/stktest test/flood test/sockopt test/wshold

all: wsproxy

# Bind every symbol at start and make the relocations read-only (full
# RELRO): hardening, and each child no longer redoes the lazy binding of
# the symbols it calls (~5-10% less CPU per new connection in
# bench/RESULTS.md).
LINK_NOW = -Wl,-z,now -Wl,-z,relro

wsproxy: $(OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) $(LINK_NOW) -o $@ $(OBJS) $(LDLIBS)

%.o: %.c $(HDRS)
	$(CC) $(CFLAGS) $(WARN) -c -o $@ $<

# the test helpers ask for _GNU_SOURCE on the command line; each links
# the pieces they share (test/util.c)
test/%: test/%.c test/util.c test/util.h
	$(CC) $(CFLAGS) $(WARN) -D_GNU_SOURCE -o $@ $< test/util.c

# the WebSocket handshake's hashing, shared by the backend and the client
test/backend test/wsclient: %: %.c test/util.c test/util.h test/wshash.c \
    test/wshash.h
	$(CC) $(CFLAGS) $(WARN) -D_GNU_SOURCE -o $@ $< test/util.c test/wshash.c

# log-format values expanded outside the proxy (test/logfmt.bats): the
# proxy's own sources, linked into the helper
LFTEST_SRCS = logfmt.c http.c net.c kwtable.c stkfetch.c sticktable.c \
              log.c logtarget.c
test/lftest: test/lftest.c $(LFTEST_SRCS) $(HDRS)
	$(CC) $(CFLAGS) $(WARN) -o $@ $< $(LFTEST_SRCS)

# the stick tables driven outside the proxy (test/sticktable.bats), with
# sticktable.c's test hooks (STK_TEST) and a clock the test sets
test/stktest: test/stktest.c sticktable.c sticktable.h
	$(CC) $(CFLAGS) $(WARN) -DSTK_TEST -o $@ $< sticktable.c

# the hashes test/auth.bats puts in its userlists, made by this crypt(3)
test/cryptpw: test/cryptpw.c
	$(CC) $(CFLAGS) $(WARN) -D_GNU_SOURCE -o $@ $< $(LDLIBS)

helpers: $(TEST_HELPERS)

# Sanitizer builds of wsproxy (the test helpers stay as they are); then
# "make test" runs the suite against them.
SAN_CFLAGS = -O1 -g -fno-omit-frame-pointer -fno-sanitize-recover=all
asan:
	rm -f wsproxy $(OBJS)
	$(MAKE) wsproxy CFLAGS="$(SAN_CFLAGS) -fsanitize=address,undefined" \
	    LDFLAGS="-fsanitize=address,undefined"

ubsan:
	rm -f wsproxy $(OBJS)
	$(MAKE) wsproxy CFLAGS="$(SAN_CFLAGS) -fsanitize=undefined" \
	    LDFLAGS="-fsanitize=undefined"

# A static build (bench/RESULTS.md): no dynamic loader, fewer mappings,
# so every fork, page fault and exit of a connection's child costs less.
# musl-gcc when installed (apt-get install musl-tools), else the C
# compiler's own -static (glibc warns that getaddrinfo, getpwnam and
# getgrnam still load its NSS modules at run time: names in "user",
# "group" and server addresses then need the same glibc installed).
STATIC_CC = $(shell command -v musl-gcc 2>/dev/null || echo $(CC))
static:
	rm -f wsproxy $(OBJS)
	$(MAKE) wsproxy CC="$(STATIC_CC)" LDFLAGS="$(LDFLAGS) -static"

# Static analysis: cppcheck and clang-tidy (checks in .clang-tidy).
# cppcheck's variableScope (we declare at the top of blocks, OpenBSD
# style) and unusedStructMember (bsearch keys) are not for us.
# clang-tidy runs once per file, so "make -j2 lint" checks two at a time.
SRCS = $(OBJS:.o=.c)
TIDY = $(SRCS:%.c=lint-tidy-%)
lint: lint-cppcheck $(TIDY)
lint-cppcheck:
	cppcheck --enable=warning,style,performance,portability --std=c11 \
	    --error-exitcode=1 --inline-suppr -q -D_GNU_SOURCE \
	    --suppress=variableScope --suppress=unusedStructMember $(SRCS)
$(TIDY): lint-tidy-%: %.c
	clang-tidy -quiet $< -- -std=c11

# The whole suite, then routing, HTTP, WebSocket and tcp-request rules
# once more with the proxy in inetd mode (wsproxy -i behind socat, see
# test/helpers.bash):
# the same assertions, under names that start with "[inetd] ". Every run
# goes to the end; any one failing fails the target.
#
# Most tests wait on sockets and timeouts more than they compute: with
# GNU parallel installed, bats runs two files at a time (BATS_JOBS=1 for
# one). Within a file the tests run one after the other: bats starts a
# parallel job per test otherwise, about 0.2 s of CPU each, which cost
# more than the overlap saved (the suite took 8.3 min that way, 5.4 so).
# The files that load the machine on purpose (thousands of connections,
# valgrind, page-fault counts) run alone, after the others.
BATS_JOBS    ?= $(shell command -v parallel >/dev/null 2>&1 && echo 2 || echo 1)
BATS_PAR      = $(if $(filter-out 1,$(BATS_JOBS)),--jobs $(BATS_JOBS) --no-parallelize-within-files)
SERIAL_TESTS  = test/limits-load.bats test/stress.bats \
                test/perf-paths.bats test/configmem.bats
SHARED_TESTS  = $(filter-out $(SERIAL_TESTS),$(sort $(wildcard test/*.bats)))
INETD_TESTS   = test/routing.bats test/http.bats test/websocket.bats \
                test/tcprules.bats
BATS_INETD    = WSPROXY_MODE=inetd BATS_TEST_NAME_PREFIX='[inetd] ' \
                $(BATS) $(BATS_FLAGS) $(BATS_PAR) $(INETD_TESTS)
#
# "make test LOAD=no" runs the shared files alone: no load files and no
# inetd re-run. CI's sanitizer pass uses it; under ASan those would
# measure the sanitizer more than wsproxy, and the normal pass ran them.
LOAD ?= yes
test: wsproxy helpers
	rc=0; $(BATS) $(BATS_FLAGS) $(BATS_PAR) $(SHARED_TESTS) || rc=1; \
	if [ "$(LOAD)" != no ]; then \
	    $(BATS) $(BATS_FLAGS) $(SERIAL_TESTS) || rc=1; \
	    $(BATS_INETD) || rc=1; \
	fi; exit $$rc

test-inetd: wsproxy helpers
	$(BATS_INETD)

demo: wsproxy helpers
	./demo.sh

install: wsproxy
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(MANDIR)/man5
	install -m 755 wsproxy $(DESTDIR)$(BINDIR)/wsproxy
	install -m 644 wsproxy.8 $(DESTDIR)$(MANDIR)/man8/wsproxy.8
	install -m 644 wsproxy.conf.5 $(DESTDIR)$(MANDIR)/man5/wsproxy.conf.5

clean:
	rm -f wsproxy $(OBJS) $(TEST_HELPERS)

-include test/fuzz/fuzz.mk
-include bench/Makefile.inc

.PHONY: all helpers test test-inetd demo install clean asan ubsan lint static \
        lint-cppcheck $(TIDY)
