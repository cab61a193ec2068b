# Tiny safetensors checkpoints for the tests: the real format (8-byte
# little-endian header length, the JSON header, the data) with tiny shapes.

# mkst FILE HEADER DATA [LENGTH]: a safetensors file: LENGTH (default the
# header's) as 8 little-endian bytes, the header, DATA zero bytes.
mkst() {
	local n=${4:-${#2}} oct=""
	for i in 0 1 2 3 4 5 6 7; do oct="$oct$(printf '\\%03o' $((n >> (8 * i) & 255)))"; done
	printf "$oct" > "$1"
	printf '%s' "$2" >> "$1"
	head -c "$3" /dev/zero >> "$1"
}

# ckpt FILE NAME:D1xD2[:I32] ...: a safetensors file holding those tensors,
# BF16 unless I32 is given.
ckpt() {
	local f=$1 h="" off=0 name dims n dt
	shift
	for t in "$@"; do
		name=${t%%:*} dims=${t#*:} dt=BF16
		case $dims in *:I32) dims=${dims%:I32} dt=I32 ;; esac
		n=$((${dims//x/*} * (${#dt} == 3 ? 4 : 2)))
		h="$h${h:+,}\"$name\":{\"dtype\":\"$dt\",\"shape\":[${dims//x/,}],\"data_offsets\":[$off,$((off + n))]}"
		off=$((off + n))
	done
	mkst "$f" "{$h}" "$off"
}

# llama_layer L [Q] [I] [H]: the tensors of one Llama layer L at hidden H
# (default 8) with one KV head of H/2, MLP width I (default 12), q_proj's
# shape Q (default HxH).
llama_layer() {
	local p=model.layers.$1 h=${4:-8} i=${3:-12}
	local kv=$((h / 2))
	echo "$p.input_layernorm.weight:$h $p.self_attn.q_proj.weight:${2:-${h}x$h} $p.self_attn.k_proj.weight:${kv}x$h" \
		"$p.self_attn.v_proj.weight:${kv}x$h $p.self_attn.o_proj.weight:${h}x$h $p.post_attention_layernorm.weight:$h" \
		"$p.mlp.gate_proj.weight:${i}x$h $p.mlp.up_proj.weight:${i}x$h $p.mlp.down_proj.weight:${h}x$i"
}
