#!/usr/bin/env bash
# bench_calls: CPU per call of `ngvoice callmanager` (B2BUA, two mutual-TLS legs), calls set
# up and torn down (INVITE, 200, ACK, BYE, 200) from a trunk peer to the pilot 2000, routed
# to the trunk's other peer. A full run also measures Kamailio 5.6 as a stateful TLS proxy
# carrying the same calls to the same UAS at the same fixed rates, alternating the two
# servers. Prints a markdown table; --json FILE writes the figures.
# Installed into BUILD/bench/ by CMake; needs BUILD/ngvoice and BUILD/bench/ngv-testua; the
# full run needs sipp, stunnel4 and kamailio (scripts/deps-bench.sh, run by make bench).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
NGV=$here/../ngvoice
UA=$here/ngv-testua
smoke=0
json=
rates=
secs=
kreps=
while [ $# -gt 0 ]; do
	case $1 in
	--smoke) smoke=1 ;;
	--json) json=$2; shift ;;
	--rates) rates=$2; shift ;;
	--seconds) secs=$2; shift ;;
	--reps) kreps=$2; shift ;;
	*)
		echo "usage: bench_calls [--smoke] [--json FILE] [--rates 'R1 R2'] [--seconds S] [--reps N]" >&2
		exit 2
		;;
	esac
	shift
done
if [ $smoke = 1 ]; then calls=50; reps=1; par=5; else calls=3000; reps=3; par=20; fi
# The fixed-rate comparison with Kamailio (full runs only): calls per second, seconds
# of calls per run, runs per server and rate.
rates=${rates:-1000 3000}
secs=${secs:-8}
kreps=${kreps:-5}
tmp=$(mktemp -d /tmp/ngv-bench-calls-XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ -n "${NGV_BENCH_KEEP:-}" ] || rm -rf "$tmp"
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
# CPU time in ns of processes and all their threads (schedstat: ns, where
# /proc/PID/stat counts 10 ms ticks), summed.
cpu_ns() {
	local p t s=0
	for p in "$@"; do
		for t in /proc/"$p"/task/*/schedstat; do
			[ -r "$t" ] && s=$((s + $(awk '{print $1}' "$t" 2>/dev/null || echo 0)))
		done
	done
	echo $s
}
# Median, min and max of the numbers on stdin: "median min max".
stats() { sort -g | awk -v f="${1:-%.1f}" '{v[NR]=$1} END{if(NR==0){print "null null null"; exit}
	m = NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; printf f " " f " " f "\n", m, v[1], v[NR]}'; }

"$NGV" cert generate --role callmanager-ecdsa --cn cucm.ngvoice.localhost \
	--san cucm.ngvoice.localhost --out cm >/dev/null 2>&1
"$NGV" cert generate --role tomcat-ecdsa --cn cuc.ngvoice.localhost \
	--san cuc.ngvoice.localhost --out vm >/dev/null 2>&1
cp vm/tomcat-ECDSA.pem cm-trust.pem
cp cm/CallManager-ECDSA.pem vm-trust.pem

# The UAS: the trunk's far end for ngvoice, the next hop for Kamailio.
"${pin0[@]}" "$UA" --tls 127.0.0.1:0 --cert vm/tomcat-ECDSA.pem --key vm/tomcat-ECDSA.key \
	--ca vm-trust.pem >uas.out 2>uas.err &
pids+=("$!")
for _ in $(seq 1 50); do grep -q READY uas.out 2>/dev/null && break; sleep 0.1; done
uas=$(sed -n 's/.*tls=\([0-9]*\).*/\1/p' uas.out)
sip=$(port)
tls=$(port)
cat >cm.conf <<CONF
[enterprise]
host_name = cucm.ngvoice.localhost
sip_port = $sip
sip_tls_port = $tls
tftp_https_port = $(port)
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
pids+=("$cmpid")
for _ in $(seq 1 300); do grep -q "Full Service" cm.log && break; sleep 0.1; done
grep -q "Full Service" cm.log || { echo "bench_calls: trunk not up" >&2; cat cm.log >&2; exit 1; }

# Part 1: as many calls as ngv-testua makes, $par at a time (closed loop).
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

# Part 2 (full runs): the same calls at fixed rates from sipp through stunnel, into
# ngvoice and into Kamailio in turn. Both servers stay up on CPU 1 for the whole part; only
# the one being driven does any work.
kam_note=
fixed=()
if [ $smoke = 1 ]; then
	kam_note="smoke run: no Kamailio comparison"
elif ! command -v kamailio >/dev/null || ! command -v stunnel >/dev/null || ! command -v sipp >/dev/null; then
	kam_note="Kamailio comparison skipped: kamailio, stunnel4 or sipp missing (scripts/deps-bench.sh installs them; make bench runs it)"
else
	kmods=$(dirname "$(find /usr/lib -path '*kamailio/modules/tls.so' 2>/dev/null | head -1)")
	kport=$(port)
	mkdir -p krun
	# The TLS side mirrors the call manager's: TLS 1.2, its ECDSA certificate, the
	# peers verified against callmanager_trust both ways (mutual TLS in and out).
	cat >tls.cfg <<TLS
[server:default]
method = TLSv1.2
verify_certificate = yes
require_certificate = yes
private_key = $tmp/cm/CallManager-ECDSA.key
certificate = $tmp/cm/CallManager-ECDSA.pem
ca_list = $tmp/cm-trust.pem

[client:default]
method = TLSv1.2
verify_certificate = yes
require_certificate = yes
private_key = $tmp/cm/CallManager-ECDSA.key
certificate = $tmp/cm/CallManager-ECDSA.pem
ca_list = $tmp/cm-trust.pem
TLS
	cat >kamailio.cfg <<KCFG
#!KAMAILIO
# bench_calls: Kamailio as a stateful TLS proxy in front of the same UAS as ngvoice's trunk.
debug=0
log_stderror=yes
memdbg=5
memlog=5
fork=yes
children=1
tcp_children=1
disable_tcp=no
enable_tls=yes
listen=tls:127.0.0.1:$kport
auto_aliases=no
dns=no
rev_dns=no
use_dns_cache=off
tcp_connection_lifetime=600
mpath="$kmods/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "tls.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
modparam("tls", "config", "$tmp/tls.cfg")

request_route {
	if (!mf_process_maxfwd_header("10")) {
		sl_send_reply("483", "Too Many Hops");
		exit;
	}
	if (has_totag()) {
		# In dialog. ngv-testua, like every UA on lib/sip, does not copy
		# Record-Route into its 2xx (RFC 3261 12.1.1), so the caller's ACK
		# and BYE come without a Route to this proxy: relay them by the
		# Request-URI (the UAS's Contact) as a proxy without a route set does.
		if (loose_route() || !uri == myself) {
			t_relay();
			exit;
		}
		if (is_method("ACK")) {
			if (t_check_trans())
				t_relay();
			exit;
		}
		sl_send_reply("404", "Not here");
		exit;
	}
	if (is_method("CANCEL")) {
		if (t_check_trans())
			t_relay();
		exit;
	}
	# ngvoice takes a call only from its trunk's far end: its address and the
	# X.509 subject name of the trunk's security profile.
	if (\$si != "127.0.0.1" || \$tls_peer_subject_cn != "cuc.ngvoice.localhost") {
		sl_send_reply("403", "Not a known trunk");
		exit;
	}
	# The route pattern 2000, to the trunk's destination over TLS.
	if (is_method("INVITE") && \$rU == "2000") {
		record_route();
		\$ru = "sip:" + \$rU + "@127.0.0.1:$uas;transport=tls";
		t_relay();
		exit;
	}
	sl_send_reply("404", "No route for the dialled number");
}
KCFG
	"${pin1[@]}" kamailio -f kamailio.cfg -DD -E -x tlsf -X tlsf -m 2048 -M 64 \
		-Y "$tmp/krun" -w "$tmp/krun" >kam.log 2>&1 &
	kpid=$!
	pids+=("$kpid")
	for _ in $(seq 1 50); do
		[ -n "$(pgrep -P $kpid 2>/dev/null)" ] && [ "$(pgrep -P $kpid | wc -l)" -ge 3 ] && break
		sleep 0.1
	done
	sleep 0.5
	if ! kill -0 $kpid 2>/dev/null; then
		echo "bench_calls: kamailio did not start" >&2
		tail -20 kam.log >&2
		exit 1
	fi
	kpids() { echo $kpid $(pgrep -P $kpid); }

	# stunnel: sipp's TCP into TLS 1.2 with the trunk peer's certificate, checking the
	# server's name as ngvoice's trunk peer would; no tickets, one connection per sipp.
	stunnel_up() { # name server-port; sets st_port
		local lp
		lp=$(port)
		cat >"st-$1.conf" <<ST
foreground = yes
pid =
debug = 3
output = $tmp/st-$1.log
[sip]
client = yes
accept = 127.0.0.1:$lp
connect = 127.0.0.1:$2
cert = $tmp/vm/tomcat-ECDSA.pem
key = $tmp/vm/tomcat-ECDSA.key
CAfile = $tmp/vm-trust.pem
verifyChain = yes
checkHost = cucm.ngvoice.localhost
sslVersion = TLSv1.2
options = NO_TICKET
ST
		"${pin0[@]}" stunnel "st-$1.conf" >/dev/null 2>&1 &
		pids+=("$!")
		for _ in $(seq 1 50); do
			python3 -c "import socket; socket.create_connection(('127.0.0.1',$lp),0.2).close()" 2>/dev/null && break
			sleep 0.1
		done
		st_port=$lp
	}
	stunnel_up ngv "$tls"
	st_ngv=$st_port
	stunnel_up kam "$kport"
	st_kam=$st_port

	# One call: INVITE with SDP, 100/180/200, ACK, BYE, 200, the in-dialog requests
	# following Record-Route and the 200's Contact as a UA does.
	cat >uac.xml <<'XML'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bench_calls uac">
  <send retrans="500">
    <![CDATA[
INVITE sip:[service]@127.0.0.1:[server_port];transport=tls SIP/2.0
Via: SIP/2.0/TLS [local_ip]:[local_port];branch=[branch];rport
Max-Forwards: 70
From: "bench" <sip:bench@cuc.ngvoice.localhost>;tag=[pid]SIPp[call_number]
To: <sip:[service]@127.0.0.1:[server_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:bench@[local_ip]:[local_port];transport=tls>
Content-Type: application/sdp
Content-Length: [len]

v=0
o=bench 1 1 IN IP4 127.0.0.1
s=bench
c=IN IP4 127.0.0.1
t=0 0
m=audio 40002 RTP/AVP 0
a=rtpmap:0 PCMU/8000
a=sendrecv

    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rrs="true"/>
  <send>
    <![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/TLS [local_ip]:[local_port];branch=[branch];rport
Max-Forwards: 70
From: "bench" <sip:bench@cuc.ngvoice.localhost>;tag=[pid]SIPp[call_number]
To: <sip:[service]@127.0.0.1:[server_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
[routes]
Content-Length: 0

    ]]>
  </send>
  <send retrans="500">
    <![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/TLS [local_ip]:[local_port];branch=[branch];rport
Max-Forwards: 70
From: "bench" <sip:bench@cuc.ngvoice.localhost>;tag=[pid]SIPp[call_number]
To: <sip:[service]@127.0.0.1:[server_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 2 BYE
[routes]
Content-Length: 0

    ]]>
  </send>
  <recv response="200" crlf="true"/>
</scenario>
XML

	# One run: $2 calls/s for $secs s into server $1; prints "us_per_call ok failed cps".
	run_fixed() {
		local srv=$1 rate=$2 n lp sport c0 c1 t0 t1 ok fail plist
		n=$((rate * secs))
		if [ "$srv" = ngv ]; then
			lp=$st_ngv; sport=$tls; plist=$cmpid
		else
			lp=$st_kam; sport=$kport; plist=$(kpids)
		fi
		c0=$(cpu_ns $plist)
		t0=$(date +%s%N)
		timeout $((secs * 4 + 30)) "${pin0[@]}" sipp 127.0.0.1:"$lp" -sf uac.xml -t t1 \
			-s 2000 -key server_port "$sport" -i 127.0.0.1 -p "$(port)" \
			-r "$rate" -rp 1000 -m "$n" -l $((rate * 2)) -nostdin -aa \
			-timeout $((secs * 4 + 20)) -trace_stat -stf "sipp-$srv.csv" \
			>"sipp-$srv.out" 2>"sipp-$srv.err" </dev/null || true
		t1=$(date +%s%N)
		c1=$(cpu_ns $plist)
		# The last line of the statistics file: the cumulative counters.
		ok=$(awk -F';' 'NR==1{for(i=1;i<=NF;i++) if($i=="SuccessfulCall(C)") s=i; next}
			{v=$s} END{print v+0}' "sipp-$srv.csv" 2>/dev/null || echo 0)
		fail=$(awk -F';' 'NR==1{for(i=1;i<=NF;i++) if($i=="FailedCall(C)") s=i; next}
			{v=$s} END{print v+0}' "sipp-$srv.csv" 2>/dev/null || echo 0)
		rm -f "sipp-$srv.csv"
		if [ "${ok:-0}" -eq 0 ]; then
			echo "bench_calls: no call completed through $srv at $rate/s" >&2
			tail -5 "sipp-$srv.err" >&2 || true
			echo "null 0 $n null"
			return
		fi
		awk -v c=$((c1 - c0)) -v n="$ok" -v f="$fail" -v t=$((t1 - t0)) \
			'BEGIN{printf "%.1f %d %d %.0f\n", c/n/1000, n, f, n/(t/1e9)}'
	}
	# Warm both paths up (connections, caches, allocators) before measuring.
	run_fixed ngv 200 >/dev/null
	run_fixed kam 200 >/dev/null
	for rate in $rates; do
		: >"ngv-$rate.txt"
		: >"kam-$rate.txt"
		: >"ratio-$rate.txt"
		for r in $(seq 1 $kreps); do
			# Alternate which server goes first, so that drift touches both alike.
			if [ $((r % 2)) = 1 ]; then order="ngv kam"; else order="kam ngv"; fi
			for s in $order; do
				run_fixed "$s" "$rate" >>"$s-$rate.txt"
				echo "bench_calls: $s at $rate/s run $r: $(tail -1 "$s-$rate.txt")" >&2
			done
			paste -d' ' <(tail -1 "ngv-$rate.txt") <(tail -1 "kam-$rate.txt") |
				awk '$1!="null" && $5!="null" && $3<=$2/100 && $7<=$6/100{printf "%.3f\n", $1/$5}' >>"ratio-$rate.txt"
		done
		# A run where more than 1% of the calls failed says that something broke or
		# the machine could not keep the rate: it is shown, not used for the figures.
		read -r nm nmin nmax < <(awk '$1!="null" && $3<=$2/100{print $1}' "ngv-$rate.txt" | stats)
		read -r km kmin kmax < <(awk '$1!="null" && $3<=$2/100{print $1}' "kam-$rate.txt" | stats)
		nbad=$(awk '$1=="null" || $3>$2/100' "ngv-$rate.txt" | wc -l)
		kbad=$(awk '$1=="null" || $3>$2/100' "kam-$rate.txt" | wc -l)
		read -r pm pmin pmax < <(stats %.2f <"ratio-$rate.txt")
		rmed=$(awk -v a="$nm" -v b="$km" 'BEGIN{if (a=="null"||b=="null"||b==0) print "null"; else printf "%.2f", a/b}')
		nok=$(awk '{s+=$2} END{print s+0}' "ngv-$rate.txt")
		nfail=$(awk '{s+=$3} END{print s+0}' "ngv-$rate.txt")
		kok=$(awk '{s+=$2} END{print s+0}' "kam-$rate.txt")
		kfail=$(awk '{s+=$3} END{print s+0}' "kam-$rate.txt")
		fixed+=("$rate $nm $nmin $nmax $km $kmin $kmax $rmed $pmin $pmax $pm $nok $nfail $kok $kfail $nbad $kbad")
	done
	kver=$(kamailio -v 2>/dev/null | sed -n 's/^version: kamailio \([^ ]*\).*/\1/p')
	# Proportional set size: shared memory split among the processes that map it.
	krss=$(for p in $(kpids); do awk '/^Pss:/{print $2}' /proc/$p/smaps_rollup 2>/dev/null; done | awk '{s+=$1} END{print s+0}')
	kwarn=$(grep -c -i 'error' kam.log || true)
	if [ "${kwarn:-0}" -gt 0 ]; then
		echo "bench_calls: kamailio logged errors, the first ones:" >&2
		grep -i 'error' kam.log | head -5 >&2
	fi
fi
rss=$(awk '/VmHWM/{print $2}' "/proc/$cmpid/status")
loglines=$(wc -l <cm.log)

echo "bench_calls ($([ $smoke = 1 ] && echo smoke || echo full)): call manager on CPU 1, load generators and the UAS on CPU 0; every leg mutual TLS 1.2 (ECDHE-ECDSA P-256)"
echo
echo "Closed loop: ngv-testua makes $calls calls x $reps runs, $par at a time, one TLS connection per leg."
echo
echo "| figure | value |"
echo "|---|---:|"
echo "| call manager CPU per call (median; min-max $min-$max) | $us µs |"
echo "| calls completed per second (load generator bound) | $cps |"
echo "| completed calls in the median run | $ok of $calls |"
echo
if [ ${#fixed[@]} -gt 0 ]; then
	echo "Fixed rate, same run: sipp (uac, one TCP connection) through stunnel (one TLS connection) into each server for $secs s per run, $kreps runs per server and rate, the servers alternating; both relay to the same ngv-testua UAS over TLS. Kamailio $kver: stateful proxy (t_relay, record_route), tcp_children=1, -x tlsf -X tlsf -m 2048, all its processes counted."
	echo
	echo "| calls/s | ngvoice CPU µs/call (median; min-max) | Kamailio CPU µs/call (median; min-max) | ngvoice / Kamailio (ratio of medians; per-pair min-max) | calls ok / failed (ngvoice; Kamailio) | runs left out (ngvoice; Kamailio) |"
	echo "|---:|---:|---:|---:|---|---|"
	for f in "${fixed[@]}"; do
		read -r rate nm nmin nmax km kmin kmax rmed pmin pmax pm nok nfail kok kfail nbad kbad <<<"$f"
		echo "| $rate | $nm ($nmin-$nmax) | $km ($kmin-$kmax) | $rmed ($pmin-$pmax) | $nok / $nfail; $kok / $kfail | $nbad; $kbad |"
	done
	echo
	echo "A run where more than 1% of the calls failed is left out of the figures (and of the pairs). Kamailio memory at the end: ${krss:-?} kB PSS over all its processes; lines with 'error' in its log: ${kwarn:-0}."
else
	echo "${kam_note}. Published reference: Kamailio 5.6 stateful TLS proxy, 137 µs per call at 3,000 calls/s on this kind of machine (real-clients.md; TCP out, not measured in this run)."
fi
echo
echo "call manager peak RSS ${rss:-?} kB (it keeps each call's INVITE transactions 32 s after the 2xx, RFC 6026 Timers L and M; see bench_cm_mem); its log has $loglines lines. CPU from /proc/PID/task/*/schedstat of the servers only; each call is INVITE, 100, 180, 200, ACK and BYE, 200 (on both legs of the B2BUA)."
if [ -n "$json" ]; then
	{
		printf '{"calls": %s, "reps": %s, "cm_cpu_us_per_call": {"median": %s, "min": %s, "max": %s}, "calls_per_second": %s, "cm_peak_rss_kb": %s, "reference_published_kamailio_us_per_call": 137,\n' \
			"$calls" "$reps" "$us" "$min" "$max" "$cps" "${rss:-0}"
		printf ' "fixed_rate": ['
		n=0
		for f in "${fixed[@]:-}"; do
			[ -n "$f" ] || continue
			read -r rate nm nmin nmax km kmin kmax rmed pmin pmax pm nok nfail kok kfail nbad kbad <<<"$f"
			[ $n -gt 0 ] && printf ','
			n=$((n + 1))
			printf '\n  {"calls_per_second": %s, "seconds": %s, "reps": %s, "ngvoice_us_per_call": {"median": %s, "min": %s, "max": %s}, "kamailio_us_per_call": {"median": %s, "min": %s, "max": %s}, "ratio_ngvoice_kamailio": {"of_medians": %s, "pair_median": %s, "pair_min": %s, "pair_max": %s}, "ngvoice_calls_ok": %s, "ngvoice_calls_failed": %s, "kamailio_calls_ok": %s, "kamailio_calls_failed": %s, "ngvoice_runs_left_out": %s, "kamailio_runs_left_out": %s}' \
				"$rate" "$secs" "$kreps" "$nm" "$nmin" "$nmax" "$km" "$kmin" "$kmax" "$rmed" "$pm" "$pmin" "$pmax" "$nok" "$nfail" "$kok" "$kfail" "$nbad" "$kbad"
		done
		printf '],\n "kamailio_version": "%s", "kamailio_pss_kb": %s, "note": "%s"}\n' "${kver:-}" "${krss:-null}" "${kam_note:-}"
	} >"$json"
fi
