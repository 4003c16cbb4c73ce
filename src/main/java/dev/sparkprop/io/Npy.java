package dev.sparkprop.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy {@code .npy} files of float32 little-endian arrays, as {@code numpy.save} writes them
 * and {@code numpy.load} reads them (format 1.0; 2.0 is read too).
 */
public final class Npy {
  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([^']*)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order':\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

  private Npy() {}

  /** Encodes {@code values[off .. off + prod(shape))} with the given shape. */
  public static byte[] encode(float[] values, int off, int[] shape) {
    long n = count(shape);
    StringBuilder dims = new StringBuilder();
    for (int d : shape) dims.append(d).append(", ");
    String shapeText = shape.length == 1 ? "(" + shape[0] + ",)" : "(" + dims.substring(0, dims.length() - 2) + ")";
    String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shapeText + ", }";
    // magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64, ending in \n
    int unpadded = 10 + dict.length() + 1;
    int pad = (64 - unpadded % 64) % 64;
    byte[] h = (dict + " ".repeat(pad) + "\n").getBytes(StandardCharsets.US_ASCII);
    ByteBuffer buf = ByteBuffer.allocate(10 + h.length + (int) n * 4).order(ByteOrder.LITTLE_ENDIAN);
    buf.put(MAGIC).put((byte) 1).put((byte) 0);
    buf.putShort((short) h.length).put(h);
    for (int i = 0; i < n; i++) buf.putFloat(values[off + i]);
    return buf.array();
  }

  /**
   * Decodes a float32 array, checking the header against the expected shape and the length
   * against the header.
   *
   * @param file named in error messages
   * @param dst receives the values at {@code dst[off ..]}
   */
  public static void decode(String file, byte[] bytes, int[] expectedShape, float[] dst, int off) {
    if (bytes.length < 10 || !Arrays.equals(Arrays.copyOf(bytes, 6), MAGIC)) {
      throw new BadModelException(file + ": not a NumPy .npy file (no \\x93NUMPY magic)");
    }
    int major = bytes[6];
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    int headerLen;
    int start;
    if (major == 1) {
      headerLen = b.getShort(8) & 0xffff;
      start = 10;
    } else if (major == 2 || major == 3) {
      if (bytes.length < 12) throw new BadModelException(file + ": truncated .npy header");
      headerLen = b.getInt(8);
      start = 12;
    } else {
      throw new BadModelException(file + ": unsupported .npy format version " + major);
    }
    if (headerLen < 0 || start + headerLen > bytes.length) {
      throw new BadModelException(file + ": truncated: the .npy header claims " + headerLen + " bytes, the file has " + bytes.length);
    }
    String header = new String(bytes, start, headerLen, StandardCharsets.ISO_8859_1);
    String descr = find(DESCR, header, file, "descr");
    if (!descr.equals("<f4")) {
      throw new BadModelException(file + ": dtype '" + descr + "', expected '<f4' (float32, little-endian)");
    }
    if (find(FORTRAN, header, file, "fortran_order").equals("True")) {
      throw new BadModelException(file + ": Fortran-ordered array, expected C (row-major) order");
    }
    int[] shape = parseShape(find(SHAPE, header, file, "shape"), file);
    if (!Arrays.equals(shape, expectedShape)) {
      throw new BadModelException(file + ": shape " + Arrays.toString(shape) + ", expected " + Arrays.toString(expectedShape));
    }
    long n = count(shape);
    long expectedLength = start + headerLen + 4 * n;
    if (bytes.length != expectedLength) {
      throw new BadModelException(file + ": " + bytes.length + " bytes, expected " + expectedLength + " for shape "
          + Arrays.toString(shape) + (bytes.length < expectedLength ? " (truncated)" : " (trailing data)"));
    }
    b.position(start + headerLen);
    for (int i = 0; i < n; i++) dst[off + i] = b.getFloat();
  }

  private static String find(Pattern p, String header, String file, String key) {
    Matcher m = p.matcher(header);
    if (!m.find()) throw new BadModelException(file + ": the .npy header has no '" + key + "': " + header.trim());
    return m.group(1);
  }

  private static int[] parseShape(String text, String file) {
    String[] parts = text.split(",");
    int k = 0;
    int[] shape = new int[parts.length];
    for (String p : parts) {
      if (p.isBlank()) continue;
      try {
        shape[k++] = Integer.parseInt(p.trim());
      } catch (NumberFormatException e) {
        throw new BadModelException(file + ": bad shape (" + text + ") in the .npy header");
      }
    }
    return Arrays.copyOf(shape, k);
  }

  static long count(int[] shape) {
    long n = 1;
    for (int d : shape) n *= d;
    return n;
  }
}
