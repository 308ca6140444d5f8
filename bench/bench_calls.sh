#!/usr/bin/env bash
# bench_calls: CPU per call of `ngvoice callmanager` (B2BUA, two mutual-TLS legs), calls set
# up and torn down (INVITE, 200, ACK, BYE, 200) from a trunk peer to the pilot 2000, routed
# to the trunk's other peer. Prints a markdown table; --json FILE writes the figures.
# Installed into BUILD/bench/ by CMake; needs BUILD/ngvoice and BUILD/bench/ngv-testua.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
NGV=$here/../ngvoice
UA=$here/ngv-testua
smoke=0
json=
while [ $# -gt 0 ]; do
	case $1 in
	--smoke) smoke=1 ;;
	--json) json=$2; shift ;;
	*) echo "usage: bench_calls [--smoke] [--json FILE]" >&2; exit 2 ;;
	esac
	shift
done
if [ $smoke = 1 ]; then calls=50; reps=1; par=5; else calls=3000; reps=3; par=20; fi
tmp=$(mktemp -d /tmp/ngv-bench-calls-XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
	echo $((20000 + RANDOM % 10000)); }
# Pinning (a command prefix, so that $! is the process itself).
pin0=()
pin1=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	pin0=(taskset -c 0)
	pin1=(taskset -c 1)
fi

"$NGV" cert generate --role callmanager-ecdsa --cn cucm.ngvoice.localhost \
	--san cucm.ngvoice.localhost --out cm >/dev/null 2>&1
"$NGV" cert generate --role tomcat-ecdsa --cn cuc.ngvoice.localhost \
	--san cuc.ngvoice.localhost --out vm >/dev/null 2>&1
cp vm/tomcat-ECDSA.pem cm-trust.pem
cp cm/CallManager-ECDSA.pem vm-trust.pem

"${pin0[@]}" "$UA" --tls 127.0.0.1:0 --cert vm/tomcat-ECDSA.pem --key vm/tomcat-ECDSA.key \
	--ca vm-trust.pem >uas.out 2>uas.err &
pids+=($!)
for i in $(seq 1 50); do grep -q READY uas.out 2>/dev/null && break; sleep 0.1; done
uas=$(sed -n 's/.*tls=\([0-9]*\).*/\1/p' uas.out)
sip=$(port)
tls=$(port)
cat >cm.conf <<CONF
[enterprise]
host_name = cucm.ngvoice.localhost
sip_port = $sip
sip_tls_port = $tls
tls_ciphers = All Ciphers ECDSA Preferred
[certificates]
callmanager_ecdsa = cm/CallManager-ECDSA.pem
callmanager_ecdsa_key = cm/CallManager-ECDSA.key
callmanager_trust = cm-trust.pem
[sip-trunk-security-profile "cuc-secure-profile-EDCS"]
device_security_mode = Encrypted
x509_subject_name = cuc.ngvoice.localhost
[sip-profile "ping"]
enable_options_ping = yes
[sip-trunk "CUCv11"]
destination = 127.0.0.1:$uas
sip_trunk_security_profile = cuc-secure-profile-EDCS
sip_profile = ping
[route-pattern "2000"]
gateway_or_route_list = CUCv11
CONF
chmod 600 cm.conf
"${pin1[@]}" "$NGV" callmanager --config cm.conf >cm.log 2>&1 &
cmpid=$!
pids+=($cmpid)
for i in $(seq 1 50); do grep -q "Full Service" cm.log && break; sleep 0.1; done
grep -q "Full Service" cm.log || { echo "bench_calls: trunk not up" >&2; cat cm.log >&2; exit 1; }

cpu_ns() { awk '{print $1}' "/proc/$1/schedstat"; }
results=()
for r in $(seq 1 $reps); do
	c0=$(cpu_ns $cmpid)
	t0=$(date +%s%N)
	"${pin0[@]}" "$UA" --tls 127.0.0.1:0 --cert vm/tomcat-ECDSA.pem --key vm/tomcat-ECDSA.key \
		--ca vm-trust.pem --proto tls --hold 0 --parallel $par --calls $calls \
		--call "sips:2000@127.0.0.1:$tls;transport=tls" >uac.out 2>uac.err || true
	t1=$(date +%s%N)
	c1=$(cpu_ns $cmpid)
	ok=$(sed -n 's/calls ok=\([0-9]*\).*/\1/p' uac.out)
	[ "${ok:-0}" -gt 0 ] || { echo "bench_calls: no call completed" >&2; cat uac.err cm.log >&2 | tail -20; exit 1; }
	us=$(awk -v c=$((c1 - c0)) -v n="$ok" 'BEGIN{printf "%.1f", c/n/1000}')
	cps=$(awk -v t=$((t1 - t0)) -v n="$ok" 'BEGIN{printf "%.0f", n/(t/1e9)}')
	results+=("$us $cps $ok")
done
sorted=$(printf '%s\n' "${results[@]}" | sort -n)
median=$(printf '%s\n' "$sorted" | awk -v n=${#results[@]} 'NR==int((n+1)/2){print}')
min=$(printf '%s\n' "$sorted" | head -1 | cut -d' ' -f1)
max=$(printf '%s\n' "$sorted" | tail -1 | cut -d' ' -f1)
read -r us cps ok <<<"$median"
kam=137
ratio=$(awk -v a="$us" -v b=$kam 'BEGIN{printf "%.2f", a/b}')
rss=$(awk '/VmHWM/{print $2}' "/proc/$cmpid/status")

echo "bench_calls ($([ $smoke = 1 ] && echo smoke || echo full)): $calls calls x $reps, $par at a time, one mutual-TLS connection per leg (ECDHE-ECDSA P-256); call manager on CPU 1, peers on CPU 0"
echo
echo "| figure | value | reference | ratio |"
echo "|---|---:|---:|---:|"
echo "| call manager CPU per call (median; min-max $min-$max) | $us µs | 137 µs: Kamailio 5.6 stateful TLS proxy, measured earlier on this machine kind (real-clients.md), not in this run | $ratio |"
echo "| calls completed per second (load generator bound) | $cps | - | - |"
echo "| completed calls in the median run | $ok of $calls | - | - |"
echo "| call manager peak RSS | ${rss:-?} kB | - | - |"
echo
echo "CPU from /proc/PID/schedstat of the call manager only; each call is INVITE, 100, 180, 200, ACK and BYE, 200 on both legs. The peers (ngv-testua) share CPU 0, so calls per second says more about them than about the call manager."
if [ -n "$json" ]; then
	printf '{"calls": %s, "reps": %s, "cm_cpu_us_per_call": {"median": %s, "min": %s, "max": %s}, "calls_per_second": %s, "reference_kamailio_us_per_call": 137, "ratio": %s, "cm_peak_rss_kb": %s}\n' \
		"$calls" "$reps" "$us" "$min" "$max" "$cps" "$ratio" "${rss:-0}" >"$json"
fi
