#!/usr/bin/env bash
# Interop, the lamp on a real phone: baresip registers line 1001 with
# `ngvoice callmanager` over mutual TLS with digest. A trunk peer (openssl
# s_client over mutual TLS with the voicemail server's tomcat certificate,
# whose CN is the trunk security profile's X.509 subject name) sends the
# unsolicited NOTIFYs a voicemail server sends (Event: message-summary, no
# subscription): "Messages-Waiting: yes", then "no". The call manager must
# take each with 200, change line 1001's message-waiting state and relay it
# to the registered phone over its registration connection.
#
# What baresip 1.0 (libre 1.1) does with them, measured: it has no notion of
# an unsolicited NOTIFY. libre's event socket takes a NOTIFY only inside a
# subscription it made (same Call-ID, To tag = its From tag) and answers
# every other one "481 Subscription Does Not Exist"; nothing is logged and no
# event reaches ctrl_tcp (its mwi.so module raises MWI_NOTIFY only for
# NOTIFYs of its own SUBSCRIBE dialog, and it sends that SUBSCRIBE to the
# account's AOR without the transport, so over UDP to the TLS port number,
# where nothing answers). So the phone's MWI state does not change; what the
# test proves is in baresip's SIP trace (-s): both NOTIFYs reached it over its
# TLS registration flow with the right bodies, and what it answered.
# usage: baresip_mwi.sh NGVOICE
NGV=$1
. "$(dirname "$0")/lib.sh"
command -v baresip >/dev/null || { echo "baresip not installed (scripts/deps.sh)" >&2; exit 1; }

cd "$TMP"
[ -n "${KEEP:-}" ] && trap - EXIT && echo "keeping $TMP" >&2
"$NGV" cert generate --role callmanager --cn cucm.ngvoice.localhost --out cm >/dev/null 2>&1
"$NGV" cert generate --role callmanager-ecdsa --cn cucm-EC.ngvoice.localhost \
	--san cucm.ngvoice.localhost --out cm >/dev/null 2>&1
# the trunk peer: the voicemail server's identity
"$NGV" cert generate --role tomcat --cn cuc.ngvoice.localhost --out vm >/dev/null 2>&1
openssl req -x509 -newkey ec:<(openssl ecparam -name prime256v1) -nodes \
	-keyout phone.key -out phone.crt -days 2 -subj "/CN=phone1001.ngvoice.localhost" \
	-addext "extendedKeyUsage=clientAuth,serverAuth" 2>/dev/null
cat phone.crt phone.key >phone.pem
cat vm/tomcat.pem phone.crt >callmanager-trust.pem

SIP=$(free_port)
TLS=$(free_port)
TFTP=$(free_port)
VMTLS=$(free_port)
# The trunk's destination is the peer's address (127.0.0.1; the port is
# where nothing listens: no SIP profile, so no OPTIONS ping). A request is
# from the trunk when it comes from that address and, over TLS, the peer's
# certificate carries the profile's X.509 subject name.
cat >cm.conf <<CONF
[enterprise]
host_name = cucm.ngvoice.localhost
# baresip (libre 1.1) knows only MD5 digest
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
[sip-trunk "CUCv11"]
destination = 127.0.0.1:$VMTLS
sip_trunk_security_profile = cuc-secure-profile-EDCS
srtp_allowed = yes
[directory-number "1001"]
digest_password = phone-secret
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

# baresip with its mwi module, its SIP trace (-s) and ctrl_tcp, whose
# events go to the newest connection: ours, opened before it registers.
CTRL=$(free_port)
BSIP=$(free_port)
mkdir -p bs
cat >bs/config <<BSCONF
# baresip for the ngvoice MWI interop test
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
module mwi.so
module ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:$CTRL
BSCONF
# regint is long: the registration must not be refreshed during the test.
echo "<sip:1001@127.0.0.1:$TLS;transport=tls>;auth_pass=phone-secret;regint=600;mediaenc=srtp-mand;audio_codecs=pcmu" >bs/accounts
timeout 60 baresip -4 -s -f "$TMP/bs" -t 50 </dev/null >bs.log 2>&1 &
BS=$!
PIDS+=($BS)
for i in $(seq 1 50); do
	{ exec 5<>/dev/tcp/127.0.0.1/$CTRL; } 2>/dev/null && break
	sleep 0.1
done
timeout 55 cat <&5 >events.out 2>/dev/null &
PIDS+=($!)
exec 5>&-
wait_log cm.log "line 1001 registered" 15 || die "baresip did not register 1001" cm.log bs.log
ok "$(grep -o 'registrar: line 1001 registered .*' cm.log | head -1)"
sleep 1

# The trunk peer: one mutual TLS connection, as a voicemail server keeps.
mkfifo peer.in
exec 4<>peer.in
timeout 50 openssl s_client -connect 127.0.0.1:$TLS -tls1_2 -quiet \
	-cert vm/tomcat.pem -key vm/tomcat.key <peer.in >peer.out 2>peer.err &
PEER=$!
PIDS+=($PEER)
NSEQ=0
notify() { # BODY: one unsolicited NOTIFY for 1001; waits for its answer
	NSEQ=$((NSEQ + 1))
	local body=$1
	printf '%s\r\n' \
		"NOTIFY sip:1001@cucm.ngvoice.localhost:$TLS;transport=tls SIP/2.0" \
		"Via: SIP/2.0/TLS 127.0.0.1:$VMTLS;branch=z9hG4bK-mwi$$-$NSEQ" \
		"Max-Forwards: 70" \
		"From: <sip:2000@cuc.ngvoice.localhost>;tag=vm$$-$NSEQ" \
		"To: <sip:1001@cucm.ngvoice.localhost>" \
		"Call-ID: mwi-$$-$NSEQ@cuc.ngvoice.localhost" \
		"CSeq: 1 NOTIFY" \
		"Contact: <sip:2000@127.0.0.1:$VMTLS;transport=tls>" \
		"Event: message-summary" \
		"Subscription-State: terminated;reason=timeout" \
		"Content-Type: application/simple-message-summary" \
		"Content-Length: ${#body}" \
		"" >&4
	printf '%s' "$body" >&4
	wait_log peer.out "^Call-ID: mwi-$$-$NSEQ@" 10
}
# peer_code N: the status code the call manager gave NOTIFY number N
peer_code() {
	awk -v c="mwi-$$-$1@cuc.ngvoice.localhost" '/^SIP\/2.0 / { s = $2 }
		/^Call-ID:/ { v = $2; sub(/\r$/, "", v); if (v == c) { print s; exit } }' peer.out
}
# baresip's trace as records: "NOTIFY CALLID MW TRANSPORT VOICE" for each
# NOTIFY it got, "REPLY CALLID CODE REASON" for each answer it sent to one.
trace() {
	tr -d '\r' <bs.log | awk '
	function flush() {
		if (kind == "N") print "NOTIFY", cid, mw, tp, vm
		else if (kind == "R" && meth == "NOTIFY") print "REPLY", cid, code, reason
		kind = ""
	}
	/^(TLS|TCP|UDP) [0-9.:]+ -> [0-9.:]+$/ { flush(); tp = $1; next }
	/^NOTIFY sip:/ { flush(); kind = "N"; cid = mw = vm = "-"; next }
	/^SIP\/2.0 [0-9]+/ { flush(); kind = "R"; code = $2; reason = $3
		for (i = 4; i <= NF; i++) reason = reason "_" $i; meth = ""; next }
	/^[A-Z]+ sip:/ { flush(); next }
	kind && /^Call-ID:/ { cid = $2 }
	kind && /^CSeq:/ { meth = $3 }
	kind == "N" && /^Messages-Waiting:/ { mw = $2 }
	kind == "N" && /^Voice-Message:/ { vm = $2 " " $3 }
	END { flush() }'
}
# check_phone WHAT MW VOICE: the newest NOTIFY baresip got carries
# Messages-Waiting MW and Voice-Message VOICE; says what baresip answered.
check_phone() {
	local what=$1 mw=$2 voice=$3 rec cid reply i nref
	for i in $(seq 1 50); do
		rec=$(trace | awk '$1 == "NOTIFY"' | tail -1)
		cid=$(awk '{ print $2 }' <<<"$rec")
		reply=$(trace | awk -v c="$cid" '$1 == "REPLY" && $2 == c { print $3, $4 }' | tail -1)
		[ -n "$reply" ] && [ "$(awk '{ print $3 }' <<<"$rec")" = "$mw" ] && break
		sleep 0.1
	done
	if [ "$(awk '{ print $3 }' <<<"$rec")" != "$mw" ] ||
		[ "$(awk '{ print $4 }' <<<"$rec")" != TLS ] ||
		[ "$(cut -d' ' -f5- <<<"$rec")" != "$voice" ]; then
		bad "$what: baresip's last NOTIFY is '$rec', want Messages-Waiting: $mw over TLS, Voice-Message: $voice"
		return
	fi
	ok "$what: baresip got NOTIFY (Event: message-summary) over its TLS flow: Messages-Waiting: $mw, Voice-Message: $voice"
	case $reply in
	200*) ok "$what: baresip took it (200)" ;;
	481*)
		# libre: a NOTIFY outside a subscription of its own.
		ok "$what: baresip 1.0 answered ${reply//_/ } (it takes no unsolicited NOTIFY)"
		for i in $(seq 1 50); do
			nref=$(grep -c "mwi: a phone did not take the NOTIFY (refused)" cm.log || true)
			[ "$nref" -ge "$REFUSED" ] && break
			sleep 0.1
		done
		[ "$nref" -ge "$REFUSED" ] &&
			ok "$what: the call manager logged the phone's refusal (mwi: a phone did not take the NOTIFY (refused))" ||
			bad "$what: the call manager did not log that the phone refused the NOTIFY"
		;;
	*) bad "$what: baresip answered '${reply//_/ }'" ;;
	esac
}
# The state a phone shows: baresip logs nothing and emits no MWI event for
# these; if a later baresip does, it is reported here.
phone_state() {
	if grep -q '"MWI_NOTIFY"' events.out; then
		ok "$1: ctrl_tcp MWI_NOTIFY: $(grep -o '"MWI_NOTIFY"[^}]*' events.out | tail -1)"
	else
		ok "$1: baresip 1.0 shows no MWI state (no MWI_NOTIFY event, no log line)"
	fi
}

# 0. At registration the call manager sends the line's state (off).
wait_log bs.log "^Messages-Waiting: no" 5 &&
	ok "at registration baresip got the line's state: $(trace | awk '$1 == "NOTIFY"' | head -1 | cut -d' ' -f3) (answered $(trace | awk '$1 == "REPLY"' | head -1 | cut -d' ' -f3))" ||
	bad "no NOTIFY with the line's state at registration"

# 1. Lamp on. (REFUSED: how many refusals the call manager has logged
# if baresip refuses every NOTIFY so far, the one at registration included.)
REFUSED=2
notify $'Messages-Waiting: yes\r\nVoice-Message: 1/0 (0/0)\r\n' ||
	die "the call manager did not answer the first NOTIFY" peer.out peer.err cm.log
[ "$(peer_code 1)" = 200 ] && ok "the trunk peer's NOTIFY (Messages-Waiting: yes) was taken: 200" ||
	bad "NOTIFY 1 answered $(peer_code 1): $(cat peer.out)"
wait_log cm.log "mwi: line 1001 lamp on (from trunk CUCv11), 1 phone(s)" 5 &&
	ok "$(grep -o 'mwi: line 1001 lamp on.*' cm.log | head -1)" ||
	bad "the call manager did not turn line 1001's lamp on"
"$NGV" status lines --config cm.conf >st1.txt
grep -q "line 1001 (Encrypted): registered.*message waiting" st1.txt &&
	ok "ngvoice status lines: $(grep 'line 1001' st1.txt)" ||
	bad "status lines after lamp on: $(cat st1.txt)"
check_phone "lamp on" yes "1/0 (0/0)"
phone_state "lamp on"

# 2. Lamp off.
REFUSED=3
notify $'Messages-Waiting: no\r\nVoice-Message: 0/0 (0/0)\r\n' ||
	die "the call manager did not answer the second NOTIFY" peer.out peer.err cm.log
[ "$(peer_code 2)" = 200 ] && ok "the trunk peer's NOTIFY (Messages-Waiting: no) was taken: 200" ||
	bad "NOTIFY 2 answered $(peer_code 2): $(cat peer.out)"
wait_log cm.log "mwi: line 1001 lamp off (from trunk CUCv11), 1 phone(s)" 5 &&
	ok "$(grep -o 'mwi: line 1001 lamp off.*' cm.log | head -1)" ||
	bad "the call manager did not turn line 1001's lamp off"
"$NGV" status lines --config cm.conf >st2.txt
grep -q "line 1001 (Encrypted): registered" st2.txt && ! grep -q "message waiting" st2.txt &&
	ok "ngvoice status lines: $(grep 'line 1001' st2.txt)" ||
	bad "status lines after lamp off: $(cat st2.txt)"
check_phone "lamp off" no "0/0 (0/0)"
phone_state "lamp off"
n=$(trace | awk '$1 == "NOTIFY"' | wc -l)
[ "$n" = 3 ] && ok "baresip got 3 NOTIFYs in all (registration, on, off)" ||
	bad "baresip got $n NOTIFYs, want 3: $(trace)"

# baresip unregisters when it stops: let it while the call manager is up.
kill "$BS" 2>/dev/null || true
wait "$BS" 2>/dev/null || true
[ "$FAILS" = 0 ]
