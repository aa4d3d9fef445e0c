# Thin wrapper over CMake. `make demo` and `make test` install missing Debian
# packages first, so both work on a fresh Debian 12 machine (as root).
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan

.PHONY: deps build demo test test-release test-asan bench fuzz clean

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# The main job: a synthetic ML workload (20,000 jobs, 64 x 8-GPU nodes, 8
# tenants) replayed under five policy sets, compared side by side; the same
# comparison with its figures (JCT CDF, GPU use, tenant shares, queue) in
# build/report.html.
demo: build
	$(BUILD)/examples/mlsched-sim --synthetic 20000 --policies fifo,priority,drf,drf-easy,drf-easy-preempt
	PYTHONPATH=$(BUILD)/python /usr/bin/python3 -m mlsched.report --synthetic 20000 \
	  --policies fifo,priority,drf,drf-easy,drf-easy-preempt --out $(BUILD)/report.html

test: test-release test-asan

test-release: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# Every test again under AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMLSCHED_BUILD_BENCHMARKS=OFF -DMLSCHED_BUILD_PYTHON=OFF \
	  -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS) -E consumer_find_package

bench: build
	$(BUILD)/bench/mlsched_bench

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)

# Coverage-guided fuzzing of the text parsers with libFuzzer (needs clang).
FUZZ_SECONDS ?= 60
fuzz: deps
	cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
	  -DMLSCHED_BUILD_TESTS=OFF -DMLSCHED_BUILD_BENCHMARKS=OFF -DMLSCHED_BUILD_EXAMPLES=OFF -DMLSCHED_BUILD_PYTHON=OFF -DMLSCHED_BUILD_FUZZERS=ON \
	  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined"
	cmake --build build-fuzz -j $(JOBS)
	build-fuzz/tests/fuzz/parse_resources_fuzz -max_total_time=$(FUZZ_SECONDS)
	build-fuzz/tests/fuzz/json_fuzz -max_total_time=$(FUZZ_SECONDS)
	build-fuzz/tests/fuzz/cron_fuzz -max_total_time=$(FUZZ_SECONDS)
	build-fuzz/tests/fuzz/swf_fuzz -max_total_time=$(FUZZ_SECONDS)
	build-fuzz/tests/fuzz/jobs_csv_fuzz -max_total_time=$(FUZZ_SECONDS)
