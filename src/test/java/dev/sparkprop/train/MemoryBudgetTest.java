package dev.sparkprop.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sparkprop.config.ConfigException;
import dev.sparkprop.nn.Activation;
import dev.sparkprop.nn.NetworkSpec;
import dev.sparkprop.train.sync.TaskSlots;
import org.junit.jupiter.api.Test;

/** The memory estimate made before Spark starts: the presets fit the default heaps, a huge network and a tiny heap are refused with figures. */
class MemoryBudgetTest {
  private static final long GB = 1L << 30;

  @Test
  void thePresetsFitTheDefaultHeaps() {
    MemoryBudget mlp = MemoryBudget.of(NetworkSpec.of(new int[] {784, 512, 10}, Activation.RELU), 1, 256, 2);
    // 407,050 parameters: the driver's vectors are a few MB
    assertEquals(4L * 407_050 * (3 + 1 + 2), mlp.driverBytes());
    mlp.check(2 * GB, 2, 0, 1);
    NetworkSpec cnn = NetworkSpec.parse("conv(32,3) relu, pool(2), conv(64,3) relu, pool(2), dense(128) relu, dense(10) softmax",
        new NetworkSpec.Shape(1, 28, 28), Activation.RELU);
    MemoryBudget c = MemoryBudget.of(cnn, 2, 128, 2);
    c.check(2 * GB, 2, 0, 1);
    c.check(2 * GB, 0, 1 * GB, 1); // an executor of spark.executor.memory=1g
  }

  @Test
  void aNetworkTooLargeForTheHeapIsRefusedWithTheFigures() {
    MemoryBudget big = MemoryBudget.of(NetworkSpec.of(new int[] {784, 2_000_000, 10}, Activation.RELU), 1, 256, 2);
    ConfigException e = assertThrows(ConfigException.class, () -> big.check(2 * GB, 2, 0, 1));
    assertTrue(e.getMessage().startsWith("layers: this network needs at least "), e.getMessage());
    assertTrue(e.getMessage().contains("but its heap is 2.0 GB of which Spark keeps 300 MB; set spark.driver.memory"), e.getMessage());
    ConfigException ex = assertThrows(ConfigException.class, () -> big.check(1000 * GB, 0, 2 * GB, 1));
    assertTrue(ex.getMessage().contains("in each executor (1 tasks of ") && ex.getMessage().contains("spark.executor.memory is 2.0 GB"),
        ex.getMessage());
  }

  @Test
  void aHeapSparkWillNotStartInIsRefused() {
    ConfigException e = assertThrows(ConfigException.class, () -> MemoryBudget.checkDriverHeap(100L << 20));
    assertEquals("spark.driver.memory: the driver's heap is 100 MB, and Spark needs at least 450 MB; set spark.driver.memory "
        + "(in conf/spark-defaults.conf, or spark-submit's --driver-memory) to 1g or more", e.getMessage());
    MemoryBudget.checkDriverHeap(512L << 20);
  }

  @Test
  void localMastersRunTheirTasksInTheDriver() {
    assertEquals(4, TaskSlots.local("local[4]"));
    assertEquals(1, TaskSlots.local("local"));
    assertEquals(Runtime.getRuntime().availableProcessors(), TaskSlots.local("local[*]"));
    assertEquals(0, TaskSlots.local("spark://127.0.0.1:7077"));
    assertEquals(0, TaskSlots.local(null));
  }
}
