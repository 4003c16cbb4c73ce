package dev.sparkprop.train.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkprop.train.step.PartitionSum;
import dev.sparkprop.train.step.Round;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The barrier transport's wire protocol without Spark: the driver's {@link Exchange} against
 * well-behaved tasks ({@link ExchangeClient}, {@link MemoryLink}) and against strangers and
 * broken tasks written byte by byte. Nobody else gets in, nothing hangs.
 */
class ExchangeTest {
  private static final int FLOATS = 1000;
  private static final long LAUNCH = 42;
  private final byte[] token = Wire.token(null, "key of this run, 32 bytes long...".getBytes(StandardCharsets.UTF_8), "run");
  private final ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
  private final PrintStream log = new PrintStream(logBytes, true, StandardCharsets.UTF_8);
  private final ExecutorService pool = Executors.newCachedThreadPool();
  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : open) c.close();
    pool.shutdownNow();
    assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS), "task threads ended");
  }

  private Exchange exchange(int partitions, long timeoutMillis, boolean local) throws IOException {
    Exchange e = new Exchange("127.0.0.1", "127.0.0.1", 0, partitions, FLOATS, 1, token, timeoutMillis, local, log);
    open.add(e);
    return e;
  }

  private String log() {
    return logBytes.toString(StandardCharsets.UTF_8);
  }

  /** A task that answers every round with (p + 1) x the floats it got and p + 1 rows; how many rounds it ran. */
  private Future<Integer> task(TaskLinkFactory connect, int p) {
    return pool.submit(() -> {
      try (TaskLink link = connect.open()) {
        PartitionSum sum = new PartitionSum(p, 1, new float[FLOATS]);
        int rounds = 0;
        for (float[] in; (in = link.next()) != null; rounds++) {
          for (int i = 0; i < FLOATS; i++) sum.vector[i] = (p + 1) * in[i];
          sum.partition = p;
          sum.rows = p + 1;
          sum.stepRows[0] = p + 1;
          sum.stepLoss[0] = 0.5 * (p + 1);
          sum.computeNanos = 1000 + p;
          link.reply(sum);
        }
        return rounds;
      }
    });
  }

  interface TaskLinkFactory {
    TaskLink open() throws IOException;
  }

  private TaskLinkFactory socketTask(Exchange e, int p, int partitions, String localPath) {
    return () -> new ExchangeClient(e.address(), localPath, LAUNCH, p, partitions, token, FLOATS, 1);
  }

  private static float[] ramp() {
    float[] out = new float[FLOATS];
    for (int i = 0; i < FLOATS; i++) out[i] = i * 0.25f;
    return out;
  }

  private static PartitionSum[] sums(int partitions) {
    PartitionSum[] s = new PartitionSum[partitions];
    for (int p = 0; p < partitions; p++) s[p] = new PartitionSum(p, 1, null);
    return s;
  }

  /** Runs three rounds and the end; checks every sum. */
  private static void exchangeRounds(Exchange e, int partitions, List<Future<Integer>> tasks) throws Exception {
    float[] out = ramp();
    PartitionSum[] into = sums(partitions);
    for (int k = 0; k < 3; k++) {
      out[0] = k;
      e.round(new Round(0, k, k + 1, 0), out, FLOATS, into);
      for (int p = 0; p < partitions; p++) {
        assertEquals(p + 1, into[p].rows);
        assertEquals(0.5 * (p + 1), into[p].stepLoss[0]);
        assertEquals(1000 + p, into[p].computeNanos);
        float[] expected = new float[FLOATS];
        for (int i = 0; i < FLOATS; i++) expected[i] = (p + 1) * out[i];
        assertArrayEquals(expected, java.util.Arrays.copyOf(into[p].vector, FLOATS), "partition " + p + " round " + k);
      }
    }
    e.end();
    for (Future<Integer> t : tasks) assertEquals(3, t.get(10, TimeUnit.SECONDS), "the task ran three rounds and ended");
  }

  @Test
  void tasksOverTcpUnixSocketAndMemoryExchangeTheSameFloats() throws Exception {
    Exchange e = exchange(3, 10_000, true);
    MemoryLink.register("run", e);
    try {
      List<Future<Integer>> tasks = List.of(
          task(socketTask(e, 0, 3, null), 0), // TCP
          task(socketTask(e, 1, 3, e.localPath()), 1), // the Unix socket
          task(() -> MemoryLink.connect("run", LAUNCH, 2, 3, token, 10_000), 2));
      e.admit(LAUNCH, () -> false);
      exchangeRounds(e, 3, tasks);
    } finally {
      MemoryLink.unregister("run");
    }
    assertFalse(log().contains("WARNING"), log());
  }

  @Test
  void listensOnlyOnTheDriversAddress() throws Exception {
    Exchange e = exchange(1, 1000, false);
    InetSocketAddress at = e.listening();
    assertEquals(InetAddress.getByName("127.0.0.1"), at.getAddress(), "bound to the given address, not the wildcard");
    for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      for (InetAddress a : Collections.list(nif.getInetAddresses())) {
        if (a.isLoopbackAddress() || a.isLinkLocalAddress()) continue;
        try (Socket s = new Socket()) {
          assertThrows(IOException.class, () -> s.connect(new InetSocketAddress(a, at.getPort()), 2000),
              "connect to " + a + " port " + at.getPort());
        }
      }
    }
  }

  @Test
  void strangersAreDroppedAndTheTasksStillExchange() throws Exception {
    Exchange e = exchange(2, 1500, false);
    InetSocketAddress at = e.listening();
    List<Socket> strangers = new ArrayList<>();
    // garbage with a huge length prefix
    strangers.add(stranger(at, ByteBuffer.allocate(Wire.HELLO_BYTES).order(ByteOrder.LITTLE_ENDIAN).putInt(0x7fffffff).putInt(0x7fffffff).array()));
    strangers.add(stranger(at, hello(Wire.HELLO, LAUNCH, 1, 2, new byte[Wire.TOKEN_BYTES]))); // wrong token
    strangers.add(stranger(at, hello(Wire.HELLO, LAUNCH + 1, 1, 2, token))); // an old launch
    strangers.add(stranger(at, hello(Wire.HELLO, LAUNCH, 7, 2, token))); // no such partition
    strangers.add(stranger(at, new byte[] {1, 2, 3})); // says too little, then nothing
    List<Future<Integer>> tasks = List.of(task(socketTask(e, 0, 2, null), 0), task(socketTask(e, 1, 2, null), 1));
    e.admit(LAUNCH, () -> false);
    strangers.add(stranger(at, hello(Wire.HELLO, LAUNCH, 1, 2, token))); // partition 1 again, mid-epoch
    Thread.sleep(1700); // the silent one's time to say hello runs out
    exchangeRounds(e, 2, tasks);
    for (Socket s : strangers) s.close();
    String text = log();
    assertTrue(text.contains("not a sparkprop task: header 0x7fffffff"), text);
    assertTrue(text.contains("wrong token (claimed partition 1)"), text);
    assertTrue(text.contains("a task of another launch of the barrier stage (claimed partition 1)"), text);
    assertTrue(text.contains("partition 7 of 2, the stage has 2"), text);
    assertTrue(text.contains("partition 1 is already connected"), text);
    assertTrue(text.contains("no hello within 1500 ms"), text);
  }

  @Test
  void aTaskThatSendsAWrongSizeFailsTheRoundNamingThePartition() throws Exception {
    ByteBuffer bad = sumHeader(1, 0, 0, 1, 5, 0x7fffffff);
    Exchange.Failure f = roundWithABadTask(bad.array());
    assertEquals("partition 1 sent a sum of 5 rows with 2147483647 floats, expected 1000 at epoch 1 step 0; "
        + "dropped its connection", f.getMessage());
  }

  @Test
  void aTaskThatSendsGarbageFailsTheRoundNamingThePartition() throws Exception {
    byte[] garbage = new byte[Wire.SUM_HEADER + Wire.SUM_STEP];
    java.util.Arrays.fill(garbage, (byte) 0x5a);
    Exchange.Failure f = roundWithABadTask(garbage);
    assertTrue(f.getMessage().startsWith("partition 1 sent a sum with header 0x5a5a5a5a at epoch 1 step 0"), f.getMessage());
  }

  @Test
  void aTaskThatStopsSendingFailsAfterTheTimeoutNamingThePartitionAndStep() throws Exception {
    long t0 = System.nanoTime();
    Exchange.Failure f = roundWithABadTask(new byte[0]);
    double seconds = (System.nanoTime() - t0) / 1e9;
    assertEquals("no sum from partition 1 within 1 s at epoch 1 step 0 (sync.timeout): its task stopped sending", f.getMessage());
    assertTrue(seconds < 10, "failed after the timeout, not later: " + seconds + " s");
  }

  @Test
  void tasksThatDoNotComeFailTheAdmissionAfterTheTimeoutOrWhenTheStageEnds() throws Exception {
    Exchange e = exchange(2, 1000, false);
    Future<Integer> one = task(socketTask(e, 0, 2, null), 0);
    Exchange.Failure f = assertThrows(Exchange.Failure.class, () -> e.admit(LAUNCH, () -> false));
    assertTrue(f.getMessage().startsWith("only 1 of 2 tasks connected to the driver at 127.0.0.1:"), f.getMessage());
    assertTrue(f.getMessage().endsWith("within 1 s (sync.timeout); missing partitions 1"), f.getMessage());
    e.dropPeers();
    assertThrows(java.util.concurrent.ExecutionException.class, () -> one.get(10, TimeUnit.SECONDS), "the task sees the close");
    f = assertThrows(Exchange.Failure.class, () -> e.admit(LAUNCH, () -> true));
    assertEquals("the barrier stage ended before its tasks connected", f.getMessage());
  }

  /** An in-memory task that answers round 0 and then, once {@code before} is done, ends without another sum. */
  private Future<Integer> answersOnceThenEnds(int p, String run, Future<?> before) {
    return pool.submit(() -> {
      MemoryLink link = MemoryLink.connect(run, LAUNCH, p, 2, token, 10_000);
      PartitionSum sum = new PartitionSum(p, 1, new float[FLOATS]);
      link.next();
      sum.partition = p;
      sum.rows = 1;
      sum.stepRows[0] = 1;
      link.reply(sum);
      if (before != null) before.get(10, TimeUnit.SECONDS);
      link.close(); // what the task's end does (killed, or failed)
      return p;
    });
  }

  /**
   * Tasks that ended while the previous round was being collected fail the next round at once
   * (their wake-ups were spent on that round's wait) and the failure names the task that ended
   * first: Spark ends the others of a barrier stage after one is killed.
   */
  @Test
  void inMemoryTasksThatEndedBetweenRoundsFailTheNextRoundAtOnceNamingTheFirstToEnd() throws Exception {
    Exchange e = exchange(2, 20_000, true);
    MemoryLink.register("run3", e);
    try {
      Future<Integer> one = answersOnceThenEnds(1, "run3", null);
      Future<Integer> zero = answersOnceThenEnds(0, "run3", one);
      e.admit(LAUNCH, () -> false);
      PartitionSum[] into = sums(2);
      e.round(new Round(0, 0, 1, 0), ramp(), FLOATS, into);
      assertEquals(1, one.get(10, TimeUnit.SECONDS));
      assertEquals(0, zero.get(10, TimeUnit.SECONDS));
      long t0 = System.nanoTime();
      Exchange.Failure f = assertThrows(Exchange.Failure.class, () -> e.round(new Round(0, 1, 2, 1), ramp(), FLOATS, into));
      assertEquals("partition 1's task ended at " + new Round(0, 1, 2, 1).describe() + " without its sum", f.getMessage());
      assertTrue(System.nanoTime() - t0 < 10_000_000_000L, "failed before the 20 s timeout, not at it");
    } finally {
      MemoryLink.unregister("run3");
    }
  }

  @Test
  void anInMemoryTaskThatEndedBeforeTheRoundWhileAnotherComputesFailsItAtOnce() throws Exception {
    Exchange e = exchange(2, 20_000, true);
    MemoryLink.register("run4", e);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    try {
      Future<Integer> ends = answersOnceThenEnds(0, "run4", null);
      Future<Integer> computes = pool.submit(() -> {
        try (MemoryLink link = MemoryLink.connect("run4", LAUNCH, 1, 2, token, 10_000)) {
          PartitionSum sum = new PartitionSum(1, 1, new float[FLOATS]);
          link.next();
          ends.get(10, TimeUnit.SECONDS); // its end is seen while this round is still being collected
          Thread.sleep(300);
          sum.partition = 1;
          sum.rows = 1;
          sum.stepRows[0] = 1;
          link.reply(sum);
          link.next(); // round 1: computes for longer than the timeout
          release.await(60, TimeUnit.SECONDS);
          return 1;
        }
      });
      e.admit(LAUNCH, () -> false);
      PartitionSum[] into = sums(2);
      e.round(new Round(0, 0, 1, 0), ramp(), FLOATS, into);
      long t0 = System.nanoTime();
      Exchange.Failure f = assertThrows(Exchange.Failure.class, () -> e.round(new Round(0, 1, 2, 1), ramp(), FLOATS, into));
      assertEquals("partition 0's task ended at " + new Round(0, 1, 2, 1).describe() + " without its sum", f.getMessage());
      assertTrue(System.nanoTime() - t0 < 10_000_000_000L, "failed before the 20 s timeout, not at it");
      release.countDown();
      assertEquals(1, computes.get(10, TimeUnit.SECONDS));
    } finally {
      release.countDown();
      MemoryLink.unregister("run4");
    }
  }

  @Test
  void anInMemoryTaskWithAWrongTokenIsRefused() throws Exception {
    Exchange e = exchange(1, 2000, true);
    MemoryLink.register("run2", e);
    try {
      Future<MemoryLink> bad = pool.submit(() -> MemoryLink.connect("run2", LAUNCH, 0, 1, new byte[32], 2000));
      Exchange.Failure f = assertThrows(Exchange.Failure.class, () -> e.admit(LAUNCH, () -> false));
      assertTrue(f.getMessage().startsWith("only 0 of 1 tasks connected"), f.getMessage());
      java.util.concurrent.ExecutionException x = assertThrows(java.util.concurrent.ExecutionException.class,
          () -> bad.get(10, TimeUnit.SECONDS));
      assertEquals("the driver refused partition 0: wrong token", x.getCause().getMessage());
      assertTrue(log().contains("refused an in-memory task (claimed partition 0): wrong token"), log());
    } finally {
      MemoryLink.unregister("run2");
    }
  }

  @Test
  void theTokenDerivesFromSparksSecretWhenThereIsOne() {
    byte[] a = Wire.token("secret-one", null, "run");
    assertArrayEquals(a, Wire.token("secret-one", null, "run"), "the executors derive the same token");
    assertFalse(java.util.Arrays.equals(a, Wire.token("secret-two", null, "run")), "another secret");
    assertFalse(java.util.Arrays.equals(a, Wire.token("secret-one", null, "run 2")), "another run");
    assertEquals(Wire.TOKEN_BYTES, a.length);
  }

  /** Partition 0 behaves; partition 1 is a raw socket that says hello, then sends {@code reply} and nothing more. */
  private Exchange.Failure roundWithABadTask(byte[] reply) throws Exception {
    Exchange e = exchange(2, 1000, false);
    Future<Integer> good = task(socketTask(e, 0, 2, null), 0);
    SocketChannel bad = SocketChannel.open(e.listening());
    open.add(bad);
    write(bad, hello(Wire.HELLO, LAUNCH, 1, 2, token));
    e.admit(LAUNCH, () -> false);
    ByteBuffer skip = ByteBuffer.allocate(Wire.ROUND_HEADER + 4 * FLOATS);
    Future<?> badTask = pool.submit(() -> {
      while (skip.hasRemaining()) bad.read(skip); // the round's message
      write(bad, reply);
      return null;
    });
    Exchange.Failure f = assertThrows(Exchange.Failure.class,
        () -> e.round(new Round(0, 0, 1, 0), ramp(), FLOATS, sums(2)));
    badTask.get(10, TimeUnit.SECONDS);
    e.dropPeers();
    assertThrows(java.util.concurrent.ExecutionException.class, () -> good.get(10, TimeUnit.SECONDS), "the good task sees the close");
    return f;
  }

  private static byte[] hello(int magic, long launch, int p, int partitions, byte[] token) {
    ByteBuffer b = ByteBuffer.allocate(Wire.HELLO_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(magic).putLong(launch).putInt(p).putInt(partitions).put(token);
    return b.array();
  }

  private static ByteBuffer sumHeader(int p, int epoch, int first, int steps, int rows, int floats) {
    ByteBuffer b = ByteBuffer.allocate(Wire.SUM_HEADER + steps * Wire.SUM_STEP).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(Wire.SUM).putInt(p).putInt(epoch).putInt(first).putInt(steps).putInt(rows).putLong(1).putInt(floats);
    for (int j = 0; j < steps; j++) b.putDouble(1.0).putInt(rows);
    return b;
  }

  private static void write(SocketChannel ch, byte[] bytes) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    while (b.hasRemaining()) ch.write(b);
  }

  private Socket stranger(InetSocketAddress at, byte[] bytes) throws IOException {
    Socket s = new Socket(at.getAddress(), at.getPort());
    s.getOutputStream().write(bytes);
    s.getOutputStream().flush();
    return s;
  }
}
