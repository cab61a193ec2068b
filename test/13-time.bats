#!/usr/bin/env bats
# The time model of lmp-roofline (lmp-roofline(1) TIME MODEL): terms from a
# calibration file (lmp-calibration(5)), GEMM waves over compute units,
# the launch floor and the step overhead, --ideal and --calibration.
# Every expected time is derived here from the document's FLOPs and bytes,
# the device's datasheet figures and the terms written in the test.

load helper

H100="$ROOT/share/lmp/hardware/nvidia-h100-sxm.json"
PEAK=989400000000000 # H100 SXM bf16 dense, FLOP/s (the hardware file)
BW=3350000000000     # its bandwidth, bytes/s

# close A B: A and B agree to 1e-12, relatively
close() {
	awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; m = (b < 0 ? -b : b); exit !(d <= 1e-12 * m) }' ||
		fail "$1 and $2 differ"
}
# calc EXPR: a double, printed to 17 digits
calc() { awk "BEGIN { printf \"%.17g\", $1 }"; }

setup() {
	cd "$BATS_TEST_TMPDIR"
	# The H100 file as shipped, with its SM count where it has none yet (the
	# H100 SXM5 has 132 SMs: NVIDIA H100 Tensor Core GPU Architecture
	# whitepaper); a file of its own, so the id stays nvidia-h100-sxm.
	jq '.compute_units //= {"value": 132, "source": "NVIDIA H100 Tensor Core GPU Architecture whitepaper", "note": "SMs"}' \
		"$H100" > h100.json
	[ "$(jq -r .id h100.json)" = nvidia-h100-sxm ]
	# one step of 128 tokens through one projection of Llama-2-7B
	# (q_proj, 4096 x 4096, bf16): 2 x 128 x 4096 x 4096 FLOPs; reads the
	# weights 33554432 and the input 128 x 4096 x 2, writes the output alike
	cat > step.json <<-'EOF'
	{"lmp":"eval","version":"0.1.0","model":{"id":"test/one"},
	 "runtime":{"batch_size":1,"seq_len":128,"cache_len":0,"w_bit":16,"a_bit":16,"kv_bit":16,"tokens":128,"kv_tokens":128},
	 "rows":[{"path":"q_proj","class":"torch.nn.modules.linear.Linear","count":1,"flops":4294967296,
	   "bytes":{"weights":33554432,"reads":34603008,"writes":1048576,"intermediates":0},"state_bytes":0,
	   "gemm":{"m":128,"n":4096,"k":4096,"calls":1}}],
	 "totals":{"flops":4294967296,"bytes":{"weights":33554432,"reads":34603008,"writes":1048576,"intermediates":0},
	   "weight_bytes":33554432,"state_bytes":0}}
	EOF
}

# cal FILE ENTRY...: a calibration file of these entries (JSON objects)
cal() {
	local f=$1
	shift
	printf '%s\n' "$@" | jq -s '{lmp: "calibration", version: 1, generated_by: "test", error: "time-equivalent",
		entries: ., excluded: [], heldout: null}' > "$f"
}
# entry DEVICE ENGINE CF MF LF LAUNCH STEP WAVES [MEASUREMENTS MEDIAN]
entry() {
	printf '{"device":"%s","engine":%s,"terms":{"compute_fraction":%s,"memory_fraction":%s,"link_fraction":%s,"launch_s":%s,"step_s":%s,"waves":%s},"measurements":%s,"sources":1,"heldout":{"method":"5-fold","n":%s,"median_abs_error":%s},"used":[]}' \
		"$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8" "${9:-12}" "${9:-12}" "${10:-0.081}"
}

@test "a kernel under calibrated terms: compute, memory and launch floor, and the step's own time" {
	cal c.json "$(entry nvidia-h100-sxm '"transformers"' 0.5 0.8 1 0.000005 0.00001 false 43 0.081)"
	# three kernels: compute-bound (4.947e11 FLOPs, 1.34e9 bytes),
	# memory-bound (1e6 FLOPs, 2.68e9 bytes) and launch-bound (1000
	# FLOPs, 1000 bytes, 3 instances)
	jq '.rows = [
		{path: "c", count: 1, flops: 494700000000, bytes: {reads: 1340000000, writes: 0, intermediates: 0}},
		{path: "m", count: 1, flops: 1000000, bytes: {reads: 2680000000, writes: 0, intermediates: 0}},
		{path: "l", count: 3, flops: 1000, bytes: {reads: 1000, writes: 0, intermediates: 0}}]' step.json > k.json
	run_split lmp-roofline --hardware h100.json --calibration c.json k.json
	[ "$status" -eq 0 ] && [ -z "$stderr" ]
	echo "$output" > r.json
	# compute 4.947e11 / (989.4e12 x 0.5) = 1 ms; memory 1.34e9 / (3.35e12 x 0.8) = 0.5 ms
	close "$(jq .rows[0].compute_time_s r.json)" "$(calc "494700000000 / ($PEAK * 0.5)")"
	close "$(jq .rows[0].memory_time_s r.json)" "$(calc "1340000000 / ($BW * 0.8)")"
	close "$(jq .rows[0].time_s r.json)" 0.001
	[ "$(jq -r .rows[0].bound r.json)" = compute ]
	# 2.68e9 / 2.68e12 = 1 ms, memory-bound
	close "$(jq .rows[1].time_s r.json)" 0.001
	[ "$(jq -r .rows[1].bound r.json)" = memory ]
	# 1000 bytes take 4e-10 s, one launch 5 us: the floor, bound "launch"
	close "$(jq .rows[2].time_s r.json)" 0.000005
	close "$(jq .rows[2].launch_time_s r.json)" 0.000005
	[ "$(jq -r .rows[2].bound r.json)" = launch ]
	# the step: 1 ms + 1 ms + 3 x 5 us + one step's 10 us
	close "$(jq .totals.time_s r.json)" "$(calc "0.001 + 0.001 + 3 * 0.000005 + 0.00001")"
	close "$(jq .totals.step_overhead_s r.json)" 0.00001
	# and the document says so
	[ "$(jq -c .roofline.time_model.terms r.json)" = '{"compute_fraction":0.5,"memory_fraction":0.8,"link_fraction":1,"launch_s":5e-06,"step_s":1e-05,"waves":false}' ]
	[ "$(jq -r .roofline.time_model.status r.json)" = calibrated ]
	[ "$(jq -c .roofline.time_model.calibration r.json)" = '{"file":"c.json","device":"nvidia-h100-sxm","engine":"transformers","measurements":43,"heldout_median_abs_error":0.081}' ]
	[ "$(jq -r .roofline.time_model.note r.json)" = "calibrated on 43 measurements (nvidia-h100-sxm, transformers), held-out median error 8.1%" ]
	# --compute-efficiency multiplies on top: 0.5 x 0.5 doubles the compute-bound kernel
	close "$(lmp-roofline --hardware h100.json --calibration c.json --compute-efficiency 0.5 k.json | jq .rows[0].time_s)" 0.002
}

@test "GEMM waves: Llama-2-7B q_proj at m=128 on an H100 (132 SMs): 32 tiles, split-K 4, one wave" {
	cal c.json "$(entry nvidia-h100-sxm null 1 1 1 0 0 true)"
	run_split lmp-roofline --hardware h100.json --calibration c.json step.json
	[ "$status" -eq 0 ] && [ -z "$stderr" ]
	echo "$output" > r.json
	# m = 128 > 64: tiles of 128 x 128; ceil(128/128) x ceil(4096/128) = 32
	# tiles for 132 SMs: K splits min(floor(132/32), floor(4096/256)) = 4
	# ways, 128 pieces of depth 1024, ceil(128/132) = 1 wave
	local tiles=$(( (128 / 128) * (4096 / 128) ))
	[ "$tiles" = 32 ]
	[ "$(jq -c .rows[0].gemm_waves r.json | jq -c 'del(.gemm_time_s)')" = '{"tile_m":128,"tile_n":128,"tiles":32,"split_k":4,"waves":1}' ]
	# efficiency: 128 x 4096 x 4096 useful over 1 wave x 132 SMs x 128 x 128 x 1024
	close "$(jq .rows[0].wave_efficiency r.json)" "$(calc "128 * 4096 * 4096 / (132 * 128 * 128 * 1024)")"
	# compute: one wave, each SM a 128 x 128 x 1024 piece at 1/132 of the peak
	close "$(jq .rows[0].compute_time_s r.json)" "$(calc "2 * 128 * 128 * 1024 / ($PEAK / 132)")"
	# still memory-bound: 35651584 bytes at 3.35 TB/s = 10.6 us against 4.5 us
	close "$(jq .rows[0].time_s r.json)" "$(calc "35651584 / $BW")"
	[ "$(jq -r .rows[0].bound r.json)" = memory ]
	[ "$(jq -c .roofline.time_model.terms.waves r.json)" = true ]
	[ "$(jq -c .roofline.time_model.terms.compute_units r.json)" = 132 ]
	# at m = 2048 (a 2048-token prefill): 16 x 32 = 512 tiles, no split,
	# ceil(512/132) = 4 waves of full depth, compute-bound
	jq '.rows[0].gemm.m = 2048 | .rows[0].flops = 68719476736 | .totals.flops = 68719476736' step.json > big.json
	lmp-roofline --hardware h100.json --calibration c.json big.json > r.json
	[ "$(jq -c '.rows[0].gemm_waves | [.tiles, .split_k, .waves]' r.json)" = '[512,1,4]' ]
	close "$(jq .rows[0].compute_time_s r.json)" "$(calc "4 * 2 * 128 * 128 * 4096 / ($PEAK / 132)")"
	close "$(jq .rows[0].wave_efficiency r.json)" "$(calc "512 / (4 * 132)")"
	[ "$(jq -r .rows[0].bound r.json)" = compute ]
	# without the device's SM count there are no waves to run
	lmp-roofline --hardware "$H100" --calibration none step.json | jq -e '.rows[0] | has("wave_efficiency") | not'
}

@test "a decode step stays memory-bound under waves: q_proj at batch 1 (split-K keeps 132 SMs busy)" {
	cal c.json "$(entry nvidia-h100-sxm null 1 1 1 0 0 true)"
	# one decode token: 2 x 4096 x 4096 FLOPs; the weights 33554432 bytes
	# and 4096 x 2 in, 4096 x 2 out
	jq '.runtime.seq_len = 1 | .runtime.tokens = 1 | .runtime.kv_tokens = 1
		| .rows[0].gemm.m = 1 | .rows[0].flops = 33554432 | .rows[0].bytes = {weights: 33554432, reads: 33562624, writes: 8192, intermediates: 0}
		| .totals.flops = 33554432 | .totals.bytes = .rows[0].bytes' step.json > d.json
	run_split lmp-roofline --hardware h100.json --calibration c.json d.json
	[ "$status" -eq 0 ] && [ -z "$stderr" ]
	echo "$output" > r.json
	# m = 1 <= 16: tiles of 16 x 128, 4096 / 128 = 32 of them; 132 / 32 = 4
	# K slices of 1024 (4096 / 256 = 16 would allow more): one wave
	[ "$(jq -c '.rows[0].gemm_waves | [.tile_m, .tiles, .split_k, .waves]' r.json)" = '[16,32,4,1]' ]
	close "$(jq .rows[0].compute_time_s r.json)" "$(calc "2 * 16 * 128 * 1024 / ($PEAK / 132)")"
	# 0.56 us of compute against 10 us of weights: memory-bound
	close "$(jq .rows[0].time_s r.json)" "$(calc "33570816 / $BW")"
	[ "$(jq -r .rows[0].bound r.json)" = memory ]
	# without split-K the 32 tiles would take one 4096-deep wave: 2.2 us;
	# split, a quarter of it: useful 1 x 4096 x 4096 over 132 units' 16 x
	# 128 x 1024 each
	close "$(jq .rows[0].wave_efficiency r.json)" "$(calc "4096 * 4096 / (132 * 16 * 128 * 1024)")"
}

@test "step overhead over a request of G tokens: one per step, in TTFT once and in TPOT once" {
	# Llama-2-7B, 8 sequences, 64 tokens in, G = 16 out: 1 prefill + 15 decode steps
	lmp-eval --batch-size 8 --prompt-len 64 --gen-len 16 "$LLAMA2" > g.json
	cal c.json "$(entry nvidia-h100-sxm '"transformers"' 0.7 0.6 1 0 0.002 false)"
	cal c0.json "$(entry nvidia-h100-sxm '"transformers"' 0.7 0.6 1 0 0 false)"
	lmp-roofline --hardware h100.json --calibration c.json g.json > with.json
	lmp-roofline --hardware h100.json --calibration c0.json g.json > without.json
	close "$(jq -n --slurpfile a with.json --slurpfile b without.json '$a[0].totals.time_s - $b[0].totals.time_s')" \
		"$(calc "16 * 0.002")"
	close "$(jq -n --slurpfile a with.json --slurpfile b without.json '$a[0].totals.ttft_s - $b[0].totals.ttft_s')" 0.002
	close "$(jq -n --slurpfile a with.json --slurpfile b without.json '$a[0].totals.tpot_s - $b[0].totals.tpot_s')" 0.002
	close "$(jq .phases.decode.totals.step_overhead_s with.json)" "$(calc "15 * 0.002")"
	# tokens per second: 8 x 16 over the latency
	close "$(jq .totals.tokens_per_s with.json)" "$(jq '8 * 16 / .totals.time_s' with.json)"
}

@test "--ideal is the pure datasheet roofline: the golden document, whatever the calibration and efficiencies" {
	cal c.json "$(entry nvidia-h100-sxm '"transformers"' 0.5 0.5 0.5 0.00001 0.001 true)"
	lmp-eval --batch-size 1 --seq-len 2048 "$LLAMA2" > p.json
	# the golden document was written under the ideal terms (LMP_CALIBRATION=none)
	run_split lmp-roofline --hardware nvidia-h100-sxm --ideal --calibration c.json --compute-efficiency 0.5 p.json
	[ "$status" -eq 0 ] && [ -z "$stderr" ]
	[ "$output" = "$(cat "$ROOT/test/golden/llama2-7b-prefill-h100.json")" ]
	[ "$(echo "$output" | jq -r .roofline.time_model.note)" = "ideal: datasheet peaks, an optimistic bound" ]
	# its time is the sum of max(FLOPs / peak, bytes / bandwidth) over the rows
	close "$(echo "$output" | jq .totals.time_s)" \
		"$(echo "$output" | jq --argjson p $PEAK --argjson b $BW '[.rows[] | .count * ([.flops / $p, (.bytes.reads + .bytes.writes) / $b] | max)] | add')"
	# --calibration none: the same ideal terms, the efficiencies applied
	lmp-roofline --hardware nvidia-h100-sxm --calibration none p.json | cmp - "$ROOT/test/golden/llama2-7b-prefill-h100.json"
	close "$(lmp-roofline --hardware nvidia-h100-sxm --calibration none --memory-efficiency 0.5 --compute-efficiency 0.5 p.json | jq .totals.time_s)" \
		"$(calc "2 * $(echo "$output" | jq .totals.time_s)")"
}

@test "selection: the device and engine's entry, else the device's pooled entry, else uncalibrated" {
	cal c.json "$(entry nvidia-h100-sxm '"vllm"' 0.5 0.5 1 0 0 false 20 0.05)" \
		"$(entry nvidia-h100-sxm null 0.25 0.25 1 0 0 false 50 0.1)" \
		"$(entry nvidia-a100-sxm-80gb '"vllm"' 0.5 0.5 1 0 0 false)"
	# a document without runtime.engine is transformers': no such entry, the pooled one
	lmp-roofline --hardware h100.json --calibration c.json step.json > r.json
	[ "$(jq -c '.roofline.time_model | [.status, .calibration.engine, .terms.compute_fraction]' r.json)" = '["calibrated",null,0.25]' ]
	[ "$(jq -r .roofline.time_model.note r.json)" = "calibrated on 50 measurements (nvidia-h100-sxm, every engine pooled), held-out median error 10.0%" ]
	# memory-bound at 3.35 TB/s x 0.25
	close "$(jq .totals.time_s r.json)" "$(calc "35651584 / ($BW * 0.25)")"
	# vllm's own entry
	jq '.runtime.engine = "vllm"' step.json | lmp-roofline --hardware h100.json --calibration c.json > r.json
	[ "$(jq -c '.roofline.time_model | [.status, .calibration.engine, .terms.compute_fraction]' r.json)" = '["calibrated","vllm",0.5]' ]
	close "$(jq .totals.time_s r.json)" "$(calc "35651584 / ($BW * 0.5)")"
	# an A100 has vllm's entry only: transformers there is uncalibrated
	lmp-roofline --hardware nvidia-a100-sxm-80gb --calibration c.json step.json > r.json
	[ "$(jq -r .roofline.time_model.status r.json)" = uncalibrated ]
	[ "$(jq -c .roofline.time_model.calibration r.json)" = null ]
	jq -r .roofline.time_model.note r.json | grep -q '^uncalibrated: .*an optimistic bound$'
	# and a device the file does not name at all
	lmp-roofline --hardware nvidia-l40s --calibration c.json step.json | jq -e '.roofline.time_model.status == "uncalibrated"'
}

@test "uncalibrated: the hardware file's achievable figures are the ceilings, with waves and no floors" {
	cal c.json "$(entry nvidia-a100-sxm-80gb null 0.5 0.5 1 0 0 false)"
	# achievable figures for the test: 600 TFLOP/s bf16, 2.68 TB/s
	jq '.achievable = {"memory_bytes_per_s": {"value": 2680000000000, "source": "test"},
		"flops": {"bf16": {"value": 600000000000000, "source": "test"}}}' h100.json > ach.json
	lmp-roofline --hardware ach.json --calibration c.json step.json > r.json
	[ "$(jq -r .roofline.time_model.status r.json)" = uncalibrated ]
	jq -r .roofline.time_model.note r.json | grep -q '^uncalibrated: achievable ceilings from microbenchmarks'
	close "$(jq .roofline.time_model.terms.memory_fraction r.json)" "$(calc "2680000000000 / $BW")"
	close "$(jq .rows[0].memory_time_s r.json)" "$(calc "35651584 / 2680000000000")"
	close "$(jq .rows[0].compute_time_s r.json)" "$(calc "2 * 128 * 128 * 1024 / (600000000000000 / 132)")"
	[ "$(jq -c '.roofline.time_model.terms | [.launch_s, .step_s, .waves]' r.json)" = '[0,0,true]' ]
	# the datasheet figures are still what the roofline object reports
	[ "$(jq .roofline.peak_flops r.json)" = $PEAK ]
}

@test "--calibration none against the default file, LMP_CALIBRATION, and an absent default" {
	# a data directory of the shipped data with a calibration of its own
	mkdir data
	for d in "$ROOT"/share/lmp/*; do
		[ "$(basename "$d")" = calibration ] || ln -s "$d" data/
	done
	unset LMP_CALIBRATION
	# no default file: uncalibrated, no error
	LMP_DATADIR=$PWD/data run_split lmp-roofline --hardware h100.json step.json
	[ "$status" -eq 0 ] && [ -z "$stderr" ]
	[ "$(echo "$output" | jq -r .roofline.time_model.status)" = uncalibrated ]
	mkdir data/calibration
	cal data/calibration/corpus.json "$(entry nvidia-h100-sxm null 0.5 0.5 1 0 0 false)"
	LMP_DATADIR=$PWD/data lmp-roofline --hardware h100.json step.json > r.json
	[ "$(jq -r .roofline.time_model.status r.json)" = calibrated ]
	# the data directory's own file by its name there, the same on every install
	[ "$(jq -r .roofline.time_model.calibration.file r.json)" = calibration/corpus.json ]
	close "$(jq .totals.time_s r.json)" "$(calc "35651584 / ($BW * 0.5)")"
	# none: the ideal terms
	LMP_DATADIR=$PWD/data lmp-roofline --hardware h100.json --calibration none step.json > r.json
	[ "$(jq -r .roofline.time_model.status r.json)" = ideal ]
	close "$(jq .totals.time_s r.json)" "$(calc "35651584 / $BW")"
	LMP_CALIBRATION=none LMP_DATADIR=$PWD/data lmp-roofline --hardware h100.json step.json | jq -e '.roofline.time_model.status == "ideal"'
	# LMP_CALIBRATION names a file; --calibration overrides it
	cal mine.json "$(entry nvidia-h100-sxm null 0.25 0.25 1 0 0 false)"
	LMP_CALIBRATION=mine.json lmp-roofline --hardware h100.json step.json | jq -e '.roofline.time_model.terms.memory_fraction == 0.25'
	# a user's own file as given, relative or absolute; the shipped one by its data-relative name
	LMP_CALIBRATION=mine.json lmp-roofline --hardware h100.json step.json | jq -e '.roofline.time_model.calibration.file == "mine.json"'
	[ "$(lmp-roofline --hardware h100.json --calibration "$PWD/mine.json" step.json | jq -r .roofline.time_model.calibration.file)" = "$PWD/mine.json" ]
	[ "$(lmp-roofline --hardware "$ROOT/share/lmp/hardware/nvidia-h100-sxm.json" step.json | jq -r .roofline.time_model.calibration.file)" = calibration/corpus.json ]
	LMP_CALIBRATION=mine.json lmp-roofline --hardware h100.json --calibration none step.json | jq -e '.roofline.time_model.status == "ideal"'
	# a file named and absent is an error
	run_split lmp-roofline --hardware h100.json --calibration absent.json step.json
	assert_clean_failure lmp-roofline absent.json
	# pipeline.sh passes --calibration and --ideal to lmp-roofline
	run_split "$ROOT/pipeline.sh" "$LLAMA2" --seq-len 16 --totals --hardware h100.json --calibration mine.json --format json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r .roofline.time_model.terms.memory_fraction)" = 0.25 ]
	run_split "$ROOT/pipeline.sh" "$LLAMA2" --seq-len 16 --totals --hardware h100.json --calibration mine.json --ideal --format json
	[ "$(echo "$output" | jq -r .roofline.time_model.status)" = ideal ]
}

@test "a malformed calibration file is refused with one line" {
	bad() {
		run_split lmp-roofline --hardware h100.json --calibration "$1" step.json
		assert_clean_failure lmp-roofline "$2"
	}
	printf '{"lmp": "calibration", ' > trunc.json
	bad trunc.json trunc.json
	echo '{"lmp": "hardware", "version": 1, "entries": []}' > kind.json
	bad kind.json "not a calibration file"
	echo '{"lmp": "calibration", "version": 2, "entries": []}' > ver.json
	bad ver.json "version is not 1"
	echo '{"lmp": "calibration", "version": 1, "entries": {}}' > ents.json
	bad ents.json '"entries" is not an array'
	cal frac.json "$(entry nvidia-h100-sxm null 1.5 0.5 1 0 0 false)"
	bad frac.json "entries[0].terms.compute_fraction: 1.5 is not in (0, 1]"
	cal zero.json "$(entry nvidia-h100-sxm null 0.5 0 1 0 0 false)"
	bad zero.json "entries[0].terms.memory_fraction: 0 is not in (0, 1]"
	cal neg.json "$(entry nvidia-h100-sxm null 0.5 0.5 1 -1e-6 0 false)"
	bad neg.json "entries[0].terms.launch_s"
	cal waves.json "$(entry nvidia-h100-sxm null 0.5 0.5 1 0 0 '"yes"')"
	bad waves.json "entries[0].terms.waves: missing or not true/false"
	cal dup.json "$(entry nvidia-h100-sxm '"vllm"' 0.5 0.5 1 0 0 false)" "$(entry nvidia-h100-sxm '"vllm"' 0.4 0.5 1 0 0 false)"
	bad dup.json "entries[1] repeats an earlier entry's device and engine"
	cal eng.json "$(entry nvidia-h100-sxm 3 0.5 0.5 1 0 0 false)"
	bad eng.json "entries[0].engine: not a string or null"
	jq '.entries[0] |= del(.measurements)' frac.json | jq '.entries[0].terms.compute_fraction = 0.5' > meas.json
	bad meas.json "entries[0].measurements: missing or not a number"
	# refused before any document is read: even with no input
	run_split lmp-roofline --hardware h100.json --calibration frac.json < /dev/null
	assert_clean_failure lmp-roofline compute_fraction
}

@test "waves off: GEMM rows carry no wave_efficiency and no gemm_waves, not even null" {
	unset LMP_CALIBRATION
	lmp-eval --batch-size 1 --seq-len 128 < "$LLAMA2" > e.json
	# Llama-2-7B's projections are GEMMs: 7 per layer (q, k, v, o, gate, up,
	# down) and the head
	[ "$(jq '[.rows[] | select(has("gemm"))] | length' e.json)" = 8 ]
	for o in --ideal "--calibration none"; do
		lmp-roofline --hardware h100.json $o e.json > r.json
		[ "$(jq -c '[.rows[] | select(has("gemm")) | has("wave_efficiency"), has("gemm_waves")] | unique' r.json)" = '[false]' ]
		! grep -q '"wave_efficiency"' r.json
	done
	# a calibration whose waves is false, and a device without compute units
	cal c.json "$(entry nvidia-h100-sxm null 0.5 0.5 1 0 0 false)" "$(entry intel-gaudi2 null 0.5 0.5 1 0 0 true)"
	lmp-roofline --hardware h100.json --calibration c.json e.json | jq -e '[.rows[] | has("wave_efficiency")] | any | not'
	lmp-roofline --hardware intel-gaudi2 --calibration c.json e.json > r.json
	[ "$(jq -r .roofline.time_model.status r.json)" = calibrated ]
	jq -e '[.rows[] | has("wave_efficiency") or has("gemm_waves")] | any | not' r.json
	# with waves: every GEMM row has a number
	cal w.json "$(entry nvidia-h100-sxm null 0.5 0.5 1 0 0 true)"
	lmp-roofline --hardware h100.json --calibration w.json e.json |
		jq -e '[.rows[] | select(has("gemm")) | .wave_efficiency | type == "number"] | all and length == 8'
}

@test "a --totals document is timed as its rows: time, bound, ttft, tpot, e2e and fit to the bit" {
	# Llama-2-7B's 19 rows fold into 12 kernels: q, k, v and o projections
	# (4 x 32 layers = 128), gate and up (2 x 32 = 64), the residual adds
	# (2 x 32), the norms (2 x 32 + the final one = 65) are one kernel each;
	# 32 each: the layers' rotary, sdpa, SiLU, gate product and down_proj;
	# once: the embedding, the cos/sin table and lm_head (3 + 5 + 4 = 12)
	run sh -c "lmp-eval --totals --batch-size 1 --seq-len 128 '$LLAMA2' | jq -c '[(.kernels | length), ([.kernels[].count] | sort)]'"
	[ "$output" = "[12,[1,1,1,32,32,32,32,32,64,64,65,128]]" ]
	local cal f a b
	f='[.totals.time_s, .totals.bound, .totals.compute_time_s, .totals.memory_time_s, .totals.launch_time_s,
	    .totals.ttft_s, .totals.tpot_s, .totals.e2e_latency_s, .totals.collective_time_s, .fit,
	    (.phases // {} | map_values(.totals))]'
	for cal in none "$ROOT/share/lmp/calibration/corpus.json"; do
		for args in "--batch-size 1,16 --seq-len 128,1024" "--batch-size 4 --prompt-len 512 --gen-len 64" \
			"--tp 2 --batch-size 8 --seq-len 2048" "--tp 2 --batch-size 3 --prompt-len 1000 --gen-len 33"; do
			a=$(lmp-eval --totals $args "$LLAMA2" | lmp-roofline --hardware nvidia-h100-sxm --calibration "$cal" | jq -c "$f")
			b=$(lmp-eval $args "$LLAMA2" | lmp-roofline --hardware nvidia-h100-sxm --calibration "$cal" | jq -c "$f")
			[ -n "$a" ] && [ "$a" = "$b" ] || fail "$args, calibration $cal: $a against $b"
		done
	done
}
