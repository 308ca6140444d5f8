#!/usr/bin/env bash
# Interop: sipp calls the voicemail pilot over TLS. sipp has no TLS: it speaks
# TCP (-t t1, one connection) into stunnel4 in client mode (TLS 1.2, the NGE
# suites, mutual TLS with a phone certificate, the call manager's certificate
# and name verified), which connects to `ngvoice callmanager`'s TLS port. Each
# call registers line 1001 (MD5 digest) and calls 2000 with an SDES offer;
# the call manager routes it over the secure trunk to `ngvoice voicemail`,
# which answers 200; sipp ACKs and hangs up. Every call must succeed, and both
# daemons must show them.
# usage: sipp_tls_vm.sh NGVOICE PROMPTS_DIR [CALLS]
NGV=$1
PROMPTS=$2
CALLS=${3:-20}
. "$(dirname "$0")/lib.sh"
need_sipp
STUNNEL=$(command -v stunnel4 || command -v stunnel || true)
[ -n "$STUNNEL" ] || { echo "stunnel4 not installed (scripts/deps.sh)" >&2; exit 1; }
SCEN="$(cd "$(dirname "$0")" && pwd)/sipp/uac_srtp.xml"

cd "$TMP"
[ -n "${KEEP:-}" ] && trap - EXIT && echo "keeping $TMP" >&2
CM_NAME=cucm.ngvoice.localhost
"$NGV" cert generate --role callmanager --cn $CM_NAME --out cm >/dev/null 2>&1
"$NGV" cert generate --role callmanager-ecdsa --cn cucm-EC.ngvoice.localhost \
	--san $CM_NAME --out cm >/dev/null 2>&1
"$NGV" cert generate --role tomcat --cn cuc.ngvoice.localhost --out vm >/dev/null 2>&1
"$NGV" cert generate --role tomcat-ecdsa --cn cuc-EC.ngvoice.localhost \
	--san cuc.ngvoice.localhost --out vm >/dev/null 2>&1
openssl req -x509 -newkey ec:<(openssl ecparam -name prime256v1) -nodes \
	-keyout phone.key -out phone.crt -days 2 -subj "/CN=sipp1001.ngvoice.localhost" \
	-addext "extendedKeyUsage=clientAuth,serverAuth" 2>/dev/null
chmod 600 phone.key
cat vm/tomcat.pem vm/tomcat-ECDSA.pem phone.crt >callmanager-trust.pem
cat cm/CallManager.pem cm/CallManager-ECDSA.pem >cm-trust.pem

SIP=$(free_port)
TLS=$(free_port)
TFTP=$(free_port)
VMTLS=$(free_port)
VMSIP=$(free_port)
# sipp's digest is MD5 only.
cat >cm.conf <<CONF
[enterprise]
host_name = $CM_NAME
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
digest_password = sipp-secret
voice_mail_profile = VoiceMailProfile-8000
CONF
cat cm/CallManager.pem cm/CallManager-ECDSA.pem >vm-callmanager-trust.pem
cat >vm.conf <<CONF
[general]
host_name = cuc.ngvoice.localhost
listen_address = 127.0.0.1
sip_tls_port = $VMTLS
sip_port = $VMSIP
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
ip_address_or_host_name = $CM_NAME
port = $TLS
[ports "PhoneSystem-1"]
number_of_ports = 8
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
"$NGV" voicemail --config vm.conf >vm.log 2>&1 &
PIDS+=($!)
wait_log vm.log "voicemail cuc.ngvoice.localhost: SIP" 5 || die "voicemail did not start" vm.log
"$NGV" callmanager --config cm.conf >cm.log 2>&1 &
PIDS+=($!)
wait_log cm.log "trunk CUCv11: Full Service" 12 || die "trunk CUCv11 not in Full Service" cm.log vm.log
ok "trunk CUCv11 to ngvoice voicemail: Full Service"

# stunnel: TCP in on 127.0.0.1:$ST, TLS 1.2 out with the NGE suites.
ST=$(free_port)
cat >stunnel.conf <<CONF
foreground = yes
pid =
output = $TMP/stunnel.log
debug = info
[sip-tls]
client = yes
accept = 127.0.0.1:$ST
connect = 127.0.0.1:$TLS
sslVersionMin = TLSv1.2
sslVersionMax = TLSv1.2
ciphers = ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256
CAfile = $TMP/cm-trust.pem
verifyChain = yes
checkHost = $CM_NAME
cert = $TMP/phone.crt
key = $TMP/phone.key
options = NO_TICKET
CONF
"$STUNNEL" stunnel.conf >stunnel.out 2>&1 &
PIDS+=($!)
# listening: in /proc/net/tcp as 0100007F:PORT with state 0A
for i in $(seq 1 50); do
	grep -qi "0100007F:$(printf '%04X' "$ST") 00000000:0000 0A" /proc/net/tcp && break
	sleep 0.1
done

# The call manager sends the line's MWI state (NOTIFY) when it registers:
# sipp answers it 200 with its built-in out-of-call scenario.
printf 'SEQUENTIAL\n%s;1001;\n' "$CM_NAME" >fields.csv
timeout 120 sipp -sf "$SCEN" "127.0.0.1:$ST" -s 2000 -inf fields.csv -oocsn ooc_default \
	-au 1001 -ap sipp-secret -i 127.0.0.1 -p "$(free_port)" -t t1 \
	-m "$CALLS" -r 5 -l 4 -nostdin -timeout 90s -timeout_error \
	-trace_stat -stf "$TMP/stat.csv" -trace_err -error_file "$TMP/sipp-errors.log" \
	>sipp.out 2>&1 || die "sipp: not all $CALLS calls succeeded" sipp.out sipp-errors.log cm.log vm.log stunnel.log

grep -q "TLSv1.2 ciphersuite: ECDHE-" stunnel.log &&
	ok "stunnel: $(grep -o 'TLSv1.2 ciphersuite: [A-Z0-9-]*' stunnel.log | head -1), server certificate verified" ||
	bad "stunnel did not negotiate TLS 1.2 with an ECDHE suite: $(grep -i 'ciphersuite\|error' stunnel.log | head -3)"
# The summary line sipp prints: successful and failed calls.
succ=$(awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "SuccessfulCall(C)") s = i; next }
	{ v = $s } END { print v + 0 }' stat.csv)
[ "$succ" = "$CALLS" ] && ok "sipp: $CALLS calls over TLS through stunnel, all succeeded" ||
	bad "sipp: $succ of $CALLS calls succeeded"

wait_log vm.log "call $CALLS: ended" 10 || bad "the voicemail server did not end call $CALLS"
n=$(grep -c "): from 1001 on port [0-9]* of PhoneSystem-1, TLSv1.2 [A-Z0-9-]*, SRTP AES_CM_128_HMAC_SHA1_80" vm.log || true)
[ "$n" = "$CALLS" ] && ok "voicemail: $n calls from 1001 over TLS with SRTP AES_CM_128_HMAC_SHA1_80" ||
	bad "voicemail answered $n of $CALLS calls with SRTP: $(grep -m3 'call [0-9]* (Call-ID' vm.log)"
n=$(grep -c "call [0-9]*: ended (the caller hung up)" vm.log || true)
[ "$n" = "$CALLS" ] && ok "voicemail: all $n calls ended by the caller's BYE" ||
	bad "voicemail: $n of $CALLS calls ended by the caller's BYE"
n=$(grep -c "call [0-9]*: 1001 -> 2000 via trunk CUCv11 over TLS" cm.log || true)
[ "$n" = "$CALLS" ] && ok "call manager: $n calls 1001 -> 2000 over trunk CUCv11" ||
	bad "call manager routed $n of $CALLS calls: $(grep -m3 'call [0-9]*:' cm.log)"
n=$(grep -c "call [0-9]*: 2000 via trunk CUCv11 answered, security Encrypted" cm.log || true)
[ "$n" = "$CALLS" ] && ok "call manager: $n calls answered by voicemail, security Encrypted" ||
	bad "call manager: $n of $CALLS calls answered Encrypted"
grep -q "mwi: a phone did not take the NOTIFY" cm.log &&
	bad "sipp did not take the MWI NOTIFY: $(grep -m1 'did not take the NOTIFY' cm.log)"
"$NGV" status ports --json --config vm.conf >st.json
grep -q '"state":"busy"' st.json &&
	bad "voicemail ports after the run: $(cat st.json)" ||
	ok "voicemail ports idle after $CALLS calls"

[ "$FAILS" = 0 ]
