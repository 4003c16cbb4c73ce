package dev.sparkprop.eval;

import dev.sparkprop.data.Shard;
import dev.sparkprop.nn.Network;
import dev.sparkprop.nn.NetworkSpec;
import dev.sparkprop.nn.Kernel;
import dev.sparkprop.nn.Workspace;
import java.util.Collections;
import java.util.Iterator;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;

/** The executor side of evaluation: forward passes over a cached shard in chunks, counted. */
public final class EvalFunction implements FlatMapFunction<Iterator<Shard>, EvalSum> {
  private static final long serialVersionUID = 1L;
  /** Rows per forward pass: large enough for efficient products, small enough for cache. */
  static final int CHUNK = 500;

  private final Broadcast<float[]> params;
  private final NetworkSpec spec;
  private final Kernel kernel;
  private final dev.sparkprop.data.FeatureScaling scaling;
  private final dev.sparkprop.data.FeatureScaling targetScaling;

  public EvalFunction(Broadcast<float[]> params, NetworkSpec spec, Kernel kernel, dev.sparkprop.data.FeatureScaling scaling,
      dev.sparkprop.data.FeatureScaling targetScaling) {
    this.scaling = scaling;
    this.targetScaling = targetScaling;
    this.params = params;
    this.spec = spec;
    this.kernel = kernel;
  }

  @Override
  public Iterator<EvalSum> call(Iterator<Shard> shards) {
    EvalSum sum = spec.isRegression() ? EvalSum.regression(spec.outputSize()) : new EvalSum(spec.outputSize());
    while (shards.hasNext()) {
      Shard s = shards.next();
      if (spec.isRegression()) {
        evaluateRegression(s, params.value(), scaling, targetScaling, Workspace.get(spec, kernel), sum);
      } else {
        evaluate(s, params.value(), scaling, Workspace.get(spec, kernel).network, sum);
      }
    }
    return Collections.singletonList(sum).iterator();
  }

  /**
   * Adds every row of a regression's {@code shard} into {@code sum}, in the targets' units: the
   * network's outputs given back through {@code targetScaling}, against the shard's raw targets.
   */
  public static void evaluateRegression(Shard shard, float[] params, dev.sparkprop.data.FeatureScaling scaling,
      dev.sparkprop.data.FeatureScaling targetScaling, Workspace ws, EvalSum sum) {
    Network net = ws.network;
    net.setParameters(params);
    int t = net.spec().outputSize();
    float[] raw = shard.targets();
    for (int from = 0; from < shard.rows(); from += CHUNK) {
      int n = Math.min(CHUNK, shard.rows() - from);
      shard.copyRows(from, n, net.input(n).data);
      scaling.apply(net.input(n).data, n, shard.features());
      float[] y = ws.targets(n * t);
      System.arraycopy(raw, from * t, y, 0, n * t);
      targetScaling.apply(y, n, t);
      sum.lossSum += net.forward(n, y, 0); // in the scaled units training sees
      float[] z = net.output().data;
      targetScaling.invert(z, n, t);
      for (int r = 0; r < n; r++) sum.addRegression(z, r * t, raw, (from + r) * t);
    }
  }

  /** Adds the outcome of every row of {@code shard} into {@code sum}. */
  public static void evaluate(Shard shard, float[] params, dev.sparkprop.data.FeatureScaling scaling, Network net, EvalSum sum) {
    net.setParameters(params);
    int[] labels = shard.labels();
    for (int from = 0; from < shard.rows(); from += CHUNK) {
      int n = Math.min(CHUNK, shard.rows() - from);
      shard.copyRows(from, n, net.input(n).data);
      scaling.apply(net.input(n).data, n, shard.features());
      sum.lossSum += net.forward(n, labels, from);
      for (int r = 0; r < n; r++) sum.add(labels[from + r], net.predicted(r));
    }
  }
}
