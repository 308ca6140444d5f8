#!/usr/bin/env bash
# Makes one voicemail prompt: 8 kHz mono 16-bit WAV, spoken or a tone.
#
#   prompts/gen.sh speak OUT.wav "TEXT"   espeak-ng (en-us, 150 wpm), then sox
#   prompts/gen.sh beep  OUT.wav          a 1 kHz tone of 400 ms
#   prompts/gen.sh all   prompts.txt DIR  every name|text line, and the beep
#
# The build (prompts/prompts.cmake) runs one speak per line, in parallel.
# espeak-ng and sox are Debian packages (scripts/deps.sh installs them).
set -euo pipefail

usage() {
	echo "usage: $0 speak OUT.wav TEXT | $0 beep OUT.wav | $0 all LIST DIR" >&2
	exit 2
}

[ $# -ge 2 ] || usage
mode=$1
out=$2

if [ "$mode" = all ]; then
	[ $# -eq 3 ] || usage
	while IFS='|' read -r name text; do
		case $name in '' | '#'*) continue ;; esac
		bash "$0" speak "$3/$name.wav" "$text"
	done <"$2"
	exec bash "$0" beep "$3/beep.wav"
fi
mkdir -p "$(dirname "$out")"
# Parallel builds make many prompts at once: each gets its own scratch file.
tmp=$(mktemp "${TMPDIR:-/tmp}/ngv-prompt-XXXXXX.wav")
trap 'rm -f "$tmp" "$out.part.wav"' EXIT

case $mode in
speak)
	[ $# -eq 3 ] || usage
	espeak-ng -v en-us -s 150 -w "$tmp" "$3"
	sox "$tmp" -r 8000 -c 1 -b 16 "$out.part.wav"
	;;
beep)
	[ $# -eq 2 ] || usage
	# A beep is legitimately a tone: 1 kHz, 400 ms, 6 dB under full scale.
	sox -n -r 8000 -c 1 -b 16 "$out.part.wav" synth 0.4 sine 1000 vol 0.5
	;;
*)
	usage
	;;
esac
# Renamed into place, so a failed run never leaves a half-written prompt.
mv -f "$out.part.wav" "$out"
