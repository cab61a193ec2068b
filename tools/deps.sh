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

# A package this distribution lacks (Ubuntu has chromium only as a snap) is
# named and left out rather than failing the whole install.  Known only
# where apt's package lists are there (apt-cache knows dpkg).
available() {
	apt-cache show "$1" 2>/dev/null | grep -q '^Version:'
}
drop_lacking() {
	have=
	for p in $missing; do
		if available "$p"; then
			have="$have $p"
		else
			echo "lmp: no package $p here: install it another way (what needs it fails without it)" >&2
		fi
	done
	missing=$have
}
lists=
if available dpkg; then
	lists=1
	drop_lacking
	[ -z "$missing" ] && exit 0
fi

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
if ! $sudo apt-get update -qq >&2; then
	echo "lmp: apt-get update failed: $hint" >&2
	exit 1
fi
[ -n "$lists" ] || drop_lacking
# sudo resets the environment: pass apt-get's settings through env.  Only
# apt-get's errors are shown, not dpkg's line per package.
if [ -n "$missing" ] && ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$missing >/dev/null; then
	echo "lmp: apt-get failed: $hint" >&2
	exit 1
fi
