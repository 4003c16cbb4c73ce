package dev.sparkprop.train.step;

import java.nio.ByteBuffer;

/**
 * bfloat16 for {@code sync.wire=bf16}: a float's upper 16 bits (its sign, all 8 exponent bits
 * and 7 of the 23 fraction bits), rounded to nearest with ties to even, the same on every
 * machine. Values are rounded where they are made (the driver's parameters for the tasks, a
 * task's sum, every subtree's sum in the {@link ReductionTree}), so that what crosses a link is
 * exactly representable and the codec sends only the upper halves (2 bytes a value instead of 4);
 * every addition is done in float.
 */
public final class Bf16 {
  private Bf16() {}

  /** {@code x} rounded to the nearest bfloat16 (ties to even), as a float; NaN stays NaN, infinities stay. */
  public static float round(float x) {
    int bits = Float.floatToRawIntBits(x);
    if ((bits & 0x7f800000) == 0x7f800000) { // infinity or NaN: no rounding (a NaN keeps a fraction bit in the upper half)
      return (bits & 0x007fffff) == 0 ? x : Float.intBitsToFloat((bits | 0x00400000) & 0xffff0000);
    }
    int rounded = bits + 0x7fff + ((bits >>> 16) & 1);
    return Float.intBitsToFloat(rounded & 0xffff0000);
  }

  /** {@code dst[lo, hi)} = {@code src[lo, hi)} rounded ({@code dst} may be {@code src}). */
  public static void round(float[] src, float[] dst, int lo, int hi) {
    for (int i = lo; i < hi; i++) dst[i] = round(src[i]);
  }

  /** Writes the upper halves of {@code src[off, off + n)} (already rounded) at {@code b}'s absolute {@code at}, little-endian shorts. */
  public static void encode(float[] src, int off, int n, ByteBuffer b, int at) {
    for (int i = 0; i < n; i++) b.putShort(at + 2 * i, (short) (Float.floatToRawIntBits(src[off + i]) >>> 16));
  }

  /** Reads {@code n} bfloat16 values from {@code b}'s absolute {@code at} into {@code dst[off, off + n)} as floats (exact). */
  public static void decode(ByteBuffer b, int at, float[] dst, int off, int n) {
    for (int i = 0; i < n; i++) dst[off + i] = Float.intBitsToFloat(b.getShort(at + 2 * i) << 16);
  }
}
