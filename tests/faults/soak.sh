#!/usr/bin/env bash
# Soak (issue 9): SOAK_MINUTES (default 30) of mixed load on both daemons —
# registrations and refreshes, calls forwarded to voicemail that leave
# messages, subscriber sign-ins that hear and delete them, MWI — with
# whatever build is given (make faults uses the ASan/LSan one). Every call
# must work, no sanitizer report may appear at exit, and resident memory
# must be flat after warm-up: the curve is printed (one sample a minute).
# usage: soak.sh NGVOICE WAVCORR PROMPTS_DIR (not in the default fault run:
# `bash tests/faults/run.sh BUILD soak` or `make soak`)
NGV=$1
WAVCORR=$2
PROMPTS=$3
MINUTES=${SOAK_MINUTES:-30}
. "$(dirname "$0")/lib.sh"
cd "$TMP"
make_certs
write_configs
# Freed memory goes back at once under ASan, so the curve shows growth.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0
start_vm
start_cm
wait_full_service "$CM_LOG" 10 || { bad "trunk not in Full Service"; tail "$CM_LOG" >&2; finish; }
ok "trunk CUCv11 in Full Service; soaking for $MINUTES minute(s)"
rss() { awk '/VmRSS/ {print $2}' /proc/"$1"/status; }
# what the caller says after the greeting and the beep: silence, then a tone
tone t.wav 3 523
sox -n -r 8000 -c 1 -b 16 lead.wav trim 0 15
sox lead.wav t.wav said.wav

end=$(($(date +%s) + MINUTES * 60))
next_sample=$(date +%s)
calls=0 fails=0 i=0
curve=()
while [ "$(date +%s)" -lt "$end" ]; do
	i=$((i + 1))
	# a message for 1002 (forwards all calls to voicemail)
	phone 1001 phone-secret --dial 1002 --play said.wav --duration 19 >c$((i % 4)).out 2>&1
	if grep -q "^answered: 200" c$((i % 4)).out; then
		calls=$((calls + 1))
	else
		fails=$((fails + 1))
		echo "call $i (message) failed: $(tail -2 c$((i % 4)).out)" >&2
	fi
	# 1002 signs in, hears it and deletes it (PIN, then 7 during the menu)
	# (the voicemail server says goodbye and hangs up: that is success)
	phone 1002 other-secret --dial 2000 --digits "2@1.0,4@1.2,6@1.4,8@1.6,0@1.8,#@2.0,7@12.0" \
		--duration 25 >s$((i % 4)).out 2>&1
	if grep -q "^answered: 200" s$((i % 4)).out; then
		calls=$((calls + 1))
	else
		fails=$((fails + 1))
		echo "call $i (sign-in) failed: $(tail -2 s$((i % 4)).out)" >&2
	fi
	if [ "$(date +%s)" -ge "$next_sample" ]; then
		curve+=("$(( ($(date +%s) - end + MINUTES * 60) / 60 )) min: callmanager $(rss "$CM_PID") kB, voicemail $(rss "$VM_PID") kB")
		echo "soak: ${curve[-1]} ($calls calls, $fails failed)"
		next_sample=$(($(date +%s) + 60))
	fi
done
printf 'soak: %s\n' "${curve[@]}"
[ "$fails" = 0 ] && ok "$calls calls in $MINUTES minute(s), none failed" || bad "$fails of $((calls + fails)) calls failed"
alive "$CM_PID" && alive "$VM_PID" && ok "both daemons still running" || bad "a daemon died"
left=$(grep -c "left in mailbox 1002" "$VM_LOG" || true)
signed=$(grep -c "signed in to mailbox 1002" "$VM_LOG" || true)
deleted=$(grep -c "mailbox 1002: message [0-9]* deleted" "$VM_LOG" || true)
[ "$left" -ge $((i - 1)) ] && [ "$signed" -ge $((i - 1)) ] &&
	ok "$left messages left, $signed sign-ins, $deleted messages heard and deleted" ||
	bad "only $left messages left and $signed sign-ins in $i rounds"
# flat after warm-up: the last sample within 15% of the one after the first
# minute (the allocator's arenas settle in the first calls)
if [ ${#curve[@]} -ge 3 ]; then
	for who in callmanager voicemail; do
		w=$(printf '%s\n' "${curve[@]}" | sed -n "2s/.*$who \([0-9]*\) kB.*/\1/p")
		l=$(printf '%s\n' "${curve[@]}" | tail -1 | sed -n "s/.*$who \([0-9]*\) kB.*/\1/p")
		[ "$l" -le $((w + w * 15 / 100)) ] && ok "$who memory flat after warm-up: $w -> $l kB" ||
			bad "$who memory grew after warm-up: $w -> $l kB"
	done
fi
store_consistent && ok "store consistent after the soak" || bad "store inconsistent after the soak"
finish
