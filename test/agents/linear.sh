#!/bin/sh
# An agent that answers a Linear (y = x W^T, no bias) for the class it names,
# with the "gemm" its matrix product is: tokens x in_features by
# in_features x out_features, one call.  LINEAR_GEMM=JSON answers that
# "gemm" instead (a wrong one, for the refusals); LINEAR_GEMM=none none.
cls=$(sed -n 's/^CLASS: //p' | head -n 1)
gemm='{"m": "${tokens}", "n": "${out_features}", "k": "${in_features}", "calls": "1",
          "note": "x [tokens, in] times W^T [in, out]: one product per call"}'
case ${LINEAR_GEMM:-} in
'') ;;
none) gemm= ;;
*) gemm=$LINEAR_GEMM ;;
esac
[ -z "$gemm" ] || gemm=", \"gemm\": $gemm"
cat <<JSON
{"full_class_name": "$cls", "kind": "leaf",
 "code_location": {"repo": "pytorch/pytorch", "ref": "v2.5.0", "file": "torch/nn/modules/linear.py", "line_start": 124, "line_end": 125},
 "parameters": [{"name": "tokens", "type": "int", "description": "rows of the input"},
                {"name": "in_features", "type": "int", "description": "input width"},
                {"name": "out_features", "type": "int", "description": "output width"},
                {"name": "w_dtype_bytes", "type": "number", "description": "bytes per weight"},
                {"name": "a_dtype_bytes", "type": "number", "description": "bytes per activation"}],
 "flop_analysis": {"thinking_process": "one product of tokens x in by in x out",
                   "formula": "2 * \${tokens} * \${in_features} * \${out_features}", "module_depends": []},
 "memory_analysis": {"thinking_process": "weights and input read, output written",
                     "weights": "\${in_features} * \${out_features} * \${w_dtype_bytes}",
                     "reads": "\${in_features} * \${out_features} * \${w_dtype_bytes} + \${tokens} * \${in_features} * \${a_dtype_bytes}",
                     "writes": "\${tokens} * \${out_features} * \${a_dtype_bytes}",
                     "intermediates": "0", "module_depends": []},
 "param_count": "\${in_features} * \${out_features}",
 "tensors": [{"name": "weight", "shape": ["\${out_features}", "\${in_features}"]}],
 "state": "0"$gemm}
JSON
