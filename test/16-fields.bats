#!/usr/bin/env bats
# --fields: lmp-eval's and lmp-roofline's documents pruned to the named
# members, in the document's order and nesting, values as written.

load helper

@test "lmp-eval --fields: each document pruned, nesting and document order kept" {
	# 2 x 2 points, batch-major; tokens = batch x seq (4 x 1024 = 4096 at the last)
	run lmp-eval --totals --batch-size 1,4 --seq-len 128,1024 --fields runtime.tokens,runtime.batch_size,lmp "$LLAMA2"
	assert_success
	assert_output "$(printf '%s\n' \
		'{"lmp":"eval","runtime":{"batch_size":1,"tokens":128}}' \
		'{"lmp":"eval","runtime":{"batch_size":1,"tokens":1024}}' \
		'{"lmp":"eval","runtime":{"batch_size":4,"tokens":512}}' \
		'{"lmp":"eval","runtime":{"batch_size":4,"tokens":4096}}')"
}

@test "lmp-eval --fields: the pruned document equals the whole document's members, values byte for byte" {
	local f=runtime.batch_size,runtime.seq_len,totals.time_s,totals.bound,totals.bytes,fit.fits,roofline.time_model.status
	lmp-eval --totals --hardware nvidia-h100-sxm --batch-size 1,7 --seq-len 17,3000 "$LLAMA2" > "$BATS_TEST_TMPDIR/whole"
	lmp-eval --totals --hardware nvidia-h100-sxm --batch-size 1,7 --seq-len 17,3000 --fields "$f" "$LLAMA2" > "$BATS_TEST_TMPDIR/pruned"
	# the same members, read by jq from each whole document, in its order
	run jq -c '{runtime: {batch_size: .runtime.batch_size, seq_len: .runtime.seq_len},
		totals: {bytes: .totals.bytes, time_s: .totals.time_s, bound: .totals.bound},
		roofline: {time_model: {status: .roofline.time_model.status}}, fit: {fits: .fit.fits}}' "$BATS_TEST_TMPDIR/whole"
	assert_output "$(jq -c . "$BATS_TEST_TMPDIR/pruned")"
	# each pruned time is the whole document's text: "time_s":TEXT appears there
	while read -r t; do
		grep -qF "\"time_s\":$t," "$BATS_TEST_TMPDIR/whole" || fail "time_s $t is not the whole document's text"
	done < <(grep -o '"time_s":[^,}]*' "$BATS_TEST_TMPDIR/pruned" | cut -d: -f2)
	[ "$(wc -l < "$BATS_TEST_TMPDIR/pruned")" -eq 4 ]
}

@test "lmp-eval --fields: every path of the fused sweep, rows, requests and the cJSON path prunes alike" {
	local f a
	# with a fit member, and without (the direct path then works out no fit);
	# members of the totals and the fit the fused sweep then does not write
	# (the engine's members, kept per batch where all are written); no
	# member of the totals (written whole otherwise)
	for f in runtime,totals.time_s,totals.ttft_s,fit.max_batch_size runtime.batch_size,totals.time_s,totals.bound \
		totals.bytes.reads,totals.state_growth,totals.mfu,fit.kv_cache_tokens,fit.engine_memory_bytes runtime.seq_len,fit \
		runtime.w_bit,runtime.tokens,totals.activation_growth; do
	# (a decode step over a cache: its totals' growth text holds
	# activation_growth after state_growth)
	for a in "--totals --batch-size 1,4 --seq-len 128,1024" "--totals --batch-size 2 --seq-len 1 --cache-len 1000" \
		"--batch-size 2 --seq-len 64" \
		"--totals --batch-size 2 --prompt-len 512 --gen-len 16" "--batch-size 2 --prompt-len 64 --gen-len 3"; do
		lmp-eval $a --hardware nvidia-h100-sxm --fields "$f" "$LLAMA2" > "$BATS_TEST_TMPDIR/fused" 2>/dev/null
		LMP_EVAL_NODIRECT=1 lmp-eval $a --hardware nvidia-h100-sxm --fields "$f" "$LLAMA2" > "$BATS_TEST_TMPDIR/tree" 2>/dev/null
		lmp-eval $a "$LLAMA2" | lmp-roofline --hardware nvidia-h100-sxm --fields "$f" > "$BATS_TEST_TMPDIR/pipe" 2>/dev/null
		cmp "$BATS_TEST_TMPDIR/fused" "$BATS_TEST_TMPDIR/tree" || fail "$a: fused and cJSON paths differ"
		cmp "$BATS_TEST_TMPDIR/fused" "$BATS_TEST_TMPDIR/pipe" || fail "$a: fused and pipe differ"
		# only the named top-level members
		run jq -r 'keys_unsorted | join(",")' "$BATS_TEST_TMPDIR/fused"
		[[ "${lines[0]}" =~ ^(runtime|totals|fit)(,(totals|fit))*$ ]] || fail "$a: top-level members ${lines[0]}"
	done
	done
	# a request's time to first token is its prefill phase's time
	run sh -c "lmp-eval --totals --hardware nvidia-h100-sxm --batch-size 2 --prompt-len 512 --gen-len 16 \
		--fields totals.ttft_s,phases.prefill.totals.time_s '$LLAMA2' | jq '.totals.ttft_s == .phases.prefill.totals.time_s'"
	assert_output true
}

@test "lmp-eval --fields: a member a document lacks is left out; a path no document had is warned of" {
	# 4096 is Llama-2's position limit: seq 5000 is past it and marked, 100 is not
	run_split lmp-eval --totals --batch-size 1 --seq-len 100,5000 --fields runtime.seq_len,runtime.past_position_limit "$LLAMA2"
	assert_success
	assert_output "$(printf '%s\n' '{"runtime":{"seq_len":100}}' '{"runtime":{"seq_len":5000,"past_position_limit":true}}')"
	# totals.time is no member (totals.time_s is): a warning, status 0
	run_split lmp-eval --totals --batch-size 1 --seq-len 100 --fields runtime.seq_len,totals.time "$LLAMA2"
	assert_success
	assert_output '{"runtime":{"seq_len":100}}'
	[[ "$stderr" == *"lmp-eval: warning: --fields: no document had a member totals.time"* ]]
	# a path none of whose members is there: an empty document
	run_split lmp-eval --totals --batch-size 1 --seq-len 100 --fields nothing.here "$LLAMA2"
	assert_output '{}'
}

@test "lmp-eval --fields: the head (lmp, version, model) kept where a path names it, left out where none does" {
	local a="--totals --hardware nvidia-h100-sxm --batch-size 3 --seq-len 100,200"
	lmp-eval $a "$LLAMA2" > "$BATS_TEST_TMPDIR/whole"
	# a member of the model object and one of the totals, as jq reads them
	run lmp-eval $a --fields model.id,totals.time_s "$LLAMA2"
	assert_success
	assert_output "$(jq -c '{model: {id: .model.id}, totals: {time_s: .totals.time_s}}' "$BATS_TEST_TMPDIR/whole")"
	run lmp-eval $a --fields version,runtime.seq_len "$LLAMA2"
	assert_output "$(jq -c '{version, runtime: {seq_len: .runtime.seq_len}}' "$BATS_TEST_TMPDIR/whole")"
	# a path into the model that names nothing there: the rest, and a warning
	run_split lmp-eval $a --fields model.nothing,runtime.seq_len "$LLAMA2"
	assert_success
	assert_output "$(printf '%s\n' '{"runtime":{"seq_len":100}}' '{"runtime":{"seq_len":200}}')"
	[[ "$stderr" == *"lmp-eval: warning: --fields: no document had a member model.nothing"* ]]
}

@test "lmp-eval --fields --pretty: the pruned document printed as --pretty prints" {
	run lmp-eval --totals --batch-size 2 --seq-len 8 --fields runtime.batch_size,runtime.tokens --pretty "$LLAMA2"
	assert_success
	assert_output "$(printf '{\n  "runtime": {\n    "batch_size": 2,\n    "tokens": 16\n  }\n}')"
}

@test "lmp-roofline --fields: the same pruning of its documents" {
	run sh -c "lmp-eval --totals --batch-size 1,4 --seq-len 1024 '$LLAMA2' |
		lmp-roofline --hardware nvidia-h100-sxm --fields runtime.batch_size,fit.fits,roofline.hardware"
	assert_success
	assert_output "$(printf '%s\n' \
		'{"runtime":{"batch_size":1},"roofline":{"hardware":"nvidia-h100-sxm"},"fit":{"fits":true}}' \
		'{"runtime":{"batch_size":4},"roofline":{"hardware":"nvidia-h100-sxm"},"fit":{"fits":true}}')"
	run_split lmp-roofline --hardware nvidia-h100-sxm --fields 'fit..fits' "$LLAMA2"
	assert_clean_failure lmp-roofline "--fields: 'fit..fits' is not a path of member names joined by dots"
}

@test "lmp-eval --fields: bad paths and options, one line each" {
	local p
	for p in '' 'a..b' '.a' 'a.' 'a b' 'a,,b' 'totals."x"'; do
		run_split lmp-eval --totals --seq-len 8 --fields "$p" "$LLAMA2"
		[ "$status" -eq 2 ] || fail "'$p': status $status"
		assert_clean_failure lmp-eval "--fields:"
	done
	run_split lmp-eval --params LlamaMLP --fields a
	assert_clean_failure lmp-eval "--fields prunes documents: not with --params"
}
