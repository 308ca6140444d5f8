#!/usr/bin/env bash
# Interop: a real phone (baresip) registers with `ngvoice callmanager` over mutual TLS
# with digest, presses Messages (dials the voicemail pilot 2000) and reaches the
# voicemail side (ngv-testua on the trunk) over the secure trunk CUCv11.
# usage: baresip_cm.sh NGVOICE TESTUA
NGV=$1
TESTUA=$2
. "$(dirname "$0")/lib.sh"
if ! command -v baresip >/dev/null; then
	echo "baresip not installed (package baresip-core; scripts/deps.sh installs it)" >&2
	exit 1
fi

cd "$TMP"
"$NGV" cert generate --role callmanager --cn cucm.ngvoice.localhost --out cm >/dev/null 2>&1
"$NGV" cert generate --role callmanager-ecdsa --cn cucm-EC.ngvoice.localhost \
	--san cucm.ngvoice.localhost --out cm >/dev/null 2>&1
"$NGV" cert generate --role tomcat --cn cuc.ngvoice.localhost --out vm >/dev/null 2>&1
# the phone: one PEM with certificate and key, as baresip wants it
openssl req -x509 -newkey ec:<(openssl ecparam -name prime256v1) -nodes \
	-keyout phone.key -out phone.crt -days 2 -subj "/CN=phone1001.ngvoice.localhost" \
	-addext "extendedKeyUsage=clientAuth,serverAuth" 2>/dev/null
cat phone.crt phone.key >phone.pem
cat vm/tomcat.pem phone.crt >callmanager-trust.pem
cat cm/CallManager.pem cm/CallManager-ECDSA.pem >vm-trust.pem

# the voicemail side: answers OPTIONS and INVITE on TLS with the tomcat identity
start_testua --tls 127.0.0.1:0 --cert vm/tomcat.pem --key vm/tomcat.key --ca vm-trust.pem
VM=$UA_TLS

SIP=$(free_port)
TLS=$(free_port)
cat >cm.conf <<CONF
[enterprise]
host_name = cucm.ngvoice.localhost
# baresip (libre 1.1) knows only MD5 and gives up when any challenge names
# another algorithm (ENOSYS), as some phones do: offer MD5 alone for it.
digest_algorithms = MD5
sip_port = $SIP
sip_tls_port = $TLS
control_socket = $TMP/cm.sock
[certificates]
callmanager = cm/CallManager.pem
callmanager_key = cm/CallManager.key
callmanager_ecdsa = cm/CallManager-ECDSA.pem
callmanager_ecdsa_key = cm/CallManager-ECDSA.key
callmanager_trust = callmanager-trust.pem
[sip-trunk-security-profile "cuc-secure-profile-EDCS"]
device_security_mode = Encrypted
x509_subject_name = cuc.ngvoice.localhost
incoming_port = 5061
accept_unsolicited_notification = yes
[sip-profile "Standard SIP Profile For Cisco VVM"]
enable_options_ping = yes
[sip-trunk "CUCv11"]
destination = 127.0.0.1:$VM
sip_trunk_security_profile = cuc-secure-profile-EDCS
sip_profile = Standard SIP Profile For Cisco VVM
srtp_allowed = yes
redirecting_diversion_header_delivery_outbound = yes
[route-pattern "2000"]
gateway_or_route_list = CUCv11
[voicemail-pilot "2000"]
make_this_the_default = yes
[voicemail-profile "VoiceMailProfile-8000"]
voice_mail_pilot = 2000
make_this_the_default = yes
[directory-number "1001"]
digest_password = phone-secret
voice_mail_profile = VoiceMailProfile-8000
CONF
chmod 600 cm.conf
"$NGV" callmanager --check --config cm.conf
"$NGV" callmanager --config cm.conf >cm.log 2>&1 &
PIDS+=($!)
for i in $(seq 1 50); do
	grep -q "trunk CUCv11: Full Service" cm.log && break
	sleep 0.1
done
grep -q "trunk CUCv11: Full Service" cm.log || { echo "trunk not in Full Service" >&2; cat cm.log >&2; exit 1; }
echo "ok   trunk CUCv11: Full Service"

# baresip: TLS account on line 1001, control over TCP
CTRL=$(free_port)
BSIP=$(free_port)
mkdir -p bs
cat >bs/config <<BSCONF
# baresip for the ngvoice interop test
sip_listen 127.0.0.1:$BSIP
sip_certificate $TMP/phone.pem
net_interface 127.0.0.1
dns_server 127.0.0.1:53
audio_player none,none
audio_source ausine,440
module_path /usr/lib/baresip/modules
module g711.so
module ausine.so
module account.so
module menu.so
module ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:$CTRL
BSCONF
echo "<sip:1001@127.0.0.1:$TLS;transport=tls>;auth_pass=phone-secret;regint=600;answermode=auto;audio_codecs=pcmu" >bs/accounts
timeout 30 baresip -4 -f "$TMP/bs" -t 20 </dev/null >bs.log 2>&1 &
PIDS+=($!)
for i in $(seq 1 100); do
	grep -q "registered line 1001\|line 1001 registered" cm.log && break
	sleep 0.1
done
grep -q "line 1001 registered" cm.log || {
	echo "baresip did not register" >&2
	tail -n 20 cm.log bs.log >&2
	exit 1
}
echo "ok   baresip registered line 1001 over TLS with digest"

# press Messages: dial the pilot through the control socket (netstring JSON)
cmd="{\"command\":\"dial\",\"params\":\"sip:2000@127.0.0.1:$TLS\"}"
exec 3<>/dev/tcp/127.0.0.1/$CTRL
printf '%d:%s,' "${#cmd}" "$cmd" >&3
for i in $(seq 1 100); do
	grep -q "answered, security" cm.log && break
	sleep 0.1
done
exec 3>&-
grep -q "call [0-9]*: 1001 -> 2000 via trunk CUCv11 over TLS" cm.log &&
	grep -q "2000 via trunk CUCv11 answered" cm.log || {
	echo "the call to the pilot did not go through" >&2
	tail -n 30 cm.log >&2
	tail -n 30 bs.log >&2
	exit 1
}
echo "ok   baresip pressed Messages: $(grep -o 'call [0-9]*: 2000 via trunk CUCv11 answered.*' cm.log | head -1)"
grep -q "answered invites=" "$UA_OUT" || true

# the status a voice engineer reads, from the running daemon
"$NGV" status trunks --config cm.conf >st.txt
if grep -q "trunk CUCv11 (TLS): Full Service, Time In Full Service: 0 day 0 hour" st.txt &&
	grep -q "destination 127.0.0.1:$VM up, OPTIONS 200" st.txt; then
	echo "ok   ngvoice status trunks: $(head -1 st.txt)"
else
	echo "FAIL ngvoice status trunks:" >&2
	cat st.txt >&2
	exit 1
fi
"$NGV" status lines --config cm.conf >st.txt
grep -q "line 1001 (Encrypted): registered" st.txt || { echo "FAIL status lines" >&2; cat st.txt >&2; exit 1; }
"$NGV" status --json --config cm.conf >st.json
grep -q '"trunks":\[{"name":"CUCv11","status":"Full Service"' st.json || { echo "FAIL status --json" >&2; cat st.json >&2; exit 1; }
echo "ok   ngvoice status lines and --json"
