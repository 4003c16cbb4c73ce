package dev.sparkprop.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkprop.config.ConfigException;
import dev.sparkprop.data.BadInputException;
import dev.sparkprop.data.DataSpec;
import dev.sparkprop.data.Shard;
import dev.sparkprop.data.ShardReader;
import dev.sparkprop.io.ModelStore;
import dev.sparkprop.io.SavedModel;
import dev.sparkprop.train.TestData;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Spark application API: fit on DataFrames, transform, save and load, and its refusals. */
class SparkpropApiTest {
  private static final int ROWS = 3000;
  private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());
  private static SparkSession spark;
  private static Dataset<Row> train;
  private static Dataset<Row> test;

  @BeforeAll
  static void start() throws Exception {
    spark = TestData.spark("local[2]");
    train = table(TestData.mnist("train"), ROWS, true);
    test = table(TestData.mnist("t10k"), 10000, false);
  }

  @AfterAll
  static void stop() {
    if (spark != null) spark.stop();
  }

  /** The first {@code rows} rows of an IDX pair as a DataFrame: (row,) digit, image, and a column to keep. */
  private static Dataset<Row> table(DataSpec data, int rows, boolean rowColumn) throws Exception {
    Shard s = ShardReader.read(data.imagesPath, data.labelsPath, 10, rows, data.features, 0, ShardReader.ranges(rows, 1));
    float[] x = new float[rows * data.features];
    s.copyRows(0, rows, x);
    List<Row> out = new ArrayList<>(rows);
    for (int r = 0; r < rows; r++) {
      byte[] image = new byte[data.features];
      for (int j = 0; j < data.features; j++) image[j] = (byte) Math.round(x[r * data.features + j] * 255f);
      out.add(rowColumn ? RowFactory.create((long) r, s.labels()[r], image, "id" + r)
          : RowFactory.create(s.labels()[r], image, "id" + r));
    }
    StructType schema = new StructType();
    if (rowColumn) schema = schema.add("row", DataTypes.LongType, false);
    schema = schema.add("digit", DataTypes.IntegerType, false).add("image", DataTypes.BinaryType, false)
        .add("name", DataTypes.StringType, false);
    return spark.createDataFrame(out, schema);
  }

  private static SparkpropClassifier classifier() {
    return new SparkpropClassifier().setLabelCol("digit").setLayers("784,64,10").setEpochs(2).setBatchSize(100)
        .setLearningRate(0.1).setPartitions(2).setLog(QUIET);
  }

  /**
   * fit on a DataFrame and the command line's Train on the same rows of the IDX files are one
   * training (TrainingRun): the same bits, and the API's test set gives the command's test metrics.
   */
  @Test
  void fitOnADataFrameEqualsTheTrainCommandOnTheIdxFiles(@TempDir Path dir) throws Exception {
    SparkpropModel model = classifier().setTestData(test.limit(100)).fit(train);
    String out = dir.resolve("run").toString();
    String mnist = TestData.mnistDir().toString();
    int code = dev.sparkprop.cli.Train.run(new String[] {"layers=784,64,10", "epochs=2", "batch.size=100", "lr=0.1",
        "partitions=2", "train.limit=" + ROWS, "test.limit=100", "train.path=" + mnist, "test.path=" + mnist,
        "out=" + out}, QUIET);
    assertEquals(0, code, "the Train command failed");
    SavedModel cli = ModelStore.load(out + "/model");
    assertArrayEquals(cli.params(), model.parameters(), "the API and the command line must train the same bits");
    Map<?, ?> api = (Map<?, ?>) model.info().get("metrics");
    Map<?, ?> command = (Map<?, ?>) cli.info().get("metrics");
    assertEquals(2, api.get("epochs"));
    assertEquals(command.get("epochs"), api.get("epochs"));
    assertEquals(command.get("test_accuracy"), api.get("test_accuracy"), "the same 100 test rows, the same count");
    assertEquals(((Number) command.get("test_loss")).doubleValue(), ((Number) api.get("test_loss")).doubleValue(), 1e-9);
    assertEquals(ROWS, ((Map<?, ?>) model.info().get("training_data")).get("train_rows_used"));
    // the test set never chooses: without it, the same parameters
    assertArrayEquals(model.parameters(), classifier().fit(train).parameters());
  }

  @Test
  void transformAddsPredictionAndProbabilityAndKeepsEveryColumn(@TempDir Path dir) throws Exception {
    SparkpropModel model = classifier().fit(train, test.limit(500));
    assertTrue(((Map<?, ?>) model.info().get("metrics")).containsKey("validation_accuracy"), model.info().toString());
    Dataset<Row> scored = model.transform(test);
    assertEquals(List.of("digit", "image", "name", "prediction", "probability"), Arrays.asList(scored.columns()));
    assertEquals("array<float>", scored.schema().apply("probability").dataType().simpleString());
    scored.createOrReplaceTempView("scored");
    Row r = spark.sql("SELECT count(*), avg(CASE WHEN prediction = digit THEN 1.0 ELSE 0.0 END), "
        + "max(abs(aggregate(probability, 0D, (a, p) -> a + p) - 1)), count(DISTINCT name) FROM scored").first();
    assertEquals(10000L, r.getLong(0));
    double accuracy = r.getDecimal(1).doubleValue();
    System.out.printf("784-64-10, 2 epochs on %d rows: test accuracy %.4f%n", ROWS, accuracy);
    assertTrue(accuracy > 0.85, "accuracy " + accuracy);
    assertTrue(r.getDouble(2) < 1e-5, "probabilities sum to 1: " + r.getDouble(2));
    assertEquals(10000L, r.getLong(3));

    // saved and loaded (the model format, with model.onnx): the same predictions
    String saved = dir.resolve("model").toString();
    model.save(saved);
    assertTrue(dir.resolve("model/model.onnx").toFile().isFile());
    SparkpropModel back = SparkpropModel.load(saved);
    assertArrayEquals(model.parameters(), back.parameters());
    List<Row> a = model.transform(test.limit(300)).select("prediction", "probability").collectAsList();
    List<Row> b = back.transform(test.limit(300)).select("prediction", "probability").collectAsList();
    assertEquals(a, b);
    assertThrows(dev.sparkprop.io.BadModelException.class, () -> model.save(saved), "an existing model is not replaced");

    // throughput of transform on the 10,000-row test table (a benchmark figure, not a target here)
    Dataset<Row> cached = test.cache();
    cached.count();
    for (int i = 0; i < 3; i++) {
      long t0 = System.nanoTime();
      long n = model.transform(cached).selectExpr("sum(prediction)").first().getLong(0);
      double s = (System.nanoTime() - t0) / 1e9;
      System.out.printf("transform 784-64-10: 10000 rows in %.3f s (%.0f rows/s; checksum %d)%n", s, 10000 / s, n);
    }
  }

  /**
   * keep=best on a validation DataFrame keeps the parameters of the epoch with the lowest
   * validation loss: with a constant rate they are, bit for bit, those of a run of that many
   * epochs; early.stop.patience ends the run that many epochs after it.
   */
  @Test
  void keepBestAndEarlyStoppingChooseByTheValidationLoss() {
    Dataset<Row> small = train.where("row < 400");
    Dataset<Row> validation = test.limit(1000);
    SparkpropModel best = classifier().setEpochs(12).setLearningRate(0.5).set("lr.schedule", "constant")
        .set("keep", "best").set("early.stop.patience", "2").fit(small, validation);
    Map<?, ?> metrics = (Map<?, ?>) best.info().get("metrics");
    int kept = (Integer) metrics.get("kept_epoch");
    int ran = (Integer) metrics.get("epochs");
    System.out.printf("keep=best, patience 2: ran %d epochs, kept epoch %d, validation loss %s%n", ran, kept,
        metrics.get("validation_loss"));
    assertTrue(ran == 12 || ran == kept + 2, "stopped 2 epochs after the best, or ran them all: ran " + ran + ", kept " + kept);
    SparkpropModel shorter = classifier().setEpochs(kept).setLearningRate(0.5).set("lr.schedule", "constant").fit(small);
    assertArrayEquals(shorter.parameters(), best.parameters(), "the kept epoch's parameters");
    ConfigException e = assertThrows(ConfigException.class, () -> classifier().set("keep", "best").fit(small));
    assertTrue(e.getMessage().startsWith("keep=best and early.stop.patience need a validation set"), e.getMessage());
  }

  /**
   * validation.fraction holds out the rows its seeded split names: the model is bit for bit the
   * one trained on a DataFrame of just the training side's rows.
   */
  @Test
  void validationFractionTrainsOnExactlyTheRowsItDoesNotHoldOut() {
    SparkpropModel held = classifier().set("validation.fraction", "0.1").fit(train);
    Map<?, ?> metrics = (Map<?, ?>) held.info().get("metrics");
    assertTrue(metrics.containsKey("validation_accuracy"), metrics.toString());
    long seed = Long.parseLong(classifier().config().get("seed"));
    dev.sparkprop.data.RowSubset side = dev.sparkprop.data.RowSubset.split(ROWS, 0.1, seed)[0];
    assertEquals(2700, side.size());
    List<Row> kept = new ArrayList<>();
    for (Row r : train.orderBy("row").collectAsList()) {
      int q = side.position((int) r.getLong(0));
      if (q >= 0) kept.add(RowFactory.create((long) q, r.get(1), r.get(2), r.get(3)));
    }
    assertEquals(2700, kept.size());
    SparkpropModel plain = classifier().fit(spark.createDataFrame(kept, train.schema()));
    assertArrayEquals(plain.parameters(), held.parameters(), "trained on the training side's rows only");
    ConfigException e = assertThrows(ConfigException.class,
        () -> classifier().set("validation.fraction", "0.1").fit(train, test.limit(10)));
    assertTrue(e.getMessage().startsWith("validation.fraction and a validation DataFrame are both set; choose one validation set"), e.getMessage());
  }

  /**
   * With a checkpoint folder a fit writes a checkpoint per epoch, and a fit into a folder whose
   * newest checkpoint is of an earlier epoch (an interrupted fit) continues from it to the
   * parameters of an uninterrupted fit, bit for bit; resume=false refuses such a folder, and
   * checkpoints without a folder are refused.
   */
  @Test
  void aFitWithACheckpointFolderContinuesFromItsNewestCheckpointBitForBit(@TempDir Path dir) throws Exception {
    SparkpropModel whole = classifier().setEpochs(3).fit(train);
    Path folder = dir.resolve("checkpoints");
    SparkpropModel checkpointed = classifier().setEpochs(3).set("checkpoint.keep", "5")
        .setCheckpointDir(folder.toString()).fit(train);
    assertArrayEquals(whole.parameters(), checkpointed.parameters(), "writing checkpoints changes nothing");
    List<Path> written;
    try (var files = java.nio.file.Files.list(folder)) {
      written = files.filter(f -> f.getFileName().toString().startsWith("ckpt-")).sorted().toList();
    }
    assertEquals(2, written.size(), "one checkpoint after each epoch but the last: " + written);
    // the fit "stopped" after its first epoch: only that checkpoint is left
    org.apache.commons.io.FileUtils.deleteDirectory(written.get(1).toFile());
    java.io.ByteArrayOutputStream log = new java.io.ByteArrayOutputStream();
    SparkpropModel resumed = classifier().setEpochs(3).setCheckpointDir(folder.toString())
        .setLog(new PrintStream(log, true, java.nio.charset.StandardCharsets.UTF_8)).fit(train);
    assertTrue(log.toString(java.nio.charset.StandardCharsets.UTF_8).contains("resuming from checkpoint "), log.toString());
    assertArrayEquals(whole.parameters(), resumed.parameters(), "resumed from epoch 1: the uninterrupted fit's bits");
    ConfigException c = assertThrows(ConfigException.class,
        () -> classifier().setEpochs(3).set("resume", "false").setCheckpointDir(folder.toString()).fit(train));
    assertTrue(c.getMessage().contains("holds checkpoints of an earlier run and resume=false"), c.getMessage());
    c = assertThrows(ConfigException.class, () -> classifier().set("checkpoint.every", "1").fit(train));
    assertTrue(c.getMessage().startsWith("checkpoint.every: checkpoints need a folder; set one with setCheckpointDir"),
        c.getMessage());
  }

  /**
   * What a Spark ML pipeline hands over: a VectorAssembler's vector column of measurements on
   * scales from 1e-3 to 1e4 and string labels. The fit standardizes (auto), the model keeps the
   * scaling and the class names, transform adds prediction_label, evaluate takes the string labels.
   */
  @Test
  void aVectorColumnAndStringLabelsFromAnMlPipeline() throws Exception {
    java.util.Random r = new java.util.Random(11);
    List<Row> rows = new java.util.ArrayList<>();
    for (int i = 0; i < 3000; i++) {
      boolean yes = r.nextBoolean();
      double z = r.nextGaussian() + (yes ? 1.5 : -1.5);
      rows.add(RowFactory.create(yes ? "yes" : "no", 1e-3 * z + 0.05, 1e4 * r.nextGaussian(), 200 + 30 * r.nextGaussian()));
    }
    StructType schema = new StructType().add("answer", DataTypes.StringType).add("a", DataTypes.DoubleType)
        .add("b", DataTypes.DoubleType).add("c", DataTypes.DoubleType);
    Dataset<Row> raw = spark.createDataFrame(rows, schema);
    Dataset<Row> df = new org.apache.spark.ml.feature.VectorAssembler().setInputCols(new String[] {"a", "b", "c"})
        .setOutputCol("features").transform(raw);
    Dataset<Row>[] split = df.randomSplit(new double[] {0.8, 0.2}, 1);
    SparkpropModel model = new SparkpropClassifier().setLabelCol("answer").setLayers("dense(16) relu, dense(2) softmax")
        .setEpochs(5).setBatchSize(64).setOptimizer("adam").setLearningRate(0.01).setPartitions(2).setLog(QUIET)
        .fit(split[0]);
    assertEquals(List.of("no", "yes"), model.labels());
    assertEquals(dev.sparkprop.data.FeatureScaling.Kind.STANDARD, model.featureScaling().kind());
    Evaluation e = model.setLabelCol("answer").evaluate(split[1]);
    assertTrue(e.accuracy() > 0.9, "accuracy " + e.accuracy() + " (the Bayes classifier's is 0.93)");
    Dataset<Row> scored = model.transform(split[1]);
    long agree = scored.where(scored.col("prediction_label").equalTo(scored.col("answer"))).count();
    assertEquals(Math.round(e.accuracy() * e.rows()), agree, "prediction_label names the predicted class");
    Path saved = Files.createTempDirectory("vector-model");
    model.save(saved.resolve("m").toString());
    SparkpropModel back = SparkpropModel.load(saved.resolve("m").toString());
    assertEquals(model.featureScaling(), back.featureScaling());
    assertEquals(e.accuracy(), back.setLabelCol("answer").evaluate(split[1]).accuracy(), 0.0);
  }

  /** Named numeric columns of a DataFrame (any numeric types): the model keeps their names and transform reads them. */
  @Test
  void namedNumericColumnsOfADataFrame() {
    java.util.Random r = new java.util.Random(13);
    List<Row> rows = new java.util.ArrayList<>();
    for (int i = 0; i < 3000; i++) {
      int y = r.nextInt(2);
      rows.add(RowFactory.create(y, (int) (1000 * (y + r.nextGaussian())), 1e-3 * (r.nextGaussian() - y), "id" + i,
          (float) r.nextGaussian()));
    }
    StructType schema = new StructType().add("y", DataTypes.IntegerType).add("count", DataTypes.IntegerType)
        .add("rate", DataTypes.DoubleType).add("name", DataTypes.StringType).add("noise", DataTypes.FloatType);
    Dataset<Row> df = spark.createDataFrame(rows, schema);
    SparkpropModel all = new SparkpropClassifier().setLabelCol("y").setLayers("dense(8) relu, dense(2) softmax")
        .setEpochs(3).setBatchSize(64).setOptimizer("adam").setLearningRate(0.01).setPartitions(2).setLog(QUIET).fit(df);
    assertEquals(List.of("count", "rate", "noise"), all.featureColumns(), "every numeric column but the label");
    SparkpropModel two = new SparkpropClassifier().setLabelCol("y").setFeaturesCols("rate", "count")
        .setLayers("dense(8) relu, dense(2) softmax").setEpochs(3).setBatchSize(64).setOptimizer("adam")
        .setLearningRate(0.01).setPartitions(2).setLog(QUIET).fit(df);
    assertEquals(List.of("rate", "count"), two.featureColumns());
    Evaluation e = two.setLabelCol("y").evaluate(df);
    assertTrue(e.accuracy() > 0.72, e + " (the Bayes classifier's is Phi(1/sqrt 2) = 0.76)");
    Dataset<Row> scored = two.transform(df.drop("noise"));
    long right = scored.where(scored.col("prediction").equalTo(scored.col("y"))).count();
    assertEquals(Math.round(e.accuracy() * e.rows()), right, "transform reads the model's columns");
  }

  /** loss=mse on a VectorAssembler column: transform gives prediction as a double in the target's units, evaluate R^2. */
  @Test
  void aRegressionOnAVectorColumn() {
    java.util.Random r = new java.util.Random(12);
    List<Row> rows = new java.util.ArrayList<>();
    for (int i = 0; i < 4000; i++) {
      double a = r.nextGaussian();
      double b = r.nextGaussian();
      rows.add(RowFactory.create(1000 + 300 * a - 50 * b + 30 * r.nextGaussian(), 1e-3 * a, 1e3 * b + 5e3));
    }
    StructType schema = new StructType().add("price", DataTypes.DoubleType).add("a", DataTypes.DoubleType)
        .add("b", DataTypes.DoubleType);
    Dataset<Row> df = new org.apache.spark.ml.feature.VectorAssembler().setInputCols(new String[] {"a", "b"})
        .setOutputCol("features").transform(spark.createDataFrame(rows, schema));
    Dataset<Row>[] split = df.randomSplit(new double[] {0.8, 0.2}, 2);
    SparkpropModel model = new SparkpropClassifier().set("loss", "mse").setLabelCol("price").setLayers("dense(1)")
        .setEpochs(15).setBatchSize(64).setOptimizer("adam").setLearningRate(0.05).setPartitions(2).setLog(QUIET)
        .fit(split[0]);
    assertTrue(model.spec().isRegression());
    Evaluation e = model.setLabelCol("price").evaluate(split[1]);
    assertTrue(e.isRegression() && e.r2() > 0.97, e.toString() + " (the noise leaves R^2 0.99)");
    Dataset<Row> scored = model.transform(split[1]);
    assertEquals(DataTypes.DoubleType, scored.schema().apply("prediction").dataType());
    double sse = 0;
    for (Row row : scored.select("price", "prediction").collectAsList()) {
      double d = row.getDouble(0) - row.getDouble(1);
      sse += d * d;
    }
    assertEquals(e.mse(), sse / e.rows(), 1e-6 * e.mse(), "transform's predictions are evaluate's, in the target's units");
  }

  @Test
  void badColumnsAndKeysAreRefusedBeforeTraining() {
    Dataset<Row> noLabel = train.drop("digit");
    BadInputException e = assertThrows(BadInputException.class, () -> classifier().fit(noLabel));
    assertTrue(e.getMessage().startsWith("training DataFrame has no column 'digit' for the labels (columns: row, image, name)"),
        e.getMessage());
    Dataset<Row> textImage = train.withColumn("image", org.apache.spark.sql.functions.lit("x"));
    e = assertThrows(BadInputException.class, () -> classifier().fit(textImage));
    assertTrue(e.getMessage().contains("column 'image' is string, expected binary"), e.getMessage());
    Dataset<Row> realLabel = train.withColumn("digit", org.apache.spark.sql.functions.lit(7.5));
    e = assertThrows(BadInputException.class, () -> classifier().fit(realLabel));
    assertTrue(e.getMessage().contains("column 'digit' is double, expected integer classes or string labels"), e.getMessage());
    // string labels name the classes: one name is not the ten the network has
    Dataset<Row> textLabel = train.withColumn("digit", org.apache.spark.sql.functions.lit("7"));
    ConfigException c = assertThrows(ConfigException.class, () -> classifier().fit(textLabel));
    assertTrue(c.getMessage().contains("classes: the training labels name 1 classes (7) but the network has 10 outputs"),
        c.getMessage());
    c = assertThrows(ConfigException.class, () -> new SparkpropClassifier().set("train.path", "x"));
    assertTrue(c.getMessage().startsWith("train.path: a key of the command line's files"), c.getMessage());
    assertThrows(ConfigException.class, () -> new SparkpropClassifier().set("lr", "fast"));
    c = assertThrows(ConfigException.class, () -> classifier().setLayers("100,10").fit(train));
    assertTrue(c.getMessage().contains("the training DataFrame has 784 features per row"), c.getMessage());
  }

  @Test
  void aBadRowFailsTheFitNamingItsRowAndColumn() {
    Dataset<Row> withNull = train.withColumn("image",
        org.apache.spark.sql.functions.expr("CASE WHEN row = 123 THEN CAST(NULL AS BINARY) ELSE image END"));
    Exception e = assertThrows(Exception.class, () -> classifier().fit(withNull));
    String m = String.valueOf(e.getMessage());
    assertTrue(m.contains("training_DataFrame_") && m.contains(", row 123, column image: null"), m);
    Dataset<Row> shortImage = test.limit(10).withColumn("image", org.apache.spark.sql.functions.expr("substr(image, 1, 100)"));
    SparkpropModel model = classifier().setEpochs(1).fit(train.limit(500));
    e = assertThrows(Exception.class, () -> model.transform(shortImage).collectAsList());
    assertTrue(String.valueOf(e.getMessage()).contains("column image: 100 bytes, the model takes 784"), e.getMessage());
  }

  /** transform reads array<float> and array<double> features as well as binary images: the same predictions; bad values name their row. */
  @Test
  void transformReadsArrayFeaturesLikeImagesAndNamesABadValue() {
    SparkpropModel model = classifier().setEpochs(1).fit(train.limit(500));
    Dataset<Row> some = test.limit(200);
    Dataset<Row> doubles = some.selectExpr("digit", "transform(sequence(0, 783), i -> "
        + "conv(hex(substr(image, i + 1, 1)), 16, 10) / 255D) AS features");
    Dataset<Row> floats = doubles.selectExpr("digit", "transform(features, v -> CAST(v AS FLOAT)) AS features");
    List<Row> fromImages = model.transform(some).select("prediction", "probability").collectAsList();
    assertEquals(fromImages, model.transform(doubles).select("prediction", "probability").collectAsList(), "array<double>");
    assertEquals(fromImages, model.transform(floats).select("prediction", "probability").collectAsList(), "array<float>");
    Dataset<Row> withNaN = doubles.limit(20).withColumn("features",
        org.apache.spark.sql.functions.expr("transform(features, (v, i) -> IF(i = 7, CAST('NaN' AS DOUBLE), v))"));
    Exception e = assertThrows(Exception.class, () -> model.transform(withNaN).collectAsList());
    assertTrue(String.valueOf(e.getMessage()).contains(", row 0 of it, column features: value 7 is NaN"), e.getMessage());
    Dataset<Row> withNull = floats.limit(20).withColumn("features",
        org.apache.spark.sql.functions.expr("IF(digit >= 0, CAST(NULL AS ARRAY<FLOAT>), features)"));
    e = assertThrows(Exception.class, () -> model.transform(withNull).collectAsList());
    assertTrue(String.valueOf(e.getMessage()).contains(", row 0 of it, column features: null"), e.getMessage());
  }

  /** evaluate counts as the command line's evaluation does (EvalFunction on the IDX shard); a bad label names its row. */
  @Test
  void evaluateCountsLikeTheCommandLineAndRefusesBadLabels() throws Exception {
    SparkpropModel model = classifier().setEpochs(1).fit(train.limit(2000)).setLabelCol("digit");
    Evaluation e = model.evaluate(test);
    DataSpec t10k = TestData.mnist("t10k");
    Shard s = ShardReader.read(t10k.imagesPath, t10k.labelsPath, 10, 10000, t10k.features, 0, ShardReader.ranges(10000, 1));
    dev.sparkprop.eval.EvalSum reference = new dev.sparkprop.eval.EvalSum(10);
    dev.sparkprop.eval.EvalFunction.evaluate(s, model.parameters(), model.featureScaling(),
        new dev.sparkprop.nn.Network(model.spec(), dev.sparkprop.nn.Kernel.AUTO.gemm()), reference);
    assertEquals(10000, e.rows());
    assertEquals(reference.accuracy(), e.accuracy(), 0.0, "the same correct predictions");
    long[][] m = e.confusion();
    for (int a = 0; a < 10; a++) {
      for (int b = 0; b < 10; b++) assertEquals(reference.confusion[a * 10 + b], m[a][b], "confusion " + a + "," + b);
    }
    assertEquals(reference.meanLoss(), e.meanLoss(), 1e-9 * reference.meanLoss(), "the same loss up to the order of the sums");
    // the same accuracy as transform's predictions, counted with Spark SQL
    double viaTransform = model.transform(test).selectExpr("avg(CASE WHEN prediction = digit THEN 1.0 ELSE 0.0 END)")
        .first().getDecimal(0).doubleValue();
    assertEquals(viaTransform, e.accuracy(), 1e-12);

    BadInputException missing = assertThrows(BadInputException.class, () -> model.setLabelCol("label").evaluate(test));
    assertTrue(missing.getMessage().startsWith("evaluate: the DataFrame has no 'label' column"), missing.getMessage());
    model.setLabelCol("digit");
    Dataset<Row> shifted = test.limit(50).withColumn("digit", org.apache.spark.sql.functions.expr("digit + 10"));
    Exception bad = assertThrows(Exception.class, () -> model.evaluate(shifted));
    assertTrue(String.valueOf(bad.getMessage()).contains(", row 0 of it, column digit: class "), bad.getMessage());
  }
}
