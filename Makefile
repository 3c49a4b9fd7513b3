# gonet.h — build, test and benchmark. Everything lands in build/.
#   make            examples, tests and benchmarks
#   make test       run the test suite (ends with "N passed, N failed")
#   make asan tsan  the suite under AddressSanitizer+UBSan / ThreadSanitizer
#   make test-fallback  the suite with the portable ucontext switch and poll() backend
#   make test-arm64     the suite cross-built for aarch64, run under qemu-user
#   make bench      the benchmarks;  make bench-compare  the same side by side with Go
#   make bench-echo / bench-http / bench-idle   TCP echo, HTTP hello (gonet, Go, nginx
#                   under wrk) and bytes per idle keep-alive connection
#   make gonet.h    re-amalgamate src/ into gonet.h;  make check  sync, symbols, compile checks

CC      ?= cc
CXX     ?= c++
CLANG   ?= clang
OPT     ?= -O2
WARN     = -Wall -Wextra -Werror
CFLAGS  ?= $(OPT) -g -std=c11 $(WARN)
LDLIBS   = -pthread
B        = build

PARTS    = $(wildcard src/*.h src/*.c) src/amalgamate.sh
TESTS    = $(patsubst tests/%.c,%,$(wildcard tests/test_*.c))
EXAMPLES = $(patsubst examples/%.c,%,$(wildcard examples/*.c))
BENCHES  = $(patsubst bench/%.c,%,$(wildcard bench/*.c))

.PHONY: all test asan tsan test-fallback test-arm64 bench bench-compare bench-echo bench-http bench-idle \
        check check-sync \
        check-symbols check-compile clean run
.DELETE_ON_ERROR:

all: gonet.h $(addprefix $(B)/,$(TESTS) $(EXAMPLES) $(BENCHES))

gonet.h: $(PARTS)
	sh src/amalgamate.sh gonet.h

$(B)/%: tests/%.c gonet.h tests/greatest.h tests/test_util.h tests/test_check.h | $(B)
	$(CC) $(CFLAGS) $< -o $@ $(LDLIBS)
$(B)/%: examples/%.c gonet.h | $(B)
	$(CC) $(CFLAGS) $< -o $@ $(LDLIBS)
$(B)/%: bench/%.c gonet.h | $(B)
	$(CC) $(CFLAGS) $< -o $@ $(LDLIBS)
$(B) $(B)/asan $(B)/tsan $(B)/fallback:
	mkdir -p $@

test: gonet.h $(addprefix $(B)/,$(TESTS))
	sh tests/run.sh $(B) $(TESTS)

# Sanitizer builds: clang, -O1, every test program.
SANFLAGS = -O1 -g -std=c11 $(WARN) -fno-omit-frame-pointer
$(B)/asan/%: tests/%.c gonet.h tests/greatest.h tests/test_util.h tests/test_check.h | $(B)/asan
	$(CLANG) $(SANFLAGS) -fsanitize=address,undefined -fno-sanitize-recover=all $< -o $@ $(LDLIBS)
$(B)/tsan/%: tests/%.c gonet.h tests/greatest.h tests/test_util.h tests/test_check.h | $(B)/tsan
	$(CLANG) $(SANFLAGS) -fsanitize=thread $< -o $@ $(LDLIBS)
$(B)/fallback/%: tests/%.c gonet.h tests/greatest.h tests/test_util.h tests/test_check.h | $(B)/fallback
	$(CC) $(CFLAGS) -DGN_CTX_UCONTEXT -DGN_POLL_POLL=1 $< -o $@ $(LDLIBS)

asan: gonet.h $(addprefix $(B)/asan/,$(TESTS))
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  GN_TEST_SCALE=small sh tests/run.sh $(B)/asan $(TESTS)
tsan: gonet.h $(addprefix $(B)/tsan/,$(TESTS))
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 GN_TEST_SCALE=small \
	  sh tests/run.sh $(B)/tsan $(TESTS)
test-fallback: gonet.h $(addprefix $(B)/fallback/,$(TESTS))
	sh tests/run.sh $(B)/fallback $(TESTS)

# aarch64: cross-built statically, run under qemu-user (threads and all).
ARM64_CC ?= aarch64-linux-gnu-gcc
$(B)/arm64/%: tests/%.c gonet.h tests/greatest.h tests/test_util.h tests/test_check.h | $(B)/arm64
	$(ARM64_CC) $(CFLAGS) -static $< -o $@ $(LDLIBS)
$(B)/arm64:
	mkdir -p $@
test-arm64: gonet.h $(addprefix $(B)/arm64/,$(TESTS))
	GN_TEST_RUNNER=qemu-aarch64 GN_TEST_SCALE=small sh tests/run.sh $(B)/arm64 $(TESTS)

bench: gonet.h $(addprefix $(B)/,$(BENCHES))
	sh bench/run.sh $(B)
bench-compare: gonet.h $(addprefix $(B)/,$(BENCHES))
	sh bench/compare.sh $(B)
bench-echo: gonet.h $(B)/bench_echo
	sh bench/echo.sh $(B)
bench-http: gonet.h $(B)/hello
	sh bench/http.sh $(B)
bench-idle: gonet.h $(B)/bench_idle
	$(B)/bench_idle

# The committed gonet.h must be what src/ makes; every global symbol is gn_.
check: check-sync check-symbols check-compile
check-sync: | $(B)
	sh src/amalgamate.sh $(B)/gonet.h.check
	cmp -s gonet.h $(B)/gonet.h.check || { echo "gonet.h is out of date: run make gonet.h"; exit 1; }
check-symbols: gonet.h | $(B)
	printf '#define GONET_IMPLEMENTATION\n#include "../gonet.h"\n' > $(B)/symbols.c
	$(CC) $(CFLAGS) -c $(B)/symbols.c -o $(B)/symbols.o
	@bad=$$(nm -g --defined-only $(B)/symbols.o | awk '{print $$3}' | grep -v '^gn_' || true); \
	  if [ -n "$$bad" ]; then echo "exported symbols without the gn_ prefix: $$bad"; exit 1; fi
	@echo "symbols: every exported name starts with gn_"
check-compile: gonet.h | $(B)
	$(CC) -std=c99 $(WARN) -pedantic -fsyntax-only tests/compile/api_only.c
	$(CC) -std=c11 $(WARN) -c tests/compile/impl.c -o $(B)/impl.o
	$(CC) -std=c11 $(WARN) -DGONET_STATIC -c tests/compile/impl.c -o $(B)/impl_static.o
	$(CXX) -std=c++11 $(WARN) -pedantic -fsyntax-only -x c++ tests/compile/api_only.c
	$(CLANG) -std=c11 $(WARN) -c tests/compile/impl.c -o $(B)/impl_clang.o
	@echo "compile: C99/C11/C++ and GONET_STATIC builds are clean"

# The quick-start example: the hello server (HELLO_ADDR=127.0.0.1:8080 to stay local).
HELLO_ADDR ?= :8080
run: $(B)/hello
	./$(B)/hello $(HELLO_ADDR)

clean:
	rm -rf $(B)
