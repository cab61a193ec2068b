#!/bin/sh
# Run the libFuzzer targets built in fuzz/build, one TAP line each, and end
# with "N passed, N failed".
#   tools/fuzz.sh SECONDS TARGET...
# SECONDS 0: replay fuzz/corpus/TARGET only (no mutation: the same every run).
# Otherwise explore for SECONDS per target, starting from the saved corpus;
# new inputs go to fuzz/build/new/TARGET, so the saved corpus stays as it is,
# and a crash is saved as fuzz/build/crash-TARGET-*.
cd "$(dirname "$0")/.." || exit 1
secs=$1
shift
pass=0 fail=0 i=0
for t in "$@"; do
	i=$((i + 1))
	log=fuzz/build/$t.log
	start=$(date +%s)
	if [ "$secs" -eq 0 ]; then
		./fuzz/build/"$t" -runs=0 "fuzz/corpus/$t" >"$log" 2>&1
	else
		mkdir -p "fuzz/build/new/$t"
		./fuzz/build/"$t" -max_total_time="$secs" -print_final_stats=1 \
			-artifact_prefix="fuzz/build/crash-$t-" "fuzz/build/new/$t" "fuzz/corpus/$t" >"$log" 2>&1
	fi
	rc=$?
	took=$(($(date +%s) - start))
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	files=$(find "fuzz/corpus/$t" -type f | wc -l)
	if [ "$rc" -eq 0 ]; then
		pass=$((pass + 1))
		if [ "$secs" -eq 0 ]; then
			echo "ok $i fuzz $t: $files saved inputs replayed in $took s"
		else
			echo "ok $i fuzz $t: ${runs:-?} inputs in $took s, no crash"
		fi
	else
		fail=$((fail + 1))
		echo "not ok $i fuzz $t: exit status $rc after $took s (log: $log)"
		tail -n 40 "$log" | sed 's/^/# /'
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
