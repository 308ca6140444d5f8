#!/usr/bin/env bash
# Interop: a call from ngvoice's side that offers GCM first reaches stock
# baresip, which answers AEAD_AES_256_GCM; audio both ways. `ngvoice phone`
# registers line 1001 and baresip line 1002 with `ngvoice callmanager` over
# mutual TLS; the phone dials 1002 offering AEAD_AES_256_GCM first, baresip
# answers by itself, each plays speech and records what it hears.
# usage: phone_baresip_gcm.sh NGVOICE WAVCORR
NGV=$1
WAVCORR=$2
. "$(dirname "$0")/lib.sh"
command -v baresip >/dev/null || { echo "baresip not installed (scripts/deps.sh)" >&2; exit 1; }
command -v sox >/dev/null || { echo "sox not installed (scripts/deps.sh)" >&2; exit 1; }
command -v espeak-ng >/dev/null || { echo "espeak-ng not installed (scripts/deps.sh)" >&2; exit 1; }

cd "$TMP"
[ -n "${KEEP:-}" ] && trap - EXIT && echo "keeping $TMP" >&2
CM_NAME=cucm.ngvoice.localhost
"$NGV" cert generate --role callmanager --cn $CM_NAME --out cm >/dev/null 2>&1
"$NGV" cert generate --role callmanager-ecdsa --cn cucm-EC.ngvoice.localhost \
	--san $CM_NAME --out cm >/dev/null 2>&1
# the phones' identities, trusted by the call manager
"$NGV" cert generate --role tomcat --cn phone.ngvoice.localhost --out ph >/dev/null 2>&1
openssl req -x509 -newkey ec:<(openssl ecparam -name prime256v1) -nodes \
	-keyout bs.key -out bs.crt -days 2 -subj "/CN=phone1002.ngvoice.localhost" \
	-addext "extendedKeyUsage=clientAuth,serverAuth" 2>/dev/null
cat bs.crt bs.key >bs.pem
cat ph/tomcat.pem bs.crt >callmanager-trust.pem
cat cm/CallManager.pem cm/CallManager-ECDSA.pem >phone-trust.pem

SIP=$(free_port)
TLS=$(free_port)
HTTPS=$(free_port)
# baresip (libre) knows only MD5 digest and gives up on any other challenge.
cat >cm.conf <<CONF
[enterprise]
host_name = $CM_NAME
listen_address = 127.0.0.1
digest_algorithms = MD5
sip_port = $SIP
sip_tls_port = $TLS
tftp_https_port = $HTTPS
control_socket = $TMP/cm.sock
[certificates]
callmanager = cm/CallManager.pem
callmanager_key = cm/CallManager.key
callmanager_ecdsa = cm/CallManager-ECDSA.pem
callmanager_ecdsa_key = cm/CallManager-ECDSA.key
callmanager_trust = callmanager-trust.pem
[directory-number "1001"]
display_name = Line 1001
digest_password = phone-secret-1001
[directory-number "1002"]
display_name = Line 1002
digest_password = phone-secret-1002
CONF
chmod 600 cm.conf
"$NGV" callmanager --check --config cm.conf >/dev/null
"$NGV" callmanager --config cm.conf >cm.log 2>&1 &
PIDS+=($!)
for i in $(seq 1 50); do
	grep -q "TLS on 127.0.0.1:$TLS" cm.log && break
	sleep 0.1
done

# Two different sentences, each after 1 s of silence so that its start is
# inside the far end's recording.
espeak-ng -v en-us -s 150 -w a.raw.wav "The quick brown fox jumps over the lazy dog near the river bank." 2>/dev/null
espeak-ng -v en-us -s 150 -w b.raw.wav "Seven green bottles were standing on the wall of the old farm house." 2>/dev/null
sox a.raw.wav -r 8000 -c 1 -b 16 a.wav
sox b.raw.wav -r 8000 -c 1 -b 16 b.wav
sox a.wav phone-says.wav pad 1 0
# baresip ends the call when its file ends: pad it well past the call.
sox b.wav baresip-says.wav pad 1 20
sox a.wav a3.wav trim 0 3
sox b.wav b3.wav trim 0 3

BSIP=$(free_port)
mkdir -p bs dumps
cat >bs/config <<BSCONF
# baresip for the ngvoice GCM interop test
sip_listen 127.0.0.1:$BSIP
sip_certificate $TMP/bs.pem
net_interface 127.0.0.1
dns_server 127.0.0.1:53
audio_player none,none
audio_source aufile,$TMP/baresip-says.wav
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module sndfile.so
snd_path $TMP/dumps
module srtp.so
module account.so
module menu.so
BSCONF
echo "<sip:1002@127.0.0.1:$TLS;transport=tls>;auth_pass=phone-secret-1002;regint=600;answermode=auto;mediaenc=srtp-mand;audio_codecs=pcmu" >bs/accounts
timeout 90 baresip -4 -f "$TMP/bs" -t 80 </dev/null >baresip.log 2>&1 &
BS=$!
PIDS+=($BS)
for i in $(seq 1 100); do
	grep -q "line 1002 registered" cm.log && break
	sleep 0.1
done
grep -q "line 1002 registered" cm.log || { echo "FAIL baresip did not register 1002" >&2; exit 1; }
ok "$(grep -o 'registrar: line 1002 registered .*' cm.log | head -1)"

run "ngvoice phone 1001 dials baresip (1002) offering GCM first" \
	timeout 60 "$NGV" phone --registrar $CM_NAME:$TLS --cert ph/tomcat.pem \
	--key ph/tomcat.key --trust phone-trust.pem --user 1001 \
	--password phone-secret-1001 --dial 1002 --srtp-ciphers gcm \
	--play phone-says.wav --record phone-heard.wav --duration 8
cp "$TMP/out" phone.out
has "the phone's report: answered with AEAD_AES_256_GCM, Encrypted" phone.out \
	"answered: 200 OK, TLS TLSv1.2" "SRTP AEAD_AES_256_GCM" \
	"security: Encrypted" "ended: hung up by us; heard "
has "baresip chose AEAD_AES_256_GCM" baresip.log \
	"cryptosuite=AEAD_AES_256_GCM"
grep -q "security Encrypted" cm.log && ok "the call manager shows the call Encrypted" ||
	bad "the call manager did not see an Encrypted call"

# Audio both ways: what each recorded holds what the other played.
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
for i in $(seq 1 50); do
	ls dumps/*dec*.wav >/dev/null 2>&1 && break
	sleep 0.1
done
heard=$(ls -t dumps/*dec*.wav 2>/dev/null | head -1)
corr_ok "baresip heard what the phone played" "${heard:-dumps/none}" a3.wav b3.wav
corr_ok "the phone heard what baresip played" phone-heard.wav b3.wav a3.wav

# baresip unregisters when it stops: let it while the call manager is up.
kill "$BS" 2>/dev/null || true
wait "$BS" 2>/dev/null || true

[ "$FAILS" = 0 ]
