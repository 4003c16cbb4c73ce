package dev.sparkprop.train.sync;

import dev.sparkprop.config.ConfigException;
import dev.sparkprop.config.TrainConfig;
import java.io.PrintStream;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * The task slots a barrier stage needs all at once, in one place for the trainer, the barrier
 * transport's relaunch, the bench and the command: a local master's from its URL before Spark
 * starts, a cluster's from the registered executors, waited for while they register.
 */
public final class TaskSlots {
  private TaskSlots() {}

  /** A local master's task slots; 0 for any other master (or none). */
  public static int local(String master) {
    if (master == null) return 0;
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("local(?:\\[(\\*|\\d+)(?:,\\d+)?])?").matcher(master.trim());
    if (!m.matches()) return 0;
    return m.group(1) == null ? 1 : m.group(1).equals("*") ? Runtime.getRuntime().availableProcessors() : Integer.parseInt(m.group(1));
  }

  /**
   * A barrier stage needs every task running at once, and Spark would otherwise retry its slot
   * check for minutes (spark.scheduler.barrier.maxConcurrentTasksCheck.*) before failing: refuse
   * at once in local mode, and on a cluster after waiting for executors still registering (the
   * job may start before all of them have) for spark.scheduler.maxRegisteredResourcesWaitingTime.
   */
  public static void require(JavaSparkContext jsc, int parts, PrintStream log) {
    if (parts <= count(jsc)) return;
    long waitMs = jsc.isLocal() ? 0 : jsc.sc().conf().getTimeAsMs("spark.scheduler.maxRegisteredResourcesWaitingTime", "30s");
    if (waitMs > 0) {
      log.printf("sync.mode=barrier needs %d task slots at once; %d registered so far, waiting up to %d s for executors%n",
          parts, count(jsc), waitMs / 1000);
    }
    if (!await(jsc, parts, waitMs)) {
      throw new ConfigException("partitions: sync.mode=barrier runs all " + parts + " partitions at once, but "
          + jsc.master() + " has " + count(jsc) + " task slots"
          + (waitMs > 0 ? " after waiting " + waitMs / 1000 + " s for executors" : "") + "; set partitions to at most "
          + count(jsc) + ", or use sync.mode=job");
    }
  }

  /**
   * Before Spark starts: with a local master ({@code local}, {@code local[N]}, {@code local[*]},
   * {@code local[N,F]}) the task slots are known from the master URL alone, so a barrier run with
   * more partitions is refused before anything starts (a cluster's slots are known only once
   * its executors register: {@link #require} waits for them then).
   */
  public static void checkLocal(TrainConfig cfg, String master) {
    if (cfg.syncMode() != TrainConfig.SyncMode.BARRIER || cfg.partitions() == 0) return;
    int slots = local(master);
    if (slots == 0) return; // not a local master
    if (cfg.partitions() > slots) {
      throw new ConfigException("partitions: sync.mode=barrier runs all " + cfg.partitions() + " partitions at once, but "
          + master + " has " + slots + " task slots; set partitions to at most " + slots + ", or use sync.mode=job");
    }
  }

  /**
   * The tasks the registered executors can run at once: what Spark's own check of a barrier
   * stage counts ({@code SparkContext.maxNumConcurrentTasks}, public in the bytecode though
   * Scala-private), not the default parallelism, which is at least 2 even with one executor core.
   */
  static int count(JavaSparkContext jsc) {
    org.apache.spark.SparkContext sc = jsc.sc();
    return sc.maxNumConcurrentTasks(sc.resourceProfileManager().defaultResourceProfile());
  }

  /**
   * Waits up to {@code waitMs} until the registered executors offer {@code slots} task slots;
   * whether they do.
   */
  public static boolean await(JavaSparkContext jsc, int slots, long waitMs) {
    long deadline = System.nanoTime() + waitMs * 1_000_000L;
    while (slots > count(jsc) && System.nanoTime() < deadline) {
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return slots <= count(jsc);
  }
}
