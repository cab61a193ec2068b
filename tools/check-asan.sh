#!/bin/sh
# The whole suite (unit tests and bats) built with AddressSanitizer and
# UndefinedBehaviorSanitizer.  It runs in a copy of the tree, build/asan,
# rebuilt from the sources there, so no sanitized object ever mixes with the
# normal build; the copy stays for a look after a failure.  An error stops
# the program (status 99); every report is also kept in build/asan/reports,
# so an error that a test did not look at still fails the run.
cd "$(dirname "$0")/.." || exit 1
dir=build/asan
rm -rf "$dir" && mkdir -p "$dir/reports" || exit 1
# The tree as it is (committed or not), less builds and the git directory.
tar -cf - --exclude=./build --exclude=./.git --exclude=./fuzz/build --exclude=./bench/out . |
	tar -xf - -C "$dir" || exit 1
cd "$dir" || exit 1
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
make --no-print-directory clean >/dev/null || exit 1
san="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
reports=$PWD/reports
ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:exitcode=99:log_path=$reports/asan
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan
# Tests that cannot run under a sanitizer skip, saying why.
LMP_SANITIZED=1
export ASAN_OPTIONS UBSAN_OPTIONS LMP_SANITIZED
echo "# build/asan: the suite under AddressSanitizer and UndefinedBehaviorSanitizer"
# test/run's closing line is held back: the report check adds to it.
{ make --no-print-directory -s CFLAGS="-O2 -g $san" LDFLAGS="$san" test 2>&1 || echo >"$tmp/status"; } |
	tee "$tmp/out" | sed -u '/^[0-9][0-9]* passed, [0-9][0-9]* failed$/d'
last=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$tmp/out" | tail -n 1)
pass=${last%% passed*}
fail=${last#*passed, }
fail=${fail%% failed}
[ -n "$last" ] || pass=0 fail=1
# A leak report alone comes from a process that exited; where it exited 0 its
# status became 99 and a test that checks it failed.  Leaks at an error exit
# (a tool that dies holding memory) are listed, not counted.
errs=0 leaks=0
for f in reports/*; do
	[ -e "$f" ] || continue
	if grep -q 'ERROR: LeakSanitizer' "$f" && ! grep -q 'ERROR: AddressSanitizer\|runtime error' "$f"; then
		leaks=$((leaks + 1))
		echo "# leak report $dir/$f: $(grep -m 1 '^SUMMARY' "$f"), from $(grep -m 1 ' in main ' "$f" | sed 's/.* in main //')"
	else
		errs=$((errs + 1))
		echo "# sanitizer report $dir/$f:"
		sed 's/^/#   /' "$f" | head -n 60
	fi
done
if [ "$errs" -eq 0 ]; then
	echo "ok - no sanitizer error report ($leaks leak reports at exits)"
	pass=$((pass + 1))
else
	echo "not ok - $errs sanitizer error reports in $dir/reports"
	fail=$((fail + 1))
fi
[ -e "$tmp/status" ] && [ "$fail" -eq 0 ] && fail=1
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
