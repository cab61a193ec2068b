#!/usr/bin/env bats
# The fused sweep: lmp-eval --hardware (with lmp-roofline's other options)
# writes, in one process, exactly what lmp-eval | lmp-roofline writes.

load helper

# same ARGS -- ROOFLINE-ARGS: the fused form and the pipe, byte for byte
same() {
	local args=() ro=()
	while [ "$1" != -- ]; do args+=("$1"); shift; done
	shift
	ro=("$@")
	lmp-eval "${args[@]}" "${ro[@]}" "$LLAMA2" > "$BATS_TEST_TMPDIR/fused" || fail "fused: ${args[*]} ${ro[*]}"
	lmp-eval "${args[@]}" "$LLAMA2" | lmp-roofline "${ro[@]}" > "$BATS_TEST_TMPDIR/pipe" || fail "pipe: ${args[*]} ${ro[*]}"
	[ -s "$BATS_TEST_TMPDIR/fused" ] || fail "no output"
	cmp "$BATS_TEST_TMPDIR/fused" "$BATS_TEST_TMPDIR/pipe" || fail "${args[*]} ${ro[*]}: the fused form differs"
}

@test "lmp-eval --hardware writes lmp-eval | lmp-roofline's documents byte for byte: rows and --totals, every point" {
	local cal="$ROOT/share/lmp/calibration/corpus.json" rows
	for rows in "" --totals; do
		same $rows --batch-size 1,4 --seq-len 128,1024 -- --hardware nvidia-h100-sxm
		same $rows --batch-size 1,4 --seq-len 128,1024 -- --hardware nvidia-h100-sxm --calibration "$cal"
		same $rows --batch-size 2 --prompt-len 512 --gen-len 16 -- --hardware nvidia-a100-sxm-80gb --calibration "$cal" \
			--compute-efficiency 0.9 --memory-efficiency 0.8
		same $rows --tp 1,2 --batch-size 3 --prompt-len 100 --gen-len 5 -- --hardware nvidia-h100-sxm --gpus-per-node 1
		same $rows --batch-size 1 --seq-len 1 --cache-len 4095 --pretty -- --hardware nvidia-h100-sxm --ideal --unfused --pretty
	done
	# 4 documents of a 2 x 2 sweep
	run sh -c "lmp-eval --totals --hardware nvidia-h100-sxm --batch-size 1,4 --seq-len 128,1024 '$LLAMA2' | jq -r .lmp"
	[ "$output" = "$(printf 'roofline\nroofline\nroofline\nroofline')" ]
}

@test "lmp-eval --hardware: lmp-roofline's errors and options, one line each" {
	run_split lmp-eval --hardware no-such-device --seq-len 128 "$LLAMA2"
	assert_clean_failure lmp-eval "no-such-device"
	run_split lmp-eval --calibration none --seq-len 128 "$LLAMA2"
	assert_clean_failure lmp-eval "lmp-roofline's options need --hardware NAME"
	run_split lmp-eval --hardware nvidia-h100-sxm --compute-efficiency 2 --seq-len 128 "$LLAMA2"
	assert_clean_failure lmp-eval "--compute-efficiency: '2' is not a fraction in (0, 1]"
	run_split lmp-eval --hardware nvidia-h100-sxm --params torch.nn.modules.linear.Linear
	assert_clean_failure lmp-eval "--hardware times documents: not with --module or --params"
	# a layout lmp-roofline refuses, refused alike
	run_split lmp-eval --hardware nvidia-h100-sxm --devices 4 --tp 2 --seq-len 128 "$LLAMA2"
	assert_clean_failure lmp-eval "--devices 4 disagrees with the document's layout: tp x pp x dp = 2"
}
