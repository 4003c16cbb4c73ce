package dev.sparkprop.train.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkprop.config.TrainConfig;
import dev.sparkprop.data.DataSpec;
import dev.sparkprop.train.DistributedTrainer;
import dev.sparkprop.train.TestData;
import dev.sparkprop.train.TrainResult;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * One reduction order for every transport and topology: a Spark job per step, the barrier
 * stage's star and its tree of fan-in 2, 3 and 4 give the same parameters and per-step losses,
 * bit for bit, for 1 to 8 partitions (local[8]: eight task slots, the tree's links over TCP on
 * loopback). And the topologies' shapes.
 */
class TopologyTest {
  private static SparkSession spark;
  private static JavaSparkContext jsc;
  private static DataSpec train;

  @BeforeAll
  static void start() throws Exception {
    train = TestData.mnist("train");
    spark = TestData.spark("local[8]");
    jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
  }

  @AfterAll
  static void stop() {
    if (spark != null) spark.stop();
  }

  private record Run(float[] params, List<Double> losses, String log) {}

  private static Run run(int partitions, String... kv) throws Exception {
    TrainConfig cfg = TrainConfig.of(new java.util.Properties()).with("train.limit", "1200", "epochs", "2", "batch.size", "120",
        "layers", "784,24,10", "shuffle", "true", "partitions", String.valueOf(partitions), "log.every", "1000").with(kv);
    List<Double> losses = new ArrayList<>();
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    TrainResult r = new DistributedTrainer(jsc, cfg, new PrintStream(log, true, StandardCharsets.UTF_8))
        .onStep(s -> losses.add(s.loss())).fit(train, null, null);
    return new Run(r.params(), losses, log.toString(StandardCharsets.UTF_8));
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8})
  void everyTransportAndTopologyGivesTheSameBits(int partitions) throws Exception {
    Run job = run(partitions, "sync.mode", "job");
    Run star = run(partitions, "sync.mode", "barrier", "sync.topology", "star");
    assertEquals(20, job.losses().size());
    assertArrayEquals(job.params(), star.params(), "star: the job's parameters, P=" + partitions);
    assertEquals(job.losses(), star.losses(), "star: the job's step losses, P=" + partitions);
    for (String fanIn : new String[] {"2", "3", "4"}) {
      Run tree = run(partitions, "sync.mode", "barrier", "sync.topology", "tree", "sync.fanin", fanIn, "sync.chunk", "4096");
      assertTrue(tree.log().contains("sync.topology=tree: fan-in " + fanIn), tree.log());
      assertArrayEquals(job.params(), tree.params(), "tree of fan-in " + fanIn + ": the job's parameters, P=" + partitions);
      assertEquals(job.losses(), tree.losses(), "tree of fan-in " + fanIn + ": the job's step losses, P=" + partitions);
    }
  }

  /**
   * sync.wire=bf16: the same bits in every transport and topology too (the driver rounds the
   * parameters, the tasks their sums, every subtree's value is rounded where it is made), and
   * other bits than fp32's.
   */
  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 5, 7, 8})
  void bf16GivesTheSameBitsInEveryTransportAndTopology(int partitions) throws Exception {
    Run job = run(partitions, "sync.mode", "job", "sync.wire", "bf16");
    Run star = run(partitions, "sync.mode", "barrier", "sync.topology", "star", "sync.wire", "bf16");
    assertArrayEquals(job.params(), star.params(), "bf16 star: the job's parameters, P=" + partitions);
    assertEquals(job.losses(), star.losses(), "bf16 star: the job's step losses, P=" + partitions);
    Run tcp = run(partitions, "sync.mode", "barrier", "sync.topology", "star", "sync.socket", "tcp", "sync.wire", "bf16");
    assertArrayEquals(job.params(), tcp.params(), "bf16 star over TCP: the job's parameters, P=" + partitions);
    for (String fanIn : new String[] {"2", "3"}) {
      Run tree = run(partitions, "sync.mode", "barrier", "sync.topology", "tree", "sync.fanin", fanIn, "sync.chunk", "4096",
          "sync.wire", "bf16");
      assertArrayEquals(job.params(), tree.params(), "bf16 tree of fan-in " + fanIn + ": the job's parameters, P=" + partitions);
      assertEquals(job.losses(), tree.losses(), "bf16 tree of fan-in " + fanIn + ": the job's step losses, P=" + partitions);
    }
    Run fp32 = run(partitions, "sync.mode", "job");
    assertTrue(!java.util.Arrays.equals(fp32.params(), job.params()), "bf16 changes the bits, P=" + partitions);
    double a = 0;
    double b = 0;
    for (int i = 15; i < 20; i++) {
      a += fp32.losses().get(i);
      b += job.losses().get(i);
    }
    assertTrue(Math.abs(a - b) < 0.1 * a, "bf16 trains like fp32: mean loss of the last 5 steps " + b / 5 + " against " + a / 5);
  }

  @Test
  void treeShapes() {
    assertEquals("driver <- 0 <- {1 <- {2, 3}, 4 <- {5, 6}}", new TreeTopology(7, 2).toString());
    // fan-in 3: the driver adds partition 0's own sum and its two subtrees' (three inputs)
    assertEquals("driver <- {0 (own), 1 <- {2, 3}, 4 <- {5, 6}}", new TreeTopology(7, 3).toString());
    assertEquals("driver <- {0 (own), 1 (own), 2, 3, 4 (own), 5, 6}", new TreeTopology(7, 8).toString());
    assertEquals("driver <- {0 (own), 1 <- {2, 3}, 4 <- {5, 6}}", new TreeTopology(7, 4).toString());
    assertEquals("driver <- 0", new TreeTopology(1, 2).toString());
    assertEquals("driver <- 0 <- 1", new TreeTopology(2, 2).toString());
    for (int p = 1; p <= 300; p++) {
      for (int f = 2; f <= 6; f++) {
        TreeTopology t = new TreeTopology(p, f);
        int[] inbound = new int[p];
        for (int q = 0; q < p; q++) {
          int parent = t.parent(q);
          if (parent != TreeTopology.DRIVER) inbound[parent]++;
          if (t.sendsOwn(q)) assertEquals(0, t.children(q).length, "a task that sends its own sum adds nothing, P=" + p);
        }
        assertTrue(t.children(TreeTopology.DRIVER).length <= f, "the driver's fan-in, P=" + p + " F=" + f);
        for (int q = 0; q < p; q++) assertTrue(inbound[q] <= f, "fan-in of " + q + ", P=" + p + " F=" + f);
      }
      assertTrue(new TreeTopology(p, 2).depth() <= 1 + Math.ceil(Math.log(p + 1) / Math.log(2)), "depth at P=" + p);
    }
  }
}
