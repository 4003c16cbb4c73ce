package dev.sparkprop.spark;

import dev.sparkprop.data.BadInputException;
import dev.sparkprop.eval.EvalSum;
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
  private Broadcast<float[]> broadcast;
  private org.apache.spark.SparkContext broadcastContext;
  private String featuresCol;
  private String labelCol = "label";
  private String predictionCol = "prediction";
  private String probabilityCol = "probability";

  SparkpropModel(SavedModel model) {
    this.model = model;
  }

  /** The API's view of a model already loaded (and checked) with {@link dev.sparkprop.io.ModelStore}. */
  public static SparkpropModel of(SavedModel model) {
    return new SparkpropModel(model);
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

  /** The label column {@link #evaluate} reads (default {@code label}). */
  public SparkpropModel setLabelCol(String column) {
    labelCol = column;
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

  /** How the model scales a row's features before its first layer (kept in the model and its ONNX graph). */
  public dev.sparkprop.data.FeatureScaling featureScaling() {
    return model.scaling();
  }

  /** The table columns the model reads its features from, in input order (empty: an image, array or vector column). */
  public List<String> featureColumns() {
    return model.featureColumns();
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
   * {@code probability} (array of float, one per class), and for a model of string labels a third,
   * {@code prediction_label} (the class's name); computed on the executors in batches, from the
   * features column (binary, array or Spark ML vector) or, for a model trained on named columns,
   * those columns, scaled by the model's feature scaling; every other column is kept. Lazy, like
   * any transformation.
   *
   * @throws BadInputException the features column is missing or of the wrong type (at once), or a
   *     row's features are null, of the wrong length or not finite (when the rows are computed,
   *     naming the partition and row)
   */
  public Dataset<Row> transform(Dataset<Row> df) {
    StructType schema = df.schema();
    List<String> names = Arrays.asList(df.columns());
    String col = featuresColumn(df, "transform"); // null: the model's feature columns
    for (String added : List.of(predictionCol, probabilityCol)) {
      if (names.contains(added)) {
        throw new BadInputException("transform: the DataFrame already has a column '" + added
            + "'; choose another name with setPredictionCol / setProbabilityCol");
      }
    }
    RowFeatures features = rowFeatures(schema, col, "transform");
    if (model.spec().isRegression()) { // prediction: a double in the target's units, or an array of one per target
      StructType reg = schema.add(predictionCol, model.spec().outputSize() == 1 ? DataTypes.DoubleType
          : DataTypes.createArrayType(DataTypes.DoubleType, false), false);
      return df.mapPartitions(new RowScorer(model.spec(), parameters(df.sparkSession().sparkContext()), features,
          model.targetScaling()), Encoders.row(reg));
    }
    StructType out = schema.add(predictionCol, DataTypes.IntegerType, false)
        .add(probabilityCol, DataTypes.createArrayType(DataTypes.FloatType, false), false);
    Dataset<Row> scored = df.mapPartitions(new RowScorer(model.spec(), parameters(df.sparkSession().sparkContext()), features),
        Encoders.row(out));
    if (model.labels().isEmpty() || model.spec().isRegression()) return scored;
    if (names.contains(predictionCol + "_label")) {
      throw new BadInputException("transform: the DataFrame already has a column '" + predictionCol
          + "_label'; choose another prediction column name with setPredictionCol");
    }
    // the class's name: element k of the model's labels (Spark SQL arrays are 1-based in element_at)
    return scored.withColumn(predictionCol + "_label",
        org.apache.spark.sql.functions.element_at(org.apache.spark.sql.functions.array(labelLits()),
            scored.col(predictionCol).plus(1)));
  }

  /**
   * The model on a labelled DataFrame, computed on the executors: rows, accuracy, mean
   * cross-entropy and confusion matrix, counted as the command line's {@code evaluate} counts
   * them. The labels are an integer column ({@code label}, or {@link #setLabelCol}) in [0,
   * classes); the features are read as by {@link #transform}.
   *
   * @throws BadInputException a missing column or one of the wrong type (at once), or a bad row
   *     (naming its partition, row and column)
   */
  public Evaluation evaluate(Dataset<Row> df) {
    if (model.spec().isRegression()) return evaluateRegression(df);
    List<String> names = Arrays.asList(df.columns());
    if (!names.contains(labelCol)) {
      throw new BadInputException("evaluate: the DataFrame has no '" + labelCol + "' column (columns: "
          + String.join(", ", names) + "); name the label column with setLabelCol");
    }
    DataType lt = df.schema().apply(labelCol).dataType();
    boolean named = !model.labels().isEmpty();
    boolean integer = lt instanceof org.apache.spark.sql.types.IntegerType || lt instanceof org.apache.spark.sql.types.LongType
        || lt instanceof org.apache.spark.sql.types.ShortType || lt instanceof org.apache.spark.sql.types.ByteType;
    if (!integer && !(named && lt instanceof org.apache.spark.sql.types.StringType)) {
      throw new BadInputException("evaluate: column '" + labelCol + "' is " + lt.simpleString() + ", expected "
          + (named ? "the model's string labels or integer classes" : "an integer class"));
    }
    String col = featuresColumn(df, "evaluate");
    List<org.apache.spark.sql.Column> picked = new java.util.ArrayList<>();
    org.apache.spark.sql.Column label = df.col(labelCol);
    if (!integer) { // a string label's class: its place among the model's labels (-1: none, refused by the counter)
      label = org.apache.spark.sql.functions.array_position(org.apache.spark.sql.functions.array(labelLits()), label).minus(1);
    }
    picked.add(label.cast(DataTypes.IntegerType));
    for (String c : col != null ? List.of(col) : model.featureColumns()) picked.add(df.col("`" + c.replace("`", "``") + "`"));
    Dataset<Row> pairs = df.select(picked.toArray(new org.apache.spark.sql.Column[0]));
    RowFeatures features = rowFeatures(pairs.schema(), col != null ? pairs.columns()[1] : null, "evaluate");
    RowEvaluator counter = new RowEvaluator(model.spec(), parameters(df.sparkSession().sparkContext()), features, labelCol,
        !integer);
    EvalSum total = new EvalSum(model.spec().outputSize());
    for (EvalSum s : pairs.javaRDD().mapPartitions(counter).collect()) {
      total.merge(s); // in partition order: the same sum every time
    }
    return new Evaluation(total);
  }

  /**
   * The parameters broadcast to {@code sc}'s executors, once per model and SparkContext: every
   * transform and evaluate of this model reads the same broadcast (lazy Datasets may run any time later, so it
   * is never destroyed here; Spark's cleaner removes it once the model and its Datasets are gone).
   */
  private synchronized Broadcast<float[]> parameters(org.apache.spark.SparkContext sc) {
    if (broadcast == null || broadcastContext != sc) {
      broadcast = JavaSparkContext.fromSparkContext(sc).broadcast(model.params());
      broadcastContext = sc;
    }
    return broadcast;
  }

  /**
   * A regression model on a DataFrame holding its target columns (those it was trained on; a
   * single target may also be the label column {@link #setLabelCol} names): mean squared error,
   * RMSE, MAE and R^2 in the targets' units.
   */
  private Evaluation evaluateRegression(Dataset<Row> df) {
    List<String> names = Arrays.asList(df.columns());
    List<String> targets = new java.util.ArrayList<>(model.labels());
    if (targets.size() == 1 && !names.contains(targets.get(0)) && names.contains(labelCol)) targets.set(0, labelCol);
    for (String t : targets) {
      if (!names.contains(t)) {
        throw new BadInputException("evaluate: the DataFrame has no '" + t + "' column for the regression target (columns: "
            + String.join(", ", names) + ")" + (targets.size() == 1 ? "; name it with setLabelCol" : ""));
      }
      if (!(df.schema().apply(t).dataType() instanceof org.apache.spark.sql.types.NumericType)) {
        throw new BadInputException("evaluate: column '" + t + "' is " + df.schema().apply(t).dataType().simpleString()
            + ", expected a numeric regression target");
      }
    }
    String col = featuresColumn(df, "evaluate");
    List<org.apache.spark.sql.Column> picked = new java.util.ArrayList<>();
    for (String t : targets) picked.add(df.col("`" + t.replace("`", "``") + "`").cast(DataTypes.DoubleType).as("__target_" + picked.size()));
    for (String c : col != null ? List.of(col) : model.featureColumns()) picked.add(df.col("`" + c.replace("`", "``") + "`"));
    Dataset<Row> rows = df.select(picked.toArray(new org.apache.spark.sql.Column[0]));
    RowFeatures features = rowFeatures(rows.schema(), col != null ? rows.columns()[targets.size()] : null, "evaluate");
    RegressionEvaluator counter = new RegressionEvaluator(model.spec(), parameters(df.sparkSession().sparkContext()), features,
        model.targetScaling(), targets.toArray(new String[0]));
    EvalSum total = EvalSum.regression(model.spec().outputSize());
    for (EvalSum s : rows.javaRDD().mapPartitions(counter).collect()) total.merge(s); // in partition order
    return new Evaluation(total);
  }

  /** The model's class names as literal columns, class k's at k. */
  private org.apache.spark.sql.Column[] labelLits() {
    org.apache.spark.sql.Column[] c = new org.apache.spark.sql.Column[model.labels().size()];
    for (int k = 0; k < c.length; k++) c[k] = org.apache.spark.sql.functions.lit(model.labels().get(k));
    return c;
  }

  /** A regression model's target scaling: its outputs are {@code z * scale + shift} in the targets' units. */
  public dev.sparkprop.data.FeatureScaling targetScaling() {
    return model.targetScaling();
  }

  /** The class names of a model trained on string labels (class k's at k); empty for integer classes. */
  public List<String> labels() {
    return model.labels();
  }

  /**
   * The features column: the one set, else {@code image} or {@code features}, whichever the
   * DataFrame has; null when it has neither but every column the model was trained on (a table
   * of named feature columns).
   */
  private String featuresColumn(Dataset<Row> df, String operation) {
    List<String> names = Arrays.asList(df.columns());
    String col = featuresCol != null ? featuresCol
        : names.contains("image") ? "image" : names.contains("features") ? "features" : null;
    if (col == null && !model.featureColumns().isEmpty()) {
      List<String> missing = new java.util.ArrayList<>(model.featureColumns());
      missing.removeAll(names);
      if (missing.isEmpty()) return null;
      throw new BadInputException(operation + ": the DataFrame lacks the model's feature column" + (missing.size() > 1 ? "s " : " ")
          + String.join(", ", missing.subList(0, Math.min(8, missing.size()))) + (missing.size() > 8 ? ", ..." : "")
          + " (columns: " + String.join(", ", names) + "); give them, or a features column with setFeaturesCol");
    }
    if (col == null || !names.contains(col)) {
      throw new BadInputException(operation + ": the DataFrame has no " + (col == null ? "'image' or 'features'" : "'" + col + "'")
          + " column (columns: " + String.join(", ", names) + "); name the features column with setFeaturesCol");
    }
    return col;
  }

  /**
   * How rows of {@code schema} give the network its input: column {@code col} (binary, an array of
   * float or double, or a Spark ML vector; any other type is refused), or when null the model's
   * feature columns (numeric each).
   */
  private RowFeatures rowFeatures(StructType schema, String col, String operation) {
    int width = model.spec().inputSize();
    if (col == null) {
      List<String> cols = model.featureColumns();
      int[] idx = new int[cols.size()];
      for (int j = 0; j < idx.length; j++) {
        String c = cols.get(j);
        idx[j] = schema.fieldIndex(c);
        DataType t = schema.fields()[idx[j]].dataType();
        if (!(t instanceof org.apache.spark.sql.types.NumericType)) {
          throw new BadInputException(operation + ": column '" + c + "' is " + t.simpleString() + ", expected a numeric type");
        }
      }
      return new RowFeatures(RowFeatures.Kind.COLUMNS, idx, cols.toArray(new String[0]), null, width, model.scaling(), operation);
    }
    DataType t = schema.apply(col).dataType();
    RowFeatures.Kind kind;
    if (t instanceof BinaryType) {
      kind = RowFeatures.Kind.BINARY;
    } else if (dev.sparkprop.table.TableInput.isVector(t)) {
      kind = RowFeatures.Kind.VECTOR;
    } else if (t instanceof ArrayType a && (a.elementType() instanceof FloatType || a.elementType() instanceof DoubleType)) {
      kind = RowFeatures.Kind.ARRAY;
    } else {
      throw new BadInputException(operation + ": column '" + col + "' is " + t.simpleString()
          + ", expected binary (one byte 0..255 per pixel), array<float> (or array<double>) or a Spark ML vector");
    }
    return new RowFeatures(kind, new int[] {schema.fieldIndex(col)}, new String[] {col}, kind == RowFeatures.Kind.VECTOR ? t : null,
        width, model.scaling(), operation);
  }
}
