#!/usr/bin/python3
"""A model trained outside the platform, as a data scientist would bring it: an ai.onnx.ml TreeEnsembleRegressor
over F float features (input `features` [N, F], one output [N, 1]) built with Debian's python3-onnx, the CSV of
rows it was "trained" on (a header of feature names and a `rul_true` label column), and, for every row, the
model's prediction computed here in numpy (no ONNX Runtime in Python): what the package's golden vectors must match.

    /usr/bin/python3 byo_model.py OUT_DIR --features 16 --output rul --rows 400
    /usr/bin/python3 byo_model.py OUT_DIR --spec edge/PdM.Edge.Gateway/specs/turbofan-fd001.json   # an existing spec's features
"""

import argparse
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper

parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("--features", type=int, default=16)
parser.add_argument("--output", default="rul")
parser.add_argument("--rows", type=int, default=400)
parser.add_argument("--trees", type=int, default=12)
parser.add_argument("--seed", type=int, default=20)
parser.add_argument("--spec", help="a PdM feature spec whose features the model takes (default: F made-up ones)")
args = parser.parse_args()

rng = np.random.default_rng(args.seed)
if args.spec:
    with open(args.spec, encoding="utf-8") as f:
        given = json.load(f)
    names = [feature["name"] for feature in given["features"]]
else:
    given = None
    names = ["s%02d_mean" % i for i in range(args.features)]
F = len(names)

# Rows: per-feature offsets and scales, values printed with 3 decimals (what the CSV holds is what the model sees).
centre = rng.uniform(10, 1000, F)
scale = rng.uniform(0.5, 20, F)
data = np.round(centre + scale * rng.standard_normal((args.rows, F)), 3).astype(np.float32)

# Depth-2 trees: thresholds at the data's quantiles, nudged off the 3-decimal grid so float32 and float64 split alike.
trees = []
for _ in range(args.trees):
    f0, f1, f2 = rng.choice(F, 3, replace=False)
    t = [float(np.quantile(data[:, f], rng.uniform(0.2, 0.8))) + 0.00017 for f in (f0, f1, f2)]
    leaves = np.round(rng.uniform(0, 25, 4), 2)
    trees.append([
        {"feature": int(f0), "threshold": t[0], "left": 1, "right": 2},
        {"feature": int(f1), "threshold": t[1], "left": 3, "right": 4},
        {"feature": int(f2), "threshold": t[2], "left": 5, "right": 6},
        {"leaf": float(leaves[0])}, {"leaf": float(leaves[1])}, {"leaf": float(leaves[2])}, {"leaf": float(leaves[3])},
    ])


def predict(x):
    total = 0.0
    for tree in trees:
        node = 0
        while "leaf" not in tree[node]:
            n = tree[node]
            node = n["left"] if float(x[n["feature"]]) <= np.float32(n["threshold"]) else n["right"]
        total += tree[node]["leaf"]
    return total


a = {k: [] for k in ["treeids", "nodeids", "featureids", "values", "modes", "true", "false", "wt", "wn", "ww"]}
for t, tree in enumerate(trees):
    for i, n in enumerate(tree):
        a["treeids"].append(t)
        a["nodeids"].append(i)
        leaf = "leaf" in n
        a["featureids"].append(0 if leaf else n["feature"])
        a["values"].append(0.0 if leaf else n["threshold"])
        a["modes"].append("LEAF" if leaf else "BRANCH_LEQ")
        a["true"].append(0 if leaf else n["left"])
        a["false"].append(0 if leaf else n["right"])
        if leaf:
            a["wt"].append(t)
            a["wn"].append(i)
            a["ww"].append(n["leaf"])

node = helper.make_node(
    "TreeEnsembleRegressor", ["features"], [args.output], domain="ai.onnx.ml", n_targets=1, aggregate_function="SUM",
    post_transform="NONE", nodes_treeids=a["treeids"], nodes_nodeids=a["nodeids"], nodes_featureids=a["featureids"],
    nodes_values=a["values"], nodes_modes=a["modes"], nodes_truenodeids=a["true"], nodes_falsenodeids=a["false"],
    target_treeids=a["wt"], target_nodeids=a["wn"], target_ids=[0] * len(a["wt"]), target_weights=a["ww"])
graph = helper.make_graph(
    [node], "byo_trees",
    [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", F])],
    [helper.make_tensor_value_info(args.output, TensorProto.FLOAT, ["N", 1])])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("ai.onnx.ml", 3)],
                          producer_name="a data scientist's notebook")
model.ir_version = 8
onnx.checker.check_model(model)

os.makedirs(args.out, exist_ok=True)
with open(os.path.join(args.out, "model.onnx"), "wb") as f:
    f.write(model.SerializeToString())

predictions = [predict(row) for row in data]
truth = np.round(np.array(predictions) + rng.normal(0, 5, args.rows), 1)
with open(os.path.join(args.out, "data.csv"), "w", encoding="utf-8", newline="\n") as f:
    f.write(",".join(["asset"] + names + ["rul_true"]) + "\n")
    for i, row in enumerate(data):
        f.write(",".join(["ENGINE-%03d" % (i % 7)] + ["%.3f" % v for v in row] + ["%.1f" % truth[i]]) + "\n")

with open(os.path.join(args.out, "spec.json"), "w", encoding="utf-8", newline="\n") as f:
    json.dump(given or {"specVersion": 1, "window": {"kind": "time", "lengthMs": 30000, "hopMs": 0, "watermarkMs": 0},
               "features": [{"name": n, "sensor": "s%02d" % i, "function": "mean"} for i, n in enumerate(names)]}, f, indent=2)

with open(os.path.join(args.out, "expected.json"), "w", encoding="utf-8") as f:
    json.dump([{"input": [float(v) for v in row], "prediction": p} for row, p in zip(data, predictions)], f)
