#!/usr/bin/env bash
# Builds the Debian package from this checkout:  pkg/build-deb.sh [--ci] [-j N] OUTDIR
# The tracked (and untracked, not ignored) files are copied to a temporary tree under OUTDIR,
# pkg/debian/ becomes its debian/, and `dpkg-buildpackage -b -us -uc` runs there; the .deb,
# .buildinfo and .changes land in OUTDIR. The checkout itself is never written.
#   --ci   the compile flags of the developer/CI build/ tree, so ccache serves its objects
#          (pkg/debian/rules, LBG_BUILD); default: release (-O3, Debian's hardening flags).
set -euo pipefail
mode=release jobs=$(nproc)
while [ $# -gt 1 ]; do
  case "$1" in
    --ci) mode=ci; shift ;;
    -j) jobs=$2; shift 2 ;;
    *) break ;;
  esac
done
[ $# -eq 1 ] || { echo "usage: pkg/build-deb.sh [--ci] [-j N] OUTDIR" >&2; exit 2; }
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
version=$(sed -n '1s/^lbg (\([^)]*\)).*/\1/p' "$src/pkg/debian/changelog")

work=$(mktemp -d "$out/.build-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree=$work/lbg-$version
mkdir "$tree"
if git -c safe.directory="$src" -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$src" && git -c safe.directory="$src" ls-files -z --cached --others --exclude-standard |
     tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$tree"
else  # an exported tree: everything but build directories
  tar -C "$src" --exclude='./build*' --exclude=./.git -cf - . | tar -xf - -C "$tree"
fi
# The measures reference beside the checkout (../shared/reference) is compiled into lbg-audit.
if [ -d "$src/../shared/reference" ]; then
  mkdir -p "$work/shared" && cp -r "$src/../shared/reference" "$work/shared/"
fi
rm -rf "$tree/debian"
cp -r "$tree/pkg/debian" "$tree/debian"

start=$(date +%s)
(cd "$tree" && LBG_BUILD=$mode DEB_BUILD_OPTIONS="noautodbgsym nocheck parallel=$jobs" \
   dpkg-buildpackage -b -us -uc)
echo "build-deb: lbg $version ($mode) built in $(( $(date +%s) - start )) s"
mv "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes "$out"/
ls "$out"/*.deb
