#!/usr/bin/python3
"""Builds the small ONNX test models and their manifests under tests/models/generated/.

Run with Debian's interpreter (it has python3-onnx 1.12):  /usr/bin/python3 tests/models/build_models.py
The outputs are committed; tests never need Python. Every good model is checked with onnx.checker and its
golden vectors are computed here in plain numpy (no ONNX Runtime in Python), so the C# loader checks that
ONNX Runtime reproduces an independent computation.
"""

import csv
import json
import math
import os
import shutil

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, "generated")
OPSET = [helper.make_opsetid("", 13)]
OPSET_ML = [helper.make_opsetid("", 13), helper.make_opsetid("ai.onnx.ml", 3)]
CREATED_AT = "2026-11-25T00:00:00Z"

# ---------------------------------------------------------------- feature sets and statistics

AI4I_COLUMNS = [
    ("air_temperature_k", "Air temperature [K]", "air_temperature_k"),
    ("process_temperature_k", "Process temperature [K]", "process_temperature_k"),
    ("rotational_speed_rpm", "Rotational speed [rpm]", "rotational_speed_rpm"),
    ("torque_nm", "Torque [Nm]", "torque_nm"),
    ("tool_wear_min", "Tool wear [min]", "tool_wear_min"),
]

SLOW_WIDTH = 256
SLOW_LAYERS = 600
SLOW_COPIES = 64

CMAPSS_SENSORS = [("t30_mean", 7), ("p30_mean", 11), ("t50_mean", 8)]  # column index in train_FD001.txt


def ai4i_rows():
    path = os.path.join(ROOT, "datasets", "ai4i2020", "ai4i2020.csv")
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        return np.array([[float(r[c[1]]) for c in AI4I_COLUMNS] for r in reader], dtype=np.float64)


def cmapss_rows():
    path = os.path.join(ROOT, "datasets", "cmapss", "train_FD001.txt")
    rows = []
    with open(path, encoding="ascii") as f:
        for line in f:
            parts = line.split()
            if parts:
                rows.append([float(parts[i]) for _, i in CMAPSS_SENSORS])
    return np.array(rows, dtype=np.float64)


def stats(names, data):
    return [
        {
            "name": n,
            "min": round(float(data[:, i].min()), 6),
            "max": round(float(data[:, i].max()), 6),
            "mean": round(float(data[:, i].mean()), 6),
            "std": round(float(data[:, i].std()), 6),
        }
        for i, n in enumerate(names)
    ]


def feature_spec(features, window_ms, sensors):
    """The PdM.Features FeatureSpec JSON (specVersion 1): the mean of each sensor over one tumbling time window."""
    return {
        "specVersion": 1,
        "window": {"kind": "time", "lengthMs": window_ms, "hopMs": 0, "watermarkMs": 0},
        "features": [{"name": f, "sensor": s, "function": "mean"} for f, s in zip(features, sensors)],
    }


# ---------------------------------------------------------------- numpy reference computations

def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def tree_predict(tree, x):
    node = 0
    while True:
        n = tree[node]
        if "leaf" in n:
            return n["leaf"]
        node = n["left"] if x[n["feature"]] <= n["threshold"] else n["right"]


# ---------------------------------------------------------------- model builders

def logreg_graph(name, n_features, w, b, extra_nodes=None, prob_input="z"):
    X = helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", n_features])
    Y = helper.make_tensor_value_info("failure_probability", TensorProto.FLOAT, ["N", 1])
    inits = [
        numpy_helper.from_array(np.array(w, dtype=np.float32).reshape(n_features, 1), "W"),
        numpy_helper.from_array(np.array([b], dtype=np.float32), "B"),
    ]
    nodes = [
        helper.make_node("MatMul", ["features", "W"], ["xw"]),
        helper.make_node("Add", ["xw", "B"], ["z"]),
    ]
    if extra_nodes:
        nodes += extra_nodes[0]
        inits += extra_nodes[1]
    nodes.append(helper.make_node("Sigmoid", [prob_input], ["failure_probability"]))
    return helper.make_graph(nodes, name, [X], [Y], inits)


# Logistic regression over standardised AI4I features, standardisation folded into W and B.
AI4I_MEAN = None
AI4I_STD = None
LOGREG_COEF = np.array([0.6, -0.4, 0.9, 1.4, 0.8])
LOGREG_INTERCEPT = -4.0


def logreg_weights():
    w = LOGREG_COEF / AI4I_STD
    b = LOGREG_INTERCEPT - float(np.sum(LOGREG_COEF * AI4I_MEAN / AI4I_STD))
    return w.astype(np.float32), np.float32(b)


def make_model(graph, opsets):
    model = helper.make_model(graph, opset_imports=opsets, producer_name="pdm-tests-build_models")
    model.ir_version = 8
    return model


def tree_ensemble_attrs(trees, n_targets_or_classes, classifier):
    """Flattens our dict trees into the TreeEnsemble* attribute arrays."""
    a = {k: [] for k in ["nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_values", "nodes_modes",
                         "nodes_truenodeids", "nodes_falsenodeids", "w_tree", "w_node", "w_id", "w_weight"]}
    for t, tree in enumerate(trees):
        for i, n in enumerate(tree):
            a["nodes_treeids"].append(t)
            a["nodes_nodeids"].append(i)
            if "leaf" in n:
                a["nodes_featureids"].append(0)
                a["nodes_values"].append(0.0)
                a["nodes_modes"].append("LEAF")
                a["nodes_truenodeids"].append(0)
                a["nodes_falsenodeids"].append(0)
                leaf = n["leaf"] if classifier else [n["leaf"]]
                for k in range(n_targets_or_classes):
                    a["w_tree"].append(t)
                    a["w_node"].append(i)
                    a["w_id"].append(k)
                    a["w_weight"].append(float(leaf[k]))
            else:
                a["nodes_featureids"].append(n["feature"])
                a["nodes_values"].append(float(n["threshold"]))
                a["nodes_modes"].append("BRANCH_LEQ")
                a["nodes_truenodeids"].append(n["left"])
                a["nodes_falsenodeids"].append(n["right"])
    prefix = "class_" if classifier else "target_"
    attrs = {
        "nodes_treeids": a["nodes_treeids"], "nodes_nodeids": a["nodes_nodeids"],
        "nodes_featureids": a["nodes_featureids"], "nodes_values": a["nodes_values"],
        "nodes_modes": a["nodes_modes"], "nodes_truenodeids": a["nodes_truenodeids"],
        "nodes_falsenodeids": a["nodes_falsenodeids"],
        prefix + "treeids": a["w_tree"], prefix + "nodeids": a["w_node"], prefix + "ids": a["w_id"],
        prefix + "weights": a["w_weight"], "post_transform": "NONE",
    }
    return attrs


# RUL trees over C-MAPSS FD001 window means of T30, P30, T50 (hand-set splits near the data's quantiles).
RUL_TREES = [
    [
        {"feature": 2, "threshold": 1405.0, "left": 1, "right": 2},
        {"feature": 1, "threshold": 553.0, "left": 3, "right": 4},
        {"feature": 0, "threshold": 1592.0, "left": 5, "right": 6},
        {"leaf": 60.0}, {"leaf": 95.0}, {"leaf": 40.0}, {"leaf": 15.0},
    ],
    [
        {"feature": 0, "threshold": 1590.0, "left": 1, "right": 2},
        {"leaf": 50.0},
        {"feature": 2, "threshold": 1415.0, "left": 3, "right": 4},
        {"leaf": 25.0}, {"leaf": 5.0},
    ],
]

# Failure-mode classifier over AI4I features: classes none / HDF (heat dissipation) / PWF (power failure).
CLASSES = ["none", "HDF", "PWF"]
CLS_TREES = [
    [
        {"feature": 2, "threshold": 1380.0, "left": 1, "right": 2},
        {"feature": 3, "threshold": 60.0, "left": 3, "right": 4},
        {"leaf": [0.45, 0.03, 0.02]},
        {"leaf": [0.40, 0.07, 0.03]}, {"leaf": [0.10, 0.10, 0.30]},
    ],
    [
        {"feature": 1, "threshold": 309.5, "left": 1, "right": 2},
        {"leaf": [0.46, 0.02, 0.02]},
        {"feature": 0, "threshold": 301.5, "left": 3, "right": 4},
        {"leaf": [0.40, 0.05, 0.05]}, {"leaf": [0.15, 0.30, 0.05]},
    ],
]


def write_package(folder, model_bytes, manifest):
    path = os.path.join(OUT, folder)
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "model.onnx"), "wb") as f:
        f.write(model_bytes)
    if manifest is not None:
        with open(os.path.join(path, "manifest.json"), "w", encoding="utf-8", newline="\n") as f:
            json.dump(manifest, f, indent=2)
            f.write("\n")


def manifest(name, asset_class, spec, input_shape, outputs, thresholds, feature_stats, golden, run):
    return {
        "schemaVersion": 1,
        "name": name,
        "version": "1.0.0",
        "assetClass": asset_class,
        "featureSpec": spec,
        "input": {"name": "features", "shape": input_shape, "elementType": "float32"},
        "outputs": outputs,
        "thresholds": thresholds,
        "featureStatistics": feature_stats,
        "goldenVectors": golden,
        "provenance": {
            "trainingRun": run,
            "datasetDigest": "sha256:" + ("0" * 64),
            "createdBy": "tests/models/build_models.py",
            "createdAt": CREATED_AT,
        },
    }


def f32(values):
    """Rounds to what float32 holds, then prints with 9 significant digits (round-trips)."""
    return [float("%.9g" % np.float32(v)) for v in values]


def main():
    global AI4I_MEAN, AI4I_STD
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)

    ai4i = ai4i_rows()
    AI4I_MEAN = ai4i.mean(axis=0)
    AI4I_STD = ai4i.std(axis=0)
    ai4i_names = [c[0] for c in AI4I_COLUMNS]
    ai4i_sensors = [c[2] for c in AI4I_COLUMNS]
    ai4i_stats = stats(ai4i_names, ai4i)
    ai4i_spec = feature_spec(ai4i_names, 60000, ai4i_sensors)
    golden_in = [
        [298.1, 308.6, 1551.0, 42.8, 0.0],
        [302.5, 310.9, 1350.0, 61.0, 200.0],
        [300.0, 310.0, 1500.0, 40.0, 100.0],
        [303.0, 311.5, 1290.0, 70.0, 240.0],
    ]
    prob_thresholds = {"failureProbabilityWatch": 0.3, "failureProbabilityAlert": 0.5,
                       "failureProbabilityDanger": 0.8}

    # 1. logistic regression: failure probability.
    w, b = logreg_weights()
    model = make_model(logreg_graph("logreg_failure", 5, w, b), OPSET)
    onnx.checker.check_model(model)
    x = np.array(golden_in, dtype=np.float32)
    z = x.astype(np.float64) @ w.astype(np.float64) + float(b)
    probs = sigmoid(z)
    golden = {"tolerance": 1e-4, "cases": [
        {"input": f32(row), "outputs": {"failure_probability": f32([p])}} for row, p in zip(golden_in, probs)]}
    logreg_manifest = manifest(
        "ai4i-failure-logreg", "milling-machine", ai4i_spec, [-1, 5],
        [{"name": "failure_probability", "meaning": "failureProbability", "elementType": "float32"}],
        prob_thresholds, ai4i_stats, golden, "tests/logreg-1")
    logreg_bytes = model.SerializeToString()
    write_package("logreg_failure", logreg_bytes, logreg_manifest)

    # 1b. the same model as version 2.0.0 with a steeper intercept: for hot swap, rollback and shadow tests.
    w2, b2 = w, np.float32(b + 1.5)
    model2 = make_model(logreg_graph("logreg_failure_v2", 5, w2, b2), OPSET)
    onnx.checker.check_model(model2)
    probs2 = sigmoid(x.astype(np.float64) @ w2.astype(np.float64) + float(b2))
    m2 = json.loads(json.dumps(logreg_manifest))
    m2["version"] = "2.0.0"
    m2["provenance"]["trainingRun"] = "tests/logreg-2"
    m2["goldenVectors"]["cases"] = [
        {"input": f32(row), "outputs": {"failure_probability": f32([p])}} for row, p in zip(golden_in, probs2)]
    write_package("logreg_failure_v2", model2.SerializeToString(), m2)

    # 2. TreeEnsembleRegressor: RUL in cycles over C-MAPSS sensor means.
    cm = cmapss_rows()
    cm_names = [s[0] for s in CMAPSS_SENSORS]
    attrs = tree_ensemble_attrs(RUL_TREES, 1, classifier=False)
    node = helper.make_node("TreeEnsembleRegressor", ["features"], ["rul_cycles"], domain="ai.onnx.ml",
                            n_targets=1, aggregate_function="SUM", **attrs)
    graph = helper.make_graph(
        [node], "rul_trees",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", 3])],
        [helper.make_tensor_value_info("rul_cycles", TensorProto.FLOAT, ["N", 1])])
    model = make_model(graph, OPSET_ML)
    onnx.checker.check_model(model)
    rul_in = [[1590.0, 554.0, 1400.0], [1595.0, 552.0, 1420.0], [1585.0, 553.5, 1410.0], [1600.0, 551.0, 1430.0]]
    golden = {"tolerance": 1e-3, "cases": [
        {"input": f32(r), "outputs": {"rul_cycles": f32([sum(tree_predict(t, r) for t in RUL_TREES)])}}
        for r in rul_in]}
    write_package("rul_trees", model.SerializeToString(), manifest(
        "cmapss-rul-trees", "turbofan", feature_spec(cm_names, 30000, ["T30", "P30", "T50"]),
        [-1, 3], [{"name": "rul_cycles", "meaning": "rulCycles", "elementType": "float32"}],
        {"rulWatch": 60, "rulAlert": 30, "rulDanger": 10}, stats(cm_names, cm), golden, "tests/rul-1"))

    # 3. TreeEnsembleClassifier (no ZipMap): label + probability tensor.
    attrs = tree_ensemble_attrs(CLS_TREES, 3, classifier=True)
    node = helper.make_node("TreeEnsembleClassifier", ["features"], ["label", "probabilities"], domain="ai.onnx.ml",
                            classlabels_int64s=[0, 1, 2], **attrs)
    graph = helper.make_graph(
        [node], "failure_mode_trees",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", 5])],
        [helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
         helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 3])])
    model = make_model(graph, OPSET_ML)
    onnx.checker.check_model(model)
    cases = []
    for r in golden_in:
        p = np.sum([tree_predict(t, r) for t in CLS_TREES], axis=0)
        cases.append({"input": f32(r), "outputs": {"label": [int(np.argmax(p))], "probabilities": f32(p)}})
    write_package("failure_mode_trees", model.SerializeToString(), manifest(
        "ai4i-failure-mode-trees", "milling-machine", ai4i_spec, [-1, 5],
        [{"name": "label", "meaning": "label", "elementType": "int64"},
         {"name": "probabilities", "meaning": "failureModeClass", "elementType": "float32",
          "classes": CLASSES, "normalClass": "none"}],
        prob_thresholds, ai4i_stats, {"tolerance": 1e-4, "cases": cases}, "tests/failure-mode-1"))

    # ------------------------------------------------------------ broken models (manifests copied from logreg)

    # wrong input shape: the model takes 3 features, the manifest's feature spec has 5.
    model = make_model(logreg_graph("wrong_shape", 3, w[:3], b), OPSET)
    onnx.checker.check_model(model)
    write_package("broken_wrong_shape", model.SerializeToString(), logreg_manifest)

    # NaN output: p = sigmoid(log(air_temperature_k - 300)) is NaN for in-distribution temperatures below 300 K,
    # while the golden vectors (all above 300 K) reproduce.
    sel = np.zeros((5, 1), dtype=np.float32)
    sel[0, 0] = 1.0
    extra = ([helper.make_node("MatMul", ["features", "SEL"], ["t"]),
              helper.make_node("Sub", ["t", "K300"], ["dt"]),
              helper.make_node("Log", ["dt"], ["logdt"])],
             [numpy_helper.from_array(sel, "SEL"), numpy_helper.from_array(np.array([300.0], np.float32), "K300")])
    model = make_model(logreg_graph("nan_output", 5, w, b, extra, prob_input="logdt"), OPSET)
    onnx.checker.check_model(model)
    nan_in = [[301.0, 310.0, 1500.0, 40.0, 100.0], [303.0, 311.5, 1290.0, 70.0, 240.0]]
    m = json.loads(json.dumps(logreg_manifest))
    m["name"] = "ai4i-nan-output"
    m["goldenVectors"]["cases"] = [
        {"input": f32(r), "outputs": {"failure_probability": f32([sigmoid(math.log(r[0] - 300.0))])}} for r in nan_in]
    write_package("broken_nan_output", model.SerializeToString(), m)

    # Fails at Run for some inputs: Gather from a one-row table at index floor(tool_wear_min / 250), so tool wear
    # of 250 min or more (inside the training range, max 253) raises "indices out of bounds" in ONNX Runtime.
    selw = np.zeros((5, 1), dtype=np.float32)
    selw[4, 0] = 1.0 / 250.0
    extra = ([helper.make_node("MatMul", ["features", "SELW"], ["wf"]),
              helper.make_node("Floor", ["wf"], ["wfl"]),
              helper.make_node("Cast", ["wfl"], ["idx"], to=TensorProto.INT64),
              helper.make_node("Gather", ["TABLE", "idx"], ["g"], axis=0),
              helper.make_node("Reshape", ["g", "SHAPE"], ["g2"]),
              helper.make_node("Add", ["z", "g2"], ["zz"])],
             [numpy_helper.from_array(selw, "SELW"),
              numpy_helper.from_array(np.array([0.0], np.float32), "TABLE"),
              numpy_helper.from_array(np.array([-1, 1], np.int64), "SHAPE")])
    model = make_model(logreg_graph("run_fails", 5, w, b, extra, prob_input="zz"), OPSET)
    onnx.checker.check_model(model)
    m = json.loads(json.dumps(logreg_manifest))
    m["name"] = "ai4i-run-fails"
    write_package("broken_run_fails", model.SerializeToString(), m)

    # Slow: a Loop whose trip count is 10^9; each iteration adds one. Used for the per-batch timeout.
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Add", ["acc_in", "ZERO"], ["acc_out"])],
        "body",
        [helper.make_tensor_value_info("iter", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc_in", TensorProto.FLOAT, ["N", 1])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc_out", TensorProto.FLOAT, ["N", 1])],
        [numpy_helper.from_array(np.array(0.0, np.float32), "ZERO")])
    extra = ([helper.make_node("Loop", ["TRIPS", "COND", "z"], ["looped"], body=body),
              helper.make_node("Sub", ["looped", "looped"], ["zero"]),
              helper.make_node("Add", ["z", "zero"], ["zz"])],
             [numpy_helper.from_array(np.array(1_000_000_000, np.int64), "TRIPS"),
              numpy_helper.from_array(np.array(True), "COND")])
    model = make_model(logreg_graph("slow", 5, w, b, extra, prob_input="zz"), OPSET)
    onnx.checker.check_model(model)
    m = json.loads(json.dumps(logreg_manifest))
    m["name"] = "ai4i-slow"
    m["goldenVectors"] = {"tolerance": 1e-4, "cases": []}
    write_package("slow_loop", model.SerializeToString(), m)

    # Deliberately slow but correct: the logistic regression plus a chain of SLOW_LAYERS MatMuls by one 256x256
    # orthogonal matrix (values keep their size: no overflow, no denormals) over SLOW_COPIES copies of each row (Expand:
    # the cost grows without a bigger file), summed, multiplied by 0 and added to the logit. ONNX Runtime does not fold a
    # product with an input, so every row costs SLOW_COPIES x SLOW_LAYERS x 2 x 256^2 FLOP (~5 GFLOP) and the outputs
    # (and golden vectors) are the logistic regression's. For the inference budget's test of a gateway starved of CPU.
    rng = np.random.default_rng(20261204)
    q, _ = np.linalg.qr(rng.standard_normal((SLOW_WIDTH, SLOW_WIDTH)))
    spread = (rng.standard_normal((5, SLOW_WIDTH)) / AI4I_STD[:, None] / math.sqrt(SLOW_WIDTH)).astype(np.float32)
    chain = [helper.make_node("MatMul", ["features", "SPREAD"], ["row"]),
             helper.make_node("Unsqueeze", ["row", "AXIS1"], ["row1"]),
             helper.make_node("Expand", ["row1", "COPIES"], ["h0"])]
    for i in range(SLOW_LAYERS):
        chain.append(helper.make_node("MatMul", ["h%d" % i, "Q"], ["h%d" % (i + 1)]))
    chain += [helper.make_node("ReduceSum", ["h%d" % SLOW_LAYERS, "AXIS2"], ["hs2"], keepdims=0),
              helper.make_node("ReduceSum", ["hs2", "AXIS1"], ["hs"], keepdims=1),
              helper.make_node("Mul", ["hs", "ZERO"], ["hz"]),
              helper.make_node("Add", ["z", "hz"], ["zz"])]
    extra = (chain, [numpy_helper.from_array(spread, "SPREAD"), numpy_helper.from_array(q.astype(np.float32), "Q"),
                     numpy_helper.from_array(np.array([1], np.int64), "AXIS1"),
                     numpy_helper.from_array(np.array([2], np.int64), "AXIS2"),
                     numpy_helper.from_array(np.array([1, SLOW_COPIES, 1], np.int64), "COPIES"),
                     numpy_helper.from_array(np.array([0.0], np.float32), "ZERO")])
    model = make_model(logreg_graph("slow_matmul", 5, w, b, extra, prob_input="zz"), OPSET)
    onnx.checker.check_model(model)
    m = json.loads(json.dumps(logreg_manifest))
    m["name"] = "ai4i-slow-matmul"
    m["provenance"]["trainingRun"] = "tests/slow-matmul-1"
    m["failureMode"] = "PWF"  # so a Danger it scores raises a FailurePredicted
    write_package("slow_matmul", model.SerializeToString(), m)

    # Truncated: the logistic-regression file cut inside its graph message.
    write_package("broken_truncated", logreg_bytes[: len(logreg_bytes) * 3 // 5], logreg_manifest)

    # Disallowed domain: a custom op in com.example.secret (ONNX Runtime could not run it either).
    model = make_model(logreg_graph("custom_domain", 5, w, b), OPSET + [helper.make_opsetid("com.example.secret", 1)])
    model.graph.node.insert(2, helper.make_node("Exfiltrate", ["z"], ["z_copy"], domain="com.example.secret"))
    write_package("broken_custom_domain", model.SerializeToString(), logreg_manifest)

    # External data: W lives in a side file the package does not carry (and must never be read from disk).
    model = make_model(logreg_graph("external_data", 5, w, b), OPSET)
    ext = model.graph.initializer[0]
    ext.ClearField("raw_data")
    ext.data_location = TensorProto.EXTERNAL
    entry = ext.external_data.add()
    entry.key, entry.value = "location", "../../../etc/weights.bin"
    write_package("broken_external_data", model.SerializeToString(), logreg_manifest)

    # Golden mismatch: the good model with a manifest whose first expected output is wrong.
    m = json.loads(json.dumps(logreg_manifest))
    m["goldenVectors"]["cases"][0]["outputs"]["failure_probability"] = [0.99]
    write_package("broken_golden_mismatch", logreg_bytes, m)

    for folder in sorted(os.listdir(OUT)):
        size = os.path.getsize(os.path.join(OUT, folder, "model.onnx"))
        print("%-26s model.onnx %6d bytes" % (folder, size))


if __name__ == "__main__":
    main()
