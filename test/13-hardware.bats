#!/usr/bin/env bats
# The shipped device files (lmp-hardware(5)) through lmp-roofline's command
# line: every file loads and runs, compute_units and achievable figures are
# sourced and sane, bad ones are refused with one line.

load helper

HW="$ROOT/share/lmp/hardware"
H100="$HW/nvidia-h100-sxm.json"

# bad_hw JQ WANT: the H100 file changed by JQ is refused with WANT
bad_hw() {
	jq "$1" "$H100" > "$BATS_TEST_TMPDIR/hw.json"
	run --separate-stderr sh -c "lmp-eval --totals --seq-len 1 < '$LLAMA2' | lmp-roofline --hardware '$BATS_TEST_TMPDIR/hw.json'"
	assert_clean_failure lmp-roofline "$2"
}

@test "every shipped device is listed and runs a roofline" {
	run lmp-roofline --list-hardware
	assert_success
	local n=$(ls "$HW"/*.json | wc -l)
	[ "${#lines[@]}" -eq "$n" ] || fail "${#lines[@]} listed, $n files"
	local listed=$(printf '%s\n' "${lines[@]}" | cut -f1)
	for f in "$HW"/*.json; do
		id=$(basename "$f" .json)
		grep -qx "$id" <<<"$listed" || fail "$id not listed"
		run sh -c "lmp-eval --totals --seq-len 1 < '$LLAMA2' | lmp-roofline --hardware $id | jq -e '.totals.time_s > 0'"
		[ "$status" -eq 0 ] || fail "$id: $output"
	done
}

@test "compute_units: a sourced whole number on every device but Gaudi and the H20 (lmp-hardware(5) says why)" {
	for f in "$HW"/*.json; do
		case "$(basename "$f")" in
		intel-gaudi* | nvidia-h20.json) jq -e 'has("compute_units") | not' "$f" >/dev/null || fail "$f" ;;
		*) jq -e '.compute_units | (.value | type == "number" and . >= 1 and floor == .)
			and (.source | length > 10) and (.note | length > 0)' "$f" >/dev/null || fail "$f" ;;
		esac
	done
	cu() { jq -r .compute_units.value "$HW/$1.json"; }
	# From the vendors' documents, not from lmp's output: H100 SXM5 132 SMs,
	# H100 PCIe 114, A100 108 (architecture whitepapers); MI300X 8 XCDs x 38
	# CUs (CDNA 3 whitepaper); TPU v4 2 TensorCores x 4 MXUs, v5e 1 x 4
	# (Google Cloud TPU pages); T4 2,560 CUDA cores / 64 per SM
	[ "$(cu nvidia-h100-sxm)" = 132 ]
	[ "$(cu nvidia-h100-pcie)" = 114 ]
	[ "$(cu nvidia-a100-sxm-80gb)" = 108 ]
	[ "$(cu amd-mi300x)" = $((8 * 38)) ]
	[ "$(cu google-tpu-v4)" = $((2 * 4)) ]
	[ "$(cu google-tpu-v5e)" = 4 ]
	[ "$(cu nvidia-t4)" = $((2560 / 64)) ]
}

@test "achievable figures are sourced and never above the datasheet's" {
	for f in "$HW"/*.json; do
		jq -e '(.achievable // {}) as $a
			| ([$a.memory_bytes_per_s // empty, ($a.flops // {} | .[])] | all(.source | length > 10))
			and (($a.memory_bytes_per_s.value // 0) <= .memory_bandwidth_bytes_per_s.value)' "$f" >/dev/null || fail "$f"
		jq -e '. as $d | [(.achievable.flops // {}) | to_entries[] | .value.value <= $d.peak_flops[.key].value] | all' \
			"$f" >/dev/null || fail "$f: an achievable flops figure is above the peak"
	done
}

@test "published measurements: what the sources' tables say, below the datasheets" {
	ach() { jq -r ".achievable.$2.value" "$HW/$1.json"; }
	# Azure AI Benchmarking Guide, HBM 'Copy': H100 2.90 TB/s, H200 4.01, A100 1.61, MI300X 4.11
	[ "$(ach nvidia-h100-sxm memory_bytes_per_s)" = $((290 * 10**10)) ]
	[ "$(ach nvidia-h200-sxm memory_bytes_per_s)" = $((401 * 10**10)) ]
	[ "$(ach nvidia-a100-sxm-80gb memory_bytes_per_s)" = $((161 * 10**10)) ]
	[ "$(ach amd-mi300x memory_bytes_per_s)" = $((411 * 10**10)) ]
	# cuBLASLt FP8 at 32768^3 on H100: 1382.2 TFLOPS
	[ "$(ach nvidia-h100-sxm flops.fp8)" = $((13822 * 10**11)) ]
	# AMD's Max-Achievable FLOPs, Table 1: MI300X BF16 708, FP8 1273; MI325X BF16 843 TFLOPS
	[ "$(ach amd-mi300x flops.bf16)" = $((708 * 10**12)) ]
	[ "$(ach amd-mi300x flops.fp8)" = $((1273 * 10**12)) ]
	[ "$(ach amd-mi325x flops.bf16)" = $((843 * 10**12)) ]
	# each below its datasheet figure: H100 2.90 < 3.35 TB/s; MI300X 708 < 1307.4 TFLOPS
	[ "$(jq '.achievable.memory_bytes_per_s.value < .memory_bandwidth_bytes_per_s.value' "$H100")" = true ]
	[ "$(jq '.achievable.flops.bf16.value < .peak_flops.bf16.value' "$HW/amd-mi300x.json")" = true ]
}

@test "the H20, from secondary sources that agree: 148 TFLOPS bf16, 96 GiB at 4.0 TB/s, NVLink 450 GB/s each way" {
	h() { jq -r "$1" "$HW/nvidia-h20.json"; }
	# willitrunai.com, zangshuxian.com, flash-attention issue #1310: FP16 148 TFLOPS dense,
	# INT8 296, 96 GB HBM3, 4.0 TB/s, NVLink 900 GB/s both directions
	[ "$(h .peak_flops.bf16.value)" = $((148 * 10**12)) ]
	[ "$(h .peak_flops.int8.value)" = $((296 * 10**12)) ]
	[ "$(h .memory_capacity_bytes.value)" = $((96 * 1024**3)) ]
	[ "$(h .memory_bandwidth_bytes_per_s.value)" = $((4 * 10**12)) ]
	[ "$(h .interconnect.scale_up.bytes_per_s.value)" = $((900 * 10**9 / 2)) ]
	# every figure from secondary sources says so in its note (lmp-hardware(5))
	jq -e '[.peak_flops[], .memory_capacity_bytes, .memory_bandwidth_bytes_per_s, .onchip_buffer_bytes,
		.interconnect_bytes_per_s] | all(.note | contains("secondary source: no first-party datasheet found"))' \
		"$HW/nvidia-h20.json" >/dev/null || fail "a secondary figure without the note"
	# a decode step of Llama-2-7B on one H20 is memory-bound: time = bytes / 4.0 TB/s
	run sh -c "lmp-eval --totals --seq-len 1 --cache-len 1023 < '$LLAMA2' | lmp-roofline --hardware nvidia-h20 | jq -r '.totals.bound'"
	assert_success
	[ "$output" = memory ]
}

@test "bad compute_units and achievable figures are refused with one line" {
	bad_hw '.compute_units.value = 1.5' "compute_units.value must be a whole number"
	bad_hw '.compute_units.value = 0' "compute_units.value must be a number"
	bad_hw 'del(.compute_units.source)' "compute_units has no \"source\""
	bad_hw '.achievable = {"memory_bytes_per_s": {"value": 3.4e12, "source": "a made-up figure"}}' \
		"achievable.memory_bytes_per_s is above the datasheet's bandwidth"
	bad_hw '.achievable = {"flops": {"bf16": {"value": 1e15, "source": "a made-up figure"}}}' \
		"achievable.flops.bf16 is above the datasheet's peak_flops.bf16"
	bad_hw '.achievable = {"flops": {"int4": {"value": 1e12, "source": "a made-up figure"}}}' \
		"achievable.flops.int4 is above the datasheet's peak_flops.int4"
	bad_hw '.achievable = {"flops": {"fp64": {"value": 1e12, "source": "a made-up figure"}}}' \
		"unknown precision achievable.flops.fp64"
	bad_hw '.achievable = {"flops": {"bf16": {"value": 5e14}}}' "has no \"source\""
}
