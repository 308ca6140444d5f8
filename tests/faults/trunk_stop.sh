#!/usr/bin/env bash
# Fault: the trunk's far end disappears (the voicemail server is stopped).
# The trunk goes to No Service by the OPTIONS rules (a failed TLS connection
# means down), a call to the pilot fails fast with a clear response instead of
# hanging, and the trunk returns to Full Service when the server is back.
# usage: trunk_stop.sh NGVOICE WAVCORR PROMPTS_DIR
NGV=$1
WAVCORR=$2
PROMPTS=$3
. "$(dirname "$0")/lib.sh"
cd "$TMP"
make_certs
write_configs
start_vm
start_cm
wait_full_service "$CM_LOG" 10 || { bad "trunk not in Full Service"; tail "$CM_LOG" >&2; finish; }
ok "trunk CUCv11 in Full Service (OPTIONS every $PING_IN s in service, $PING_OUT s out of service)"
pilot_answers "before the fault"

mark "$CM_LOG"
t0=$(now_ms)
stop "$VM_PID"
ok "voicemail server stopped (SIGTERM)"
wait_new "$CM_LOG" "trunk CUCv11: No Service" $((PING_IN + 5)) &&
	ok "No Service $(($(now_ms) - t0)) ms after the stop: $(new_lines "$CM_LOG" | grep -o 'trunk CUCv11: No Service.*' | head -1)" ||
	{ bad "the trunk did not go to No Service"; tail "$CM_LOG" >&2; }
status_trunk "No Service"
pilot_fails_fast "2000" "while the server is stopped"
pilot_fails_fast "1002" "a call forwarded to voicemail, while the server is stopped"

mark "$CM_LOG"
t1=$(now_ms)
start_vm
wait_new "$CM_LOG" "trunk CUCv11: Full Service" $((PING_OUT + 8)) &&
	ok "Full Service again $(($(now_ms) - t1)) ms after the restart: $(new_lines "$CM_LOG" | grep -o 'trunk CUCv11: Full Service.*' | head -1)" ||
	bad "the trunk did not return to Full Service: $(grep 'trunk CUCv11' "$CM_LOG" | tail -2)"
status_trunk "Full Service"
pilot_answers "after the far end came back"
finish
