#!/usr/bin/env bash
# Policy sync of an active/standby pair (issue 14): two lbg-gateway boxes with keepalived in
# namespaces (tests/lib/ha_pair.sh), `ha.policy` between their control planes over the HA veth.
#   - a commit on the active is replicated before it is reported: the answer names the standby,
#     the standby runs the same version, and after a failover a host allowed by that commit
#     passes through the new active;
#   - a standby that was down during a commit is told it was not replicated, and catches up when
#     it comes back (the active's announcement and push);
#   - a standby whose store went its own way (a version committed on it alone) refuses the
#     active's version: its `ha health` fails with `policy-divergent`, so keepalived does not make
#     it master when the active dies; made active by hand, it says so in its answer and its log.
# Only namespaces this script creates are touched. Needs root and keepalived; skips (77) otherwise.
# Usage: ha_policy_e2e.sh LBG_GATEWAY LBGCTL TOOLS_HA_DIR WORKDIR
set -euo pipefail
source "$(dirname "$(realpath "$0")")/../lib/bump.sh"
source "$LBG_TEST_LIB/ha_pair.sh"
ha_test_begin "$@"
pass=0 fail=0
trap ha_pair_down EXIT
ha_pair_up $(( $$ + 1 ))
ha_gateway_start a
ha_gateway_start b
wait_for 300 ip netns exec "$NS" bash -c "exec 3<>/dev/tcp/127.0.0.1/80" || echo "server not listening"

js() {  # BOX PYTHON-EXPR over `ha status --json` as s
  ha_ctl "$1" --json ha status 2>/dev/null | python3 -c "import json,sys; s=json.load(sys.stdin); print($2)"
}
policy_with() {  # FILE HOST...: the pair's policy plus one service allowing each HOST
  cp policy.yaml "$1"
  local h
  for h in "${@:2}"; do
    printf '  - name: %s\n    kind: lgwan-asp\n    fqdn: [%s]\n    ports: [tcp/80]\n' "${h%%.*}" "$h" >> "$1"
  done
}
states() { grep -c "Entering $2 STATE" "$1/keepalived.log" || true; }

ha_keepalived_start a
wait_for 150 test "$(ha_role a)" = active || true
ha_keepalived_start b
wait_for 150 grep -q "Entering BACKUP STATE" b/keepalived.log || true
check "a active, b standby" test "$(ha_role a) $(ha_role b)" = "active standby"
wait_for 100 test "$(js a 's["policy_sync"]["state"]')" = in-sync || true
check "a's announcement reached b: in sync at version 1" \
  test "$(js a 's["policy_sync"]["state"]') $(js a 's["policy_sync"]["peer_version"]')" = "in-sync 1"

# --- a commit on the active is enforced on the standby before it is reported ------------------
read -r rc code < <(ha_get new.example.jp)
check "new.example.jp is refused before the commit (curl rc=$rc)" test "$rc" != 0
policy_with policy2.yaml new.example.jp
ha_ctl a policy load policy2.yaml >/dev/null
ha_ctl a --json policy commit -m "allow new.example.jp" > commit2.json
cat commit2.json | sed 's/^/  /'
check "the commit answer says it was replicated to lbg-b as version 2" \
  python3 -c 'import json,sys; r=json.load(open("commit2.json")); sys.exit(0 if r["version"]==2 and r["replicated"]["peer"]=="lbg-b" else 1)'
check "b enforces version 2 (its dataplane's version)" test "$(js b 's["policy_version"]')" = 2
check "b's store has version 2 from lbg-a" \
  bash -c "ha_ctl() { '$LBGCTL' --socket '$PWD/b/control.sock' \"\$@\"; }; ha_ctl --json policy show 2 | grep -q 'replicated from lbg-a'"
read -r rc code < <(ha_get new.example.jp)
check "new.example.jp passes through a after the commit (curl rc=$rc http=$code)" test "$rc" = 0 -a "$code" = 200

# --- lbgctl certs flush on the active reaches the standby ---------------------------------------
ha_ctl a --json certs flush --all > flush.json
check "certs flush on a was sent to b, which flushed too (standby: lbg-b)" \
  python3 -c 'import json,sys; r=json.load(open("flush.json")); sys.exit(0 if r["standby"]["peer"]=="lbg-b" else 1)'

# --- a standby that was down during a commit catches up ----------------------------------------
ha_stop_gateway() { kill "-$2" "${GWPID[$1]}"; wait "${GWPID[$1]}" 2>/dev/null || true; GWPID[$1]=; }
backups=$(states b BACKUP)
ha_stop_gateway b TERM
policy_with policy3.yaml new.example.jp third.example.jp
ha_ctl a policy load policy3.yaml >/dev/null
set +e; ha_ctl a --json policy commit -m "allow third.example.jp" > commit3.json 2>commit3.err; crc=$?; set -e
sed 's/^/  /' commit3.err
check "with b down the commit is enforced on a (exit $crc), not replicated" \
  python3 -c 'import json,sys; r=json.load(open("commit3.json")); sys.exit(0 if r["version"]==3 and r["replicated"] is False else 1)'
check "and says so loudly (warning: NOT REPLICATED)" grep -q "NOT REPLICATED" commit3.json
ha_gateway_start b
wait_for 100 test "$(js b 's["policy_version"]')" = 3 || true
check "b came back and caught up to version 3" test "$(js b 's["policy_version"]')" = 3
check "b is healthy (in sync with a)" ha_ctl b ha health
wait_for 100 test "$(states b BACKUP)" -gt "$backups" || true
check "b's keepalived is back in BACKUP" test "$(states b BACKUP)" -gt "$backups"

# --- failover: what a committed is enforced by b -----------------------------------------------
# A standby learns the hosts to announce after a takeover from the flows synced to it (their
# MACs come with a flow's first record); b restarted above, so one allowed connection through a
# now gives it the client and the server, as the pair's normal traffic would.
read -r rc code < <(ha_get third.example.jp)
check "third.example.jp passes through a (curl rc=$rc http=$code)" test "$rc" = 0 -a "$code" = 200
wait_for 50 test "$(ha_counter b ha_learn_hosts)" -ge 2 || true
check "b learned the hosts of a's synced flow (ha_learn_hosts $(ha_counter b ha_learn_hosts))" \
  test "$(ha_counter b ha_learn_hosts)" -ge 2
kill -KILL "${GWPID[a]}"; wait "${GWPID[a]}" 2>/dev/null || true; GWPID[a]=
wait_for 150 test "$(ha_role b)" = active || true
check "b took over after a's gateway was killed" test "$(ha_role b)" = active
for h in new.example.jp third.example.jp; do
  read -r rc code < <(ha_get "$h")
  check "$h, allowed by a commit on a, passes through b (curl rc=$rc http=$code)" test "$rc" = 0 -a "$code" = 200
done
read -r rc code < <(ha_get denied.example.jp)
check "a forbidden host is still refused (curl rc=$rc)" test "$rc" != 0

# --- a divergent standby does not take over silently -------------------------------------------
# a comes back on its own first (no policy sync, another socket: keepalived does not see it) and
# commits version 4 there; then it rejoins the pair, where b runs version 3.
sed -e '/^  policy:/d' -e "s|$PWD/a/control.sock|$PWD/a/lone.sock|" a/gateway.yaml > a/lone.yaml
ip netns exec "${NG[a]}" "$GW" run --config a/lone.yaml >>a/gateway.out 2>>a/gateway.err &
GWPID[a]=$!
wait_for 300 "$LBGCTL" --socket "$PWD/a/lone.sock" ha status || echo "lone a did not start"
policy_with policy4.yaml new.example.jp lone.example.jp
"$LBGCTL" --socket "$PWD/a/lone.sock" policy load policy4.yaml >/dev/null
"$LBGCTL" --socket "$PWD/a/lone.sock" policy commit -m "a alone" >/dev/null
ha_stop_gateway a TERM
masters=$(states a MASTER)
ha_gateway_start a
wait_for 100 bash -c "'$LBGCTL' --socket '$PWD/a/control.sock' ha health | grep -q policy-divergent" || true
set +e; ha_ctl a ha health > health_a.txt 2>&1; hrc=$?; set -e
sed 's/^/  /' health_a.txt
check "a's health fails (exit $hrc) naming the divergence: local 4, peer 3" \
  bash -c "[ $hrc != 0 ] && grep -q 'policy-divergent: local 4, peer 3' health_a.txt"
check "a's status shows it divergent" test "$(js a 's["policy_sync"]["state"]')" = divergent
faults=$(states b FAULT)
kill -KILL "${GWPID[b]}"; wait "${GWPID[b]}" 2>/dev/null || true; GWPID[b]=
wait_for 150 test "$(states b FAULT)" -gt "$faults" || true
check "b's keepalived saw b's gateway die (FAULT)" test "$(states b FAULT)" -gt "$faults"
# What would happen without the check: a healthy backup is master within about a second (two
# good health polls, three missed adverts). Give it several times that.
wait_for 40 test "$(ha_role a)" = active || true
check "a did not take over: it stays standby" test "$(ha_role a)" = standby
check "a's keepalived did not enter MASTER" test "$(states a MASTER)" = "$masters"
check "a's keepalived is in FAULT" bash -c "grep -E 'Entering (MASTER|BACKUP|FAULT) STATE' a/keepalived.log | tail -1 | grep -q FAULT"
read -r rc code < <(ha_get new.example.jp 2)
check "nothing passes (curl rc=$rc)" test "$rc" != 0
# By hand it can be made active; then it says why it should not have been.
ha_ctl a --json ha active > active_a.json 2>active_a.err || true
check "ha active on the divergent standby warns: policy-divergent" grep -q "policy-divergent" active_a.json
ha_stop a
ha_stop b
check "a's sealed log records the divergence and the warned role change" python3 -c 'import glob, json, sys
acts = set()
for path in sorted(glob.glob("a/log/*.jsonl")):
    for l in open(path):
        e = json.loads(l)
        a = e.get("admin", {}).get("action")
        if a == "ha.policy.divergent" or (a == "ha.role" and "warning" in e.get("ha", {})):
            acts.add(a)
sys.exit(0 if acts == {"ha.policy.divergent", "ha.role"} else 1)'
check "a's log records the refused push from lbg-b" bash -c "cat a/log/*.jsonl | grep -q '\"action\":\"ha.policy.refused\"'"
check "b's log records the versions it took from lbg-a" bash -c "cat b/log/*.jsonl | grep -c '\"action\":\"ha.policy.adopted\"' | grep -qx 2"
check "a's log records the replication of its commit" bash -c "cat a/log/*.jsonl | grep -q '\"action\":\"ha.policy.replicated\"'"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
