#!/usr/bin/env bash
# Runs the benchmarks of a build and records the figures with the machine they came from.
#
#   bench/run.sh BUILD_DIR full|smoke
#
# full writes bench/results/latest.md and bench/results/latest.json; smoke is
# a quick check that the benchmarks run and writes BUILD_DIR/bench-smoke.md
# and .json instead, so that a smoke run never replaces real figures.
set -euo pipefail

if [ $# -ne 2 ] || { [ "$2" != full ] && [ "$2" != smoke ]; }; then
	echo "usage: $0 BUILD_DIR full|smoke" >&2
	exit 2
fi
build=$1
mode=$2
here=$(cd "$(dirname "$0")" && pwd)
benches=(bench_parse bench_tls bench_calls bench_cm_mem bench_srtp bench_vm)

if [ "$mode" = full ]; then
	outdir="$here/results"
	base=latest
	flag=()
else
	outdir="$build"
	base=bench-smoke
	flag=(--smoke)
fi
mkdir -p "$outdir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Escapes a string for a JSON value.
json_str() {
	printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"
}

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
cpu=${cpu:-$(uname -m)}
cores=$(nproc 2>/dev/null || echo 1)
mhz=$(sed -n 's/^cpu MHz[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
ossl=$(openssl version 2>/dev/null || echo unknown)
kernel=$(uname -sr)
cc=$(sed -n 's/^CMAKE_C_COMPILER:[^=]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
ccver=$("${cc:-cc}" --version 2>/dev/null | head -n 1 || echo unknown)
btype=$(sed -n 's/^CMAKE_BUILD_TYPE:[^=]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
rev=$(git -C "$here/.." rev-parse --short HEAD 2>/dev/null || echo unknown)
date=$(date -u +%Y-%m-%dT%H:%M:%SZ)

for b in "${benches[@]}"; do
	if [ ! -x "$build/bench/$b" ]; then
		echo "bench: $build/bench/$b is not built (make bench)" >&2
		exit 2
	fi
	echo "bench: running $b ($mode)" >&2
	"$build/bench/$b" "${flag[@]}" --json "$tmp/$b.json" >"$tmp/$b.md"
done

{
	echo "# ngvoice benchmarks ($mode)"
	echo
	echo "| | |"
	echo "|---|---|"
	echo "| date | $date |"
	echo "| CPU | $cpu${mhz:+ (${mhz%.*} MHz now)} |"
	echo "| cores | $cores |"
	echo "| kernel | $kernel |"
	echo "| compiler | $ccver |"
	echo "| build | ${btype:-unknown}, commit $rev |"
	echo "| OpenSSL | $ossl |"
	echo
	echo "See bench/README.md for what each figure means."
	for b in "${benches[@]}"; do
		echo
		echo "## $b"
		echo
		cat "$tmp/$b.md"
	done
} >"$outdir/$base.md"

{
	echo "{"
	echo "  \"date\": $(json_str "$date"),"
	echo "  \"mode\": $(json_str "$mode"),"
	echo "  \"machine\": {"
	echo "    \"cpu\": $(json_str "$cpu"),"
	echo "    \"cores\": $cores,"
	echo "    \"kernel\": $(json_str "$kernel"),"
	echo "    \"compiler\": $(json_str "$ccver"),"
	echo "    \"build_type\": $(json_str "${btype:-unknown}"),"
	echo "    \"commit\": $(json_str "$rev"),"
	echo "    \"openssl\": $(json_str "$ossl")"
	echo "  },"
	echo "  \"benchmarks\": {"
	n=0
	for b in "${benches[@]}"; do
		n=$((n + 1))
		printf '    "%s": ' "$b"
		sed -e "1!s/^/    /" "$tmp/$b.json"
		[ "$n" -lt "${#benches[@]}" ] && echo "    ,"
	done
	echo "  }"
	echo "}"
} >"$outdir/$base.json"

cat "$outdir/$base.md"
echo >&2
echo "bench: wrote $outdir/$base.md and $outdir/$base.json" >&2
