# A thin front over CMake and the bindings' own tools. See README.md.
BUILD    ?= build
ASAN     ?= build-asan
PREFIX   ?= /usr/local
JOBS     ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build test lint test-asan bindings test-bindings demo bench install clean

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

# Bindings build against a staged install, exactly as an outside user would.
STAGE := $(abspath $(BUILD))/stage
bindings: build
	cmake --install $(BUILD) --prefix $(STAGE) >/dev/null
	$(MAKE) -C bindings STAGE=$(STAGE) all

test-bindings: bindings
	$(MAKE) -C bindings STAGE=$(STAGE) test
	sh examples/python/test.sh $(STAGE)

demo: deps build
	sh scripts/demo.sh $(BUILD)

bench: deps
	cmake -S . -B $(BUILD) -DLLMKIT_BUILD_BENCH=ON $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)
	$(BUILD)/bench/llmkit_bench

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(ASAN)
	$(MAKE) -C bindings clean
