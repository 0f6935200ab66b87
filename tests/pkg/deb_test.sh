#!/usr/bin/env bash
# deb_test.sh SRC WORK: builds the package, runs lintian (warnings listed, errors fail), unpacks it
# into a fresh root with dpkg (--root, no maintainer script runs: the host's /etc, users and
# systemd are never touched), checks files, conffiles and units, runs systemd-analyze verify on
# the installed units, and starts the installed lbg-gateway with the installed configuration
# (ports, paths and EAL options swapped for vdevs in WORK) until lbgctl answers over its socket.
set -uo pipefail
src=$1 work=$2
command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null && command -v help2man >/dev/null ||
  { echo "SKIP: dpkg-dev, debhelper or help2man missing (pkg/deps/base.txt)"; exit 77; }
rm -rf "$work"; mkdir -p "$work"
fails=0
check() {  # description command...
  if "${@:2}"; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails+1)); fi
}

start=$(date +%s)
if ! "$src/pkg/build-deb.sh" --ci "$work/out" >"$work/build.log" 2>&1; then
  tail -60 "$work/build.log"; echo "FAIL package build"; exit 1
fi
echo "package built in $(( $(date +%s) - start )) s (pkg/build-deb.sh --ci)"
deb=$(ls "$work"/out/lbg_*_amd64.deb)

if command -v lintian >/dev/null; then
  lintian --display-info "$deb" >"$work/lintian.txt" 2>&1
  echo "lintian:"; sed 's/^/  /' "$work/lintian.txt"
  check "lintian reports no error" bash -c "! grep -q '^E: ' '$work/lintian.txt'"
else
  echo "lintian not installed: skipped"
fi

# --- a fresh root, the package unpacked by dpkg ------------------------------------------------
root=$work/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
check "dpkg --root --unpack" dpkg --root="$root" --force-depends --force-script-chrootless \
  --log=/dev/null --unpack "$deb"
check "dpkg in the fresh root records the package" \
  bash -c "dpkg --root='$root' -s lbg | grep -q '^Status: install ok unpacked'"
for f in usr/bin/lbg-gateway usr/bin/lbgctl usr/bin/lbg-proxy usr/bin/lbg-audit usr/bin/lbg-sanitize \
         usr/bin/lbg-ids-check usr/sbin/lbg-icapd usr/lib/lbg/hugepages.sh usr/lib/lbg/bind-nics.sh \
         usr/lib/lbg/tproxy-rules.sh usr/lib/lbg/lbg-ha-notify usr/lib/lbg/lbg-ha-watch; do
  check "executable /$f" test -x "$root/$f"
done
check "keepalived template of a pair" grep -q "track_script" "$root/usr/share/lbg/ha/keepalived.conf.in"
check "keepalived template tracks the watcher's file" grep -q "track_file" "$root/usr/share/lbg/ha/keepalived.conf.in"
# Unpacked but not configured: dpkg leaves each conffile as FILE.dpkg-new until configure.
installed() { if [ -e "$root/$1" ]; then echo "$root/$1"; else echo "$root/$1.dpkg-new"; fi; }
for f in etc/lbg/gateway.yaml etc/lbg/roles.yaml etc/default/lbg-proxy etc/default/lbg-icapd \
         etc/logrotate.d/lbg; do
  check "conffile unpacked /$f" test -s "$(installed "$f")"
done
for f in lib/systemd/system/lbg-gateway.service lib/systemd/system/lbg-proxy.service \
         lib/systemd/system/lbg-icapd.service usr/share/man/man1/lbg-gateway.1.gz \
         usr/share/man/man1/lbgctl.1.gz usr/share/man/man8/lbg-icapd.8.gz \
         usr/share/bash-completion/completions/lbgctl usr/share/doc/lbg/examples/municipality.yaml; do
  check "file /$f" test -s "$root/$f"
done
for d in var/lib/lbg/policy var/log/lbg; do check "directory /$d" test -d "$root/$d"; done
conffiles=$(dpkg-deb -f "$deb" Package >/dev/null && dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles)
for f in /etc/lbg/gateway.yaml /etc/lbg/roles.yaml /etc/default/lbg-proxy /etc/default/lbg-icapd \
         /etc/logrotate.d/lbg; do
  check "conffile $f" grep -qx "$f" <<<"$conffiles"
done
check "nothing under /var/lib/lbg or /var/log/lbg is shipped as a file (upgrades keep them)" \
  bash -c "! dpkg-deb -c '$deb' | awk '{print \$6}' | grep -E '^\./var/(lib|log)/lbg/.*[^/]$'"
postinst=$(dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./postinst)
check "postinst parses" sh -n <<<"$postinst"
check "postinst creates the lbg-proxy and lbg-icapd system users" \
  bash -c "grep -q 'adduser --system' <<<\"\$1\" && grep -q 'lbg-proxy lbg-icapd' <<<\"\$1\"" _ "$postinst"
check "man page generated from --help" bash -c "zcat '$root/usr/share/man/man1/lbgctl.1.gz' | grep -q 'lbgctl'"
check "logrotate never lists the sealed log" bash -c "! grep -v '^#' '$(installed etc/logrotate.d/lbg)' | grep -q sealed"
for u in lbg-gateway lbg-proxy lbg-icapd; do
  unit=$root/lib/systemd/system/$u.service
  check "$u: ProtectSystem=strict" grep -qx 'ProtectSystem=strict' "$unit"
  check "$u: NoNewPrivileges" grep -qx 'NoNewPrivileges=yes' "$unit"
  check "$u: CapabilityBoundingSet" grep -q '^CapabilityBoundingSet=' "$unit"
done
check "lbg-proxy and lbg-icapd run as their own users" \
  bash -c "grep -qx 'User=lbg-proxy' '$root/lib/systemd/system/lbg-proxy.service' && grep -qx 'User=lbg-icapd' '$root/lib/systemd/system/lbg-icapd.service'"

# An upgrade (the package unpacked again over itself) keeps the policy store and the logs.
mkdir -p "$root/var/log/lbg/sealed"
echo v1 >"$root/var/lib/lbg/policy/keep"; echo seg >"$root/var/log/lbg/sealed/keep"
check "dpkg --root --unpack again (upgrade)" dpkg --root="$root" --force-depends \
  --force-script-chrootless --log=/dev/null --unpack "$deb"
check "upgrade keeps /var/lib/lbg and /var/log/lbg" \
  bash -c "grep -qx v1 '$root/var/lib/lbg/policy/keep' && grep -qx seg '$root/var/log/lbg/sealed/keep'"

# --- systemd-analyze verify on the installed units (offline, inside the root) -----------------
if command -v systemd-analyze >/dev/null; then
  # The units the package's units refer to (sysinit.target, network-pre.target...) come from the
  # host's systemd, copied into the root; the package's own files are never overwritten.
  cp -an /lib/systemd/system/. "$root/lib/systemd/system/"
  for u in lbg-gateway lbg-proxy lbg-icapd; do
    check "systemd-analyze verify $u.service" bash -c \
      "systemd-analyze verify --root='$root' --man=no /lib/systemd/system/$u.service >'$work/verify-$u.txt' 2>&1 || { cat '$work/verify-$u.txt'; false; }"
    # Warnings about units of the host (outside the root) are not ours.
    grep -v '^$' "$work/verify-$u.txt" | sed 's/^/  /'
  done
else
  echo "systemd-analyze not installed: skipped"
fi

# --- the installed binaries run -----------------------------------------------------------------
export LD_LIBRARY_PATH=  # the root's binaries link only the system's libraries
check "installed lbg-gateway checks the installed example policy" \
  "$root/usr/bin/lbg-gateway" check --policy "$root/usr/share/doc/lbg/examples/municipality.yaml"
for b in usr/bin/lbgctl usr/bin/lbg-proxy usr/bin/lbg-audit usr/sbin/lbg-icapd; do
  check "installed /$b --help" bash -c "'$root/$b' --help >/dev/null"
done

# lbg-gateway run as the unit starts it (ExecStart of the installed unit), with the installed
# gateway.yaml where only the machine-specific parts change: EAL without hugepages and PCI, two
# null vdevs for the ports, the state, log and socket paths inside WORK.
run=$work/run
mkdir -p "$run/policy"
cp "$root/usr/share/doc/lbg/examples/municipality.yaml" "$run/policy/running.yaml"
printf 'users:\n  "0": admin\n' >"$run/roles.yaml"
sed -e "s|^eal: .*|eal: [\"--no-huge\", \"--no-pci\", \"-m\", \"256\", \"--file-prefix\", \"lbgdeb$$\", \"--vdev\", \"net_null0\", \"--vdev\", \"net_null1\", \"--log-level\", \"lib.eal:notice\"]|" \
    -e 's|"0000:03:00.0"|"net_null0"|' -e 's|"0000:03:00.1"|"net_null1"|' \
    -e 's|^workers: .*|workers: 1|' -e 's|^flows: .*|flows: 4096|' \
    -e "s|/var/lib/lbg|$run|g" -e "s|/var/log/lbg|$run/log|g" -e "s|/run/lbg|$run|g" \
    -e "s|/etc/lbg/roles.yaml|$run/roles.yaml|" \
    "$(installed etc/lbg/gateway.yaml)" >"$run/gateway.yaml"
exec_start=$(sed -n 's/^ExecStart=//p' "$root/lib/systemd/system/lbg-gateway.service")
check "the unit starts lbg-gateway with /etc/lbg/gateway.yaml" \
  test "$exec_start" = "/usr/bin/lbg-gateway run --config /etc/lbg/gateway.yaml"
read -r -a argv <<<"${exec_start/\/etc\/lbg\/gateway.yaml/$run/gateway.yaml}"
"$root${argv[0]}" "${argv[@]:1}" >"$run/gateway.out" 2>"$run/gateway.err" &
gw=$!
up=0
for _ in $(seq 1 600); do
  if "$root/usr/bin/lbgctl" --socket "$run/control.sock" status >"$run/status.txt" 2>&1; then up=1; break; fi
  kill -0 "$gw" 2>/dev/null || break
  sleep 0.1
done
check "installed lbg-gateway runs the installed configuration; lbgctl status answers" test "$up" = 1
[ "$up" = 1 ] || { echo "gateway stderr:"; tail -20 "$run/gateway.err"; }
kill -TERM "$gw" 2>/dev/null; wait "$gw"; rc=$?
check "lbg-gateway stops on SIGTERM (exit 0)" test "$rc" = 0
check "the sealed log was written with the installed layout" bash -c "ls '$run/log/sealed/' | grep -q ."

echo "deb-package: $fails failure(s)"
[ "$fails" = 0 ]
