#!/usr/bin/env bats
# The build and the install: tools find their data from their own location.

load helper

@test "make install with PREFIX and DESTDIR puts tools, data and man pages in place" {
	local d="$BATS_TEST_TMPDIR/stage"
	run make -C "$ROOT" install PREFIX=/opt/lmp DESTDIR="$d"
	assert_success
	[ -x "$d/opt/lmp/bin/lmp-eval" ]
	[ -f "$d/opt/lmp/share/lmp/module_db.json" ]
	[ -f "$d/opt/lmp/share/lmp/models/meta-llama--Llama-2-7b-hf.populated.json" ]
	[ -f "$d/opt/lmp/share/man/man1/lmp-eval.1" ]
	[ -f "$d/opt/lmp/share/man/man5/lmp-module-db.5" ]
	[ -f "$d/opt/lmp/share/man/man7/lmp.7" ]
	# the template manual beside the data, for the architecture agent's prompt
	cmp "$d/opt/lmp/share/lmp/lmp-arch.5" "$ROOT/man/lmp-arch.5"
	# the installed tool finds the installed database, run from anywhere
	cd "$BATS_TEST_TMPDIR"
	run "$d/opt/lmp/bin/lmp-eval" --totals --seq-len 1 < "$d/opt/lmp/share/lmp/models/meta-llama--Llama-2-7b-hf.populated.json"
	assert_success
	[ "$(jq .totals.param_count <<<"$output")" = 6738415616 ]
	run "$d/opt/lmp/bin/lmp-roofline" --list-hardware
	assert_success
	assert_line --regexp $'^nvidia-h100-sxm\t'
	# pipeline.sh installed as lmp-pipeline finds its tools beside it, with
	# nothing of the checkout on PATH
	run env PATH=/usr/bin:/bin "$d/opt/lmp/bin/lmp-pipeline" meta-llama/Llama-2-7b-hf --totals --seq-len 1 \
		--hardware nvidia-h100-sxm
	assert_success
	[ "$(jq .totals.param_count <<<"$output")" = 6738415616 ]
	[ -f "$d/opt/lmp/share/man/man1/lmp-pipeline.1" ]
	# and says where it looked when the database is gone
	rm "$d/opt/lmp/share/lmp/module_db.json"
	run --separate-stderr "$d/opt/lmp/bin/lmp-eval" --params torch.nn.Linear
	[ "$status" -eq 3 ]
	[[ "$stderr" == "lmp-eval: $d/opt/lmp/share/lmp/module_db.json: No such file or directory" ]]
}

@test "the build has no warnings" {
	local d="$BATS_TEST_TMPDIR/src"
	mkdir -p "$d"
	cp -R "$ROOT/Makefile" "$ROOT/lib" "$ROOT/bin" "$ROOT/tools" "$ROOT/test" "$d/"
	rm -f "$d"/lib/*.o "$d"/lib/*.a "$d"/bin/*.o "$d"/test/unit/*.o
	for t in inspect ensure populate eval roofline report calibrate; do rm -f "$d/bin/lmp-$t"; done
	run make -C "$d" bin/lmp-inspect bin/lmp-ensure bin/lmp-populate bin/lmp-eval bin/lmp-roofline \
		bin/lmp-report bin/lmp-calibrate test/unit/test_engine test/unit/test_report test/unit/test_time test/unit/test_numfmt test/unit/test_fields test/unit/test_jobs
	assert_success
	refute_output --partial "warning"
}

@test "every tool checks that its output was written: to a full disk, every success path fails with one line" {
	local arch="$ROOT/models/meta-llama--Llama-2-7b-hf.arch.json"
	local lines=(
		"lmp-inspect --help" "lmp-inspect --version" "lmp-inspect --list" "lmp-inspect meta-llama/Llama-2-7b-hf"
		"lmp-ensure --help" "lmp-ensure --version" "lmp-ensure --list" "lmp-ensure --quiet --agent false $arch"
		"lmp-populate --help" "lmp-populate --version" "lmp-populate $arch"
		"lmp-eval --help" "lmp-eval --version" "lmp-eval --params torch.nn.modules.linear.Linear"
		"lmp-eval --totals $LLAMA2" "lmp-eval --module torch.nn.modules.linear.Linear tokens=1 in_features=2 out_features=3"
		"lmp-roofline --help" "lmp-roofline --version" "lmp-roofline --list"
		"lmp-report --help" "lmp-report --version" "lmp-calibrate --help" "lmp-calibrate --version"
	)
	local eval_doc
	eval_doc=$(lmp-eval --totals --seq-len 8 < "$LLAMA2")
	for l in "${lines[@]}"; do
		HF_HUB_OFFLINE=1 run --separate-stderr $l
		[ "$status" -eq 0 ] || { echo "$l: fails even to a terminal: $stderr"; false; }
		HF_HUB_OFFLINE=1 run --separate-stderr sh -c "$l > /dev/full"
		[ "$status" -eq 3 ] && [ "$stderr" = "${l%% *}: write error on stdout" ] || { echo "$l > /dev/full: $status '$stderr'"; false; }
	done
	for l in "lmp-roofline --hardware nvidia-h100-sxm" "lmp-report" "lmp-report --format text"; do
		run --separate-stderr sh -c "$l > /dev/full" <<< "$eval_doc"
		[ "$status" -eq 3 ] && [ "$stderr" = "${l%% *}: write error on stdout" ] || { echo "$l > /dev/full: $status '$stderr'"; false; }
	done
}
