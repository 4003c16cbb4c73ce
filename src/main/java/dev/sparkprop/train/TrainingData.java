package dev.sparkprop.train;

import dev.sparkprop.data.DataSpec;
import dev.sparkprop.data.Shard;
import dev.sparkprop.data.ShardReader;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.SparkEnv;
import org.apache.spark.storage.BlockManagerMaster;
import org.apache.spark.storage.BlockStatus;
import org.apache.spark.storage.RDDBlockId;
import scala.jdk.javaapi.CollectionConverters;
import org.apache.spark.storage.StorageLevel;

/**
 * Builds the cached RDD of {@link Shard}s, one per partition, read by the executors themselves
 * from the files (so no data travels inside tasks, and a lost block is rebuilt from the files;
 * tables go through Spark SQL and one shuffle, see {@link dev.sparkprop.table.TableInput}), then
 * checks that every partition really is in storage memory.
 */
public final class TrainingData {
  private TrainingData() {}

  /** Training shards: partition p holds its chunk of every global batch. */
  public static JavaRDD<Shard> batches(JavaSparkContext jsc, DataSpec data, int rows,
      dev.sparkprop.data.BatchLayout layout, int classes, String name, PrintStream log) {
    return batches(jsc, data, rows, layout, classes, false, name, log);
  }

  /** {@code missingAllowed}: a table's missing feature values are held as NaN ({@code features.missing=mean}). */
  public static JavaRDD<Shard> batches(JavaSparkContext jsc, DataSpec data, int rows,
      dev.sparkprop.data.BatchLayout layout, int classes, boolean missingAllowed, String name, PrintStream log) {
    return load(jsc, data, rows, layout.partitions(), ShardReader.batches(layout), classes, missingAllowed, name, log);
  }

  /** Evaluation shards: contiguous ranges of rows. */
  public static JavaRDD<Shard> ranges(JavaSparkContext jsc, DataSpec data, int rows, int partitions,
      int classes, String name, PrintStream log) {
    return ranges(jsc, data, rows, partitions, classes, false, name, log);
  }

  /** Evaluation shards; {@code missingAllowed} as for {@link #batches}. */
  public static JavaRDD<Shard> ranges(JavaSparkContext jsc, DataSpec data, int rows, int partitions,
      int classes, boolean missingAllowed, String name, PrintStream log) {
    return load(jsc, data, rows, partitions, ShardReader.ranges(rows, partitions), classes, missingAllowed, name, log);
  }

  private static JavaRDD<Shard> load(JavaSparkContext jsc, DataSpec data, int rows, int partitions,
      ShardReader.Assignment assignment, int classes, boolean missingAllowed, String name, PrintStream log) {
    JavaRDD<Shard> source;
    if (data.isTable()) {
      source = dev.sparkprop.table.TableInput.shards(org.apache.spark.sql.SparkSession.builder().sparkContext(jsc.sc())
          .getOrCreate(), data, rows, classes, partitions, assignment, missingAllowed);
    } else {
      List<Integer> ids = new ArrayList<>();
      for (int p = 0; p < partitions; p++) ids.add(p);
      String images = data.imagesPath;
      String labels = data.labelsPath;
      int features = data.features;
      dev.sparkprop.data.RowSubset subset = data.subset;
      source = jsc.parallelize(ids, partitions)
          .mapPartitionsWithIndex((p, it) -> Collections.singletonList(
              ShardReader.read(images, labels, classes, rows, features, p, assignment, subset)).iterator(), true);
    }
    JavaRDD<Shard> shards = source
        .setName(name + " shards (" + rows + " rows, " + partitions + " partitions)")
        .persist(StorageLevel.MEMORY_ONLY());
    long count = shards.count();
    if (count != partitions) throw new IllegalStateException(name + ": expected " + partitions + " shards, got " + count);
    checkCached(jsc, shards, name, log);
    return shards;
  }

  /**
   * A block that does not fit in storage memory would be re-read from the files at every step:
   * say so loudly. Asks the block manager master, which asks every executor, for each partition's
   * block; Spark's status store ({@code getRDDStorageInfo}) is filled by the listener bus
   * asynchronously and can lag behind a job that has just cached them.
   */
  private static void checkCached(JavaSparkContext jsc, JavaRDD<Shard> rdd, String name, PrintStream log) {
    BlockManagerMaster master = SparkEnv.get().blockManager().master();
    int cached = 0;
    long bytes = 0;
    for (int p = 0; p < rdd.getNumPartitions(); p++) {
      boolean inMemory = false;
      for (BlockStatus st : CollectionConverters.asJava(master.getBlockStatus(new RDDBlockId(rdd.id(), p), true)).values()) {
        if (st.memSize() > 0) {
          inMemory = true;
          bytes += st.memSize();
        }
      }
      if (inMemory) cached++;
    }
    int parts = rdd.getNumPartitions();
    if (cached < parts) {
      log.printf("WARNING: only %d of %d partitions of the %s set fit in storage memory (%.1f MB cached); "
          + "the others are re-read from the files at EVERY step. Give the executors more memory "
          + "(spark.executor.memory / spark.driver.memory in local mode) or use more executors.%n",
          cached, parts, name, bytes / 1e6);
    } else {
      log.printf("cached %s set: %d partitions, %.1f MB in executor memory%n", name, parts, bytes / 1e6);
    }
  }
}
