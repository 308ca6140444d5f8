#!/usr/bin/env bash
# Interop: sipp's built-in uac scenario calls ngv-testua (INVITE, 100/180/200, ACK, BYE) over udp or tcp.
# usage: sipp_uac.sh TESTUA udp|tcp
TESTUA=$1
PROTO=$2
. "$(dirname "$0")/lib.sh"
need_sipp

start_testua --udp 127.0.0.1:0 --tcp 127.0.0.1:0
if [ "$PROTO" = tcp ]; then port=$UA_TCP; tflag=t1; else port=$UA_UDP; tflag=u1; fi
calls=50
lport=$(free_port)
timeout 60 sipp -sn uac "127.0.0.1:$port" -i 127.0.0.1 -p "$lport" -t "$tflag" \
	-m "$calls" -r 100 -l 20 -nostdin -timeout 40s -timeout_error \
	-trace_stat -stf "$TMP/stat.csv" >"$TMP/sipp.out" 2>&1 || {
	echo "sipp uac failed" >&2
	tail -40 "$TMP/sipp.out" >&2
	cat "$UA_ERR" >&2
	exit 1
}
kill "${PIDS[0]}"
wait "${PIDS[0]}" || true
PIDS=()
# The UA counts what it answered: every call must have reached it.
grep -q "answered invites=$calls byes=$calls" "$UA_OUT" || {
	echo "ngv-testua did not see $calls calls:" >&2
	cat "$UA_OUT" >&2
	exit 1
}
echo "sipp uac over $PROTO: $calls calls completed"
