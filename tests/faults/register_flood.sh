#!/usr/bin/env bash
# Hostile input: N REGISTERs with wrong credentials from one source (sipp,
# UDP). The call manager must not grow, must log the source once per
# interval in a form fail2ban-style tools read ("authentication failure
# from <HOST>"), refuse it outright past the limit, and still register a
# legitimate phone from another address meanwhile.
# usage: register_flood.sh NGVOICE (FLOOD_COUNT=50000 by default)
NGV=$1
COUNT=${FLOOD_COUNT:-50000}
. "$(dirname "$0")/../interop/lib.sh"
need_sipp
cd "$TMP"
SIP=$(free_port)
cat >cm.conf <<CONF
[enterprise]
host_name = cucm.ngvoice.localhost
sip_port = $SIP
sip_tls_port = $(free_port)
tftp_https_port = $(free_port)
digest_algorithms = MD5
[directory-number "1001"]
digest_password = the-right-one
device_security_mode = Non Secure
CONF
chmod 600 cm.conf
# Under AddressSanitizer freed memory would sit in its quarantine and look
# like growth: give it back at once (no effect on other builds).
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0 \
	"$NGV" callmanager --config cm.conf >cm.log 2>&1 &
CM=$!
PIDS+=($CM)
for i in $(seq 1 50); do
	grep -q "callmanager cucm.ngvoice.localhost: SIP on" cm.log && break
	sleep 0.1
done
rss() { awk '/VmRSS/ {print $2}' /proc/"$CM"/status; }
cat >reg.xml <<'XML'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="register with credentials">
  <send retrans="500"><![CDATA[
      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:1001@[remote_ip]>;tag=[call_number]
      To: <sip:1001@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 1 REGISTER
      Contact: <sip:1001@[local_ip]:[local_port]>
      Max-Forwards: 70
      Expires: 60
      Content-Length: 0
    ]]></send>
  <recv response="401" auth="true" optional="true" next="auth"/>
  <recv response="403" next="done"/>
  <label id="auth"/>
  <send retrans="500"><![CDATA[
      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:1001@[remote_ip]>;tag=[call_number]
      To: <sip:1001@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 2 REGISTER
      Contact: <sip:1001@[local_ip]:[local_port]>
      [authentication]
      Max-Forwards: 70
      Expires: 60
      Content-Length: 0
    ]]></send>
  <recv response="200" optional="true" next="done"/>
  <recv response="403"/>
  <label id="done"/>
</scenario>
XML
# warm up, then measure
timeout 60 sipp -sf reg.xml "127.0.0.1:$SIP" -i 127.0.0.1 -p "$(free_port)" -t u1 \
	-au 1001 -ap wrong-password -m 200 -r 500 -nostdin >warm.out 2>&1 || true
flood() {
	timeout 600 sipp -sf reg.xml "127.0.0.1:$SIP" -i 127.0.0.1 -p "$(free_port)" -t u1 \
		-au 1001 -ap wrong-password -m "$1" -r 3000 -rate_max 3000 -nostdin \
		>>flood.out 2>&1 || true
}
# Each request leaves a server transaction for Timer J (64*T1 = 32 s, RFC
# 3261 17.2.2): memory follows the rate, then returns. So: two floods, each
# followed by Timer J; the second must not leave the daemon bigger than the
# first did (no leak, bounded state).
half=$((COUNT / 2))
start=$(date +%s)
flood "$half"
peak=$(rss)
sleep 34
first=$(rss)
flood "$half"
# the source is refused outright now
timeout 20 sipp -sf reg.xml "127.0.0.1:$SIP" -i 127.0.0.1 -p "$(free_port)" -t u1 \
	-au 1001 -ap the-right-one -m 1 -nostdin -trace_msg -message_file blocked.msg >blocked.out 2>&1 || true
grep -q "403 Too many authentication failures" blocked.msg || {
	echo "FAIL the flooding source was not refused outright" >&2
	tail -20 blocked.msg >&2
	exit 1
}
ok "the flooding source is refused outright now, even with the right password (403 Too many authentication failures)"
sleep 34
second=$(rss)
secs=$(( $(date +%s) - start ))
growth=$((second - first))
[ "$growth" -lt 1024 ] || {
	echo "FAIL the call manager kept growing: $first kB after the first flood, $second kB after the second" >&2
	exit 1
}
ok "$COUNT wrong REGISTERs (two floods of $half at 3000/s): RSS $first kB after the first, $second kB after the second (peak $peak kB while transactions lived)"
n=$(grep -c "ngvoice: authentication failure from 127.0.0.1" cm.log || true)
windows=$(( secs / 60 + 2 ))
[ "$n" -ge 1 ] && [ "$n" -le "$windows" ] || {
	echo "FAIL expected 1..$windows 'authentication failure from 127.0.0.1' lines, saw $n" >&2
	head -20 cm.log >&2
	exit 1
}
lines=$(wc -l <cm.log)
[ "$lines" -lt 100 ] || { echo "FAIL the log has $lines lines after the flood" >&2; exit 1; }
ok "logged $n time(s) for the source ($lines log lines in all): $(grep -m1 'authentication failure from' cm.log | sed 's/^[^ ]* //')"
# another source registers normally
timeout 20 sipp -sf reg.xml "127.0.0.1:$SIP" -i 127.0.0.2 -p "$(free_port)" -t u1 \
	-au 1001 -ap the-right-one -m 1 -nostdin -trace_msg -message_file legit.msg >legit.out 2>&1 || true
grep -q "SIP/2.0 200" legit.msg || { echo "FAIL a legitimate phone could not register" >&2; tail -30 legit.msg cm.log >&2; exit 1; }
ok "a phone at 127.0.0.2 registered meanwhile (200)"
