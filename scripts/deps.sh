#!/usr/bin/env bash
# Installs the Debian 12 packages that ngvoice needs to build, test, fuzz and benchmark.
# Only what is missing is installed; nothing happens when everything is present.
set -euo pipefail

pkgs=(
	build-essential cmake pkg-config
	libssl-dev libevent-dev libsqlite3-dev libcmocka-dev
	clang libclang-rt-14-dev clang-format clang-tidy cppcheck
	sip-tester openssl baresip-core
	libsrtp2-dev espeak-ng sox sqlite3 python3-cryptography linphone-cli stunnel4 time
)

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

echo "deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
