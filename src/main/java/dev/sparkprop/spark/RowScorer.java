package dev.sparkprop.spark;

import dev.sparkprop.nn.Kernel;
import dev.sparkprop.nn.Network;
import dev.sparkprop.nn.NetworkSpec;
import dev.sparkprop.nn.Workspace;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * The executor side of {@link SparkpropModel#transform}: reads a partition's rows {@link #CHUNK}
 * at a time into the network's input, runs the forward pass, and returns each row with its
 * prediction and class probabilities appended.
 */
final class RowScorer implements MapPartitionsFunction<Row, Row> {
  private static final long serialVersionUID = 1L;
  /**
   * Rows per forward pass: large enough for the products to run at BLAS speed (OpenBLAS packs the
   * weights once per product: docs/PERFORMANCE.md, "`transform` in a Spark application", has
   * 512 against 256), small enough for the caches (input and hidden layer
   * 2.6 MB).
   */
  static final int CHUNK = 512;

  private final NetworkSpec spec;
  private final Broadcast<float[]> params;
  private final RowFeatures features;
  private final dev.sparkprop.data.FeatureScaling targetScaling; // a regression's: its outputs back in the targets' units

  RowScorer(NetworkSpec spec, Broadcast<float[]> params, RowFeatures features) {
    this(spec, params, features, dev.sparkprop.data.FeatureScaling.NONE);
  }

  RowScorer(NetworkSpec spec, Broadcast<float[]> params, RowFeatures features, dev.sparkprop.data.FeatureScaling targetScaling) {
    this.targetScaling = targetScaling;
    this.spec = spec;
    this.params = params;
    this.features = features;
  }

  @Override
  public Iterator<Row> call(Iterator<Row> rows) {
    Network net = Workspace.get(spec, Kernel.AUTO).network;
    net.setFixedParameters(params.value());
    int width = spec.inputSize();
    int classes = spec.outputSize();
    int partition = TaskContext.getPartitionId();
    int[] labels = new int[CHUNK];
    float[] zeros = spec.isRegression() ? new float[CHUNK * classes] : null;
    return new Iterator<>() {
      private final List<Row> in = new ArrayList<>(CHUNK);
      private final List<Row> out = new ArrayList<>(CHUNK);
      private int next;
      private long seen;

      @Override
      public boolean hasNext() {
        if (next < out.size()) return true;
        if (!rows.hasNext()) return false;
        in.clear();
        out.clear();
        next = 0;
        while (in.size() < CHUNK && rows.hasNext()) in.add(rows.next());
        int n = in.size();
        float[] x = net.input(n).data;
        for (int r = 0; r < n; r++) features.fill(in.get(r), x, r * width, partition, seen + r);
        boolean regression = spec.isRegression();
        if (regression) {
          net.forward(n, zeros, 0); // targets unknown: the loss is not used
          targetScaling.invert(net.output().data, n, classes);
        } else {
          net.forward(n, labels, 0);
        }
        float[] p = net.output().data;
        for (int r = 0; r < n; r++) {
          if (regression) { // prediction: a double, or an array of one per target
            Row row = in.get(r);
            Object[] v = new Object[row.length() + 1];
            for (int i = 0; i < row.length(); i++) v[i] = row.get(i);
            if (classes == 1) {
              v[row.length()] = (double) p[r];
            } else {
              double[] y = new double[classes];
              for (int j = 0; j < classes; j++) y[j] = p[r * classes + j];
              v[row.length()] = y;
            }
            out.add(RowFactory.create(v));
            continue;
          }
          Row row = in.get(r);
          Object[] v = new Object[row.length() + 2];
          for (int i = 0; i < row.length(); i++) v[i] = row.get(i);
          float[] probs = new float[classes];
          System.arraycopy(p, r * classes, probs, 0, classes);
          int best = net.predicted(r);
          v[row.length()] = best;
          v[row.length() + 1] = probs;
          out.add(RowFactory.create(v));
        }
        seen += n;
        return true;
      }

      @Override
      public Row next() {
        if (!hasNext()) throw new NoSuchElementException();
        return out.get(next++);
      }
    };
  }

}
