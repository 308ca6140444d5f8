#!/usr/bin/env bash
# Interop: `ngvoice phone` registers with `ngvoice callmanager` over mutual TLS
# with digest, fails clearly when the password, the certificate or the route is
# wrong, sees the MWI lamp, and calls another `ngvoice phone` with SRTP.
# usage: phone_cm.sh NGVOICE
NGV=$1
. "$(dirname "$0")/lib.sh"

cd "$TMP"
CM_NAME=cucm.ngvoice.localhost
"$NGV" cert generate --role callmanager --cn $CM_NAME --out cm >/dev/null 2>&1
"$NGV" cert generate --role callmanager-ecdsa --cn cucm-EC.ngvoice.localhost \
	--san $CM_NAME --out cm >/dev/null 2>&1
# the phones' identity, trusted by the call manager
"$NGV" cert generate --role tomcat --cn phone.ngvoice.localhost --out ph >/dev/null 2>&1
cp ph/tomcat.pem callmanager-trust.pem
cat cm/CallManager.pem cm/CallManager-ECDSA.pem >phone-trust.pem

SIP=$(free_port)
TLS=$(free_port)
HTTPS=$(free_port)
cat >cm.conf <<CONF
[enterprise]
host_name = $CM_NAME
listen_address = 127.0.0.1
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

PHONE=("$NGV" phone --registrar $CM_NAME:$TLS --cert ph/tomcat.pem
	--key ph/tomcat.key --trust phone-trust.pem)

"$NGV" phone --help >help.txt
has "phone --help documents every option" help.txt --registrar --user \
	--password --transport --cert --key --trust --tls-ciphers \
	--srtp-ciphers --dial --play --record --digits --duration --wait-mwi \
	--incoming --json

run "phone registers line 1001 over TLS with digest" \
	"${PHONE[@]}" --user 1001 --password phone-secret-1001
cp "$TMP/out" reg.out
has "registration reports TLS version and cipher" reg.out \
	"registered: line 1001 at $CM_NAME:$TLS over TLS TLSv1.2 ECDHE-"
has "the call manager saw the registration over TLS" cm.log \
	"registrar: line 1001 registered sips:1001@127.0.0.1:" "over TLS"

fails "wrong password: 403 and exit 1" 1 \
	"line 1001 not registered at $CM_NAME:$TLS: 403 Authentication failed" \
	"${PHONE[@]}" --user 1001 --password wrong
fails "no phone certificate: the TLS failure is named" 1 \
	"TLS connection to the registrar failed" \
	"$NGV" phone --registrar $CM_NAME:$TLS --trust phone-trust.pem \
	--user 1001 --password phone-secret-1001
fails "registrar certificate for another name: refused" 1 \
	"TLS connection to the registrar failed" \
	"${PHONE[@]}" --tls-name other.example --user 1001 \
	--password phone-secret-1001
grep -q "does not match X.509 subject name other.example" "$TMP/err" &&
	ok "the name mismatch is explained" ||
	bad "no name mismatch line: $(cat "$TMP/err")"

fails "dialling a number with no route: 404 and exit 1" 1 \
	"call to 3999 failed: 404 No route for the dialled number" \
	"${PHONE[@]}" --user 1001 --password phone-secret-1001 --dial 3999
has "the failure is an event line too" "$TMP/out" \
	"call-failed: 3999: 404 No route for the dialled number"

run "the MWI lamp arrives after registration" \
	"${PHONE[@]}" --user 1001 --password phone-secret-1001 --wait-mwi 5
has "MWI reported" "$TMP/out" "mwi: no"

run "--json: one object per event" \
	"${PHONE[@]}" --user 1001 --password phone-secret-1001 --json
has "--json events" "$TMP/out" '{"event":"registered","user":"1001","transport":"TLS","tls_version":"TLSv1.2"' \
	'{"event":"result","result":"ok"'

fails "bad --srtp-ciphers is a usage error" 2 "--srtp-ciphers" \
	"${PHONE[@]}" --user 1001 --srtp-ciphers AES_256_CM_HMAC_SHA1_80

# A call between two phones through the call manager, SRTP both ways.
if command -v python3 >/dev/null; then
	python3 - <<'PY'
import math, struct, wave
w = wave.open("tone.wav", "wb")
w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 8000))) for i in range(8000 * 2)))
w.close()
PY
	"${PHONE[@]}" --user 1002 --password phone-secret-1002 --incoming answer \
		--play tone.wav --record b.wav --duration 8 >b.out 2>b.err &
	PIDS+=($!)
	B=$!
	for i in $(seq 1 50); do
		grep -q "^registered" b.out && break
		sleep 0.1
	done
	run "1001 calls 1002: answered with SRTP, plays, records, hangs up" \
		"${PHONE[@]}" --user 1001 --password phone-secret-1001 --dial 1002 \
		--srtp-ciphers gcm256 --play tone.wav --record a.wav --duration 3
	has "the call's report" "$TMP/out" "answered: 200 OK, TLS TLSv1.2" \
		"SRTP AEAD_AES_256_GCM" "security: Encrypted" \
		"ended: hung up by us; heard " "; packets sent 100, received " \
		", dropped 0"
	# the far end's 2 s tone, give or take what left before our answer
	grep -Eq "heard (1\.[5-9]|2\.[0-9]) s of audio" "$TMP/out" &&
		ok "1001 heard the tone" || bad "1001 heard: $(grep ended "$TMP/out")"
	wait "$B" || bad "the answering phone failed: $(cat b.err)"
	has "the answering phone's report" b.out \
		"incoming: from sip:1001@$CM_NAME: answering" \
		"ended: hung up by the far end; heard 2.0 s of audio; packets sent "
	[ -s a.wav ] && [ -s b.wav ] && ok "both recordings written" ||
		bad "recordings missing"
else
	echo "skip the call between two phones: python3 (to make a WAV) missing"
fi

[ "$FAILS" = 0 ]
