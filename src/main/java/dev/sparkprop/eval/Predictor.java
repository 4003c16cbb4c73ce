package dev.sparkprop.eval;

import dev.sparkprop.data.Shard;
import dev.sparkprop.nn.Network;
import dev.sparkprop.nn.NetworkSpec;
import dev.sparkprop.nn.Kernel;
import dev.sparkprop.nn.Workspace;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Per-row predictions of a shard, as Spark SQL rows: {@code id, label, prediction, loss,
 * prob_0 .. prob_(C-1)}. Runs on the executors; the rows feed the per-class report (a
 * {@code groupBy} over them) and the predict command's output.
 */
public final class Predictor {
  private Predictor() {}

  public static StructType schema(int classes) {
    List<StructField> f = new ArrayList<>(List.of(
        DataTypes.createStructField("id", DataTypes.StringType, false),
        DataTypes.createStructField("label", DataTypes.IntegerType, false),
        DataTypes.createStructField("prediction", DataTypes.IntegerType, false),
        DataTypes.createStructField("loss", DataTypes.DoubleType, false)));
    for (int k = 0; k < classes; k++) f.add(DataTypes.createStructField("prob_" + k, DataTypes.FloatType, false));
    return DataTypes.createStructType(f);
  }

  /**
   * @param ids one id per local row of the shard, or null to use the row's index in the data set
   */
  public static List<Row> predict(Shard shard, String[] ids, float[] params, NetworkSpec spec,
      dev.sparkprop.data.FeatureScaling scaling) {
    Network net = Workspace.get(spec, Kernel.AUTO).network;
    net.setParameters(params);
    int classes = spec.outputSize();
    int[] labels = shard.labels();
    List<Row> out = new ArrayList<>(shard.rows());
    for (int from = 0; from < shard.rows(); from += EvalFunction.CHUNK) {
      int n = Math.min(EvalFunction.CHUNK, shard.rows() - from);
      shard.copyRows(from, n, net.input(n).data);
      scaling.apply(net.input(n).data, n, shard.features());
      net.forward(n, labels, from);
      float[] probs = net.output().data;
      for (int r = 0; r < n; r++) {
        Object[] v = new Object[4 + classes];
        int best = net.predicted(r);
        int y = labels[from + r];
        v[0] = ids == null ? String.valueOf(shard.globalRow(from + r)) : ids[from + r];
        v[1] = y;
        v[2] = best;
        // per-row cross-entropy from the float probability, clamped at 1e-7 like Keras so that a
        // probability that underflowed to 0 gives a finite loss (EvalSum has the exact mean)
        v[3] = -Math.log(Math.max(probs[r * classes + y], 1e-7f));
        for (int j = 0; j < classes; j++) v[4 + j] = probs[r * classes + j];
        out.add(RowFactory.create(v));
      }
    }
    return out;
  }

}
