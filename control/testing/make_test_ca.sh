#!/usr/bin/env bash
# Makes a throw-away PKI for the control API's HTTPS tests, with the openssl
# command line, in DIR:
#   ca.crt, ca.key            the test CA
#   server.crt, server.key    signed by it, subjectAltName IP:127.0.0.1
#   elsewhere.crt/.key        signed by it, for DNS:elsewhere.example only
#   other-ca.crt              a second CA that signed nothing here
# Keys are mode 0600. EC P-256 keeps it quick.
set -euo pipefail
dir=$1
mkdir -p "$dir"
cd "$dir"
umask 077
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

for ca in ca other-ca; do
  key "$ca.key"
  openssl req -x509 -new -key "$ca.key" -out "$ca.crt" -days 2 -subj "/CN=isergw test $ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    2>/dev/null
done

issue() {
  local name=$1 san=$2
  key "$name.key"
  openssl req -new -key "$name.key" -out "$name.csr" -subj "/CN=isergw test $name" 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' \
    "$san" >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
    -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}
issue server "IP:127.0.0.1"
issue elsewhere "DNS:elsewhere.example"
chmod 644 ./*.crt
