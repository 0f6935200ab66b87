#!/usr/bin/env bash
# The live gateway's enforcement log on a disk that fills up (issue 4, "Bad input"):
#   - forwarding continues while the log cannot be written;
#   - the lost records are counted in `lbgctl stats`, the Prometheus output and the counters
#     printed at SIGTERM, and the alarm state is visible while it lasts;
#   - the disk-full alarm reaches the SIEM (a syslog receiver on loopback) while the disk is full;
#   - once space is back, an `alarm` record (kind disk-full, with the count) enters the chain;
#   - the log written before, during and after still verifies with lbg-audit.
# The log directory is a 1 MiB tmpfs this test mounts; traffic stays inside the namespaces it
# creates. Needs root; skips (77) otherwise.
# Usage: gateway_disk_full_test.sh LBG_GATEWAY LBGCTL LBG_AUDIT WORKDIR
set -euo pipefail
source "$(dirname "$(realpath "$0")")/../lib/bump.sh"
GW=$(realpath "$1")
CTL=$(realpath "$2")
AUDIT=$(realpath "$3")
WORK=$(realpath -m "$4")
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: no curl"; exit 77; }

tag=$$
NC=lbfc$tag NS=lbfs$tag
IN=lbfi$tag OUT=lbfo$tag
NET=10.78.$((tag % 200))
if mountpoint -q "$WORK/logfs" 2>/dev/null; then umount "$WORK/logfs"; fi
rm -rf "$WORK"; mkdir -p "$WORK"; cd "$WORK"
pass=0 fail=0
cleanup() {
  [ -n "${GWPID:-}" ] && kill "$GWPID" 2>/dev/null && wait "$GWPID" 2>/dev/null || true
  [ -n "${SRVPID:-}" ] && kill "$SRVPID" 2>/dev/null || true
  [ -n "${SYSPID:-}" ] && kill "$SYSPID" 2>/dev/null || true
  ip netns del "$NC" 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  ip link del "$IN" 2>/dev/null || true
  ip link del "$OUT" 2>/dev/null || true
  mountpoint -q "$WORK/logfs" 2>/dev/null && umount "$WORK/logfs" || true
}
trap cleanup EXIT

mkdir logfs
mount -t tmpfs -o size=1m,mode=0750 lbg-disk-full-test logfs

lbg_test_pki allowed.example.jp allowed.example.jp
lbg_bump_topology "$NC" "$NS" "$IN" "$OUT" "$NET"

METRICS_PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# The SIEM: a UDP syslog receiver on loopback, one line per datagram (port chosen by the kernel).
cat > syslog_rcv.py <<'EOF2'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
open("syslog.port", "w").write(str(s.getsockname()[1]))
with open("syslog.rcv", "a") as f:
    while True:
        data, _ = s.recvfrom(65536); f.write(data.decode("utf-8", "replace") + "\n"); f.flush()
EOF2
/usr/bin/python3 syslog_rcv.py & SYSPID=$!
for _ in $(seq 1 150); do [ -s syslog.port ] && break; sleep 0.2; done
SYSLOG_PORT=$(cat syslog.port)
cat > policy.yaml <<EOF
version: 1
approval: none
segment:
  inside: [$NET.10/32]
defaults: {deny: reset, quic: block, ech: block, sni_dns: "off"}
services:
  - name: disk-full-allowed
    kind: lgwan-asp
    fqdn: [allowed.example.jp]
    ports: [tcp/443]
EOF
printf 'users:\n  "0": admin\n' > roles.yaml
lbg_gateway_yaml "$IN" "$OUT" "$WORK"
cat >> gateway.yaml <<EOF
appliance_id: disk-full-test
log:
  dir: $WORK/logfs/log
  key: $WORK/log.key
  syslog: [{transport: udp, host: 127.0.0.1, port: $SYSLOG_PORT}]
control: {socket: $WORK/control.sock, roles: $WORK/roles.yaml, store: $WORK/store}
metrics: "127.0.0.1:$METRICS_PORT"
EOF

ip netns exec "$NS" /usr/bin/python3 "$LBG_TEST_LIB/https_server.py" & SRVPID=$!
"$GW" run --config gateway.yaml >gateway.out 2>gateway.err & GWPID=$!

wait_for 300 grep -q "lbg-gateway: running" gateway.err || { echo "gateway did not start:"; cat gateway.err; }
wait_for 300 test -S control.sock || echo "control socket missing"
wait_for 300 ip netns exec "$NS" bash -c "exec 3<>/dev/tcp/127.0.0.1/443" || echo "HTTPS server not listening"

fetch() {  # → 0 when the allowed name answers 200 through the gateway
  local code
  code=$(ip netns exec "$NC" curl -sS --max-time 10 --cacert ca.pem \
    --resolve "allowed.example.jp:443:$NET.200" -o /dev/null -w '%{http_code}' \
    https://allowed.example.jp/ 2>>curl.err) || return 1
  [ "$code" = 200 ]
}
counter() {  # name → value from `lbgctl --json stats`
  "$CTL" --socket control.sock --json stats 2>/dev/null |
    /usr/bin/python3 -c 'import json,sys; c={x["name"]:x["value"] for x in json.load(sys.stdin)["counters"]}; print(c.get(sys.argv[1], "missing"))' "$1"
}
counter_at_least() { local v; v=$(counter "$1"); [ "$v" != missing ] && [ "$v" -ge "$2" ]; }
counter_is() { [ "$(counter "$1")" = "$2" ]; }
log_bytes() { cat logfs/log/*.jsonl 2>/dev/null | wc -c; }

# --- before: the log takes records --------------------------------------------------------------
check "allowed flow forwarded (disk has space)" fetch
check "lbgctl stats shows the log counters" counter_is log_records_lost 0
check "records reach the disk within the tick" wait_for 150 bash -c "[ \$(cat logfs/log/*.jsonl | wc -l) -ge 1 ]"
before_records=$(cat logfs/log/*.jsonl | wc -l)

# --- the disk fills up --------------------------------------------------------------------------
dd if=/dev/zero of=logfs/filler bs=4k 2>/dev/null || true  # stops at ENOSPC
check "the log file system is full" bash -c "! dd if=/dev/zero of=logfs/filler2 bs=4k count=1 2>/dev/null"
rm -f logfs/filler2
ok=0
for _ in 1 2 3 4 5; do fetch && ok=$((ok+1)); done
check "forwarding continues while the disk is full ($ok/5 fetched)" test "$ok" = 5
check "lost records counted in lbgctl stats" wait_for 150 counter_at_least log_records_lost 1
check "alarm state raised (log_alarm = 1)" counter_is log_alarm 1
check "alarm counted" counter_at_least log_alarms 1
metrics=$(curl -sS --max-time 10 "http://127.0.0.1:$METRICS_PORT/metrics" || true)
check "Prometheus: lbg_log_records_lost_total > 0" \
  bash -c "grep -Eq '^lbg_log_records_lost_total [1-9]' <<<\"\$1\"" _ "$metrics"
check "Prometheus: lbg_log_alarm is a gauge at 1" \
  bash -c "grep -q '^# TYPE lbg_log_alarm gauge' <<<\"\$1\" && grep -q '^lbg_log_alarm 1' <<<\"\$1\"" _ "$metrics"
lost_during=$(counter log_records_lost)
check "the disk-full alarm reached syslog while the disk is full" \
  wait_for 150 grep -q '"kind":"disk-full"' syslog.rcv
check "syslog alarm has severity critical (<130> = local0.crit)" grep -q '^<130>1 .* lbg-gateway .* alarm - ' syslog.rcv

# --- space is back: the alarm record enters the chain ------------------------------------------
rm -f logfs/filler
check "allowed flow forwarded after the disk recovered" fetch
check "alarm cleared once its record is durable" wait_for 150 counter_is log_alarm 0

kill -TERM "$GWPID"
set +e; wait "$GWPID"; gwrc=$?; set -e
GWPID=
check "SIGTERM stops the gateway cleanly (rc=$gwrc)" test "$gwrc" = 0
check "final counters include the lost records" grep -Eq "^log_records_lost +[1-9]" gateway.err
check "final counters include syslog drops and alarms" grep -Eq "^log_syslog_dropped +[0-9]+" gateway.err
cat logfs/log/*.jsonl > events.json
check "records before the disk filled are still there" test "$(wc -l < events.json)" -ge "$before_records"
check "lbg-audit verifies the whole log" "$AUDIT" --dir logfs/log --pubkey log.key.pub verify
check "durable records were exported to syslog too" grep -q '"event_type":"flow".*"lbg_seq":1,' syslog.rcv
"$AUDIT" --dir logfs/log --pubkey log.key.pub query --type alarm > alarms.json || true
check "an alarm record (disk-full) is in the chain" grep -q '"kind":"disk-full"' alarms.json
check "the alarm record counts the lost records ($lost_during)" \
  /usr/bin/python3 -c 'import json,sys
recs=[json.loads(l) for l in open("alarms.json") if l.strip()]
lost=sum(r["alarm"].get("lost",0) for r in recs if r["alarm"]["kind"]=="disk-full")
sys.exit(0 if lost >= int(sys.argv[1]) > 0 else 1)' "$lost_during"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
