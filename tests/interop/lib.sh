# Shared helpers for interop tests: temp dirs, free ports, starting ngv-testua.
set -euo pipefail

TMP=$(mktemp -d /tmp/ngv-interop-XXXXXX)
PIDS=()

# On failure the test's logs (TMP's *.log, *.out and *.err) are kept in
# ${NGV_TEST_LOGS:-/tmp/ngv-test-logs}/SCRIPT-PID/ for CI to show, and their
# tails go to stderr. A test that passes says nothing more.
save_logs() {
	local dir f
	dir=${NGV_TEST_LOGS:-/tmp/ngv-test-logs}/$(basename "$0" .sh)-$$
	mkdir -p "$dir" || return 0
	for f in "$TMP"/*.log "$TMP"/*.out "$TMP"/*.err; do
		[ -f "$f" ] && cp "$f" "$dir"/
	done
	echo "---- $(basename "$0") failed (exit $1); logs kept in $dir" >&2
	for f in "$dir"/*; do
		[ -s "$f" ] || continue
		echo "---- tail of $(basename "$f"):" >&2
		tail -n 40 "$f" >&2
	done
}

cleanup() {
	local rc=$?
	for p in "${PIDS[@]:-}"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	[ "$rc" = 0 ] || save_logs "$rc"
	release_ports
	rm -rf "$TMP"
}
trap cleanup EXIT

# A port on 127.0.0.1 that nothing listens on (TCP and UDP), from a range
# away from the ephemeral one. It is also reserved (a directory under
# /tmp/ngv-ports holding our PID) until this script ends, so that tests
# running side by side never pick the same one.
PORTS_DIR=/tmp/ngv-ports
reserve_port() {
	local d=$PORTS_DIR/$1 owner
	if mkdir "$d" 2>/dev/null; then
		echo $$ >"$d/pid"
		return 0
	fi
	owner=$(cat "$d/pid" 2>/dev/null || true)
	if [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null; then
		rm -rf "$d"
		if mkdir "$d" 2>/dev/null; then
			echo $$ >"$d/pid"
			return 0
		fi
	fi
	return 1
}
free_port() {
	local p i
	mkdir -p "$PORTS_DIR" 2>/dev/null || true
	for i in $(seq 1 100); do
		p=$((20000 + RANDOM % 10000))
		if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null &&
			! grep -qi ":$(printf '%04X' $p) " /proc/net/udp /proc/net/tcp &&
			reserve_port "$p"; then
			echo "$p"
			return 0
		fi
	done
	return 1
}
release_ports() {
	local d
	for d in "$PORTS_DIR"/*; do
		[ -f "$d/pid" ] && [ "$(cat "$d/pid" 2>/dev/null)" = "$$" ] && rm -rf "$d"
	done
	return 0
}

# Starts ngv-testua with the given arguments; sets UA_UDP, UA_TCP, UA_TLS, and
# UA_OUT / UA_ERR, its stdout and stderr files (new ones for every start).
UA_SEQ=0
start_testua() {
	UA_SEQ=$((UA_SEQ + 1))
	UA_OUT=$TMP/ua$UA_SEQ.out
	UA_ERR=$TMP/ua$UA_SEQ.err
	"$TESTUA" "$@" >"$UA_OUT" 2>"$UA_ERR" &
	PIDS+=($!)
	local i line
	for i in $(seq 1 50); do
		line=$(grep '^READY' "$UA_OUT" 2>/dev/null || true)
		if [ -n "$line" ]; then
			read -r _ u t s <<<"$line"
			UA_UDP=${u#udp=}
			UA_TCP=${t#tcp=}
			UA_TLS=${s#tls=}
			return 0
		fi
		sleep 0.1
	done
	echo "ngv-testua did not start:" >&2
	cat "$UA_ERR" >&2
	return 1
}

need_sipp() {
	if ! command -v sipp >/dev/null; then
		echo "sipp not installed (package sip-tester; scripts/deps.sh installs it)" >&2
		exit 1
	fi
}

# ---- checks for the CLI tests: ok/bad count, run/fails/has assert ----
command -v openssl >/dev/null || {
	echo "the openssl command is needed (package openssl)" >&2
	exit 1
}

FAILS=0
ok() { echo "ok   $*"; }
bad() {
	echo "FAIL $*" >&2
	FAILS=$((FAILS + 1))
}

# run WHAT CMD...: the command must succeed; its output goes to $TMP/out.
run() {
	local what=$1
	shift
	if "$@" >"$TMP/out" 2>&1; then
		ok "$what"
	else
		bad "$what (exit $?):"
		sed 's/^/     /' "$TMP/out" >&2
	fi
}

# fails WHAT CODE TEXT CMD...: exit status CODE and TEXT on stderr.
fails() {
	local what=$1 code=$2 text=$3 rc=0
	shift 3
	"$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	if [ "$rc" = "$code" ] && grep -qF -- "$text" "$TMP/err"; then
		ok "$what"
	else
		bad "$what: exit $rc (want $code), stderr: $(cat "$TMP/err")"
	fi
}

# has WHAT FILE TEXT...: every TEXT is in FILE.
has() {
	local what=$1 file=$2 t
	shift 2
	for t in "$@"; do
		if ! grep -qF -- "$t" "$file"; then
			bad "$what: '$t' not in:"
			sed 's/^/     /' "$file" >&2
			return
		fi
	done
	ok "$what"
}
