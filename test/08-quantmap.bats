#!/usr/bin/env bats
# lmp-inspect --check-weights on quantized checkpoints: the packed tensors
# mapped back to the parameters they stand for (model.checkpoint's
# "logical", "aux_of", "bytes" and "quantized").  The checkpoints are built
# here as test/08-weights.bats builds them: the real safetensors format,
# tiny shapes, zero data.  Each logical shape and byte count is derived by
# hand next to its test, from the method's layout (lib/quantmap.c cites
# the code that writes each).

load helper

CFG="$ROOT/share/lmp/configs"

setup() {
	export HF_HUB_CACHE="$BATS_TEST_TMPDIR/hub"
	unset HF_HOME HF_TOKEN HF_ENDPOINT HF_HUB_OFFLINE
	M="$BATS_TEST_TMPDIR/m"
	mkdir -p "$M"
}

# llama QC: a tiny llama config with quantization_config QC (JSON).
llama() {
	jq --argjson qc "$1" '.hidden_size=8 | .intermediate_size=16 | .num_hidden_layers=2 | .num_attention_heads=2
	    | .num_key_value_heads=2 | .vocab_size=10 | .quantization_config=$qc' \
		"$CFG/meta-llama/Llama-2-7b-hf/config.json" > "$M/config.json"
}

# mkst FILE HEADER DATA: a safetensors file (8-byte little-endian header
# length, the header, DATA zero bytes).
mkst() {
	local n=${#2} oct=""
	for i in 0 1 2 3 4 5 6 7; do oct="$oct$(printf '\\%03o' $((n >> (8 * i) & 255)))"; done
	printf "$oct" > "$1"
	printf '%s' "$2" >> "$1"
	head -c "$3" /dev/zero >> "$1"
}

# ckpt NAME:DTYPE:D1xD2... ...: $M/model.safetensors holding those tensors.
ckpt() {
	local h="" off=0 name dt dims n w
	for t in "$@"; do
		IFS=: read -r name dt dims <<<"$t"
		case $dt in F32 | I32) w=4 ;; F16 | BF16) w=2 ;; *) w=1 ;; esac
		n=$((${dims//x/*} * w))
		h="$h${h:+,}\"$name\":{\"dtype\":\"$dt\",\"shape\":[${dims//x/,}],\"data_offsets\":[$off,$((off + n))]}"
		off=$((off + n))
	done
	mkst "$M/model.safetensors" "{$h}" "$off"
}

inv() {
	lmp-inspect --check-weights "$M" | jq -c "$1"
}

@test "AWQ: qweight [K, N/8] is the weight [N, K]; qzeros and scales belong to it" {
	llama '{"quant_method":"awq","bits":4,"group_size":4,"zero_point":true,"version":"gemm"}'
	# q_proj in both layers, K = N = 8: qweight int32 [8, 8/8 = 1],
	# qzeros int32 [8/4 = 2, 1], scales fp16 [2, 8].  Bytes 8x1x4 = 32,
	# 2x1x4 = 8, 2x8x2 = 32: 72 for the weight, as lmp's AWQ format counts
	# it (K x N x 4/8 = 32, groups x N x (16 + 4)/8 = 40).
	# down_proj of layer 0, K = 16, N = 8: qweight [16, 1], qzeros and
	# scales [4, 1] and [4, 8]: 64 + 16 + 64 = 144 bytes.
	ckpt model.layers.0.self_attn.q_proj.qweight:I32:8x1 model.layers.0.self_attn.q_proj.qzeros:I32:2x1 \
		model.layers.0.self_attn.q_proj.scales:F16:2x8 \
		model.layers.1.self_attn.q_proj.qweight:I32:8x1 model.layers.1.self_attn.q_proj.qzeros:I32:2x1 \
		model.layers.1.self_attn.q_proj.scales:F16:2x8 \
		model.layers.0.mlp.down_proj.qweight:I32:16x1 model.layers.0.mlp.down_proj.qzeros:I32:4x1 \
		model.layers.0.mlp.down_proj.scales:F16:4x8 model.norm.weight:BF16:8
	run inv '.model.checkpoint.tensors[] | [.name, .count, .logical, .aux_of, .bytes]'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '["model.layers.*.self_attn.q_proj.qweight",2,{"name":"model.layers.*.self_attn.q_proj.weight","shape":[8,8],"method":"awq","bytes":72},null,null]' ]
	[ "${lines[1]}" = '["model.layers.*.self_attn.q_proj.qzeros",2,null,"model.layers.*.self_attn.q_proj.weight",8]' ]
	[ "${lines[2]}" = '["model.layers.*.self_attn.q_proj.scales",2,null,"model.layers.*.self_attn.q_proj.weight",32]' ]
	[ "${lines[3]}" = '["model.layers.*.mlp.down_proj.qweight",1,{"name":"model.layers.*.mlp.down_proj.weight","shape":[8,16],"method":"awq","bytes":144},null,null]' ]
	[ "${lines[6]}" = '["model.norm.weight",1,null,null,null]' ]
	# 3 weights of 64, 64 and 128 elements; 72 + 72 + 144 bytes
	[ "$(inv .model.checkpoint.quantized)" = '{"methods":["awq"],"tensors":3,"elements":256,"bytes":288}' ]
}

@test "AWQ gemv: qweight [N, K/8], zeros and scales padded as calculate_zeros_width pads them" {
	llama '{"quant_method":"awq","bits":4,"group_size":32,"zero_point":true,"version":"gemv"}'
	# K = 64, N = 8, group 32: 2 groups; zeros width ceil(2/8) = 1 rounded up
	# to a multiple of 4 (group 32) = 4: qzeros [8, 4], scales [8, 4 x 8 = 32].
	# qweight [8, 64/8 = 8].  Bytes 8x8x4 = 256 + 8x4x4 = 128 + 8x32x2 = 512: 896.
	ckpt model.layers.0.mlp.up_proj.qweight:I32:8x8 model.layers.0.mlp.up_proj.qzeros:I32:8x4 \
		model.layers.0.mlp.up_proj.scales:F16:8x32
	[ "$(inv '.model.checkpoint.tensors[0].logical')" = '{"name":"model.layers.*.mlp.up_proj.weight","shape":[8,64],"method":"awq","bytes":896}' ]
}

@test "GPTQ: qweight [K/8, N] is the weight [N, K]; qzeros, scales and g_idx belong to it" {
	llama '{"quant_method":"gptq","bits":4,"group_size":4,"desc_act":false,"sym":true}'
	# K = N = 8: qweight int32 [8/32 x 4 = 1, 8], qzeros [2, 8/32 x 4 = 1],
	# scales fp16 [2, 8], g_idx int32 [8].  Bytes 32 + 8 + 32 + 32 = 104,
	# lmp's GPTQ format: K x N x 4/8 = 32, groups x N x (16 + 4)/8 = 40, K x 4 = 32.
	ckpt model.layers.0.self_attn.o_proj.qweight:I32:1x8 model.layers.0.self_attn.o_proj.qzeros:I32:2x1 \
		model.layers.0.self_attn.o_proj.scales:F16:2x8 model.layers.0.self_attn.o_proj.g_idx:I32:8 \
		model.layers.0.self_attn.o_proj.bias:F16:8
	run inv '.model.checkpoint.tensors[] | [.name, .logical, .aux_of, .bytes]'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '["model.layers.*.self_attn.o_proj.qweight",{"name":"model.layers.*.self_attn.o_proj.weight","shape":[8,8],"method":"gptq","bytes":104},null,null]' ]
	[ "${lines[1]}" = '["model.layers.*.self_attn.o_proj.qzeros",null,"model.layers.*.self_attn.o_proj.weight",8]' ]
	[ "${lines[3]}" = '["model.layers.*.self_attn.o_proj.g_idx",null,"model.layers.*.self_attn.o_proj.weight",32]' ]
	# the bias is a parameter of its own, stored as it is
	[ "${lines[4]}" = '["model.layers.*.self_attn.o_proj.bias",null,null,null]' ]
}

@test "GPTQ 3-bit: 3 words hold 32 inputs; a qweight whose rows do not unpack is refused" {
	llama '{"quant_method":"gptq","bits":3,"group_size":32}'
	# K = 64: qweight [64/32 x 3 = 6, 32], N = 32: qzeros [2, 32/32 x 3 = 3],
	# scales [2, 32].  Bytes 6x32x4 = 768 + 2x3x4 = 24 + 2x32x2 = 128: 920.
	ckpt model.layers.0.mlp.gate_proj.qweight:I32:6x32 model.layers.0.mlp.gate_proj.qzeros:I32:2x3 \
		model.layers.0.mlp.gate_proj.scales:F16:2x32
	[ "$(inv '.model.checkpoint.tensors[0].logical')" = '{"name":"model.layers.*.mlp.gate_proj.weight","shape":[32,64],"method":"gptq","bytes":920}' ]
	# 4 rows x 32 bits = 128 bits: not a whole number of 3-bit weights
	ckpt model.layers.0.mlp.gate_proj.qweight:I32:4x32 model.layers.0.mlp.gate_proj.scales:F16:2x32
	run_split lmp-inspect --check-weights "$M"
	assert_clean_failure lmp-inspect "--check-weights: model.layers.0.mlp.gate_proj.qweight: shape [4, 32]: 4 int32 words of GPTQ do not hold a whole number of 3-bit weights"
}

@test "AWQ and GPTQ: scales of the wrong shape or none at all are refused" {
	llama '{"quant_method":"awq","bits":4,"group_size":4}'
	# K = N = 8 wants scales [2, 8]
	ckpt model.layers.0.mlp.up_proj.qweight:I32:8x1 model.layers.0.mlp.up_proj.scales:F16:2x4
	run_split lmp-inspect --check-weights "$M"
	assert_clean_failure lmp-inspect "model.layers.0.mlp.up_proj.scales: shape [2, 4], where AWQ's layout wants [2, 8]"
	ckpt model.layers.0.mlp.up_proj.qweight:I32:8x1
	run_split lmp-inspect --check-weights "$M"
	assert_clean_failure lmp-inspect "model.layers.0.mlp.up_proj.qweight has no model.layers.0.mlp.up_proj.scales beside it"
	# K = 6 is not a whole number of groups of 4
	ckpt model.layers.0.mlp.up_proj.qweight:I32:6x1 model.layers.0.mlp.up_proj.scales:F16:2x8
	run_split lmp-inspect --check-weights "$M"
	assert_clean_failure lmp-inspect "6 inputs are not a whole number of groups of 4"
	llama '{"quant_method":"awq","bits":4,"group_size":4,"version":"marlin"}'
	run_split lmp-inspect --check-weights "$M"
	assert_clean_failure lmp-inspect "quantization_config.version 'marlin': a storage layout lmp does not map"
}

@test "fp8 blocks (DeepSeek-V3): the weight is its own logical tensor, weight_scale_inv one fp32 per block" {
	llama '{"quant_method":"fp8","fmt":"e4m3","activation_scheme":"dynamic","weight_block_size":[4,4]}'
	# q_proj [8, 12]: blocks ceil(8/4) x ceil(12/4) = [2, 3]; 96 + 2x3x4 = 120 bytes.
	# down_proj [6, 10]: [ceil(6/4), ceil(10/4)] = [2, 3]; 60 + 24 = 84 bytes.
	# The norm (bf16, no scale) stays as it is.
	ckpt model.layers.0.self_attn.q_proj.weight:F8_E4M3:8x12 model.layers.0.self_attn.q_proj.weight_scale_inv:F32:2x3 \
		model.layers.0.mlp.down_proj.weight:F8_E4M3:6x10 model.layers.0.mlp.down_proj.weight_scale_inv:F32:2x3 \
		model.layers.0.input_layernorm.weight:BF16:8
	run inv '.model.checkpoint.tensors[] | [.name, .logical, .aux_of, .bytes]'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '["model.layers.*.self_attn.q_proj.weight",{"name":"model.layers.*.self_attn.q_proj.weight","shape":[8,12],"method":"fp8","bytes":120},null,null]' ]
	[ "${lines[1]}" = '["model.layers.*.self_attn.q_proj.weight_scale_inv",null,"model.layers.*.self_attn.q_proj.weight",24]' ]
	[ "${lines[2]}" = '["model.layers.*.mlp.down_proj.weight",{"name":"model.layers.*.mlp.down_proj.weight","shape":[6,10],"method":"fp8","bytes":84},null,null]' ]
	[ "${lines[4]}" = '["model.layers.*.input_layernorm.weight",null,null,null]' ]
	# a block scale that does not cover the weight in 4 x 4 blocks
	ckpt model.layers.0.self_attn.q_proj.weight:F8_E4M3:8x12 model.layers.0.self_attn.q_proj.weight_scale_inv:F32:2x2
	run_split lmp-inspect --check-weights "$M"
	assert_clean_failure lmp-inspect "model.layers.0.self_attn.q_proj.weight_scale_inv: shape [2, 2], where quantization_config.weight_block_size's layout wants [2, 3]"
}

@test "fp8 per tensor and per channel: weight_scale and input_scale belong to the weight" {
	# compressed-tensors' per-tensor fp8 (a quant_method lmp-eval does not
	# read: the names and dtypes say it): weight [8, 8] 64 bytes, weight_scale
	# and input_scale fp32 [1]: 72 bytes.  fbgemm's per-channel weight_scale
	# fp32 [N, 1] = [8, 1]: 64 + 32 = 96 bytes.
	llama '{"quant_method":"compressed-tensors","format":"float-quantized"}'
	ckpt model.layers.0.self_attn.k_proj.weight:F8_E4M3:8x8 model.layers.0.self_attn.k_proj.weight_scale:F32:1 \
		model.layers.0.self_attn.k_proj.input_scale:F32:1 \
		model.layers.0.self_attn.v_proj.weight:F8_E4M3:8x8 model.layers.0.self_attn.v_proj.weight_scale:F32:8x1
	run inv '.model.checkpoint.tensors[] | [.logical.bytes, .aux_of, .bytes]'
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | tr -d '\n')" = '[72,null,null][null,"model.layers.*.self_attn.k_proj.weight",4][null,"model.layers.*.self_attn.k_proj.weight",4][96,null,null][null,"model.layers.*.self_attn.v_proj.weight",32]' ]
	[ "$(inv .model.checkpoint.quantized)" = '{"methods":["fp8"],"tensors":2,"elements":128,"bytes":168}' ]
}

@test "MXFP4 (gpt-oss): _blocks [E, out, in/32, 16] is the parameter [E, in, out]" {
	jq '.hidden_size=32 | .intermediate_size=32 | .num_local_experts=3 | .num_hidden_layers=2
	    | .num_experts_per_tok=2 | .experts_per_token=2 | .layer_types=["sliding_attention","full_attention"]' \
		"$CFG/openai/gpt-oss-20b/config.json" > "$M/config.json"
	# gate_up_proj_blocks uint8 [3, 2 x 32 = 64, 32/32 = 1, 16] and scales
	# [3, 64, 1]: unpacked [3, 64, 32], dims 1 and 2 swapped: gate_up_proj
	# [3, 32, 64]; bytes 3x64x16 = 3072 + 192 = 3264 (lmp's MXFP4 format per
	# expert: 32 x 64 x 4/8 = 1024 + ceil(32/32) x 64 = 64; x 3 experts).
	# down_proj_blocks [3, 32, 1, 16], scales [3, 32, 1]: down_proj [3, 32, 32],
	# 1536 + 96 = 1632 bytes.  The fp32 biases stay as they are.
	ckpt model.layers.0.mlp.experts.gate_up_proj_blocks:U8:3x64x1x16 model.layers.0.mlp.experts.gate_up_proj_scales:U8:3x64x1 \
		model.layers.0.mlp.experts.gate_up_proj_bias:F32:3x64 \
		model.layers.0.mlp.experts.down_proj_blocks:U8:3x32x1x16 model.layers.0.mlp.experts.down_proj_scales:U8:3x32x1
	run inv '.model.checkpoint.tensors[] | [.name, .logical, .aux_of, .bytes]'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '["model.layers.*.mlp.experts.gate_up_proj_blocks",{"name":"model.layers.*.mlp.experts.gate_up_proj","shape":[3,32,64],"method":"mxfp4","bytes":3264},null,null]' ]
	[ "${lines[1]}" = '["model.layers.*.mlp.experts.gate_up_proj_scales",null,"model.layers.*.mlp.experts.gate_up_proj",192]' ]
	[ "${lines[2]}" = '["model.layers.*.mlp.experts.gate_up_proj_bias",null,null,null]' ]
	[ "${lines[3]}" = '["model.layers.*.mlp.experts.down_proj_blocks",{"name":"model.layers.*.mlp.experts.down_proj","shape":[3,32,32],"method":"mxfp4","bytes":1632},null,null]' ]
	# blocks of 8 bytes are not MXFP4's 32 fp4 values; scales must be blocks.shape[:-1]
	ckpt model.layers.0.mlp.experts.down_proj_blocks:U8:3x32x2x8 model.layers.0.mlp.experts.down_proj_scales:U8:3x32x2
	run_split lmp-inspect --check-weights "$M"
	assert_clean_failure lmp-inspect "model.layers.0.mlp.experts.down_proj_blocks: shape [3, 32, 2, 8] is not [..., blocks, 16]"
	ckpt model.layers.0.mlp.experts.down_proj_blocks:U8:3x32x1x16 model.layers.0.mlp.experts.down_proj_scales:U8:3x32x2
	run_split lmp-inspect --check-weights "$M"
	assert_clean_failure lmp-inspect "down_proj_scales: shape [3, 32, 2], where MXFP4's layout wants [3, 32, 1]"
}

@test "an unquantized checkpoint has no logical, aux_of or quantized" {
	llama null
	ckpt model.layers.0.self_attn.q_proj.weight:BF16:8x8 model.layers.0.self_attn.q_proj.qweight:I32:8x1
	run inv '.model.checkpoint | [has("quantized"), ([.tensors[] | has("logical") or has("aux_of")] | any)]'
	[ "$status" -eq 0 ]
	[ "$output" = '[false,false]' ]
}

# awq_llama: the tiny llama's 7 linears per layer as AWQ (group 4) stores them.
awq_llama() {
	local t="" p name k n w
	llama '{"quant_method":"awq","bits":4,"group_size":4,"zero_point":true}'
	for l in 0 1; do
		p=model.layers.$l
		for lin in self_attn.q_proj:8:8 self_attn.k_proj:8:8 self_attn.v_proj:8:8 self_attn.o_proj:8:8 \
			mlp.gate_proj:8:16 mlp.up_proj:8:16 mlp.down_proj:16:8; do
			IFS=: read -r name k n <<<"$lin"
			w=$((n / 8))
			t="$t $p.$name.qweight:I32:${k}x$w $p.$name.qzeros:I32:$((k / 4))x$w $p.$name.scales:F16:$((k / 4))x$n"
		done
		t="$t $p.input_layernorm.weight:BF16:8 $p.post_attention_layernorm.weight:BF16:8"
	done
	# shellcheck disable=SC2086
	ckpt model.embed_tokens.weight:BF16:10x8 $t model.norm.weight:BF16:8
}

@test "lmp-eval: the stored bytes of each quantized weight are the weight format's" {
	awq_llama
	# By hand, per instance: q/k/v/o_proj (K = N = 8) qweight 8x1x4 = 32,
	# qzeros 2x1x4 = 8, scales 2x8x2 = 32: 72; gate/up_proj (K = 8, N = 16)
	# 64 + 16 + 64 = 144; down_proj (K = 16, N = 8) 64 + 16 + 64 = 144.  lmp's
	# AWQ format: K x N x 4/8 + K/4 x N x (16 + 4)/8: 32 + 40 = 72, 64 + 80 =
	# 144, 64 + 80 = 144.  The same: lmp-eval accepts them.
	lmp-inspect --check-weights "$M" > "$BATS_TEST_TMPDIR/a.json"
	[ "$(jq -c '[.model.checkpoint.tensors[] | select(.logical) | .logical.bytes]' "$BATS_TEST_TMPDIR/a.json")" = '[72,72,72,72,144,144,144]' ]
	# and mapped back, every weight is compared by shape: none left unchecked
	run sh -c "lmp-populate '$BATS_TEST_TMPDIR/a.json' | lmp-eval --seq-len 1 | jq -c .weights_check.unchecked_quantized"
	[ "$status" -eq 0 ]
	[ "$output" = '{"paths":0,"tensors":0,"parameters":0}' ]
	# a checkpoint whose q_proj stores 80 bytes an instance is refused
	jq '(.model.checkpoint.tensors[] | select(.name == "model.layers.*.self_attn.q_proj.qweight") | .logical.bytes) = 80' \
		"$BATS_TEST_TMPDIR/a.json" | lmp-populate > "$BATS_TEST_TMPDIR/p.json"
	run_split lmp-eval --seq-len 1 "$BATS_TEST_TMPDIR/p.json"
	assert_clean_failure lmp-eval "weights check: model.layers.*.self_attn.q_proj: its weight format stores 72 bytes an instance (bias aside), the checkpoint's model.layers.*.self_attn.q_proj.qweight with its scales and zeros 80"
}
