package dev.sparkprop.train;

import dev.sparkprop.data.DataSpec;
import dev.sparkprop.data.Permutation;
import dev.sparkprop.data.Shard;
import dev.sparkprop.data.ShardReader;
import dev.sparkprop.nn.Network;
import dev.sparkprop.nn.NetworkSpec;
import dev.sparkprop.optim.LearningRate;
import dev.sparkprop.optim.Optimizer;
import java.io.IOException;

/**
 * The plain single-process training loop the distributed trainer must equal: the notebook's
 * {@code fit}, one whole batch at a time, no Spark.
 */
final class ReferenceLoop {
  private ReferenceLoop() {}

  static float[] train(TrainConfig cfg, DataSpec data, int rows) throws IOException {
    NetworkSpec spec = cfg.spec();
    Shard all = ShardReader.read(data.imagesPath, data.labelsPath, cfg.classes(), rows, data.features, 0,
        ShardReader.ranges(rows, 1));
    float[] params = cfg.initializer().initialize(spec, cfg.seed());
    Optimizer opt = cfg.optimizer();
    LearningRate lr = cfg.learningRate();
    Network net = new Network(spec, cfg.kernel().gemm());
    int b = cfg.batchSize();
    int steps = (rows + b - 1) / b;
    float[] grad = new float[spec.numParams()];
    int[] labels = new int[b];
    int[] order = new int[rows];
    for (int epoch = 0; epoch < cfg.epochs(); epoch++) {
      if (cfg.shuffle()) {
        order = Permutation.of(rows, cfg.seed(), epoch);
      } else {
        for (int i = 0; i < rows; i++) order[i] = i;
      }
      for (int k = 0; k < steps; k++) {
        int n = Math.min(b, rows - k * b);
        net.setParameters(params);
        all.gatherRows(order, k * b, n, net.input(n).data, labels);
        net.forwardBackward(n, labels, 0, grad);
        for (int i = 0; i < grad.length; i++) grad[i] /= n;
        opt.step(params, grad, lr.at((long) epoch * steps + k, steps, (long) steps * cfg.epochs()));
      }
    }
    return params;
  }
}
