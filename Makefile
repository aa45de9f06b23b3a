# A thin front over CMake and the bindings' own tools. See README.md.
BUILD    ?= build
ASAN     ?= build-asan
PREFIX   ?= /usr/local
JOBS     ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build test lint test-asan fuzz-build test-fuzz fuzz bindings test-bindings demo bench install clean

all: build

deps:
	@sh scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: deps build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)
	$(MAKE) lint
	$(MAKE) test-asan
	$(MAKE) test-fuzz
	$(MAKE) test-bindings

# clang-format and clang-tidy over the C and C++ sources; any finding fails.
FORMATTED = $(shell git ls-files '*.c' '*.cpp' '*.h')
TIDIED    = $(shell git ls-files 'lib/*.cpp')
lint: build
	clang-format --dry-run -Werror $(FORMATTED)
	clang-tidy --quiet -p $(BUILD) $(TIDIED)

# The whole C/C++ suite again under AddressSanitizer and UBSan. mimalloc is
# off there so that ASan sees every allocation the core makes.
test-asan:
	cmake -S . -B $(ASAN) -DLLMKIT_SANITIZE=address,undefined -DLLMKIT_WITH_MIMALLOC=OFF $(CMAKE_FLAGS)
	cmake --build $(ASAN) -j $(JOBS)
	ctest --test-dir $(ASAN) --output-on-failure -j $(JOBS)

# libFuzzer targets under ASan+UBSan (clang). `make test` runs each briefly
# plus the differential fuzz at its bounded default; `make fuzz` runs both
# for long (FUZZ_SECONDS per target, FUZZ_CASES per encoding, random seed).
FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 600
FUZZ_CASES ?= 500000
$(FUZZ)/CMakeCache.txt:
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ) -DLLMKIT_FUZZ=ON -DLLMKIT_BUILD_TESTS=OFF \
	  -DLLMKIT_WITH_MIMALLOC=OFF -DLLMKIT_SANITIZE=address,undefined $(CMAKE_FLAGS)
fuzz-build: $(FUZZ)/CMakeCache.txt
	cmake --build $(FUZZ) -j $(JOBS) --target fuzzers
test-fuzz: fuzz-build
	sh test/fuzz/run.sh $(FUZZ) 15
fuzz: deps build fuzz-build
	sh test/fuzz/run.sh $(FUZZ) $(FUZZ_SECONDS)
	sh test/tokenize/diff_fuzz_test.sh $(BUILD)/test/llmkit_tokenize_diff $(FUZZ_CASES) $$(od -An -N4 -tu4 /dev/urandom)

# Bindings build against a staged install, exactly as an outside user would.
STAGE := $(abspath $(BUILD))/stage
bindings: build
	cmake --install $(BUILD) --prefix $(STAGE) >/dev/null
	$(MAKE) -C bindings STAGE=$(STAGE) all

test-bindings: bindings
	$(MAKE) -C bindings STAGE=$(STAGE) test
	sh examples/python/test.sh $(STAGE)
	sh test/bindings/shared_limit_test.sh $(STAGE) $(BUILD)/test/llmkit_ratelimit_worker

# The bindings first: the demo runs the same flow in each.
demo: deps build bindings
	sh scripts/demo.sh $(BUILD)

bench: deps
	cmake -S . -B $(BUILD) -DLLMKIT_BUILD_BENCH=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)
	$(BUILD)/bench/llmkit_bench --benchmark_filter='^(c_api|ratelimit|cache|http|pipeline|trace)/' --benchmark_enable_random_interleaving=true
	sh bench/pipeline_instructions.sh $(BUILD)
	$(BUILD)/bench/llmkit_pipeline_calls paired 20000 < /dev/null
	$(BUILD)/bench/llmkit_http_race 1 40 < /dev/null
	$(BUILD)/bench/llmkit_http_race 8 40 < /dev/null
	$(BUILD)/bench/llmkit_tokenize_rss
	node bench/tokenize/compare.mjs $(BUILD)/bench/llmkit_bench

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ)
	$(MAKE) -C bindings clean
