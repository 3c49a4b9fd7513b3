# gonet.h — build, test and benchmark. Everything lands in build/.
#   make            examples, tests and benchmarks
#   make test       run the test suite (ends with "N passed, N failed")
#   make asan tsan  the suite under AddressSanitizer+UBSan / ThreadSanitizer
#   make test-fallback  the suite with the portable ucontext switch and poll() backend
#   make test-hostile   hostile clients against the HTTP server (tests/hostile/);
#                       make asan-hostile  the same under AddressSanitizer+UBSan
#   make soak       minutes of mixed HTTP load with graceful restarts; RSS, fds and
#                   coroutines must come back to their baseline (SOAK_SECONDS, 600);
#                   make soak-short  60 s;  make soak-valgrind  20 s under memcheck
#   make test-kqueue    the suite with the kqueue backend (over tests/shim, on Linux)
#                       and the portable futex
#   make test-arm64     the suite cross-built for aarch64, run under qemu-user
#   make test-windows   the tests that run on Windows, cross-built with MinGW-w64, under wine
#   make test-windows-msvc  the same with the MSVC path (GN_CC_MSVC=1) forced on MinGW-w64
#   make fuzz       the libFuzzer targets (tests/fuzz/), FUZZ_SECONDS each (default 60)
#   make bench      the benchmarks;  make bench-compare  the same side by side with Go
#   make bench-echo / bench-http / bench-idle   TCP echo, HTTP hello (gonet, Go, nginx
#                   under wrk) and bytes per idle keep-alive connection
#   make gonet.h    re-amalgamate src/ into gonet.h;  make check  sync, symbols, compile checks
#   make check-msvc the MSVC path syntax-checked by clang in MSVC mode, as C and C++

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

.PHONY: all test asan tsan test-fallback test-hostile asan-hostile test-kqueue test-arm64 test-windows test-windows-msvc check-msvc bench bench-compare bench-echo bench-http bench-idle \
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

# Hostile clients: slowloris, slow readers, resets, floods, smuggling, churn.
HOSTILE_DEPS = gonet.h tests/greatest.h tests/test_util.h
$(B)/test_hostile: tests/hostile/test_hostile.c $(HOSTILE_DEPS) | $(B)
	$(CC) $(CFLAGS) $< -o $@ $(LDLIBS)
$(B)/asan/test_hostile: tests/hostile/test_hostile.c $(HOSTILE_DEPS) | $(B)/asan
	$(CLANG) $(SANFLAGS) -fsanitize=address,undefined -fno-sanitize-recover=all $< -o $@ $(LDLIBS)
test-hostile: gonet.h $(B)/test_hostile
	GN_TEST_TIMEOUT=300 sh tests/run.sh $(B) test_hostile
asan-hostile: gonet.h $(B)/asan/test_hostile
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  GN_TEST_TIMEOUT=300 sh tests/run.sh $(B)/asan test_hostile

# The soak: a server in a child process under SOAK_SECONDS of mixed load
# (tests/soak/soak.c says what and how it checks). SOAK_SLOW stretches the
# server's timeouts and thins the load for valgrind's pace.
.PHONY: soak soak-short soak-valgrind
SOAK_SECONDS ?= 600
VALGRIND ?= valgrind
$(B)/soak: tests/soak/soak.c gonet.h | $(B)
	$(CC) $(CFLAGS) $< -o $@ $(LDLIBS)
soak: gonet.h $(B)/soak
	SOAK_SECONDS=$(SOAK_SECONDS) $(B)/soak
soak-short: gonet.h $(B)/soak
	SOAK_SECONDS=60 $(B)/soak
soak-valgrind: gonet.h $(B)/soak
	SOAK_SECONDS=20 SOAK_SLOW=1 $(VALGRIND) -q --error-exitcode=1 --leak-check=full $(B)/soak

# kqueue: poll_kqueue.c as macOS and the BSDs build it, over tests/shim/sys/event.h
# (kqueue's calls on epoll), with the portable futex that NetBSD uses.
KQFLAGS = -DGN_POLL_KQUEUE=1 -DGN_FUTEX_EMULATED=1 -Itests/shim
$(B)/kqueue/%: tests/%.c gonet.h tests/greatest.h tests/test_util.h tests/test_check.h tests/shim/sys/event.h | $(B)/kqueue
	$(CC) $(CFLAGS) $(KQFLAGS) $< -o $@ $(LDLIBS)
$(B)/kqueue:
	mkdir -p $@
test-kqueue: gonet.h $(addprefix $(B)/kqueue/,$(TESTS))
	sh tests/run.sh $(B)/kqueue $(TESTS)

# aarch64: cross-built statically, run under qemu-user (threads and all).
ARM64_CC ?= aarch64-linux-gnu-gcc
$(B)/arm64/%: tests/%.c gonet.h tests/greatest.h tests/test_util.h tests/test_check.h | $(B)/arm64
	$(ARM64_CC) $(CFLAGS) -static $< -o $@ $(LDLIBS)
$(B)/arm64:
	mkdir -p $@
test-arm64: gonet.h $(addprefix $(B)/arm64/,$(TESTS))
	GN_TEST_RUNNER=qemu-aarch64 GN_TEST_SCALE=small sh tests/run.sh $(B)/arm64 $(TESTS)

# Windows x64: cross-built statically with MinGW-w64, run under wine. WIN_TESTS
# lists the test programs that exist there; WIN_EXAMPLES the examples built.
WIN_CC       ?= x86_64-w64-mingw32-gcc
WINE         ?= /usr/lib/wine/wine64
WIN_LDLIBS    = -lws2_32 -lmswsock -lsynchronization -lpthread
WIN_TESTS     = test_greatest test_runtime test_chan test_sync test_timer test_context test_signal test_bufio \
                test_net test_deadline test_http_parse test_http_mux test_http_client test_http_server test_http_fs \
                test_limits test_faults test_fuzz_regress
WIN_EXAMPLES  = primes hello echo chat fileserver proxy shutdown stats
$(B)/win/%.exe: tests/%.c gonet.h tests/greatest.h tests/test_util.h tests/test_check.h | $(B)/win
	$(WIN_CC) $(OPT) -std=c11 $(WARN) -static $< -o $@ $(WIN_LDLIBS)
$(B)/win/%.exe: examples/%.c gonet.h | $(B)/win
	$(WIN_CC) $(OPT) -std=c11 $(WARN) -static $< -o $@ $(WIN_LDLIBS)
$(B)/win:
	mkdir -p $@
test-windows: gonet.h $(addprefix $(B)/win/,$(addsuffix .exe,$(WIN_TESTS) $(WIN_EXAMPLES)))
	WINEDEBUG=-all GN_TEST_RUNNER=$(WINE) GN_TEST_SCALE=small \
	  sh tests/run.sh $(B)/win $(addsuffix .exe,$(WIN_TESTS))

# The MSVC path (GN_CC_MSVC=1: no GNU extensions, the switch as bytes, the
# _Interlocked atomics), forced on MinGW-w64 and run the same way. Its private
# functions are plain static there, as cl has no "unused" attribute.
WIN_MSVC_FLAGS = -DGN_CC_MSVC=1 -Wno-unused-function
$(B)/win-msvc/%.exe: tests/%.c gonet.h tests/greatest.h tests/test_util.h tests/test_check.h | $(B)/win-msvc
	$(WIN_CC) $(OPT) -std=c11 $(WARN) $(WIN_MSVC_FLAGS) -static $< -o $@ $(WIN_LDLIBS)
$(B)/win-msvc/%.exe: examples/%.c gonet.h | $(B)/win-msvc
	$(WIN_CC) $(OPT) -std=c11 $(WARN) $(WIN_MSVC_FLAGS) -static $< -o $@ $(WIN_LDLIBS)
$(B)/win-msvc:
	mkdir -p $@
test-windows-msvc: gonet.h $(addprefix $(B)/win-msvc/,$(addsuffix .exe,$(WIN_TESTS) $(WIN_EXAMPLES)))
	WINEDEBUG=-all GN_TEST_RUNNER=$(WINE) GN_TEST_SCALE=small \
	  sh tests/run.sh $(B)/win-msvc $(addsuffix .exe,$(WIN_TESTS))

# Fuzzing: clang's libFuzzer with ASan+UBSan, one program per tests/fuzz/fuzz_*.c,
# each run FUZZ_SECONDS over a copy of its corpus (tests/fuzz/run.sh). The test
# program test_fuzz_regress replays the corpus and tests/fuzz/regress/ in the suite.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS  = $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SRC      = $(wildcard tests/fuzz/*.c tests/fuzz/*.h)
FUZZFLAGS     = $(SANFLAGS) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
$(B)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h gonet.h | $(B)/fuzz
	$(CLANG) $(FUZZFLAGS) $< -o $@ $(LDLIBS)
$(B)/fuzz:
	mkdir -p $@
$(foreach d,$(B) $(B)/asan $(B)/tsan $(B)/fallback $(B)/kqueue $(B)/arm64,$(d)/test_fuzz_regress): $(FUZZ_SRC)
.PHONY: fuzz
fuzz: gonet.h $(addprefix $(B)/fuzz/,$(FUZZ_TARGETS))
	sh tests/fuzz/run.sh $(B)/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

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

# The MSVC path, syntax-checked by clang in MSVC mode as C11 and as C++17 over
# MinGW-w64's headers, GNU extensions poisoned (tests/compile/msvc.c); and the
# implementation as C++ on the GNU path.
MINGW_INC ?= /usr/share/mingw-w64/include
MSVC_CHECK = $(CLANG) --target=x86_64-pc-windows-msvc -fms-compatibility -fms-extensions \
             -isystem $(MINGW_INC) -DGN_CC_MSVC=1 $(WARN) -pedantic -Wno-unused-function -fsyntax-only
# The switch's machine code must be what the assembler makes of its text (the
# sections differ only in their padding: nops after code, zeros after data).
WIN_OBJCOPY ?= x86_64-w64-mingw32-objcopy
check-msvc: gonet.h | $(B)
	$(MSVC_CHECK) -std=c11 tests/compile/msvc.c
	$(MSVC_CHECK) -x c++ -std=c++17 -Wno-c99-extensions tests/compile/msvc.c
	$(CXX) -std=c++11 $(WARN) -fsyntax-only -x c++ tests/compile/impl.c
	$(WIN_CC) -O0 -c tests/compile/impl.c -o $(B)/switch_asm.o
	$(WIN_CC) -O0 -DGN_CC_MSVC=1 -c tests/compile/impl.c -o $(B)/switch_bytes.o
	$(WIN_OBJCOPY) -O binary --only-section='.text$$gn__ctx_switch_x64_win' $(B)/switch_asm.o $(B)/switch_asm.bin
	$(WIN_OBJCOPY) -O binary --only-section='.text$$gn__ctx_switch_code' $(B)/switch_bytes.o $(B)/switch_bytes.bin
	@a=$$(od -An -tx1 -v $(B)/switch_asm.bin | tr -d ' \n' | sed 's/\(90\)*$$//'); \
	 b=$$(od -An -tx1 -v $(B)/switch_bytes.bin | tr -d ' \n' | sed 's/\(00\)*$$//'); \
	 [ -n "$$a" ] && [ "$$a" = "$$b" ] || { echo "ctx_x64_win.c: the switch's bytes differ from its assembly"; exit 1; }
	@echo "msvc: the MSVC path is clean as C11 and C++17 (clang in MSVC mode), the implementation as C++, the switch's bytes match its assembly"

# The quick-start example: the hello server (HELLO_ADDR=127.0.0.1:8080 to stay local).
HELLO_ADDR ?= :8080
run: $(B)/hello
	./$(B)/hello $(HELLO_ADDR)

clean:
	rm -rf $(B)
