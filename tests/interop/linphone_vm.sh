#!/usr/bin/env bash
# Interop, a second real phone: linphonec (linphone-cli 5.1, mbedTLS) registers
# with `ngvoice callmanager` over mutual TLS with digest, verifying the call
# manager's certificate, and reaches `ngvoice voicemail` over the secure trunk
# CUCv11 with SRTP. With SRTP Ciphers "all" it presses Messages (2000), then
# calls 1002, who forwards all calls to voicemail, and leaves a message: it is
# stored, and the lamp (MWI) reaches line 1002, registered by the same
# linphonec. With a GCM-only option (linphone offers no AEAD suite) the call
# ends in a clean 488 and linphonec is not left hanging.
# usage: linphone_vm.sh NGVOICE WAVCORR PROMPTS_DIR [SRTP_OPTION]
NGV=$1
WAVCORR=$2
PROMPTS=$3
SRTP=${4:-all}
. "$(dirname "$0")/lib.sh"
command -v linphonec >/dev/null || { echo "linphonec not installed (package linphone-cli; scripts/deps.sh)" >&2; exit 1; }
command -v sox >/dev/null || { echo "sox not installed (scripts/deps.sh)" >&2; exit 1; }
command -v espeak-ng >/dev/null || { echo "espeak-ng not installed (scripts/deps.sh)" >&2; exit 1; }
[ -f "$PROMPTS/opening_greeting.wav" ] || { echo "no prompts in $PROMPTS (build them)" >&2; exit 1; }

cd "$TMP"
[ -n "${KEEP:-}" ] && trap - EXIT && echo "keeping $TMP" >&2
# linphonec verifies the server certificate and compares the name it
# connected to (127.0.0.1) with the SAN's DNS names as strings.
"$NGV" cert generate --role callmanager --cn cucm.ngvoice.localhost \
	--san cucm.ngvoice.localhost --san DNS:127.0.0.1 --san IP:127.0.0.1 \
	--out cm >/dev/null 2>&1
"$NGV" cert generate --role callmanager-ecdsa --cn cucm-EC.ngvoice.localhost \
	--san cucm.ngvoice.localhost --san DNS:127.0.0.1 --san IP:127.0.0.1 \
	--out cm >/dev/null 2>&1
"$NGV" cert generate --role tomcat --cn cuc.ngvoice.localhost --out vm >/dev/null 2>&1
"$NGV" cert generate --role tomcat-ecdsa --cn cuc-EC.ngvoice.localhost \
	--san cuc.ngvoice.localhost --out vm >/dev/null 2>&1
openssl req -x509 -newkey ec:<(openssl ecparam -name prime256v1) -nodes \
	-keyout phone.key -out phone.crt -days 2 -subj "/CN=linphone.ngvoice.localhost" \
	-addext "extendedKeyUsage=clientAuth,serverAuth" 2>/dev/null
cat vm/tomcat.pem vm/tomcat-ECDSA.pem phone.crt >callmanager-trust.pem
cat cm/CallManager.pem cm/CallManager-ECDSA.pem >cm-trust.pem

SIP=$(free_port)
TLS=$(free_port)
TFTP=$(free_port)
VMTLS=$(free_port)
VMSIP=$(free_port)
# digest_algorithms stays at its default (SHA-256, MD5): linphone answers the
# SHA-256 challenge.
cat >cm.conf <<CONF
[enterprise]
host_name = cucm.ngvoice.localhost
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
cat cm/CallManager.pem cm/CallManager-ECDSA.pem >vm-callmanager-trust.pem
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
callmanager_trust = vm-callmanager-trust.pem
[port-group "PhoneSystem-1"]
contact_line_name = 2000
ip_address_or_host_name = cucm.ngvoice.localhost
port = $TLS
[ports "PhoneSystem-1"]
number_of_ports = 2
[mailbox "1002"]
owner_name = Bob Example
pin = 24680
CONF
wait_log() { # FILE PATTERN SECONDS
	local i
	for i in $(seq 1 $(($3 * 10))); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
die() {
	echo "FAIL $1" >&2
	shift
	[ $# -gt 0 ] && tail -n 30 "$@" >&2
	exit 1
}

chmod 600 cm.conf vm.conf
"$NGV" voicemail --check --config vm.conf >/dev/null
"$NGV" voicemail --config vm.conf >vm.log 2>&1 &
PIDS+=($!)
wait_log vm.log "voicemail cuc.ngvoice.localhost: SIP" 5 || die "voicemail did not start" vm.log
"$NGV" callmanager --config cm.conf >cm.log 2>&1 &
PIDS+=($!)
wait_log cm.log "trunk CUCv11: Full Service" 12 || die "trunk CUCv11 not in Full Service" cm.log vm.log
ok "trunk CUCv11 to ngvoice voicemail: Full Service"

# What linphone says into the forwarded call: silence while 1002's greeting
# and the beep play, then speech.
espeak-ng -v en-us -s 150 -w said.raw.wav \
	"This is linphone leaving a message for Bob. Please call me back at extension one zero zero one." 2>/dev/null
sox said.raw.wav -r 8000 -c 1 -b 16 said.wav
sox -n -r 8000 -c 1 -b 16 lead.wav trim 0 16
sox lead.wav said.wav message.wav

# linphonec: HOME is a scratch directory (it writes databases and rewrites
# its rc); two accounts on the one TLS connection: 1001 (default, the
# caller) and 1002 (the mailbox owner, who gets the lamp). It cannot take
# incoming TLS connections, so its requests come over that connection.
RTP=$(free_port)
mkdir -p home/.local/share/linphone
cat >home/linphonerc <<RC
[sip]
sip_port=0
sip_tcp_port=0
sip_tls_port=-1
bind_address=127.0.0.1
use_ipv6=0
default_proxy=0
root_ca=$TMP/cm-trust.pem
verify_server_certs=1
verify_server_cn=1
client_cert_chain=$TMP/phone.crt
client_cert_key=$TMP/phone.key
media_encryption=srtp
media_encryption_mandatory=1
[rtp]
audio_rtp_port=$RTP
[sound]
echocancellation=0
[video]
enabled=0
capture=0
display=0
[proxy_0]
reg_proxy=<sip:127.0.0.1:$TLS;transport=tls>
reg_identity=sip:1001@127.0.0.1
reg_expires=600
reg_sendregister=1
publish=0
[proxy_1]
reg_proxy=<sip:127.0.0.1:$TLS;transport=tls>
reg_identity=sip:1002@127.0.0.1
reg_expires=600
reg_sendregister=1
publish=0
[auth_info_0]
username=1001
passwd=phone-secret
[auth_info_1]
username=1002
passwd=other-secret
RC
# Commands go in through a FIFO held open by this shell (fd 4), one at a
# time, as the test goes.
mkfifo lp.in
exec 4<>lp.in
HOME=$TMP/home timeout 120 linphonec -c "$TMP/home/linphonerc" -d 6 \
	-l "$TMP/linphone.log" <lp.in >linphone.out 2>&1 &
LP=$!
PIDS+=($LP)
lp() { echo "$*" >&4; }
lp "soundcard use files"

wait_log cm.log "line 1001 registered" 15 || die "linphonec did not register 1001" cm.log linphone.log
wait_log cm.log "line 1002 registered" 15 || die "linphonec did not register 1002" cm.log linphone.log
ok "$(grep -o 'registrar: line 1001 registered .*' cm.log | head -1)"
grep -q 'Authorization: *Digest .*algorithm=SHA-256' linphone.log &&
	ok "linphonec answered the SHA-256 digest challenge" ||
	bad "linphonec's Authorization is not SHA-256: $(grep -m1 'Authorization:' linphone.log)"
grep -q "Found certificate depth=\[0\]" linphone.log &&
	ok "linphonec verified the call manager's certificate (root_ca, DNS:127.0.0.1)" ||
	bad "linphonec did not verify the server certificate"

if [ "$SRTP" != all ]; then
	# linphone offers only AES_CM suites: a GCM-only option refuses it
	# with 488 and says why, and linphonec is told.
	lp "call sip:2000@127.0.0.1"
	wait_log vm.log "488 Not Acceptable Here: no acceptable SRTP suite" 20 ||
		die "SRTP Ciphers $SRTP did not refuse linphone's AES_CM offer" vm.log cm.log
	ok "SRTP Ciphers $SRTP: $(grep -o '488 Not Acceptable Here: .*' vm.log | head -1)"
	wait_log linphone.out "Call 1 with .* \(error\|ended\)" 15 ||
		die "linphonec was not told the call failed" linphone.out linphone.log
	ok "linphonec: $(grep -o 'Call 1 with .* \(error\|ended\).*' linphone.out | head -1)"
	grep -q "SIP/2.0 488" linphone.log ||
		bad "no 488 in linphonec's SIP trace"
	lp "quit"
	for i in $(seq 1 100); do
		kill -0 $LP 2>/dev/null || break
		sleep 0.1
	done
	kill -0 $LP 2>/dev/null && die "linphonec did not quit after the 488" linphone.out
	ok "linphonec quit by itself after the refused call"

	# linphonec really verifies: with a root_ca that does not hold the
	# call manager's certificate it never gets to register.
	mkdir -p home2/.local/share/linphone
	sed -e "s|^root_ca=.*|root_ca=$TMP/vm/tomcat.pem|" -e "s|^audio_rtp_port=.*|audio_rtp_port=$(free_port)|" \
		home/linphonerc >home2/linphonerc
	nreg=$(grep -c "line 1001 registered" cm.log)
	mkfifo lp2.in
	exec 5<>lp2.in
	HOME=$TMP/home2 timeout 60 linphonec -c "$TMP/home2/linphonerc" -d 6 \
		-l "$TMP/linphone2.log" <lp2.in >linphone2.out 2>&1 &
	LP2=$!
	PIDS+=($LP2)
	wait_log linphone2.log "SSL handshake failed\|Cannot connect to \[TLS" 15 ||
		bad "linphonec with the wrong root_ca did not fail its TLS handshake"
	echo quit >&5
	[ "$(grep -c "line 1001 registered" cm.log)" = "$nreg" ] &&
		ok "linphonec with a root_ca without the call manager's certificate: $(grep -o 'SSL handshake failed.*' linphone2.log | head -1)" ||
		bad "linphonec registered although it cannot trust the call manager"
	grep -q "TLS handshake failed: peer does not trust our certificate" cm.log &&
		ok "the call manager says why: $(grep -o 'peer does not trust our certificate.*' cm.log | head -1)" ||
		bad "the call manager did not log the refused handshake"
	for i in $(seq 1 100); do
		kill -0 $LP2 2>/dev/null || break
		sleep 0.1
	done
	"$NGV" status ports --json --config vm.conf >st.json
	grep -q '"calls":0,"state":"idle"' st.json || bad "voicemail ports not idle: $(cat st.json)"
	[ "$FAILS" = 0 ]
	exit
fi

# 1. Messages: the opening greeting, over SRTP with an AES_CM suite.
lp "record $TMP/heard.wav"
lp "call sip:2000@127.0.0.1"
wait_log vm.log "call 1: direct call from 1001: opening greeting" 20 ||
	die "call 1 did not reach the opening greeting" vm.log cm.log linphone.out
sleep 5
lp "terminate"
wait_log vm.log "call 1: ended" 15 || die "call 1 did not end" vm.log cm.log linphone.out
suite=$(grep -o "call 1 (Call-ID [^)]*): from 1001.*" vm.log | grep -o "SRTP [A-Z0-9_]*" | head -1)
[ -n "$suite" ] || die "call 1 without SRTP" vm.log
case $suite in
*AES_CM_128_HMAC_SHA1_*) ok "1001 pressed Messages: voicemail answered over $suite" ;;
*) bad "call 1: unexpected suite $suite" ;;
esac
grep -q "security Encrypted" cm.log && ok "the call manager shows the call Encrypted" ||
	bad "the call manager did not see an Encrypted call"
# linphonec records what it hears from the answer on: the greeting's first
# 3 s must be in it (the needle must fit in the recording), and another
# prompt must not.
if [ -s heard.wav ]; then
	sox "$PROMPTS/opening_greeting.wav" greeting3.wav trim 0 3
	sox "$PROMPTS/message_menu.wav" menu3.wav trim 0 3
	pos=$("$WAVCORR" heard.wav greeting3.wav)
	neg=$("$WAVCORR" heard.wav menu3.wav)
	pc=$(sed 's/corr=\([-0-9.]*\).*/\1/' <<<"$pos")
	nc=$(sed 's/corr=\([-0-9.]*\).*/\1/' <<<"$neg")
	awk -v p="$pc" -v n="$nc" 'BEGIN { exit !(p >= 0.8 && p > n + 0.1) }' &&
		ok "linphonec heard the opening greeting ($pos; another prompt: corr=$nc)" ||
		bad "what linphonec heard is not the opening greeting: $pos (another prompt: $neg)"
else
	bad "linphonec recorded nothing"
fi

# 2. 1002 forwards all calls: its greeting, the beep, and a message.
lp "record $TMP/heard2.wav"
lp "play $TMP/message.wav"
lp "call sip:1002@127.0.0.1"
wait_log vm.log "call 2: forwarded for 1002 (unconditional): greeting" 20 ||
	die "call 2 not treated as forwarded" vm.log cm.log linphone.out
wait_log vm.log "call 2: ended" 60 || die "call 2 did not end" vm.log cm.log linphone.out
lp "terminate"
wait_log vm.log "message [0-9]* left in mailbox 1002 by 1001" 5 || die "no message stored" vm.log
ok "$(grep -o 'message [0-9]* left in mailbox 1002 by 1001.*' vm.log | head -1)"
msg=$(ls store/messages/1002/*.wav | head -1)
# The recorder trims the trailing silence: compare the first 5 s of speech.
sox said.wav said5.wav trim 0 5
got=$("$WAVCORR" "$msg" said5.wav)
gc=$(sed 's/corr=\([-0-9.]*\).*/\1/' <<<"$got")
awk -v p="$gc" 'BEGIN { exit !(p >= 0.8) }' &&
	ok "the stored message is what linphonec played ($got)" ||
	bad "the stored message is not what linphonec played: $got"
wait_log vm.log "mwi: mailbox 1002 lamp on" 10 || die "no MWI from the voicemail server" vm.log
ok "$(grep -o 'mwi: mailbox 1002 lamp on.*' vm.log | head -1)"
wait_log cm.log "mwi: line 1002 lamp on (from trunk CUCv11), 1 phone(s)" 10 ||
	die "the call manager did not relay the lamp to line 1002" cm.log
ok "$(grep -o 'mwi: line 1002 lamp on.*' cm.log | head -1)"
sleep 1
grep -q "mwi: a phone did not take the NOTIFY" cm.log &&
	bad "linphonec refused the NOTIFY: $(grep 'did not take the NOTIFY' cm.log)"
# The call manager logs only a refused NOTIFY: linphonec's SIP trace shows
# the lamp NOTIFY for 1002 and its 200 answer (same Call-ID).
wait_log linphone.log "Messages-Waiting: yes" 5 || bad "the lamp NOTIFY did not reach linphonec"
cid=$(awk '/^NOTIFY sip:1002@/ { n = 1 } /^[A-Z]+ sip:/ && !/^NOTIFY sip:1002@/ { n = 0 }
	n && /^Call-ID:/ { c = $2 } n && /^Messages-Waiting: yes/ { print c; exit }' linphone.log)
[ -n "$cid" ] && awk -v c="$cid" '/^[A-Z]+ sip:/ { s = "" } /^SIP\/2.0 / { s = $2 }
	/^Call-ID:/ && $2 == c && s == "200" { f = 1 } END { exit !f }' linphone.log &&
	ok "linphonec took the lamp NOTIFY for 1002 (Messages-Waiting: yes) with 200" ||
	bad "linphonec did not answer the lamp NOTIFY (Call-ID ${cid:-none}) with 200"

"$NGV" status mailboxes --config vm.conf >st.txt
grep -Eq "^1002 +Bob Example +1 +0  on" st.txt &&
	ok "ngvoice status mailboxes: 1002 has 1 new message, lamp on" ||
	bad "status mailboxes: $(cat st.txt)"

lp "quit"
for i in $(seq 1 100); do
	kill -0 $LP 2>/dev/null || break
	sleep 0.1
done
[ "$FAILS" = 0 ]
