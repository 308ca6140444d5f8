#!/usr/bin/env bash
# bench_cm_mem: memory of `ngvoice callmanager` per registered line and per active call.
# Each figure is the growth of the daemon's resident set (VmRSS) in a fresh process,
# divided by the number of lines or calls. Prints a markdown table; --json FILE writes it.
# Installed into BUILD/bench/ by CMake; needs BUILD/ngvoice, BUILD/bench/ngv-testua and sipp;
# the per-phone TLS connection case also needs stunnel4 (scripts/deps-bench.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
NGV=$here/../ngvoice
UA=$here/ngv-testua
smoke=0
json=
lines=
ncalls=
while [ $# -gt 0 ]; do
	case $1 in
	--smoke) smoke=1 ;;
	--json) json=$2; shift ;;
	--lines) lines=$2; shift ;;
	--calls) ncalls=$2; shift ;;
	*) echo "usage: bench_cm_mem [--smoke] [--json FILE] [--lines N] [--calls M]" >&2; exit 2 ;;
	esac
	shift
done
if [ $smoke = 1 ]; then
	lines=${lines:-50}; ncalls=${ncalls:-20}; hold=1500
else
	lines=${lines:-1000}; ncalls=${ncalls:-500}; hold=3000
fi
# Held calls come from sipp through stunnel at crate/s when stunnel is there (ngv-testua
# starts all its calls at once, and more than a few hundred INVITEs written in one go
# overflow its own TLS output queue); a smoke run uses ngv-testua.
crate=250
via_sipp=
[ $smoke = 0 ] && command -v stunnel >/dev/null && via_sipp=1
tmp=$(mktemp -d /tmp/ngv-bench-mem-XXXXXX)
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
pin0=()
pin1=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	pin0=(taskset -c 0)
	pin1=(taskset -c 1)
fi
rss_kb() { awk '/^VmRSS/{print $2}' "/proc/$1/status"; }
command -v sipp >/dev/null || { echo "bench_cm_mem: sipp is missing (scripts/deps.sh installs sip-tester)" >&2; exit 1; }

"$NGV" cert generate --role callmanager-ecdsa --cn cucm.ngvoice.localhost \
	--san cucm.ngvoice.localhost --out cm >/dev/null 2>&1
"$NGV" cert generate --role tomcat-ecdsa --cn cuc.ngvoice.localhost \
	--san cuc.ngvoice.localhost --out vm >/dev/null 2>&1
cp vm/tomcat-ECDSA.pem cm-trust.pem
cp cm/CallManager-ECDSA.pem vm-trust.pem

"${pin0[@]}" "$UA" --tls 127.0.0.1:0 --cert vm/tomcat-ECDSA.pem --key vm/tomcat-ECDSA.key \
	--ca vm-trust.pem >uas.out 2>uas.err &
pids+=("$!")
for _ in $(seq 1 50); do grep -q READY uas.out 2>/dev/null && break; sleep 0.1; done
uas=$(sed -n 's/.*tls=\([0-9]*\).*/\1/p' uas.out)

# N lines 10000.. with digest passwords (MD5 only: sipp knows no other algorithm). They are
# Non Secure so that one configuration serves TCP and TLS phones; a line's stored state
# does not depend on its mode.
echo SEQUENTIAL >users.csv
{
	for i in $(seq 0 $((lines - 1))); do
		n=$((10000 + i))
		printf '[directory-number "%s"]\ndigest_password = pw-%s\ndevice_security_mode = Non Secure\n' $n $n
		echo "$n;[authentication username=$n password=pw-$n]" >>users.csv
	done
} >lines.conf

# Starts a fresh call manager; sets cmpid, sip, tls.
cm_start() {
	sip=$(port)
	tls=$(port)
	cat >cm.conf <<CONF
[enterprise]
host_name = cucm.ngvoice.localhost
sip_port = $sip
sip_tls_port = $tls
tls_ciphers = All Ciphers ECDSA Preferred
digest_algorithms = MD5
control_socket = $tmp/cm.sock
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
	cat lines.conf >>cm.conf
	chmod 600 cm.conf
	"${pin1[@]}" "$NGV" callmanager --config cm.conf >"cm-$1.log" 2>&1 &
	cmpid=$!
	pids+=("$cmpid")
	for _ in $(seq 1 100); do grep -q "Full Service" "cm-$1.log" && break; sleep 0.1; done
	grep -q "Full Service" "cm-$1.log" || { echo "bench_cm_mem: trunk not up" >&2; tail "cm-$1.log" >&2; exit 1; }
	sleep 0.3
}
cm_stop() {
	kill "$cmpid" 2>/dev/null || true
	wait "$cmpid" 2>/dev/null || true
}

# A phone registering: REGISTER, 401, REGISTER with MD5 credentials, 200; then it stays
# (with its connection, over stunnel) for -d ms. -aa answers the MWI NOTIFY that the call
# manager sends to each new binding.
cat >reg.xml <<'XML'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bench_cm_mem register">
  <send retrans="500">
    <![CDATA[
REGISTER sip:127.0.0.1:[server_port] SIP/2.0
Via: SIP/2.0/[tp] [local_ip]:[local_port];branch=[branch];rport
Max-Forwards: 70
From: <sip:[field0]@127.0.0.1>;tag=[pid]R[call_number]
To: <sip:[field0]@127.0.0.1>
Call-ID: [call_id]
CSeq: 1 REGISTER
Contact: <sip:[field0]@[local_ip]:[local_port];transport=[tp]>
User-Agent: bench_cm_mem
Expires: 3600
Content-Length: 0

    ]]>
  </send>
  <recv response="401" auth="true"/>
  <send retrans="500">
    <![CDATA[
REGISTER sip:127.0.0.1:[server_port] SIP/2.0
Via: SIP/2.0/[tp] [local_ip]:[local_port];branch=[branch];rport
Max-Forwards: 70
From: <sip:[field0]@127.0.0.1>;tag=[pid]R[call_number]
To: <sip:[field0]@127.0.0.1>
Call-ID: [call_id]
CSeq: 2 REGISTER
Contact: <sip:[field0]@[local_ip]:[local_port];transport=[tp]>
[field1]
User-Agent: bench_cm_mem
Expires: 3600
Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
  <pause/>
</scenario>
XML

# Starts stunnel (client, mutual TLS with the trunk peer's certificate) to the call
# manager's TLS port; sets stpid and st_port.
stunnel_up() {
	local lp
	lp=$(port)
	cat >st.conf <<ST
foreground = yes
pid =
debug = 3
output = $tmp/st.log
[sip]
client = yes
accept = 127.0.0.1:$lp
connect = 127.0.0.1:$tls
cert = $tmp/vm/tomcat-ECDSA.pem
key = $tmp/vm/tomcat-ECDSA.key
CAfile = $tmp/vm-trust.pem
verifyChain = yes
checkHost = cucm.ngvoice.localhost
sslVersion = TLSv1.2
options = NO_TICKET
ST
	"${pin0[@]}" stunnel st.conf >/dev/null 2>&1 &
	stpid=$!
	pids+=("$stpid")
	for i in $(seq 1 50); do
		python3 -c "import socket; socket.create_connection(('127.0.0.1',$lp),0.2).close()" 2>/dev/null && break
		sleep 0.1
	done
	st_port=$lp
}
# A call held up for -d ms: INVITE, 100/180/200, ACK, (pause), BYE, 200.
cat >call.xml <<'XML'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bench_cm_mem call">
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
  <pause/>
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

# Registers every line; $1 = tcp (one connection for all) or tls (one TLS connection per
# phone through stunnel). Prints "kB_before kB_after registered".
reg_run() {
	local mode=$1 before after tgt sport rate hold_ms tmode
	cm_start "reg-$mode"
	before=$(rss_kb "$cmpid")
	if [ "$mode" = tcp ]; then
		tgt=127.0.0.1:$sip; sport=$sip; tmode=t1; rate=500; hold_ms=0
	else
		stunnel_up
		tgt=127.0.0.1:$st_port; sport=$tls; tmode=tn; rate=200
		hold_ms=$((lines * 1000 / rate + 15000))
	fi
	reg_sipp "$mode" "$tgt" "$sport" "$tmode" "$rate" "$hold_ms"
}
reg_sipp() {
	local mode=$1 tgt=$2 sport=$3 tmode=$4 rate=$5 hold_ms=$6 reg=0
	"${pin0[@]}" sipp "$tgt" -sf reg.xml -inf users.csv -t $tmode -max_socket $((lines + 50)) \
		-key server_port "$sport" -key tp "$( [ "$mode" = tcp ] && echo TCP || echo TLS)" \
		-i 127.0.0.1 -p "$(port)" -r $rate -m "$lines" -l "$lines" -d $hold_ms -aa -nostdin \
		-timeout $((hold_ms / 1000 + 60)) \
		>"sipp-reg-$mode.out" 2>"sipp-reg-$mode.err" </dev/null &
	local sp=$!
	pids+=("$sp")
	# Wait until every line is registered (the call manager logs each new binding), then
	# give the daemon a moment to finish the NOTIFYs.
	for _ in $(seq 1 $((lines / rate * 10 + 200))); do
		reg=$(grep -c "registrar: line .* registered" "cm-reg-$mode.log" || true)
		[ "$reg" -ge "$lines" ] && break
		if ! kill -0 $sp 2>/dev/null; then break; fi
		sleep 0.1
	done
	sleep 1.5
	after=$(rss_kb "$cmpid")
	kill $sp 2>/dev/null || true
	wait $sp 2>/dev/null || true
	[ "$mode" = tls ] && { kill "$stpid" 2>/dev/null || true; wait "$stpid" 2>/dev/null || true; }
	cm_stop
	echo "$before $after $reg"
}

# Holds M calls up at once through the trunk (ngv-testua as the trunk's two peers, as in
# bench_calls). Prints "kB_before kB_peak active_peak kB_after_hangup".
calls_run() {
	local before peak=0 active=0 r a after
	cm_start calls
	# A few calls first, so that both TLS connections and the allocator are set up.
	"${pin0[@]}" "$UA" --tls 127.0.0.1:0 --cert vm/tomcat-ECDSA.pem --key vm/tomcat-ECDSA.key \
		--ca vm-trust.pem --proto tls --hold 0 --parallel 2 --calls 10 \
		--call "sips:2000@127.0.0.1:$tls;transport=tls" >warm.out 2>warm.err || true
	sleep 0.5
	local up lp
	if [ -n "$via_sipp" ]; then
		stunnel_up
		lp=$st_port
		# The TLS connection from stunnel exists before the baseline.
		"${pin0[@]}" sipp 127.0.0.1:"$lp" -sf call.xml -t t1 -s 2000 -key server_port "$tls" \
			-i 127.0.0.1 -p "$(port)" -r 20 -m 10 -d 0 -nostdin -timeout 30 \
			>warm2.out 2>warm2.err </dev/null || true
		sleep 0.5
		before=$(rss_kb "$cmpid")
		# M calls at $crate/s, each held until the last one is up, plus $hold ms.
		"${pin0[@]}" sipp 127.0.0.1:"$lp" -sf call.xml -t t1 -s 2000 -key server_port "$tls" \
			-i 127.0.0.1 -p "$(port)" -r $crate -m "$ncalls" -l "$ncalls" \
			-d $((ncalls * 1000 / crate + hold)) -nostdin -timeout 120 \
			-trace_stat -stf hold.csv >hold.out 2>hold.err </dev/null &
		up=$!
	else
		before=$(rss_kb "$cmpid")
		"${pin0[@]}" "$UA" --tls 127.0.0.1:0 --cert vm/tomcat-ECDSA.pem --key vm/tomcat-ECDSA.key \
			--ca vm-trust.pem --proto tls --hold "$hold" --parallel "$ncalls" --calls "$ncalls" \
			--call "sips:2000@127.0.0.1:$tls;transport=tls" >hold.out 2>hold.err &
		up=$!
	fi
	pids+=("$up")
	while kill -0 $up 2>/dev/null; do
		r=$(rss_kb "$cmpid")
		[ "$r" -gt "$peak" ] && peak=$r
		a=$("$NGV" status calls --json --config cm.conf 2>/dev/null | grep -o '"state":"[a-z_]*"' | grep -c -i 'up\|connected' || true)
		[ "${a:-0}" -gt "$active" ] && active=$a
		sleep 0.2
	done
	wait $up 2>/dev/null || true
	sleep 0.5
	after=$(rss_kb "$cmpid")
	if [ -n "$via_sipp" ]; then
		okc=$(awk -F';' 'NR==1{for(i=1;i<=NF;i++) if($i=="SuccessfulCall(C)") s=i; next}
			{v=$s} END{print v+0}' hold.csv 2>/dev/null || echo 0)
		kill "$stpid" 2>/dev/null || true
		wait "$stpid" 2>/dev/null || true
	else
		okc=$(sed -n 's/calls ok=\([0-9]*\).*/\1/p' hold.out)
	fi
	cm_stop
	echo "$before $peak $active $after ${okc:-0}"
}

read -r t_before t_after t_reg <<<"$(reg_run tcp)"
tls_note=
if command -v stunnel >/dev/null && [ $smoke = 0 ]; then
	read -r s_before s_after s_reg <<<"$(reg_run tls)"
else
	tls_note="skipped (smoke run, or stunnel4 missing: scripts/deps-bench.sh)"
fi
read -r c_before c_peak c_active c_after c_ok <<<"$(calls_run)"

per() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN{if (n>0) printf "%.2f", (b-a)/n; else print "null"}'; }
t_per=$(per "$t_before" "$t_after" "$t_reg")
c_per=$(per "$c_before" "$c_peak" "$c_active")
s_per=null
[ -n "${s_reg:-}" ] && s_per=$(per "$s_before" "$s_after" "$s_reg")

echo "bench_cm_mem ($([ $smoke = 1 ] && echo smoke || echo full)): resident memory (VmRSS) of a fresh call manager (CPU 1) with $lines lines configured; peers on CPU 0"
echo
echo "| figure | per item | RSS before → after | items |"
echo "|---|---:|---:|---:|"
echo "| registered line, all lines over one TCP connection (registration state only) | $t_per kB | $t_before → $t_after kB | $t_reg lines |"
if [ -n "${s_reg:-}" ]; then
	echo "| registered line, each phone on its own mutual-TLS connection (stunnel) | $s_per kB | $s_before → $s_after kB | $s_reg lines |"
else
	echo "| registered line, each phone on its own mutual-TLS connection | $tls_note | - | - |"
fi
echo "| active call (connected, two TLS legs shared by all calls) | $c_per kB | $c_before → $c_peak kB (peak) | $c_active calls up at once ($c_ok of $ncalls completed) |"
echo
echo "Lines are counted from the call manager's 'registered' log lines, calls from \`ngvoice status calls\`. After the held calls hung up RSS was $c_after kB: freed memory stays with the allocator, so each case runs in its own process. The configuration of $lines lines is in the 'before' figure."
if [ -n "$json" ]; then
	printf '{"lines": %s, "calls": %s, "kb_per_line_one_connection": %s, "kb_per_line_tls_connection_each": %s, "kb_per_active_call": %s, "rss_kb": {"reg_tcp_before": %s, "reg_tcp_after": %s, "reg_tls_before": %s, "reg_tls_after": %s, "calls_before": %s, "calls_peak": %s, "calls_after_hangup": %s}, "registered_tcp": %s, "registered_tls": %s, "calls_up_peak": %s}\n' \
		"$lines" "$ncalls" "$t_per" "$s_per" "$c_per" "$t_before" "$t_after" "${s_before:-null}" "${s_after:-null}" "$c_before" "$c_peak" "$c_after" "$t_reg" "${s_reg:-null}" "$c_active" >"$json"
fi
