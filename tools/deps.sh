#!/bin/sh
# Install the Debian packages named as arguments that are not installed yet.
# Uses apt-get, through sudo when not root.  Quiet when nothing is missing.
# Elsewhere than Debian it says what it would need and lets the build try.
if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
	echo "lmp: not a Debian system: make sure these are installed: $*" >&2
	exit 0
fi
missing=
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
sudo=
[ "$(id -u)" = 0 ] || sudo=sudo
echo "lmp: installing$missing" >&2
$sudo apt-get update -qq >&2 || exit 1
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >&2
