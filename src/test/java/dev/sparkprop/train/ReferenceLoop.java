package dev.sparkprop.train;

import dev.sparkprop.config.TrainConfig;
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

  /**
   * Local SGD written out plainly (in-order rows, shuffle=false): P replicas, each stepping on its
   * chunk of every batch (the batch layout's split), averaged every K batches and at each epoch's
   * end, weighted by rows, optimizer state the same way. The average is the documented float
   * arithmetic (rows x value summed in partition order, times 1 / rows): averaging in double
   * instead moves the parameters by up to 1% relative after 48 Nesterov steps (rounding amplified
   * by training), too much to tell a wrong average from a differently rounded one.
   */
  static float[] localSgd(TrainConfig cfg, DataSpec data, int rows, int parts) throws IOException {
    NetworkSpec spec = cfg.spec();
    int n = spec.numParams();
    Shard all = ShardReader.read(data.imagesPath, data.labelsPath, cfg.classes(), rows, data.features, 0,
        ShardReader.ranges(rows, 1));
    float[] start = cfg.initializer().initialize(spec, cfg.seed());
    float[][] params = new float[parts][];
    Optimizer[] opts = new Optimizer[parts];
    for (int q = 0; q < parts; q++) {
      params[q] = start.clone();
      opts[q] = cfg.optimizer();
    }
    LearningRate lr = cfg.learningRate();
    Network net = new Network(spec, cfg.kernel().gemm());
    dev.sparkprop.data.BatchLayout layout = new dev.sparkprop.data.BatchLayout(rows, cfg.batchSize(), parts);
    int steps = layout.numBatches();
    int k = cfg.syncEvery();
    float[] grad = new float[n];
    int[] labels = new int[cfg.batchSize()];
    int[] order = new int[rows];
    for (int i = 0; i < rows; i++) order[i] = i;
    long optSteps = 0;
    for (int epoch = 0; epoch < cfg.epochs(); epoch++) {
      for (int first = 0; first < steps; first += k) {
        int end = Math.min(steps, first + k);
        int[] used = new int[parts];
        for (int q = 0; q < parts; q++) {
          for (int b = first; b < end; b++) {
            int m = layout.chunkRows(b, q);
            if (m == 0) continue;
            net.setParameters(params[q]);
            all.gatherRows(order, b * cfg.batchSize() + layout.chunkBegin(b, q), m, net.input(m).data, labels);
            net.forwardBackward(m, labels, 0, grad);
            for (int i = 0; i < n; i++) grad[i] /= m;
            opts[q].step(params[q], grad, lr.at((long) epoch * steps + b, steps, (long) steps * cfg.epochs()));
            used[q] += m;
          }
        }
        optSteps += end - first;
        int total = 0;
        for (int u : used) total += u;
        float[] avg = new float[n];
        java.util.Map<String, float[]> arrays = new java.util.HashMap<>();
        for (String name : opts[0].stateArrays()) arrays.put(name, new float[n]);
        for (int q = 0; q < parts; q++) {
          for (int i = 0; i < n; i++) avg[i] += used[q] * params[q][i];
          dev.sparkprop.optim.OptimizerState st = opts[q].state();
          for (String name : opts[q].stateArrays()) {
            float[] a = st.array(name);
            float[] t = arrays.get(name);
            for (int i = 0; a != null && i < n; i++) t[i] += used[q] * a[i];
          }
        }
        float inv = 1f / total;
        for (int i = 0; i < n; i++) avg[i] *= inv;
        for (float[] t : arrays.values()) for (int i = 0; i < n; i++) t[i] *= inv;
        for (int q = 0; q < parts; q++) {
          params[q] = avg.clone();
          opts[q].restore(new dev.sparkprop.optim.OptimizerState(optSteps, arrays), n);
        }
      }
    }
    return params[0];
  }
}
