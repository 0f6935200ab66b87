#!/usr/bin/env bash
# An active/standby pair of lbg-gateway in network namespaces, mastership by keepalived (VRRPv3,
# 100 ms adverts) over a dedicated HA veth, configured from tools/ha/ (keepalived.conf.in,
# lbg-ha-notify) with `lbgctl ha health` as its track script (topology: tests/lib/ha_pair.sh):
#   - both gateways start standby: nothing passes (fail closed, no loop);
#   - keepalived makes a active: an allowed connection is served once, by a; b forwards nothing
#     (its tx_packets stays 0, its ha_standby_dropped grows); a forbidden one is refused;
#   - flow-state sync (ha.sync over the HA veth): a's allowed flows reach b's tables; datagrams
#     not signed with the pair's key are refused and counted (ha_sync_auth_failed);
#   - SIGKILL of a's gateway during a long allowed download: a's track script fails, b becomes
#     active; the bridges learn (tests/lib/ha_pair.sh) and the client and the server have static
#     neighbour entries (no ARP broadcast crosses b): before the kill the bridges know them on
#     a's ports, after the takeover only b's learning frames (RARP) can have moved them to b's
#     ports (`bridge fdb`); the download completes intact (curl's exit status and the body's SHA-256), idle
#     keep-alive connections answer another request, new allowed connections work, a forbidden
#     one is still refused; the measured takeover gap is printed (not judged: no timings in
#     tests).
#   - each box's sealed log records its role at start and each change, and b's the hosts it
#     announced after its takeover (`ha.learn`).
# Only namespaces this script creates are touched. Needs root and keepalived; skips (77) otherwise.
# Usage: ha_e2e.sh LBG_GATEWAY LBGCTL TOOLS_HA_DIR WORKDIR
set -euo pipefail
source "$(dirname "$(realpath "$0")")/../lib/bump.sh"
source "$LBG_TEST_LIB/ha_pair.sh"
ha_test_begin "$@"
pass=0 fail=0
cleanup() {
  [ -n "${HA_PROBEPID:-}" ] && kill "$HA_PROBEPID" 2>/dev/null || true
  ha_pair_down
}
trap cleanup EXIT
ha_pair_up $$
# The client and the server know each other's MAC for good (no ARP): after the kill no broadcast
# of theirs crosses b, so nothing but b's learning frames can move them to b's ports in the
# bridges before the entries age out (300 s).
CLIENT_MAC=$(ha_mac "$NC" c0) SERVER_MAC=$(ha_mac "$NS" s0)
ip -n "$NC" neigh replace "$SERVER_IP" lladdr "$SERVER_MAC" dev c0 nud permanent
ip -n "$NS" neigh replace "$CLIENT_IP" lladdr "$CLIENT_MAC" dev s0 nud permanent
ha_gateway_start a
ha_gateway_start b
wait_for 300 ip netns exec "$NS" bash -c "exec 3<>/dev/tcp/127.0.0.1/80" || echo "server not listening"
seen() { [ -f hosts_seen ] && wc -l < hosts_seen || echo 0; }

check "both gateways start standby" test "$(ha_role a) $(ha_role b)" = "standby standby"
check "a standby is healthy (it could enforce)" ha_ctl a ha health
read -r rc code < <(ha_get allowed.example.jp 2)
check "with both boxes standby nothing passes (curl rc=$rc)" test "$rc" != 0
check "nothing reached the server" test "$(seen)" = 0

# --- keepalived: a first (higher priority), then b --------------------------------------------
ha_keepalived_start a
wait_for 150 test "$(ha_role a)" = active || true
check "keepalived made a active" test "$(ha_role a)" = active
ha_keepalived_start b
wait_for 150 grep -q "Entering BACKUP STATE" b/keepalived.log || true
check "b stays standby while a is master" test "$(ha_role a) $(ha_role b)" = "active standby"

b_dropped_before=$(ha_counter b ha_standby_dropped)
read -r rc code < <(ha_get allowed.example.jp)
check "allowed connection through the pair (curl rc=$rc http=$code)" test "$rc" = 0 -a "$code" = 200
check "the server saw it exactly once" test "$(seen)" = 1
check "a judged and allowed it" test "$(ha_counter a flows_allowed)" -ge 1
check "b forwarded nothing (tx_packets 0)" test "$(ha_counter b tx_packets)" = 0
check "b dropped what it saw (ha_standby_dropped grew)" test "$(ha_counter b ha_standby_dropped)" -gt "$b_dropped_before"
check "b made no flow" test "$(ha_counter b flows_new)" = 0
check "b's stats show it standby (gauge ha_standby)" test "$(ha_counter b ha_standby) $(ha_counter a ha_standby)" = "1 0"
read -r rc code < <(ha_get denied.example.jp)
check "a forbidden connection is refused (curl rc=$rc)" test "$rc" != 0 -a "$code" != 200
check "nothing forbidden reached the server" test "$(seen)" = 1

# --- flow-state sync: a's flows reach b; unsigned datagrams install nothing ---------------------
ip netns exec "${NG[a]}" python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for n in (10, 64, 1400):
    s.sendto(b"LBGS\x01" + bytes(n), (sys.argv[1], 7400))' "${HAIP[b]}"
wait_for 50 test "$(ha_counter b ha_sync_auth_failed)" -ge 3 || true
check "b refused 3 unsigned sync datagrams (ha_sync_auth_failed)" test "$(ha_counter b ha_sync_auth_failed)" -ge 3
check "a sent its allowed flows (ha_sync_queued)" test "$(ha_counter a ha_sync_queued)" -ge 1
check "b installed them (ha_sync_installed)" test "$(ha_counter b ha_sync_installed)" -ge 1
check "b still made no flow of its own" test "$(ha_counter b flows_new)" = 0
sync_peer() { ha_ctl "$1" --json ha status | python3 -c 'import json,sys; print(json.load(sys.stdin)["sync"]["peer"])'; }
check "lbgctl ha status names the sync peer" test "$(sync_peer b)" = "${HAIP[a]}:7400"

# --- takeover: SIGKILL of a's gateway during a download ---------------------------------------
# The download (32 MiB, at most 3.2 MiB/s from the server: 10 s or more) starts last, and the
# kill follows its first MB, so that it is still running then however slow the machine is.
DL_MIB=32
want=$(python3 -c 'import hashlib, sys
piece = bytes(i % 251 for i in range(65536))
print(hashlib.sha256(piece * (16 * int(sys.argv[1]))).hexdigest())' "$DL_MIB")
ha_probe_start probe.ok probe.stop 3
wait_for 100 test -s probe.ok || echo "the probe got no answer before the kill"
ip netns exec "$NC" curl -sS --max-time 120 -H "Host: allowed.example.jp" -o download.bin \
  "http://$SERVER_IP/slow/$DL_MIB" 2>download.err &
DLPID=$!
downloaded() { [ "$(stat -c %s download.bin 2>/dev/null || echo 0)" -gt "$1" ]; }  # read per try
wait_for 100 downloaded 1000000 || echo "the download did not start"
at_kill=$(stat -c %s download.bin 2>/dev/null || echo 0)
# The bridges learn: the client is reached through a's outside port, the server through its
# inside one.
check "before the kill the bridges reach the client and the server through a ($(ha_fdb_port brs "$CLIENT_MAC") $(ha_fdb_port brc "$SERVER_MAC"))" \
  test "$(ha_fdb_port brs "$CLIENT_MAC") $(ha_fdb_port brc "$SERVER_MAC")" = "ao ai"
kill_at=$(date +%s.%N)
kill -KILL "${GWPID[a]}"; wait "${GWPID[a]}" 2>/dev/null || true; GWPID[a]=
wait_for 150 test "$(ha_role b)" = active || true
check "b became active after a's gateway was killed" test "$(ha_role b)" = active
wait_for 50 test "$(ha_fdb_port brs "$CLIENT_MAC") $(ha_fdb_port brc "$SERVER_MAC")" = "bo bi" || true
check "the server-side bridge now reaches the client through b ($(ha_fdb_port brs "$CLIENT_MAC"))" \
  test "$(ha_fdb_port brs "$CLIENT_MAC")" = bo
check "the client-side bridge now reaches the server through b ($(ha_fdb_port brc "$SERVER_MAC"))" \
  test "$(ha_fdb_port brc "$SERVER_MAC")" = bi
check "b sent learning frames for the synced hosts ($(ha_counter b ha_learn_frames_sent))" \
  test "$(ha_counter b ha_learn_frames_sent)" -ge 2
wait_for 150 python3 -c 'import sys; sys.exit(0 if any(float(l) > float(sys.argv[1]) for l in open("probe.ok")) else 1)' "$kill_at" || true
touch probe.stop; wait "$HA_PROBEPID" 2>/dev/null || true; HA_PROBEPID=
gap=$(ha_gap "$kill_at" probe.ok)
echo "takeover gap: $gap ms (last answered new connection before the kill to the first after it)"
check "new connections are answered after the takeover" test "$gap" != n/a
grep -E "Entering (MASTER|FAULT)" a/keepalived.log b/keepalived.log | sed 's/^/  /' || true
check "a's keepalived gave up mastership (FAULT)" grep -q "Entering FAULT STATE" a/keepalived.log
check "a's watcher saw the gateway exit (alive file 1)" test "$(cat a/alive 2>/dev/null)" = 1
check "b's watcher sees b's gateway alive (alive file 0)" test "$(cat b/alive 2>/dev/null)" = 0

set +e; wait "$DLPID"; dlrc=$?; set -e
got=$(sha256sum download.bin | cut -d' ' -f1)
echo "download: $at_kill bytes before the kill, $(stat -c %s download.bin) in all"
check "the download started before the kill ($at_kill bytes) and was not over" \
  test "$at_kill" -gt 0 -a "$at_kill" -lt $((DL_MIB << 20))
check "the download went on through b and completed (curl rc=$dlrc)" test "$dlrc" = 0
check "the downloaded body is intact (SHA-256)" test "$got" = "$want"
read -r _ kept _ held < probe.ok.kept || { kept=0; held=3; }
check "idle keep-alive connections answer after the takeover ($kept of $held)" test "$kept" = "$held"
check "b continued a's flows (ha_sync_installed)" test "$(ha_counter b ha_sync_installed)" -ge 1
n=$(seen)
read -r rc code < <(ha_get allowed.example.jp)
check "allowed connection through b (curl rc=$rc http=$code)" test "$rc" = 0 -a "$code" = 200
check "b judged and allowed it" test "$(ha_counter b flows_allowed)" -ge 1
read -r rc code < <(ha_get denied.example.jp)
check "a forbidden connection is still refused (curl rc=$rc)" test "$rc" != 0 -a "$code" != 200
check "nothing forbidden reached the server" test "$(seen)" = $((n + 1))
check "b is healthy" ha_ctl b ha health
set +e; ha_ctl a ha health >/dev/null 2>&1; arc=$?; set -e
check "a's health check fails (gateway gone, exit $arc)" test "$arc" != 0

# --- the sealed logs record each role change ---------------------------------------------------
ha_stop a
ha_stop b
has_role() {  # BOX ACTION ROLE (python reads the files itself: no SIGPIPE under pipefail)
  python3 -c 'import glob, json, sys
for path in sorted(glob.glob(sys.argv[1] + "/log/*.jsonl")):
    for l in open(path):
        e = json.loads(l)
        if e.get("admin", {}).get("action") == sys.argv[2] and e.get("ha", {}).get("role") == sys.argv[3]:
            sys.exit(0)
sys.exit(1)' "$1" "$2" "$3"
}
check "a's log: started standby" has_role a ha.start standby
check "a's log: became active" has_role a ha.role active
check "b's log: became active" has_role b ha.role active
has_learn() {  # BOX: an ha.learn record naming at least the client and the server, and frames
  python3 -c 'import glob, json, sys
for path in sorted(glob.glob(sys.argv[1] + "/log/*.jsonl")):
    for l in open(path):
        e = json.loads(l)
        h = e.get("ha", {})
        if e.get("admin", {}).get("action") == "ha.learn" and h.get("hosts", 0) >= 2 and h.get("frames", 0) >= 2:
            sys.exit(0)
sys.exit(1)' "$1"
}
check "b's log: the hosts it announced after the takeover (ha.learn)" has_learn b
check "the health probe is not an admin record per poll" \
  bash -c "! cat a/log/*.jsonl b/log/*.jsonl | grep -q '\"action\":\"ha.health\",\"args\"'"
if [ "$fail" -ne 0 ]; then
  echo "ha records of b:"; grep -h '"ha"' b/log/*.jsonl | cut -c1-200 || true
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
