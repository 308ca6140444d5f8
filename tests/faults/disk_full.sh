#!/usr/bin/env bash
# Fault: the message store's file system fills up during a recording. The
# store is a 2 MiB tmpfs in a private mount namespace, filled up to a few
# seconds of audio before the call. The call ends cleanly (the caller hears
# the error prompt, then a BYE), the daemon keeps serving, nothing committed
# is lost, the log says what happened, and messages are taken again once
# there is room.
# usage: disk_full.sh NGVOICE WAVCORR PROMPTS_DIR
if [ -z "${NGV_FAULTS_MNTNS:-}" ]; then
	command -v unshare >/dev/null || { echo "SKIP: no unshare (package util-linux)"; exit 77; }
	# A private mount namespace: the tmpfs goes away with this script.
	if ! unshare -m --propagation private true 2>/dev/null; then
		echo "SKIP: cannot make a private mount namespace (unshare -m): not root?"
		exit 77
	fi
	NGV_FAULTS_MNTNS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
NGV=$1
WAVCORR=$2
PROMPTS=$3
. "$(dirname "$0")/lib.sh"
need_sqlite3
cd "$TMP"
mkdir -m 700 store
mount -t tmpfs -o size=2m,mode=0700 ngv-faults store || { echo "SKIP: cannot mount a tmpfs"; exit 77; }
MOUNTS+=("$TMP/store")
ok "message store on a 2 MiB tmpfs (private mount namespace)"
make_certs
write_configs
start_vm
start_cm
wait_full_service "$CM_LOG" 10 || { bad "trunk not in Full Service"; tail "$CM_LOG" >&2; finish; }
tone long.wav 50 440

leave() { # NUMBER CALL [RECORD]
	phone_bg "ph$2.out" 1001 phone-secret --dial "$1" --play long.wav --duration 55 ${3:+--record "$3"}
	wait_log "$VM_LOG" "call $2: recording a message for mailbox $1" 30
}
# 1. A message committed while there is room.
leave 1002 1 || { bad "call 1 did not reach the recording"; tail "$VM_LOG" >&2; finish; }
sleep 3
kill "$PH_PID"; wait "$PH_PID" 2>/dev/null || true
wait_log "$VM_LOG" "call 1: message [0-9]+ left in mailbox 1002" 10 &&
	ok "before: $(grep -Eo 'message [0-9]+ left in mailbox 1002.*' "$VM_LOG")" ||
	{ bad "message 1 not committed"; tail "$VM_LOG" >&2; finish; }
before=$(sq "SELECT id, file, duration_ms FROM messages")
sum1=$(sha256sum store/messages/1002/*.wav | awk '{ print $1 }')

# 2. Fill the file system, leaving about 3 s of 16-bit audio.
avail=$(df --output=avail -B1 store | tail -1)
fallocate -l $((avail - 48 * 1024)) store/filler 2>/dev/null ||
	dd if=/dev/zero of=store/filler bs=4096 count=$(((avail - 48 * 1024) / 4096)) 2>/dev/null
ok "store filled: $(df --output=avail -B1 store | tail -1) bytes left"
mark "$VM_LOG"
t0=$(now_ms)
leave 1003 2 heard2.wav || { bad "call 2 did not reach the recording"; new_lines "$VM_LOG" >&2; finish; }
if wait_for 25 eval "! kill -0 $PH_PID 2>/dev/null"; then
	wait "$PH_PID" 2>/dev/null || true
	ok "the call ended by itself $(($(now_ms) - t0)) ms after it was placed: $(grep '^ended' ph2.out)"
	grep -q "^ended: hung up by the far end" ph2.out && ok "the voicemail server hung up (BYE)" || bad "call 2 ended: $(cat ph2.out)"
else
	bad "call 2 still up 25 s into a full disk"
	kill "$PH_PID" 2>/dev/null || true
	wait "$PH_PID" 2>/dev/null || true
fi
grep_new "$VM_LOG" "No space left on device" &&
	ok "the log says it: $(new_lines "$VM_LOG" | grep -m1 'No space left on device' | cut -c26-)" ||
	{ bad "no 'No space left on device' in the log"; new_lines "$VM_LOG" >&2; }
new_lines "$VM_LOG" | grep -E "call 2: (message|the message)" | cut -c26- | sed 's/^/     /'
# The last seconds the caller heard: the error prompt.
if [ -s heard2.wav ]; then
	c=$("$WAVCORR" heard2.wav "$PROMPTS/error.wav" 2>&1 || true)
	awk -v p="$(sed 's/corr=\([-0-9.]*\).*/\1/' <<<"$c")" 'BEGIN { exit !(p >= 0.8) }' &&
		ok "the caller heard the error prompt ($c)" || bad "what the caller heard: $c"
else
	bad "the caller recorded nothing"
fi
alive "$VM_PID" && ok "the voicemail server is still running" || { bad "the voicemail server died"; finish; }
[ "$(sq "SELECT id, file, duration_ms FROM messages WHERE mailbox = '1002'")" = "$(grep '' <<<"$before")" ] &&
	[ "$(sha256sum store/messages/1002/*.wav | awk '{ print $1 }')" = "$sum1" ] &&
	ok "message 1 intact: same row, same audio" || bad "message 1 changed"
if store_consistent; then ok "store consistent: rows and audio agree, no .part left"; else bad "store inconsistent"; fi
n3=$(sq "SELECT count(*) FROM messages WHERE mailbox = '1003'")
ok "mailbox 1003 has $n3 message(s) after the full disk ($(sq "SELECT duration_ms || ' ms, ' || reason FROM messages WHERE mailbox = '1003'"))"

# 3. Still serving: a call to the pilot hears the opening greeting.
phone 1001 phone-secret --dial 2000 --record heard3.wav --duration 4 >ph3.out 2>&1 &&
	ok "still serving while full: call to 2000 answered" || bad "call to 2000: $(cat ph3.out)"
"$NGV" status mailboxes --config vm.conf >st.txt 2>&1 && grep -Eq "^1002 +Bob Example +1 " st.txt &&
	ok "status mailboxes answers: 1002 has 1 new" || { bad "status mailboxes"; cat st.txt >&2; }

# 4. Room again: messages are taken.
rm -f store/filler
mark "$VM_LOG"
leave 1002 4 || { bad "call 4 did not reach the recording"; new_lines "$VM_LOG" >&2; finish; }
sleep 2
kill "$PH_PID"; wait "$PH_PID" 2>/dev/null || true
wait_new "$VM_LOG" "call 4: message [0-9]+ left in mailbox 1002" 10 &&
	ok "room again: $(new_lines "$VM_LOG" | grep -Eo 'message [0-9]+ left in mailbox 1002.*')" ||
	bad "no message after space was freed"
if store_consistent; then ok "store consistent at the end"; else bad "store inconsistent at the end"; fi
finish
