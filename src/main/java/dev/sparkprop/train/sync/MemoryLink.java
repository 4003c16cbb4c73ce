package dev.sparkprop.train.sync;

import dev.sparkprop.train.step.PartitionSum;
import dev.sparkprop.train.step.Round;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.Selector;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The exchange between the driver and a barrier task that runs in the driver's own JVM (local
 * mode: Spark's executor lives in the driver): no bytes at all. The task reads the driver's
 * array of the round and the driver reads the task's sum in place; a volatile counter hands each
 * message over (happens-before both ways) and the waiting side parks. The driver never writes
 * what it sent until every task has replied, and a task never writes its sum until the next
 * round reaches it, so nobody reads a half-written array.
 *
 * <p>A task finds the driver's {@link Exchange} through a registry of this JVM keyed by the run
 * id (a task in another JVM, or loaded by another class loader, does not find it and connects
 * over a socket) and presents the same token as a socket's hello.
 */
final class MemoryLink implements TaskLink {
  /** The exchanges of this JVM that accept in-memory tasks, by run id. */
  private static final Map<String, Exchange> OPEN = new ConcurrentHashMap<>();

  static void register(String runId, Exchange exchange) {
    OPEN.put(runId, exchange);
  }

  static void unregister(String runId) {
    OPEN.remove(runId);
  }

  /** A link to the driver's exchange if it runs in this JVM, else null. */
  static MemoryLink connect(String runId, long launch, int partition, int partitions, byte[] token, long timeoutMillis)
      throws IOException {
    Exchange exchange = OPEN.get(runId);
    if (exchange == null) return null;
    MemoryLink link = new MemoryLink(launch, partition, partitions, token, exchange.selector());
    exchange.offerLocal(link);
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    while (link.admitted == 0) {
      if (System.nanoTime() > deadline) throw new IOException("the driver did not admit partition " + partition);
      link.park();
    }
    if (link.admitted < 0) throw new IOException("the driver refused partition " + partition + ": " + link.refusal);
    return link;
  }

  final long launch;
  final int partition;
  final int partitions;
  private final byte[] token;
  private final Selector driver; // woken when a sum is ready
  private final Thread task = Thread.currentThread();
  private volatile int admitted; // 1 admitted, -1 refused
  private volatile String refusal;
  // driver -> task: the round, published by the volatile write of sent
  private Round round;
  private float[] data;
  private volatile int sent;
  private int seen;
  // task -> driver: the sum, published by the volatile write of replied
  private PartitionSum sum;
  private volatile int replied;
  private volatile boolean closed; // by the driver
  private volatile boolean ended; // by the task
  private volatile long endedNanos; // System.nanoTime() when it ended, written before ended

  private MemoryLink(long launch, int partition, int partitions, byte[] token, Selector driver) {
    this.launch = launch;
    this.partition = partition;
    this.partitions = partitions;
    this.token = token.clone();
    this.driver = driver;
  }

  // ---- the driver's side ----

  /** Whether this link presents {@code expected} (constant time). */
  /** The token this task presents (for the driver's admission check, {@link Wire#refusal}). */
  byte[] token() {
    return token;
  }

  void admit() {
    admitted = 1;
    LockSupport.unpark(task);
  }

  void refuse(String why) {
    refusal = why;
    admitted = -1;
    LockSupport.unpark(task);
  }

  /** Hands the task round {@code r} reading {@code floats} (null: the epoch is over). */
  void offer(Round r, float[] floats) {
    round = r;
    data = floats;
    sent++;
    LockSupport.unpark(task);
  }

  /** The task's sum of the last round offered, or null while it computes. */
  PartitionSum sum() {
    return replied == sent ? sum : null;
  }

  /** Whether the task has ended (returned or failed): no sum will come. */
  boolean taskEnded() {
    return ended;
  }

  /** When the task ended ({@link System#nanoTime()}); meaningful once {@link #taskEnded()}. */
  long endedNanos() {
    return endedNanos;
  }

  void closeFromDriver() {
    closed = true;
    LockSupport.unpark(task);
  }

  // ---- the task's side ----

  @Override
  public float[] next() throws IOException {
    int want = seen + 1;
    while (sent != want) {
      if (closed) throw new EOFException("the driver closed the in-memory link");
      park();
    }
    seen = want;
    return data;
  }

  @Override
  public Round round() {
    return round;
  }

  @Override
  public void reply(PartitionSum s) {
    sum = s;
    replied = seen;
    driver.wakeup();
  }

  private void park() throws InterruptedIOException {
    LockSupport.parkNanos(this, 100_000_000L);
    if (Thread.interrupted()) throw new InterruptedIOException("barrier task cancelled");
  }

  @Override
  public void close() {
    endedNanos = System.nanoTime();
    ended = true;
    driver.wakeup();
  }
}
