package dev.sparkprop.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The strict IDX reader: valid plain and gzip files, and every kind of bad file. */
class IdxReaderTest {
  @TempDir Path dir;

  private static void assertMessage(BadInputException e, String... parts) {
    for (String p : parts) assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' lacks '" + p + "'");
  }

  @Test
  void readsPlainAndGzipIdenticallyIntoShards() throws Exception {
    byte[] img = IdxTestFiles.images(50, 3, 4, 1);
    byte[] lab = IdxTestFiles.labels(50, 10, 2);
    String pi = IdxTestFiles.write(dir, "a-images", img);
    String pl = IdxTestFiles.write(dir, "a-labels", lab);
    String gi = IdxTestFiles.write(dir, "b-images.gz", IdxTestFiles.gzip(img));
    String gl = IdxTestFiles.write(dir, "b-labels.gz", IdxTestFiles.gzip(lab));
    DataSpec plain = DataSpec.check(pi, pl, 10);
    DataSpec gz = DataSpec.check(gi, gl, 10);
    assertEquals(50, plain.count);
    assertEquals(12, plain.features);
    assertEquals(50, gz.count);
    Shard a = ShardReader.read(pi, pl, 10, 50, 12, 0, ShardReader.ranges(50, 1));
    Shard b = ShardReader.read(gi, gl, 10, 50, 12, 0, ShardReader.ranges(50, 1));
    assertArrayEquals(a.labels(), b.labels());
    for (int i = 0; i < 50; i++) assertEquals(lab[8 + i], a.labels()[i]);
    float[] x = new float[50 * 12];
    float[] y = new float[50 * 12];
    a.copyRows(0, 50, x);
    b.copyRows(0, 50, y);
    assertArrayEquals(x, y);
    for (int i = 0; i < x.length; i++) assertEquals((img[16 + i] & 0xff) / 255f, x[i], 0f);
  }

  @Test
  void wrongMagicNamesFileFoundAndExpected() throws Exception {
    String labels = IdxTestFiles.write(dir, "labels", IdxTestFiles.labels(10, 10, 1));
    BadInputException e = assertThrows(BadInputException.class, () -> IdxFiles.header(labels, IdxHeader.IMAGES_MAGIC));
    assertMessage(e, labels, "0x00000801", "expected 0x00000803");
  }

  @Test
  void truncatedFileIsRefused() throws Exception {
    byte[] img = IdxTestFiles.images(10, 2, 2, 1);
    String p = IdxTestFiles.write(dir, "short", Arrays.copyOf(img, img.length - 3));
    BadInputException e = assertThrows(BadInputException.class, () -> IdxFiles.header(p, IdxHeader.IMAGES_MAGIC));
    assertMessage(e, p, "should be " + img.length + " bytes", "truncated");
    String gz = IdxTestFiles.write(dir, "short.gz", IdxTestFiles.gzip(Arrays.copyOf(img, img.length - 3)));
    String lab = IdxTestFiles.write(dir, "lab", IdxTestFiles.labels(10, 10, 1));
    e = assertThrows(BadInputException.class, () -> ShardReader.read(gz, lab, 10, 10, 4, 0, ShardReader.ranges(10, 1)));
    assertMessage(e, gz, "truncated", "item 9");
    String tiny = IdxTestFiles.write(dir, "tiny", new byte[] {0, 0});
    e = assertThrows(BadInputException.class, () -> IdxFiles.header(tiny, IdxHeader.IMAGES_MAGIC));
    assertMessage(e, tiny, "truncated");
  }

  /** A cut or damaged gzip file is refused by DataSpec.check, before Spark starts, naming the file. */
  @Test
  void truncatedOrCorruptGzipIsRefusedWithItsName() throws Exception {
    byte[] img = IdxTestFiles.images(500, 28, 28, 1);
    byte[] gz = IdxTestFiles.gzip(img);
    String lab = IdxTestFiles.write(dir, "lab", IdxTestFiles.labels(500, 10, 1));
    String cut = IdxTestFiles.write(dir, "cut.gz", Arrays.copyOf(gz, gz.length / 2));
    BadInputException e = assertThrows(BadInputException.class, () -> DataSpec.check(cut, lab, 10));
    assertMessage(e, cut + ": truncated gzip file (Unexpected end of ZLIB input stream); fetch or compress it again");
    byte[] damaged = gz.clone();
    for (int i = 40; i < 60; i++) damaged[i] ^= 0x5a; // inside the deflate stream
    String bad = IdxTestFiles.write(dir, "bad.gz", damaged);
    e = assertThrows(BadInputException.class, () -> DataSpec.check(bad, lab, 10));
    assertMessage(e, bad + ": corrupt gzip file (");
  }

  /**
   * A gzip file damaged in the middle that inflates to more bytes than its header declares is a
   * corrupt gzip file (its checksum fails at its end), not "trailing data".
   */
  @Test
  void aGzipDamagedInTheMiddleIsNamedCorruptNotTrailingData() throws Exception {
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(16 + 300 * 784);
    b.putInt(IdxHeader.IMAGES_MAGIC).putInt(300).putInt(28).putInt(28);
    java.util.SplittableRandom r = new java.util.SplittableRandom(3);
    for (int i = 0; i < 300 * 784; i++) b.put((byte) (i % 28 < 20 ? 0 : r.nextInt(8))); // compresses, as MNIST does
    byte[] gz = IdxTestFiles.gzip(b.array());
    String lab = IdxTestFiles.write(dir, "lab300", IdxTestFiles.labels(300, 10, 1));
    byte[] damaged = null;
    for (int at = gz.length / 3; at < gz.length - 8 && damaged == null; at++) {
      byte[] d = gz.clone();
      d[at] ^= 0x10;
      if (inflatesLongerThenFailsItsChecksum(d, b.capacity())) damaged = d;
    }
    assertTrue(damaged != null, "no single damaged byte inflates to more than the file held");
    String bad = IdxTestFiles.write(dir, "longer-bad.gz", damaged);
    BadInputException e = assertThrows(BadInputException.class, () -> DataSpec.check(bad, lab, 10));
    assertMessage(e, bad + ": corrupt gzip file (");
  }

  private static boolean inflatesLongerThenFailsItsChecksum(byte[] gz, int declared) {
    long n = 0;
    try (java.util.zip.GZIPInputStream in = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(gz))) {
      byte[] buf = new byte[8192];
      for (int k; (k = in.read(buf)) >= 0; ) n += k;
      return false;
    } catch (java.io.IOException e) {
      return n > declared;
    }
  }

  @Test
  void trailingDataIsRefused() throws Exception {
    byte[] img = IdxTestFiles.images(10, 2, 2, 1);
    byte[] longer = Arrays.copyOf(img, img.length + 5);
    String p = IdxTestFiles.write(dir, "long", longer);
    BadInputException e = assertThrows(BadInputException.class, () -> IdxFiles.header(p, IdxHeader.IMAGES_MAGIC));
    assertMessage(e, p, "trailing data");
    String gl = IdxTestFiles.write(dir, "long-labels.gz", IdxTestFiles.gzip(Arrays.copyOf(IdxTestFiles.labels(10, 10, 1), 20)));
    e = assertThrows(BadInputException.class, () -> IdxFiles.readLabels(gl, 10));
    assertMessage(e, gl, "trailing data");
  }

  @Test
  void countMismatchBetweenImagesAndLabelsIsRefused() throws Exception {
    String img = IdxTestFiles.write(dir, "img", IdxTestFiles.images(10, 2, 2, 1));
    String lab = IdxTestFiles.write(dir, "lab", IdxTestFiles.labels(9, 10, 1));
    BadInputException e = assertThrows(BadInputException.class, () -> DataSpec.check(img, lab, 10));
    assertMessage(e, img, "10 images", lab, "9 labels");
  }

  @Test
  void labelOutsideClassRangeIsRefused() throws Exception {
    byte[] lab = IdxTestFiles.labels(10, 10, 1);
    lab[8 + 7] = 12;
    String p = IdxTestFiles.write(dir, "lab", lab);
    BadInputException e = assertThrows(BadInputException.class, () -> IdxFiles.readLabels(p, 10));
    assertMessage(e, p, "label 12", "item 7", "[0, 10)");
  }

  @Test
  void headerClaimingBillionsFailsBeforeAllocating() throws Exception {
    ByteBuffer b = ByteBuffer.allocate(16 + 100);
    b.putInt(IdxHeader.IMAGES_MAGIC).putInt(2_000_000_000).putInt(28).putInt(28);
    String plain = IdxTestFiles.write(dir, "huge", b.array());
    BadInputException e = assertThrows(BadInputException.class, () -> IdxFiles.header(plain, IdxHeader.IMAGES_MAGIC));
    assertMessage(e, plain, "2000000000 x 28 x 28");
    // Compressed: the length is unknown up front, so the item count alone must stop it.
    String gz = IdxTestFiles.write(dir, "huge.gz", IdxTestFiles.gzip(b.array()));
    long before = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
    e = assertThrows(BadInputException.class, () -> IdxFiles.header(gz, IdxHeader.IMAGES_MAGIC));
    assertMessage(e, gz, "more than one array can hold");
    long after = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
    assertTrue(after - before < 500_000_000L, "no large allocation");
    ByteBuffer l = ByteBuffer.allocate(8 + 10);
    l.putInt(IdxHeader.LABELS_MAGIC).putInt(1_500_000_000);
    String lgz = IdxTestFiles.write(dir, "hugelabels.gz", IdxTestFiles.gzip(l.array()));
    // 1.5e9 fits an array, but the reader grows with the data, so it fails on the data, not on memory
    e = assertThrows(BadInputException.class, () -> IdxFiles.readLabels(lgz, 10));
    assertMessage(e, lgz, "truncated");
  }

  @Test
  void locatesFilesInAFolderPlainOrGz() throws Exception {
    IdxTestFiles.write(dir, "train-images-idx3-ubyte.gz", IdxTestFiles.gzip(IdxTestFiles.images(5, 2, 2, 1)));
    IdxTestFiles.write(dir, "train-labels.idx1-ubyte", IdxTestFiles.labels(5, 10, 1));
    String[] found = MnistFiles.locate(dir.toString(), "train");
    assertTrue(found[0].endsWith("train-images-idx3-ubyte.gz"), found[0]);
    assertTrue(found[1].endsWith("train-labels.idx1-ubyte"), found[1]);
    // file:// URIs and plain paths name the same files; the result is qualified for the executors
    String[] viaUri = MnistFiles.locate("file://" + dir, "train");
    assertEquals(found[0], viaUri[0]);
    assertTrue(found[0].startsWith("file:/"), found[0]);
    BadInputException e = assertThrows(BadInputException.class, () -> MnistFiles.locate(dir.toString(), "t10k"));
    assertMessage(e, "t10k-images-idx3-ubyte", "fetch-mnist");
  }
}
