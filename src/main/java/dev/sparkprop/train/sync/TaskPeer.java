package dev.sparkprop.train.sync;

import dev.sparkprop.train.step.PartitionSum;
import dev.sparkprop.train.step.Round;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * The driver's side of one admitted barrier task, for the {@link Exchange}: how its round
 * message goes out and where its sum stands. Over a socket ({@link Socket}) or, for a task in
 * the driver's JVM, in memory ({@link Memory}). A sum that does not match what the driver
 * expects fails the round with an {@link Exchange.Failure} naming the partition and the step.
 */
abstract class TaskPeer {
  final int partition;
  private boolean done = true;
  Round round;
  PartitionSum into;

  TaskPeer(int partition) {
    this.partition = partition;
  }

  /**
   * Starts round {@code r}: hands the task its message (the floats {@code out[0, floats)}, or
   * the first {@code bytes} of the shared serialised message); its sum will go into
   * {@code into}. Returns whether the message went out whole.
   */
  final boolean start(Round r, float[] out, int floats, int bytes, PartitionSum into) {
    this.round = r;
    this.into = into;
    done = false;
    return send(out, floats, bytes);
  }

  abstract boolean send(float[] out, int floats, int bytes);

  /** Whether the sum of the current round is in. */
  final boolean done() {
    return done;
  }

  /** Marks the sum as in; true (for counting) the first time. */
  final boolean finish() {
    boolean first = !done;
    done = true;
    return first;
  }

  /** Looks for a sum that arrived outside the selector (in memory); true when it just came in. */
  boolean poll() {
    return false;
  }

  /**
   * For a task outside the selector (in memory) that has ended without the current round's sum:
   * when it ended ({@link System#nanoTime()}); else {@link Long#MAX_VALUE}.
   */
  long endedWithoutSum() {
    return Long.MAX_VALUE;
  }

  /** Tells the task that the epoch is over. */
  abstract void end();

  abstract void close();

  /** "partition P{before} at epoch E step K{after}". */
  final Exchange.Failure failure(String before, String after) {
    return new Exchange.Failure("partition " + partition + before
        + (round == null ? " before the first round" : " at " + round.describe()) + after);
  }

  /** A task in the driver's JVM: the arrays are read in place and handed over by a {@link MemoryLink}. */
  static final class Memory extends TaskPeer {
    private final MemoryLink link;

    Memory(MemoryLink link) {
      super(link.partition);
      this.link = link;
    }

    @Override
    boolean send(float[] out, int floats, int bytes) {
      link.offer(round, out);
      return true;
    }

    @Override
    long endedWithoutSum() {
      return done() || !link.taskEnded() || link.sum() != null ? Long.MAX_VALUE : link.endedNanos();
    }

    @Override
    boolean poll() {
      if (done()) return false;
      PartitionSum s = link.sum();
      if (s == null) {
        if (link.taskEnded()) throw failure("'s task ended", " without its sum");
        return false;
      }
      String bad = Wire.sumRefusal(s, partition, round.steps());
      if (bad != null) throw failure(" returned " + bad, "");
      for (int j = 0; j < round.steps(); j++) {
        into.stepLoss[j] = s.stepLoss[j];
        into.stepRows[j] = s.stepRows[j];
      }
      into.partition = partition;
      into.rows = s.rows;
      into.computeNanos = s.computeNanos;
      into.vector = s.vector; // read in place; the task leaves it alone until the next round
      return finish();
    }

    @Override
    void end() {
      link.offer(null, null);
    }

    @Override
    void close() {
      link.closeFromDriver();
    }
  }

  /**
   * A task over a socket: its view of the shared round message, and its sum read into buffers
   * of its partition (allocated once by the exchange), then copied into {@code received}.
   */
  static final class Socket extends TaskPeer {
    /** Bits of {@link #ready}'s answer. */
    static final int SENT = 1;
    static final int RECEIVED = 2;
    private final SocketChannel channel;
    private final SelectionKey key;
    private final ByteBuffer out;
    private final ByteBuffer header;
    private final ByteBuffer vector;
    private final FloatBuffer vectorFloats;
    private final float[] received;
    private final boolean bf16;
    private int floats;
    private boolean readingVector;
    private int vectorLength;

    Socket(int partition, SocketChannel channel, SelectionKey key, ByteBuffer message, ByteBuffer header, ByteBuffer vector,
        float[] received, boolean bf16) {
      super(partition);
      this.bf16 = bf16;
      this.channel = channel;
      this.key = key;
      this.out = message.duplicate();
      this.header = header;
      this.vector = vector;
      this.vectorFloats = vector.duplicate().clear().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
      this.received = received;
    }

    @Override
    boolean send(float[] unused, int floats, int bytes) {
      this.floats = floats;
      out.clear().limit(bytes);
      header.clear().limit(Wire.sumHeaderBytes(round.steps()));
      readingVector = false;
      return write();
    }

    /** Writes what the socket takes; whether the message is out whole. */
    private boolean write() {
      try {
        channel.write(out);
      } catch (IOException e) {
        throw failure(" lost its connection", ": " + e.getMessage());
      }
      key.interestOps(out.hasRemaining() ? SelectionKey.OP_READ | SelectionKey.OP_WRITE : SelectionKey.OP_READ);
      return !out.hasRemaining();
    }

    /** The selector says the socket is ready: writes and reads what it can; {@link #SENT} and {@link #RECEIVED} bits. */
    int ready(SelectionKey k) {
      int events = 0;
      try {
        if (k.isValid() && k.isWritable() && out.hasRemaining() && write()) events |= SENT;
        if (k.isValid() && k.isReadable() && read()) events |= RECEIVED;
      } catch (IOException e) {
        throw failure(" lost its connection", ": " + e.getMessage());
      }
      return events;
    }

    /** Reads what has arrived; true when the sum is complete. */
    private boolean read() throws IOException {
      while (true) {
        if (done()) {
          // a sum is complete (or no round runs): anything more is out of turn
          int n = channel.read(ByteBuffer.allocate(1));
          if (n < 0) throw new IOException("closed its connection");
          if (n > 0) throw bad("sent bytes out of turn");
          return false;
        }
        ByteBuffer b = readingVector ? vector : header;
        if (channel.read(b) < 0) throw new IOException("closed its connection");
        if (b.hasRemaining()) return false;
        if (readingVector) {
          Wire.getFloats(vector, 0, vectorFloats, received, 0, vectorLength, bf16);
          into.vector = received;
          return finish();
        }
        if (parseHeader()) return finish();
      }
    }

    /** Checks the header and fills {@link #into}; true when no vector follows. */
    private boolean parseHeader() {
      String why = Wire.readSum(header.flip(), partition, round, floats, into);
      if (why != null) throw bad(why);
      int n = into.rows > 0 ? floats : 0;
      if (n == 0) return true;
      vector.clear().limit(Wire.floatBytes(n, bf16));
      vectorLength = n;
      readingVector = true;
      return false;
    }

    private Exchange.Failure bad(String what) {
      return failure(" sent " + what, "; dropped its connection");
    }

    @Override
    void end() {
      try {
        sendNow(Wire.end());
      } catch (Exchange.Failure e) {
        // the task is gone; its stage says why
      }
    }

    /** A few bytes into a socket whose reader waits for them (never more than a few tries); a lost task fails. */
    void sendNow(ByteBuffer b) {
      try {
        for (long until = System.nanoTime() + 1_000_000_000L; b.hasRemaining() && System.nanoTime() < until; ) {
          if (channel.write(b) == 0) Thread.onSpinWait();
        }
      } catch (IOException e) {
        throw failure(" lost its connection", ": " + e.getMessage());
      }
      if (b.hasRemaining()) throw failure(" did not read", " within 1 s");
    }

    @Override
    void close() {
      try {
        channel.close();
      } catch (IOException e) {
        // closing anyway
      }
    }
  }
}
