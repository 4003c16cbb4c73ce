package dev.sparkprop.spark;

import dev.sparkprop.data.FeatureScaling;
import dev.sparkprop.eval.EvalSum;
import dev.sparkprop.nn.Kernel;
import dev.sparkprop.nn.Network;
import dev.sparkprop.nn.NetworkSpec;
import dev.sparkprop.nn.Workspace;
import java.util.Collections;
import java.util.Iterator;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;

/**
 * The executor side of {@link SparkpropModel#evaluate} for a regression model: a partition's rows
 * (its targets first, then the features as {@link RowFeatures} reads them) {@link RowScorer#CHUNK}
 * at a time through the forward pass, the outputs given back in the targets' units, into one
 * {@link EvalSum} (squared and absolute errors, the targets' sums for R^2), as the command line's
 * evaluation counts them.
 */
final class RegressionEvaluator implements FlatMapFunction<Iterator<Row>, EvalSum> {
  private static final long serialVersionUID = 1L;
  private final NetworkSpec spec;
  private final Broadcast<float[]> params;
  private final RowFeatures features;
  private final FeatureScaling targetScaling;
  private final String[] targets;

  RegressionEvaluator(NetworkSpec spec, Broadcast<float[]> params, RowFeatures features, FeatureScaling targetScaling,
      String[] targets) {
    this.spec = spec;
    this.params = params;
    this.features = features;
    this.targetScaling = targetScaling;
    this.targets = targets.clone();
  }

  @Override
  public Iterator<EvalSum> call(Iterator<Row> rows) {
    Workspace ws = Workspace.get(spec, Kernel.AUTO);
    Network net = ws.network;
    net.setFixedParameters(params.value());
    int width = spec.inputSize();
    int t = spec.outputSize();
    int partition = TaskContext.getPartitionId();
    float[] y = new float[RowScorer.CHUNK * t];
    float[] zeros = new float[RowScorer.CHUNK * t];
    EvalSum sum = EvalSum.regression(t);
    long seen = 0;
    while (rows.hasNext()) {
      float[] x = net.input(RowScorer.CHUNK).data;
      int n = 0;
      for (; n < RowScorer.CHUNK && rows.hasNext(); n++) {
        Row row = rows.next();
        for (int j = 0; j < t; j++) {
          if (row.isNullAt(j)) throw features.bad(partition, seen + n, targets[j], "null");
          float v = ((Number) row.get(j)).floatValue();
          if (!Float.isFinite(v)) throw features.bad(partition, seen + n, targets[j], String.valueOf(v));
          y[n * t + j] = v;
        }
        features.fill(row, x, n * width, partition, seen + n);
      }
      net.input(n); // this chunk's shape; the values stay
      net.forward(n, zeros, 0);
      float[] z = net.output().data;
      targetScaling.invert(z, n, t);
      for (int r = 0; r < n; r++) sum.addRegression(z, r * t, y, r * t);
      seen += n;
    }
    return Collections.singletonList(sum).iterator();
  }
}
