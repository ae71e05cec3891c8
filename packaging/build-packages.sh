#!/usr/bin/env bash
# Builds dist/joinagent_<ver>_amd64.deb (dpkg-deb) and dist/joinagent-<ver>-1.x86_64.rpm
# (rpmbuild) from the single binary dist/joinagent (JOINAGENT_ARCH=arm64 with
# JOINAGENT_BIN=dist/joinagent-arm64: _arm64.deb and .aarch64.rpm), the unit systemd/joinagent.service
# and the example config. Packages put the binary at /usr/bin/joinagent (distribution
# policy: never /usr/local) and the unit in the distribution's unit directory, with
# ExecStart rewritten to match. They do not enable or start the agent: it needs a config
# first (then `joinagent install --now`, which sees the packaged unit, or
# `systemctl enable --now --no-block joinagent`).
#
# usage: packaging/build-packages.sh VERSION [OUTDIR]   (env JOINAGENT_BIN overrides the binary,
# JOINAGENT_ARCH=x64|arm64 names its architecture, default x64)
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=${1:?usage: build-packages.sh VERSION [OUTDIR]}
OUT=$(mkdir -p "${2:-dist}" && cd "${2:-dist}" && pwd)
BIN=${JOINAGENT_BIN:-dist/joinagent}
[ -x "$BIN" ] || { echo "build-packages.sh: $BIN missing: run bash build.sh first" >&2; exit 2; }
case "${JOINAGENT_ARCH:-x64}" in
  x64) DEB_ARCH=amd64 RPM_ARCH=x86_64 ;;
  arm64) DEB_ARCH=arm64 RPM_ARCH=aarch64 ;;
  *) echo "build-packages.sh: JOINAGENT_ARCH=$JOINAGENT_ARCH: x64 or arm64" >&2; exit 2 ;;
esac
# package versions cannot carry '-' (Debian revision / RPM release separator)
PKGVER=${VERSION//-/\~}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

unit_for() { sed "s#^ExecStart=/usr/local/bin/joinagent #ExecStart=/usr/bin/joinagent #" systemd/joinagent.service; }

# --- .deb -------------------------------------------------------------------------------
D=$WORK/deb
install -d -m 0755 "$D/DEBIAN" "$D/usr/bin" "$D/lib/systemd/system" "$D/usr/share/doc/joinagent"
install -m 0755 "$BIN" "$D/usr/bin/joinagent"
unit_for > "$D/lib/systemd/system/joinagent.service" && chmod 0644 "$D/lib/systemd/system/joinagent.service"
install -m 0644 packaging/config.yaml.example "$D/usr/share/doc/joinagent/config.yaml.example"
install -m 0644 packaging/deb/copyright "$D/usr/share/doc/joinagent/copyright"
for s in postinst prerm postrm; do install -m 0755 "packaging/deb/$s" "$D/DEBIAN/$s"; done
SIZE_KB=$(du -sk --exclude=DEBIAN "$D" | cut -f1)
sed -e "s/@VERSION@/$PKGVER/" -e "s/@SIZE@/$SIZE_KB/" -e "s/@ARCH@/$DEB_ARCH/" packaging/deb/control > "$D/DEBIAN/control"
DEB="$OUT/joinagent_${PKGVER}_${DEB_ARCH}.deb"
# gzip: every dpkg reads it, and it is quick on a 100 MB binary (xz takes minutes)
dpkg-deb --root-owner-group -Zgzip -z6 --build "$D" "$DEB" >/dev/null
echo "build-packages.sh: $DEB ($(du -m "$DEB" | cut -f1) MB)"

# --- .rpm -------------------------------------------------------------------------------
if ! command -v rpmbuild >/dev/null; then
  echo "build-packages.sh: rpmbuild not found (apt-get install rpm): no .rpm built" >&2
  exit 1
fi
R=$WORK/rpm
mkdir -p "$R/SOURCES" "$R/SPECS"
cp "$BIN" "$R/SOURCES/joinagent"
unit_for > "$R/SOURCES/joinagent.service"
cp packaging/config.yaml.example "$R/SOURCES/config.yaml.example"
rpmbuild --quiet -bb packaging/rpm/joinagent.spec \
  --define "_topdir $R" --define "_rpmdir $R/RPMS" --define "pkgversion $PKGVER" --target "$RPM_ARCH" >/dev/null
RPM="$OUT/joinagent-${PKGVER}-1.${RPM_ARCH}.rpm"
mv "$R/RPMS/$RPM_ARCH/joinagent-${PKGVER}-1.${RPM_ARCH}.rpm" "$RPM"
echo "build-packages.sh: $RPM ($(du -m "$RPM" | cut -f1) MB)"
