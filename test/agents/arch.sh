#!/bin/sh
# An architecture agent (and, for the classes its template leaves unknown,
# the good module agent).  $1: good (a template deriving from llama), key
# (an unknown key in a node), unbound (a Linear without in_features),
# shadow (an attribute named like a config field, with another value),
# plain (Llama's classes only), negative (a count below zero at a prefill),
# second (wrong first, right once the refusal comes back), wrongmlp (plain
# with gate_proj twice as wide: one tensor's shape off), wrongnew (good with
# that gate_proj), shapesecond (wrongmlp first, plain once the checkpoint's
# refusal of gate_proj comes back), newembed (plain with an embedding of its
# own class, which a tied head shares).  With ARCH_STATE set, each prompt
# is kept there as prompt.N.
prompt=$(cat)
mt=$(printf '%s\n' "$prompt" | sed -n 's/^MODEL_TYPE: //p' | head -n 1)
if [ -z "$mt" ]; then
	printf '%s\n' "$prompt" | "$(dirname "$0")/good.sh"
	exit
fi
n=1
if [ -n "${ARCH_STATE:-}" ]; then
	while [ -e "$ARCH_STATE/prompt.$n" ]; do n=$((n + 1)); done
	printf '%s\n' "$prompt" > "$ARCH_STATE/prompt.$n"
fi
mode=$1
if [ "$mode" = second ]; then
	case $prompt in
	*"previous answer was refused"*) mode=good ;;
	*) mode=key ;;
	esac
fi
if [ "$mode" = shapesecond ]; then
	case $prompt in
	*"previous answer was refused"*"weights check: model.layers.0.mlp.gate_proj.weight:"*) mode=plain ;;
	*) mode=wrongmlp ;;
	esac
fi
edit='{"at": "model.layers.mlp.act_fn", "class": "zephyrine.modeling_zephyrine.ZephyrineAct"}'
wide='{"at": "model.layers.mlp.gate_proj", "attrs": {"out_features": "2 * ${intermediate_size}"}}'
case $mode in
key) edit='{"at": "model.layers.mlp.act_fn", "class": "zephyrine.modeling_zephyrine.ZephyrineAct", "bais": 1}' ;;
unbound) edit='{"after": "model.layers.mlp.down_proj", "insert": {"name": "extra", "class": "torch.nn.modules.linear.Linear", "attrs": {"out_features": "${hidden_size}", "bias": 0}}}' ;;
plain) edit='{"at": "model.layers.mlp.act_fn", "attrs": {"elements": "{tokens} * ${intermediate_size}"}}' ;;
negative) edit='{"at": "model.layers.mlp.act_fn", "attrs": {"elements": "{tokens} * ${intermediate_size} - 100000"}}' ;;
shadow) edit='{"at": "model.layers.self_attn.sdpa", "attrs": {"head_dim": 8}}' ;;
wrongmlp) edit='{"at": "model.layers.mlp.act_fn", "attrs": {"elements": "{tokens} * ${intermediate_size}"}}, '$wide ;;
wrongnew) edit="$edit, $wide" ;;
newembed) edit='{"at": "model.layers.mlp.act_fn", "attrs": {"elements": "{tokens} * ${intermediate_size}"}}, {"at": "model.embed_tokens", "class": "zephyrine.modeling_zephyrine.ZephyrineEmbedding", "attrs": {"elements": "{tokens} * ${hidden_size}"}}' ;;
esac
cat <<JSON
Here is the template.

\`\`\`json
{"lmp": "arch_template", "version": 1, "model_type": "$mt", "extends": "llama",
 "architectures": ["ZephyrineForCausalLM"],
 "summary": "Llama layout with its own activation",
 "accept": ["zephyr_gate_scale"],
 "edits": [$edit]}
\`\`\`
JSON
