package dev.sparkprop.train.sync;

import dev.sparkprop.config.ConfigException;
import dev.sparkprop.config.TrainConfig;
import dev.sparkprop.data.Shard;
import dev.sparkprop.train.step.PartitionSum;
import dev.sparkprop.train.step.Round;
import dev.sparkprop.train.step.ShardWorker;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Serializable;
import java.security.SecureRandom;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaFutureAction;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import scala.collection.Iterator;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.AbstractFunction1;

/**
 * {@code sync.mode=barrier}: one Spark barrier stage per epoch whose P tasks stay on their cached
 * shards and talk to the driver directly ({@link Exchange}): each round the driver sends them
 * what it computed and they send back their sums. No Spark job per step; the driver still adds,
 * divides and updates every step, so the results equal {@link JobTransport}'s bit for bit.
 *
 * <p>Spark does not retry a failed barrier stage (a lost executor fails the job). Since the
 * driver holds the whole state after every round, a failed stage is launched again from the
 * round that failed, with the same input: the same bits as an undisturbed run. A round that
 * fails {@code sync.retries} times more in a row ends the run with the last cause.
 */
final class BarrierTransport implements Transport {
  private final JavaSparkContext jsc;
  private final JavaRDD<Shard> shards;
  private final ShardWorker.Plan plan;
  private final int partitions;
  private final int retries;
  private final PrintStream log;
  private final Exchange exchange;
  private final PartitionSum[] sums;
  private final String runId;
  private final byte[] runKey; // null when the token derives from Spark's secret
  private final TreeTopology tree; // sync.topology=tree, else null
  private final int chunk;
  private final long timeoutMillis;
  private final SecureRandom random = new SecureRandom();
  private JavaFutureAction<List<Integer>> stage;

  BarrierTransport(JavaSparkContext jsc, JavaRDD<Shard> shards, ShardWorker.Plan plan, TrainConfig cfg, PrintStream log) {
    this.jsc = jsc;
    this.shards = shards;
    this.plan = plan;
    this.partitions = shards.getNumPartitions();
    this.retries = cfg.syncRetries();
    this.log = log;
    int floats = plan.vectorLength();
    int maxSteps = plan.syncEvery();
    sums = new PartitionSum[partitions];
    for (int p = 0; p < partitions; p++) sums[p] = new PartitionSum(p, maxSteps, null); // the exchange's vectors
    byte[] id = new byte[16];
    random.nextBytes(id);
    runId = java.util.HexFormat.of().formatHex(id);
    String secret = jsc.sc().env().securityManager().getSecretKey();
    if (secret == null) {
      runKey = new byte[32];
      random.nextBytes(runKey);
    } else {
      runKey = null;
    }
    String host = jsc.getConf().get("spark.driver.host");
    String bind = jsc.getConf().get("spark.driver.bindAddress", host);
    tree = tree(cfg, partitions, jsc.sc().isLocal()) ? new TreeTopology(partitions, cfg.syncFanIn(), cfg.bf16Wire()) : null;
    chunk = cfg.syncChunk();
    timeoutMillis = cfg.syncTimeout() * 1000L;
    if (tree != null) {
      log.printf("sync.topology=tree: fan-in %d, %d hops, chunks of %d bytes: %s%n", tree.fanIn(), tree.depth(), chunk,
          partitions <= 32 ? tree : "driver <- ...");
    }
    try {
      exchange = new Exchange(bind, host, cfg.syncPort(), partitions, floats, maxSteps,
          Wire.token(secret, runKey, runId), timeoutMillis,
          cfg.syncSocket() == TrainConfig.SyncSocket.AUTO, tree, cfg.bf16Wire(), log);
      if (cfg.syncSocket() == TrainConfig.SyncSocket.AUTO && tree == null) MemoryLink.register(runId, exchange);
    } catch (IOException e) {
      throw new ConfigException("sync.port: cannot listen on " + bind + " port " + cfg.syncPort() + " (" + e.getMessage()
          + "); set sync.port to a free port the executors can reach, or 0 for any");
    }
  }

  /**
   * Whether the sums travel a tree: {@code sync.topology=tree}, or {@code auto} with tasks
   * outside the driver's JVM and more than two partitions (two tasks load the driver's link no
   * more than a tree would, and one hop fewer).
   */
  static boolean tree(TrainConfig cfg, int partitions, boolean local) {
    return switch (cfg.syncTopology()) {
      case STAR -> false;
      case TREE -> true;
      case AUTO -> !local && partitions > 2;
    };
  }

  @Override
  public PartitionSum[] exchange(Round r, float[] out, int length) {
    for (int failures = 0; ; ) {
      try {
        if (stage == null) launch(r);
        exchange.round(r, out, length, sums);
        return sums;
      } catch (Exchange.Failure e) {
        if (jsc.sc().isStopped()) throw new IllegalStateException("Spark stopped at " + r.describe(), e); // shutting down: no relaunch
        String cause = abort(e.getMessage());
        failures++;
        if (failures > retries) {
          throw new IllegalStateException("sync.mode=barrier: the barrier stage failed " + failures + " times in a row at "
              + r.describe() + " (sync.retries=" + retries + "); last cause: " + cause, e);
        }
        log.printf("WARNING: the barrier stage failed at %s: %s; launching it again from that step (attempt %d of %d)%n",
            r.describe(), cause, failures + 1, retries + 1);
        // after a lost executor: wait for the slots to come back rather than fail Spark's slot check
        TaskSlots.await(jsc, partitions,
            jsc.sc().conf().getTimeAsMs("spark.scheduler.maxRegisteredResourcesWaitingTime", "30s"));
      }
    }
  }

  /** Submits the epoch's barrier stage and waits for its tasks to connect. */
  private void launch(Round r) {
    long launch = random.nextLong();
    jsc.setJobDescription(r.describe() + "/" + plan.layout().numBatches() + ": the rest of the epoch in one barrier stage");
    jsc.setLocalProperty("spark.job.interruptOnCancel", "true");
    try {
      BarrierTask task = new BarrierTask(plan, exchange.address(), exchange.localPath(), launch, partitions, runId, runKey,
          tree, chunk, timeoutMillis);
      stage = shards.rdd().barrier()
          .mapPartitions(task, false, scala.reflect.ClassTag$.MODULE$.apply(Integer.class))
          .toJavaRDD().collectAsync();
    } finally {
      jsc.setLocalProperty("spark.job.interruptOnCancel", null);
      jsc.setJobDescription(null);
    }
    exchange.admit(launch, stage::isDone);
  }

  @Override
  public long lastSendNanos() {
    return exchange.lastSendNanos();
  }

  @Override
  public void endEpoch() {
    if (stage == null) return;
    exchange.end();
    try {
      stage.get(60, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      // every round's sums are in: a task that fails after the end changes nothing
      if (!jsc.sc().isStopped()) log.println("WARNING: the barrier stage did not end cleanly after its last round: " + firstLine(e));
      stage.cancel(true);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    stage = null;
  }

  /**
   * Ends a failed stage: gives Spark a moment to report why (a lost executor), then closes the
   * tasks' connections (which ends them), cancels the job and waits for it. Returns the cause.
   */
  private String abort(String seen) {
    String cause = seen;
    if (stage != null) {
      String spark = waitForEnd(2);
      exchange.dropPeers();
      stage.cancel(true);
      if (spark == null) spark = waitForEnd(60);
      if (spark != null && !spark.isEmpty()) cause += " (Spark: " + spark + ")";
      stage = null;
    }
    exchange.dropPeers();
    return cause;
  }

  /** The stage's failure if it ends within the time ("" if cancelled or done), null if still running. */
  private String waitForEnd(int seconds) {
    try {
      stage.get(seconds, TimeUnit.SECONDS);
      return "";
    } catch (ExecutionException e) {
      return firstLine(e.getCause());
    } catch (java.util.concurrent.CancellationException e) {
      return "";
    } catch (TimeoutException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  private static String firstLine(Throwable e) {
    String m = String.valueOf(e.getMessage());
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }

  @Override
  public void close() {
    try {
      if (stage != null) abort("closed");
    } finally {
      MemoryLink.unregister(runId);
      exchange.close();
    }
  }

  /**
   * A task of the barrier stage: connects to the driver's exchange, then runs each round it is
   * sent on its shard and sends its sum back, until the driver ends the epoch.
   */
  static final class BarrierTask extends AbstractFunction1<Iterator<Shard>, Iterator<Integer>> implements Serializable {
    private static final long serialVersionUID = 1L;
    private final ShardWorker.Plan plan;
    private final String driver;
    private final String localPath;
    private final long launch;
    private final int partitions;
    private final String runId;
    private final byte[] runKey;
    private final TreeTopology tree;
    private final int chunk;
    private final long timeoutMillis;

    BarrierTask(ShardWorker.Plan plan, String driver, String localPath, long launch, int partitions, String runId,
        byte[] runKey, TreeTopology tree, int chunk, long timeoutMillis) {
      this.tree = tree;
      this.chunk = chunk;
      this.timeoutMillis = timeoutMillis;
      this.plan = plan;
      this.driver = driver;
      this.localPath = localPath;
      this.launch = launch;
      this.partitions = partitions;
      this.runId = runId;
      this.runKey = runKey;
    }

    @Override
    public Iterator<Integer> apply(Iterator<Shard> it) {
      BarrierTaskContext.get(); // fails outside a barrier stage
      Shard shard = it.next();
      int p = shard.partition();
      String secret = runKey == null ? SparkEnv.get().securityManager().getSecretKey() : null;
      int floats = plan.vectorLength();
      ShardWorker worker = new ShardWorker(plan);
      PartitionSum sum = new PartitionSum(p, plan.syncEvery(), new float[floats]);
      byte[] token = Wire.token(secret, runKey, runId);
      try (TaskLink link = connect(p, token, floats)) {
        for (float[] in; (in = link.next()) != null; ) {
          worker.run(shard, link.round(), in, sum);
          link.reply(sum);
        }
      } catch (IOException e) {
        throw new IllegalStateException("barrier task of partition " + p + ": lost the driver's exchange at " + driver
            + ": " + e, e);
      }
      return CollectionConverters.asScala(Collections.<Integer>emptyIterator());
    }

    /** In memory when the driver runs in this JVM (local mode), else its Unix socket or TCP; in a tree, the tree's links. */
    private TaskLink connect(int p, byte[] token, int floats) throws IOException {
      if (tree != null) {
        return new TreeNode(driver, localPath, launch, p, tree, token, floats, plan.syncEvery(), chunk, timeoutMillis, System.err);
      }
      TaskLink memory = MemoryLink.connect(runId, launch, p, partitions, token, Exchange.HELLO_MILLIS);
      return memory != null ? memory : new ExchangeClient(driver, localPath, launch, p, partitions, token, floats, plan.syncEvery(), plan.bf16());
    }
  }
}
