package dev.sparkprop.train;

import dev.sparkprop.config.TrainConfig;
import dev.sparkprop.data.DataSpec;
import dev.sparkprop.data.MnistFiles;
import dev.sparkprop.data.Shard;
import dev.sparkprop.data.ShardReader;
import dev.sparkprop.eval.EvalFunction;
import dev.sparkprop.eval.EvalSum;
import dev.sparkprop.nn.Network;
import java.util.Properties;

/**
 * Evidence for the default recipe, without Spark (the distributed trainer computes the same
 * numbers): trains each recipe given as {@code "key=value key=value"} with the single-process
 * loop and prints the test accuracy. Run from the project folder after {@code mvn test-compile}:
 * {@code java -cp target/classes:target/test-classes:target/lib/* dev.sparkprop.train.RecipeSweep "epochs=1" ...}
 */
public final class RecipeSweep {
  private RecipeSweep() {}

  public static void main(String[] recipes) throws Exception {
    String[] tr = MnistFiles.locate("data/mnist", "train");
    String[] te = MnistFiles.locate("data/mnist", "t10k");
    DataSpec train = DataSpec.check(tr[0], tr[1], 10);
    DataSpec test = DataSpec.check(te[0], te[1], 10);
    Shard testShard = ShardReader.read(test.imagesPath, test.labelsPath, 10, test.count, test.features, 0,
        ShardReader.ranges(test.count, 1));
    for (String recipe : recipes) {
      Properties p = new Properties();
      for (String kv : recipe.trim().split("\\s+")) {
        int eq = kv.indexOf('=');
        p.setProperty(kv.substring(0, eq), kv.substring(eq + 1));
      }
      TrainConfig cfg = TrainConfig.of(p);
      long t0 = System.nanoTime();
      float[] params = ReferenceLoop.train(cfg, train, train.count);
      double seconds = (System.nanoTime() - t0) / 1e9;
      EvalSum sum = new EvalSum(10);
      EvalFunction.evaluate(testShard, params, dev.sparkprop.data.FeatureScaling.NONE, new Network(cfg.spec(), cfg.kernel().gemm()), sum);
      System.out.printf("%-70s test accuracy %.4f  test loss %.4f  (%.0f s)%n", recipe, sum.accuracy(), sum.meanLoss(), seconds);
    }
  }
}
