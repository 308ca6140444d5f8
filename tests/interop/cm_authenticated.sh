#!/usr/bin/env bash
# Device security mode Authenticated (TLS with NULL-SHA: the signalling is
# authenticated, not encrypted) and Encrypted share the call manager's one TLS
# port, as in the guide: a phone that only offers NULL-SHA gets through TLS for
# an Authenticated line (digest challenge), is refused for an Encrypted line
# (403 with the reason), and without any Authenticated object in the file
# NULL-SHA is not accepted at all. usage: cm_authenticated.sh NGVOICE
NGV=$1
. "$(dirname "$0")/lib.sh"
cd "$TMP"
"$NGV" cert generate --role callmanager --cn cucm.ngvoice.localhost --out cm >/dev/null 2>&1
openssl req -x509 -newkey rsa:2048 -nodes -keyout ph.key -out ph.pem -days 2 \
	-subj "/CN=phone.ngvoice.localhost" -addext "extendedKeyUsage=clientAuth,serverAuth" 2>/dev/null
start_cm() { # start_cm MODE_OF_1001
	SIP=$(free_port)
	TLS=$(free_port)
	cat >cm.conf <<CONF
[enterprise]
host_name = cucm.ngvoice.localhost
sip_port = $SIP
sip_tls_port = $TLS
tftp_https_port = $(free_port)
[certificates]
callmanager = cm/CallManager.pem
callmanager_key = cm/CallManager.key
callmanager_trust = ph.pem
[directory-number "1001"]
digest_password = a-secret
device_security_mode = $1
[directory-number "1002"]
digest_password = b-secret
device_security_mode = Encrypted
CONF
	chmod 600 cm.conf
	"$NGV" callmanager --config cm.conf >"cm-$1.log" 2>&1 &
	CM=$!
	PIDS+=($CM)
	for i in $(seq 1 50); do
		grep -q "SIP on" "cm-$1.log" && break
		sleep 0.1
	done
}
register() { # register LINE: the status line of the answer, over NULL-SHA
	(printf 'REGISTER sip:cucm.ngvoice.localhost SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:9;branch=z9hG4bKa%s;rport\r\nFrom: <sip:%s@cucm.ngvoice.localhost>;tag=a\r\nTo: <sip:%s@cucm.ngvoice.localhost>\r\nCall-ID: auth-%s\r\nCSeq: 1 REGISTER\r\nContact: <sip:%s@127.0.0.1:9;transport=tls>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' "$1" "$1" "$1" "$1" "$1"; sleep 1) |
		timeout 3 openssl s_client -connect "127.0.0.1:$TLS" -cert ph.pem -key ph.key \
			-tls1_2 -cipher 'NULL-SHA:@SECLEVEL=0' -quiet 2>/dev/null | head -1 | tr -d '\r' || true
}
start_cm Authenticated
a=$(register 1001)
e=$(register 1002)
[[ "$a" == "SIP/2.0 401"* ]] || { echo "FAIL Authenticated line over NULL-SHA: '$a'" >&2; cat cm-Authenticated.log >&2; exit 1; }
ok "an Authenticated line over TLS NULL-SHA reaches the registrar ($a)"
[[ "$e" == "SIP/2.0 403 Device security mode Encrypted requires an encrypting TLS suite" ]] || {
	echo "FAIL Encrypted line over NULL-SHA: '$e'" >&2; cat cm-Authenticated.log >&2; exit 1; }
ok "an Encrypted line over NULL-SHA is refused: $e"
grep -q "NULL-SHA is accepted besides the TLS Ciphers suites" cm-Authenticated.log || { echo "FAIL no warning" >&2; exit 1; }
kill "$CM"; wait "$CM" 2>/dev/null || true
start_cm Encrypted
n=$(register 1001)
[ -z "$n" ] || { echo "FAIL NULL-SHA accepted with no Authenticated object: '$n'" >&2; exit 1; }
ok "with no Authenticated line or profile, a NULL-SHA handshake fails"
