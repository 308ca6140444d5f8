#!/usr/bin/env bash
# Interop, the guide end to end with a real phone: baresip registers with
# `ngvoice callmanager` over mutual TLS, presses Messages (2000) and reaches
# `ngvoice voicemail` over the secure trunk CUCv11 with SRTP: what baresip
# hears must be the opening greeting. Then it calls 1002, who forwards all
# calls to voicemail: 1002's greeting plays and what baresip says is stored in
# mailbox 1002, and the lamp (MWI) goes on at the call manager.
# usage: baresip_vm.sh NGVOICE WAVCORR PROMPTS_DIR [SRTP_OPTION]
NGV=$1
WAVCORR=$2
PROMPTS=$3
SRTP=${4:-all}
. "$(dirname "$0")/lib.sh"
command -v baresip >/dev/null || { echo "baresip not installed (scripts/deps.sh)" >&2; exit 1; }
command -v sox >/dev/null || { echo "sox not installed (scripts/deps.sh)" >&2; exit 1; }
[ -f "$PROMPTS/opening_greeting.wav" ] || { echo "no prompts in $PROMPTS (build them)" >&2; exit 1; }

cd "$TMP"
[ -n "${KEEP:-}" ] && trap - EXIT && echo "keeping $TMP" >&2
"$NGV" cert generate --role callmanager --cn cucm.ngvoice.localhost --out cm >/dev/null 2>&1
"$NGV" cert generate --role callmanager-ecdsa --cn cucm-EC.ngvoice.localhost \
	--san cucm.ngvoice.localhost --out cm >/dev/null 2>&1
"$NGV" cert generate --role tomcat --cn cuc.ngvoice.localhost --out vm >/dev/null 2>&1
"$NGV" cert generate --role tomcat-ecdsa --cn cuc-EC.ngvoice.localhost \
	--san cuc.ngvoice.localhost --out vm >/dev/null 2>&1
openssl req -x509 -newkey ec:<(openssl ecparam -name prime256v1) -nodes \
	-keyout phone.key -out phone.crt -days 2 -subj "/CN=phone1001.ngvoice.localhost" \
	-addext "extendedKeyUsage=clientAuth,serverAuth" 2>/dev/null
cat phone.crt phone.key >phone.pem
cat vm/tomcat.pem vm/tomcat-ECDSA.pem phone.crt >callmanager-trust.pem
# the voicemail side trusts the call manager (third-party style upload)
cat cm/CallManager.pem cm/CallManager-ECDSA.pem >vm-callmanager-trust.pem

SIP=$(free_port)
TLS=$(free_port)
TFTP=$(free_port)
VMTLS=$(free_port)
VMSIP=$(free_port)
cat >cm.conf <<CONF
[enterprise]
host_name = cucm.ngvoice.localhost
digest_algorithms = MD5
sip_port = $SIP
sip_tls_port = $TLS
tftp_https_port = $TFTP
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
accept_replaces_header = yes
# SIP digest on the trunk: the voicemail server's MWI is challenged
enable_digest_authentication = yes
[application-user "CUCVM"]
digest_credentials = vm-digest-secret
[sip-profile "Standard SIP Profile For Cisco VVM"]
enable_options_ping = yes
options_ping_interval_out_of_service = 5
[sip-trunk "CUCv11"]
destination = 127.0.0.1:$VMTLS
sip_trunk_security_profile = cuc-secure-profile-EDCS
sip_profile = Standard SIP Profile For Cisco VVM
srtp_allowed = yes
redirecting_diversion_header_delivery_inbound = yes
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
[directory-number "1002"]
digest_password = other-secret
voice_mail_profile = VoiceMailProfile-8000
forward_all_to_voicemail = yes
CONF
# With the default option the voicemail server learns the call manager's
# certificates from the ITL (the guide's self-signed path); with the others
# from an uploaded CallManager-trust (the third-party CA path).
if [ "$SRTP" = all ]; then
	TRUST=""
	ITL="tftp_server = cucm.ngvoice.localhost
tftp_https_port = $TFTP"
else
	TRUST="callmanager_trust = vm-callmanager-trust.pem"
	ITL=""
fi
cat >vm.conf <<CONF
[general]
host_name = cuc.ngvoice.localhost
listen_address = 127.0.0.1
sip_tls_port = $VMTLS
sip_port = $VMSIP
srtp_ciphers = $SRTP
storage_path = $TMP/store
prompts_dir = $PROMPTS
control_socket = $TMP/vm.sock
[certificates]
tomcat = vm/tomcat.pem
tomcat_key = vm/tomcat.key
tomcat_ecdsa = vm/tomcat-ECDSA.pem
tomcat_ecdsa_key = vm/tomcat-ECDSA.key
$TRUST
[port-group "PhoneSystem-1"]
contact_line_name = 2000
ip_address_or_host_name = cucm.ngvoice.localhost
port = $TLS
authenticate_with_sip_server = yes
authentication_user_name = CUCVM
authentication_password = vm-digest-secret
$ITL
[ports "PhoneSystem-1"]
number_of_ports = 2
[mailbox "1002"]
owner_name = Bob Example
pin = 24680
CONF
dial() {
	local cmd="{\"command\":\"dial\",\"params\":\"sip:$1@127.0.0.1:$TLS\"}"
	exec 3<>/dev/tcp/127.0.0.1/$CTRL
	printf '%d:%s,' "${#cmd}" "$cmd" >&3
}
wait_log() { # FILE PATTERN SECONDS
	for i in $(seq 1 $(($3 * 10))); do
		grep -q "$2" "$1" && return 0
		sleep 0.1
	done
	return 1
}

chmod 600 cm.conf vm.conf
"$NGV" voicemail --check --config vm.conf
"$NGV" voicemail --config vm.conf >vm.log 2>&1 &
PIDS+=($!)
for i in $(seq 1 50); do
	grep -q "voicemail cuc.ngvoice.localhost: SIP" vm.log && break
	sleep 0.1
done
"$NGV" callmanager --config cm.conf >cm.log 2>&1 &
PIDS+=($!)
if [ "$SRTP" = all ]; then
	# The voicemail server started first: its ITL download failed. The
	# guide's Reset button fetches it now that the call manager serves it.
	grep -q "ITL download failed" vm.log || sleep 1
	for i in $(seq 1 50); do
		grep -q "TFTP HTTPS on" cm.log && break
		sleep 0.1
	done
	"$NGV" portgroup reset PhoneSystem-1 --config vm.conf >reset.out
	wait_log vm.log "port group PhoneSystem-1: ITL from https://cucm.ngvoice.localhost:$TFTP/ITLFile.tlv" 10 || {
		echo "FAIL no ITL after the port group reset" >&2
		cat reset.out vm.log >&2
		exit 1
	}
	ok "$(grep -o 'port group PhoneSystem-1: ITL from .*' vm.log | head -1)"
	"$NGV" status portgroups --config vm.conf >st.txt
	grep -q "ITL: fetched https://cucm.ngvoice.localhost:$TFTP/ITLFile.tlv, 3 records" st.txt || {
		echo "FAIL status portgroups" >&2; cat st.txt >&2; exit 1; }
fi
wait_log cm.log "trunk CUCv11: Full Service" 12 || {
	echo "FAIL trunk CUCv11 not in Full Service" >&2
	tail -n 20 cm.log vm.log >&2
	exit 1
}
ok "trunk CUCv11 to ngvoice voicemail: Full Service"

# What the phone says into the forwarded call: silence while the greeting
# and the beep play, then speech.
espeak-ng -v en-us -s 150 -w said.raw.wav \
	"This is a test message for Bob. Please call me back at extension one zero zero one." 2>/dev/null
sox said.raw.wav -r 8000 -c 1 -b 16 said.wav
sox -n -r 8000 -c 1 -b 16 lead.wav trim 0 16
sox lead.wav said.wav message.wav

CTRL=$(free_port)
BSIP=$(free_port)
mkdir -p bs dumps
cat >bs/config <<BSCONF
# baresip for the ngvoice voicemail interop test
sip_listen 127.0.0.1:$BSIP
sip_certificate $TMP/phone.pem
net_interface 127.0.0.1
dns_server 127.0.0.1:53
audio_player none,none
audio_source aufile,$TMP/message.wav
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module sndfile.so
snd_path $TMP/dumps
module srtp.so
module account.so
module menu.so
module ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:$CTRL
BSCONF
echo "<sip:1001@127.0.0.1:$TLS;transport=tls>;auth_pass=phone-secret;regint=600;mediaenc=srtp-mand;audio_codecs=pcmu" >bs/accounts
timeout 90 baresip -4 -f "$TMP/bs" -t 80 </dev/null >bs.log 2>&1 &
PIDS+=($!)
for i in $(seq 1 100); do
	grep -q "line 1001 registered" cm.log && break
	sleep 0.1
done
grep -q "line 1001 registered" cm.log || { echo "FAIL baresip did not register" >&2; tail -n 20 cm.log bs.log >&2; exit 1; }
ok "baresip registered line 1001 over TLS"

# 1. Messages: the opening greeting, over SRTP.
dial 2000
if [ "$SRTP" != all ]; then
	# baresip offers only AES_CM_128_HMAC_SHA1_80: a GCM-only option
	# refuses it with 488 and says why.
	wait_log vm.log "488 Not Acceptable Here: no acceptable SRTP suite" 20 || {
		echo "FAIL SRTP Ciphers $SRTP did not refuse AES_CM_128_HMAC_SHA1_80" >&2
		tail -n 20 vm.log cm.log >&2
		exit 1
	}
	ok "SRTP Ciphers $SRTP: $(grep -o '488 Not Acceptable Here: .*' vm.log | head -1)"
	exit 0
fi
wait_log vm.log "call 1: ended" 30 || { echo "FAIL call 1 did not end" >&2; tail -n 30 vm.log cm.log bs.log >&2; exit 1; }
exec 3>&-
grep -q "call 1: direct call from 1001: opening greeting" vm.log || { echo "FAIL no opening greeting" >&2; cat vm.log >&2; exit 1; }
suite=$(grep -o "call 1 (Call-ID [^)]*): from 1001.*" vm.log | grep -o "SRTP [A-Z0-9_]*" | head -1)
[ -n "$suite" ] || { echo "FAIL call 1 without SRTP" >&2; cat vm.log >&2; exit 1; }
ok "1001 pressed Messages: voicemail answered over $(grep -o 'TLSv1.2 [A-Z0-9-]*' vm.log | head -1), $suite"
grep -q "security Encrypted" cm.log || { echo "FAIL the call manager did not see an Encrypted call" >&2; cat cm.log >&2; exit 1; }
ok "the call manager shows the call Encrypted (padlock)"
heard=$(ls -t dumps/*dec*.wav 2>/dev/null | tail -1)
[ -n "$heard" ] || { echo "FAIL baresip recorded nothing" >&2; ls dumps >&2; exit 1; }
pos=$("$WAVCORR" "$heard" "$PROMPTS/opening_greeting.wav")
neg=$("$WAVCORR" "$heard" "$PROMPTS/message_menu.wav")
pc=$(sed 's/corr=\([-0-9.]*\).*/\1/' <<<"$pos")
nc=$(sed 's/corr=\([-0-9.]*\).*/\1/' <<<"$neg")
awk -v p="$pc" -v n="$nc" 'BEGIN { exit !(p >= 0.8 && p > n + 0.1) }' || {
	echo "FAIL what baresip heard is not the opening greeting: $pos (another prompt: $neg)" >&2
	exit 1
}
ok "baresip heard the opening greeting ($pos; another prompt: corr=$nc)"

# 2. 1002 forwards all calls: its greeting, the beep, and a message.
dial 1002
wait_log vm.log "call 2: ended" 40 || { echo "FAIL call 2 did not end" >&2; tail -n 30 vm.log cm.log bs.log >&2; exit 1; }
exec 3>&-
grep -q "call 2: forwarded for 1002 (unconditional): greeting" vm.log || { echo "FAIL call 2 not treated as forwarded" >&2; cat vm.log >&2; exit 1; }
grep -q "message [0-9]* left in mailbox 1002 by 1001" vm.log || { echo "FAIL no message stored" >&2; cat vm.log >&2; exit 1; }
ok "$(grep -o 'message [0-9]* left in mailbox 1002 by 1001.*' vm.log | head -1)"
msg=$(ls store/messages/1002/*.wav | head -1)
got=$("$WAVCORR" "$msg" said.wav)
gc=$(sed 's/corr=\([-0-9.]*\).*/\1/' <<<"$got")
awk -v p="$gc" 'BEGIN { exit !(p >= 0.8) }' || { echo "FAIL the stored message is not what baresip said: $got" >&2; exit 1; }
ok "the stored message is what baresip said ($got)"
wait_log vm.log "mwi: mailbox 1002 lamp on" 10 || { echo "FAIL no MWI" >&2; cat vm.log >&2; exit 1; }
ok "$(grep -o 'mwi: mailbox 1002 lamp on.*' vm.log | head -1)"
grep -q "trunk CUCv11: NOTIFY from 127.0.0.1:[0-9]* challenged (digest authentication)" cm.log || {
	echo "FAIL the MWI NOTIFY was not challenged" >&2; cat cm.log >&2; exit 1; }
ok "the MWI NOTIFY was challenged and answered with the port group's credentials (application user CUCVM)"

"$NGV" status mailboxes --config vm.conf >st.txt
grep -Eq "^1002 +Bob Example +1 +0  on" st.txt || { echo "FAIL status mailboxes" >&2; cat st.txt >&2; exit 1; }
"$NGV" status ports --json --config vm.conf >st.json
grep -q '"port_group":"PhoneSystem-1","port":1,"calls":2,"state":"idle"' st.json || { echo "FAIL status ports" >&2; cat st.json >&2; exit 1; }
ok "ngvoice status: mailbox 1002 has 1 new message, lamp on; ports idle"
