# Makefile - builds ./ppl (front end, LLVM back end, driver) and build/libpplrt.a (runtime).
# `make check` runs every test; `make SANITIZE=1 check` runs them under ASan and UBSan;
# `make TSAN=1` builds with ThreadSanitizer, for tests/tsan.sh (the SMC and VI tests).
-include config.mk
LLVM_CONFIG ?= llvm-config-19
PREFIX ?= /usr/local
VERSION = 0.1.0
B = build

SAN_LIST = address,undefined
SAN_FLAGS = $(if $(SANITIZE),-fsanitize=$(SAN_LIST) -fno-sanitize-recover=undefined -fno-omit-frame-pointer)$(if $(TSAN),-fsanitize=thread -fno-omit-frame-pointer)
CFLAGS = -std=gnu11 -O2 -g -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
         -D_GNU_SOURCE -Ilang -Icompiler -Iruntime $(SAN_FLAGS)
LLVM_CFLAGS := $(shell $(LLVM_CONFIG) --cflags 2>/dev/null)
LLVM_LIBS := $(shell $(LLVM_CONFIG) --ldflags --libs 2>/dev/null)
# BLAS_DIR (from configure): OpenBLAS's serial build, whose library the binaries find by rpath.
BLAS_LIBS = $(if $(BLAS_DIR),-L$(BLAS_DIR) -Wl$(comma)-rpath$(comma)$(BLAS_DIR)) -lopenblas
comma := ,
RT_LIBS = -ljansson -lgc $(BLAS_LIBS) -lm -lpthread -lgsl
# How `ppl build` links a program: libpplrt.a, these libraries, and the sanitizer if any.
LINK_FLAGS = $(SAN_FLAGS) $(RT_LIBS)

LANG_OBJ = $(patsubst %.c,$(B)/%.o,$(wildcard lang/*.c))
COMP_OBJ = $(patsubst %.c,$(B)/%.o,$(filter-out compiler/main.c,$(wildcard compiler/*.c))) $(B)/stdlib/prelude.o
RT_OBJ = $(patsubst %.c,$(B)/%.o,$(wildcard runtime/*.c))
UNIT_TESTS = $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/*.c))
HEADERS = $(wildcard lang/*.h compiler/*.h runtime/*.h)

all: ppl

ppl: $(B)/compiler/main.o $(B)/libpplc.a $(B)/libpplrt.a
	$(CC) $(SAN_FLAGS) -o $@ $^ $(LLVM_LIBS) $(RT_LIBS) -lreadline -Wl,-rpath,$(shell $(LLVM_CONFIG) --libdir)

$(B)/libpplc.a: $(LANG_OBJ) $(COMP_OBJ)
	rm -f $@ && ar rcs $@ $^

$(B)/libpplrt.a: $(RT_OBJ)
	rm -f $@ && ar rcs $@ $^

$(B)/lang/%.o: lang/%.c $(HEADERS) | dirs
	$(CC) $(CFLAGS) -c $< -o $@

$(B)/compiler/%.o: compiler/%.c $(HEADERS) | dirs
	$(CC) $(CFLAGS) $(LLVM_CFLAGS) -DPPL_VERSION='"$(VERSION)"' -DPPL_LIBDIR='"$(PREFIX)/lib/ppl"' \
	    -DPPL_LINK_FLAGS='"$(LINK_FLAGS)"' -c $< -o $@

$(B)/runtime/%.o: runtime/%.c $(HEADERS) | dirs
	$(CC) $(CFLAGS) -DPPL_VERSION='"$(VERSION)"' -c $< -o $@

# Only -O3 vectorizes rt_rng_blocks, the batched Philox loop of SMC (several blocks per
# instruction; integer arithmetic, so the same bits either way).
$(B)/runtime/rt_rng.o: CFLAGS += -O3

# The prelude is embedded in the driver with .incbin (no generator tool needed).
$(B)/stdlib/prelude.o: stdlib/prelude.ppl | dirs
	printf '__asm__(".section .rodata\\n.global ppl_prelude_source\\nppl_prelude_source:\\n.incbin \\"stdlib/prelude.ppl\\"\\n.byte 0\\n.previous");\n' > $(B)/stdlib/prelude.c
	$(CC) $(CFLAGS) -c $(B)/stdlib/prelude.c -o $@

$(B)/tests/%: tests/unit/%.c $(B)/libpplc.a $(B)/libpplrt.a $(HEADERS) $(wildcard tests/unit/*.h) | dirs
	$(CC) $(CFLAGS) $(LLVM_CFLAGS) -o $@ $< $(B)/libpplc.a $(B)/libpplrt.a -lcmocka $(LLVM_LIBS) $(RT_LIBS) -lreadline \
	    -Wl,-rpath,$(shell $(LLVM_CONFIG) --libdir)

# C benchmarks against the runtime library (bench/run_bench.sh builds them with make).
$(B)/bench/%: bench/%.c $(B)/libpplrt.a $(HEADERS) | dirs
	$(CC) $(CFLAGS) -o $@ $< $(B)/libpplrt.a $(RT_LIBS)

dirs:
	@mkdir -p $(B)/lang $(B)/compiler $(B)/runtime $(B)/stdlib $(B)/tests $(B)/bench

# Leak checking is off for the unit tests (as for ppl in tests/run_tests.sh): the collector's
# memory looks leaked to LeakSanitizer, and it reports threads that exit() interrupts.
check: ppl $(UNIT_TESTS)
	@for t in $(UNIT_TESTS); do echo "== $$t"; ASAN_OPTIONS=$${ASAN_OPTIONS:-detect_leaks=0} $$t || exit 1; done
	@sh tests/run_tests.sh ./ppl

# ---- fuzzing: libFuzzer targets built with clang (FUZZ_CC, found by ./configure) ----
# `make fuzz` builds everything under $(FUZZ_B) with ASan, UBSan and libFuzzer's coverage,
# then runs each target FUZZ_SECONDS seconds on a corpus that starts from tests/fuzz/seeds/T
# and grows in $(FUZZ_B)/corpus/T. A crash stops the run and leaves its input as
# $(FUZZ_B)/crash-T-*; rerun a target on it to see the report (make fuzz-build first).
FUZZ_CC ?= clang-19
FUZZ_SECONDS ?= 60
FUZZ_B = build-fuzz
FUZZ_TARGETS = front json csv
FUZZ_SAN = -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_BINS = $(patsubst %,$(FUZZ_B)/fuzz_%,$(FUZZ_TARGETS))
# Seeds besides tests/fuzz/seeds/T: the front end also starts from every test program.
FUZZ_SEEDS_front = tests/run examples tests/errors tests/broken

fuzz-build:
	@[ -n "$(FUZZ_CC)" ] && command -v $(FUZZ_CC) > /dev/null || \
	    { echo "make fuzz needs clang-19 and libclang-rt-19-dev (./configure --with-optional installs them)"; exit 1; }
	$(MAKE) B=$(FUZZ_B) CC=$(FUZZ_CC) SAN_FLAGS="$(FUZZ_SAN)" $(FUZZ_B)/libpplc.a $(FUZZ_B)/libpplrt.a
	$(MAKE) B=$(FUZZ_B) CC=$(FUZZ_CC) SAN_FLAGS="$(FUZZ_SAN)" $(FUZZ_BINS)

$(FUZZ_B)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_B)/libpplc.a $(FUZZ_B)/libpplrt.a
	$(CC) $(CFLAGS) $(LLVM_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_B)/libpplc.a $(FUZZ_B)/libpplrt.a \
	    $(LLVM_LIBS) $(RT_LIBS) -lreadline -Wl,-rpath,$(shell $(LLVM_CONFIG) --libdir)

# -close_fd_mask=3: the targets' own messages (every malformed input has one) are not shown;
# libFuzzer still reports a crash and saves its input. Its log is $(FUZZ_B)/fuzz_T.log.
fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_B)/corpus/$$t; \
	    echo "== fuzz_$$t ($(FUZZ_SECONDS) s)"; \
	    ASAN_OPTIONS=detect_leaks=0 $(FUZZ_B)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=20 \
	        -rss_limit_mb=3072 -close_fd_mask=3 -print_final_stats=1 -artifact_prefix=$(FUZZ_B)/crash-$$t- \
	        $(FUZZ_B)/corpus/$$t tests/fuzz/seeds/$$t $$(case $$t in front) echo $(FUZZ_SEEDS_front);; esac) \
	        > $(FUZZ_B)/fuzz_$$t.log 2>&1; rc=$$?; \
	    grep -E "^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)" $(FUZZ_B)/fuzz_$$t.log; \
	    echo "   corpus: $$(ls $(FUZZ_B)/corpus/$$t | wc -l) inputs"; \
	    if [ $$rc -ne 0 ]; then tail -n 40 $(FUZZ_B)/fuzz_$$t.log; exit 1; fi; \
	done

bench: ppl
	@sh bench/run_bench.sh ./ppl

install: ppl
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/ppl
	install -m 755 ppl $(DESTDIR)$(PREFIX)/bin/ppl
	install -m 644 $(B)/libpplrt.a $(DESTDIR)$(PREFIX)/lib/ppl/libpplrt.a

clean:
	rm -rf $(B) ppl

.PHONY: all check bench install clean dirs fuzz fuzz-build
