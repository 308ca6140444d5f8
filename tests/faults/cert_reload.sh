#!/usr/bin/env bash
# Fault: certificates change under a running call manager.
#  - replaced while running: `ngvoice reload` (SIGHUP) makes new connections
#    use the new identity; open connections (the trunk) keep their sessions;
#  - replaced by an expired one: the reload is refused, the running identity
#    stays and keeps serving;
#  - expiring while running: the daemon keeps presenting it (there is no
#    expiry timer); phones then refuse it, naming the expiry, and the daemon
#    logs the phone's alert; a start with it warns; a reload with a current
#    certificate recovers.
# usage: cert_reload.sh NGVOICE WAVCORR PROMPTS_DIR
NGV=$1
WAVCORR=$2
PROMPTS=$3
. "$(dirname "$0")/lib.sh"
MKCERT="python3 $(dirname "$(realpath "$0")")/mkcert.py"
python3 -c 'import cryptography' 2>/dev/null || { echo "SKIP: python3 with the cryptography package is needed to make short-lived certificates"; exit 77; }
cd "$TMP"
make_certs
write_configs
start_vm
start_cm
wait_full_service "$CM_LOG" 10 || { bad "trunk not in Full Service"; tail "$CM_LOG" >&2; finish; }
ok "trunk CUCv11 in Full Service"

# reg WHAT TRUST: phone 1001 registers trusting only TRUST.
reg() {
	phone 1001 phone-secret --trust "$2" >reg.out 2>&1
}
cp cm/CallManager.pem old.pem
reg before old.pem && ok "a phone trusting the first certificate registers" || bad "first registration: $(cat reg.out)"

reload_cm() { # EXPECT: reloaded | refused
	mark "$CM_LOG"
	"$NGV" reload --config cm.conf >reload.out 2>&1 || { bad "ngvoice reload: $(cat reload.out)"; return; }
	wait_new "$CM_LOG" "reloaded |reload refused" 5
	if [ "$1" = reloaded ]; then
		grep_new "$CM_LOG" "info: reloaded " && ok "reload accepted: $(new_lines "$CM_LOG" | grep -o 'reloaded .*' | head -1)" ||
			{ bad "reload not accepted"; new_lines "$CM_LOG" >&2; }
	else
		grep_new "$CM_LOG" "reload refused" && ok "$(new_lines "$CM_LOG" | grep -o 'reload refused.*' | head -1)" ||
			{ bad "reload not refused"; new_lines "$CM_LOG" >&2; }
	fi
}

# 1. Replaced while running.
"$NGV" cert generate --role callmanager --cn cucm.ngvoice.localhost \
	--san cucm.ngvoice.localhost --out cm --force >/dev/null
cp cm/CallManager.pem new.pem
reload_cm reloaded
reg after new.pem && ok "a phone trusting only the new certificate registers" || bad "new certificate: $(cat reg.out)"
if reg after old.pem; then
	bad "the old certificate is still presented after the reload"
else
	grep -q "TLS connection to the registrar failed" reg.out &&
		ok "a phone trusting only the old one is refused: $(grep -m1 -o 'TLS handshake failed.*' reg.out | cut -c1-160)" ||
		bad "old certificate: $(cat reg.out)"
fi
mark "$CM_LOG"
sleep $((PING_IN * 2 + 1))
! grep_new "$CM_LOG" "No Service" && status_trunk "Full Service"
ok "the trunk's open connection kept its session over two pings"

# 2. Replaced by an expired certificate: refused, the running one stays.
cp cm/CallManager.pem cur.pem
cp cm/CallManager.key cur.key
$MKCERT cm/CallManager.pem cm/CallManager.key cucm.ngvoice.localhost -7200 -3600
reload_cm refused
reg "after the refused reload" new.pem && ok "the running certificate still serves after the refused reload" ||
	bad "after the refused reload: $(cat reg.out)"
grep_new "$CM_LOG" "reload refused: CN=cucm.ngvoice.localhost expired on " &&
	ok "the refusal names the certificate and when it expired" || bad "the refusal does not say why"
if "$NGV" callmanager --check --config cm.conf >check.out 2>&1; then
	known_fail "callmanager --check accepts a configuration whose CallManager certificate has expired (the check does not load the identities; the daemon warns at start)"
else
	ok "callmanager --check refuses it: $(grep -m1 -i expired check.out | cut -c1-160)"
fi

# 2b. The voicemail server too: an expired tomcat certificate is refused,
# and new connections still get the running one.
cp vm/tomcat.pem vm-cur.pem
cp vm/tomcat.key vm-cur.key
$MKCERT vm/tomcat.pem vm/tomcat.key cuc.ngvoice.localhost -7200 -3600
mark "$VM_LOG"
"$NGV" reload --config vm.conf >reload.out 2>&1 || bad "ngvoice reload (voicemail): $(cat reload.out)"
wait_new "$VM_LOG" "reload: CN=cuc.ngvoice.localhost expired on .*; the running TLS identities stay" 5 &&
	ok "voicemail: $(new_lines "$VM_LOG" | grep -m1 -o 'reload: CN=.*')" ||
	{ bad "voicemail reload with an expired certificate not refused"; new_lines "$VM_LOG" >&2; }
served=$(openssl s_client -tls1_2 -cipher aRSA -connect "127.0.0.1:$VMTLS" -cert ph/tomcat.pem -key ph/tomcat.key </dev/null 2>/dev/null |
	openssl x509 -noout -fingerprint -sha256 2>/dev/null || true)
[ "$served" = "$(openssl x509 -in vm-cur.pem -noout -fingerprint -sha256)" ] &&
	ok "a new connection to the voicemail server gets the running certificate" ||
	bad "the voicemail server presents: ${served:-nothing}"
cp vm-cur.pem vm/tomcat.pem
cp vm-cur.key vm/tomcat.key

# 3. A certificate that expires while running: valid for 15 s more.
EXP=15
$MKCERT cm/CallManager.pem cm/CallManager.key cucm.ngvoice.localhost -3600 $EXP cucm.ngvoice.localhost
cp cm/CallManager.pem short.pem
t0=$(now_ms)
reload_cm reloaded
reg "before expiry" short.pem && ok "before it expires: a phone trusting it registers" || bad "before expiry: $(cat reg.out)"
wait_for $((EXP + 5)) eval '[ $(($(now_ms) - t0)) -gt $(((EXP + 2) * 1000)) ]'
mark "$CM_LOG"
if reg "after expiry" short.pem; then
	bad "a phone accepted the expired certificate"
else
	grep -qi "expired" reg.out &&
		ok "after it expired: the phone refuses it: $(grep -io '[^:]*expired[^;]*' reg.out | head -1)" ||
		bad "after expiry: $(cat reg.out)"
fi
wait_new "$CM_LOG" "expired" 3 &&
	ok "the call manager logs why: $(new_lines "$CM_LOG" | grep -m1 expired | cut -c26-)" ||
	{ bad "nothing about the expiry in the call manager's log"; new_lines "$CM_LOG" >&2; }
alive "$CM_PID" && ok "the call manager keeps running" || bad "the call manager died"
# A start with the expired certificate on disk: it runs, and warns.
stop "$CM_PID"
start_cm
grep -q "warn: callmanager: CN=cucm.ngvoice.localhost expired on .*: TLS peers will refuse it" "$CM_LOG" &&
	ok "a start with it warns: $(grep -m1 'warn: callmanager: CN=' "$CM_LOG" | cut -c26-)" ||
	{ bad "no warning at start"; head "$CM_LOG" >&2; }

# 4. A current certificate and a reload recover.
"$NGV" cert generate --role callmanager --cn cucm.ngvoice.localhost \
	--san cucm.ngvoice.localhost --out cm --force >/dev/null
cp cm/CallManager.pem fresh.pem
reload_cm reloaded
reg "after the fresh reload" fresh.pem && ok "with a current certificate reloaded, phones register again" ||
	bad "after recovery: $(cat reg.out)"
finish
