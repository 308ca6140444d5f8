#!/usr/bin/env bash
# Reload (issue 3): replace the call manager's certificate while it runs, `ngvoice reload`,
# new TLS handshakes see the new certificate, an open connection keeps working; a broken
# file is refused and the running configuration stays. usage: cm_reload.sh NGVOICE
NGV=$1
. "$(dirname "$0")/lib.sh"
cd "$TMP"

"$NGV" cert generate --role callmanager --cn cucm.ngvoice.localhost --out cm >/dev/null 2>&1
openssl req -x509 -newkey ec:<(openssl ecparam -name prime256v1) -nodes \
	-keyout cli.key -out cli.pem -days 2 -subj "/CN=cuc.ngvoice.localhost" \
	-addext "extendedKeyUsage=clientAuth,serverAuth" 2>/dev/null
cp cli.pem trust.pem
SIP=$(free_port)
TLS=$(free_port)
cat >cm.conf <<CONF
[enterprise]
host_name = cucm.ngvoice.localhost
sip_port = $SIP
sip_tls_port = $TLS
pid_file = $TMP/cm.pid
[certificates]
callmanager = cm/CallManager.pem
callmanager_key = cm/CallManager.key
callmanager_trust = trust.pem
CONF
chmod 600 cm.conf
"$NGV" callmanager --config cm.conf >cm.log 2>&1 &
PIDS+=($!)
for i in $(seq 1 50); do [ -s cm.pid ] && break; sleep 0.1; done

fingerprint() {
	timeout 5 openssl s_client -connect "127.0.0.1:$TLS" -cert cli.pem -key cli.key \
		-tls1_2 </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256 2>/dev/null
}
options() { # options N
	printf 'OPTIONS sip:cucm.ngvoice.localhost SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:9;branch=z9hG4bKreload%s;rport\r\nFrom: <sip:t@cuc.ngvoice.localhost>;tag=r%s\r\nTo: <sip:cucm.ngvoice.localhost>\r\nCall-ID: reload-%s\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' "$1" "$1" "$1"
}

before=$(fingerprint)
[ -n "$before" ] || { echo "no TLS handshake with the call manager" >&2; cat cm.log >&2; exit 1; }
# a connection that stays open across the reload: one OPTIONS before, one after
(options 1; sleep 3; options 2; sleep 1) |
	timeout 10 openssl s_client -connect "127.0.0.1:$TLS" -cert cli.pem -key cli.key \
		-tls1_2 -quiet >conn.out 2>/dev/null &
CONN=$!
sleep 1
"$NGV" cert generate --role callmanager --cn cucm.ngvoice.localhost --out cm --force >/dev/null 2>&1
"$NGV" reload --config cm.conf
sleep 0.5
after=$(fingerprint)
wait $CONN || true
fail=0
if [ -n "$after" ] && [ "$after" != "$before" ]; then
	echo "ok   new handshakes present the new certificate"
else
	echo "FAIL certificate not replaced (before $before, after $after)" >&2
	fail=1
fi
n=$(grep -c "^SIP/2.0 200" conn.out || true)
if [ "$n" = 2 ]; then
	echo "ok   the connection opened before the reload kept working"
else
	echo "FAIL the open connection got $n answers, expected 2" >&2
	fail=1
fi
grep -q "reloaded cm.conf" cm.log && echo "ok   the daemon logged the reload" || {
	echo "FAIL no reload in the log" >&2
	fail=1
}

# the rest of the file applies too: a line added by a reload takes
# registrations at once (404 before, a digest challenge after)
register() { # register N: a REGISTER for line 1003, the status code answered
	(printf 'REGISTER sip:cucm.ngvoice.localhost SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:9;branch=z9hG4bKreg%s;rport\r\nFrom: <sip:1003@cucm.ngvoice.localhost>;tag=g%s\r\nTo: <sip:1003@cucm.ngvoice.localhost>\r\nCall-ID: reg-%s\r\nCSeq: 1 REGISTER\r\nContact: <sips:1003@127.0.0.1:9>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' "$1" "$1" "$1"; sleep 1) |
		timeout 3 openssl s_client -connect "127.0.0.1:$TLS" -cert cli.pem -key cli.key \
			-tls1_2 -quiet 2>/dev/null | head -1 | awk '{print $2}' || true
}
b=$(register 1)
cat >>cm.conf <<CONF
[directory-number "1003"]
digest_password = added-by-reload
CONF
"$NGV" reload --config cm.conf
sleep 0.5
a=$(register 2)
if [ "$b" = 404 ] && [ "$a" = 401 ] && grep -q "reloaded cm.conf: 1 line(s)" cm.log; then
	echo "ok   a line added by reload registers at once (REGISTER: $b before, $a after)"
else
	echo "FAIL line added by reload: REGISTER $b before, $a after" >&2
	tail -5 cm.log >&2
	fail=1
fi

# a broken file is refused; the daemon keeps serving with what it had
echo "tls_cipher = typo" >>cm.conf
"$NGV" reload --config cm.conf
sleep 0.5
if grep -q "reload refused, the running configuration stays: .*cm.conf:[0-9]*: " cm.log &&
	[ "$(fingerprint)" = "$after" ]; then
	echo "ok   a broken file is refused with file:line and nothing changes"
else
	echo "FAIL broken reload" >&2
	tail -5 cm.log >&2
	fail=1
fi
exit $fail
