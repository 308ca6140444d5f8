#!/usr/bin/env bash
# Static analysis: cppcheck and clang-tidy (.clang-tidy) must both report
# nothing. Usage: tests/lint.sh [BUILD_DIR]; BUILD_DIR holds the
# compile_commands.json clang-tidy needs (CMake writes it), default build.
# Exit 0 clean, 1 findings or a tool failed, 77 clang-tidy skipped (no
# compile_commands.json) after a clean cppcheck.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" 2>/dev/null && pwd || echo "${1:-$root/build}")
jobs=${LINT_JOBS:-2}
cd "$root"

for tool in cppcheck clang-tidy-14 run-clang-tidy-14; do
	command -v "$tool" >/dev/null ||
		{ echo "lint: $tool missing (scripts/deps.sh installs it)" >&2; exit 1; }
done

# cppcheck: everything we build except tests/ and bench/ (test code passes
# NULL to variadic cmocka helpers on purpose; bench/ has its own owners).
cppcheck_dirs=(lib cli callmgr voicemail)
# clang-tidy: every directory with code of ours (tests and bench have their own style).
tidy_dirs=(lib cli callmgr voicemail)

fail=0
echo "lint: cppcheck ${cppcheck_dirs[*]}"
if ! cppcheck -q --error-exitcode=1 -j "$jobs" \
    --enable=warning,portability,performance --std=c11 --inline-suppr \
    --suppressions-list=.cppcheck-suppressions \
    -I lib -I . -D_GNU_SOURCE \
    --template='{file}:{line}: {severity}: {id}: {message}' \
    "${cppcheck_dirs[@]}"; then
	echo "lint: cppcheck found the problems above: fix them, or if one is a" \
	    "false positive, suppress it inline with /* cppcheck-suppress ID */" \
	    "under a comment saying why" >&2
	fail=1
fi

if [ ! -f "$build/compile_commands.json" ]; then
	echo "lint: SKIPPED clang-tidy: no $build/compile_commands.json" \
	    "(configure with cmake first; it is written by" \
	    "CMAKE_EXPORT_COMPILE_COMMANDS)" >&2
	[ $fail -eq 0 ] && exit 77
	exit 1
fi

# Only our own sources: the root is escaped for use in a regex.
re_root=$(printf '%s' "$root" | sed 's/[][\.*^$+?(){}|]/\\&/g')
files_re="^$re_root/($(IFS='|'; echo "${tidy_dirs[*]}"))/"
echo "lint: clang-tidy ${tidy_dirs[*]} (-j$jobs, $build)"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
run-clang-tidy-14 -clang-tidy-binary clang-tidy-14 -p "$build" -j "$jobs" \
    -quiet "$files_re" >"$out" 2>&1
rc=$?
# Plain text (run-clang-tidy-14 asks for colour), without the per-file
# command lines and "N warnings generated" counts.
sed -i -e 's/\x1b\[[0-9;]*m//g' "$out"
n=$(grep -cE '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' "$out")
if [ "$rc" -ne 0 ] || [ "$n" -ne 0 ]; then
	grep -vE '^(clang-tidy-14 |[0-9]+ warnings? (and [0-9]+ errors? )?generated\.|Suppressed [0-9]+ warnings|Use -header-filter|Running clang-tidy)' "$out" >&2
	echo "lint: clang-tidy: $n finding(s) (exit $rc): fix them, or for a" \
	    "false positive add /* NOLINTNEXTLINE(check) */ under a comment" \
	    "saying why, or turn the check off in .clang-tidy with the reason" >&2
	fail=1
fi
[ $fail -eq 0 ] && echo "lint: clean"
exit $fail
