#!/bin/sh
# A well-behaved agent: reads the prompt, answers a valid elementwise entry
# for the class it names.
# With GOOD_ALIAS=NAME it gives the class that alias too; with
# GOOD_TENSORS=JSON it declares those tensors and one parameter an element;
# with GOOD_PARALLEL=JSON it declares that "parallel".
cls=$(sed -n 's/^CLASS: //p' | head -n 1)
alias=
[ -z "${GOOD_ALIAS:-}" ] || alias="\"aliases\": [\"$GOOD_ALIAS\"],"
params='"0"'
[ -z "${GOOD_TENSORS:-}" ] || params="\"\${elements}\", \"tensors\": $GOOD_TENSORS"
[ -z "${GOOD_PARALLEL:-}" ] || params="$params, \"parallel\": $GOOD_PARALLEL"
cat <<JSON
{"full_class_name": "$cls", "kind": "leaf", $alias
 "code_location": {"repo": "pytorch/pytorch", "ref": "v2.5.0", "file": "torch/nn/modules/activation.py", "line_start": 1, "line_end": 9},
 "parameters": [{"name": "elements", "type": "int", "description": "elements of the input"},
                {"name": "a_dtype_bytes", "type": "number", "description": "bytes per activation element"}],
 "flop_analysis": {"thinking_process": "three operations per element", "formula": "3 * \${elements}",
                   "breakdown": {"a": "2 * \${elements}", "b": "\${elements}"}, "module_depends": []},
 "memory_analysis": {"thinking_process": "read once, written once", "weights": "0",
                     "reads": "\${elements} * \${a_dtype_bytes}", "writes": "\${elements} * \${a_dtype_bytes}",
                     "intermediates": "0", "module_depends": []},
 "param_count": $params, "state": "0",
 "validation": {"status": "validated", "by": "the agent itself"}}
JSON
