package dev.sparkprop.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** NumPy {@code .npy} (format 1.0) encoding of float32 little-endian arrays, as {@code numpy.load} reads them. */
public final class Npy {
  private Npy() {}

  /** Encodes {@code values[off .. off + prod(shape))} with the given shape. */
  public static byte[] encode(float[] values, int off, int[] shape) {
    long n = 1;
    StringBuilder dims = new StringBuilder();
    for (int d : shape) {
      n *= d;
      dims.append(d).append(", ");
    }
    String shapeText = shape.length == 1 ? "(" + shape[0] + ",)" : "(" + dims.substring(0, dims.length() - 2) + ")";
    String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shapeText + ", }";
    // magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64, ending in \n
    int unpadded = 10 + dict.length() + 1;
    int pad = (64 - unpadded % 64) % 64;
    String header = dict + " ".repeat(pad) + "\n";
    byte[] h = header.getBytes(StandardCharsets.US_ASCII);
    ByteBuffer buf = ByteBuffer.allocate(10 + h.length + (int) n * 4).order(ByteOrder.LITTLE_ENDIAN);
    buf.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
    buf.putShort((short) h.length).put(h);
    for (int i = 0; i < n; i++) buf.putFloat(values[off + i]);
    return buf.array();
  }
}
