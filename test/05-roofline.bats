#!/usr/bin/env bats
# lmp-roofline through its command line.  Expected times are derived in the
# test from the model's shapes and the device file's datasheet figures.

load helper

HW="$ROOT/share/lmp/hardware"
H100="$HW/nvidia-h100-sxm.json"

# hw FILE FIELD: a figure of a device file
hw() { jq -r "$2" "$1"; }

# close A B: A and B agree to 1e-12, relatively
close() {
	awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; m = (a < 0 ? -a : a); exit !(d <= 1e-12 * m) }' ||
		fail "$1 and $2 differ"
}

@test "Llama-2-7B decoding at 1k context in fp16 on H100 SXM is memory-bound: time = bytes / bandwidth" {
	# Bytes read, from test/04-eval.bats: 13,758,349,584.  Bytes written per
	# layer: norms 2 * H*2, q,k,v,o 4 * H*2, rotary (32+32)*128*2, attention
	# output 32*128*2 and new K,V 32*256*2, residual adds 2 * H*2, gate, SiLU,
	# up, multiply 4 * I*2, down H*2; once: embedding H*2, cos/sin 2*128*2,
	# final norm H*2, logits 32000*2.
	local H=4096 I=11008
	local per_layer=$(( 2*H*2 + 4*H*2 + 64*128*2 + 32*128*2 + 32*256*2 + 2*H*2 + 4*I*2 + H*2 ))
	local writes=$(( 32 * per_layer + H*2 + 2*128*2 + H*2 + 32000*2 ))
	[ "$writes" = 6568960 ]
	local bytes=$(( 13758349584 + writes ))
	local bw=$(hw "$H100" .memory_bandwidth_bytes_per_s.value)
	run sh -c "lmp-eval --seq-len 1 --cache-len 1023 < '$LLAMA2' | lmp-roofline --hardware nvidia-h100-sxm"
	assert_success
	[ "$(jq -r .lmp <<<"$output")" = roofline ]
	[ "$(jq -c '[.rows[].bound] | unique' <<<"$output")" = '["memory"]' ]
	[ "$(jq -r .totals.bound <<<"$output")" = memory ]
	[ "$(jq -r .roofline.compute_precision <<<"$output")" = bf16 ]
	close "$(jq .totals.time_s <<<"$output")" "$(awk -v b=$bytes -v w=$bw 'BEGIN { printf "%.17g", b / w }')"
}

@test "a large prefill is compute-bound: compute time = FLOPs / peak" {
	[ "$(prefill_flops 1 2048)" = 28758978992128 ]  # the figure of make demo, derived
	local F=$(prefill_flops 16 4096) peak=$(hw "$H100" .peak_flops.bf16.value)
	run sh -c "lmp-eval --totals --batch-size 16 --seq-len 4096 < '$LLAMA2' | lmp-roofline --hardware nvidia-h100-sxm"
	assert_success
	[ "$(jq .totals.flops <<<"$output")" = "$F" ]
	[ "$(jq -r .totals.bound <<<"$output")" = compute ]
	# every kernel at the one peak: compute time sums to F / peak; the
	# memory-bound kernels (norms, adds) make the time longer
	close "$(jq .totals.compute_time_s <<<"$output")" "$(awk -v f=$F -v p=$peak 'BEGIN { printf "%.17g", f / p }')"
	awk -v t="$(jq .totals.time_s <<<"$output")" -v f=$F -v p=$peak 'BEGIN { exit !(t > f / p) }'
	local tot=$(jq .totals.time_s <<<"$output")
	# per layer: a projection is compute-bound, its time its FLOPs over the peak
	run sh -c "lmp-eval --batch-size 16 --seq-len 4096 < '$LLAMA2' | lmp-roofline --hardware nvidia-h100-sxm"
	[ "$(jq .totals.time_s <<<"$output")" = "$tot" ]  # the --totals document's time, to the bit
	local q=$(jq -c '.rows[] | select(.path == "model.layers.*.self_attn.q_proj")' <<<"$output")
	[ "$(jq -r .bound <<<"$q")" = compute ]
	close "$(jq .time_s <<<"$q")" "$(awk -v p=$peak 'BEGIN { printf "%.17g", 2 * 65536 * 4096 * 4096 / p }')"
}

@test "efficiency factors scale compute and memory time exactly" {
	local peak=$(hw "$H100" .peak_flops.bf16.value) bw=$(hw "$H100" .memory_bandwidth_bytes_per_s.value)
	local F=$(prefill_flops 16 4096)
	run sh -c "lmp-eval --totals --batch-size 16 --seq-len 4096 < '$LLAMA2' | lmp-roofline --hardware nvidia-h100-sxm --compute-efficiency 0.5"
	close "$(jq .totals.compute_time_s <<<"$output")" "$(awk -v f=$F -v p=$peak 'BEGIN { printf "%.17g", f / (p * 0.5) }')"
	[ "$(jq .roofline.compute_efficiency <<<"$output")" = 0.5 ]
	# decode: every kernel memory-bound, the time the bytes (test 1) at 0.8 of the bandwidth
	run sh -c "lmp-eval --totals --seq-len 1 --cache-len 1023 < '$LLAMA2' | lmp-roofline --hardware nvidia-h100-sxm --memory-efficiency 0.8"
	close "$(jq .totals.time_s <<<"$output")" "$(awk -v b=$((13758349584 + 6568960)) -v w=$bw 'BEGIN { printf "%.17g", b / (w * 0.8) }')"
}

@test "fit flips at the batch derived from the capacity" {
	# A 4096-token prefill step.  Weights: 6,738,415,616 parameters x 2 bytes.
	# Per sequence: KV 4096 x 524,288 bytes; activations: the largest layer
	# output is attention's, its output 32 x 128 x 2 bytes and the new K and V
	# 32 x 256 x 2 bytes: 24,576 bytes per token.
	local C=$(hw "$H100" .memory_capacity_bytes.value)
	local W=$((6738415616 * 2)) per=$((4096 * (524288 + 24576)))
	local b=$(( (C - W) / per ))
	[ "$b" = 32 ]
	run sh -c "lmp-eval --batch-size $b --seq-len 4096 < '$LLAMA2' | lmp-roofline --hardware nvidia-h100-sxm"
	[ "$(jq -c '.fit | [.fits, .weights_bytes, .needed_bytes, .max_batch_size]' <<<"$output")" = "[true,$W,$((W + b * per)),$b]" ]
	run sh -c "lmp-eval --batch-size $((b + 1)) --seq-len 4096 < '$LLAMA2' | lmp-roofline --hardware nvidia-h100-sxm"
	[ "$(jq -c '.fit | [.fits, .max_batch_size]' <<<"$output")" = "[false,$b]" ]
	# two devices are a layout (lmp-eval --tp 2), not one device twice as large
	run --separate-stderr sh -c "lmp-eval --batch-size $((b + 1)) --seq-len 4096 < '$LLAMA2' | lmp-roofline --hardware nvidia-h100-sxm --devices 2"
	assert_clean_failure lmp-roofline "--devices 2: give the layout to lmp-eval (--tp 2"
}

@test "TTFT and TPOT of a small request equal the times of its steps" {
	local t0 t1 t2 t3
	step() { lmp-eval --batch-size 2 --seq-len "$1" --cache-len "$2" < "$LLAMA2" | lmp-roofline --hardware nvidia-h100-sxm | jq .totals.time_s; }
	t0=$(step 16 0); t1=$(step 1 16); t2=$(step 1 17); t3=$(step 1 18)
	run sh -c "lmp-eval --batch-size 2 --prompt-len 16 --gen-len 4 < '$LLAMA2' | lmp-roofline --hardware nvidia-h100-sxm"
	assert_success
	close "$(jq .totals.ttft_s <<<"$output")" "$t0"
	close "$(jq .totals.tpot_s <<<"$output")" "$(awk -v a=$t1 -v b=$t2 -v c=$t3 'BEGIN { printf "%.17g", (a + b + c) / 3 }')"
	close "$(jq .totals.e2e_latency_s <<<"$output")" "$(awk -v a=$t0 -v b=$t1 -v c=$t2 -v d=$t3 'BEGIN { printf "%.17g", a + b + c + d }')"
	# 2 sequences x 4 tokens over the latency
	close "$(jq .totals.tokens_per_s <<<"$output")" "$(awk -v a=$t0 -v b=$t1 -v c=$t2 -v d=$t3 'BEGIN { printf "%.17g", 8 / (a + b + c + d) }')"
	# and the KV cache at the end holds 2 x 19 tokens
	[ "$(jq .fit.kv_cache_bytes <<<"$output")" = $((2 * 19 * 524288)) ]
}

@test "the compute precision follows the weight and activation widths" {
	prec() { lmp-eval --totals --seq-len 1 "${@:2}" < "$LLAMA2" | lmp-roofline --hardware "$1" | jq -r .roofline.compute_precision; }
	[ "$(prec nvidia-h100-sxm)" = bf16 ]
	[ "$(prec nvidia-h100-sxm --w-bit 4)" = bf16 ]               # weight-only: dequantized to 16 bits
	[ "$(prec nvidia-h100-sxm --w-bit 8 --a-bit 8)" = fp8 ]
	[ "$(prec nvidia-a100-sxm-80gb --w-bit 8 --a-bit 8)" = int8 ] # no fp8 on Ampere
	[ "$(prec nvidia-a100-sxm-80gb --w-bit 4 --a-bit 4)" = int4 ]
	[ "$(prec nvidia-v100-sxm2-32gb)" = fp16 ]                    # no bf16 on Volta
	[ "$(prec nvidia-h100-sxm --w-bit 32 --a-bit 32)" = fp32 ]
}

@test "every shipped device loads, with a source for every figure" {
	run lmp-roofline --list-hardware
	assert_success
	[ "${#lines[@]}" -ge 28 ]
	for f in "$HW"/*.json; do
		jq -e '[.. | objects | select(has("value")) | (.source | length > 10)] | all' "$f" >/dev/null || fail "$f"
		run sh -c "lmp-eval --totals --seq-len 1 < '$LLAMA2' | lmp-roofline --hardware '$f'"
		[ "$status" -eq 0 ] || fail "$f: $output"
	done
}

@test "the serving devices T4, A40, L40, RTX 3090, RTX 6000 Ada, GH200 and MI210 carry the datasheets' dense figures" {
	# Derived by hand from the vendor documents, not from lmp's output:
	# L40 BF16 362.1 TFLOPS with sparsity / 2 = 181.05e12; RTX 6000 Ada FP8
	# 1,457 TFLOPS with sparsity / 2 = 728.5e12; MI210 HBM2e 3.2 Gbps x 4096
	# bits / 8 = 1.6384e12 B/s; T4 16 GB = 16 x 2^30 B (GiB convention).
	for id in nvidia-t4 nvidia-a40 nvidia-l40 nvidia-rtx-3090 nvidia-rtx-6000-ada nvidia-gh200 amd-mi210; do
		lmp-roofline --list-hardware | cut -f1 | grep -qx "$id" || fail "$id not listed"
	done
	hw() { jq -r "$2" "$HW/$1.json"; }
	[ "$(hw nvidia-l40 .peak_flops.bf16.value)" = 181050000000000 ]
	[ "$(hw nvidia-rtx-6000-ada .peak_flops.fp8.value)" = 728500000000000 ]
	[ "$(hw amd-mi210 .memory_bandwidth_bytes_per_s.value)" = 1638400000000 ]
	[ "$(hw nvidia-t4 .memory_capacity_bytes.value)" = $((16 * 1024 * 1024 * 1024)) ]
	# T4 on-chip: L2 4 MiB + 64 KiB shared memory x 40 SMs
	[ "$(hw nvidia-t4 .onchip_buffer_bytes.value)" = $((4 * 1048576 + 64 * 1024 * 40)) ]
	# Turing has no bf16: a 16-bit model runs at the fp16 rate (65 TFLOPS)
	run sh -c "lmp-eval --totals --seq-len 1 < '$LLAMA2' | lmp-roofline --hardware nvidia-t4 | jq -r '.roofline.compute_precision, .roofline.peak_flops'"
	assert_success
	[ "${lines[0]}" = fp16 ]
	[ "${lines[1]}" = 65000000000000 ]
}

@test "every device file has sourced link figures: scale-up with a positive one-direction bandwidth and gpus_per_node, and scale-out" {
	# a figure is a positive number with a source, or null with a source and a
	# note beginning "unknown:" (lmp-hardware(5) says what lmp-roofline then does)
	for f in "$HW"/*.json; do
		jq -e '.interconnect.scale_up
			| (.name | length > 0)
			and (.bytes_per_s.value > 0) and (.bytes_per_s.source | length > 10)
			and (.gpus_per_node.value >= 1) and (.gpus_per_node.value | floor) == .gpus_per_node.value
			and (.gpus_per_node.source | length > 10) and has("latency_s")' "$f" >/dev/null || fail "$f: scale_up"
		jq -e '.interconnect.scale_out | (.name | length > 0) and has("bytes_per_s") and has("latency_s")' "$f" >/dev/null ||
			fail "$f: scale_out"
		jq -e '[.interconnect | .. | objects | select(has("value"))
			| (.source | length > 10)
			  and ((.value | type == "number" and . > 0) or (.value == null and (.note | startswith("unknown:"))))] | all' \
			"$f" >/dev/null || fail "$f: a link figure is neither positive nor an explained unknown"
	done
	up() { jq -r ".interconnect.scale_up.$2.value" "$HW/$1.json"; }
	out() { jq -r ".interconnect.scale_out.$2.value" "$HW/$1.json"; }
	# Derived from the vendor documents, not from lmp's output:
	# H100/H200 NVLink 4: 18 links x 25 GB/s each direction; B200 NVLink 5:
	# 18 x 50 GB/s; A100 NVLink 3: 12 x 25 GB/s; V100 NVLink 2: 6 x 25 GB/s
	[ "$(up nvidia-h100-sxm bytes_per_s)" = $((18 * 25 * 10**9)) ]
	[ "$(up nvidia-h200-sxm bytes_per_s)" = $((18 * 25 * 10**9)) ]
	[ "$(up nvidia-b200 bytes_per_s)" = $((18 * 50 * 10**9)) ]
	[ "$(up nvidia-a100-sxm-80gb bytes_per_s)" = $((12 * 25 * 10**9)) ]
	[ "$(up nvidia-v100-sxm2-32gb bytes_per_s)" = $((6 * 25 * 10**9)) ]
	# one direction is half the vendor's bidirectional total (interconnect_bytes_per_s)
	for id in nvidia-v100-sxm2-32gb nvidia-a100-sxm-40gb nvidia-h100-sxm nvidia-b200 nvidia-h100-pcie nvidia-a40 amd-mi300x; do
		[ "$(jq '.interconnect.scale_up.bytes_per_s.value * 2 == .interconnect_bytes_per_s.value' "$HW/$id.json")" = true ] || fail "$id"
	done
	# DGX H100: eight single-port ConnectX-7 at 400 Gb/s for eight GPUs
	[ "$(out nvidia-h100-sxm bytes_per_s)" = $((8 * 400 * 10**9 / 8 / 8)) ]
	[ "$(up nvidia-h100-sxm gpus_per_node)" = 8 ]
	# MI300X: 7 xGMI links x 16 lanes x 32 Gb/s / 8 bits each direction
	[ "$(up amd-mi300x bytes_per_s)" = $((7 * 16 * 32 * 10**9 / 8)) ]
	# Gaudi 3: 21 scale-up and 3 scale-out ports of 200 Gb/s
	[ "$(up intel-gaudi3 bytes_per_s)" = $((21 * 200 * 10**9 / 8)) ]
	[ "$(out intel-gaudi3 bytes_per_s)" = $((3 * 200 * 10**9 / 8)) ]
	# TPU v5e: 400 GB/s ICI counted both ways; 2 x 100 Gb/s NICs per 8-chip host
	[ "$(up google-tpu-v5e bytes_per_s)" = $((400 * 10**9 / 2)) ]
	[ "$(out google-tpu-v5e bytes_per_s)" = $((2 * 100 * 10**9 / 8 / 8)) ]
	# NCCL's hop latencies (src/graph/tuning.cc hwLat, Ring/LL): NVLink 0.6 us, PCI 1.0 us, network 2.7 us
	[ "$(jq '.interconnect.scale_up.latency_s.value * 1e9 | round' "$H100")" = 600 ]
	[ "$(jq '.interconnect.scale_up.latency_s.value * 1e9 | round' "$HW/nvidia-l4.json")" = 1000 ]
	[ "$(jq '.interconnect.scale_out.latency_s.value * 1e9 | round' "$H100")" = 2700 ]
	# one GPU per Mac Studio: every collective runs on scale_out
	[ "$(up apple-m2-ultra gpus_per_node)" = 1 ]
}

# ---- bad input ----

bad_hw() {
	jq "$1" "$H100" > "$BATS_TEST_TMPDIR/hw.json"
	run --separate-stderr sh -c "lmp-eval --totals --seq-len 1 < '$LLAMA2' | lmp-roofline --hardware '$BATS_TEST_TMPDIR/hw.json'"
	assert_clean_failure lmp-roofline "$2"
}

@test "bad hardware files are refused with a clear error" {
	bad_hw 'del(.memory_bandwidth_bytes_per_s)' "missing memory_bandwidth_bytes_per_s"
	bad_hw '.memory_capacity_bytes.value = -1' "memory_capacity_bytes.value must be a number in (0, "
	bad_hw '.peak_flops.bf16.value = 1e20' "bf16.value must be a number"
	bad_hw '.peak_flops.bf16.value = "fast"' "bf16.value must be a number"
	bad_hw 'del(.peak_flops.bf16.source)' "bf16 has no \"source\""
	bad_hw '.peak_flops.fp64 = {"value": 1, "source": "datasheet"}' "unknown precision peak_flops.fp64"
	bad_hw '.peak_flops = {}' "peak_flops has no precision"
	bad_hw '.lmp = "eval"' "not a hardware description"
	bad_hw 'del(.onchip_buffer_bytes)' "missing onchip_buffer_bytes"
}

@test "unknown devices, bad options and bad input" {
	run --separate-stderr lmp-roofline --hardware tpu-v99 < /dev/null
	assert_clean_failure lmp-roofline "unknown device 'tpu-v99' (known: amd-mi210"
	for opt in "--devices 0" "--devices x" "--compute-efficiency 0" "--compute-efficiency 1.5" "--memory-efficiency -1" "--memory-efficiency abc"; do
		run --separate-stderr lmp-roofline --hardware nvidia-h100-sxm $opt < /dev/null
		assert_clean_failure lmp-roofline "${opt%% *}"
		[ "$status" -eq 2 ]
	done
	run --separate-stderr lmp-roofline < /dev/null
	assert_clean_failure lmp-roofline "--hardware NAME is required"
	run --separate-stderr lmp-roofline --hardware nvidia-h100-sxm < "$LLAMA2"
	assert_clean_failure lmp-roofline "not an eval document (run lmp-eval first)"
	run --separate-stderr lmp-roofline --hardware nvidia-h100-sxm <<<'{"lmp": "eval", "runtime": {'
	assert_clean_failure lmp-roofline "malformed JSON"
	run --separate-stderr lmp-roofline --hardware nvidia-h100-sxm < /dev/null
	assert_clean_failure lmp-roofline "no document on input"
}

@test "a stream in, a stream out; numbers passed through keep their text" {
	run sh -c "lmp-eval --totals --batch-size 1,2,4 --seq-len 1 --cache-len 4095 < '$LLAMA2' | lmp-roofline --hardware nvidia-h200-sxm"
	assert_success
	[ "${#lines[@]}" = 3 ]
	[ "$(jq -c .runtime.batch_size <<<"$output" | paste -sd,)" = 1,2,4 ]
	# a FLOP count past 2^53 survives the pass through lmp-roofline
	run sh -c "lmp-eval --totals --batch-size 512 --seq-len 65536 < '$LLAMA2' | lmp-roofline --hardware nvidia-b200"
	local f=$(prefill_flops 512 65536)
	[[ "$output" == *"\"flops\":$f,"* ]]
}

@test "lmp-roofline checks what it trusts, and writes the documents done before an error" {
	local good="$BATS_TEST_TMPDIR/good.json"
	lmp-eval --totals --seq-len 1 < "$LLAMA2" > "$good"
	for bad in '.runtime.w_bit = 1e30' '.runtime.w_bit = -16' '.runtime.a_bit = 8.5' '.runtime.batch_size = 0' \
		'.totals.flops = -1' '.totals.bytes.reads = "many"'; do
		jq -c "$bad" "$good" > "$BATS_TEST_TMPDIR/bad.json"
		run --separate-stderr lmp-roofline --hardware nvidia-h100-sxm "$BATS_TEST_TMPDIR/bad.json"
		[ "$status" -eq 1 ] || fail "$bad: status $status"
		[ -z "$output" ] || fail "$bad: $output"
	done
	{ cat "$good"; echo '{"lmp": "eval"}'; } > "$BATS_TEST_TMPDIR/stream.json"
	run --separate-stderr lmp-roofline --hardware nvidia-h100-sxm "$BATS_TEST_TMPDIR/stream.json"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" = 1 ]
	[ "$(jq -r .lmp <<<"${lines[0]}")" = roofline ]
}

@test "a --totals document's kernels give the per-layer fit: the activations are the largest row's writes" {
	run sh -c "lmp-eval --totals --seq-len 4096 < '$LLAMA2' | lmp-roofline --hardware nvidia-h100-sxm"
	assert_success
	# the kernels are the hand-off to the time model: the roofline document drops them
	[ "$(jq 'has("kernels")' <<<"$output")" = false ]
	local fit=$(jq -c .fit <<<"$output") act=$(jq .fit.activation_bytes <<<"$output")
	run sh -c "lmp-eval --seq-len 4096 < '$LLAMA2'"
	# the largest output of a row, read from the per-layer rows
	[ "$act" = "$(jq '[.rows[].bytes.writes] | max' <<<"$output")" ]
	# the KV cache and those activations bound the batch: (C - W) / (4096 x 524,288 + act)
	local C=$(hw "$H100" .memory_capacity_bytes.value)
	[ "$(jq .max_batch_size <<<"$fit")" = $(( (C - 6738415616 * 2) / (4096 * 524288 + act) )) ]
	run sh -c "lmp-eval --seq-len 4096 < '$LLAMA2' | lmp-roofline --hardware nvidia-h100-sxm"
	[ "$(jq -c .fit <<<"$output")" = "$fit" ]
	# a totals document of an older lmp-eval (no kernels) is refused with the fix
	run --separate-stderr sh -c "lmp-eval --totals --seq-len 4096 < '$LLAMA2' | jq -c 'del(.kernels)' | lmp-roofline --hardware nvidia-h100-sxm"
	assert_clean_failure lmp-roofline 'a totals document without "kernels" (written by an older lmp-eval): run lmp-eval again'
}

@test "a stream larger than the memory allowed: one document at a time" {
	# AddressSanitizer reserves terabytes of address space for its shadow memory
	[ -z "$LMP_SANITIZED" ] || skip "ulimit -v cannot bound a sanitized build's address space"
	# 40,000 points, about 28 MB, through a process limited to 20 MB of address space
	lmp-eval --totals --batch-size "$(seq -s, 1 400)" --seq-len "$(seq -s, 128 128 12800)" < "$LLAMA2" > "$BATS_TEST_TMPDIR/s.ndjson"
	[ "$(wc -c < "$BATS_TEST_TMPDIR/s.ndjson")" -gt 25000000 ]
	run bash -c "ulimit -v 20000; lmp-roofline --hardware nvidia-h100-sxm '$BATS_TEST_TMPDIR/s.ndjson' | wc -l"
	assert_success
	[ "$output" = 40000 ]
	run bash -c "ulimit -v 20000; lmp-report --format csv < '$BATS_TEST_TMPDIR/s.ndjson' | wc -l"
	assert_success
	[ "$output" = 40001 ]
}

@test "the longest context: Mistral-7B's windowed layers never fill an H100, so its position limit" {
	# Every Mistral-7B layer keeps at most sliding_window - 1 = 4095 tokens:
	# at batch 8, 4095 x 1,048,576 bytes (test/04-eval.bats) = 4,293,918,720
	# on top of 14,483,464,192 bytes of weights (7,241,732,096 parameters x 2),
	# far below 80 GiB, and a decode step's activations do not grow with the
	# context.  Memory never limits it: the answer is max_position_embeddings,
	# 32,768, whatever context it was asked at (100,000 is past the limit).
	local M="$ROOT/models/mistralai--Mistral-7B-v0.1.populated.json" c
	for c in 2048 8192 100000; do
		run sh -c "lmp-eval --batch-size 8 --seq-len 1 --cache-len $c < '$M' 2>/dev/null | lmp-roofline --hardware nvidia-h100-sxm"
		assert_success
		[ "$(jq -c '.fit | [.max_context_len, .memory_context_len, .position_limit, .weights_bytes]' <<<"$output")" = "[32768,null,32768,$((7241732096 * 2))]" ]
	done
	[ "$(jq .fit.kv_cache_bytes <<<"$output")" = $((4095 * 1048576)) ]
}

@test "the longest context: gemma-2-9b's memory bound is where its own fit flips" {
	# gemma-2-9b at batch 8 on an H100 (capacity C = 80 GiB = 85,899,345,920):
	#   weights   9,241,705,984 parameters x 2             = 18,483,411,968
	#             (embedding 256000 x 3584 = 917,504,000 + 42 layers x
	#             198,195,200 + final norm 3,584)
	#   sliding   21 layers, full at 4095 tokens: 4095 x 1,376,256 = 5,635,768,320
	#   global    21 layers x 2 x 8 x 256 x 2 bytes x 8 sequences = 1,376,256 per token
	#   activations of a decode step: the largest output is the global layers'
	#             soft-capped attention scores, 16 heads x c keys x 8 x 2 bytes
	#             = 256 c (past the 4,096,000 bytes of logits, 8 x 256000 x 2,
	#             from c = 16,000 on)
	# need(c) = 18,483,411,968 + 5,635,768,320 + (1,376,256 + 256) c <= C
	# c <= 61,780,165,632 / 1,376,512 = 44,881.6: 44,881
	local G="$ROOT/models/google--gemma-2-9b.populated.json" C=85899345920 c
	[ $((917504000 + 42 * 198195200 + 3584)) = 9241705984 ]
	local W=$((9241705984 * 2)) S=$((4095 * 1376256))
	local c=$(( (C - W - S) / (1376256 + 256) ))
	[ "$c" = 44881 ]
	# the same answer from any context it was asked at
	for at in 2048 8192 30000; do
		run sh -c "lmp-eval --batch-size 8 --seq-len 1 --cache-len $((at - 1)) < '$G' 2>/dev/null | lmp-roofline --hardware nvidia-h100-sxm"
		assert_success
		[ "$(jq -c '.fit | [.memory_context_len, .max_context_len, .position_limit]' <<<"$output")" = "[$c,8192,8192]" ]
	done
	# and its own fit flips there: a context of c fits, c + 1 does not
	fits() { lmp-eval --batch-size 8 --seq-len 1 --cache-len $(($1 - 1)) < "$G" 2>/dev/null | lmp-roofline --hardware nvidia-h100-sxm | jq -c '[.fit.fits, .fit.needed_bytes]'; }
	[ "$(fits $c)" = "[true,$((W + S + 1376256 * c + 256 * c))]" ]
	[ "$(fits $((c + 1)))" = "[false,$((W + S + (1376256 + 256) * (c + 1)))]" ]
}

@test "the longest context of a prefill grows its activations; of a request, its prompt; never past the limit" {
	# Llama-2-7B, batch 1, a 2048-token prefill: 524,288 bytes of KV per
	# token and 24,576 of activations per token (attention's output and new
	# K, V: the largest layer output, as in the batch test above), weights
	# 13,476,831,232: memory alone allows (C - W) / 548,864 = 131,949 tokens,
	# past max_position_embeddings 4096.
	local C=85899345920 W=$((6738415616 * 2))
	[ $(( (C - W) / (524288 + 24576) )) = 131949 ]
	run sh -c "lmp-eval --seq-len 2048 < '$LLAMA2' | lmp-roofline --hardware nvidia-h100-sxm"
	[ "$(jq -c '.fit | [.memory_context_len, .max_context_len]' <<<"$output")" = "[131949,4096]" ]
	# a request of 1024 prompt tokens and 1025 generated (context 2048): a
	# longer context is a longer prompt, whose prefill's activations are
	# 24,576 x (c - 1024); need(c) = W + 524,288 c + 24,576 (c - 1024) <= C:
	# c <= (C - W + 24,576 x 1024) / 548,864 = 131,995.4
	[ $(( (C - W + 24576 * 1024) / 548864 )) = 131995 ]
	run sh -c "lmp-eval --prompt-len 1024 --gen-len 1025 < '$LLAMA2' | lmp-roofline --hardware nvidia-h100-sxm"
	[ "$(jq -c '.fit | [.activation_bytes, .memory_context_len, .max_context_len]' <<<"$output")" = "[$((24576 * 1024)),131995,4096]" ]
	# an eval document from before weight_bytes is refused with one line
	lmp-eval --totals --seq-len 1 < "$LLAMA2" | jq -c 'del(.totals.weight_bytes)' > "$BATS_TEST_TMPDIR/old.json"
	run_split lmp-roofline --hardware nvidia-h100-sxm "$BATS_TEST_TMPDIR/old.json"
	assert_clean_failure lmp-roofline "eval document without totals.weight_bytes (written by an older lmp-eval: evaluate it again)"
}

@test "a row in its checkpoint's own format computes where the format does: DeepSeek-V3's fp8 in fp8 on H100, at bf16 on A100" {
	# DeepSeek-V3's config stores its Linears in fp8 (quantization_config,
	# test/01-families-moe.bats): a prefill's q_b_proj (1536 -> 24576, 2048
	# tokens: 2 x 2048 x 1536 x 24576 FLOPs) is compute-bound at the fp8 peak;
	# the embedding and norms keep the document's bf16.
	local f=$(( 2 * 2048 * 1536 * 24576 ))
	local fp8=$(hw "$H100" .peak_flops.fp8.value)
	run sh -c "lmp-inspect deepseek-ai/DeepSeek-V3 | lmp-populate | lmp-eval --seq-len 2048 | lmp-roofline --hardware nvidia-h100-sxm"
	assert_success
	local row='.rows[] | select(.path == "model.layers(moe).*.self_attn.q_b_proj")'
	[ "$(jq "$row | .flops" <<<"$output")" = "$f" ]
	[ "$(jq -r "$row | .compute_precision" <<<"$output")" = fp8 ]
	close "$(jq "$row | .compute_time_s" <<<"$output")" "$(awk -v f=$f -v p=$fp8 'BEGIN { printf "%.17g", f / p }')"
	[ "$(jq -r '.rows[] | select(.path == "model.norm") | .compute_precision' <<<"$output")" = bf16 ]
	[ "$(jq -r .roofline.compute_precision <<<"$output")" = bf16 ]
	# Ampere has no fp8: the weights are dequantized and the GEMM runs in bf16
	run sh -c "lmp-inspect deepseek-ai/DeepSeek-V3 | lmp-populate | lmp-eval --seq-len 2048 | lmp-roofline --hardware nvidia-a100-sxm-80gb"
	[ "$(jq -r "$row | .compute_precision" <<<"$output")" = bf16 ]
	# --w-bit 16: no formats, no per-row precision
	run sh -c "lmp-inspect deepseek-ai/DeepSeek-V3 | lmp-populate | lmp-eval --seq-len 2048 --w-bit 16 | lmp-roofline --hardware nvidia-h100-sxm"
	[ "$(jq "$row | .compute_precision" <<<"$output")" = null ]
}
