# Thin wrapper over CMake. `make demo` and `make test` install missing Debian
# packages first, so both work on a fresh Debian 12 machine (as root).
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan

.PHONY: deps build demo test test-release test-asan bench pgo fuzz clean

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

# A Release build optimised by GCC with a profile of the main job's own runs
# (profile-guided optimisation) and across files (link-time optimisation):
# the code is built instrumented, the demo's replay (20,000 synthetic jobs
# under five policy sets) and small instances of the simulator's and
# engine's benchmarks are run to record which code is hot, and everything
# is built again from that profile (about 6 minutes on 2 cores). The
# benchmarks in $(PGO_BUILD)/bench then measure sizes the training did not
# run. See README, Performance.
PGO_BUILD ?= build-pgo
PGO_CMAKE ?= -DCMAKE_INTERPROCEDURAL_OPTIMIZATION=ON
PGO_PROFILE = $(abspath $(PGO_BUILD))/profile
PGO_TRAINING = BM_Sim_SwfEasy/5000|BM_Sim_Synthetic/30000/|BM_Engine_(Fill|SteadyExit|Submit)
pgo: deps
	cmake -S . -B $(PGO_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DMLSCHED_BUILD_TESTS=OFF -DMLSCHED_BUILD_PYTHON=OFF $(PGO_CMAKE) \
	  -DCMAKE_CXX_FLAGS="-fprofile-generate -fprofile-update=single -fprofile-dir=$(PGO_PROFILE)"
	cmake --build $(PGO_BUILD) -j $(JOBS) --target mlsched_bench mlsched-sim
	rm -rf $(PGO_PROFILE)
	$(PGO_BUILD)/examples/mlsched-sim --quiet --synthetic 20000 --policies fifo,priority,drf,drf-easy,drf-easy-preempt
	$(PGO_BUILD)/bench/mlsched_bench --benchmark_filter='$(PGO_TRAINING)'
	cmake -S . -B $(PGO_BUILD) -DCMAKE_CXX_FLAGS="-fprofile-use -fprofile-partial-training -fprofile-dir=$(PGO_PROFILE) -Wno-missing-profile"
	cmake --build $(PGO_BUILD) -j $(JOBS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(PGO_BUILD)

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
	build-fuzz/tests/fuzz/philly_fuzz -max_total_time=$(FUZZ_SECONDS)
