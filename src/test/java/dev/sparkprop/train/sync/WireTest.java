package dev.sparkprop.train.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.sparkprop.train.step.PartitionSum;
import dev.sparkprop.train.step.Round;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** The codec alone: every message written and read back, and the admission and sum checks' answers. */
class WireTest {
  private static final byte[] TOKEN = Wire.token(null, new byte[] {1, 2, 3}, "run");

  @Test
  void aHelloRoundTripsAndTheAdmissionCheckNamesWhatIsWrong() {
    Wire.Hello h = Wire.Hello.read(Wire.hello(7L, 2, 4, TOKEN, 5000));
    assertEquals(new Wire.Hello(Wire.HELLO, 7L, 2, 4, h.token(), 5000), h);
    assertArrayEquals(TOKEN, h.token());
    assertNull(h.refusal(TOKEN, 7L, 4));
    assertEquals("wrong token (claimed partition 2)", h.refusal(new byte[Wire.TOKEN_BYTES], 7L, 4));
    assertEquals("a task of another launch of the barrier stage (claimed partition 2)", h.refusal(TOKEN, 8L, 4));
    assertEquals("partition 2 of 4, the stage has 3 (claimed partition 2)", h.refusal(TOKEN, 7L, 3));
    ByteBuffer garbage = ByteBuffer.allocate(Wire.HELLO_BYTES).order(ByteOrder.LITTLE_ENDIAN).putInt(0x01020304);
    assertEquals("not a sparkprop task: header 0x01020304", Wire.Hello.read(garbage.position(Wire.HELLO_BYTES).flip()).refusal(TOKEN, 7L, 4));
    assertEquals("partition 4 of 4, the stage has 4", Wire.refusal(TOKEN, 7L, 4, 4, TOKEN, 7L, 4));
    assertEquals("partition -1 of 4, the stage has 4", Wire.refusal(TOKEN, 7L, -1, 4, TOKEN, 7L, 4));
  }

  @Test
  void topologyRoundsAndTheEndRoundTrip() throws Exception {
    InetAddress host = InetAddress.getByName("198.18.0.12");
    assertEquals(new InetSocketAddress(host, 4321), Wire.readTopology(Wire.topology(3, host, 4321), 3));
    assertNull(Wire.readTopology(Wire.topology(TreeTopology.DRIVER, null, 0), TreeTopology.DRIVER));
    assertThrows(java.io.IOException.class, () -> Wire.readTopology(Wire.topology(3, host, 4321), 1));

    ByteBuffer b = ByteBuffer.allocate(Wire.ROUND_HEADER).order(ByteOrder.LITTLE_ENDIAN);
    Round r = new Round(2, 10, 14, 99L);
    Wire.writeRound(b, r, 1234);
    b.flip();
    assertEquals(r, Wire.readRound(b, 2000, "the driver"));
    assertEquals(1234, Wire.roundFloats(b));
    java.io.IOException tooMany = assertThrows(java.io.IOException.class, () -> Wire.readRound(b, 1000, "the driver"));
    assertEquals("the driver sent 1234 floats, at most 1000 fit", tooMany.getMessage());
    assertNull(Wire.readRound(Wire.end(), 1000, "the driver"));
  }

  @Test
  void aSumRoundTripsAndTheSumCheckRefusesWhatDoesNotAddUp() {
    Round r = new Round(0, 4, 6, 4L);
    PartitionSum s = new PartitionSum(3, 2, new float[8]);
    s.rows = 10;
    s.computeNanos = 555L;
    s.stepLoss[0] = 1.5;
    s.stepLoss[1] = 2.5;
    s.stepRows[0] = 6;
    s.stepRows[1] = 4;
    ByteBuffer h = ByteBuffer.allocate(Wire.sumHeaderBytes(2)).order(ByteOrder.LITTLE_ENDIAN);
    Wire.writeSum(h, 3, r, s, 8);
    PartitionSum into = new PartitionSum(-1, 2, null);
    assertNull(Wire.readSum(h.duplicate().order(ByteOrder.LITTLE_ENDIAN), 3, r, 8, into));
    assertEquals(10, into.rows);
    assertEquals(555L, into.computeNanos);
    assertArrayEquals(new double[] {1.5, 2.5}, into.stepLoss);
    assertArrayEquals(new int[] {6, 4}, into.stepRows);
    assertEquals("a sum for partition 3, epoch 1 step 4 (2 steps)", Wire.readSum(h.duplicate().order(ByteOrder.LITTLE_ENDIAN), 2, r, 8, into));
    assertEquals("a sum of 10 rows with 8 floats, expected 9", Wire.readSum(h.duplicate().order(ByteOrder.LITTLE_ENDIAN), 3, r, 9, into));
    s.stepRows[1] = 5;
    Wire.writeSum(h, 3, r, s, 8);
    assertEquals("steps of 11 rows in all, a sum of 10", Wire.readSum(h.duplicate().order(ByteOrder.LITTLE_ENDIAN), 3, r, 8, into));
    s.stepRows[1] = -1;
    assertEquals("a step with -1 rows", Wire.sumRefusal(s, 3, 2));
  }
}
