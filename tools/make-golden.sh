#!/bin/sh
# make golden: the reference reports the tests compare lmp-report with, for
# two shipped models: Llama-2-7B prefilling 2048 tokens on an H100 SXM, and
# Qwen3-30B-A3B (mixture of experts) generating on an A100 80GB.  Review
# the diff before committing: a change here is a change users see.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/test/golden}
PATH="$root/bin:$PATH"
export LC_ALL=C
# the golden reports are transformers' forward (lmp-engine(5))
export LMP_ENGINE=transformers
# and the pure roofline: the ideal terms, no calibration (lmp-roofline(1))
export LMP_CALIBRATION=none
mkdir -p "$out"
lmp-eval --batch-size 1 --seq-len 2048 "$root/models/meta-llama--Llama-2-7b-hf.populated.json" |
	lmp-roofline --hardware nvidia-h100-sxm > "$out/llama2-7b-prefill-h100.json"
lmp-eval --batch-size 4 --prompt-len 128 --gen-len 4 "$root/models/Qwen--Qwen3-30B-A3B.populated.json" |
	lmp-roofline --hardware nvidia-a100-sxm-80gb > "$out/qwen3-30b-a3b-generate-a100.json"
for j in "$out"/*.json; do
	for f in text md csv; do
		lmp-report --format $f "$j" > "${j%.json}.$f"
	done
done
