#!/usr/bin/env bash
# Every C file is formatted with the checked-in .clang-format (`make format` fixes it).
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "clang-format missing (scripts/deps.sh installs it)" >&2; exit 1; }
bad=0
for f in $(git ls-files '*.c' '*.h' 2>/dev/null || find lib cli callmgr voicemail tests bench -name '*.[ch]'); do
	if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "not formatted: $f (run make format)" >&2
		bad=1
	fi
done
exit $bad
