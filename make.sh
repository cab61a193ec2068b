#!/bin/sh
# make, on a bare Debian or Ubuntu: installs make, the compiler and the
# packages the named targets need (tools/deps.sh: apt-get, through sudo when
# not root), then runs make with the same arguments.
#   ./make.sh demo    ./make.sh test    ./make.sh [TARGET...]
# Once make is installed, `make TARGET` does the same.
cd "$(dirname "$0")" || exit 1
# A package list of the Makefile (NAME = pkg pkg ...).
list() {
	sed -n "s/^$1 *= *//p" Makefile
}
pkgs="$(list BUILD_DEPS)"
for t in "$@"; do
	case $t in
	demo) pkgs="$pkgs $(list DEMO_DEPS)" ;;
	test | check-asan) pkgs="$pkgs $(list TEST_DEPS)" ;;
	fuzz | fuzz-replay) pkgs="$pkgs $(list FUZZ_DEPS)" ;;
	esac
done
# shellcheck disable=SC2086 # one word per package
sh ./tools/deps.sh $pkgs || exit
exec make "$@"
