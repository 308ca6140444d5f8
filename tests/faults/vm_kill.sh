#!/usr/bin/env bash
# Fault: kill -9 of the voicemail server during a recording, then restart.
# Every message committed before is intact (audio and row agree); the
# interrupted one is kept as recorded so far (reason "interrupted") or absent
# with a log line, never a corrupt row; the counts and the MWI lamp sent
# afterwards are right.
# usage: vm_kill.sh NGVOICE WAVCORR PROMPTS_DIR
NGV=$1
WAVCORR=$2
PROMPTS=$3
. "$(dirname "$0")/lib.sh"
need_sqlite3
cd "$TMP"
make_certs
write_configs
start_vm
start_cm
wait_full_service "$CM_LOG" 10 || { bad "trunk not in Full Service"; tail "$CM_LOG" >&2; finish; }
ok "trunk CUCv11 in Full Service"
tone long.wav 50 440

# leave N: 1001 calls NUMBER (forwarded to voicemail), the phone plays a
# tone; returns once the voicemail server is recording (PH_PID: the phone).
leave() {
	phone_bg "ph$2.out" 1001 phone-secret --dial "$1" --play long.wav --duration 55
	wait_log "$VM_LOG" "call $2: recording a message for mailbox $1" 30
}

# 1. A message committed normally: 3 s of tone, then the phone hangs up.
leave 1002 1 || { bad "call 1 did not reach the recording"; tail "$VM_LOG" >&2; finish; }
sleep 3
kill "$PH_PID"; wait "$PH_PID" 2>/dev/null || true
wait_log "$VM_LOG" "call 1: message [0-9]+ left in mailbox 1002" 10 &&
	ok "$(grep -Eo 'message [0-9]+ left in mailbox 1002.*' "$VM_LOG")" ||
	{ bad "message 1 not committed"; tail "$VM_LOG" >&2; finish; }
wait_log "$CM_LOG" "mwi: line 1002 lamp on" 10 && ok "lamp on for 1002 at the call manager" ||
	bad "no MWI for 1002"
before=$(sq "SELECT id, file, duration_ms FROM messages WHERE mailbox = '1002'")
sum1=$(sha256sum store/messages/1002/*.wav | awk '{ print $1 }')

# 2. kill -9 of the voicemail server 4 s into a recording for 1003, whose
# lamp was never on.
leave 1003 2 || { bad "call 2 did not reach the recording"; tail "$VM_LOG" >&2; finish; }
sleep 4
t0=$(now_ms)
kill9 "$VM_PID"
ok "voicemail server killed with SIGKILL 4 s into the recording"
ls store/messages/1003/*.wav.part >/dev/null 2>&1 && ok "the recording is on disk as .wav.part" ||
	bad "no .wav.part after the kill: $(ls -R store/messages)"
# The call manager notices the dead trunk; the phone's call ends.
if wait_for 10 eval "! kill -0 $PH_PID 2>/dev/null"; then
	ok "the caller's call ended ($(grep -E '^(ended|call-failed)' ph2.out | head -1))"
else
	known_fail "the caller's call is still up 10 s after the voicemail server died: the call manager does not end calls whose trunk connection closed (no BYE to the caller until it hangs up)"
	kill "$PH_PID" 2>/dev/null || true
	wait "$PH_PID" 2>/dev/null || true
fi
wait_for 10 eval '$CM_EXEC "$NGV" status calls --config cm.conf | grep -q "^\[\]"' &&
	ok "the caller hung up: no call left at the call manager" ||
	{ bad "stale call at the call manager"; $CM_EXEC "$NGV" status calls --config cm.conf >&2; }

mark "$CM_LOG"
start_vm
t1=$(now_ms)
ok "voicemail server restarted ($(((t1 - t0))) ms after the kill)"
if grep -q "recording .* interrupted by a crash kept" "$VM_LOG"; then
	ok "recovery: $(grep -o 'store: mailbox 1003: recording .*' "$VM_LOG" | head -1)"
	kept=1
elif grep -Eq "store: mailbox 1003: interrupted recording .* (is not a|has only)" "$VM_LOG"; then
	ok "recovery dropped it with a log line: $(grep -o 'store: mailbox 1003: interrupted .*' "$VM_LOG" | head -1)"
	kept=0
else
	bad "no recovery line for the interrupted recording"
	cat "$VM_LOG" >&2
	kept=0
fi
[ "$(sq "SELECT id, file, duration_ms FROM messages WHERE mailbox = '1002'")" = "$before" ] &&
	[ "$(sha256sum store/messages/1002/*.wav | awk '{ print $1 }')" = "$sum1" ] &&
	ok "message 1 intact: same row, same audio (sha256)" || bad "message 1 changed"
if store_consistent; then ok "store consistent: every row has its audio, durations agree, no .part left"; else bad "store inconsistent"; fi
if [ "$kept" = 1 ]; then
	row=$(sq "SELECT reason, duration_ms, caller_id FROM messages WHERE mailbox = '1003'")
	IFS='|' read -r reason dur caller <<<"$row"
	[ "$reason" = interrupted ] && [ "$dur" -ge 2000 ] && [ "$dur" -le 6000 ] &&
		ok "interrupted message kept: reason $reason, $dur ms, caller $caller" ||
		bad "interrupted message row: $row"
	f=$(ls store/messages/1003/*.wav)
	tone ref.wav 2 440
	c=$("$WAVCORR" "$f" ref.wav)
	awk -v p="$(sed 's/corr=\([-0-9.]*\).*/\1/' <<<"$c")" 'BEGIN { exit !(p >= 0.8) }' &&
		ok "its audio is the caller's tone ($c)" || bad "its audio: $c"
	want_new=1 want_lamp=on
else
	want_new=0 want_lamp=off
fi

$CM_EXEC "$NGV" status mailboxes --config vm.conf >st.txt
grep -Eq "^1002 +Bob Example +1 +0 " st.txt && grep -Eq "^1003 +Carol Example +$want_new +0 " st.txt &&
	ok "status mailboxes: 1002 1 new, 1003 $want_new new" || { bad "status mailboxes"; cat st.txt >&2; }
# A fast restart may come before the next OPTIONS ping saw the trunk down.
if wait_new "$CM_LOG" "trunk CUCv11: Full Service" 15; then
	ok "trunk back to Full Service $(($(now_ms) - t1)) ms after the restart"
elif $CM_EXEC "$NGV" status trunks --config cm.conf | grep -q "CUCv11 (TLS): Full Service"; then
	ok "trunk in Full Service (the restart came before a ping saw it down)"
else
	bad "trunk not back in Full Service"
fi
if [ "$want_lamp" = on ]; then
	wait_log "$CM_LOG" "mwi: line 1003 lamp on" 20 && ok "after the restart: $(grep -o 'mwi: line 1003 lamp on.*' "$CM_LOG")" ||
		bad "no lamp-on NOTIFY for 1003 after the restart"
else
	sleep 3
	grep -q "mwi: line 1003 lamp on" "$CM_LOG" && bad "lamp on for 1003 with no message" || ok "no lamp for 1003"
fi
phone 1003 third-secret --wait-mwi 8 >mwi3.out 2>&1 || true
grep -q "^mwi: $([ $want_lamp = on ] && echo yes || echo no)" mwi3.out &&
	ok "phone 1003 sees the lamp $want_lamp: $(grep '^mwi' mwi3.out | head -1)" || { bad "phone 1003's lamp"; cat mwi3.out >&2; }
phone 1002 other-secret --wait-mwi 8 >mwi2.out 2>&1 || true
grep -q "^mwi: yes" mwi2.out && ok "phone 1002 sees the lamp on: $(grep '^mwi' mwi2.out | head -1)" || { bad "phone 1002's lamp"; cat mwi2.out >&2; }

# The restarted server takes new messages.
leave 1002 1 || { bad "no recording after the restart"; tail "$VM_LOG" >&2; finish; }
sleep 2
kill "$PH_PID"; wait "$PH_PID" 2>/dev/null || true
wait_log "$VM_LOG" "message [0-9]+ left in mailbox 1002" 10 && ok "a new message after the restart: $(grep -Eo 'message [0-9]+ left in mailbox 1002.*' "$VM_LOG")" ||
	bad "no new message after the restart"
if store_consistent; then ok "store consistent at the end"; else bad "store inconsistent at the end"; fi
finish
