#!/usr/bin/env bash
# Runs every libFuzzer target for SECONDS each on a scratch copy of its seed corpus.
#
#   tests/fuzz/run.sh BUILD_DIR SECONDS
#
# Targets are the fuzz_*.c drivers beside this script, built in
# BUILD_DIR/tests/fuzz (make fuzz). Each one starts from a fresh copy of
# tests/fuzz/corpus/<name>/ under BUILD_DIR/fuzz-run/, so the checked-in corpus
# never grows; crash inputs land in BUILD_DIR/fuzz-run/<target>/artifacts/.
# Targets run side by side when there are enough cores (FUZZ_PARALLEL=0 runs
# them one after the other; FUZZ_JOBS=N runs them N at a time). The table at
# the end gives each target's wall and CPU seconds. Exits non-zero when any target finds a crash, a
# leak, a timeout or a broken invariant.
set -uo pipefail

if [ $# -ne 2 ]; then
	echo "usage: $0 BUILD_DIR SECONDS" >&2
	exit 2
fi
build=$1
secs=$2
here=$(cd "$(dirname "$0")" && pwd)
bindir="$build/tests/fuzz"
rundir="$build/fuzz-run"

targets=()
for src in "$here"/fuzz_*.c; do
	targets+=("$(basename "$src" .c)")
done

ncpu=$(nproc 2>/dev/null || echo 1)
parallel=${FUZZ_PARALLEL:-$([ "$ncpu" -ge "${#targets[@]}" ] && echo 1 || echo 0)}
jobs=${FUZZ_JOBS:-$([ "$parallel" = 1 ] && echo "${#targets[@]}" || echo 1)}

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# run_one NAME: fuzzes one target; its log is $rundir/NAME/log.
run_one() {
	local name=$1 short=${1#fuzz_}
	local dir="$rundir/$name"
	local dict=()

	rm -rf "$dir"
	mkdir -p "$dir/corpus" "$dir/artifacts"
	cp "$here/corpus/$short"/* "$dir/corpus/"
	if [ -f "$here/$short.dict" ]; then
		dict=(-dict="$here/$short.dict")
	fi
	/usr/bin/time -o "$dir/cpu" -f '%U %S' \
		"$bindir/$name" -max_len=8192 -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$dir/artifacts/" "${dict[@]}" \
		"$dir/corpus" >"$dir/log" 2>&1
}

for t in "${targets[@]}"; do
	if [ ! -x "$bindir/$t" ]; then
		echo "fuzz: $bindir/$t is not built (make fuzz)" >&2
		exit 2
	fi
done

mkdir -p "$rundir"
echo "fuzz: ${targets[*]} for ${secs}s each, $jobs at a time"
declare -A rc
declare -A pid
for ((i = 0; i < ${#targets[@]}; i += jobs)); do
	batch=("${targets[@]:i:jobs}")
	for t in "${batch[@]}"; do
		run_one "$t" &
		pid[$t]=$!
	done
	for t in "${batch[@]}"; do
		wait "${pid[$t]}"
		rc[$t]=$?
	done
done

status=0
printf '%-12s %8s %8s %12s %10s %8s %8s  %s\n' target seconds cpu-s execs exec/s cov corpus result
for t in "${targets[@]}"; do
	log="$rundir/$t/log"
	stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -n 1; }
	execs=$(stat number_of_executed_units)
	speed=$(stat average_exec_per_sec)
	took=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | tail -n 1 |
		awk '{print $5}')
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | awk '{print $2}')
	cpu=$(tail -n 1 "$rundir/$t/cpu" 2>/dev/null | awk '{ printf "%d", $1 + $2 }')
	ncorp=$(find "$rundir/$t/corpus" -type f | wc -l)
	result=ok
	if [ "${rc[$t]}" -ne 0 ] || [ -n "$(ls -A "$rundir/$t/artifacts")" ]; then
		result="FAILED (rc ${rc[$t]})"
		status=1
	fi
	printf '%-12s %8s %8s %12s %10s %8s %8s  %s\n' "$t" "${took:--}" "${cpu:--}" \
		"${execs:--}" "${speed:--}" "${cov:--}" "$ncorp" "$result"
done
if [ $status -ne 0 ]; then
	for t in "${targets[@]}"; do
		if [ -n "$(ls -A "$rundir/$t/artifacts")" ] || [ "${rc[$t]}" -ne 0 ]; then
			echo "--- $t: artifacts in $rundir/$t/artifacts; end of log:"
			ls -l "$rundir/$t/artifacts"
			tail -n 40 "$rundir/$t/log"
		fi
	done
fi
exit $status
