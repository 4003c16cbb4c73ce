package dev.sparkprop.table;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkprop.data.BadInputException;
import dev.sparkprop.data.DataFormat;
import dev.sparkprop.data.DataSpec;
import dev.sparkprop.data.Shard;
import dev.sparkprop.data.ShardReader;
import dev.sparkprop.train.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
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

/**
 * Tables of real-valued features: named numeric columns (CSV decimals, any numeric SQL type),
 * arrays of any finite values, Spark ML vector columns (dense and sparse, from
 * {@link VectorAssembler}), each read into shards with its values as the table holds them.
 */
class FeatureTablesTest {
  private static SparkSession spark;
  @TempDir Path dir;

  @BeforeAll
  static void start() {
    spark = TestData.spark("local[2]");
  }

  @AfterAll
  static void stop() {
    if (spark != null) spark.stop();
  }

  /** Every row's features, in the table's row order (by each row's global id). */
  private static float[][] features(List<Shard> shards, int width) {
    List<float[]> out = new ArrayList<>();
    List<Integer> ids = new ArrayList<>();
    for (Shard s : shards) {
      for (int r = 0; r < s.rows(); r++) {
        float[] x = new float[width];
        s.copyRows(r, 1, x);
        out.add(x);
        ids.add(s.globalRow(r));
      }
    }
    Integer[] order = new Integer[out.size()];
    for (int i = 0; i < order.length; i++) order[i] = i;
    java.util.Arrays.sort(order, Comparator.comparingInt(ids::get));
    float[][] sorted = new float[order.length][];
    for (int i = 0; i < order.length; i++) sorted[i] = out.get(order[i]);
    return sorted;
  }

  private static List<Shard> load(DataSpec spec, int classes) {
    return TableInput.shards(spark, spec, spec.count, classes, 2, ShardReader.ranges(spec.count, 2)).collect();
  }

  private String csv(String name, String... lines) throws Exception {
    Path p = Files.createDirectories(dir.resolve(name)).resolve("part-0.csv");
    Files.writeString(p, String.join("\n", lines) + "\n");
    return dir.resolve(name).toString();
  }

  private static String badInput(Runnable r) {
    Exception e = assertThrows(Exception.class, r::run);
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof BadInputException) return t.getMessage();
    }
    String m = String.valueOf(e.getMessage());
    assertTrue(m.contains("BadInputException"), "not a bad-input failure: " + e);
    return m;
  }

  @Test
  void aCsvOfDecimalsTakesEveryNumericColumnButTheLabelAndRow() throws Exception {
    String p = csv("dec", "id,label,radius,texture,row,area",
        "a,1,1.5e-3,12,0,4000.25", "b,0,-0.002,7.5,1,3999", "c,1,2E-3,0,2,-1");
    DataSpec spec = TableInput.inspect(spark, DataFormat.CSV, p, "train.path", true, List.of());
    assertEquals(DataSpec.Features.COLUMNS, spec.layout);
    assertEquals(List.of("radius", "texture", "area"), spec.columns, "the text column 'id' is left out");
    assertEquals(3, spec.features);
    float[][] x = features(load(spec, 2), 3);
    assertArrayEquals(new float[] {1.5e-3f, 12f, 4000.25f}, x[0]);
    assertArrayEquals(new float[] {-0.002f, 7.5f, 3999f}, x[1]);
    assertArrayEquals(new float[] {2e-3f, 0f, -1f}, x[2]);
  }

  @Test
  void featuresColumnsChoosesAndOrdersThem() throws Exception {
    String p = csv("named", "label,a,b,c", "1,1,2,3", "0,4,5,6");
    DataSpec spec = TableInput.inspect(spark, DataFormat.CSV, p, "train.path", true, List.of("c", "a"));
    float[][] x = features(load(spec, 2), 2);
    assertArrayEquals(new float[] {3, 1}, x[0]);
    assertArrayEquals(new float[] {6, 4}, x[1]);
    String m = badInput(() -> {
      try {
        TableInput.inspect(spark, DataFormat.CSV, p, "train.path", true, List.of("a", "zz"));
      } catch (java.io.IOException e) {
        throw new RuntimeException(e);
      }
    });
    assertTrue(m.startsWith("features.columns: ") && m.contains("has no column 'zz' (columns: label, a, b, c)"), m);
  }

  @Test
  void parquetNumericColumnsOfAnyTypeAreFeatures() {
    StructType schema = new StructType().add("label", DataTypes.IntegerType).add("i", DataTypes.IntegerType)
        .add("l", DataTypes.LongType).add("d", DataTypes.DoubleType).add("name", DataTypes.StringType)
        .add("dec", DataTypes.createDecimalType(10, 3));
    List<Row> rows = List.of(RowFactory.create(0, 3, 10_000_000_000L, -2.5e-4, "x", new java.math.BigDecimal("12.345")),
        RowFactory.create(1, -1, 7L, 1e4, "y", new java.math.BigDecimal("-0.001")));
    String p = dir.resolve("numeric").toString();
    spark.createDataFrame(rows, schema).coalesce(1).write().parquet(p);
    DataSpec spec = inspect(DataFormat.PARQUET, p);
    assertEquals(List.of("i", "l", "d", "dec"), spec.columns);
    float[][] x = features(load(spec, 2), 4);
    assertArrayEquals(new float[] {3f, 1e10f, -2.5e-4f, 12.345f}, x[0]);
    assertArrayEquals(new float[] {-1f, 7f, 1e4f, -0.001f}, x[1]);
  }

  private static DataSpec inspect(DataFormat f, String p) {
    try {
      return TableInput.inspect(spark, f, p, "train.path", true, List.of());
    } catch (java.io.IOException e) {
      throw new RuntimeException(e);
    }
  }

  @Test
  void anArrayOfAnyFiniteValuesIsRead() {
    StructType schema = new StructType().add("label", DataTypes.IntegerType)
        .add("features", DataTypes.createArrayType(DataTypes.DoubleType));
    List<Row> rows = List.of(RowFactory.create(0, new Double[] {-3.5, 4000.0, 1e-3}),
        RowFactory.create(1, new Double[] {0.5, 0.0, 1.0}));
    String p = dir.resolve("array").toString();
    spark.createDataFrame(rows, schema).coalesce(1).write().parquet(p);
    DataSpec spec = inspect(DataFormat.PARQUET, p);
    assertEquals(DataSpec.Features.ARRAY, spec.layout);
    float[][] x = features(load(spec, 2), 3);
    assertArrayEquals(new float[] {-3.5f, 4000f, 1e-3f}, x[0]);
    assertArrayEquals(new float[] {0.5f, 0f, 1f}, x[1]);
  }

  /** Columns a, b, c made into a vector column by VectorAssembler (sparse where most values are 0). */
  private Dataset<Row> assembled() {
    StructType schema = new StructType().add("label", DataTypes.IntegerType).add("a", DataTypes.DoubleType)
        .add("b", DataTypes.DoubleType).add("c", DataTypes.DoubleType).add("d", DataTypes.DoubleType);
    List<Row> rows = List.of(RowFactory.create(0, 1.5, -2.0, 3e3, 4.0), RowFactory.create(1, 0.0, 0.0, 0.0, 7.25),
        RowFactory.create(1, 0.0, 1e-3, 0.0, 0.0));
    Dataset<Row> df = spark.createDataFrame(rows, schema);
    return new VectorAssembler().setInputCols(new String[] {"a", "b", "c", "d"}).setOutputCol("features").transform(df)
        .select("label", "features");
  }

  @Test
  void aSparkMlVectorColumnDenseOrSparseIsRead() {
    Dataset<Row> df = assembled();
    List<Row> vs = df.collectAsList();
    assertTrue(vs.get(1).get(1) instanceof org.apache.spark.ml.linalg.SparseVector, "VectorAssembler made a sparse row");
    String p = dir.resolve("vector").toString();
    df.coalesce(1).write().parquet(p);
    DataSpec spec = inspect(DataFormat.PARQUET, p);
    assertEquals(DataSpec.Features.VECTOR, spec.layout);
    assertEquals(4, spec.features);
    float[][] x = features(load(spec, 2), 4);
    assertArrayEquals(new float[] {1.5f, -2f, 3000f, 4f}, x[0]);
    assertArrayEquals(new float[] {0f, 0f, 0f, 7.25f}, x[1]);
    assertArrayEquals(new float[] {0f, 1e-3f, 0f, 0f}, x[2]);
    // the same from a DataFrame of a Spark application
    DataSpec view = TableInput.inspect(df, "training DataFrame", "label", null);
    assertEquals(DataSpec.Features.VECTOR, view.layout);
    float[][] y = features(load(view, 2), 4);
    for (int i = 0; i < 3; i++) assertArrayEquals(x[i], y[i]);
  }

  @Test
  void aVectorOfAnotherSizeOrNotFiniteIsNamed() {
    StructType schema = new StructType().add("label", DataTypes.IntegerType).add("features", SQLDataTypes.VectorType());
    List<Row> rows = List.of(RowFactory.create(0, Vectors.dense(1, 2, 3)), RowFactory.create(1, Vectors.sparse(4, new int[] {1},
        new double[] {2})));
    Dataset<Row> df = spark.createDataFrame(rows, schema);
    String m = badInput(() -> load(TableInput.inspect(df, "training DataFrame", "label", null), 2));
    assertTrue(m.endsWith(", row 1, column features: a sparse vector of size 4, expected 3 (the first row's)"), m);
    List<Row> nan = List.of(RowFactory.create(0, Vectors.dense(1, Double.NaN, 3)));
    Dataset<Row> d2 = spark.createDataFrame(nan, schema);
    m = badInput(() -> load(TableInput.inspect(d2, "training DataFrame", "label", null), 2));
    assertTrue(m.endsWith(", row 0, column features[1]: NaN (NaN or infinite)"), m);
  }

  @Test
  void badValuesInNamedColumnsAreNamed() throws Exception {
    String p = csv("badnum", "label,x,y", "1,1.5,2", "0,abc,3");
    String m = badInput(() -> load(inspect(DataFormat.CSV, p), 2));
    assertTrue(m.endsWith("record 2 (line 3), column x: 'abc' is not a number"), m);
    String q = csv("nan", "label,x,y", "1,1.5,2", "0,NaN,3");
    m = badInput(() -> load(inspect(DataFormat.CSV, q), 2));
    assertTrue(m.endsWith("record 2 (line 3), column x: NaN (NaN or infinite)"), m);
    String e = csv("empty", "label,x,y", "1,1.5,2", "0,,3");
    m = badInput(() -> load(inspect(DataFormat.CSV, e), 2));
    assertTrue(m.endsWith("record 2 (line 3), column x: empty (features.missing=mean fills a missing value)"), m);
  }
}
