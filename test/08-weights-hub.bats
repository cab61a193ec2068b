#!/usr/bin/env bats
# lmp-inspect --check-weights HUB_ID when the checkpoint is not on disk: the
# safetensors headers fetched from the hub by HTTP range requests, against
# the local test server (test/httpd.c serving a directory of files built
# here: the real format, tiny shapes).  The inventory must be the one the
# local read of the same files gives; the server's log shows what was asked.

load helper
load ckpt # mkst

CFG="$ROOT/share/lmp/configs"
C=0123456789abcdef0123456789abcdef01234567 # the commit the test server names

setup() {
	export HF_HUB_CACHE="$BATS_TEST_TMPDIR/hub"
	unset HF_HOME HF_TOKEN HF_TOKEN_PATH HF_ENDPOINT HF_HUB_OFFLINE LMP_HTTP_TIMEOUT
	D="$BATS_TEST_TMPDIR/srv"
	LOG="$BATS_TEST_TMPDIR/requests"
	mkdir -p "$D"
	cp "$CFG/meta-llama/Llama-2-7b-hf/config.json" "$D/"
}

teardown() {
	[ -z "${HUB_PID:-}" ] || kill "$HUB_PID" 2>/dev/null || true
}

# The server over $D; every request is logged as "PATH RANGE" or "PATH -".
start_hub() {
	"$ROOT/test/httpd" "$BATS_TEST_TMPDIR/port" "$D/config.json" "$D" "$LOG" &
	HUB_PID=$!
	for i in $(seq 50); do [ -s "$BATS_TEST_TMPDIR/port" ] && break; sleep 0.1; done
	export HF_ENDPOINT="http://127.0.0.1:$(cat "$BATS_TEST_TMPDIR/port")"
}

# The checkpoint as the local read of $D records it, and as the hub fetch
# does, without the keys that say where it came from.
local_inventory() {
	lmp-inspect --check-weights "$D" | jq -c '.model.checkpoint | del(.directory)'
}
fetched_inventory() {
	jq -c '.model.checkpoint | del(.hub, .fetched_bytes)' <<<"$1"
}

# nothing of the checkpoint in the cache: the config download's files only
no_weights_cached() {
	[ -z "$(find "$HF_HUB_CACHE" -name '*safetensors*' 2>/dev/null)" ] || fail "safetensors files in the cache"
	local b
	for b in $(find "$HF_HUB_CACHE" -path '*/blobs/*' -type f); do
		cmp -s "$b" "$D/config.json" || fail "a blob that is not the config: $b"
	done
}

# snapshot ORG/NAME: a cache snapshot at $C holding only the config; its path
snapshot() {
	local r="$HF_HUB_CACHE/models--${1%/*}--${1#*/}"
	mkdir -p "$r/snapshots/$C" "$r/refs"
	printf %s "$C" > "$r/refs/main"
	cp "$D/config.json" "$r/snapshots/$C/"
	echo "$r/snapshots/$C"
}

H1='{"__metadata__":{"format":"pt"},"embed.weight":{"dtype":"BF16","shape":[3,2],"data_offsets":[0,12]},"norm.weight":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}'

@test "one model.safetensors: two range requests, the local read's inventory, nothing cached" {
	mkst "$D/model.safetensors" "$H1" 20
	start_hub
	run lmp-inspect --check-weights range/model
	assert_success
	[ "$(fetched_inventory "$output")" = "$(local_inventory)" ]
	# embed BF16 [3,2] = 12 bytes, norm F32 [2] = 8 bytes
	[ "$(jq -c '.model.checkpoint | [.count, .bytes, .dtypes]' <<<"$output")" = '[2,20,{"BF16":12,"F32":8}]' ]
	# at the commit the config was downloaded at; the index's 404 body is not
	# kept: 8 length bytes and the header's ${#H1} bytes are all that came
	[ "$(jq -r .model.checkpoint.hub <<<"$output")" = "range/model@$C" ]
	[ "$(jq -r .model.checkpoint.fetched_bytes <<<"$output")" = $((8 + ${#H1})) ]
	[ "$(jq -r .model.source <<<"$output")" = download ]
	run cat "$LOG"
	assert_output "/range/model/resolve/main/config.json -
/range/model/resolve/$C/model.safetensors.index.json -
/range/model/resolve/$C/model.safetensors 0-7
/range/model/resolve/$C/model.safetensors 8-$((8 + ${#H1} - 1))"
	no_weights_cached
	# the next run reads the config from the cache, whose snapshot still has
	# no weights: the headers come from the hub again
	run lmp-inspect --check-weights range/model
	assert_success
	[ "$(jq -c '[.model.source, .model.checkpoint.hub]' <<<"$output")" = "[\"hf-cache\",\"range/model@$C\"]" ]
	no_weights_cached
}

@test "an index with two shards: each shard's header once, the local read's inventory" {
	# layers 0 and 1 each BF16 [4,2] (16 bytes); the head F16 [5] (10 bytes) in shard 2
	local s1='{"model.layers.0.w":{"dtype":"BF16","shape":[4,2],"data_offsets":[0,16]}}'
	local s2='{"model.layers.1.w":{"dtype":"BF16","shape":[4,2],"data_offsets":[0,16]},"lm_head.weight":{"dtype":"F16","shape":[5],"data_offsets":[16,26]}}'
	mkst "$D/model-00001-of-00002.safetensors" "$s1" 16
	mkst "$D/model-00002-of-00002.safetensors" "$s2" 26
	echo '{"metadata":{},"weight_map":{"model.layers.0.w":"model-00001-of-00002.safetensors","model.layers.1.w":"model-00002-of-00002.safetensors","lm_head.weight":"model-00002-of-00002.safetensors"}}' > "$D/model.safetensors.index.json"
	start_hub
	run lmp-inspect --check-weights range/model
	assert_success
	[ "$(fetched_inventory "$output")" = "$(local_inventory)" ]
	[ "$(jq -c '.model.checkpoint | [.count, .bytes, .tensors[0]]' <<<"$output")" = '[3,42,{"name":"model.layers.*.w","dtype":"BF16","shape":[4,2],"count":2,"indices":["0-1"]}]' ]
	# the whole index, then 8 + header bytes of each shard
	local ix=$(stat -c %s "$D/model.safetensors.index.json")
	[ "$(jq -r .model.checkpoint.fetched_bytes <<<"$output")" = $((ix + 8 + ${#s1} + 8 + ${#s2})) ]
	run grep -c 'safetensors [0-9]' "$LOG"
	assert_output 4
	grep -qx "/range/model/resolve/$C/model-00002-of-00002.safetensors 8-$((8 + ${#s2} - 1))" "$LOG"
	no_weights_cached
}

@test "a cache snapshot without weights: fetched with the token; offline, one line" {
	mkst "$D/model.safetensors" "$H1" 20
	local snap
	snap=$(snapshot gatedrange/model)
	start_hub
	run_split lmp-inspect --check-weights gatedrange/model
	assert_clean_failure lmp-inspect "gatedrange/model is gated or private (HTTP 401): accept its license on the hub and set HF_TOKEN"
	HF_TOKEN=secret-token run lmp-inspect --check-weights gatedrange/model
	assert_success
	[ "$(fetched_inventory "$output")" = "$(local_inventory)" ]
	HF_HUB_OFFLINE=1 run_split lmp-inspect --check-weights gatedrange/model
	assert_clean_failure lmp-inspect "--check-weights: no checkpoint of gatedrange/model@$C on disk, and HF_HUB_OFFLINE forbids fetching its headers from the hub"
	# weights in the snapshot are read there, online or not
	cp "$D/model.safetensors" "$snap/"
	HF_HUB_OFFLINE=1 run lmp-inspect --check-weights gatedrange/model
	assert_success
	[ "$(jq -r .model.checkpoint.directory <<<"$output")" = "$snap" ]
}

@test "neither an index nor model.safetensors on the hub: one line" {
	start_hub
	run_split lmp-inspect --check-weights range/model
	assert_clean_failure lmp-inspect "--check-weights: no safetensors checkpoint on the hub for range/model@$C (neither model.safetensors.index.json nor model.safetensors)"
	# a shard the index names that the hub does not have
	echo '{"weight_map":{"a":"model-00001-of-00002.safetensors"}}' > "$D/model.safetensors.index.json"
	run_split lmp-inspect --check-weights range/model
	assert_clean_failure lmp-inspect "range/model@$C:model-00001-of-00002.safetensors: not on the hub (HTTP 404)"
	# a shard name that is not a plain file name never reaches a URL
	echo '{"weight_map":{"a":"x?y=1.safetensors"}}' > "$D/model.safetensors.index.json"
	run_split lmp-inspect --check-weights range/model
	assert_clean_failure lmp-inspect "shard 'x?y=1.safetensors' is not a plain file name"
	! grep -q 'x?y' "$LOG"
}

@test "a server that ignores the range, or sends more or other bytes: cut off, one line" {
	mkst "$D/model.safetensors" "$H1" 20
	# 4 GiB of (sparse) data after the header: a whole answer would be long
	truncate -s 4G "$D/model.safetensors"
	start_hub
	local t0=$SECONDS
	run_split lmp-inspect --check-weights norange/model
	assert_clean_failure lmp-inspect "norange/model@$C:model.safetensors: $HF_ENDPOINT ignored the byte range 0-7 (HTTP 200, the whole file): transfer stopped"
	[ $((SECONDS - t0)) -lt 10 ]
	# one that answers 206 but sends more than the 8 bytes asked
	run_split lmp-inspect --check-weights overrun/model
	assert_clean_failure lmp-inspect "overrun/model@$C:model.safetensors: $HF_ENDPOINT sent more than the 8 bytes asked for (0-7): transfer stopped"
	# one that answers 206 with bytes 1-8 for the 0-7 asked
	run_split lmp-inspect --check-weights shifted/model
	assert_clean_failure lmp-inspect "shifted/model@$C:model.safetensors: $HF_ENDPOINT answered the byte range 0-7 with other bytes (its Content-Range does not start at 0)"
	no_weights_cached
}

@test "a server announcing a huge header: refused before its bytes are asked for" {
	mkst "$D/model.safetensors" "$H1" 20
	start_hub
	run_split lmp-inspect --check-weights hugeheader/model
	# the server puts 104857601 = 100 MiB + 1 in the length bytes
	assert_clean_failure lmp-inspect "hugeheader/model@$C:model.safetensors: safetensors header of 104857601 bytes is over the 104857600-byte limit"
	run grep -c 'model.safetensors [0-9]' "$LOG"
	assert_output 1
	grep -qx "/hugeheader/model/resolve/$C/model.safetensors 0-7" "$LOG"
}

@test "a bad header or a short file on the hub: the local read's errors" {
	# a length past the end of the file (Content-Range gives its size)
	mkst "$D/model.safetensors" "$H1" 20
	printf '\377\377\000\000\000\000\000\000' | dd of="$D/model.safetensors" conv=notrunc status=none
	start_hub
	run_split lmp-inspect --check-weights range/model
	assert_clean_failure lmp-inspect "range/model@$C:model.safetensors: safetensors header of 65535 bytes runs past the end of the file"
	printf 'abc' > "$D/model.safetensors"
	run_split lmp-inspect --check-weights range/model
	assert_clean_failure lmp-inspect "range/model@$C:model.safetensors: not a safetensors file (shorter than its 8-byte header length)"
	# data_offsets past the data the file holds
	mkst "$D/model.safetensors" '{"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}' 2
	run_split lmp-inspect --check-weights range/model
	assert_clean_failure lmp-inspect "tensor a: data_offsets lie outside the 2 data bytes of range/model@$C:model.safetensors"
}

@test "a hub that never answers: the download's timeout, per request" {
	snapshot hang/model >/dev/null
	start_hub
	local t0=$SECONDS
	LMP_HTTP_TIMEOUT=2 run_split lmp-inspect --check-weights hang/model
	assert_clean_failure lmp-inspect "hang/model@$C:model.safetensors.index.json: no answer from $HF_ENDPOINT within 2 s"
	[ $((SECONDS - t0)) -lt 10 ]
	LMP_HTTP_TIMEOUT=0 run_split lmp-inspect --check-weights hang/model
	assert_clean_failure lmp-inspect "LMP_HTTP_TIMEOUT='0': not a number of seconds in [1, 3600]"
	[ "$status" -eq 2 ]
}
