#!/bin/sh
# make readme: the parts of README.md that are generated, so that they stay
# true: the table of model families (from share/lmp/archs, share/lmp/configs
# and the parameter counts of models/), the table of devices (from
# share/lmp/hardware), the example and its output, and the roofline chart
# the README shows (docs/).  Writes README.md and docs/ under DIR (default:
# the checkout).  The console examples after it run as a user runs them,
# with the default engine and calibration, so that their output is what
# a user sees.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root}
PATH="$root:$root/bin:$PATH"
export LC_ALL=C HF_HUB_CACHE=/nonexistent HF_HUB_OFFLINE=1
# the shipped tables are transformers' forward, as the tests derive them (lmp-engine(5))
export LMP_ENGINE=transformers
# and the pure roofline, as make-golden.sh makes them, whatever the caller's
# LMP_CALIBRATION: the example's report says so (its time model line)
export LMP_CALIBRATION=none
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# model_type | what it has | shipped models with their parameter counts
families() {
	echo '| model_type | architecture | shipped models (parameters; active per token) |'
	echo '| --- | --- | --- |'
	for t in "$root"/share/lmp/archs/*.json; do
		mt=$(jq -r .model_type "$t")
		models=
		for cfg in "$root"/share/lmp/configs/*/*/config.json; do
			[ "$(jq -r 'if .text_config then .text_config.model_type else .model_type end' "$cfg")" = "$mt" ] || continue
			id=${cfg#"$root/share/lmp/configs/"}
			id=${id%/config.json}
			doc="$root/models/$(printf '%s' "$id" | sed 's|/|--|').populated.json"
			n=$(lmp-eval --totals --seq-len 1 "$doc" |
				jq -r '.totals | (.param_count / 1e9 * 100 | round / 100 | tostring) + " B" +
					(if .active_param_count != .param_count
					 then "; " + (.active_param_count / 1e9 * 100 | round / 100 | tostring) + " B" else "" end)')
			models="$models${models:+, }${id#*/} ($n)"
		done
		printf '| `%s` | %s | %s |\n' "$mt" "$(jq -r '.summary // ""' "$t")" "$models"
	done
	refused=
	for cfg in "$root"/share/lmp/configs/*/*/config.json; do
		mt=$(jq -r 'if .text_config then .text_config.model_type else .model_type end' "$cfg")
		[ -f "$root/share/lmp/archs/$mt.json" ] && continue
		id=${cfg#"$root/share/lmp/configs/"}
		refused="$refused${refused:+, }${id%/config.json} (\`$mt\`)"
	done
	if [ -n "$refused" ]; then
		echo
		echo "Shipped but refused with a clear error until their templates land: $refused."
	fi
}

# id | name | dense 16-bit and 8-bit peaks | memory | bandwidth | links
# (scale-up and scale-out GB/s each direction per device, devices per node)
devices() {
	echo '| device | name | bf16/fp16 TFLOP/s | fp8/int8 TFLOP/s | memory GiB | TB/s | scale-up GB/s (per node) | scale-out GB/s |'
	echo '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |'
	for h in "$root"/share/lmp/hardware/*.json; do
		jq -r '.peak_flops as $p | .interconnect as $l |
			def tf(x): if x then (x.value / 1e12 * 10 | round / 10 | tostring) else "-" end;
			def gb(x): if x.value then (x.value / 1e9 * 100 | round / 100 | tostring) else "?" end;
			"| `\(.id)` | \(.name) | \(tf($p.bf16 // $p.fp16)) | \(tf($p.fp8 // $p.int8)) | \(.memory_capacity_bytes.value / 1073741824 | round) | \(.memory_bandwidth_bytes_per_s.value / 1e12 * 100 | round / 100) | \(gb($l.scale_up.bytes_per_s)) (\($l.scale_up.gpus_per_node.value)) | \(gb($l.scale_out.bytes_per_s)) |"' "$h"
	done
}

example() {
	cmd='./pipeline.sh meta-llama/Llama-3.1-8B --hardware nvidia-h100-sxm --totals --engine transformers \
    --batch-size 1,8,64 --prompt-len 1024 --gen-len 256 --format text'
	echo '```console'
	echo "\$ $cmd"
	(cd "$root" && eval "$cmd")
	echo '```'
}

# A console block: each command as shown, then what it writes, run as a
# user runs it (the default engine and the shipped calibration) with
# M=models/meta-llama--Llama-2-7b-hf.populated.json.
console() {
	echo '```console'
	for cmd in "$@"; do
		echo "\$ $cmd"
		(cd "$root" && M=models/meta-llama--Llama-2-7b-hf.populated.json env -u LMP_ENGINE -u LMP_CALIBRATION \
			PATH="$PATH" sh -c "$cmd")
	done
	echo '```'
}

consoles() {
	console "bin/lmp-inspect meta-llama/Llama-3.1-8B | bin/lmp-ensure | bin/lmp-populate |
    bin/lmp-eval --totals --seq-len 1 --cache-len 8191 | jq -c '[.totals.param_count, .totals.state_bytes]'" \
		> "$tmp/tools"
	console 'M=models/meta-llama--Llama-2-7b-hf.populated.json' \
		'bin/lmp-eval --totals --batch-size 8 --seq-len 1 --cache-len 4095 < $M | jq -c .totals' > "$tmp/decode-step"
	console 'bin/lmp-eval --batch-size 8 --prompt-len 1024 --gen-len 128 < $M |
    bin/lmp-roofline --hardware nvidia-h100-sxm |
    jq -c '"'"'{ttft_s: .totals.ttft_s, tpot_s: .totals.tpot_s, tokens_per_s: .totals.tokens_per_s, fits: .fit.fits, max_batch_size: .fit.max_batch_size}'"'" \
		> "$tmp/request"
	console 'bin/lmp-eval --totals --batch-size 1,8,64 --prompt-len 1024 --gen-len 128 --hardware nvidia-h100-sxm \
    --fields runtime.batch_size,totals.ttft_s,totals.tpot_s,fit.fits < $M' > "$tmp/fields"
}

# Replace what lies between <!-- NAME:begin --> and <!-- NAME:end -->.
splice() {
	name=$1 file=$2 part=$3
	awk -v b="<!-- $name:begin -->" -v e="<!-- $name:end -->" -v part="$part" '
		$0 == b { print; while ((getline l < part) > 0) print l; skip = 1; next }
		$0 == e { skip = 0 }
		!skip' "$file" > "$file.new"
	mv "$file.new" "$file"
}

families > "$tmp/families"
devices > "$tmp/devices"
example > "$tmp/example"
consoles
mkdir -p "$out/docs"
[ "$out" = "$root" ] || cp "$root/README.md" "$out/README.md"
for part in families devices example tools decode-step request fields; do
	grep -q "<!-- $part:begin -->" "$out/README.md" || { echo "make-readme: README.md has no $part markers" >&2; exit 1; }
	splice "$part" "$out/README.md" "$tmp/$part"
done
# The picture: a 2048-token prompt and 256 generated tokens of Llama-2-7B on an H100.
pipeline.sh meta-llama/Llama-2-7b-hf --hardware nvidia-h100-sxm --batch-size 1 \
	--prompt-len 2048 --gen-len 256 --format svg > "$out/docs/roofline-llama-2-7b-h100.svg"
