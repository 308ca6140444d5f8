#!/usr/bin/env bash
# Handshake matrix against real openssl processes: for every TLS Ciphers option of
# our server (ngv-testua on the SIP stack), which suites `openssl s_client` gets,
# which certificate comes back, what is refused; and our client against
# `openssl s_server`. usage: tls_matrix.sh TESTUA
TESTUA=$1
. "$(dirname "$0")/lib.sh"

fail=0
check() { # check NAME EXPECTED GOT
	if [ "$2" != "$3" ]; then
		echo "FAIL $1: expected '$2', got '$3'" >&2
		fail=1
	else
		echo "ok   $1: $3"
	fi
}

D=$TMP/pki
mkdir -p "$D"
mk() { # mk NAME keyalg CN
	openssl req -x509 -newkey "$2" -nodes -keyout "$D/$1.key" -out "$D/$1.pem" \
		-days 2 -subj "/CN=$3" -addext "subjectAltName=DNS:$3" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "extendedKeyUsage=serverAuth,clientAuth" 2>/dev/null
}
mk rsa rsa:2048 cucm.lab
mk ec ec:<(openssl ecparam -name prime256v1) cucm.lab
mk cli ec:<(openssl ecparam -name secp384r1) cuc.lab
mk other ec:<(openssl ecparam -name prime256v1) intruder.lab
cat "$D/rsa.pem" "$D/ec.pem" "$D/cli.pem" >"$D/trust.pem"

# s_client against our server: prints the cipher, or "refused"
probe() { # probe PORT ARGS...
	local port=$1
	shift
	local out
	out=$(timeout 10 openssl s_client -connect "127.0.0.1:$port" -CAfile "$D/trust.pem" \
		-verify_return_error -cert "$D/cli.pem" -key "$D/cli.key" "$@" </dev/null 2>&1)
	if grep -q "^    Cipher    : " <<<"$out" && ! grep -q "Cipher    : 0000" <<<"$out" &&
		grep -q "Verify return code: 0 (ok)" <<<"$out"; then
		local c k
		c=$(sed -n 's/^    Cipher    : //p' <<<"$out" | head -1)
		k=$(sed -n 's/^Server public key is \([0-9]*\) bit/\1/p' <<<"$out" | head -1)
		if grep -q "Peer signature type: ECDSA" <<<"$out"; then k=EC; else k=RSA; fi
		echo "$c/$k"
	else
		echo refused
	fi
}

options="strongest-rsa strongest-ecdsa medium-rsa medium-ecdsa all-rsa all-ecdsa"
for opt in $options; do
	start_testua --tls 127.0.0.1:0 --cert "$D/rsa.pem" --key "$D/rsa.key" \
		--cert2 "$D/ec.pem" --key2 "$D/ec.key" --ca "$D/trust.pem" --tls-ciphers "$opt"
	p=$UA_TLS
	# the client's order wins, the certificate follows the suite
	check "$opt: client prefers RSA-256" "ECDHE-RSA-AES256-GCM-SHA384/RSA" \
		"$(probe "$p" -tls1_2 -cipher ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES256-GCM-SHA384)"
	check "$opt: client prefers ECDSA-256" "ECDHE-ECDSA-AES256-GCM-SHA384/EC" \
		"$(probe "$p" -tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384)"
	case $opt in
	strongest-*) want128=refused; wantcbc=refused ;;
	medium-*) want128="ECDHE-ECDSA-AES128-GCM-SHA256/EC"; wantcbc=refused ;;
	all-*) want128="ECDHE-ECDSA-AES128-GCM-SHA256/EC"; wantcbc="AES128-SHA/RSA" ;;
	esac
	check "$opt: AES-128 GCM only" "$want128" "$(probe "$p" -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256)"
	check "$opt: CBC only" "$wantcbc" "$(probe "$p" -tls1_2 -cipher AES128-SHA)"
	check "$opt: 3DES/CHACHA only" refused "$(probe "$p" -tls1_2 -cipher DES-CBC3-SHA:ECDHE-ECDSA-CHACHA20-POLY1305)"
	check "$opt: TLS 1.1" refused "$(probe "$p" -tls1_1 -cipher 'ALL:@SECLEVEL=0')"
	check "$opt: TLS 1.3 (off by default)" refused "$(probe "$p" -tls1_3)"
	# a client certificate from nobody we trust is refused, and the log says why
	out=$(timeout 10 openssl s_client -connect "127.0.0.1:$p" -CAfile "$D/trust.pem" \
		-cert "$D/other.pem" -key "$D/other.key" -tls1_2 </dev/null 2>&1 || true)
	sleep 0.2
	if grep -q "TLS handshake failed: peer certificate CN=intruder.lab DNS=intruder.lab (issuer /CN=intruder.lab) is not trusted" "$UA_ERR"; then
		echo "ok   $opt: untrusted client refused and named in the log"
	else
		echo "FAIL $opt: untrusted client not refused/logged" >&2
		tail -5 "$UA_ERR" >&2
		fail=1
	fi
	kill "${PIDS[-1]}"
	wait "${PIDS[-1]}" 2>/dev/null || true
	unset 'PIDS[-1]'
done

# our client against openssl s_server: the client option decides the suite
sport=$(free_port)
timeout 30 openssl s_server -accept "127.0.0.1:$sport" -cert "$D/rsa.pem" -key "$D/rsa.key" \
	-dcert "$D/ec.pem" -dkey "$D/ec.key" -CAfile "$D/trust.pem" -Verify 1 \
	-verify_return_error -tls1_2 < <(sleep 40) >"$TMP/sserver.out" 2>&1 &
PIDS+=($!)
sleep 0.5
for opt in all-rsa all-ecdsa; do
	# ngv-testua places one call; s_server does not speak SIP, so the call
	# fails: the handshake is what we look at, in s_server's output
	: >"$TMP/sserver.out"
	timeout 10 "$TESTUA" --tcp 127.0.0.1:0 --cert "$D/cli.pem" --key "$D/cli.key" \
		--ca "$D/trust.pem" --tls-ciphers "$opt" --proto tls --t1 50 \
		--call "sips:svc@127.0.0.1:$sport;transport=tls" --calls 1 \
		>/dev/null 2>"$TMP/cli-$opt.err" || true
	sleep 0.3
	got=$(sed -n 's/^CIPHER is //p' "$TMP/sserver.out" | head -1)
	[ "$opt" = all-rsa ] && want=ECDHE-RSA-AES256-GCM-SHA384 || want=ECDHE-ECDSA-AES256-GCM-SHA384
	check "our client ($opt) against openssl s_server" "$want" "$got"
done
exit $fail
