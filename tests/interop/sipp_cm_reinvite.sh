#!/usr/bin/env bash
# Interop: a re-INVITE through the call manager (a B2BUA): sipp, as a plain
# TCP trunk "PSTN", calls the pilot 2000; the call manager carries it over
# the TLS trunk CUCv11 to `ngvoice voicemail`; sipp's re-INVITE (new codec
# and port) is relayed to the voicemail server and its answer relayed back.
# Then a 302: sipp dials 3001 on a trunk whose far end redirects to 2000.
# usage: sipp_cm_reinvite.sh NGVOICE PROMPTS_DIR
NGV=$1
PROMPTS=$2
. "$(dirname "$0")/lib.sh"
need_sipp
SCEN="$(cd "$(dirname "$0")" && pwd)/sipp/vm_reinvite.xml"
cd "$TMP"
"$NGV" cert generate --role callmanager --cn cucm.ngvoice.localhost --out cm >/dev/null 2>&1
"$NGV" cert generate --role tomcat --cn cuc.ngvoice.localhost --out vm >/dev/null 2>&1
SIP=$(free_port)
TLS=$(free_port)
VMTLS=$(free_port)
SIPP=$(free_port)
REDIR=$(free_port)
cat >cm.conf <<CONF
[enterprise]
host_name = cucm.ngvoice.localhost
sip_port = $SIP
sip_tls_port = $TLS
tftp_https_port = $(free_port)
[certificates]
callmanager = cm/CallManager.pem
callmanager_key = cm/CallManager.key
callmanager_trust = vm/tomcat.pem
[sip-trunk-security-profile "cuc-secure-profile-EDCS"]
device_security_mode = Encrypted
x509_subject_name = cuc.ngvoice.localhost
incoming_port = 5061
accept_unsolicited_notification = yes
[sip-trunk-security-profile "pstn-profile"]
device_security_mode = Non Secure
incoming_transport_type = TCP
outgoing_transport_type = TCP
[sip-profile "vvm"]
enable_options_ping = yes
options_ping_interval_out_of_service = 1
[sip-trunk "CUCv11"]
destination = 127.0.0.1:$VMTLS
sip_trunk_security_profile = cuc-secure-profile-EDCS
sip_profile = vvm
redirecting_diversion_header_delivery_outbound = yes
[sip-trunk "PSTN"]
destination = 127.0.0.1:$SIPP
sip_trunk_security_profile = pstn-profile
[sip-trunk "REDIR"]
destination = 127.0.0.1:$REDIR
sip_trunk_security_profile = pstn-profile
[route-pattern "2000"]
gateway_or_route_list = CUCv11
[route-pattern "3XXX"]
gateway_or_route_list = REDIR
[voicemail-pilot "2000"]
[voicemail-profile "VoiceMailProfile-8000"]
voice_mail_pilot = 2000
CONF
cat >vm.conf <<CONF
[general]
host_name = cuc.ngvoice.localhost
sip_tls_port = $VMTLS
sip_port = $(free_port)
storage_path = $TMP/store
prompts_dir = $PROMPTS
[certificates]
tomcat = vm/tomcat.pem
tomcat_key = vm/tomcat.key
callmanager_trust = cm/CallManager.pem
[port-group "PhoneSystem-1"]
ip_address_or_host_name = cucm.ngvoice.localhost
port = $TLS
# sipp sends no SRTP: this port group takes plain RTP over the TLS trunk
secure_rtp = no
[ports "PhoneSystem-1"]
number_of_ports = 2
CONF
chmod 600 cm.conf vm.conf
"$NGV" voicemail --config vm.conf >vm.log 2>&1 &
PIDS+=($!)
"$NGV" callmanager --config cm.conf >cm.log 2>&1 &
PIDS+=($!)
for i in $(seq 1 100); do
	grep -q "trunk CUCv11: Full Service" cm.log && break
	sleep 0.1
done
grep -q "trunk CUCv11: Full Service" cm.log || { echo "FAIL trunk not in service" >&2; tail cm.log vm.log >&2; exit 1; }
timeout 60 sipp -sf "$SCEN" -s 2000 "127.0.0.1:$SIP" -i 127.0.0.1 -p "$SIPP" -t t1 \
	-m 2 -l 1 -nostdin -timeout 40s -timeout_error >sipp.out 2>&1 || {
	echo "FAIL sipp re-INVITE through the call manager" >&2
	tail -30 sipp.out cm.log vm.log >&2
	exit 1
}
n=$(grep -c "re-INVITE relayed, answered 200" cm.log || true)
v=$(grep -c "re-INVITE: new keys" vm.log || true)
[ "$n" = 2 ] && [ "$v" = 2 ] || {
	echo "FAIL expected 2 re-INVITEs relayed and answered (cm $n, vm $v)" >&2
	cat cm.log vm.log >&2
	exit 1
}
ok "2 calls through the call manager: re-INVITE relayed to the voicemail server and its answer (PCMA) relayed back"

# 302 Moved Temporarily from the far end of trunk REDIR: the call follows it.
cat >redir.xml <<'XML'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="redirect to the pilot">
  <recv request="INVITE"/>
  <send><![CDATA[
      SIP/2.0 302 Moved Temporarily
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:2000@[local_ip]:[local_port];transport=tcp>
      Content-Length: 0
    ]]></send>
  <recv request="ACK"/>
</scenario>
XML
timeout 30 sipp -sf redir.xml -i 127.0.0.1 -p "$REDIR" -t t1 -m 1 -nostdin >redir.out 2>&1 &
RPID=$!
PIDS+=($RPID)
sleep 0.5
timeout 60 sipp -sf "$SCEN" -s 3001 "127.0.0.1:$SIP" -i 127.0.0.1 -p "$SIPP" -t t1 \
	-m 1 -nostdin -timeout 40s -timeout_error >sipp2.out 2>&1 || {
	echo "FAIL the redirected call" >&2
	tail -30 sipp2.out redir.out cm.log >&2
	exit 1
}
grep -q "3001 via trunk REDIR redirected the call (302) to 2000" cm.log || { echo "FAIL no redirect in the log" >&2; cat cm.log >&2; exit 1; }
ok "a 302 from trunk REDIR was followed: 3001 -> 2000, answered by the voicemail server"
