#!/bin/sh
# Wrong on the first try (a breakdown that does not add up), right once the
# refusal comes back in its prompt: it answers well only when the prompt
# holds the refusal section and the check's words.  With RETRY_PROMPTS=DIR
# it keeps each prompt it got there (1.txt, 2.txt...).
prompt=$(cat)
cls=$(printf '%s\n' "$prompt" | sed -n 's/^CLASS: //p' | head -n 1)
if [ -n "${RETRY_PROMPTS:-}" ]; then
	n=$(($(ls "$RETRY_PROMPTS" | wc -l) + 1))
	printf '%s\n' "$prompt" > "$RETRY_PROMPTS/$n.txt"
fi
if printf '%s\n' "$prompt" | grep -q '^## Your previous answer was refused$' &&
   printf '%s\n' "$prompt" | grep -q 'the breakdown does not add up to the FLOPs formula'; then
	bd='{"rot": "${tokens} * (${head_dim} - ${rotary_dim})", "pass": "${tokens} * (${head_dim} - ${rotary_dim})"}'
else
	bd='{"rot": "${tokens} * ${rotary_dim}", "pass": "${tokens} * ${head_dim}"}'
fi
# head_dim before rotary_dim: sample values in parameter order would make
# head_dim the smaller
jq -n --arg c "$cls" --argjson bd "$bd" '{full_class_name: $c, kind: "leaf",
 parameters: [{name: "head_dim", type: "int"}, {name: "rotary_dim", type: "int"}, {name: "tokens", type: "int"}],
 flop_analysis: {thinking_process: "the part of each head past the rotary part", formula: "2 * ${tokens} * (${head_dim} - ${rotary_dim})", breakdown: $bd},
 memory_analysis: {thinking_process: "none", weights: "0", reads: "0", writes: "0", intermediates: "0"},
 param_count: "0", state: "0"}'
