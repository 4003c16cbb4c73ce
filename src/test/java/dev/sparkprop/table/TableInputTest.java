package dev.sparkprop.table;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.util.List;
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
 * Tables through Spark SQL: the layouts read into the same shards, and every invalid input
 * refused with the file, the row and the column.
 */
class TableInputTest {
  private static final int F = 6; // features per row in these small tables
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

  private static StructType imageSchema() {
    return new StructType().add("row", DataTypes.LongType).add("label", DataTypes.IntegerType)
        .add("image", DataTypes.BinaryType);
  }

  private static StructType featureSchema() {
    return new StructType().add("row", DataTypes.LongType).add("label", DataTypes.IntegerType)
        .add("features", DataTypes.createArrayType(DataTypes.FloatType));
  }

  /** Rows 0..n-1: label r % 10, pixel j = (7 r + j) % 256. */
  private static byte[] pixels(int r) {
    byte[] b = new byte[F];
    for (int j = 0; j < F; j++) b[j] = (byte) ((7 * r + j) % 256);
    return b;
  }

  private String parquet(String name, StructType schema, List<Row> rows) {
    String path = dir.resolve(name).toString();
    spark.createDataFrame(rows, schema).coalesce(1).write().parquet(path);
    return path;
  }

  private String csv(String name, String... lines) throws Exception {
    Path p = Files.createDirectories(dir.resolve(name)).resolve("part-0.csv");
    Files.writeString(p, String.join("\n", lines) + "\n");
    return dir.resolve(name).toString();
  }

  private static List<Row> imageRows(int n) {
    List<Row> rows = new ArrayList<>();
    for (int r = 0; r < n; r++) rows.add(RowFactory.create((long) r, r % 10, pixels(r)));
    return rows;
  }

  /** Reads the table into 2 range shards (forcing the row checks). */
  private static List<Shard> load(DataFormat f, String path) throws Exception {
    DataSpec spec = TableInput.inspect(spark, f, path, "train.path");
    return TableInput.shards(spark, spec, spec.count, 10, 2, ShardReader.ranges(spec.count, 2)).collect();
  }

  /** The message of the BadInputException behind a failure (a task's arrives inside a SparkException). */
  private static String badInput(DataFormat f, String path) {
    Exception e = assertThrows(Exception.class, () -> load(f, path));
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof BadInputException) return t.getMessage();
    }
    String m = String.valueOf(e.getMessage());
    assertTrue(m.contains("BadInputException"), "not a bad-input failure: " + e);
    return m;
  }

  @Test
  void imageFeaturesAndCsvTablesGiveTheSameShards() throws Exception {
    int n = 25;
    List<Row> feats = new ArrayList<>();
    StringBuilder csvText = new StringBuilder("label");
    for (int j = 0; j < F; j++) csvText.append(",pixel").append(j);
    List<String> lines = new ArrayList<>(List.of(csvText.toString()));
    for (int r = 0; r < n; r++) {
      byte[] b = pixels(r);
      Float[] x = new Float[F];
      StringBuilder line = new StringBuilder(String.valueOf(r % 10));
      for (int j = 0; j < F; j++) {
        x[j] = (b[j] & 0xff) / 255f;
        line.append(',').append(b[j] & 0xff);
      }
      feats.add(RowFactory.create((long) r, r % 10, x));
      lines.add(line.toString());
    }
    List<Shard> a = load(DataFormat.PARQUET, parquet("img", imageSchema(), imageRows(n)));
    List<Shard> b = load(DataFormat.PARQUET, parquet("feat", featureSchema(), feats));
    List<Shard> c = load(DataFormat.CSV, csv("csv", lines.toArray(new String[0]))); // no row column: file order
    for (List<Shard> s : List.of(b, c)) {
      for (int p = 0; p < 2; p++) {
        Shard x = a.get(p);
        Shard y = s.get(p);
        assertTrue(y.holdsBytes(), "values of the form b/255 are cached as bytes");
        assertArrayEquals(x.labels(), y.labels());
        float[] fx = new float[x.rows() * F];
        float[] fy = new float[y.rows() * F];
        x.copyRows(0, x.rows(), fx);
        y.copyRows(0, y.rows(), fy);
        assertArrayEquals(fx, fy);
        for (int i = 0; i < x.rows(); i++) assertEquals(x.globalRow(i), y.globalRow(i));
      }
    }
    assertEquals(12, a.get(1).globalRow(0), "range shards: rows 0..11 and 12..24");
  }

  @Test
  void otherFeatureValuesAreCachedAsFloats() throws Exception {
    List<Row> rows = new ArrayList<>();
    for (int r = 0; r < 8; r++) rows.add(RowFactory.create((long) r, 1, new Float[] {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, r / 10f}));
    List<Shard> s = load(DataFormat.PARQUET, parquet("f", featureSchema(), rows));
    assertFalse(s.get(0).holdsBytes());
    float[] out = new float[F];
    s.get(1).copyRows(3, 1, out); // global row 7
    assertArrayEquals(new float[] {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.7f}, out);
  }

  @Test
  void formatIsDetectedFromThePath() throws Exception {
    String p = parquet("d", imageSchema(), imageRows(3));
    assertEquals(DataFormat.PARQUET, DataFormat.resolve(p, "auto", "train.path"));
    assertEquals(DataFormat.CSV, DataFormat.resolve(csv("c", "label,pixel0", "1,2"), "auto", "train.path"));
    assertEquals(DataFormat.IDX, DataFormat.resolve(TestData.mnistDir().toString(), "auto", "train.path"));
    BadInputException e = assertThrows(BadInputException.class,
        () -> DataFormat.resolve(dir.resolve("nothing").toString(), "auto", "train.path"));
    assertTrue(e.getMessage().startsWith("train.path: " + dir.resolve("nothing") + " does not exist"), e.getMessage());
    IllegalArgumentException u = assertThrows(IllegalArgumentException.class, () -> DataFormat.resolve(p, "orc", "test.path"));
    assertEquals("test.format: unknown 'orc'; expected auto, idx, parquet or csv", u.getMessage());
  }

  @Test
  void missingColumnsAreNamed() throws Exception {
    String noLabel = parquet("nolabel", new StructType().add("image", DataTypes.BinaryType),
        List.of(RowFactory.create((Object) pixels(0))));
    assertTrue(badInput(DataFormat.PARQUET, noLabel).contains("has no 'label' column (columns: image)"));
    String noImage = parquet("noimage", new StructType().add("label", DataTypes.IntegerType), List.of(RowFactory.create(1)));
    String m = badInput(DataFormat.PARQUET, noImage);
    assertTrue(m.contains("has no numeric feature columns (columns: label)"), m);
    String realLabel = parquet("reallabel", new StructType().add("label", DataTypes.DoubleType).add("image", DataTypes.BinaryType),
        List.of(RowFactory.create(1.0, pixels(0))));
    assertTrue(badInput(DataFormat.PARQUET, realLabel).contains("column 'label' is double, expected integer classes or string labels"));
    String gap = csv("gap", "label,pixel0,pixel2", "1,0,0");
    assertTrue(badInput(DataFormat.CSV, gap).contains("no column 'pixel1' (the header has pixel0..pixel2 with gaps)"));
  }

  /** A header the CSV parser cannot read (more values than its limit): bad input naming the file, no parser trace. */
  @Test
  void aCsvHeaderTooWideForTheParserIsBadInput() throws Exception {
    StringBuilder header = new StringBuilder("label");
    for (int i = 0; i < 25000; i++) header.append(",pixel").append(i);
    String wide = csv("wide", header.toString(), "1");
    String m = badInput(DataFormat.CSV, wide);
    assertTrue(m.endsWith("/wide: cannot read its CSV header: a line holds more values than the CSV reader's limit "
        + "(spark.read's maxColumns, 20480)"), m);
  }

  /** One unbalanced quote: bad input naming the file and the record, not Spark's cast failure. */
  @Test
  void aCsvWithAnUnbalancedQuoteIsBadInput() throws Exception {
    String m = badInput(DataFormat.CSV, csv("quote", "label,pixel0,pixel1", "1,2,3", "4,\"5,6", "7,8,9", "1,1,1"));
    assertTrue(m.matches("part-0\\.csv, record 2 \\(line 3\\), column \\(the whole line\\): its number of values differs from the header's, "
        + "or a value is longer than 1000 characters \\(the CSV reader's limit\\); the line holds \\d+ characters"), m);
  }

  @Test
  void wrongFeatureLengthNamesFileRowAndColumn() throws Exception {
    List<Row> rows = imageRows(5);
    rows.set(3, RowFactory.create(3L, 3, new byte[F - 1]));
    String m = badInput(DataFormat.PARQUET, parquet("short", imageSchema(), rows));
    assertTrue(m.matches("part-[^,]*\\.parquet, row 3, column image: 5 bytes, expected 6 \\(the first row's\\)"), m);
    List<Row> f = new ArrayList<>();
    for (int r = 0; r < 4; r++) f.add(RowFactory.create((long) r, 0, new Float[r == 2 ? F + 1 : F]));
    for (Row r : f) java.util.Arrays.fill((Float[]) r.get(2), 0f);
    m = badInput(DataFormat.PARQUET, parquet("longfeat", featureSchema(), f));
    assertTrue(m.endsWith(", row 2, column features: 7 values, expected 6 (the first row's)"), m);
    m = badInput(DataFormat.CSV, csv("shortline", "label,pixel0,pixel1", "1,2,3", "4,5"));
    assertTrue(m.matches("part-0\\.csv, record 2 \\(line 3\\), column \\(the whole line\\): its number of values differs from the header's, "
        + "or a value is longer than 1000 characters \\(the CSV reader's limit\\); the line holds \\d+ characters"), m);
  }

  @Test
  void nullsAreRefused() throws Exception {
    List<Row> rows = imageRows(4);
    rows.set(1, RowFactory.create(1L, null, pixels(1)));
    assertTrue(badInput(DataFormat.PARQUET, parquet("nulllabel", imageSchema(), rows)).endsWith(", row 1, column label: null"));
    rows = imageRows(4);
    rows.set(2, RowFactory.create(2L, 2, null));
    assertTrue(badInput(DataFormat.PARQUET, parquet("nullimage", imageSchema(), rows)).endsWith(", row 2, column image: null"));
    List<Row> f = List.of(RowFactory.create(0L, 0, new Float[] {0f, 0f, 0f, 0f, 0f, 0f}),
        RowFactory.create(1L, 0, new Float[] {0f, 0f, null, 0f, 0f, 0f}));
    assertTrue(badInput(DataFormat.PARQUET, parquet("nullfeat", featureSchema(), f)).endsWith(", row 1, column features[2]: null (features.missing=mean fills a missing value)"));
    String m = badInput(DataFormat.CSV, csv("emptypixel", "label,pixel0,pixel1", "1,2,3", "4,,6"));
    assertTrue(m.endsWith("record 2 (line 3), column pixel0: empty"), m);
  }

  @Test
  void nonFiniteAndOutOfRangeValuesAreRefused() throws Exception {
    String[] want = {"column features[1]: NaN (NaN or infinite)", "column features[1]: Infinity (NaN or infinite)"};
    float[] bad = {Float.NaN, Float.POSITIVE_INFINITY};
    for (int k = 0; k < bad.length; k++) {
      List<Row> f = List.of(RowFactory.create(0L, 0, new Float[] {0f, bad[k], 0f, 0f, 0f, 0f}));
      String m = badInput(DataFormat.PARQUET, parquet("nonfinite" + k, featureSchema(), f));
      assertTrue(m.endsWith(", row 0, " + want[k]), m);
    }
    String m = badInput(DataFormat.CSV, csv("bigpixel", "label,pixel0,pixel1", "1,2,300"));
    assertTrue(m.endsWith("record 1 (line 2), column pixel1: 300, outside 0..255"), m);
    m = badInput(DataFormat.CSV, csv("textpixel", "label,pixel0,pixel1", "1,abc,3"));
    assertTrue(m.endsWith("column pixel0: 'abc' is not an integer 0..255"), m);
  }

  @Test
  void labelsOutsideTheClassesAreRefused() throws Exception {
    List<Row> rows = imageRows(4);
    rows.set(3, RowFactory.create(3L, 10, pixels(3)));
    String m = badInput(DataFormat.PARQUET, parquet("label10", imageSchema(), rows));
    assertTrue(m.endsWith(", row 3, column label: 10, outside [0, 10) (classes=10)"), m);
    m = badInput(DataFormat.CSV, csv("negative", "label,pixel0", "1,2", "-1,2"));
    assertTrue(m.endsWith("record 2 (line 3), column label: -1, outside [0, 10) (classes=10)"), m);
  }

  @Test
  void aRowColumnMustNumberTheRowsOnce() throws Exception {
    List<Row> rows = imageRows(4);
    rows.set(3, RowFactory.create(1L, 3, pixels(3)));
    String m = badInput(DataFormat.PARQUET, parquet("duprow", imageSchema(), rows));
    assertTrue(m.endsWith("column 'row' must number the 4 rows 0..3 once each; found min 0, max 2, 3 distinct values, 0 null or non-integer"), m);
  }
}
