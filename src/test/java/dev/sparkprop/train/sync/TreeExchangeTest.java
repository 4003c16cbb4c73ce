package dev.sparkprop.train.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkprop.train.step.PartitionSum;
import dev.sparkprop.train.step.Reducer;
import dev.sparkprop.train.step.Round;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code sync.topology=tree} without Spark: the driver's {@link Exchange} with a
 * {@link TreeTopology} and its tasks' {@link TreeNode}s in threads, over TCP on loopback. The
 * driver receives the whole sum, equal bit for bit to its own reduce of the partitions' sums;
 * a task's listener drops strangers and names them; a silent child fails its parent within the
 * timeout naming the child and the step; a lost interior task fails the driver's round.
 */
class TreeExchangeTest {
  private static final int FLOATS = 3000; // several chunks of 4096 bytes
  private static final long LAUNCH = 7;
  private final byte[] token = Wire.token(null, "key of this run, 32 bytes long...".getBytes(StandardCharsets.UTF_8), "run");
  private final ByteArrayOutputStream driverLog = new ByteArrayOutputStream();
  private final ByteArrayOutputStream taskLog = new ByteArrayOutputStream();
  private final PrintStream tasks = new PrintStream(taskLog, true, StandardCharsets.UTF_8);
  private final ExecutorService pool = Executors.newCachedThreadPool();
  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : open) c.close();
    pool.shutdownNow();
    assertTrue(pool.awaitTermination(20, TimeUnit.SECONDS), "every task thread ended");
  }

  private Exchange exchange(TreeTopology tree, long timeoutMillis) throws IOException {
    Exchange e = new Exchange("127.0.0.1", "127.0.0.1", 0, tree.partitions(), FLOATS, 1, token, timeoutMillis, false, tree, false,
        new PrintStream(driverLog, true, StandardCharsets.UTF_8));
    open.add(e);
    return e;
  }

  /** Partition p's sum of a round: (p + 1) x the parameters plus a ramp, with p + 1 rows (none for {@code empty}). */
  private static void fill(int p, float[] in, PartitionSum sum, int empty) {
    int rows = p == empty ? 0 : p + 1;
    for (int i = 0; i < FLOATS; i++) sum.vector[i] = (p + 1) * in[i] + (float) Math.sin(p * 31 + i) * 1e-3f;
    sum.partition = p;
    sum.rows = rows;
    sum.stepRows[0] = rows;
    sum.stepLoss[0] = rows == 0 ? 0 : Math.sqrt(p + 2);
    sum.computeNanos = 1000 + p;
  }

  /** A task that answers every round with {@link #fill}; how many rounds it ran. {@code stall}: waits forever after that many. */
  private Future<Integer> task(Exchange e, TreeTopology tree, int p, int empty, long timeoutMillis, CountDownLatch stall,
      int stallAfter) {
    return pool.submit(() -> {
      try (TreeNode node = new TreeNode(e.address(), null, LAUNCH, p, tree, token, FLOATS, 1, 4096, timeoutMillis, tasks)) {
        PartitionSum sum = new PartitionSum(p, 1, new float[FLOATS]);
        int rounds = 0;
        for (float[] in; (in = node.next()) != null; rounds++) {
          if (rounds == stallAfter) stall.await();
          fill(p, in, sum, empty);
          node.reply(sum);
        }
        return rounds;
      }
    });
  }

  private static float[] params(int k) {
    float[] out = new float[FLOATS];
    for (int i = 0; i < FLOATS; i++) out[i] = i * 0.25f - k;
    return out;
  }

  @Test
  void theDriverReceivesTheWholeSumItWouldHaveAdded() throws Exception {
    for (int fanIn : new int[] {2, 3}) {
      for (int partitions : new int[] {1, 2, 5, 7}) {
        TreeTopology tree = new TreeTopology(partitions, fanIn);
        int empty = partitions - 2; // one partition without rows (none for P = 1)
        Exchange e = exchange(tree, 10_000);
        List<Future<Integer>> ts = new ArrayList<>();
        for (int p = 0; p < partitions; p++) ts.add(task(e, tree, p, empty, 10_000, null, -1));
        e.admit(LAUNCH, () -> false);
        PartitionSum[] into = new PartitionSum[partitions];
        for (int p = 0; p < partitions; p++) into[p] = new PartitionSum(p, 1, null);
        for (int k = 0; k < 3; k++) {
          float[] out = params(k);
          e.round(new Round(0, k, k + 1, 0), out, FLOATS, into);
          // the star's reduce of every partition's own sum, on the driver
          PartitionSum[] own = new PartitionSum[partitions];
          for (int p = 0; p < partitions; p++) {
            own[p] = new PartitionSum(p, 1, new float[FLOATS]);
            fill(p, out, own[p], empty);
          }
          String what = "P=" + partitions + ", fan-in " + fanIn + ", round " + k;
          double[] loss = new double[1];
          int[] rows = new int[1];
          double[] treeLoss = new double[1];
          int[] treeRows = new int[1];
          Reducer star = new Reducer(partitions, FLOATS, false);
          Reducer driver = new Reducer(partitions, FLOATS, false);
          int batch = 0;
          for (int p = 0; p < partitions; p++) batch += own[p].rows;
          dev.sparkprop.data.BatchLayout layout = new dev.sparkprop.data.BatchLayout(batch, batch, partitions);
          Round r = new Round(0, 0, 1, 0);
          assertEquals(1000 + partitions - 1, driver.addSteps(into, r, layout, treeLoss, treeRows), what + ": slowest compute");
          star.addSteps(own, r, layout, loss, rows);
          assertEquals(rows[0], treeRows[0], what);
          assertEquals(loss[0], treeLoss[0], 0.0, what + ": the loss, bit for bit");
          float[] expected = new float[FLOATS];
          float[] got = new float[FLOATS];
          assertTrue(star.mean(own, expected, FLOATS));
          assertTrue(driver.mean(into, got, FLOATS));
          assertArrayEquals(expected, got, what + ": the mean, bit for bit");
        }
        e.end();
        for (Future<Integer> t : ts) assertEquals(3, t.get(20, TimeUnit.SECONDS));
      }
    }
    assertFalse(driverLog.toString(StandardCharsets.UTF_8).contains("WARNING"), driverLog.toString(StandardCharsets.UTF_8));
    assertFalse(taskLog.toString(StandardCharsets.UTF_8).contains("WARNING"), taskLog.toString(StandardCharsets.UTF_8));
  }

  /** Bytes to a task's listener as a stranger would send them; the connection is kept open. */
  private void stranger(InetSocketAddress at, byte[] bytes) throws IOException {
    SocketChannel ch = SocketChannel.open(at);
    open.add(ch);
    ch.write(ByteBuffer.wrap(bytes));
  }

  private static byte[] hello(int magic, long launch, int p, int partitions, byte[] token) {
    ByteBuffer b = ByteBuffer.allocate(Wire.HELLO_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(magic).putLong(launch).putInt(p).putInt(partitions).put(token).putInt(0);
    return b.array();
  }

  @Test
  void aTasksListenerDropsStrangersAndNamesThem() throws Exception {
    TreeTopology tree = new TreeTopology(3, 2); // driver <- 0 <- {1, 2}
    Exchange e = exchange(tree, 1500);
    Future<Void> admit = pool.submit(() -> {
      e.admit(LAUNCH, () -> false);
      return null;
    });
    Future<Integer> root = task(e, tree, 0, -1, 1500, null, -1);
    // the root's listener is open from its hello until its children are in: strangers come first
    InetSocketAddress at = null;
    for (long until = System.nanoTime() + 10_000_000_000L; at == null && System.nanoTime() < until; ) {
      int port = e.listenPort(0);
      if (port > 0) at = new InetSocketAddress("127.0.0.1", port);
      else Thread.sleep(10);
    }
    assertTrue(at != null, "partition 0 said hello");
    byte[] garbage = new byte[Wire.HELLO_BYTES];
    for (int i = 0; i < garbage.length; i++) garbage[i] = (byte) (i + 1);
    stranger(at, garbage); // garbage
    stranger(at, hello(Wire.HELLO, LAUNCH, 1, 3, new byte[Wire.TOKEN_BYTES])); // wrong token
    stranger(at, hello(Wire.HELLO, LAUNCH + 1, 1, 3, token)); // an old launch
    stranger(at, hello(Wire.HELLO, LAUNCH, 0, 3, token)); // not a child of partition 0
    stranger(at, new byte[3]); // then silence: still unsaid when the children are in
    Thread.sleep(300);
    Future<Integer> one = task(e, tree, 1, -1, 1500, null, -1);
    Future<Integer> two = task(e, tree, 2, -1, 1500, null, -1);
    admit.get(20, TimeUnit.SECONDS);
    PartitionSum[] into = new PartitionSum[3];
    for (int p = 0; p < 3; p++) into[p] = new PartitionSum(p, 1, null);
    e.round(new Round(0, 0, 1, 0), params(0), FLOATS, into);
    assertEquals(6, into[0].rows, "the whole tree's rows");
    e.end();
    assertEquals(1, root.get(20, TimeUnit.SECONDS));
    assertEquals(1, one.get(20, TimeUnit.SECONDS));
    assertEquals(1, two.get(20, TimeUnit.SECONDS));
    String log = taskLog.toString(StandardCharsets.UTF_8);
    for (String why : new String[] {"not a sparkprop task: header 0x04030201", "wrong token",
        "a task of another launch of the barrier stage", "partition 0 of 3 is not a child of partition 0", "came after every child was in"}) {
      assertTrue(log.contains(why), "'" + why + "' in " + log);
    }
    assertEquals(5, log.lines().filter(l -> l.contains("WARNING: barrier exchange, partition 0: dropped a connection from /127.0.0.1")).count(), log);
  }

  @Test
  void aSilentChildFailsItsParentWithinTheTimeoutNamingItAndTheStep() throws Exception {
    TreeTopology tree = new TreeTopology(3, 2);
    Exchange e = exchange(tree, 30_000);
    CountDownLatch never = new CountDownLatch(1);
    Future<Integer> root = task(e, tree, 0, -1, 1000, null, -1);
    task(e, tree, 1, -1, 1000, never, 1); // answers round 0, then stops sending
    Future<Integer> two = task(e, tree, 2, -1, 1000, null, -1);
    e.admit(LAUNCH, () -> false);
    PartitionSum[] into = new PartitionSum[3];
    for (int p = 0; p < 3; p++) into[p] = new PartitionSum(p, 1, null);
    e.round(new Round(0, 0, 1, 0), params(0), FLOATS, into);
    long t0 = System.nanoTime();
    Exchange.Failure f = assertThrows(Exchange.Failure.class, () -> e.round(new Round(0, 1, 2, 0), params(1), FLOATS, into));
    double seconds = (System.nanoTime() - t0) / 1e9;
    assertTrue(seconds < 10, "failed after " + seconds + " s");
    // the parent ends (and its other child with it): the driver notices one of them, at that step
    assertTrue(f.getMessage().matches("partition [02] lost its connection at epoch 1 step 1: .*"), f.getMessage());
    ExecutionException cause = assertThrows(ExecutionException.class, () -> root.get(10, TimeUnit.SECONDS));
    assertEquals("no sum from partition 1 within 1 s at epoch 1 step 1 (sync.timeout): its task stopped sending",
        cause.getCause().getMessage());
    never.countDown();
    assertThrows(ExecutionException.class, () -> two.get(10, TimeUnit.SECONDS), "the lost parent ends its other child");
  }

  @Test
  void aLostInteriorTaskFailsTheRound() throws Exception {
    TreeTopology tree = new TreeTopology(7, 2); // driver <- 0 <- {1 <- {2, 3}, 4 <- {5, 6}}
    Exchange e = exchange(tree, 30_000);
    CountDownLatch hold = new CountDownLatch(1);
    List<Future<Integer>> ts = new ArrayList<>();
    for (int p = 0; p < 7; p++) ts.add(task(e, tree, p, -1, 30_000, p == 4 ? hold : null, p == 4 ? 1 : -1));
    e.admit(LAUNCH, () -> false);
    PartitionSum[] into = new PartitionSum[7];
    for (int p = 0; p < 7; p++) into[p] = new PartitionSum(p, 1, null);
    e.round(new Round(0, 0, 1, 0), params(0), FLOATS, into);
    assertEquals(28, into[0].rows);
    // partition 4 (interior: children 5 and 6) is cancelled while it waits in round 1, as Spark cancels a task
    pool.submit(() -> {
      Thread.sleep(300);
      ts.get(4).cancel(true);
      return null;
    });
    Exchange.Failure f = assertThrows(Exchange.Failure.class, () -> e.round(new Round(0, 1, 2, 0), params(1), FLOATS, into));
    // the driver notices whichever of the lost task's neighbours' connections closes first, at that step
    assertTrue(f.getMessage().matches("partition [0456] lost its connection at epoch 1 step 1: .*"), f.getMessage());
    for (int p : new int[] {0, 5, 6}) {
      assertThrows(ExecutionException.class, () -> ts.get(p).get(20, TimeUnit.SECONDS), "partition " + p + " ends too");
    }
  }
}
