#!/bin/sh
# Binds the gateway's NIC ports to vfio-pci for DPDK (production; tests use vdevs), a thin wrapper
# of DPDK's dpdk-devbind.py (Debian package dpdk):
#   bind-nics.sh [PCI...]   default: ports.inside/outside of /etc/lbg/gateway.yaml
#   bind-nics.sh --status
set -e
devbind=$(command -v dpdk-devbind.py || command -v dpdk-devbind || true)
[ -n "$devbind" ] || { echo "bind-nics: dpdk-devbind.py not found (apt install dpdk)" >&2; exit 1; }
if [ "${1:-}" = --status ]; then exec "$devbind" --status-dev net; fi
config=${LBG_GATEWAY_CONFIG:-/etc/lbg/gateway.yaml}
if [ $# -eq 0 ]; then
  # The two PCI addresses of the ports: section (vdev strings such as net_tap0 are skipped).
  set -- $(sed -n '/^ports:/,/^[^ #]/s/^ *\(inside\|outside\): *"\?\([0-9a-fA-F:.]*\)"\?.*/\2/p' "$config")
fi
[ $# -gt 0 ] || { echo "bind-nics: no PCI address given or found in $config" >&2; exit 1; }
modprobe vfio-pci
for dev in "$@"; do
  "$devbind" --bind=vfio-pci "$dev"
done
