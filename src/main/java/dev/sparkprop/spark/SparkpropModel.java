package dev.sparkprop.spark;

import dev.sparkprop.data.BadInputException;
import dev.sparkprop.io.ModelStore;
import dev.sparkprop.io.SavedModel;
import dev.sparkprop.nn.NetworkSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.DoubleType;
import org.apache.spark.sql.types.FloatType;
import org.apache.spark.sql.types.StructType;

/**
 * A trained network for a Spark application: {@link #transform} scores a DataFrame on the
 * executors, {@link #save} and {@link #load} use the model format (docs/MODEL_FORMAT.md, with
 * {@code model.onnx}) on any Hadoop FileSystem URI, so a model from {@code submit/train-local}
 * loads here and the other way round.
 */
public final class SparkpropModel {
  private final SavedModel model;
  private String featuresCol;
  private String predictionCol = "prediction";
  private String probabilityCol = "probability";

  SparkpropModel(SavedModel model) {
    this.model = model;
  }

  /** Loads and checks a saved model (a directory written by {@link #save} or by the command line). */
  public static SparkpropModel load(String path) {
    try {
      return new SparkpropModel(ModelStore.load(path));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Saves the model; refuses to replace an existing one. */
  public void save(String path) {
    save(path, false);
  }

  /** Saves the model, atomically; {@code overwrite}: replace a model already there. */
  public void save(String path, boolean overwrite) {
    try {
      ModelStore.save(path, model, overwrite);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The features column {@link #transform} reads; by default the one of {@code image} and {@code features} that it finds. */
  public SparkpropModel setFeaturesCol(String column) {
    featuresCol = column;
    return this;
  }

  public SparkpropModel setPredictionCol(String column) {
    predictionCol = column;
    return this;
  }

  public SparkpropModel setProbabilityCol(String column) {
    probabilityCol = column;
    return this;
  }

  public NetworkSpec spec() {
    return model.spec();
  }

  /** A copy of the flat parameters (layout: docs/MODEL_FORMAT.md). */
  public float[] parameters() {
    return model.params().clone();
  }

  /** What the fit recorded: configuration, metrics (as saved in model.json's {@code info}). */
  public Map<String, Object> info() {
    return model.info();
  }

  /**
   * {@code df} with two columns added: {@code prediction} (int, the most probable class) and
   * {@code probability} (array of float, one per class), computed on the executors in batches;
   * every other column is kept. Lazy, like any transformation.
   *
   * @throws BadInputException the features column is missing or of the wrong type (at once), or a
   *     row's features are null, of the wrong length or not finite (when the rows are computed,
   *     naming the partition and row)
   */
  public Dataset<Row> transform(Dataset<Row> df) {
    StructType schema = df.schema();
    List<String> names = Arrays.asList(df.columns());
    String col = featuresCol != null ? featuresCol
        : names.contains("image") ? "image" : names.contains("features") ? "features" : null;
    if (col == null || !names.contains(col)) {
      throw new BadInputException("transform: the DataFrame has no " + (col == null ? "'image' or 'features'" : "'" + col + "'")
          + " column (columns: " + String.join(", ", names) + "); name the features column with setFeaturesCol");
    }
    for (String added : List.of(predictionCol, probabilityCol)) {
      if (names.contains(added)) {
        throw new BadInputException("transform: the DataFrame already has a column '" + added
            + "'; choose another name with setPredictionCol / setProbabilityCol");
      }
    }
    DataType t = schema.apply(col).dataType();
    boolean binary = t instanceof BinaryType;
    if (!binary && !(t instanceof ArrayType a && (a.elementType() instanceof FloatType || a.elementType() instanceof DoubleType))) {
      throw new BadInputException("transform: column '" + col + "' is " + t.simpleString()
          + ", expected binary (one byte 0..255 per pixel) or array<float> (or array<double>)");
    }
    StructType out = schema.add(predictionCol, DataTypes.IntegerType, false)
        .add(probabilityCol, DataTypes.createArrayType(DataTypes.FloatType, false), false);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(df.sparkSession().sparkContext());
    Broadcast<float[]> params = jsc.broadcast(model.params());
    RowScorer scorer = new RowScorer(model.spec(), params, schema.fieldIndex(col), col, binary);
    return df.mapPartitions(scorer, Encoders.row(out));
  }
}
