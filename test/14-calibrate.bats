#!/usr/bin/env bats
# lmp-calibrate: measurement records predicted by lmp, the time model's
# terms fitted per device and engine, the held-out error, and the ratchet
# that keeps the shipped calibration's error from growing unseen.

load helper

export HF_HUB_OFFLINE=1 LMP_CALIBRATION=none
H100=nvidia-h100-sxm

# One record of share/lmp/measured/README's shape: ID METRIC BATCH INPUT
# OUTPUT VALUE, then jq assignments that change it.
rec() {
	local id=$1 metric=$2 batch=$3 input=$4 output=$5 value=$6
	shift 6
	jq -cn --arg id "$id" --arg metric "$metric" --argjson b "$batch" --argjson i "$input" --argjson o "$output" \
		--argjson v "$value" '{id: $id, model: "meta-llama/Llama-2-7b-hf", model_as_published: "Llama 2 7B",
		device: "nvidia-h100-sxm", device_as_published: "H100", n_devices: 1, engine: "transformers",
		engine_version: null, tp: 1, pp: 1, ep: 1, dp: 1, weight_dtype: "fp16", activation_dtype: null,
		kv_dtype: null, batch: $b, concurrency: null, input_len: $i, output_len: $o, metric: $metric,
		tokens: (if $metric == "throughput_tok_s" then "output" else null end),
		scope: (if $metric == "throughput_tok_s" then "system" else "request" end), value: $v,
		unit: (if $metric == "throughput_tok_s" then "tok/s" else "s" end), published_value: ($v | tostring),
		published_unit: "s", predictable: true, not_predictable: null, implausible: null,
		source: {url: "https://example.org/\($id | split("/")[0])"}, notes: "synthetic"}'"${*:+ | $*}"
}

# The time lmp-roofline gives a request under the terms of calibration
# file $KNOWN: KEY of the totals (ttft_s, tpot_s, time_s).
timed() {
	local b=$1 p=$2 g=$3 key=$4
	lmp-eval --batch-size "$b" --prompt-len "$p" --gen-len "$g" < "$LLAMA2" |
		LMP_CALIBRATION=$KNOWN lmp-roofline --hardware $H100 | jq ".totals.$key"
}

# Known terms: 50% of the peak FLOP/s, 80% of the bandwidth, kernels of at
# least 5 us, 2 ms of engine time a step, GEMM waves (lmp-calibration(5)).
known() {
	jq -n '{lmp: "calibration", version: 1, entries: [{device: "nvidia-h100-sxm", engine: null, measurements: 10,
		terms: {compute_fraction: 0.5, memory_fraction: 0.8, link_fraction: 1, launch_s: 0.000005, step_s: 0.002,
		waves: true}}]}'
}

# Ten measurements made from the known terms: prefills that the FLOPs
# bound and decode steps that the weights bound, at several batch sizes.
synthetic() {
	local n=0 p b
	for p in 512 1024 1536 2048 3072; do
		rec "syn$n/ttft" ttft_s 1 "$p" 2 "$(timed 1 "$p" 2 ttft_s)"
		n=$((n + 1))
	done
	for b in 1 4 16 32 64; do
		rec "syn$n/tpot" tpot_s "$b" 128 32 "$(timed "$b" 128 32 tpot_s)"
		n=$((n + 1))
	done
}

# made once for the file
KNOWN=$BATS_FILE_TMPDIR/known.json
setup_file() {
	known > "$KNOWN"
	synthetic > "$BATS_FILE_TMPDIR/syn.ndjson"
}
SYN() { cat "$BATS_FILE_TMPDIR/syn.ndjson"; }

@test "a corpus made from known terms: the fit recovers them, held out to within 1%; lmp-roofline takes the file" {
	SYN > "$BATS_TEST_TMPDIR/syn.ndjson"
	run_split lmp-calibrate "$BATS_TEST_TMPDIR/syn.ndjson"
	assert_success
	echo "$output" > "$BATS_TEST_TMPDIR/cal.json"
	# one pooled entry and one for the engine (ten measurements each)
	[ "$(jq -c '[.entries[] | [.device, .engine, .measurements]]' <<< "$output")" = \
		'[["nvidia-h100-sxm",null,10],["nvidia-h100-sxm","transformers",10]]' ]
	# the fractions within 2%, the step within 10%; the launch floor shows
	# in few kernels, so only its order of magnitude
	jq -e '.entries[] | .terms | (.compute_fraction / 0.5 - 1 | fabs) < 0.02 and
		(.memory_fraction / 0.8 - 1 | fabs) < 0.02 and (.step_s / 0.002 - 1 | fabs) < 0.1 and
		.launch_s > 0.0000005 and .launch_s < 0.00005 and .waves' \
		<<< "$output" || fail "terms not recovered: $(jq -c '[.entries[].terms]' <<< "$output")"
	jq -e '.heldout | .n == 10 and .median_abs_error < 0.01 and .p90_abs_error < 0.01' <<< "$output" ||
		fail "held out: $(jq -c .heldout <<< "$output")"
	[ "$(jq -c '[.heldout.by_metric | keys[]], .entries[0].heldout.method, .excluded' <<< "$output")" = \
		"$(printf '%s\n' '["tpot_s","ttft_s"]' '"5-fold"' '[]')" ]
	# every measurement used, by its id
	[ "$(jq -r '.entries[1].used | sort | join(" ")' <<< "$output")" = \
		"syn0/ttft syn1/ttft syn2/ttft syn3/ttft syn4/ttft syn5/tpot syn6/tpot syn7/tpot syn8/tpot syn9/tpot" ]
	# lmp-roofline applies the file: a 2048-token prefill within 1% of the
	# measurement made from the known terms
	got=$(lmp-eval --prompt-len 2048 --gen-len 2 < "$LLAMA2" |
		LMP_CALIBRATION=$BATS_TEST_TMPDIR/cal.json lmp-roofline --hardware $H100 | jq .totals.ttft_s)
	want=$(jq 'select(.id == "syn3/ttft") | .value' "$BATS_TEST_TMPDIR/syn.ndjson")
	awk -v g="$got" -v w="$want" 'BEGIN { d = g / w - 1; exit !(d < 0.01 && d > -0.01) }' || fail "$got vs $want"
}

@test "a throughput is the time of its tokens; per device it is divided by the devices" {
	# batch 4, 128 in, 32 out at 2 s a request: 4 x 32 / 2 = 64 output
	# tokens/s, 4 x 160 / 2 = 320 in total; per device of 2 (n_devices 2,
	# a made-up figure: the layout stays tp 1) 32.  Each of the three is
	# the same request, so all three get the same error.
	{
		rec a/e2e e2e_s 4 128 32 2
		rec b/out throughput_tok_s 4 128 32 64
		rec c/total throughput_tok_s 4 128 32 320 '.tokens = "total"'
		rec d/dev throughput_tok_s 4 128 32 32 '.scope = "per_device" | .n_devices = 2'
		rec e/e2e e2e_s 4 128 32 2
	} > "$BATS_TEST_TMPDIR/thr.ndjson"
	run_split lmp-calibrate "$BATS_TEST_TMPDIR/thr.ndjson"
	assert_success
	[ "$(jq '[.entries[0].heldout.by_metric[] | .median_abs_error] | unique | length' <<< "$output")" = 1 ]
}

@test "a measurement faster than lmp's lower bound is implausible, excluded with the numbers" {
	# Llama-2-7B, a 2048-token prefill on one H100: 2 x 6,738,415,616 x 2048
	# = 2.76e13 FLOPs in the linear layers alone; at the dense bf16 peak of
	# 989.4e12 FLOP/s that is 27.9 ms, so 5 ms cannot be its first token.
	{
		SYN
		rec fast/ttft ttft_s 1 2048 2 0.005
	} > "$BATS_TEST_TMPDIR/c.ndjson"
	run_split lmp-calibrate "$BATS_TEST_TMPDIR/c.ndjson"
	assert_success
	reason=$(jq -r '.excluded[] | select(.id == "fast/ttft") | .reason' <<< "$output")
	[[ $reason == "implausible: measured 0.005 s is below lmp's lower bound 0.0"* ]] || fail "$reason"
	bound=$(sed 's/.*lower bound \([0-9.e+-]*\) s.*/\1/' <<< "$reason")
	awk -v b="$bound" 'BEGIN { exit !(b > 0.0279 && b < 0.035) }' || fail "bound $bound"
	[[ $reason == *"at 9.894e+14 FLOP/s bf16"* ]] || fail "$reason"
	[ "$(jq '.heldout.n' <<< "$output")" = 10 ]
}

@test "records lmp cannot predict are excluded, each with its reason" {
	{
		SYN
		rec x/np ttft_s 1 128 2 1 '.predictable = false | .not_predictable = "request rate"'
		rec x/hw ttft_s 1 128 2 1 '.device = "nvidia-h999"'
		rec x/engine ttft_s 1 128 2 1 '.engine = "warp-drive"'
		rec x/prec ttft_s 1 128 2 1 '.weight_dtype = "int3-magic"'
		rec x/metric latency_s 1 128 2 1
		rec x/model ttft_s 1 128 2 1 '.model = "nobody/no-such-model"'
		rec x/batch ttft_s 1 128 2 1 '.batch = null'
		rec x/source ttft_s 1 128 2 1 '.implausible = "the source says it hit a prefix cache"'
	} > "$BATS_TEST_TMPDIR/c.ndjson"
	run_split lmp-calibrate "$BATS_TEST_TMPDIR/c.ndjson"
	assert_success
	diff <(jq -r '.excluded[] | "\(.id) \(.reason)"' <<< "$output" | cut -c1-50) - <<-'EOF'
	x/np not predictable: request rate
	x/hw no hardware file: nvidia-h999
	x/engine no engine profile lists warp-drive in cor
	x/prec unknown precision: weight_dtype int3-magic
	x/metric not predictable: metric latency_s
	x/model no config: nobody/no-such-model@main is ne
	x/batch not predictable: batch and input_len must 
	x/source implausible: the source says it hit a pre
	EOF
	[ "$(jq '.heldout.n' <<< "$output")" = 10 ]
}

@test "a device with fewer than 5 measurements gets no entry; its records say why" {
	{
		SYN
		rec y/a100 ttft_s 1 128 2 1 '.device = "nvidia-a100-sxm-80gb"'
	} > "$BATS_TEST_TMPDIR/c.ndjson"
	run_split lmp-calibrate "$BATS_TEST_TMPDIR/c.ndjson"
	assert_success
	[ "$(jq -r '.excluded[0] | "\(.id): \(.reason)"' <<< "$output")" = \
		"y/a100: too few measurements on nvidia-a100-sxm-80gb to calibrate (1, fewer than 5)" ]
	[ "$(jq -c '[.entries[].device] | unique' <<< "$output")" = '["nvidia-h100-sxm"]' ]
}

@test "malformed input is refused with one line and nothing on stdout" {
	rec z/1 ttft_s 1 128 2 1 > "$BATS_TEST_TMPDIR/one.ndjson"
	run_split lmp-calibrate <<< '{"id": "z/1", "predictable": true'
	assert_clean_failure lmp-calibrate "<stdin>"
	run_split lmp-calibrate <<< '{"predictable": true}'
	assert_clean_failure lmp-calibrate '<stdin>: record 1: not a measurement record (needs a string "id")'
	run_split lmp-calibrate <<< '{"id": "z/2", "predictable": "yes"}'
	assert_clean_failure lmp-calibrate '<stdin>: record 1: "predictable" must be true or false'
	run_split lmp-calibrate "$BATS_TEST_TMPDIR/one.ndjson" "$BATS_TEST_TMPDIR/one.ndjson"
	assert_clean_failure lmp-calibrate "one.ndjson: record 1: id z/1 is used twice"
	run_split lmp-calibrate <<< '{"id": "z/3", "predictable": false, "not_predictable": "rates"}'
	assert_clean_failure lmp-calibrate "no measurement lmp can predict on input (1 excluded)"
	run_split lmp-calibrate --tolerance 2 /dev/null
	assert_clean_failure lmp-calibrate "--tolerance: not a number in [0, 1]"
	[ "$status" -eq 2 ]
	run_split lmp-calibrate "$BATS_TEST_TMPDIR/nonexistent.ndjson"
	assert_clean_failure lmp-calibrate "nonexistent.ndjson"
}

@test "--table and --check: the ratchet fails when the held-out error is worse than recorded" {
	SYN > "$BATS_TEST_TMPDIR/syn.ndjson"
	lmp-calibrate "$BATS_TEST_TMPDIR/syn.ndjson" > "$BATS_TEST_TMPDIR/cal.json"
	run_split lmp-calibrate --table "$BATS_TEST_TMPDIR/syn.ndjson"
	assert_success
	[ "$(sed -n 1p <<< "$output" | tr -s ' ')" = "held-out error n median p90 signed" ]
	[ "$(awk '{ print $1, $2 }' <<< "$output" | paste -sd' ')" = \
		"held-out error nvidia-h100-sxm 10 ttft_s 5 tpot_s 5 all 10 measurements used" ]
	[ "$(tail -n 1 <<< "$output")" = "measurements used 10, excluded 0 (implausible 0)" ]
	run_split lmp-calibrate --check "$BATS_TEST_TMPDIR/cal.json" "$BATS_TEST_TMPDIR/syn.ndjson"
	assert_success
	# the table, then the figures the file records
	[ "$(tail -n 1 <<< "$output" | awk '{ print $1, $2 }')" = "recorded 10" ]
	# a recorded error lower than today's by more than the tolerance: refused
	jq -c '.heldout.median_abs_error = -0.5' "$BATS_TEST_TMPDIR/cal.json" > "$BATS_TEST_TMPDIR/better.json"
	run_split lmp-calibrate --check "$BATS_TEST_TMPDIR/better.json" "$BATS_TEST_TMPDIR/syn.ndjson"
	assert_clean_failure lmp-calibrate "is worse than the -0.5 recorded in"
	[ "$status" -eq 1 ]
	jq -c '.heldout.p90_abs_error = -0.5' "$BATS_TEST_TMPDIR/cal.json" > "$BATS_TEST_TMPDIR/better.json"
	run_split lmp-calibrate --check "$BATS_TEST_TMPDIR/better.json" "$BATS_TEST_TMPDIR/syn.ndjson"
	assert_clean_failure lmp-calibrate "held-out p90 error"
	# within the tolerance: accepted
	run_split lmp-calibrate --check "$BATS_TEST_TMPDIR/better.json" --tolerance 1 "$BATS_TEST_TMPDIR/syn.ndjson"
	assert_success
	jq -c 'del(.heldout.p90_abs_error)' "$BATS_TEST_TMPDIR/cal.json" > "$BATS_TEST_TMPDIR/bad.json"
	run_split lmp-calibrate --check "$BATS_TEST_TMPDIR/bad.json" "$BATS_TEST_TMPDIR/syn.ndjson"
	assert_clean_failure lmp-calibrate "bad.json: no heldout.p90_abs_error"
}

@test "the ratchet: the shipped calibration's held-out errors are not worse today" {
	# minutes of arithmetic over the whole corpus; the sanitized run checks
	# the same code on the synthetic corpora above
	[ -z "$LMP_SANITIZED" ] || skip "the whole corpus's fit takes minutes under the sanitizers"
	run_split lmp-calibrate --check "$ROOT/share/lmp/calibration/corpus.json" "$ROOT"/share/lmp/measured/*.ndjson
	assert_success
	# the table's overall line has the count the file records
	[ "$(awk '$1 == "all" || $1 == "recorded" { print $2 }' <<< "$output" | paste -sd' ')" = \
		"$(jq '"\(.heldout.n) \(.heldout.n)"' -r "$ROOT/share/lmp/calibration/corpus.json")" ]
}

@test "--records: each measurement used, with its held-out error, one line each" {
	SYN > "$BATS_TEST_TMPDIR/syn.ndjson"
	run_split lmp-calibrate --records "$BATS_TEST_TMPDIR/syn.ndjson"
	assert_success
	# the ten synthetic measurements, made from known terms: each predicted
	# by terms fitted without it, within 5% (a fold without the smallest
	# decode batch pins the launch floor less well), most within 1% (the
	# first test's median); measured_s is the record's value (all ten are
	# latencies in seconds)
	[ "$(wc -l <<< "$output")" -eq 10 ]
	jq -se 'length == 10 and all(.[]; (.heldout_error | fabs) < 0.05 and .device == "nvidia-h100-sxm" and
		.engine == "transformers") and ([.[] | select((.heldout_error | fabs) < 0.01)] | length) >= 8' \
		<<< "$output" || fail "$output"
	[ "$(jq -r 'select(.id == "syn3/ttft") | .measured_s' <<< "$output")" = \
		"$(jq -r 'select(.id == "syn3/ttft") | .value' "$BATS_TEST_TMPDIR/syn.ndjson")" ]
}

# Known terms of an 8-bit path (lmp-calibration(5)): 35% of the peak, 60%
# of the bandwidth, 5 us kernels, 1 ms a step; with them, ten fp8
# measurements (w8a8) as synthetic() makes ten 16-bit ones.
synthetic8() {
	local n=0 p b t
	jq -n '{lmp: "calibration", version: 1, entries: [{device: "nvidia-h100-sxm", engine: null, measurements: 10,
		terms: {compute_fraction: 0.35, memory_fraction: 0.6, link_fraction: 1, launch_s: 0.000005, step_s: 0.001,
		waves: true}}]}' > "$BATS_FILE_TMPDIR/known8.json"
	for p in 512 1024 1536 2048 3072; do
		t=$(lmp-eval --batch-size 1 --prompt-len "$p" --gen-len 2 --w-bit 8 --a-bit 8 < "$LLAMA2" |
			LMP_CALIBRATION=$BATS_FILE_TMPDIR/known8.json lmp-roofline --hardware $H100 | jq .totals.ttft_s)
		rec "fp8-$n/ttft" ttft_s 1 "$p" 2 "$t" '.weight_dtype = "fp8"'
		n=$((n + 1))
	done
	for b in 1 4 16 32 64; do
		t=$(lmp-eval --batch-size "$b" --prompt-len 128 --gen-len 32 --w-bit 8 --a-bit 8 < "$LLAMA2" |
			LMP_CALIBRATION=$BATS_FILE_TMPDIR/known8.json lmp-roofline --hardware $H100 | jq .totals.tpot_s)
		rec "fp8-$n/tpot" tpot_s "$b" 128 32 "$t" '.weight_dtype = "fp8"'
		n=$((n + 1))
	done
}

@test "fit groups by weight precision: each precision of an engine with 5 or more gets its own terms; lmp-roofline picks by the document's w_bit" {
	{
		SYN
		synthetic8
	} > "$BATS_TEST_TMPDIR/mix.ndjson"
	run_split lmp-calibrate "$BATS_TEST_TMPDIR/mix.ndjson"
	assert_success
	echo "$output" > "$BATS_TEST_TMPDIR/cal.json"
	# pooled and engine entries over all twenty, then one per precision
	[ "$(jq -c '[.entries[] | [.engine, .weight_bits, .measurements]]' <<< "$output")" = \
		'[[null,null,20],["transformers",null,20],["transformers",16,10],["transformers",8,10]]' ]
	# each precision's entry recovers the compute fraction its prefills
	# were made with (within 5%; the 16-bit one, as in the first test, also
	# its bandwidth and step; the 8-bit decodes, half the bytes, are
	# explained as well by a higher bandwidth and longer floors)
	jq -e '.entries[2].terms | (.compute_fraction / 0.5 - 1 | fabs) < 0.05 and
		(.memory_fraction / 0.8 - 1 | fabs) < 0.02 and (.step_s / 0.002 - 1 | fabs) < 0.1' <<< "$output" ||
		fail "16-bit: $(jq -c '.entries[2].terms' <<< "$output")"
	jq -e '.entries[3].terms | (.compute_fraction / 0.35 - 1 | fabs) < 0.05' <<< "$output" ||
		fail "8-bit: $(jq -c '.entries[3].terms' <<< "$output")"
	# held out from the precision's own entry: the median within 1%, the
	# p90 within 5% (as --records below: a fold without the smallest decode
	# batch pins the floors less well); the pooled entry (one set of terms
	# for both precisions) far worse
	jq -e '.heldout | .n == 20 and .median_abs_error < 0.01 and .p90_abs_error < 0.05' <<< "$output" ||
		fail "$(jq -c .heldout <<< "$output")"
	jq -e '.entries[0].heldout.p90_abs_error > 0.1' <<< "$output" || fail "$(jq -c .entries[0].heldout <<< "$output")"
	# lmp-roofline: an 8-bit document takes the 8-bit entry and says so
	got=$(lmp-eval --prompt-len 2048 --gen-len 2 --w-bit 8 --a-bit 8 < "$LLAMA2" |
		LMP_CALIBRATION=$BATS_TEST_TMPDIR/cal.json lmp-roofline --hardware $H100 |
		jq -c '[.roofline.time_model.calibration.weight_bits, .totals.ttft_s, .roofline.time_model.note]')
	want=$(jq 'select(.id == "fp8-3/ttft") | .value' "$BATS_TEST_TMPDIR/mix.ndjson")
	jq -e --argjson w "$want" '.[0] == 8 and (.[1] / $w - 1 | fabs) < 0.01 and
		(.[2] | test("transformers, 8-bit weights"))' <<< "$got" || fail "$got vs $want"
	# a 16-bit one the 16-bit entry; a 4-bit one, which has none, the
	# engine's entry over every precision (no weight_bits)
	[ "$(lmp-eval --prompt-len 128 --gen-len 2 < "$LLAMA2" | LMP_CALIBRATION=$BATS_TEST_TMPDIR/cal.json \
		lmp-roofline --hardware $H100 | jq -c .roofline.time_model.calibration.weight_bits)" = 16 ]
	[ "$(lmp-eval --prompt-len 128 --gen-len 2 --w-bit 4 < "$LLAMA2" | LMP_CALIBRATION=$BATS_TEST_TMPDIR/cal.json \
		lmp-roofline --hardware $H100 | jq -c '[.roofline.time_model.calibration | .engine, .weight_bits]')" = \
		'["transformers",null]' ]
	# a file written before the split (no weight_bits) is read as before
	jq -c 'del(.entries[2, 3])' "$BATS_TEST_TMPDIR/cal.json" > "$BATS_TEST_TMPDIR/old.json"
	[ "$(lmp-eval --prompt-len 128 --gen-len 2 --w-bit 8 --a-bit 8 < "$LLAMA2" |
		LMP_CALIBRATION=$BATS_TEST_TMPDIR/old.json lmp-roofline --hardware $H100 |
		jq -c '[.roofline.time_model.calibration | .engine, .weight_bits]')" = '["transformers",null]' ]
}

# Six decode steps of a second engine (vllm), made from other terms: half
# the bandwidth and 1 ms a step.  No compute fraction the fit may take
# moves them: the GEMM with the most arithmetic per byte read (Llama-2-7B's
# MLP up or gate projection, 4096 x 11008, batch up to 32: one row of 86
# tiles of 64 x 128, one wave on the H100's 132 SMs) does 2 x 64 x 128 x
# 4096 FLOP per SM, 9.0 us at 989.4 TFLOP/s over 132 SMs, 45 us at the
# range's lowest fraction (0.2), while reading its 4096 x 11008 x 2 bytes
# at half of 3.35 TB/s takes 54 us (lm_head, 250 tiles in 2 waves: 90 us
# against 157 us).
decodes_vllm() {
	local b t
	jq -n '{lmp: "calibration", version: 1, entries: [{device: "nvidia-h100-sxm", engine: null, measurements: 6,
		terms: {compute_fraction: 0.5, memory_fraction: 0.5, link_fraction: 1, launch_s: 0.000005, step_s: 0.001,
		waves: true}}]}' > "$BATS_TEST_TMPDIR/knownv.json"
	for b in 1 2 4 8 16 32; do
		t=$(lmp-eval --engine vllm --batch-size "$b" --prompt-len 128 --gen-len 32 < "$LLAMA2" |
			LMP_CALIBRATION=$BATS_TEST_TMPDIR/knownv.json lmp-roofline --hardware $H100 | jq .totals.tpot_s)
		rec "vd-$b/tpot" tpot_s "$b" 128 32 "$t" '.engine = "vllm"'
	done
}

@test "an engine's entry keeps the pooled entry's value of a term its measurements do not determine, and says so" {
	{
		SYN
		decodes_vllm
	} > "$BATS_TEST_TMPDIR/two.ndjson"
	run_split lmp-calibrate "$BATS_TEST_TMPDIR/two.ndjson"
	assert_success
	[ "$(jq -c '[.entries[] | [.engine, .measurements]]' <<< "$output")" = \
		'[[null,16],["transformers",10],["vllm",6]]' ]
	# the decodes see neither the compute fraction (above) nor the links
	# (one device): both are the pooled entry's, and the entry lists them
	jq -e '.entries[0].terms as $p | .entries[2] | (.held | index("compute_fraction") and index("link_fraction")) and
		.terms.compute_fraction == $p.compute_fraction and .terms.link_fraction == $p.link_fraction' <<< "$output" ||
		fail "$(jq -c '[.entries[] | [.terms, .held]]' <<< "$output")"
	# the bandwidth they do see is fitted: within 5% of the half it was
	# made with, and held out within 2%
	jq -e '.entries[2] | (.held | index("memory_fraction") | not) and (.terms.memory_fraction / 0.5 - 1 | fabs) < 0.05 and
		.heldout.median_abs_error < 0.02' <<< "$output" || fail "$(jq -c '.entries[2]' <<< "$output")"
	# the pooled entry fits every term and lists none
	jq -e '.entries[0] | has("held") | not' <<< "$output"
}

@test "devices are fitted in parallel processes (LMP_CALIBRATE_JOBS): the same file with 1, 2 or 3 at once" {
	# three devices: the synthetic H100 corpus, and the same records three
	# times slower said of an A100 and an L40S (above their lower bounds)
	{
		SYN
		SYN | jq -c '.id = "a100-" + .id | .device = "nvidia-a100-sxm-80gb" | .value *= 3'
		SYN | jq -c '.id = "l40s-" + .id | .device = "nvidia-l40s" | .value *= 3'
	} > "$BATS_TEST_TMPDIR/three.ndjson"
	for j in 1 2 3; do
		LMP_CALIBRATE_JOBS=$j lmp-calibrate "$BATS_TEST_TMPDIR/three.ndjson" > "$BATS_TEST_TMPDIR/cal$j.json"
	done
	[ "$(jq -c '[.entries[] | .device] | unique | length' "$BATS_TEST_TMPDIR/cal1.json")" = 3 ]
	cmp "$BATS_TEST_TMPDIR/cal1.json" "$BATS_TEST_TMPDIR/cal2.json"
	cmp "$BATS_TEST_TMPDIR/cal1.json" "$BATS_TEST_TMPDIR/cal3.json"
}

@test "a calibration entry's weight_bits: 16, 8, 4 or null, on an engine's entry only" {
	local e='{"device": "nvidia-h100-sxm", "engine": "vllm", "measurements": 5, "terms": {"compute_fraction": 0.5,
		"memory_fraction": 0.5, "link_fraction": 0.5, "launch_s": 0, "step_s": 0, "waves": true}}'
	jq -n "{lmp: \"calibration\", version: 1, entries: [$e | .weight_bits = 6]}" > "$BATS_TEST_TMPDIR/w6.json"
	run_split lmp-roofline --hardware $H100 --calibration "$BATS_TEST_TMPDIR/w6.json" < /dev/null
	assert_clean_failure lmp-roofline "w6.json: entries[0].weight_bits: not 16, 8, 4 or null"
	jq -n "{lmp: \"calibration\", version: 1, entries: [$e | .engine = null | .weight_bits = 8]}" \
		> "$BATS_TEST_TMPDIR/wp.json"
	run_split lmp-roofline --hardware $H100 --calibration "$BATS_TEST_TMPDIR/wp.json" < /dev/null
	assert_clean_failure lmp-roofline "wp.json: entries[0].weight_bits: set on a pooled entry (engine null)"
	# the same engine twice, once per precision and once over all: fine;
	# the same precision twice: refused
	jq -n "{lmp: \"calibration\", version: 1, entries: [$e, ($e | .weight_bits = 8), ($e | .weight_bits = 16)]}" \
		> "$BATS_TEST_TMPDIR/ok.json"
	lmp-eval --prompt-len 128 --gen-len 2 < "$LLAMA2" > "$BATS_TEST_TMPDIR/eval.json"
	run_split lmp-roofline --hardware $H100 --calibration "$BATS_TEST_TMPDIR/ok.json" < "$BATS_TEST_TMPDIR/eval.json"
	assert_success
	jq -n "{lmp: \"calibration\", version: 1, entries: [($e | .weight_bits = 8), ($e | .weight_bits = 8)]}" \
		> "$BATS_TEST_TMPDIR/dup.json"
	run_split lmp-roofline --hardware $H100 --calibration "$BATS_TEST_TMPDIR/dup.json" < /dev/null
	assert_clean_failure lmp-roofline "dup.json: entries[1] repeats an earlier entry's device and engine"
}

@test "a calibration file's \"excluded\" and entries' \"used\" are never read, but a file that is not JSON is refused where it breaks" {
	local e='{"device": "nvidia-h100-sxm", "engine": "vllm", "measurements": 5, "terms": {"compute_fraction": 0.5,
		"memory_fraction": 0.5, "link_fraction": 0.5, "launch_s": 0, "step_s": 0, "waves": true}'
	lmp-eval --prompt-len 128 --gen-len 2 < "$LLAMA2" > "$BATS_TEST_TMPDIR/eval.json"
	# what lmp-calibrate left out, and why, and what each fit took, are for
	# people: a duplicate key in them (which the parser refuses anywhere
	# else) changes nothing
	printf '{"lmp": "calibration", "version": 1, "entries": [%s, "used": [{"id": "a", "id": "b"}]}],
		"excluded": [{"id": "a", "id": "b"}]}' "$e" > "$BATS_TEST_TMPDIR/ex.json"
	run_split lmp-roofline --hardware $H100 --calibration "$BATS_TEST_TMPDIR/ex.json" < "$BATS_TEST_TMPDIR/eval.json"
	assert_success
	# the same terms as without it
	printf '{"lmp": "calibration", "version": 1, "entries": [%s}]}' "$e" > "$BATS_TEST_TMPDIR/noex.json"
	lmp-roofline --hardware $H100 --calibration "$BATS_TEST_TMPDIR/noex.json" < "$BATS_TEST_TMPDIR/eval.json" |
		jq -c 'del(.roofline.time_model.calibration.file)' > "$BATS_TEST_TMPDIR/a"
	printf '%s\n' "$output" | jq -c 'del(.roofline.time_model.calibration.file)' > "$BATS_TEST_TMPDIR/b"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	# an unclosed string in it, or a syntax error after it: refused, at the file's own line and column
	printf '{"lmp": "calibration", "version": 1, "entries": [%s}],\n "excluded": [{"id": "a}]}' "$e" > "$BATS_TEST_TMPDIR/bad1.json"
	run_split lmp-roofline --hardware $H100 --calibration "$BATS_TEST_TMPDIR/bad1.json" < /dev/null
	assert_clean_failure lmp-roofline "bad1.json"
	printf '{"lmp": "calibration", "version": 1, "entries": [%s}],\n "excluded": [], "heldout": x}' "$e" > "$BATS_TEST_TMPDIR/bad2.json"
	run_split lmp-roofline --hardware $H100 --calibration "$BATS_TEST_TMPDIR/bad2.json" < /dev/null
	assert_clean_failure lmp-roofline "bad2.json:3:"
	# an unclosed string in an entry's "used": refused, at the file's own line
	# (3: the entry above spans two)
	printf '{"lmp": "calibration", "version": 1,\n"entries": [%s, "used": ["a]}]}' "$e" > "$BATS_TEST_TMPDIR/bad3.json"
	run_split lmp-roofline --hardware $H100 --calibration "$BATS_TEST_TMPDIR/bad3.json" < /dev/null
	assert_clean_failure lmp-roofline "bad3.json:3:"
}

@test "the shipped calibration's terms are within the fit's physical ranges" {
	# fractions in [0.2, 1], launch_s in [0, 50 us], step_s in [10 us, 10 ms]
	# (lmp-calibrate(1) The fit); the file's numbers are rounded to 4 digits
	jq -e '[.entries[].terms | .compute_fraction >= 0.2 and .memory_fraction >= 0.2 and .link_fraction >= 0.2 and
		.compute_fraction <= 1 and .memory_fraction <= 1 and .link_fraction <= 1 and .launch_s <= 0.00005 and
		.step_s >= 0.00001 and .step_s <= 0.01] | all' "$ROOT/share/lmp/calibration/corpus.json" ||
		fail "$(jq -c '[.entries[] | [.device, .engine, .weight_bits, .terms]]' "$ROOT/share/lmp/calibration/corpus.json")"
}
