# Shared set-up of the bats files: the checkout's tools first on PATH, the
# Debian bats libraries, and the shipped documents.
ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
PATH="$ROOT/bin:$PATH"
export LC_ALL=C
unset LMP_DB LMP_DATADIR
# No user templates (lmp-arch(5)) unless a test makes some.
unset LMP_ARCH_PATH
export XDG_DATA_HOME=/nonexistent/data-home
# Tests are derived under transformers' forward (the documents lmp wrote
# before engines): the engine lmp-eval takes without --engine
# (lmp-engine(5)).  Tests of an engine pass --engine or unset it.
export LMP_ENGINE=transformers
# Tests are derived under the pure roofline: no calibration file, the ideal
# terms (lmp-roofline(1) TIME MODEL); tests of the time model set their own.
export LMP_CALIBRATION=none
bats_require_minimum_version 1.5.0
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

LLAMA2="$ROOT/models/meta-llama--Llama-2-7b-hf.populated.json"
LL=transformers.models.llama.modeling_llama

# run_split: like run, with stdout in $output and stderr in $stderr.
run_split() {
	run --separate-stderr "$@"
}

# A failure of a tool: non-zero status, nothing on stdout, one stderr line
# "lmp-TOOL: ..." that contains $2.
assert_clean_failure() {
	local tool=$1 want=$2
	[ "$status" -ne 0 ] || fail "expected failure, got status 0"
	[ -z "$output" ] || fail "stdout not empty: $output"
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ] || fail "stderr is not one line: $stderr"
	case "$stderr" in
	"$tool: "*"$want"*) ;;
	*) fail "stderr '$stderr' lacks '$tool: ...$want'" ;;
	esac
}

# FLOPs of Llama-2-7B for B sequences of S tokens (prefill), derived as in
# test/04-eval.bats: per layer projections, rotary, attention, MLP, norms,
# adds; once the cos/sin table, the final norm and the logits of B rows.
prefill_flops() {
	local B=$1 S=$2 H=4096 I=11008
	local N=$((B * S)) P=$((B * S * S))
	local layer=$(( 4*2*N*H*H + N*64*448 + 2*32*P*256 + 6*32*P + 3*2*N*H*I + 4*N*I + N*I + 2*(4*N*H + 3*N) + 2*N*H ))
	echo $(( 32 * layer + 5*N*128 + 4*N*H + 3*N + 2*B*H*32000 ))
}

# flash_pairs_g S C BM BN G [WL]: flash_pairs for FA3's packed GQA, G query
# heads of one KV head packed into the tile's rows: S x G rows, row r being
# query r / G, so tile i's last row sees C + (end - 1) / G + 1 keys.  Under
# a sliding window of WL keys left of a query (window - 1) the tile starts
# at the K/V tile of its first row's query's first key, C + i BM / G - WL,
# where that is past 0.
flash_pairs_g() {
	local s=$1 c=$2 bm=$3 bn=$4 g=$5 wl=${6:--1} i end need load first rows=$(($1 * $5)) pairs=0 keys=0
	for ((i = 0; i * bm < rows; i++)); do
		end=$(( (i + 1) * bm < rows ? (i + 1) * bm : rows ))
		need=$(( c + (end - 1) / g + 1 ))
		load=$(( (need + bn - 1) / bn * bn ))
		(( load > c + s )) && load=$(( c + s ))
		first=$(( c + i * bm / g - wl ))
		(( wl >= 0 && first > 0 )) && load=$(( load - first / bn * bn ))
		pairs=$(( pairs + (end - i * bm) * load ))
		keys=$(( keys + load ))
	done
	echo "$pairs $keys"
}

# flash_pairs S C BM BN: the scores FlashAttention computes for one head (or
# one packed row block) of a sequence of S new tokens over C cached, and the
# keys its query tiles load: tile i holds rows i*BM .. min((i+1)*BM, S) - 1,
# whose last row sees C + end keys; the tile loads whole K/V tiles of BN keys
# up to there, none past the sequence's C + S.
flash_pairs() {
	local s=$1 c=$2 bm=$3 bn=$4 i end need load pairs=0 keys=0
	for ((i = 0; i * bm < s; i++)); do
		end=$(( (i + 1) * bm < s ? (i + 1) * bm : s ))
		need=$(( c + end ))
		load=$(( (need + bn - 1) / bn * bn ))
		(( load > c + s )) && load=$(( c + s ))
		pairs=$(( pairs + (end - i * bm) * load ))
		keys=$(( keys + load ))
	done
	echo "$pairs $keys"
}
