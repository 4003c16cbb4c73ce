package dev.sparkprop.spark;

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
 * The executor side of {@link SparkpropModel#evaluate}: a partition's rows (label, features)
 * {@link RowScorer#CHUNK} at a time through the forward pass, into one {@link EvalSum} (rows,
 * correct predictions, summed cross-entropy, confusion matrix) as the command line's evaluation
 * counts them.
 */
final class RowEvaluator implements FlatMapFunction<Iterator<Row>, EvalSum> {
  private static final long serialVersionUID = 1L;
  private final NetworkSpec spec;
  private final Broadcast<float[]> params;
  private final RowFeatures features; // column 1 of the rows
  private final String labelCol;
  private final boolean named; // the labels were strings, -1 for one the model does not know

  RowEvaluator(NetworkSpec spec, Broadcast<float[]> params, RowFeatures features, String labelCol, boolean named) {
    this.named = named;
    this.spec = spec;
    this.params = params;
    this.features = features;
    this.labelCol = labelCol;
  }

  @Override
  public Iterator<EvalSum> call(Iterator<Row> rows) {
    Network net = Workspace.get(spec, Kernel.AUTO).network;
    net.setFixedParameters(params.value());
    int width = spec.inputSize();
    int classes = spec.outputSize();
    int partition = TaskContext.getPartitionId();
    int[] labels = new int[RowScorer.CHUNK];
    EvalSum sum = new EvalSum(classes);
    long seen = 0;
    while (rows.hasNext()) {
      float[] x = net.input(RowScorer.CHUNK).data;
      int n = 0;
      for (; n < RowScorer.CHUNK && rows.hasNext(); n++) {
        Row row = rows.next();
        if (row.isNullAt(0)) throw features.bad(partition, seen + n, labelCol, "null");
        int y = row.getInt(0);
        if (named && y < 0) throw features.bad(partition, seen + n, labelCol, "a label that is not among the model's labels");
        if (y < 0 || y >= classes) {
          throw features.bad(partition, seen + n, labelCol, "class " + y + ", the model has classes 0.." + (classes - 1));
        }
        labels[n] = y;
        features.fill(row, x, n * width, partition, seen + n);
      }
      net.input(n); // this chunk's shape; the values stay
      sum.lossSum += net.forward(n, labels, 0);
      for (int r = 0; r < n; r++) sum.add(labels[r], net.predicted(r));
      seen += n;
    }
    return Collections.singletonList(sum).iterator();
  }
}
