#!/usr/bin/env bash
# Interop: drives the real `ngvoice itl` on identities from `ngvoice cert generate` (build, show, verify, tampered and truncated copies, usage errors) and checks the signature independently with the openssl command.
# usage: itl_cli.sh NGVOICE
NGV=$1
. "$(dirname "$0")/lib.sh"

# poke FILE OFFSET: changes the byte at OFFSET (xor 1) in place.
poke() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "\\$(printf '%03o' $((b ^ 1)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# elem_off SHOWFILE RECORD TAG: the offset of a record's element (record 0:
# the header), from `ngvoice itl show`.
elem_off() {
	awk -v rec="$2" -v tag="$3" '
		/^-- header/ { cur = 0; next }
		/^-- record / { cur = $3; next }
		/^$/ { cur = -1 }
		cur == rec && $2 == tag { print $1; exit }' "$1"
}

elem_len() {
	awk -v rec="$2" -v tag="$3" '
		/^-- header/ { cur = 0; next }
		/^-- record / { cur = $3; next }
		/^$/ { cur = -1 }
		cur == rec && $2 == tag { print $4; exit }' "$1"
}

CM=$TMP/cucm # the call manager's identities
ITL=$TMP/ITLFile.tlv

run "ngvoice --help lists itl" "$NGV" --help
has "ngvoice --help lists itl" "$TMP/out" "itl "
for sub in "" build show verify; do
	# shellcheck disable=SC2086
	run "itl $sub --help" "$NGV" itl $sub --help
	has "itl $sub --help text" "$TMP/out" "usage: ngvoice itl"
done

run "generate ITLRecovery" "$NGV" cert generate --role itlrecovery \
	--cn ITLRecovery_cucm.lab --out "$CM"
run "generate CallManager" "$NGV" cert generate --role callmanager \
	--cn cucm.lab --san cucm.lab --out "$CM"
run "generate CallManager-ECDSA" "$NGV" cert generate \
	--role callmanager-ecdsa --cn cucm-EC --san cucm.lab --out "$CM"

# build: ITLRecovery signs; CallManager is CCM+TFTP, CallManager-ECDSA CCM.
run "build" "$NGV" itl build --signer "$CM/ITLRecovery.pem" \
	--signer-key "$CM/ITLRecovery.key" \
	--record "CCM+TFTP:$CM/CallManager.pem:127.0.0.1" \
	--record "CCM:$CM/CallManager-ECDSA.pem" --out "$ITL"
has "build summary" "$TMP/out" "3 records" "signed with SHA-512" \
	"CN=ITLRecovery_cucm.lab" "record 2: CCM+TFTP   CN=cucm.lab"
if [ "$(stat -c %a "$ITL")" = 644 ]; then ok "mode 0644"; else bad "mode $(stat -c %a "$ITL")"; fi

run "show" "$NGV" itl show "$ITL"
cp "$TMP/out" "$TMP/show"
has "show: header elements" "$TMP/show" "VERSION" "1.2" "HEADER_LENGTH" \
	"SIGNER_INFO" "  SIGNER_NAME" "  SERIAL_NUMBER" "  ISSUER_NAME" \
	"SIGNATURE_INFO" "    SIGNATURE_ALGORITHM" "2 (2048-bit)" \
	"3 (SHA-512)" "FILENAME" "ITLFile.tlv" "TIMESTAMP" "PADDING"
has "show: record elements" "$TMP/show" "-- record 3" "RECORD_LENGTH" \
	"DNS_NAME" "SUBJECT_NAME" "PUBLIC_KEY" "CERTIFICATE" "IP_ADDRESS"
has "show: summary" "$TMP/show" \
	"SAST (0) System Administrator Security Token; signs this file" \
	"CCM+TFTP (2)" "CCM (1)" "DNS name:       cucm.lab" \
	"subject:        CN=cucm-EC" "RSA 2048 bits" "EC P-256" \
	"IP address:     127.0.0.1" "signed by:      record 1"
# The fingerprints and serial are those openssl reads from the PEM files.
for role in ITLRecovery CallManager CallManager-ECDSA; do
	fp=$(openssl x509 -in "$CM/$role.pem" -noout -fingerprint -sha1 | sed 's/.*=//')
	has "show: $role fingerprint as openssl" "$TMP/show" "SHA-1 $fp"
done
serial=$(openssl x509 -in "$CM/CallManager.pem" -noout -serial | sed 's/.*=//')
if tr -d ' \n' <"$TMP/show" | grep -q "serial:$serial"; then
	ok "show: serial as openssl"
else
	bad "show: serial $serial not in the summary"
fi

# The header is a multiple of 4 and says so.
hl=$(awk '$3 == "HEADER_LENGTH" { print $5; exit }' "$TMP/show")
if [ -n "$hl" ] && [ $((hl % 4)) = 0 ]; then ok "HEADER_LENGTH $hl % 4 == 0"; else bad "HEADER_LENGTH '$hl'"; fi

run "verify" "$NGV" itl verify "$ITL"
has "verify: who signed" "$TMP/out" "signature OK (SHA-512, RSA 2048 bits)" \
	"signed by SAST record 1: CN=ITLRecovery_cucm.lab"
run "verify --signer" "$NGV" itl verify "$ITL" --signer "$CM/ITLRecovery.pem"
has "verify --signer: which record" "$TMP/out" \
	"signed by the given certificate CN=ITLRecovery_cucm.lab, which is SAST record 1"
fails "verify with another signer" 1 "does not verify with the key of the given certificate CN=cucm.lab" \
	"$NGV" itl verify "$ITL" --signer "$CM/CallManager.pem"

# The signature checked by openssl alone: RSA PKCS#1 v1.5, SHA-512, over
# the file without the SIGNATURE element (tag, length and value).
so=$(elem_off "$TMP/show" 0 12)
sl=$(elem_len "$TMP/show" 0 12)
size=$(stat -c %s "$ITL")
head -c "$so" "$ITL" >"$TMP/signed"
tail -c $((size - so - 3 - sl)) "$ITL" >>"$TMP/signed"
dd if="$ITL" of="$TMP/sig" bs=1 skip=$((so + 3)) count="$sl" status=none
openssl x509 -in "$CM/ITLRecovery.pem" -noout -pubkey >"$TMP/pub.pem"
if openssl dgst -sha512 -verify "$TMP/pub.pem" -signature "$TMP/sig" \
	"$TMP/signed" >"$TMP/out" 2>&1; then
	ok "openssl verifies the signature over the file minus SIGNATURE"
else
	bad "openssl: $(cat "$TMP/out")"
fi

# A tampered copy: one byte of record 2 (CallManager's DNS name).
cp "$ITL" "$TMP/tampered.tlv"
off=$(elem_off "$TMP/show" 2 2)
poke "$TMP/tampered.tlv" $((off + 3))
fails "tampered record refused" 1 "does not verify with the key of SAST record 1" \
	"$NGV" itl verify "$TMP/tampered.tlv"
has "tampered: the offset of the signature" "$TMP/err" "offset $so:"
# One byte of the certificate in record 3.
cp "$ITL" "$TMP/tampered2.tlv"
off=$(elem_off "$TMP/show" 3 9)
poke "$TMP/tampered2.tlv" $((off + 100))
fails "tampered certificate refused" 1 "does not verify" \
	"$NGV" itl verify "$TMP/tampered2.tlv"
# The signature itself.
cp "$ITL" "$TMP/tampered3.tlv"
poke "$TMP/tampered3.tlv" $((so + 10))
fails "tampered signature refused" 1 "does not verify" \
	"$NGV" itl verify "$TMP/tampered3.tlv"

# Truncated and malformed files: exit 1 with the offset and the reason.
head -c 1000 "$ITL" >"$TMP/short.tlv"
fails "truncated: verify" 1 "truncated: record 1 has RECORD_LENGTH" \
	"$NGV" itl verify "$TMP/short.tlv"
fails "truncated: show" 1 "short.tlv: offset $hl: truncated" \
	"$NGV" itl show "$TMP/short.tlv"
head -c 100 "$ITL" >"$TMP/short2.tlv"
fails "truncated header" 1 "offset 5: truncated: HEADER_LENGTH is $hl but the file has only 100 bytes" \
	"$NGV" itl show "$TMP/short2.tlv"
fails "a PEM file is no ITL" 1 "offset 0:" "$NGV" itl show "$CM/CallManager.pem"
: >"$TMP/empty.tlv"
fails "empty file" 1 "offset 0: truncated: the file is empty" \
	"$NGV" itl verify "$TMP/empty.tlv"
fails "no such file" 1 "none.tlv: cannot read" "$NGV" itl show "$TMP/none.tlv"

# --dir: ITLRecovery signs, CallManager and CallManager-ECDSA are listed;
# --sha1 as the call manager's default "TFTP File Signature Algorithm".
run "build --dir --sha1" "$NGV" itl build --dir "$CM" --sha1 \
	--filename ITLFile.tlv --timestamp 1700000000 --out "$TMP/dir.tlv"
run "show --dir file" "$NGV" itl show "$TMP/dir.tlv"
has "--dir: records and digest" "$TMP/out" "1 (SHA-1)" "CCM+TFTP (2)" \
	"CCM (1)" "1700000000 (2023-11-14 22:13:20 UTC)"
run "verify --dir file" "$NGV" itl verify "$TMP/dir.tlv"
has "verify: SHA-1" "$TMP/out" "signature OK (SHA-1, RSA 2048 bits)"
# The same inputs and time stamp build the same bytes.
run "build again" "$NGV" itl build --dir "$CM" --sha1 --timestamp 1700000000 \
	--out "$TMP/dir2.tlv"
if cmp -s "$TMP/dir.tlv" "$TMP/dir2.tlv"; then ok "reproducible"; else bad "two builds differ"; fi

# Usage and input errors.
fails "build: no --out" 2 "--out is needed" \
	"$NGV" itl build --signer "$CM/ITLRecovery.pem" --signer-key "$CM/ITLRecovery.key" \
	--record "CCM:$CM/CallManager.pem"
fails "build: no record" 2 "give at least one --record" \
	"$NGV" itl build --signer "$CM/ITLRecovery.pem" --signer-key "$CM/ITLRecovery.key" \
	--out "$TMP/x.tlv"
fails "build: unknown role" 2 "unknown role 'PHONE'" \
	"$NGV" itl build --dir "$CM" --record "PHONE:$CM/CallManager.pem" --out "$TMP/x.tlv"
fails "build: bad IP" 2 "'300.1.1.1' is not an IPv4 address" \
	"$NGV" itl build --dir "$CM" --record "CCM:$CM/CallManager.pem:300.1.1.1" --out "$TMP/x.tlv"
fails "build: EC signer refused" 1 "an ITL is signed with RSA" \
	"$NGV" itl build --signer "$CM/CallManager-ECDSA.pem" \
	--signer-key "$CM/CallManager-ECDSA.key" --record "CCM:$CM/CallManager.pem" --out "$TMP/x.tlv"
fails "build: key of another certificate" 1 "not the key of the signer certificate" \
	"$NGV" itl build --signer "$CM/ITLRecovery.pem" \
	--signer-key "$CM/CallManager.key" --record "CCM:$CM/CallManager.pem" --out "$TMP/x.tlv"
fails "build: missing certificate" 1 "nothere.pem: cannot read" \
	"$NGV" itl build --dir "$CM" --record "CCM:$CM/nothere.pem" --out "$TMP/x.tlv"
fails "build: empty --dir" 1 "holds neither CallManager.pem nor" \
	"$NGV" itl build --signer "$CM/ITLRecovery.pem" --signer-key "$CM/ITLRecovery.key" \
	--dir "$TMP" --out "$TMP/x.tlv"
if [ ! -e "$TMP/x.tlv" ]; then ok "nothing written on errors"; else bad "$TMP/x.tlv written"; fi
fails "verify: no file" 2 "give the FILE" "$NGV" itl verify
fails "itl: unknown command" 2 "unknown command 'frob'" "$NGV" itl frob

echo
if [ "$FAILS" -ne 0 ]; then
	echo "$FAILS check(s) failed" >&2
	exit 1
fi
echo "all checks passed"
