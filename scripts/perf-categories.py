#!/usr/bin/env python3
# Where a gateway's CPU went: `perf script -i FILE | python3 scripts/perf-categories.py` (see docs/benchmarks.md).
import sys, re, collections
# Leaf-first attribution: each sample goes to the first category (walking from the leaf towards the root) whose
# pattern matches a frame; samples of the tiered-compilation thread are "JIT (background tier-up)".
cats = [
 ("onnxruntime (native Run)", ["libonnxruntime"]),
 ("ORT managed binding (OnnxScorer)", ["OnnxScorer::", "Microsoft.ML.OnnxRuntime"]),
 ("GC", ["gc_heap", "GCHeap", "WKS::", "GCToEEInterface"]),
 ("feature engine: window close (Emit/FeatureMath/SlidingSeries)", ["FeatureEngine::Emit", "FeatureMath::", "SlidingSeries::", "FeatureEngine::Gather"]),
 ("feature engine: insert reading (Add/Insert/Advance)", ["FeatureEngine::", "FeatureStage::Add"]),
 ("closed window copy (FeatureStage.OnWindowClosed)", ["FeatureStage::OnWindowClosed", "FeatureStage+"]),
 ("decode + validate (TelemetryIngestor, JSON)", ["PdM.Edge.Ingestion", "Utf8JsonReader", "System.Text.Json"]),
 ("scoring queue (MicroBatcher/ModelSlot/ScoreRequest)", ["MicroBatcher", "ModelSlot", "ScoreRequest", "SlotBatchScorer", "RollbackMonitor", "CircuitBreaker", "CanaryRouting"]),
 ("decision objects (DecisionPolicy/DecisionStage/DecisionBoard)", ["DecisionPolicy", "DecisionStage", "DecisionBoard", "DecisionRequest", "PdM.Edge.Inference.Decision", "ConcurrentDictionary"]),
 ("journal (EventJournal/EdgeJournal/SQLite)", ["EventJournal::", "EdgeJournal::", "Microsoft.Data.Sqlite", "libe_sqlite3", "libsqlite"]),
 ("PUBACK / MQTT send", ["PubAckCoalescer", "MqttClient::Send", "SendPacket", "AcknowledgeAsync"]),
 ("MQTT receive (MQTTnet)", ["MQTTnet"]),
 ("metrics (instruments + bench listener)", ["System.Diagnostics.Metrics", "GatewayMetrics", "MeterListener"]),
 ("pipeline loop (TelemetryPipeline, channel)", ["TelemetryPipeline", "System.Threading.Channels"]),
 ("async/threadpool machinery", ["System.Threading", "System.Runtime.CompilerServices.Async"]),
 ("kernel (syscalls, scheduling)", ["[kernel.kallsyms]"]),
 ("runtime (coreclr other)", ["libcoreclr"]),
 ("libc", ["libc.so"]),
]
total = 0
counts = collections.Counter()
stack = []; comm = None
def flush():
    global total
    if not stack: return
    total += 1
    if comm and "Tiered Com" in comm:
        counts["JIT (background tier-up thread)"] += 1; return
    for frame in stack:  # leaf first
        if "libclrjit" in frame:
            counts["JIT (foreground, first calls)"] += 1; return
        for name, pats in cats:
            if any(p in frame for p in pats):
                counts[name] += 1; return
    counts["other"] += 1
for line in sys.stdin:
    if not line.strip():
        flush(); stack = []; continue
    if not line.startswith((' ', '\t')):
        m = re.match(r'^(.*?)\s+\d+(/\d+)?\s', line)
        comm = m.group(1).strip() if m else None
        continue
    stack.append(line.strip())
flush()
print(f"samples {total}")
for name, c in counts.most_common(): print(f"{100*c/total:5.1f}%  {name}")
