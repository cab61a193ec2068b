#!/bin/sh
# Install the Debian packages named as arguments that are not installed yet.
# Uses apt-get, through sudo when not root; without either, says in one line
# what to install and fails.  Quiet when nothing is missing.
# Elsewhere than Debian it says what it would need and lets the build try.
if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
	echo "lmp: not a Debian system: make sure these are installed: $*" >&2
	exit 0
fi
missing=
for p in "$@"; do
	case " $missing " in *" $p "*) continue ;; esac
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
hint="install these packages yourself: apt-get install$missing"
sudo=
if [ "$(id -u)" != 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "lmp: run as root or install sudo, or $hint" >&2
		exit 1
	fi
	sudo=sudo
fi
echo "lmp: installing$missing" >&2
# sudo resets the environment: pass apt-get's settings through env.  Only
# apt-get's errors are shown, not dpkg's line per package.
if ! { $sudo apt-get update -qq >&2 &&
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$missing >/dev/null; }; then
	echo "lmp: apt-get failed: $hint" >&2
	exit 1
fi
