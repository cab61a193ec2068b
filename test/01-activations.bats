#!/usr/bin/env bats
# Every name of transformers' ACT2FN (activations.py, ACT2CLS) through a real
# config: Llama-3.2-1B's with hidden_act changed.  Its MLP applies the
# activation to the gate projection's output, intermediate_size = 8192
# elements a token, in each of its 16 layers; the FLOPs per element of each
# activation are counted by hand from its forward() below.

load helper

CFG="$ROOT/share/lmp/configs"
I=8192
L=16

setup() {
	export HF_HUB_CACHE="$BATS_TEST_TMPDIR/hub" HF_HUB_OFFLINE=1
	unset HF_HOME HF_TOKEN HF_ENDPOINT
}

# act NAME: the act_fn row of a one-token step of Llama-3.2-1B with
# hidden_act NAME, as [class, flops, param_count, bytes]
act() {
	jq --arg a "$1" '.hidden_act = $a' "$CFG/meta-llama/Llama-3.2-1B/config.json" > "$BATS_TEST_TMPDIR/config.json"
	lmp-inspect "$BATS_TEST_TMPDIR/config.json" | lmp-populate | lmp-eval --seq-len 1 |
		jq -c '.rows[] | select(.path == "model.layers.*.mlp.act_fn") | [.class, .flops, .param_count, .bytes]'
}

# flops NAME: the act_fn row's FLOPs; class NAME: its class
flops() { act "$1" | jq '.[1]'; }
class() { act "$1" | jq -r '.[0]'; }

@test "relu2: relu then square, 2 FLOPs an element" {
	# ReLUSquaredActivation: torch.square(F.relu(x)): max (1) + square (1)
	[ "$(class relu2)" = transformers.activations.ReLUSquaredActivation ]
	[ "$(flops relu2)" = $((2 * I)) ]
	# the relu output is a temporary: I x 2 bytes
	[ "$(act relu2 | jq -c '.[3].intermediates')" = $((I * 2)) ]
}

@test "relu6: min(max(x, 0), 6), 2 FLOPs an element" {
	[ "$(class relu6)" = torch.nn.modules.activation.ReLU6 ]
	[ "$(flops relu6)" = $((2 * I)) ]
}

@test "tanh: one transcendental, 1 FLOP an element" {
	[ "$(class tanh)" = torch.nn.modules.activation.Tanh ]
	[ "$(flops tanh)" = $((1 * I)) ]
}

@test "mish: x * tanh(log1p(exp(x))), 4 FLOPs an element" {
	# exp, log1p, tanh, the product, in F.mish's one kernel
	[ "$(class mish)" = transformers.activations.MishActivation ]
	[ "$(flops mish)" = $((4 * I)) ]
}

@test "gelu_10: the exact GELU clipped to [-10, 10], 7 FLOPs an element" {
	# F.gelu: x * sqrt(1/2), erf, 1 +, x * 0.5, the product (5); clip: max, min (2)
	[ "$(class gelu_10)" = transformers.activations.ClippedGELUActivation ]
	[ "$(flops gelu_10)" = $((7 * I)) ]
}

@test "gelu_accurate: the tanh GELU in eager kernels, 9 FLOPs an element" {
	# x^3 as x*x*x (2), * 0.044715, x +, * sqrt(2/pi), tanh, 1 +, 0.5 * x, the product (7)
	[ "$(class gelu_accurate)" = transformers.activations.AccurateGELUActivation ]
	[ "$(flops gelu_accurate)" = $((9 * I)) ]
	# seven temporaries between the eight kernels, I x 2 bytes each
	[ "$(act gelu_accurate | jq '.[3].intermediates')" = $((7 * I * 2)) ]
}

@test "gelu_python and gelu_python_tanh: the GELU classes with their Python formulas" {
	# GELUActivation(use_gelu_python=True): x * 0.5 * (1 + erf(x / sqrt(2))),
	# five operations in five eager kernels: 4 temporaries
	[ "$(act gelu_python)" = "[\"transformers.activations.GELUActivation\",$((5 * I)),0,{\"weights\":0,\"reads\":$((I * 2)),\"writes\":$((I * 2)),\"intermediates\":$((4 * I * 2))}]" ]
	# while "gelu" is nn.functional.gelu, one kernel without temporaries
	[ "$(act gelu | jq '.[3].intermediates')" = 0 ]
	# GELUTanh(use_gelu_tanh_python=True): 9 operations, 8 kernels, 7 temporaries
	[ "$(act gelu_python_tanh)" = "[\"transformers.activations.PytorchGELUTanh\",$((9 * I)),0,{\"weights\":0,\"reads\":$((I * 2)),\"writes\":$((I * 2)),\"intermediates\":$((7 * I * 2))}]" ]
	# the binding shows in the document's attrs
	jq '.hidden_act = "gelu_python"' "$CFG/meta-llama/Llama-3.2-1B/config.json" > "$BATS_TEST_TMPDIR/py.json"
	[ "$(lmp-inspect "$BATS_TEST_TMPDIR/py.json" | jq -c '.. | objects | select(.name? == "act_fn") | .attrs')" = "{\"elements\":\"{tokens} * ($I)\",\"use_gelu_python\":1}" ]
}

@test "laplace: 0.5 * (1 + erf((x - mu) / (sigma * sqrt 2))), 5 FLOPs an element" {
	# subtract, divide, erf, 1 +, 0.5 * in five eager kernels: 4 temporaries
	[ "$(class laplace)" = transformers.activations.LaplaceActivation ]
	[ "$(flops laplace)" = $((5 * I)) ]
	[ "$(act laplace | jq '.[3].intermediates')" = $((4 * I * 2)) ]
}

@test "leaky_relu: x or 0.01 x, 2 FLOPs an element" {
	[ "$(class leaky_relu)" = torch.nn.modules.activation.LeakyReLU ]
	[ "$(flops leaky_relu)" = $((2 * I)) ]
}

@test "linear: the input itself, nothing computed or moved" {
	[ "$(act linear)" = '["transformers.activations.LinearActivation",0,0,{"weights":0,"reads":0,"writes":0,"intermediates":0}]' ]
}

@test "prelu: one learned slope per MLP, 2 FLOPs an element" {
	# nn.PReLU(): x > 0 ? x : a * x; its weight is one element
	[ "$(act prelu)" = "[\"torch.nn.modules.activation.PReLU\",$((2 * I)),1,{\"weights\":2,\"reads\":$((I * 2 + 2)),\"writes\":$((I * 2)),\"intermediates\":0}]" ]
	# the model gains one parameter a layer: Llama-3.2-1B's 1,235,814,400 + 16
	jq '.hidden_act = "prelu"' "$CFG/meta-llama/Llama-3.2-1B/config.json" > "$BATS_TEST_TMPDIR/p.json"
	[ "$(lmp-inspect "$BATS_TEST_TMPDIR/p.json" | lmp-populate | lmp-eval --totals --seq-len 1 | jq .totals.param_count)" = $((1235814400 + L)) ]
}

@test "xielu: Apertus' activation, two learned scalars, 12 FLOPs an element and 5 a call" {
	# _xielu_python: softplus(alpha_p) (exp, log1p: 2), beta + softplus(alpha_n) (3);
	# then for every element both branches of torch.where: x > 0 (1),
	# alpha_p * x * x + beta * x (4), (expm1(min(x, eps)) - x) * alpha_n + beta * x (6),
	# the select (1)
	[ "$(class xielu)" = transformers.activations.XIELUActivation ]
	[ "$(flops xielu)" = $((12 * I + 5)) ]
	# alpha_p and alpha_n: 2 parameters, 2 x 2 bytes; reads add beta and eps
	# (2 more scalars); temporaries: the mask (1 byte an element), 10 tensors of
	# I x 2 bytes, 3 scalars of 2 bytes
	[ "$(act xielu | jq -c '[.[2], .[3]]')" = "[2,{\"weights\":4,\"reads\":$((I * 2 + 4 * 2)),\"writes\":$((I * 2)),\"intermediates\":$((I * (10 * 2 + 1) + 3 * 2))}]" ]
	jq '.hidden_act = "xielu"' "$CFG/meta-llama/Llama-3.2-1B/config.json" > "$BATS_TEST_TMPDIR/x.json"
	[ "$(lmp-inspect "$BATS_TEST_TMPDIR/x.json" | lmp-populate | lmp-eval --totals --seq-len 1 | jq .totals.param_count)" = $((1235814400 + 2 * L)) ]
}

@test "an activation ACT2FN does not have is refused, naming the ones it has" {
	jq '.hidden_act = "swiglu"' "$CFG/meta-llama/Llama-3.2-1B/config.json" > "$BATS_TEST_TMPDIR/config.json"
	run_split lmp-inspect "$BATS_TEST_TMPDIR/config.json"
	assert_clean_failure lmp-inspect 'config field hidden_act = "swiglu" is not an activation lmp models (supported: gelu, gelu_10, gelu_accurate, gelu_fast, gelu_new, gelu_python, gelu_python_tanh, gelu_pytorch_tanh, laplace, leaky_relu, linear, mish, prelu, quick_gelu, relu, relu2, relu6, sigmoid, silu, swish, tanh, xielu)'
}
