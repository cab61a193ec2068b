#!/usr/bin/env bats
# lmp-inspect --check-weights: the safetensors headers beside a config (a
# model directory or a cache snapshot) recorded as model.checkpoint.  The
# checkpoints are built here: the real format with tiny shapes.

load helper

CFG="$ROOT/share/lmp/configs"

setup() {
	export HF_HUB_CACHE="$BATS_TEST_TMPDIR/hub"
	unset HF_HOME HF_TOKEN HF_ENDPOINT HF_HUB_OFFLINE
	M="$BATS_TEST_TMPDIR/m"
	mkdir -p "$M"
	cp "$CFG/meta-llama/Llama-2-7b-hf/config.json" "$M/"
}

# mkst FILE HEADER DATA [LENGTH]: a safetensors file: LENGTH (default the
# header's) as 8 little-endian bytes, the header, DATA zero bytes.
mkst() {
	local n=${4:-${#2}} oct=""
	for i in 0 1 2 3 4 5 6 7; do oct="$oct$(printf '\\%03o' $((n >> (8 * i) & 255)))"; done
	printf "$oct" > "$1"
	printf '%s' "$2" >> "$1"
	head -c "$3" /dev/zero >> "$1"
}

@test "one file: tensors, dtypes, elements and bytes summed" {
	# embed BF16 [3,2]: 6 elements, 12 bytes; norm F32 [2]: 2 elements, 8 bytes.
	mkst "$M/model.safetensors" '{"__metadata__":{"format":"pt"},"embed.weight":{"dtype":"BF16","shape":[3,2],"data_offsets":[0,12]},"norm.weight":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}' 20
	run lmp-inspect --check-weights "$M/config.json"
	[ "$status" -eq 0 ]
	c=$(jq -c '.model.checkpoint | [.count, .elements, .bytes, .dtypes]' <<<"$output")
	[ "$c" = '[2,8,20,{"BF16":12,"F32":8}]' ]
	[ "$(jq -r .model.checkpoint.directory <<<"$output")" = "$M" ]
}

@test "an index with two shards: layer indices folded, equal shapes merged" {
	# layers 0 and 1 each BF16 [4,2] = 8 elements, 16 bytes: one row, count 2.
	mkst "$M/model-00001-of-00002.safetensors" '{"model.layers.0.w":{"dtype":"BF16","shape":[4,2],"data_offsets":[0,16]}}' 16
	mkst "$M/model-00002-of-00002.safetensors" '{"model.layers.1.w":{"dtype":"BF16","shape":[4,2],"data_offsets":[0,16]}}' 16
	echo '{"metadata":{},"weight_map":{"model.layers.0.w":"model-00001-of-00002.safetensors","model.layers.1.w":"model-00002-of-00002.safetensors"}}' > "$M/model.safetensors.index.json"
	run lmp-inspect --check-weights "$M"
	[ "$status" -eq 0 ]
	[ "$(jq -c '.model.checkpoint.tensors' <<<"$output")" = '[{"name":"model.layers.*.w","dtype":"BF16","shape":[4,2],"count":2}]' ]
	[ "$(jq -c '.model.checkpoint | [.count, .bytes]' <<<"$output")" = '[2,32]' ]
}

@test "a cache snapshot: the headers beside the snapshot's config" {
	commit=0123456789abcdef0123456789abcdef01234567
	snap="$HF_HUB_CACHE/models--org--tiny/snapshots/$commit"
	mkdir -p "$snap" "$HF_HUB_CACHE/models--org--tiny/refs"
	printf %s "$commit" > "$HF_HUB_CACHE/models--org--tiny/refs/main"
	cp "$M/config.json" "$snap/"
	mkst "$snap/model.safetensors" '{"lm_head.weight":{"dtype":"F16","shape":[5],"data_offsets":[0,10]}}' 10
	run lmp-inspect --check-weights org/tiny
	[ "$status" -eq 0 ]
	[ "$(jq -c '.model.checkpoint | [.count, .bytes, .tensors[0].name]' <<<"$output")" = '[1,10,"lm_head.weight"]' ]
}

@test "bad checkpoints: one clean line each" {
	mkst "$M/model.safetensors" '{"a":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}' 2 $((1 << 40))
	run_split lmp-inspect --check-weights "$M/config.json"
	assert_clean_failure lmp-inspect "over the 104857600-byte limit"
	mkst "$M/model.safetensors" '{"a":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}' 2 4000
	run_split lmp-inspect --check-weights "$M/config.json"
	assert_clean_failure lmp-inspect "runs past the end of the file"
	mkst "$M/model.safetensors" 'not json at all' 0
	run_split lmp-inspect --check-weights "$M/config.json"
	assert_clean_failure lmp-inspect "not a JSON object"
	# a shard the index names but nothing holds
	echo '{"weight_map":{"x":"model-00009.safetensors"}}' > "$M/model.safetensors.index.json"
	run_split lmp-inspect --check-weights "$M/config.json"
	assert_clean_failure lmp-inspect "model-00009.safetensors"
	rm "$M"/model.safetensors*
	run_split lmp-inspect --check-weights "$M/config.json"
	assert_clean_failure lmp-inspect "no model.safetensors or model.safetensors.index.json"
	run_split lmp-inspect --check-weights meta-llama/Llama-2-7b-hf
	assert_clean_failure lmp-inspect "a shipped config has no checkpoint beside it"
}
