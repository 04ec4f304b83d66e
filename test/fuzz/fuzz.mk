# test/fuzz/fuzz.mk - libFuzzer targets for the parsers (test/fuzz/README).
#
# Included by the top Makefile ("include test/fuzz/fuzz.mk"); every path is
# relative to the top directory. Everything here is prefixed FUZZ_/fuzz so
# that it cannot collide with the top Makefile, and the default goal is
# left as it was, wherever the include line sits.
#
#   make fuzz                      build test/fuzz/fuzz_{request,response,
#                                  chunked,config,proxy,logfmt}
#   make fuzz-run [FUZZ_SECONDS=600] [FUZZ_TARGETS=config]
#                                  fuzz each target in turn (never in
#                                  parallel); new inputs go to $(FUZZ_WORK)
#   make fuzz-regress              run every seed and regression input once
#                                  (no fuzzing; for CI)
#   make fuzz-clean

FUZZ_SAVED_DEFAULT_GOAL := $(.DEFAULT_GOAL)

FUZZ_CC      ?= clang
# -fno-sanitize-recover: UBSan findings abort, so libFuzzer records them.
FUZZ_CFLAGS  ?= -g -O1 -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=undefined -std=c11
FUZZ_WARN    ?= -Wall -Wextra
FUZZ_SECONDS ?= 60
FUZZ_WORK    ?= /tmp/fuzz-work
FUZZ_FLAGS   ?= -timeout=5 -rss_limit_mb=2048 -print_final_stats=1
FUZZ_TARGETS ?= request response chunked config proxy logfmt

FUZZ_DIR  = test/fuzz
FUZZ_BINS = $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_HDRS = $(wildcard *.h) $(FUZZ_DIR)/fuzz_common.h

# The proxy's sources each target links (never wsproxy.c: it has main).
FUZZ_SRCS_request  = http.c framing.c acl.c match.c aclregex.c net.c \
                     kwtable.c userlist.c stkfetch.c sticktable.c log.c \
                     logtarget.c
FUZZ_SRCS_response = http.c framing.c
FUZZ_SRCS_chunked  = http.c framing.c
FUZZ_SRCS_config   = config.c cfgwords.c cfgglobal.c cfgproxy.c \
                     cfgoption.c cfgserver.c cfgreply.c acl.c match.c \
                     aclregex.c http.c framing.c net.c log.c logtarget.c \
                     kwtable.c cfgrules.c logfmt.c redirect.c userlist.c \
                     cfgredirect.c cfgtcprules.c \
                     cfguserlist.c cfgstick.c stkfetch.c \
                     sticktable.c cfgstats.c
FUZZ_SRCS_proxy    = proxyproto.c buf.c
FUZZ_SRCS_logfmt   = logfmt.c http.c net.c kwtable.c stkfetch.c \
                     sticktable.c log.c logtarget.c

# Functions the harnesses stand in for (see the comments in each .c).
# (-lcrypt: match.c and cfguserlist.c check passwords with crypt_r)
FUZZ_LDFLAGS_request = -Wl,--wrap=getaddrinfo -lcrypt
FUZZ_LDFLAGS_config  = -Wl,--wrap=getaddrinfo,--wrap=log_plain,--wrap=fopen \
    -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=reallocarray \
    -Wl,--wrap=strdup,--wrap=strndup,--wrap=free,--wrap=crypt_r -lcrypt

# Run-time options per target. No leak detection for fuzz_config: acl.c's
# parser leaves blocks behind on some errors (the harness releases them).
FUZZ_RUNFLAGS_request  = -dict=$(FUZZ_DIR)/dict/http.dict
FUZZ_RUNFLAGS_response = -dict=$(FUZZ_DIR)/dict/http.dict
FUZZ_RUNFLAGS_chunked  = -dict=$(FUZZ_DIR)/dict/chunked.dict
FUZZ_RUNFLAGS_config   = -dict=$(FUZZ_DIR)/dict/config.dict -detect_leaks=0
FUZZ_RUNFLAGS_logfmt   = -dict=$(FUZZ_DIR)/dict/logfmt.dict

fuzz: $(FUZZ_BINS)

$(FUZZ_DIR)/fuzz_request:  $(FUZZ_SRCS_request)
$(FUZZ_DIR)/fuzz_response: $(FUZZ_SRCS_response)
$(FUZZ_DIR)/fuzz_chunked:  $(FUZZ_SRCS_chunked)
$(FUZZ_DIR)/fuzz_config:   $(FUZZ_SRCS_config)
$(FUZZ_DIR)/fuzz_proxy:    $(FUZZ_SRCS_proxy)
$(FUZZ_DIR)/fuzz_logfmt:   $(FUZZ_SRCS_logfmt)

# A static pattern rule is an explicit rule: it wins over the top
# Makefile's "test/%: test/%.c" helper rule. The sources define
# _GNU_SOURCE themselves.
$(FUZZ_BINS): $(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/fuzz_%.c $(FUZZ_HDRS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_WARN) -I. -o $@ $< \
	    $(FUZZ_SRCS_$*) $(FUZZ_LDFLAGS_$*)

# One target at a time; new corpus entries and crashes go to
# $(FUZZ_WORK)/NAME (first corpus directory = where libFuzzer writes), the
# committed seeds in corpus/NAME are only read.
fuzz-run: $(FUZZ_BINS)
	@$(foreach t,$(FUZZ_TARGETS),\
	    mkdir -p $(FUZZ_WORK)/$(t) && \
	    echo "== fuzz_$(t): $(FUZZ_SECONDS)s, new inputs in $(FUZZ_WORK)/$(t)" && \
	    $(FUZZ_DIR)/fuzz_$(t) -max_total_time=$(FUZZ_SECONDS) $(FUZZ_FLAGS) \
	        $(FUZZ_RUNFLAGS_$(t)) -artifact_prefix=$(FUZZ_WORK)/$(t)- \
	        $(FUZZ_WORK)/$(t) $(FUZZ_DIR)/corpus/$(t) &&) true

# Each seed and each regression input executed once (files on the command
# line: libFuzzer runs them and exits, non-zero on the first failure).
fuzz-regress: $(FUZZ_BINS)
	@mkdir -p $(FUZZ_WORK)
	@$(foreach t,$(FUZZ_TARGETS),\
	    echo "== fuzz_$(t): $(words $(call fuzz_inputs,$(t))) inputs" && \
	    { $(FUZZ_DIR)/fuzz_$(t) $(FUZZ_RUNFLAGS_$(t)) \
	        $(call fuzz_inputs,$(t)) >$(FUZZ_WORK)/regress-$(t).log 2>&1 || \
	      { cat $(FUZZ_WORK)/regress-$(t).log; \
	        echo "fuzz_$(t): FAILED"; exit 1; }; } &&) true

fuzz_inputs = $(sort $(wildcard $(FUZZ_DIR)/corpus/$(1)/* \
    $(FUZZ_DIR)/regress/$(1)/*))

fuzz-clean:
	rm -f $(FUZZ_BINS)

.PHONY: fuzz fuzz-run fuzz-regress fuzz-clean

ifeq ($(FUZZ_SAVED_DEFAULT_GOAL),)
.DEFAULT_GOAL :=
else
.DEFAULT_GOAL := $(FUZZ_SAVED_DEFAULT_GOAL)
endif
