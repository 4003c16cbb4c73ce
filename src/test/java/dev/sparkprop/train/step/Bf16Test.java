package dev.sparkprop.train.step;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** bfloat16 rounding: to nearest, ties to even, specials kept; encode and decode exact for rounded values. */
class Bf16Test {
  private static float bits(int b) {
    return Float.intBitsToFloat(b);
  }

  @Test
  void roundsToNearestWithTiesToEven() {
    assertEquals(1f, Bf16.round(1f));
    assertEquals(bits(0x3f800000), Bf16.round(bits(0x3f807fff))); // below half: down
    assertEquals(bits(0x3f810000), Bf16.round(bits(0x3f808001))); // above half: up
    assertEquals(bits(0x3f800000), Bf16.round(bits(0x3f808000))); // a tie, even below: down
    assertEquals(bits(0x3f820000), Bf16.round(bits(0x3f818000))); // a tie, odd below: up to even
    assertEquals(bits(0xbf820000), Bf16.round(bits(0xbf818000))); // the same for negatives
    assertEquals(Float.POSITIVE_INFINITY, Bf16.round(Float.MAX_VALUE)); // rounds past the largest bfloat16
    assertEquals(Float.NEGATIVE_INFINITY, Bf16.round(Float.NEGATIVE_INFINITY));
    assertTrue(Float.isNaN(Bf16.round(bits(0x7f800001)))); // a NaN whose fraction lies in the lower half stays a NaN
    assertEquals(0f, Bf16.round(bits(0x00007fff))); // the smallest subnormals round to zero
    float x = 0.1234567f;
    assertTrue(Math.abs(Bf16.round(x) - x) <= Math.ulp(x) * 32768, "within half a bfloat16 ulp (2^16 float ulps a bfloat16 ulp)");
  }

  @Test
  void encodeAndDecodeAreExactForRoundedValues() {
    float[] v = {0f, -0f, 1.5f, -3.25e-7f, 6.0e9f, Float.POSITIVE_INFINITY, 0.1f, -2.7f};
    Bf16.round(v, v, 0, v.length);
    ByteBuffer b = ByteBuffer.allocate(2 * v.length + 6).order(ByteOrder.LITTLE_ENDIAN);
    Bf16.encode(v, 0, v.length, b, 6);
    float[] back = new float[v.length];
    Bf16.decode(b, 6, back, 0, v.length);
    for (int i = 0; i < v.length; i++) assertEquals(Float.floatToRawIntBits(v[i]), Float.floatToRawIntBits(back[i]), "value " + i);
  }
}
