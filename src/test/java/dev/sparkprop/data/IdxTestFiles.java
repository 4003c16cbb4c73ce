package dev.sparkprop.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Writes small IDX files (valid or deliberately broken) for tests. */
public final class IdxTestFiles {
  private IdxTestFiles() {}

  public static byte[] images(int count, int rows, int cols, long seed) {
    ByteBuffer b = ByteBuffer.allocate(16 + count * rows * cols);
    b.putInt(IdxHeader.IMAGES_MAGIC).putInt(count).putInt(rows).putInt(cols);
    java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
    for (int i = 0; i < count * rows * cols; i++) b.put((byte) r.nextInt(256));
    return b.array();
  }

  public static byte[] labels(int count, int classes, long seed) {
    ByteBuffer b = ByteBuffer.allocate(8 + count);
    b.putInt(IdxHeader.LABELS_MAGIC).putInt(count);
    java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
    for (int i = 0; i < count; i++) b.put((byte) r.nextInt(classes));
    return b.array();
  }

  public static byte[] gzip(byte[] raw) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (OutputStream gz = new GZIPOutputStream(out)) {
      gz.write(raw);
    }
    return out.toByteArray();
  }

  public static String write(Path dir, String name, byte[] bytes) throws IOException {
    Path p = dir.resolve(name);
    Files.write(p, bytes);
    return p.toString();
  }
}
