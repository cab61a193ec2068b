#!/bin/sh
# The whole suite (unit tests and bats) built with AddressSanitizer and
# UndefinedBehaviorSanitizer.  It runs in a copy of the tree, build/asan,
# rebuilt from the sources there, so no sanitized object ever mixes with the
# normal build; the copy stays for a look after a failure.  Any error report
# stops the program with a non-zero status, so the test that ran it fails.
cd "$(dirname "$0")/.." || exit 1
dir=build/asan
rm -rf "$dir" && mkdir -p "$dir" || exit 1
# The tree as it is (committed or not), less builds and the git directory.
tar -cf - --exclude=./build --exclude=./.git --exclude=./fuzz/build --exclude=./bench/out . |
	tar -xf - -C "$dir" || exit 1
cd "$dir" || exit 1
make --no-print-directory clean >/dev/null || exit 1
san="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
ASAN_OPTIONS=halt_on_error=1:abort_on_error=0:detect_leaks=1:exitcode=99
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=99
# Tests that cannot run under a sanitizer skip, saying why.
LMP_SANITIZED=1
export ASAN_OPTIONS UBSAN_OPTIONS LMP_SANITIZED
echo "# build/asan: the suite under AddressSanitizer and UndefinedBehaviorSanitizer"
make --no-print-directory -s CFLAGS="-O1 -g $san" LDFLAGS="$san" test
