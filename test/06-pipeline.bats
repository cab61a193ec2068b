#!/usr/bin/env bats
# pipeline.sh: the chain in one command, options routed to their tools.

load helper

@test "pipeline.sh equals the chain it runs, and takes the seeds' spellings" {
	run "$ROOT/pipeline.sh" meta-llama/Llama-2-7b-hf --batch_size 2 --seq_len=128 --totals
	assert_success
	[ "$output" = "$(lmp-eval --batch-size 2 --seq-len 128 --totals < "$LLAMA2")" ]
	run "$ROOT/pipeline.sh" --model_id meta-llama/Llama-2-7b-hf --prompt-len 64 --gen-len 8 \
		--hardware nvidia-h100-sxm --memory-efficiency 0.8
	assert_success
	[ "$output" = "$(lmp-eval --prompt-len 64 --gen-len 8 < "$LLAMA2" | lmp-roofline --hardware nvidia-h100-sxm --memory-efficiency 0.8)" ]
	# a populated document goes straight to lmp-eval
	run "$ROOT/pipeline.sh" "$LLAMA2" --seq-len 5 --totals
	[ "$output" = "$(lmp-eval --seq-len 5 --totals < "$LLAMA2")" ]
}

@test "pipeline.sh fails clearly" {
	HF_HUB_OFFLINE=1 run --separate-stderr "$ROOT/pipeline.sh" nobody/nothing
	[ "$status" -eq 1 ]
	[[ "$stderr" == "lmp-inspect: nobody/nothing@main is neither in the HuggingFace cache nor shipped"* ]]
	run --separate-stderr "$ROOT/pipeline.sh" meta-llama/Llama-2-7b-hf --colour blue
	[ "$status" -eq 2 ]
	[ "$stderr" = "pipeline.sh: unknown option --colour" ]
	run --separate-stderr "$ROOT/pipeline.sh" meta-llama/Llama-2-7b-hf --seq-len 0
	[ "$status" -eq 2 ]
	[[ "$stderr" == "lmp-eval: --seq-len: '0' is not an integer"* ]]
	run --separate-stderr "$ROOT/pipeline.sh" meta-llama/Llama-2-7b-hf --hardware nope
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "$stderr" == "lmp-roofline: unknown device 'nope'"* ]]
}

@test "pipeline.sh passes values with quotes through intact" {
	cp "$ROOT/share/lmp/hardware/nvidia-h100-sxm.json" "$BATS_TEST_TMPDIR/it's a device.json"
	run "$ROOT/pipeline.sh" meta-llama/Llama-2-7b-hf --totals --seq-len 1 --hardware "$BATS_TEST_TMPDIR/it's a device.json"
	assert_success
	[ "$(jq -r .roofline.hardware <<<"$output")" = nvidia-h100-sxm ]
}

@test "the Transformer Roofline Analyzer's query lists become a mixed step" {
	# --cached-tokens 100 200 --input-tokens 5 7, twice each: queries 5:100x2 and 7:200x2
	run "$ROOT/pipeline.sh" meta-llama/Llama-2-7b-hf --cached-tokens 100 200 --input-tokens 5 7 --batch-size 2 --totals
	assert_success
	[ "$output" = "$(lmp-eval --totals --queries 5:100x2,7:200x2 < "$LLAMA2")" ]
	run --separate-stderr "$ROOT/pipeline.sh" meta-llama/Llama-2-7b-hf --cached-tokens 1 --input-tokens 1 2
	[ "$status" -eq 2 ]
	[ "$stderr" = "pipeline.sh: --input-tokens and --cached-tokens need as many numbers each" ]
}
