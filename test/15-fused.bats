#!/usr/bin/env bats
# The fused sweep: lmp-eval --hardware (with lmp-roofline's other options)
# writes, in one process, exactly what lmp-eval | lmp-roofline writes.

load helper

# same ARGS -- ROOFLINE-ARGS: the fused form and the pipe, byte for byte
same() {
	local args=() ro=()
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	shift
	ro=("$@")
	lmp-eval "${args[@]}" "${ro[@]}" "$LLAMA2" > "$BATS_TEST_TMPDIR/fused" || fail "fused: ${args[*]} ${ro[*]}"
	lmp-eval "${args[@]}" "$LLAMA2" | lmp-roofline "${ro[@]}" > "$BATS_TEST_TMPDIR/pipe" || fail "pipe: ${args[*]} ${ro[*]}"
	[ -s "$BATS_TEST_TMPDIR/fused" ] || fail "no output"
	cmp "$BATS_TEST_TMPDIR/fused" "$BATS_TEST_TMPDIR/pipe" || fail "${args[*]} ${ro[*]}: the fused form differs"
	# lmp-roofline times a --totals stream from its text too: the tree's
	# documents (lmp_roofline) are the oracle
	lmp-eval "${args[@]}" "$LLAMA2" | LMP_ROOFLINE_NODIRECT=1 lmp-roofline "${ro[@]}" |
		cmp - "$BATS_TEST_TMPDIR/fused" || fail "${args[*]} ${ro[*]}: the tree's documents differ"
}

@test "lmp-eval --hardware writes lmp-eval | lmp-roofline's documents byte for byte: rows and --totals, every point" {
	local cal="$ROOT/share/lmp/calibration/corpus.json" rows
	for rows in "" --totals; do
		same $rows --batch-size 1,4 --seq-len 128,1024 -- --hardware nvidia-h100-sxm
		same $rows --batch-size 1,4 --seq-len 128,1024 -- --hardware nvidia-h100-sxm --calibration "$cal"
		same $rows --batch-size 2 --prompt-len 512 --gen-len 16 -- --hardware nvidia-a100-sxm-80gb --calibration "$cal" \
			--compute-efficiency 0.9 --memory-efficiency 0.8
		same $rows --tp 1,2 --batch-size 3 --prompt-len 100 --gen-len 5 -- --hardware nvidia-h100-sxm --gpus-per-node 1
		same $rows --batch-size 1 --seq-len 1 --cache-len 4095 --pretty -- --hardware nvidia-h100-sxm --ideal --unfused --pretty
	done
	# parallel layouts of one-step --totals points: timed in place, collectives and all
	# (tp 4 over 2 GPUs a node crosses nodes: the scale-out link)
	same --totals --tp 1,2,4 --pp 1,2 --batch-size 1,4 --seq-len 128,1024 -- --hardware nvidia-h100-sxm --gpus-per-node 2
	same --totals --tp 2 --dp 2 --batch-size 3 --seq-len 1 --cache-len 100,4000 -- --hardware nvidia-a100-sxm-80gb \
		--calibration "$cal"
	# 4 documents of a 2 x 2 sweep
	run sh -c "lmp-eval --totals --hardware nvidia-h100-sxm --batch-size 1,4 --seq-len 128,1024 '$LLAMA2' | jq -r .lmp"
	[ "$output" = "$(printf 'roofline\nroofline\nroofline\nroofline')" ]
}

# edited_same EDIT ROOFLINE-ARGS: $BATS_TEST_TMPDIR/in edited (a sed script,
# or a jq filter after jq:, jqpretty: or jqsorted:; cat leaves it) is timed
# alike from its text and as a tree: output, errors and status
edited_same() {
	local a=$1 in="$BATS_TEST_TMPDIR/in" ed="$BATS_TEST_TMPDIR/edited" out err rc
	shift
	case $a in
	cat) cp "$in" "$ed" ;;
	jq:*) jq -c "${a#jq:}" "$in" > "$ed" ;;
	jqpretty:*) jq "${a#jqpretty:}" "$in" > "$ed" ;;
	jqsorted:*) jq -cS "${a#jqsorted:}" "$in" > "$ed" ;;
	*) sed "$a" "$in" > "$ed"; ! cmp -s "$in" "$ed" || fail "$a: no edit made" ;;
	esac
	run_split lmp-roofline "$@" "$ed"
	out=$output err=$stderr rc=$status
	run_split env LMP_ROOFLINE_NODIRECT=1 lmp-roofline "$@" "$ed"
	[ "$status" = "$rc" ] && [ "$output" = "$out" ] && [ "$stderr" = "$err" ] || fail "$a: the text and the tree differ"
}

@test "lmp-roofline times lmp-eval's documents from their text: the tree's documents byte for byte; other text through the tree" {
	local m a ro cal="$ROOT/share/lmp/calibration/corpus.json"
	# DeepSeek-V3's checkpoint: fp8 kernels and rows (weight_format.compute);
	# gpt2's tied head (a row's "tied")
	for m in meta-llama--Llama-2-7b-hf Qwen--Qwen3-30B-A3B google--gemma-3-1b-pt openai--gpt-oss-20b \
		deepseek-ai--DeepSeek-V3 openai-community--gpt2; do
		for a in "--totals --batch-size 1,7 --seq-len 17,1000" "--batch-size 1,7 --seq-len 17,1000" \
			"--totals --batch-size 5 --seq-len 1 --cache-len 100,900 --w-bit 8" \
			"--engine transformers --batch-size 2 --seq-len 900" \
			"--totals --tp 2 --pp 2 --batch-size 3 --seq-len 100,900" "--tp 2 --batch-size 3 --seq-len 1 --cache-len 500" \
			"--totals --batch-size 1,3 --prompt-len 100 --gen-len 1,300" "--batch-size 3 --prompt-len 100 --gen-len 30" \
			"--totals --queries 100:0,1:500x3" "--queries 7:90x2,1:300x5" \
			"--totals --engine trtllm --batch-size 3 --prompt-len 100 --gen-len 300"; do
			# shellcheck disable=SC2086
			lmp-eval $a "$ROOT/models/$m.populated.json" > "$BATS_TEST_TMPDIR/in" 2>/dev/null || fail "$m $a"
			for ro in "--hardware nvidia-h100-sxm" "--hardware amd-mi300x --unfused --calibration $cal" \
				"--hardware nvidia-a100-sxm-80gb --ideal --fields totals.time_s,fit.max_batch_size"; do
				# shellcheck disable=SC2086
				lmp-roofline $ro "$BATS_TEST_TMPDIR/in" > "$BATS_TEST_TMPDIR/text" || fail "$m $a $ro: text"
				# shellcheck disable=SC2086
				LMP_ROOFLINE_NODIRECT=1 lmp-roofline $ro "$BATS_TEST_TMPDIR/in" > "$BATS_TEST_TMPDIR/tree" ||
					fail "$m $a $ro: tree"
				[ -s "$BATS_TEST_TMPDIR/text" ] || fail "$m $a $ro: no output"
				cmp "$BATS_TEST_TMPDIR/text" "$BATS_TEST_TMPDIR/tree" || fail "$m $a $ro: the documents differ"
			done
		done
	done
	# (trtllm reads the cache a page at a time: pieces with a block term)
	grep -q '"block":' "$BATS_TEST_TMPDIR/in" || fail "no decode pieces read"
	lmp-eval --batch-size 2 --seq-len 8 "$ROOT/models/openai-community--gpt2.populated.json" > "$BATS_TEST_TMPDIR/in"
	grep -q '"tied":' "$BATS_TEST_TMPDIR/in" || fail "no tied row read"
	# a layout's collectives and "parallel", edited: a kind no collective
	# has, the device's bytes changed, a member the tree does not know;
	# requests' decode pieces edited: a gap, one past the phase's steps, a
	# negative zero, a coefficient short, a chunked prefill's runtime
	lmp-eval --totals --tp 2 --pp 2 --batch-size 3 --seq-len 100 "$LLAMA2" > "$BATS_TEST_TMPDIR/in"
	lmp-eval --totals --engine vllm --batch-size 2 --prompt-len 100 --gen-len 700 \
		"$ROOT/models/mistralai--Mistral-7B-v0.1.populated.json" >> "$BATS_TEST_TMPDIR/in"
	lmp-eval --engine vllm --batch-size 16 --prompt-len 1024 --gen-len 5 "$LLAMA2" >> "$BATS_TEST_TMPDIR/in"
	for a in cat 's/"kind":"all_reduce"/"kind":"all_reduc"/' 'jq:.parallel.device.weight_bytes=5' \
		'jq:.parallel.extra=1' 's/"first":412/"first":413/' 's/"last":698/"last":699/' \
		's/"flops":\[0,0,0\]/"flops":[0,-0,0]/' 's/"flops":\[0,0,0\]/"flops":[0,0]/' \
		's/"last_seq_len":512/"last_seq_len":511/'; do
		edited_same "$a" --hardware nvidia-h100-sxm --gpus-per-node 2
	done
	# text lmp-eval does not write: pretty, re-encoded (a number as 3.2e1,
	# an escaped letter, a space, a key the tree does not know, a member
	# out of order, a count past 2^63, a compute no format names), and a
	# stream whose third document is not JSON (the error's line and column
	# count the lines before)
	lmp-eval --totals --batch-size 1,8 --seq-len 100,2000 "$LLAMA2" > "$BATS_TEST_TMPDIR/in"
	lmp-eval --batch-size 3 --seq-len 10 "$ROOT/models/deepseek-ai--DeepSeek-V3.populated.json" >> "$BATS_TEST_TMPDIR/in"
	for a in 'jqpretty:.' 'jq:.' 's/"count":32,/"count":3.2e1,/' 's/"llama"/"ll\\u0061ma"/' \
		's/,"flops":/, "flops":/' 'jq:.totals.extra=1' 'jqsorted:.' 's/"count":1,/"count":99999999999999999999,/' \
		's/"compute":"fp8"/"compute":"FP8"/' '3s/^/{"a":1,}/'; do
		edited_same "$a" --hardware nvidia-h100-sxm
	done
	[[ "$stderr" == *"edited:3:8: malformed JSON"* ]] || fail "line and column: $stderr"
	# the documents in time: 4 of a 2 x 2 sweep and one with rows, each "roofline"
	run sh -c "lmp-roofline --hardware nvidia-h100-sxm '$BATS_TEST_TMPDIR/in' | jq -r .lmp | sort | uniq -c"
	assert_output "      5 roofline"
}

@test "lmp-eval --hardware: lmp-roofline's errors and options, one line each" {
	run_split lmp-eval --hardware no-such-device --seq-len 128 "$LLAMA2"
	assert_clean_failure lmp-eval "no-such-device"
	run_split lmp-eval --calibration none --seq-len 128 "$LLAMA2"
	assert_clean_failure lmp-eval "lmp-roofline's options need --hardware NAME"
	run_split lmp-eval --hardware nvidia-h100-sxm --compute-efficiency 2 --seq-len 128 "$LLAMA2"
	assert_clean_failure lmp-eval "--compute-efficiency: '2' is not a fraction in (0, 1]"
	run_split lmp-eval --hardware nvidia-h100-sxm --params torch.nn.modules.linear.Linear
	assert_clean_failure lmp-eval "--hardware times documents: not with --module or --params"
	# a layout lmp-roofline refuses, refused alike
	run_split lmp-eval --hardware nvidia-h100-sxm --devices 4 --tp 2 --seq-len 128 "$LLAMA2"
	assert_clean_failure lmp-eval "--devices 4 disagrees with the document's layout: tp x pp x dp = 2"
}

@test "lmp-eval --hardware times one-step points from their numbers, kernels or rows: the pipe's documents, also for MoE, sliding windows, decode steps and other engines" {
	local m a
	for m in meta-llama--Llama-2-7b-hf Qwen--Qwen3-30B-A3B mistralai--Mistral-7B-v0.1 google--gemma-2-9b; do
		for a in "--totals --batch-size 1,7 --seq-len 17,3000" "--batch-size 1,7 --seq-len 17,3000" \
			"--totals --batch-size 5 --seq-len 1 --cache-len 100,5000 --w-bit 8" "--batch-size 5 --seq-len 1 --cache-len 100,5000 --w-bit 8" \
			"--totals --engine transformers --batch-size 2 --seq-len 9000" "--engine transformers --batch-size 2 --seq-len 9000" \
			"--totals --engine sglang --attention eager --batch-size 3 --seq-len 64"; do
			# shellcheck disable=SC2086
			lmp-eval --hardware nvidia-h100-sxm $a "$ROOT/models/$m.populated.json" > "$BATS_TEST_TMPDIR/direct" 2>/dev/null ||
				fail "$m $a: fused"
			# shellcheck disable=SC2086
			lmp-eval $a "$ROOT/models/$m.populated.json" 2>/dev/null | LMP_ROOFLINE_NODIRECT=1 lmp-roofline --hardware nvidia-h100-sxm \
				> "$BATS_TEST_TMPDIR/pipe" || fail "$m $a: pipe"
			cmp "$BATS_TEST_TMPDIR/direct" "$BATS_TEST_TMPDIR/pipe" || fail "$m $a: the fused form differs from the pipe"
			# shellcheck disable=SC2086
			lmp-eval $a "$ROOT/models/$m.populated.json" 2>/dev/null | lmp-roofline --hardware nvidia-h100-sxm |
				cmp - "$BATS_TEST_TMPDIR/direct" || fail "$m $a: lmp-roofline's own fused reading differs"
			# shellcheck disable=SC2086
			LMP_EVAL_NODIRECT=1 lmp-eval --hardware nvidia-h100-sxm $a "$ROOT/models/$m.populated.json" 2>/dev/null |
				cmp - "$BATS_TEST_TMPDIR/direct" || fail "$m $a: LMP_EVAL_NODIRECT differs"
		done
	done
	# a mix of queries (no one seq_len: the fit's context from kv_tokens)
	for a in "--totals --queries 100:0,1:500x3" "--queries 7:90x2,1:3000x5 --tp 2"; do
		# shellcheck disable=SC2086
		lmp-eval --hardware nvidia-h100-sxm $a "$LLAMA2" > "$BATS_TEST_TMPDIR/direct" || fail "$a: fused"
		# shellcheck disable=SC2086
		lmp-eval $a "$LLAMA2" | lmp-roofline --hardware nvidia-h100-sxm | cmp - "$BATS_TEST_TMPDIR/direct" ||
			fail "$a: the fused form differs"
	done
	# local layers of 512 keys, MXFP4 experts
	for m in google--gemma-3-1b-pt openai--gpt-oss-20b; do
		lmp-eval --totals --hardware nvidia-h100-sxm --batch-size 1,8 --seq-len 100,4000 "$ROOT/models/$m.populated.json" \
			> "$BATS_TEST_TMPDIR/direct" 2>/dev/null || fail "$m: fused"
		lmp-eval --totals --batch-size 1,8 --seq-len 100,4000 "$ROOT/models/$m.populated.json" 2>/dev/null |
			LMP_ROOFLINE_NODIRECT=1 lmp-roofline --hardware nvidia-h100-sxm | cmp - "$BATS_TEST_TMPDIR/direct" ||
			fail "$m: the fused form differs"
	done
	# Qwen3-MoE's routed experts: a fractional gemm m (tokens x top_k /
	# experts per expert that runs) read as its text reads
	lmp-eval --totals --batch-size 3 --seq-len 100 "$ROOT/models/Qwen--Qwen3-30B-A3B.populated.json" |
		jq -e '[.kernels[].gemm.m | select(. != null and . != floor)] | length > 0'
}

@test "lmp-eval --hardware times requests from their numbers, kernels or rows: the pipe's documents, with decode pieces, chunks, windows, MoE, MLA, layouts and engines" {
	local m a ev ro rows
	for rows in --totals ""; do
	for m in meta-llama--Llama-2-7b-hf Qwen--Qwen3-30B-A3B mistralai--Mistral-7B-v0.1 google--gemma-3-1b-pt \
		deepseek-ai--DeepSeek-V2-Lite; do
		# gen 1: a request without decode steps; 700 steps: pages, windows
		# and split counts change along the decode (its pieces).  Each
		# case is lmp-eval's arguments | lmp-roofline's.
		for a in "--batch-size 1,3 --prompt-len 1,1000 --gen-len 1,2,700|" \
			"--chunk 256 --batch-size 2 --prompt-len 1000 --gen-len 40|--calibration none" \
			"--engine transformers --batch-size 2 --prompt-len 600 --gen-len 300|--unfused" \
			"--engine sglang --w-bit 8 --kv-bit 8 --batch-size 5 --prompt-len 64 --gen-len 9|--ideal" \
			"--tp 2 --pp 2 --batch-size 4 --prompt-len 300 --gen-len 30|--gpus-per-node 2"; do
			ev="$rows ${a%%|*}" ro=${a#*|}
			# shellcheck disable=SC2086
			lmp-eval --hardware nvidia-h100-sxm $ro $ev "$ROOT/models/$m.populated.json" > "$BATS_TEST_TMPDIR/direct" 2>/dev/null ||
				fail "$m $ev: fused"
			# shellcheck disable=SC2086
			lmp-eval $ev "$ROOT/models/$m.populated.json" 2>/dev/null |
				LMP_ROOFLINE_NODIRECT=1 lmp-roofline --hardware nvidia-h100-sxm $ro > "$BATS_TEST_TMPDIR/pipe" ||
				fail "$m $ev: pipe"
			[ -s "$BATS_TEST_TMPDIR/direct" ] || fail "$m $ev: no output"
			cmp "$BATS_TEST_TMPDIR/direct" "$BATS_TEST_TMPDIR/pipe" || fail "$m $ev: the fused form differs from the pipe"
			# lmp-roofline reading the request's text (evaltext.c)
			# shellcheck disable=SC2086
			lmp-eval $ev "$ROOT/models/$m.populated.json" 2>/dev/null | lmp-roofline --hardware nvidia-h100-sxm $ro |
				cmp - "$BATS_TEST_TMPDIR/direct" || fail "$m $ev: lmp-roofline's own reading differs"
			# shellcheck disable=SC2086
			LMP_EVAL_NODIRECT=1 lmp-eval --hardware nvidia-h100-sxm $ro $ev "$ROOT/models/$m.populated.json" 2>/dev/null |
				cmp - "$BATS_TEST_TMPDIR/direct" || fail "$m $ev: LMP_EVAL_NODIRECT differs"
		done
	done
	done
	# the roofline document drops the kernels: none written, each phase timed
	run sh -c "lmp-eval --totals --hardware nvidia-h100-sxm --prompt-len 100 --gen-len 20 '$LLAMA2' |
		jq -c '[(.phases[] | has(\"kernels\")), (.phases[].totals.bound | type), .lmp]'"
	assert_success
	assert_output '[false,false,"string","string","roofline"]'
	# with rows, each row of each phase timed (its time, its bound)
	run sh -c "lmp-eval --hardware nvidia-h100-sxm --prompt-len 100 --gen-len 20 '$LLAMA2' |
		jq -c '[.phases[].rows | map(.time_s > 0 and (.bound | type) == \"string\") | all]'"
	assert_success
	assert_output '[true,true]'
}

@test "lmp-eval --hardware: a point the time model refuses leaves no part of its document" {
	local a
	for a in "--totals --seq-len 128,256" "--totals --prompt-len 100 --gen-len 5" "--seq-len 128"; do
		# --devices 2 without a layout: refused by the time model, after the
		# point was evaluated
		# shellcheck disable=SC2086
		run_split lmp-eval --hardware nvidia-h100-sxm --devices 2 $a "$LLAMA2"
		assert_clean_failure lmp-eval "--devices 2: give the layout to lmp-eval"
	done
}
