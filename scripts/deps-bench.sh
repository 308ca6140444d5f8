#!/usr/bin/env bash
# Installs the Debian 12 packages that only the benchmarks need: Kamailio as the reference
# proxy of bench_calls and stunnel to carry sipp over TLS. make check never needs them.
set -euo pipefail

pkgs=(kamailio kamailio-tls-modules stunnel4 sip-tester)

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

echo "deps-bench: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
