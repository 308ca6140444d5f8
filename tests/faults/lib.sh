# Shared helpers for the fault suite: certificates, the two daemons' configs,
# starting, killing and restarting them by PID, phones, checks.
# A case sets NGV, WAVCORR, PROMPTS from its arguments, then sources this.
# shellcheck shell=bash
. "$(dirname "$0")/../interop/lib.sh"
command -v sox >/dev/null || { echo "SKIP: sox is needed to make test audio"; exit 77; }
[ -f "$PROMPTS/opening_greeting.wav" ] || { echo "no prompts in $PROMPTS (build ngv_prompts)" >&2; exit 1; }

NGV=$(realpath "$NGV")
WAVCORR=$(realpath "$WAVCORR")
PROMPTS=$(realpath "$PROMPTS")
CASE=$(basename "$0" .sh)
KNOWN=0
PASSES=0
ok() { echo "ok   $*"; PASSES=$((PASSES + 1)); }
# known_fail WHAT: a fault the suite found that needs more than a small fix.
known_fail() { echo "KNOWN FAIL: $*"; KNOWN=$((KNOWN + 1)); }
NETNS=()
MOUNTS=()
# stop_all: SIGTERM to every process started, SIGKILL after 5 s.
stop_all() {
	local p
	for p in "${PIDS[@]:-}"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]:-}"; do
		[ -n "$p" ] || continue
		wait_for 5 eval "! kill -0 $p 2>/dev/null" || kill -9 "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
}
fault_cleanup() {
	local rc=$? n
	set +e # a case under set -e must still clean up after a failure
	stop_all
	for n in "${MOUNTS[@]:-}"; do
		[ -n "$n" ] && umount -l "$n" 2>/dev/null || true
	done
	for n in "${NETNS[@]:-}"; do
		[ -n "$n" ] && ip netns del "$n" 2>/dev/null || true
	done
	if [ -n "${KEEP:-}" ]; then # processes stopped, the directory kept
		echo "kept $TMP" >&2
		! declare -F release_ports >/dev/null || release_ports
	else
		(exit "$rc") # cleanup looks at the exit status
		cleanup
	fi
}
trap fault_cleanup EXIT
# timeout(1) sends SIGTERM: exit through the EXIT trap, which cleans up.
trap "exit 143" TERM INT
# finish: the case's closing line; exit 1 only on real failures.
finish() {
	# Stop the daemons cleanly: the sanitizers report at exit.
	stop_all
	if grep -l -E "ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:" "$TMP"/*.log >/dev/null 2>&1; then
		bad "sanitizer reports in $(grep -l -E 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' "$TMP"/*.log | xargs -n1 basename | tr '\n' ' ')"
		grep -h -A12 -E "ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:" "$TMP"/*.log | head -60 >&2
	fi
	echo "$CASE: $PASSES passed, $FAILS failed, $KNOWN known failures"
	[ "$FAILS" = 0 ]
	exit $?
}

# wait_for SECONDS CMD...: polls CMD every 0.1 s.
wait_for() {
	local n=$(($1 * 10)) i
	shift
	for i in $(seq 1 $n); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
# wait_log FILE PATTERN SECONDS (a grep -E pattern)
# (the log may not exist yet: the daemon's redirect races the first look)
log_has() { grep -Eq -- "$2" "$1" 2>/dev/null; }
wait_log() { wait_for "$3" log_has "$1" "$2"; }
now_ms() { date +%s%3N; }
# mark FILE: remembers how many lines FILE has; wait_new FILE PATTERN SECONDS
# then looks only at the lines written after the mark.
declare -A MARK
mark() { MARK[$1]=$(($(wc -l <"$1") + 1)); }
new_lines() { tail -n +"${MARK[$1]:-1}" "$1"; }
grep_new() { new_lines "$1" | grep -Eq -- "$2"; }
wait_new() { wait_for "$3" grep_new "$1" "$2"; }

# ---- certificates and configuration ----
# Addresses: CM_IP where the call manager listens for the trunk, VM_IP for
# the voicemail server; CM_EXEC / VM_EXEC prefix their commands (a netns).
CM_IP=${CM_IP:-127.0.0.1}
VM_IP=${VM_IP:-127.0.0.1}
CM_HOST=${CM_HOST:-cucm.ngvoice.localhost}
CM_EXEC=${CM_EXEC:-}
VM_EXEC=${VM_EXEC:-}
PING_IN=${PING_IN:-5}
PING_OUT=${PING_OUT:-2}

make_certs() {
	"$NGV" cert generate --role callmanager --cn cucm.ngvoice.localhost \
		--san cucm.ngvoice.localhost --san "IP:$CM_IP" --out cm >/dev/null
	"$NGV" cert generate --role callmanager-ecdsa --cn cucm-EC.ngvoice.localhost \
		--san cucm.ngvoice.localhost --san "IP:$CM_IP" --out cm >/dev/null
	"$NGV" cert generate --role tomcat --cn cuc.ngvoice.localhost --out vm >/dev/null
	"$NGV" cert generate --role tomcat-ecdsa --cn cuc-EC.ngvoice.localhost \
		--san cuc.ngvoice.localhost --out vm >/dev/null
	"$NGV" cert generate --role tomcat --cn phone.ngvoice.localhost --out ph >/dev/null
	cat vm/tomcat.pem vm/tomcat-ECDSA.pem ph/tomcat.pem >callmanager-trust.pem
	cat cm/CallManager.pem cm/CallManager-ECDSA.pem >vm-callmanager-trust.pem
	cp vm-callmanager-trust.pem phone-trust.pem
}

write_configs() {
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
pid_file = $TMP/cm.pid
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
options_ping_interval_in_service = $PING_IN
options_ping_interval_out_of_service = $PING_OUT
[sip-trunk "CUCv11"]
destination = $VM_IP:$VMTLS
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
[directory-number "1003"]
digest_password = third-secret
voice_mail_profile = VoiceMailProfile-8000
forward_all_to_voicemail = yes
CONF
	cat >vm.conf <<CONF
[general]
host_name = cuc.ngvoice.localhost
listen_address = $VM_IP
sip_tls_port = $VMTLS
sip_port = $VMSIP
storage_path = $TMP/store
prompts_dir = $PROMPTS
control_socket = $TMP/vm.sock
pid_file = $TMP/vm.pid
maximum_message_length = 60
${VM_EXTRA_GENERAL:-}
[certificates]
tomcat = vm/tomcat.pem
tomcat_key = vm/tomcat.key
tomcat_ecdsa = vm/tomcat-ECDSA.pem
tomcat_ecdsa_key = vm/tomcat-ECDSA.key
callmanager_trust = vm-callmanager-trust.pem
[port-group "PhoneSystem-1"]
contact_line_name = 2000
ip_address_or_host_name = $CM_HOST
port = $TLS
[ports "PhoneSystem-1"]
number_of_ports = 2
[mailbox "1002"]
owner_name = Bob Example
pin = 24680
[mailbox "1003"]
owner_name = Carol Example
pin = 13579
CONF
	chmod 600 cm.conf vm.conf
}

# ---- the daemons, by PID ----
VM_N=0
CM_N=0
# start_vm: a new vm$N.log; VM_PID, VM_LOG. Waits for the SIP listener.
start_vm() {
	VM_N=$((VM_N + 1))
	VM_LOG=$TMP/vm$VM_N.log
	$VM_EXEC "$NGV" voicemail --config "$TMP/vm.conf" >"$VM_LOG" 2>&1 &
	VM_PID=$!
	PIDS+=($VM_PID)
	wait_log "$VM_LOG" "voicemail cuc.ngvoice.localhost: SIP" 10 || {
		bad "voicemail did not start"
		cat "$VM_LOG" >&2
		finish
	}
}
start_cm() {
	CM_N=$((CM_N + 1))
	CM_LOG=$TMP/cm$CM_N.log
	$CM_EXEC "$NGV" callmanager --config "$TMP/cm.conf" >"$CM_LOG" 2>&1 &
	CM_PID=$!
	PIDS+=($CM_PID)
	wait_log "$CM_LOG" "TLS on .*:$TLS" 10 || {
		bad "callmanager did not start"
		cat "$CM_LOG" >&2
		finish
	}
}
# kill9 PID: SIGKILL and reap it.
kill9() {
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
# stop PID: SIGTERM, then SIGKILL after 5 s.
stop() {
	kill "$1" 2>/dev/null || true
	wait_for 5 eval "! kill -0 $1 2>/dev/null" || kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
alive() { kill -0 "$1" 2>/dev/null; }

wait_full_service() { # LOG SECONDS
	wait_log "$1" "trunk CUCv11: Full Service" "$2"
}

# ---- phones (ngvoice phone), run in the call manager's namespace ----
phone() { # USER PASSWORD ARGS...
	local u=$1 p=$2
	shift 2
	NGV_PHONE_PASSWORD=$p $CM_EXEC "$NGV" phone --registrar "cucm.ngvoice.localhost:$TLS" \
		--cert ph/tomcat.pem --key ph/tomcat.key --trust phone-trust.pem \
		--user "$u" "$@"
}

# phone_bg OUT USER PASSWORD ARGS...: in the background; PH_PID is the
# phone itself (not a subshell), so a signal reaches it.
phone_bg() {
	local out=$1 u=$2 p=$3
	shift 3
	NGV_PHONE_PASSWORD=$p $CM_EXEC "$NGV" phone --registrar "cucm.ngvoice.localhost:$TLS" \
		--cert ph/tomcat.pem --key ph/tomcat.key --trust phone-trust.pem \
		--user "$u" "$@" >"$out" 2>&1 &
	PH_PID=$!
	PIDS+=($PH_PID)
}

# tone FILE SECONDS [HZ]: 8 kHz mono 16-bit sine.
tone() { sox -n -r 8000 -c 1 -b 16 "$1" synth "$2" sine "${3:-440}" vol 0.5 2>/dev/null; }

# ---- the store ----
need_sqlite3() {
	command -v sqlite3 >/dev/null || { echo "SKIP: the sqlite3 command (package sqlite3) is needed to read the store"; exit 77; }
}
# sq SQL: one query on the message store, read-only.
sq() { sqlite3 -readonly "file:$TMP/store/ngvoice.db?mode=ro" "$1"; }
# wav_ms FILE: duration of a WAV from its size (PCM16 or 8-bit) and header.
wav_ms() { soxi -D "$1" 2>/dev/null | awk '{ printf "%d\n", $1 * 1000 }'; }
# store_consistent: every row has its file, every file its row, durations
# agree with the audio within 250 ms, no .part or sidecar left.
store_consistent() {
	local ok=0 id mbx file dur ms f
	while IFS='|' read -r id mbx file dur; do
		f=$TMP/store/messages/$mbx/$file
		if [ ! -f "$f" ]; then
			echo "     row $id: $f missing" >&2
			ok=1
			continue
		fi
		ms=$(wav_ms "$f")
		if [ -z "$ms" ] || [ $((ms - dur)) -gt 250 ] || [ $((dur - ms)) -gt 250 ]; then
			echo "     row $id: duration_ms $dur, the file has ${ms:-no audio} ms" >&2
			ok=1
		fi
	done < <(sq "SELECT id, mailbox, file, duration_ms FROM messages")
	for f in "$TMP"/store/messages/*/*; do
		[ -e "$f" ] || continue
		case $f in
		*.wav)
			[ "$(sq "SELECT count(*) FROM messages WHERE file = '$(basename "$f")'")" = 1 ] || {
				echo "     $f has no row" >&2
				ok=1
			} ;;
		*)
			echo "     left over: $f" >&2
			ok=1 ;;
		esac
	done
	return $ok
}

# ---- trunk checks ----
# status_trunk STATUS: `ngvoice status trunks` shows CUCv11 in STATUS.
status_trunk() {
	$CM_EXEC "$NGV" status trunks --config "$TMP/cm.conf" >"$TMP/trunks.txt" 2>&1 || true
	grep -q "$1" "$TMP/trunks.txt" && ok "status trunks: $1" ||
		{ bad "status trunks is not $1:"; cat "$TMP/trunks.txt" >&2; }
}
# pilot_answers WHEN: a phone (1001) calls 2000 and is answered.
pilot_answers() {
	local t=$(now_ms)
	if phone 1001 phone-secret --dial 2000 --duration 1 >"$TMP/pa.out" 2>&1; then
		ok "call to the pilot answered $1 ($(grep -o '^answered: [0-9]* [A-Za-z ]*' "$TMP/pa.out"), $(($(now_ms) - t)) ms with a 1 s call)"
	else
		bad "call to the pilot $1: $(cat "$TMP/pa.out")"
	fi
}
# pilot_fails_fast NUMBER WHEN: the call fails within 5 s with a final
# response (no hang): 503 from the call manager.
pilot_fails_fast() {
	local t=$(now_ms) rc=0 el
	timeout 40 env NGV_PHONE_PASSWORD=phone-secret $CM_EXEC "$NGV" phone \
		--registrar "cucm.ngvoice.localhost:$TLS" --cert ph/tomcat.pem \
		--key ph/tomcat.key --trust phone-trust.pem --user 1001 \
		--dial "$1" --duration 1 >"$TMP/pf.out" 2>&1 || rc=$?
	el=$(($(now_ms) - t))
	if [ "$rc" = 1 ] && [ "$el" -lt 5000 ] && grep -q "^call-failed: $1: 503" "$TMP/pf.out"; then
		ok "$2: the call to $1 fails in $el ms (registration included): $(grep -o "^call-failed: .*" "$TMP/pf.out")"
	else
		bad "$2: call to $1: exit $rc after $el ms: $(cat "$TMP/pf.out")"
	fi
}
