#!/usr/bin/env bash
# Interop, two real phones through the call manager: baresip (line 1001) and
# linphonec (line 1002) register with `ngvoice callmanager` over mutual TLS
# with digest, SRTP mandatory on both. linphonec calls baresip (auto answer),
# then baresip calls linphonec (autoanswer enabled). Each call is answered
# and logged Encrypted, audio flows both ways (each side's recording holds
# the sentence the other played), and each side hangs up once: the BYE is
# relayed and the call is gone from `ngvoice status calls`.
# Digest: baresip (libre 1.1) knows only MD5 and gives up on any other
# challenge; linphone answers an MD5-only challenge too, so the call manager
# offers MD5 alone and both register.
# usage: baresip_linphone.sh NGVOICE WAVCORR
NGV=$1
WAVCORR=$2
. "$(dirname "$0")/lib.sh"
command -v baresip >/dev/null || { echo "baresip not installed (scripts/deps.sh)" >&2; exit 1; }
command -v linphonec >/dev/null || { echo "linphonec not installed (package linphone-cli; scripts/deps.sh)" >&2; exit 1; }
command -v sox >/dev/null || { echo "sox not installed (scripts/deps.sh)" >&2; exit 1; }
command -v espeak-ng >/dev/null || { echo "espeak-ng not installed (scripts/deps.sh)" >&2; exit 1; }

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
for p in bs lp; do
	openssl req -x509 -newkey ec:<(openssl ecparam -name prime256v1) -nodes \
		-keyout $p.key -out $p.crt -days 2 -subj "/CN=phone-$p.ngvoice.localhost" \
		-addext "extendedKeyUsage=clientAuth,serverAuth" 2>/dev/null
done
cat bs.crt bs.key >bs.pem
cat bs.crt lp.crt >callmanager-trust.pem
cat cm/CallManager.pem cm/CallManager-ECDSA.pem >cm-trust.pem

SIP=$(free_port)
TLS=$(free_port)
TFTP=$(free_port)
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
[directory-number "1001"]
display_name = baresip
digest_password = bs-secret-1001
[directory-number "1002"]
display_name = linphone
digest_password = lp-secret-1002
CONF
chmod 600 cm.conf
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
	[ $# -gt 0 ] && tail -n 40 "$@" >&2
	exit 1
}
"$NGV" callmanager --check --config cm.conf >/dev/null
"$NGV" callmanager --config cm.conf >cm.log 2>&1 &
PIDS+=($!)
wait_log cm.log "TLS on 127.0.0.1:$TLS" 10 || die "the call manager did not start" cm.log

# Two different sentences: linphone says A, baresip says B, each after 1 s
# of silence and padded well past the call (baresip ends a call when its
# file ends). The needles are their first 3 s.
espeak-ng -v en-us -s 150 -w a.raw.wav "The quick brown fox jumps over the lazy dog near the river bank." 2>/dev/null
espeak-ng -v en-us -s 150 -w b.raw.wav "Seven green bottles were standing on the wall of the old farm house." 2>/dev/null
sox a.raw.wav -r 8000 -c 1 -b 16 a.wav
sox b.raw.wav -r 8000 -c 1 -b 16 b.wav
sox a.wav lp-says.wav pad 1 30
sox b.wav bs-says.wav pad 1 30
sox a.wav a3.wav trim 0 3
sox b.wav b3.wav trim 0 3

# baresip: sip_listen P takes UDP+TCP on P and TLS on P+1; both reserved.
while :; do
	BSIP=$(free_port)
	! (exec 3<>/dev/tcp/127.0.0.1/$((BSIP + 1))) 2>/dev/null &&
		reserve_port $((BSIP + 1)) && break
done
CTRL=$(free_port)
mkdir -p bs dumps
cat >bs/config <<BSCONF
# baresip for the ngvoice baresip-linphone interop test
sip_listen 127.0.0.1:$BSIP
sip_certificate $TMP/bs.pem
net_interface 127.0.0.1
dns_server 127.0.0.1:53
audio_player none,none
audio_source aufile,$TMP/bs-says.wav
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
echo "<sip:1001@127.0.0.1:$TLS;transport=tls>;auth_pass=bs-secret-1001;regint=600;answermode=auto;mediaenc=srtp-mand;audio_codecs=pcmu" >bs/accounts
timeout 170 baresip -4 -s -f "$TMP/bs" -t 150 </dev/null >bs.log 2>&1 &
BS=$!
PIDS+=($BS)
# ctrl_tcp: commands and events on one connection (events go to the
# newest connection: ours).
for i in $(seq 1 50); do
	{ exec 3<>/dev/tcp/127.0.0.1/$CTRL; } 2>/dev/null && break
	sleep 0.1
done
timeout 160 cat <&3 >events.out 2>/dev/null &
PIDS+=($!)
bs_cmd() { # COMMAND [PARAMS]
	local c="{\"command\":\"$1\",\"params\":\"${2:-}\"}"
	printf '%d:%s,' "${#c}" "$c" >&3
}
wait_log cm.log "line 1001 registered" 15 || die "baresip did not register 1001" cm.log bs.log
ok "baresip: $(grep -o 'registrar: line 1001 registered .*' cm.log | head -1)"

# linphonec (1002): HOME is a scratch directory; commands through a FIFO
# held open on fd 4.
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
client_cert_chain=$TMP/lp.crt
client_cert_key=$TMP/lp.key
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
reg_identity=sip:1002@127.0.0.1
reg_expires=600
reg_sendregister=1
publish=0
[auth_info_0]
username=1002
passwd=lp-secret-1002
RC
mkfifo lp.in
exec 4<>lp.in
HOME=$TMP/home timeout 170 linphonec -c "$TMP/home/linphonerc" -d 6 \
	-l "$TMP/linphone.log" <lp.in >linphone.out 2>&1 &
LP=$!
PIDS+=($LP)
lp() { echo "$*" >&4; }
lp "soundcard use files"
wait_log cm.log "line 1002 registered" 15 || die "linphonec did not register 1002 (MD5-only digest?)" cm.log linphone.log
ok "linphonec: $(grep -o 'registrar: line 1002 registered .*' cm.log | head -1)"
auth=$(grep -m1 '^Authorization: *Digest' linphone.log || true)
case $auth in
*algorithm=SHA-256*) bad "linphonec answered SHA-256 although only MD5 was offered: $auth" ;;
*Digest*) ok "linphonec answered the MD5-only digest challenge" ;;
*) bad "no Authorization in linphonec's trace" ;;
esac

# status_calls N: the number of calls `ngvoice status calls --json` shows
status_calls() {
	"$NGV" status calls --json --config cm.conf >st.json
	grep -o '"id":[0-9]*' st.json | wc -l
}
corr_ok() { # WHAT HAYSTACK NEEDLE OTHER
	local got other gc oc
	if [ ! -s "$2" ]; then
		bad "$1: no recording $2"
		return
	fi
	got=$("$WAVCORR" "$2" "$3")
	other=$("$WAVCORR" "$2" "$4")
	gc=$(sed 's/corr=\([-0-9.]*\).*/\1/' <<<"$got")
	oc=$(sed 's/corr=\([-0-9.]*\).*/\1/' <<<"$other")
	awk -v p="$gc" -v n="$oc" 'BEGIN { exit !(p >= 0.8 && p > n + 0.1) }' &&
		ok "$1 ($got; the other sentence: corr=$oc)" ||
		bad "$1: $got (the other sentence: $other)"
}
# new_dump BEFORE: the sndfile dump of what baresip heard that is not in BEFORE
new_dump() {
	local f
	for f in $(ls -t dumps/*dec*.wav 2>/dev/null); do
		grep -qxF "$f" <<<"$1" || { echo "$f"; return; }
	done
}

# 1. linphonec (1002) calls baresip (1001), which answers by itself.
before=$(ls dumps/*dec*.wav 2>/dev/null || true)
lp "record $TMP/lp-heard1.wav"
lp "play $TMP/lp-says.wav"
lp "call sip:1001@127.0.0.1"
wait_log cm.log "call [0-9]*: line 1001 answered, security" 20 ||
	die "baresip did not answer linphonec's call" cm.log bs.log linphone.out
line=$(grep -o "call [0-9]*: line 1001 answered, security.*" cm.log | head -1)
C1=$(awk '{ print $2 }' <<<"$line" | tr -d :)
grep -q "call $C1: 1002 -> line 1001 (.* over TLS)" cm.log &&
	ok "$(grep -o "call $C1: 1002 -> line 1001 .*" cm.log)" ||
	bad "call $C1 was not routed from 1002 to line 1001 over TLS: $(grep "call $C1:" cm.log)"
case $line in
*"security Encrypted"*) ok "$line" ;;
*) bad "call 1 not Encrypted: $line" ;;
esac
wait_log events.out '"CALL_ESTABLISHED"' 5 && ok "baresip: CALL_ESTABLISHED (auto answer)" ||
	bad "no CALL_ESTABLISHED from baresip"
wait_log bs.log "SRTP is Enabled" 5 &&
	ok "baresip: $(grep -o 'srtp: audio: SRTP is Enabled.*' bs.log | head -1)" ||
	bad "baresip did not enable SRTP"
wait_log linphone.out "Call [0-9]* with .* connected" 10 &&
	ok "linphonec: $(grep -o 'Call [0-9]* with .* connected.*' linphone.out | head -1)" ||
	bad "linphonec does not show the call connected"
grep -q '"CALL_MENC".*"direction":"incoming".*"param":"0,audio,AES_CM_128_HMAC_SHA1_80"' events.out &&
	ok "baresip (answerer): CALL_MENC 0,audio,AES_CM_128_HMAC_SHA1_80" ||
	bad "no CALL_MENC AES_CM_128_HMAC_SHA1_80 from baresip for call 1"
[ "$(grep -c 'Negotiated media encryption is LinphoneMediaEncryptionSRTP' linphone.log)" -ge 1 ] &&
	ok "linphonec (offerer): Negotiated media encryption is LinphoneMediaEncryptionSRTP" ||
	bad "linphonec did not negotiate SRTP for call 1"
[ "$(status_calls)" = 1 ] && grep -q '"from":"1002","to":"line 1001","state":"connected","a_leg":"TLS","b_leg":"TLS"' st.json &&
	grep -q '"srtp":"AES_CM_128_HMAC_SHA1_80".*"security":"Encrypted"' st.json &&
	ok "ngvoice status calls: $(grep -o '{"id":[^}]*}' st.json)" ||
	bad "status calls during call 1: $(cat st.json)"
sleep 6
# linphonec hangs up: the BYE goes to baresip through the call manager.
lp "terminate"
wait_log cm.log "call $C1: 1002 hung up" 10 &&
	ok "linphonec hung up: call $C1: 1002 hung up" || bad "the call manager did not see linphonec's BYE"
wait_log events.out '"CALL_CLOSED".*"direction":"incoming"' 10 &&
	ok "baresip got the BYE: $(grep -o '"type":"CALL_CLOSED".*"direction":"incoming"[^}]*"param":"[^"]*"' events.out | grep -o '"type":"CALL_CLOSED"\|"param":"[^"]*"$' | tr '\n' ' ')" ||
	bad "baresip did not see the call end"
grep -q "^BYE sip:1001-" bs.log && ok "baresip's trace: the BYE came from the call manager over its TLS flow" ||
	bad "no BYE in baresip's SIP trace"
for i in $(seq 1 50); do
	[ "$(status_calls)" = 0 ] && break
	sleep 0.1
done
[ "$(status_calls)" = 0 ] && ok "ngvoice status calls: none after call 1" ||
	bad "call 1 left in status calls: $(cat st.json)"
sleep 1
heard1=$(new_dump "$before")
corr_ok "call 1: baresip heard what linphonec played" "${heard1:-dumps/none}" a3.wav b3.wav
corr_ok "call 1: linphonec heard what baresip played" lp-heard1.wav b3.wav a3.wav

# 2. baresip (1001) calls linphonec (1002), which answers by itself.
lp "autoanswer enable"
wait_log linphone.out "Auto answer enabled" 5 && ok "linphonec: Auto answer enabled." ||
	bad "linphonec did not enable auto answer"
before=$(ls dumps/*dec*.wav 2>/dev/null || true)
lp "record $TMP/lp-heard2.wav"
lp "play $TMP/lp-says.wav"
bs_cmd dial "sip:1002@127.0.0.1:$TLS"
wait_log cm.log "call [0-9]*: line 1002 answered, security" 20 ||
	die "linphonec did not answer baresip's call" cm.log linphone.out bs.log
LPID=$(grep -o "Receiving new incoming call from .*, assigned id [0-9]*" linphone.out | grep -o "[0-9]*$" | tail -1)
grep -q -- "-------auto answering to call-------" linphone.out &&
	ok "linphonec: $(grep -o 'Receiving new incoming call from .*' linphone.out | tail -1), auto answered" ||
	bad "linphonec did not auto answer"
line=$(grep -o "call [0-9]*: line 1002 answered, security.*" cm.log | head -1)
C2=$(awk '{ print $2 }' <<<"$line" | tr -d :)
grep -q "call $C2: 1001 -> line 1002 (.* over TLS)" cm.log &&
	ok "$(grep -o "call $C2: 1001 -> line 1002 .*" cm.log)" ||
	bad "call $C2 was not routed from 1001 to line 1002 over TLS: $(grep "call $C2:" cm.log)"
case $line in
*"security Encrypted"*) ok "$line" ;;
*) bad "call 2 not Encrypted: $line" ;;
esac
[ "$(status_calls)" = 1 ] && grep -q '"from":"1001","to":"line 1002","state":"connected","a_leg":"TLS","b_leg":"TLS"' st.json &&
	grep -q '"srtp":"AES_CM_128_HMAC_SHA1_80".*"security":"Encrypted"' st.json &&
	ok "ngvoice status calls: $(grep -o '{"id":[^}]*}' st.json)" ||
	bad "status calls during call 2: $(cat st.json)"
sleep 6
# baresip hangs up: the BYE goes to linphonec through the call manager.
wait_log events.out '"CALL_ESTABLISHED".*"direction":"outgoing"' 5 &&
	ok "baresip: CALL_ESTABLISHED (outgoing)" || bad "no CALL_ESTABLISHED for baresip's call"
grep -q '"CALL_MENC".*"direction":"outgoing".*"param":"0,audio,AES_CM_128_HMAC_SHA1_80"' events.out &&
	ok "baresip (offerer): CALL_MENC 0,audio,AES_CM_128_HMAC_SHA1_80" ||
	bad "no CALL_MENC AES_CM_128_HMAC_SHA1_80 from baresip for call 2"
[ "$(grep -c 'Negotiated media encryption is LinphoneMediaEncryptionSRTP' linphone.log)" -ge 2 ] &&
	ok "linphonec (answerer): Negotiated media encryption is LinphoneMediaEncryptionSRTP" ||
	bad "linphonec did not negotiate SRTP for call 2"
bs_cmd hangup
wait_log cm.log "call $C2: 1001 hung up" 10 &&
	ok "baresip hung up: call $C2: 1001 hung up" || bad "the call manager did not see baresip's BYE"
wait_log linphone.out "Call ${LPID:-none} with .* ended" 10 &&
	ok "linphonec got the BYE: $(grep -o "Call ${LPID:-none} with .* ended.*" linphone.out | tail -1)" ||
	bad "linphonec did not see call 2 end"
grep -q "^BYE sip:1002@" linphone.log && ok "linphonec's trace: the BYE came from the call manager" ||
	bad "no BYE in linphonec's SIP trace"
for i in $(seq 1 50); do
	[ "$(status_calls)" = 0 ] && break
	sleep 0.1
done
[ "$(status_calls)" = 0 ] && ok "ngvoice status calls: none after call 2" ||
	bad "call 2 left in status calls: $(cat st.json)"
sleep 1
heard2=$(new_dump "$before")
[ -n "$heard2" ] && [ "$heard2" != "$heard1" ] || bad "baresip made no new recording for call 2"
corr_ok "call 2: baresip heard what linphonec played" "${heard2:-dumps/none}" a3.wav b3.wav
corr_ok "call 2: linphonec heard what baresip played" lp-heard2.wav b3.wav a3.wav

lp "quit"
for i in $(seq 1 100); do
	kill -0 $LP 2>/dev/null || break
	sleep 0.1
done
# baresip unregisters when it stops: let it while the call manager is up.
kill "$BS" 2>/dev/null || true
wait "$BS" 2>/dev/null || true
[ "$FAILS" = 0 ]
