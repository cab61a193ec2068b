#!/bin/sh
# Make the fuzz targets' seed corpora (fuzz/corpus/TARGET) from the shipped
# data.  Run after the data changed a lot; the corpora are kept in git so a
# replay is the same everywhere.
cd "$(dirname "$0")/.." || exit 1
set -e
c=fuzz/corpus
rm -rf "$c"
mkdir -p "$c/json" "$c/formula" "$c/inspect" "$c/roofline"

# Each line of the input, one file per line, named by its content's hash.
lines_to() {
	while IFS= read -r line; do
		h=$(printf '%s' "$line" | sha1sum | cut -c1-40)
		printf '%s' "$line" >"$1/$h"
	done
}

# inspect: every shipped config, multimodal ones included.
find share/lmp/configs -name config.json | sort | while read -r f; do
	n=$(dirname "${f#share/lmp/configs/}" | tr / -)
	cp "$f" "$c/inspect/$n.json"
done

# json: the configs, templates and devices as they are, the documents of a
# few shipped models, and streams of documents (compact, one per line).
cp "$c"/inspect/*.json "$c/json/"
for f in share/lmp/archs/*.json; do cp "$f" "$c/json/arch-${f##*/}"; done
for f in share/lmp/hardware/*.json; do cp "$f" "$c/json/hardware-${f##*/}"; done
for m in meta-llama--Llama-2-7b-hf openai-community--gpt2 mistralai--Mixtral-8x7B-v0.1; do
	for k in arch populated; do
		[ -f "models/$m.$k.json" ] && cp "models/$m.$k.json" "$c/json/model-$m.$k.json"
	done
done
jq -c . share/lmp/hardware/*.json >"$c/json/stream-hardware.ndjson"
jq -c . "$c"/inspect/*.json >"$c/json/stream-configs.ndjson"

# formula: every formula of the database, and the templates' expressions.
{
	jq -r '.entries[] | [.flop_analysis.formula, (.flop_analysis.breakdown // {} | .[]),
		(.memory_analysis // {} | .[]?), .param_count, .state] | .[] | strings' module_db.json
	jq -r '.. | strings | select(test("[{}()*/+?<>]"))' share/lmp/archs/*.json
} | sort -u | lines_to "$c/formula"

# roofline: lmp-eval's documents of each kind lmp-roofline reads from its
# text (one step with kernels or rows, a layout, requests with chunks and
# with decode pieces, fp8 weight formats, a tied head, a mix of queries),
# one per file.
make --no-print-directory bin/lmp-eval >/dev/null
llama=models/meta-llama--Llama-2-7b-hf.populated.json
{
	./bin/lmp-eval --totals --batch-size 3 --seq-len 100 "$llama"
	./bin/lmp-eval --batch-size 3 --seq-len 100 "$llama"
	./bin/lmp-eval --totals --tp 2 --pp 2 --batch-size 3 --seq-len 100 "$llama"
	./bin/lmp-eval --tp 2 --batch-size 2 --seq-len 1 --cache-len 300 "$llama"
	./bin/lmp-eval --totals --engine trtllm --batch-size 3 --prompt-len 100 --gen-len 40 "$llama"
	./bin/lmp-eval --engine vllm --batch-size 16 --prompt-len 1024 --gen-len 3 "$llama"
	./bin/lmp-eval --totals --batch-size 2 --seq-len 10 models/deepseek-ai--DeepSeek-V3.populated.json
	./bin/lmp-eval --batch-size 2 --seq-len 8 models/openai-community--gpt2.populated.json
	./bin/lmp-eval --totals --engine vllm --batch-size 2 --prompt-len 100 --gen-len 700 \
		models/mistralai--Mistral-7B-v0.1.populated.json
	./bin/lmp-eval --totals --queries 100:0,1:500x3 "$llama"
} | lines_to "$c/roofline"

# Keep only the inputs that add coverage (libFuzzer's merge), so the corpora
# stay small and their replay fast.
make --no-print-directory fuzz/build/json fuzz/build/formula fuzz/build/inspect fuzz/build/roofline >/dev/null
for t in json formula inspect roofline; do
	rm -rf "$c/$t.min" && mkdir "$c/$t.min"
	./fuzz/build/"$t" -merge=1 "$c/$t.min" "$c/$t" >/dev/null 2>&1
	rm -rf "$c/$t" && mv "$c/$t.min" "$c/$t"
	echo "$t: $(ls "$c/$t" | wc -l) files, $(du -sk "$c/$t" | cut -f1) KiB"
done
