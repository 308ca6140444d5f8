# ngvoice: top-level entry points. CMake does the building; this file only
# strings the steps together so one command does each job.
.PHONY: all deps build lab check faults soak fuzz bench bench-smoke format clean

JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60

all: build

deps:
	@bash scripts/deps.sh

build: deps
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build build -j$(JOBS)

# The main job: install what is missing, build, set the guide up on loopback
# and verify it.
lab: build
	./build/ngvoice lab

# The tests: -Werror, AddressSanitizer and UBSan, then every ctest suite.
check: deps
	cmake -S . -B build-check -DCMAKE_BUILD_TYPE=Debug -DNGV_WERROR=ON \
		-DNGV_SANITIZE=ON >/dev/null
	cmake --build build-check -j$(JOBS)
	cd build-check && ctest --output-on-failure -j$(JOBS)

# The fault suite (docs/reliability.md): daemons killed, a far end gone or
# silent, a full disk, certificates changing. Needs root (namespaces, tmpfs);
# not part of check. Each case runs under timeout (FAULT_TIMEOUT seconds).
faults: deps
	cmake -S . -B build-faults -DCMAKE_BUILD_TYPE=Debug -DNGV_SANITIZE=ON >/dev/null
	cmake --build build-faults --target ngvoice ngv_prompts ngv-wavcorr -j$(JOBS)
	bash tests/faults/run.sh build-faults

# The soak (docs/reliability.md): SOAK_MINUTES (30) of mixed load on the
# ASan/LSan build; prints the memory curve.
SOAK_MINUTES ?= 30
soak: deps
	cmake -S . -B build-faults -DCMAKE_BUILD_TYPE=Debug -DNGV_SANITIZE=ON >/dev/null
	cmake --build build-faults --target ngvoice ngv_prompts ngv-wavcorr -j$(JOBS)
	SOAK_MINUTES=$(SOAK_MINUTES) FAULT_TIMEOUT=$$(( $(SOAK_MINUTES) * 60 + 300 )) \
		bash tests/faults/run.sh build-faults soak

# libFuzzer targets, built with clang, each run for FUZZ_SECONDS.
fuzz: deps
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DNGV_FUZZ=ON -DNGV_TESTS=OFF -DNGV_BENCH=OFF >/dev/null
	cmake --build build-fuzz -j$(JOBS)
	bash tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

# Benchmarks: optimised build, no sanitizers; results in bench/results/.
bench: deps
	@bash scripts/deps-bench.sh
	cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DNGV_TESTS=OFF >/dev/null
	cmake --build build-bench -j$(JOBS)
	bash bench/run.sh build-bench full

bench-smoke: deps
	cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DNGV_TESTS=OFF >/dev/null
	cmake --build build-bench -j$(JOBS)
	bash bench/run.sh build-bench smoke

format:
	find lib cli callmgr voicemail tests bench -name '*.[ch]' | xargs clang-format -i

clean:
	rm -rf build build-check build-fuzz build-bench
