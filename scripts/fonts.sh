#!/usr/bin/env bash
# Installs the certificate font (embedded in every e-certificate PDF) once, from the npm registry:
# Noto Serif SC (SIL OFL 1.1), static TrueType-outline instances, package @expo-google-fonts/noto-serif-sc.
# Pinned version and archive sha256; only the Regular and Bold faces are kept. Needs npm (Node.js).
# Usage: bash scripts/fonts.sh  (does nothing when both files are already there; FORCE=1 reinstalls).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGE="@expo-google-fonts/noto-serif-sc"
VERSION="0.4.3"
SHA256="ff6bcf5ba68d92dfecc05544bb150f9e724741a932354a0dd97e7289c40a3f5e"
DEST="app/plugins/certificate_assets/fonts"
# archive member -> installed name
FACES=(
  "package/400Regular/NotoSerifSC_400Regular.ttf:NotoSerifSC-Regular.ttf"
  "package/700Bold/NotoSerifSC_700Bold.ttf:NotoSerifSC-Bold.ttf"
)

missing=0
for face in "${FACES[@]}"; do
  [ -s "$DEST/${face#*:}" ] || missing=1
done
if [ "$missing" = 0 ] && [ -z "${FORCE:-}" ]; then
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "scripts/fonts.sh: npm is needed to fetch $PACKAGE@$VERSION (apt-get install npm)" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "Fetching the certificate font $PACKAGE@$VERSION from the npm registry…"
(cd "$work" && npm pack --silent --loglevel=error "$PACKAGE@$VERSION" >/dev/null 2>"$work/npm.log") || {
  cat "$work/npm.log" >&2
  exit 1
}
archive="$(ls "$work"/*.tgz)"
echo "$SHA256  $archive" | sha256sum --check --status || {
  echo "scripts/fonts.sh: sha256 of $(basename "$archive") is not the pinned $SHA256" >&2
  exit 1
}
members=()
for face in "${FACES[@]}"; do members+=("${face%%:*}"); done
tar -xzf "$archive" -C "$work" "${members[@]}"
mkdir -p "$DEST"
for face in "${FACES[@]}"; do
  install -m 0644 "$work/${face%%:*}" "$DEST/${face#*:}"
done
install -m 0644 /dev/null "$DEST/SOURCE.txt"
printf '%s@%s (npm registry), sha256 %s; SIL Open Font License 1.1\n' "$PACKAGE" "$VERSION" "$SHA256" >"$DEST/SOURCE.txt"
echo "Installed the certificate font into $DEST"
