#!/usr/bin/env bash
# Discovery authentication: with "discovery" CHAP configured, a host that
# holds no secret (or a wrong one) learns no target name; one with the
# secret lists exactly the targets it may log in to; mutual CHAP proves the
# gateway to the host, and a host expecting another gateway secret refuses.
# Normal logins keep their own targets' CHAP. The secrets stay out of the
# log and the API. libiscsi's iscsi-ls is the host; the Linux initiator
# runs the same in the VM scenario isergw-tcp-ram.
source tests/integration/peers.sh

HOST=disco-host-secret1
GW=disco-gw-secret22
P=iqn.2026-11.io.isergw.test
cat >"$PEERS_DIR/isergw.json" <<JSON
{
  "discovery": {"chap": {"user": "host", "secret": "$HOST"},
                "mutual_chap": {"user": "gw", "secret": "$GW"}},
  "targets": [
    {"name": "$P:open", "back_end": "ram://4M"},
    {"name": "$P:other", "back_end": "ram://4M",
     "allowed_initiators": ["iqn.1993-08.org.debian:01:someone-else"]}
  ]
}
JSON
start_isergw --config "$PEERS_DIR/isergw.json"
portal="127.0.0.1:$ISERGW_PORT"
out="$PEERS_DIR/answers.txt"
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
# iscsi-ls fails when its login is refused: what it printed is the verdict.
ls_as() { iscsi-ls -i iqn.1993-08.org.debian:01:discovery-test "$@" 2>&1 | tee -a "$out" || true; }

listed=$(ls_as "iscsi://$portal")
[[ "$listed" == *"$P"* ]] && fail "a host without a secret learnt target names: $listed"
[[ "$listed" == *"Authentication failure"* ]] || fail "no authentication failure without a secret: $listed"
listed=$(ls_as "iscsi://host%wrong-secret-99@$portal")
[[ "$listed" == *"$P"* ]] && fail "a wrong secret learnt target names: $listed"

listed=$(ls_as "iscsi://host%$HOST@$portal?target_user=gw&target_password=$GW")
[[ "$listed" == *"Target:$P:open "* ]] || fail "the right secrets did not list $P:open: $listed"
[[ "$listed" == *"$P:other"* ]] && fail "a target closed to this initiator was listed: $listed"
listed=$(ls_as "iscsi://host%$HOST@$portal?target_user=gw&target_password=not-the-gw-secret")
[[ "$listed" == *"$P"* ]] && fail "the host accepted a gateway that failed mutual CHAP: $listed"
listed=$(ls_as "iscsi://host%$HOST@$portal")
[[ "$listed" == *"Target:$P:open "* ]] || fail "one-way discovery CHAP did not list: $listed"

# A normal session to a target without CHAP needs no discovery secret.
iscsi-inq -i iqn.1993-08.org.debian:01:discovery-test "iscsi://$portal/$P:open/0" >>"$out" 2>&1 ||
  fail "a normal login was held to the discovery secret"

curl -s "http://127.0.0.1:$ISERGW_CONTROL_PORT/api/v1/config" >>"$out"
grep -q '"discovery"' "$out" || fail "the API's config does not show the discovery block"
refused=$(grep -c "to discovery refused: authentication failure" "$PEERS_DIR/isergw.log" || true)
((refused >= 2)) || fail "the refused discovery logins were not logged"
for secret in "$HOST" "$GW"; do
  grep -qF -- "$secret" "$PEERS_DIR/isergw.log" && fail "a secret is in the log: ${secret:0:6}..."
  grep -qF -- "\"$secret\"" <(curl -s "http://127.0.0.1:$ISERGW_CONTROL_PORT/api/v1/config") &&
    fail "a secret is in the API's config"
done

if ((failures > 0)); then
  echo "--- answers"
  cat "$out"
  echo "--- isergw.log"
  tail -40 "$PEERS_DIR/isergw.log"
  exit 1
fi
echo "PASS: discovery CHAP (one-way and mutual) lists only with the secrets; $refused refusals logged"
