package dev.sparkprop.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BlockedPoolTest {
  /** Values with many ties: a flat background (equal values), -0 and +0, and random ones. */
  private static float[] blocks(int channels, int pm, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] z = new float[channels * 4 * pm];
    for (int i = 0; i < z.length; i++) {
      int kind = r.nextInt(4);
      z[i] = kind == 0 ? 0.25f : kind == 1 ? (r.nextBoolean() ? -0f : 0f) : (float) r.nextGaussian();
    }
    return z;
  }

  @Test
  void theMaximumAndItsFirstBlockAreThoseOfANaivePool() {
    int channels = 3;
    int pm = 37; // not a multiple of any vector length: the lanes' tail runs too
    float[] z = blocks(channels, pm, 1);
    float[] y = new float[channels * pm];
    int[] code = new int[channels * pm];
    BlockedPool.forward(z, channels, pm, y, code);
    for (int c = 0; c < channels; c++) {
      for (int i = 0; i < pm; i++) {
        int best = 0;
        float max = z[c * 4 * pm + i];
        for (int b = 1; b < 4; b++) {
          float v = z[c * 4 * pm + b * pm + i];
          if (v > max) { // strictly: the first maximum wins, and -0 ties with +0
            max = v;
            best = b;
          }
        }
        assertEquals(best, code[c * pm + i], "channel " + c + " value " + i);
        assertEquals(Float.floatToIntBits(max + 0f), Float.floatToIntBits(y[c * pm + i]), "channel " + c + " value " + i);
      }
    }
  }

  @Test
  void theLanesGiveTheScalarFormsBits() {
    assertTrue(Lanes.ON, "the tests' JVM has jdk.incubator.vector (pom.xml's argLine): " + Lanes.description());
    int channels = 5;
    int pm = 16 * 7 + 5;
    float[] z = blocks(channels, pm, 2);
    float[] y1 = new float[channels * pm];
    float[] y2 = new float[channels * pm];
    int[] c1 = new int[channels * pm];
    int[] c2 = new int[channels * pm];
    BlockedPool.forwardScalar(z, channels, pm, y1, c1, 0);
    BlockedPoolLanes.forward(z, channels, pm, y2, c2);
    assertArrayEquals(c1, c2);
    assertArrayEquals(y1, y2);
    float[] dy = new float[channels * pm];
    SplittableRandom r = new SplittableRandom(3);
    for (int i = 0; i < dy.length; i++) dy[i] = (float) r.nextGaussian();
    float[] d1 = new float[z.length];
    float[] d2 = new float[z.length];
    java.util.Arrays.fill(d1, Float.NaN); // every value is written
    java.util.Arrays.fill(d2, Float.NaN);
    BlockedPool.backwardScalar(dy, c1, channels, pm, d1, 0);
    BlockedPoolLanes.backward(dy, c2, channels, pm, d2);
    assertArrayEquals(d1, d2);
    for (int c = 0; c < channels; c++) {
      for (int i = 0; i < pm; i++) {
        for (int b = 0; b < 4; b++) {
          float want = b == c1[c * pm + i] ? dy[c * pm + i] : 0f;
          assertEquals(want, d1[c * 4 * pm + b * pm + i], "channel " + c + " value " + i + " block " + b);
        }
      }
    }
  }
}
