#!/usr/bin/env python3
"""The analysis of submit/compare: from sparkprop's metrics.csv and the PyTorch anchor's JSON lines
of one recipe, the median epoch time, the time to two test accuracies (training time only) and the
final accuracy of each, and sparkprop's ratios to the best PyTorch figure; then one JSON line.

usage: compare_report.py RECIPE NAME=metrics.csv ... -- NAME={json} ...
"""
import csv, json, statistics, sys
recipe = sys.argv[1]
lo, hi = (0.99, 0.992) if recipe == "cnn" else (0.97, 0.98)
names = {"t97": "time to %g%%" % (lo * 100), "t98": "time to %g%%" % (hi * 100)}
cut = sys.argv.index("--")
our_runs, torch_runs = sys.argv[2:cut], sys.argv[cut + 1:]
def reach(times, accs, thr):
    cum = 0.0
    for t, a in zip(times, accs):
        cum += t
        if a is not None and a >= thr:
            return cum
    return None
mine = {}
for run in our_runs:
    name, path = run.rsplit("=", 1)
    rows = list(csv.DictReader(open(path)))
    ours_t = [float(r["epoch_seconds"]) for r in rows]
    ours_a = [float(r["test_accuracy"]) if r["test_accuracy"] else None for r in rows]
    mine[name] = {"epoch_s": statistics.median(ours_t), "t97": reach(ours_t, ours_a, lo),
                  "t98": reach(ours_t, ours_a, hi), "final": ours_a[-1], "epochs": len(rows)}
variants = {}
for run in torch_runs:
    cut = run.index("={")  # NAME={json}; NAME may itself hold '='
    name, js = run[:cut], run[cut + 1:]
    j = json.loads(js)
    tt = [e["train_s"] for e in j["epochs"]]
    ta = [e["test_acc"] for e in j["epochs"]]
    variants[name] = {"epoch_s": statistics.median(tt), "t97": reach(tt, ta, lo), "t98": reach(tt, ta, hi), "final": ta[-1],
                      "epochs": len(tt)}
def best(key):
    vals = [v[key] for v in variants.values() if v[key] is not None]
    return (max if key == "final" else min)(vals) if vals else None
theirs = {k: best(k) for k in ("epoch_s", "t97", "t98", "final")} if variants else None
def f(v, acc=False): return "-" if v is None else ("%.4f" % v if acc else "%.2f s" % v)
for name, v in variants.items():
    print(f"{recipe}: PyTorch [{name}]: median epoch {f(v['epoch_s'])}, {names['t97']} {f(v['t97'])}, {names['t98']} {f(v['t98'])}, final {f(v['final'], True)} after {v['epochs']} epochs")
def ratio(a, b): return "-" if a is None or b is None else "%.1fx" % (a / b)
for mode, ours in mine.items():
    print(f"{recipe}: {'sparkprop ' + mode:34s} {'sparkprop':>10s} {'PyTorch*':>10s} {'ratio':>7s}   (*best of the PyTorch runs)")
    for key, name in [("epoch_s", "median epoch time"), ("t97", names["t97"]), ("t98", names["t98"]), ("final", "final test accuracy")]:
        a = ours[key]; b = theirs[key] if theirs else None
        print(f"{recipe}: {name:34s} {f(a, key == 'final'):>10s} {f(b, key == 'final'):>10s} {ratio(a, b) if key != 'final' else '':>7s}")
print("JSON " + json.dumps({"recipe": recipe, "sparkprop": mine, "pytorch_best": theirs, "pytorch": variants}))
