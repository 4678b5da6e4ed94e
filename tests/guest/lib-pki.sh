# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Test PKI for the guest tests, made with the OpenSSL CLI only, and the
# two digests svrcert keys on, computed independently of the module:
#
#   pki_init DIR                       CA (P-256, CA:TRUE critical) in DIR
#   pki_cert NAME START END [SERIAL]   leaf DIR/NAME.{pem,der}; START/END as
#                                      "YYYYmmddHHMMSSZ" or "+SECONDS"/"-SECONDS"
#                                      relative to now; SERIAL hex (default:
#                                      the CA's next serial)
#   pki_revkey CERT.pem                SHA-256(canonical issuer Name DER ||
#                                      DER serial), hex, by tests/pki/revkey.sh
#   pki_fingerprint CERT.pem           SHA-256(certificate DER), hex
#
# Everything is written below the directory given to pki_init ($PKI).

PKI=
LIB_PKI_REVKEY_SH=$(cd "$(dirname "${BASH_SOURCE[0]}")/../pki" && pwd)/revkey.sh

# "+N"/"-N" seconds from now, or an OpenSSL GeneralizedTime as is.
pki_time() {
	local now
	now=$(date +%s)
	case $1 in
	[+-]*) date -u -d "@$((now $1))" +%Y%m%d%H%M%SZ ;;
	*) echo "$1" ;;
	esac
}

pki_init() {
	PKI=$1
	mkdir -p "$PKI/newcerts"
	: >"$PKI/index.txt"
	echo 1000 >"$PKI/serial"
	cat >"$PKI/ca.cnf" <<EOF
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = $PKI
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
certificate = \$dir/ca.pem
private_key = \$dir/ca.key
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
x509_extensions = leaf_ext
[ policy_any ]
commonName = supplied
[ leaf_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth, serverAuth
[ req ]
distinguished_name = dn
[ dn ]
[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$PKI/ca.key" -out "$PKI/ca.pem" -days 3650 \
		-subj "/O=svrcert test/CN=svrcert guest test CA" \
		-config "$PKI/ca.cnf" -extensions ca_ext 2>/dev/null || return 1
	# One leaf key serves every test certificate: only the certificates
	# (validity, serial) differ between tests.
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$PKI/leaf.key" 2>/dev/null
}

pki_cert() {
	local name=$1 start end serial=${4:-}
	start=$(pki_time "$2")
	end=$(pki_time "$3")
	[ -z "$serial" ] || echo "$serial" >"$PKI/serial"
	openssl req -new -key "$PKI/leaf.key" -subj "/O=svrcert test/CN=$name" \
		-out "$PKI/$name.csr" 2>/dev/null &&
	openssl ca -batch -notext -config "$PKI/ca.cnf" -in "$PKI/$name.csr" \
		-out "$PKI/$name.pem" -startdate "$start" -enddate "$end" \
		2>"$PKI/$name.ca.log" &&
	openssl x509 -in "$PKI/$name.pem" -outform DER -out "$PKI/$name.der"
}

# The revocation key as tests/pki/revkey.sh computes it with the OpenSSL CLI
# alone, independently of the C code.
pki_revkey() {
	"$LIB_PKI_REVKEY_SH" cert "$1"
}

pki_fingerprint() {
	openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1
}
