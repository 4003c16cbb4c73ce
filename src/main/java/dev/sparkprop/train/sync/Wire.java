package dev.sparkprop.train.sync;

import dev.sparkprop.train.step.Bf16;
import dev.sparkprop.train.step.PartitionSum;
import dev.sparkprop.train.step.Round;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
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
 *                               (sync.wire=bf16: every float[] of this table is bfloat16[], 2 bytes a value)
 * end    driver -> task:        int END, then 24 bytes of zeros (the round header's size)
 * sum    task -> driver:        int SUM, int partition, int epoch, int first, int steps, int rows, long computeNanos,
 *                               int floats, then steps x (double loss, int rows), then float[floats]
 * </pre>
 *
 * The driver knows every size in advance (P, the round's steps, the vector's length) and drops
 * a message whose fields do not match instead of allocating what a stranger asks for.
 *
 * <p>This class is the codec: every message is written and read here, and checked by one
 * admission check ({@link #refusal}, for the driver's socket and in-memory tasks and a tree
 * task's children alike) and one sum check ({@link #readSum}, {@link #sumRefusal}). The float
 * payloads (the round's parameters, a sum's vector) follow their headers as raw little-endian
 * floats; the transports move them, in one piece or in {@code sync.chunk} pieces.
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

  /** A hello as read, before any check. */
  record Hello(int magic, long launch, int partition, int partitions, byte[] token, int port) {
    /** Reads a whole hello ({@link #HELLO_BYTES}, flipped). */
    static Hello read(ByteBuffer b) {
      int magic = b.getInt();
      long launch = b.getLong();
      int partition = b.getInt();
      int partitions = b.getInt();
      byte[] token = new byte[TOKEN_BYTES];
      b.get(token);
      return new Hello(magic, launch, partition, partitions, token, b.getInt());
    }

    /** {@link Wire#refusal} for this hello; " (claimed partition P)" added when its header is ours. */
    String refusal(byte[] expectedToken, long expectedLaunch, int expectedPartitions) {
      if (magic != HELLO) return String.format("not a sparkprop task: header 0x%08x", magic);
      String why = Wire.refusal(token, launch, partition, partitions, expectedToken, expectedLaunch, expectedPartitions);
      return why == null ? null : why + " (claimed partition " + partition + ")";
    }
  }

  /**
   * The one admission check of every listener (the driver's socket and its in-memory tasks, a
   * tree task's listener for its children): why a task claiming {@code partition} of
   * {@code partitions} with {@code token} in stage launch {@code launch} is refused, or null. The
   * listener then checks what only it knows (a partition already connected, a child of its).
   */
  static String refusal(byte[] token, long launch, int partition, int partitions, byte[] expectedToken, long expectedLaunch,
      int expectedPartitions) {
    if (!MessageDigest.isEqual(token, expectedToken)) return "wrong token";
    if (launch != expectedLaunch) return "a task of another launch of the barrier stage";
    if (partitions != expectedPartitions || partition < 0 || partition >= partitions) {
      return "partition " + partition + " of " + partitions + ", the stage has " + expectedPartitions;
    }
    return null;
  }

  /** The driver's answer to a tree task's hello: its parent ({@link TreeTopology#DRIVER}: none) and where it listens. */
  static ByteBuffer topology(int parent, InetAddress host, int port) {
    ByteBuffer b = ByteBuffer.allocate(TOPOLOGY_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(TOPOLOGY).putInt(parent);
    byte[] ip = parent == TreeTopology.DRIVER ? new byte[0] : host.getAddress();
    b.putInt(ip.length).put(ip).position(4 + 4 + 4 + 16).putInt(parent == TreeTopology.DRIVER ? 0 : port);
    return b.flip();
  }

  /**
   * Reads the topology message (flipped) a task of {@code expectedParent}'s subtree expects: its
   * parent's listener, or null when the driver is the parent.
   */
  static InetSocketAddress readTopology(ByteBuffer t, int expectedParent) throws IOException {
    int magic = t.getInt();
    int parent = t.getInt();
    int length = t.getInt();
    if (magic != TOPOLOGY || parent != expectedParent || (length != 0 && length != 4 && length != 16)) {
      throw new IOException(String.format("the driver sent a topology message 0x%08x for parent %d", magic, parent));
    }
    byte[] ip = new byte[length];
    t.get(ip).position(4 + 4 + 4 + 16);
    int port = t.getInt();
    return parent == TreeTopology.DRIVER ? null : new InetSocketAddress(InetAddress.getByAddress(ip), port);
  }

  /** A round's header into {@code b} (cleared first, not flipped): its floats follow it. */
  static void writeRound(ByteBuffer b, Round r, int floats) {
    b.clear();
    b.putInt(ROUND).putInt(r.epoch()).putInt(r.first()).putInt(r.end()).putLong(r.optimizerSteps()).putInt(floats);
  }

  /** The end of an epoch's rounds: a round header's size, {@link #END} and zeros. */
  static ByteBuffer end() {
    ByteBuffer b = ByteBuffer.allocate(ROUND_HEADER).order(ByteOrder.LITTLE_ENDIAN);
    return b.putInt(END).position(ROUND_HEADER).flip();
  }

  /**
   * Reads a round header (flipped) from {@code from}: the round, or null for the end of the
   * epoch; its float count is {@link #roundFloats}.
   */
  static Round readRound(ByteBuffer h, int maxFloats, String from) throws IOException {
    int magic = h.getInt(0);
    if (magic == END) return null;
    if (magic != ROUND) throw new IOException(String.format(from + " sent header 0x%08x", magic));
    int n = roundFloats(h);
    if (n < 0 || n > maxFloats) throw new IOException(from + " sent " + n + " floats, at most " + maxFloats + " fit");
    return new Round(h.getInt(4), h.getInt(8), h.getInt(12), h.getLong(16));
  }

  /** The float count of a round header. */
  static int roundFloats(ByteBuffer h) {
    return h.getInt(ROUND_HEADER - 4);
  }

  /** Bytes of {@code n} floats on the wire: 4 each, or 2 with {@code sync.wire=bf16}. */
  static int floatBytes(int n, boolean bf16) {
    return (bf16 ? 2 : 4) * n;
  }

  /**
   * Writes {@code src[off, off + n)} into {@code b} from its absolute {@code at}: through
   * {@code view} (a float view of {@code b} from {@code at}) as floats, or with {@code bf16} as
   * their upper halves (the values are already rounded: {@link Bf16}).
   */
  static void putFloats(ByteBuffer b, int at, FloatBuffer view, float[] src, int off, int n, boolean bf16) {
    if (bf16) {
      b.limit(b.capacity()); // absolute writes are checked against the limit a previous read left; the caller sets its own after
      Bf16.encode(src, off, n, b, at);
    } else {
      view.clear();
      view.put(src, off, n);
    }
  }

  /** Reads {@code n} values written by {@link #putFloats} into {@code dst[off, off + n)}. */
  static void getFloats(ByteBuffer b, int at, FloatBuffer view, float[] dst, int off, int n, boolean bf16) {
    if (bf16) {
      Bf16.decode(b, at, dst, off, n);
    } else {
      view.clear();
      view.get(dst, off, n);
    }
  }

  /** The bytes of a sum's header for a round of {@code steps} steps. */
  static int sumHeaderBytes(int steps) {
    return SUM_HEADER + steps * SUM_STEP;
  }

  /** A sum's header for {@code round} into {@code b} (cleared first, then flipped): {@code s}'s rows, compute and steps; its floats follow it. */
  static void writeSum(ByteBuffer b, int partition, Round round, PartitionSum s, int floats) {
    int steps = round.steps();
    b.clear();
    b.putInt(SUM).putInt(partition).putInt(round.epoch()).putInt(round.first()).putInt(steps).putInt(s.rows)
        .putLong(s.computeNanos).putInt(s.rows > 0 ? floats : 0);
    for (int j = 0; j < steps; j++) b.putDouble(s.stepLoss[j]).putInt(s.stepRows[j]);
    b.flip();
  }

  /**
   * Reads a sum's header (flipped) into {@code into} (rows, compute, every step's loss and rows)
   * and checks it against the round the reader expects from {@code partition}: why it is
   * refused, or null; its floats (when {@code into.rows > 0}) are {@code floats}.
   */
  static String readSum(ByteBuffer h, int partition, Round round, int floats, PartitionSum into) {
    int magic = h.getInt();
    int p = h.getInt();
    int epoch = h.getInt();
    int first = h.getInt();
    int steps = h.getInt();
    int rows = h.getInt();
    long compute = h.getLong();
    int n = h.getInt();
    if (magic != SUM) return String.format("a sum with header 0x%08x", magic);
    if (p != partition || epoch != round.epoch() || first != round.first() || steps != round.steps()) {
      return "a sum for partition " + p + ", epoch " + (epoch + 1) + " step " + first + " (" + steps + " steps)";
    }
    int expected = rows > 0 ? floats : 0;
    if (rows < 0 || n != expected) return "a sum of " + rows + " rows with " + n + " floats, expected " + expected;
    for (int j = 0; j < steps; j++) {
      into.stepLoss[j] = h.getDouble();
      into.stepRows[j] = h.getInt();
    }
    into.partition = p;
    into.rows = rows;
    into.computeNanos = compute;
    return sumRefusal(into, partition, steps);
  }

  /** The one check of a sum's rows, however it came (a socket's header, a task in this JVM): why it is refused, or null. */
  static String sumRefusal(PartitionSum s, int partition, int steps) {
    int total = 0;
    for (int j = 0; j < steps; j++) {
      if (s.stepRows[j] < 0) return "a step with " + s.stepRows[j] + " rows";
      total += s.stepRows[j];
    }
    if (s.partition != partition) return "a sum for partition " + s.partition;
    if (total != s.rows) return "steps of " + total + " rows in all, a sum of " + s.rows;
    return null;
  }

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
