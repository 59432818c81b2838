# quarc: the two set-up commands are `make demo` and `make test`; both install
# what is missing (scripts/setup.sh), build, and then run.

BUILD_DIR ?= build
ASAN_BUILD_DIR ?= build-asan
JOBS ?= $(shell nproc)
PYTHON := $(CURDIR)/.venv/bin/python

# ccache keyed so that a fresh clone of the same sources hits the cache: the
# paths inside the checkout are made relative, the cache lives outside it.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := true
export CCACHE_DIR ?= $(HOME)/.cache/quarc-ccache
export CCACHE_MAXSIZE ?= 5G

CMAKE_FLAGS = -G Ninja \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
  -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
  -DLLVM_USE_LINKER=lld \
  -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
  -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
  -DPython3_EXECUTABLE=$(PYTHON)

.PHONY: setup build test check-lit check-unit check-python demo asan check-asan docs clean

setup:
	@bash scripts/setup.sh

$(BUILD_DIR)/build.ninja: | setup
	cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS)

build: setup $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Every test: lit (FileCheck), GoogleTest and pytest, then one summary line.
test: build
	@bash scripts/run-tests.sh $(BUILD_DIR)

check-lit: build
	/usr/lib/llvm-22/bin/lit -sv $(BUILD_DIR)/test

demo: build
	@bash scripts/demo.sh $(BUILD_DIR)

# The address/undefined-behaviour sanitizer build, and the malformed-model
# corpus run under it.
asan:
	@bash scripts/setup.sh --asan
	cmake -S . -B $(ASAN_BUILD_DIR) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DQUARC_ENABLE_SANITIZERS=ON
	cmake --build $(ASAN_BUILD_DIR) -j $(JOBS)

# ASan exits with status 1, which `not` accepts, so the corpus is also run
# directly and any sanitizer report fails the target.
check-asan: asan
	ASAN_OPTIONS=detect_leaks=1 /usr/lib/llvm-22/bin/lit -sv $(ASAN_BUILD_DIR)/test
	@for f in test/Import/ONNX/malformed/*.onnx; do \
	  ASAN_OPTIONS=detect_leaks=1 $(ASAN_BUILD_DIR)/bin/quarc-translate --import-onnx $$f -o /dev/null 2>&1 \
	    | grep -E "Sanitizer|runtime error" && { echo "sanitizer report on $$f"; exit 1; }; \
	done; echo "malformed corpus: no sanitizer report"


docs: build
	cmake --build $(BUILD_DIR) --target quarc-docs
	scripts/gen-passes-doc.sh > docs/passes.md

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR)
