package dev.sparkprop.train;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The barrier transport's wire format, shared by the driver ({@link Exchange}) and the tasks
 * ({@link ExchangeClient}). Every field is little-endian; floats travel in bulk as their IEEE
 * bytes, so the partitions get exactly the driver's bits.
 *
 * <pre>
 * hello  task -> driver, once:  int HELLO, long launch, int partition, int partitions, byte[32] token,
 *                               int port (sync.topology=tree: the task's listener for its children; else 0)
 * topology driver -> task, once (tree): int TOPOLOGY, int parent (-1: the driver), int address length (0, 4 or
 *                               16), byte[16] the parent's address, int the parent listener's port
 * (tree: a child says the same hello to its parent's listener; rounds and sums then travel the
 * tree's links in the formats below, the floats in chunks that each node forwards as they come)
 * round  driver -> task:        int ROUND, int epoch, int first, int end, long optimizerSteps, int floats, float[floats]
 * end    driver -> task:        int END, then 24 bytes of zeros (the round header's size)
 * sum    task -> driver:        int SUM, int partition, int epoch, int first, int steps, int rows, long computeNanos,
 *                               int floats, then steps x (double loss, int rows), then float[floats]
 * </pre>
 *
 * The driver knows every size in advance (P, the round's steps, the vector's length) and drops
 * a message whose fields do not match instead of allocating what a stranger asks for.
 */
final class Wire {
  private Wire() {}

  static final int HELLO = 0x53504831; // "SPH1"
  static final int ROUND = 0x53505231; // "SPR1"
  static final int END = 0x53504531; // "SPE1"
  static final int SUM = 0x53505331; // "SPS1"
  static final int TOPOLOGY = 0x53505431; // "SPT1"
  static final int TOKEN_BYTES = 32;
  static final int HELLO_BYTES = 4 + 8 + 4 + 4 + TOKEN_BYTES + 4;
  static final int TOPOLOGY_BYTES = 4 + 4 + 4 + 16 + 4;
  static final int ROUND_HEADER = 4 + 4 + 4 + 4 + 8 + 4;
  static final int SUM_HEADER = 4 + 4 + 4 + 4 + 4 + 4 + 8 + 4;
  static final int SUM_STEP = 8 + 4;
  /** Socket buffers large enough that a 784-512-10 vector (1.6 MB) is written without waiting for the reader. */
  static final int SOCKET_BUFFER = 4 << 20;

  /** The hello a task says to the driver, or a child to its parent ({@code port} 0 unless it listens for children). */
  static ByteBuffer hello(long launch, int partition, int partitions, byte[] token, int port) {
    ByteBuffer h = ByteBuffer.allocate(HELLO_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    h.putInt(HELLO).putLong(launch).putInt(partition).putInt(partitions).put(token).putInt(port).flip();
    return h;
  }

  /**
   * The token a task presents: HMAC-SHA256 of the run's id under Spark's authentication secret
   * when {@code spark.authenticate} is on (the executors have the secret; the token never
   * travels in a closure), else under a random key generated for the run and sent in the tasks'
   * closure.
   */
  static byte[] token(String sparkSecret, byte[] runKey, String runId) {
    byte[] key = sparkSecret != null ? sparkSecret.getBytes(StandardCharsets.UTF_8) : runKey;
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(("sparkprop barrier exchange " + runId).getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
    }
  }
}
