package dev.sparkprop.train;

import dev.sparkprop.data.BatchLayout;
import dev.sparkprop.data.Shard;
import dev.sparkprop.nn.Kernel;
import dev.sparkprop.nn.NetworkSpec;
import dev.sparkprop.optim.LearningRate;
import dev.sparkprop.optim.Optimizer;
import dev.sparkprop.optim.OptimizerState;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.BarrierTaskInfo;
import org.apache.spark.TaskKilledException;
import org.apache.spark.broadcast.Broadcast;
import scala.collection.Iterator;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.AbstractFunction1;

/**
 * One epoch of {@code sync.mode=allreduce}: a barrier stage whose tasks run every step of the
 * epoch themselves and exchange their gradient sums directly, with no Spark job per step.
 *
 * <p>At the start the tasks learn where partition 0 listens, from the driver's {@link Rendezvous}
 * ({@code sync.rendezvous=driver}) or with {@code BarrierTaskContext.allGather}
 * ({@code sync.rendezvous=spark}; Spark polls that once a second, so it costs up to a second an
 * epoch; it is used once per epoch, never per step). Then partition 0 is the
 * hub: every step each other task sends it (rows, loss sum, gradient sum); the hub adds them in
 * partition order (exactly the sums, order and division of the job-per-step mode) and sends the
 * total back; every task then applies the same optimizer update to its own replica of the
 * parameters, so all replicas stay equal bit for bit. The hub returns the final parameters, the
 * optimizer state and every step's figures.
 *
 * <p>A task that fails fails the barrier stage; Spark retries all of its tasks, which start again
 * from the epoch's broadcast start, so the retried epoch gives the same bits.
 */
final class AllReduceEpoch extends AbstractFunction1<Iterator<Shard>, Iterator<AllReduceEpoch.Result>>
    implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final int POLL_MILLIS = 500;

  /** The epoch's (or round's) start, broadcast once: parameters, optimizer state and the step cursor. */
  record Start(float[] params, OptimizerState optimizer, int epoch, int firstStep) implements Serializable {
    /** A task's own replica of the parameters: the broadcast value is shared by the tasks of a JVM. */
    float[] paramsReplica() {
      return params.clone();
    }

    /** A new optimizer of {@code cfg}'s kind continuing from this start's state. */
    Optimizer optimizer(TrainConfig cfg) {
      Optimizer o = cfg.optimizer();
      o.restore(optimizer, params.length);
      return o;
    }
  }

  /** The hub's answer: the epoch's end state and per-step figures (or where it diverged). */
  record Result(float[] params, OptimizerState optimizer, List<double[]> steps, int divergedAt, String divergence)
      implements Serializable {}

  private final Broadcast<Start> start;
  private final Map<String, String> config;
  private final NetworkSpec spec;
  private final Kernel kernel;
  private final BatchLayout layout;
  private final String rendezvous; // the driver's Rendezvous, or null for BarrierTaskContext.allGather

  AllReduceEpoch(Broadcast<Start> start, Map<String, String> config, NetworkSpec spec, Kernel kernel, BatchLayout layout,
      String rendezvous) {
    this.rendezvous = rendezvous;
    this.start = start;
    this.config = config;
    this.spec = spec;
    this.kernel = kernel;
    this.layout = layout;
  }

  @Override
  public Iterator<Result> apply(Iterator<Shard> shards) {
    BarrierTaskContext ctx = BarrierTaskContext.get();
    Shard shard = shards.next();
    TrainConfig cfg = TrainConfig.of(config);
    try {
      Result r = run(ctx, shard, cfg);
      return CollectionConverters.asScala(r == null ? Collections.<Result>emptyIterator()
          : Collections.singletonList(r).iterator());
    } catch (IOException e) {
      throw new IllegalStateException("allreduce: partition " + ctx.partitionId() + " lost its peers: " + e, e);
    }
  }

  private Result run(BarrierTaskContext ctx, Shard shard, TrainConfig cfg) throws IOException {
    Start s = start.value();
    float[] params = s.paramsReplica();
    Optimizer optimizer = s.optimizer(cfg);
    LearningRate schedule = cfg.learningRate();
    int p = ctx.partitionId();
    int parts = ctx.getTaskInfos().length;
    int steps = layout.numBatches();
    long totalSteps = (long) steps * cfg.epochs();
    int n = spec.numParams();
    int capacity = cfg.syncEvery() > 1 ? LocalSgd.packedLength(n, optimizer) : n; // floats in one message
    try (ServerSocket server = new ServerSocket()) {
      server.bind(new InetSocketAddress(0));
      server.setSoTimeout(POLL_MILLIS);
      String me = host(ctx.getTaskInfos()[p]) + ":" + server.getLocalPort();
      String hubAddress;
      if (rendezvous != null) {
        hubAddress = Rendezvous.exchange(rendezvous, ctx.stageId() + ":" + ctx.stageAttemptNumber(), p == 0 ? me : null,
            ctx::isInterrupted);
      } else {
        hubAddress = ctx.allGather(me)[0];
      }
      Link[] peers = new Link[parts]; // the hub's links, by partition
      Link hub = null;
      if (p == 0) {
        for (int accepted = 1; accepted < parts; ) {
          Socket sock = accept(server, ctx);
          Link l = new Link(sock, capacity);
          int q = l.in.readInt();
          peers[q] = l;
          accepted++;
        }
      } else {
        Socket sock = new Socket();
        sock.connect(Rendezvous.socketAddress(hubAddress));
        hub = new Link(sock, capacity);
        hub.out.writeInt(p);
        hub.out.flush();
      }
      try {
        return cfg.syncEvery() > 1
            ? rounds(shard, cfg, s, params, optimizer, schedule, totalSteps, p, parts, peers, hub)
            : everyStep(shard, cfg, s, params, optimizer, schedule, totalSteps, p, parts, peers, hub);
      } finally {
        if (hub != null) hub.close();
        for (Link l : peers) if (l != null) l.close();
      }
    }
  }

  /** Exact synchronous SGD: every step the gradient sums go to the hub and the total comes back. */
  private Result everyStep(Shard shard, TrainConfig cfg, Start s, float[] params, Optimizer optimizer,
      LearningRate schedule, long totalSteps, int p, int parts, Link[] peers, Link hub) throws IOException {
    int n = spec.numParams();
    int steps = layout.numBatches();
    float[] grad = new float[n];
    float[] mine = new float[n]; // this task's gradient sum, reused every step
    float[][] received = new float[parts][]; // the hub's buffers, one per peer
    for (int q = 1; p == 0 && q < parts; q++) received[q] = new float[n];
    List<GradientSum> sums = new ArrayList<>(parts);
    List<double[]> stats = new ArrayList<>();
    for (int k = s.firstStep(); k < steps; k++) {
      long t0 = System.nanoTime();
      GradientSum g = StepFunction.compute(shard, params, spec, kernel, layout, cfg.shuffle(), cfg.seed(), s.epoch(), k,
          mine);
      long computed = System.nanoTime() - t0;
      int rows;
      double loss;
      long slowest = computed;
      if (p == 0) {
        // the job-per-step mode's sum: partition order 0, 1, ..., P-1
        sums.clear();
        sums.add(g);
        for (int q = 1; q < parts; q++) {
          GradientSum gq = peers[q].receive(received[q]);
          slowest = Math.max(slowest, gq.computeNanos);
          sums.add(gq);
        }
        rows = DistributedTrainer.addInOrder(sums, grad);
        loss = 0;
        for (GradientSum gq : sums) loss += gq.lossSum;
        for (int q = 1; q < parts; q++) peers[q].sendTotal(rows, loss, grad);
      } else {
        hub.send(g);
        rows = hub.in.readInt();
        loss = hub.in.readDouble();
        hub.readFloats(grad);
      }
      if (rows != layout.batchRows(k)) {
        throw new IllegalStateException("step " + k + " of epoch " + (s.epoch() + 1) + " saw " + rows
            + " rows, the batch has " + layout.batchRows(k));
      }
      if (!DistributedTrainer.finite(loss, grad)) {
        return p == 0 ? new Result(params, optimizer.state(), stats, k, Double.isFinite(loss) ? "gradient" : "loss") : null;
      }
      float inv = 1f / rows;
      for (int i = 0; i < n; i++) grad[i] *= inv;
      double lr = schedule.at((long) s.epoch() * steps + k, steps, totalSteps);
      optimizer.step(params, grad, lr);
      if (p == 0) stats.add(new double[] {k, rows, loss, lr, System.nanoTime() - t0, slowest});
    }
    return p == 0 ? new Result(params, optimizer.state(), stats, -1, null) : null;
  }

  /**
   * Local SGD ({@code sync.every} = K > 1, {@link LocalSgd}): every K steps each task sends its
   * row-weighted parameters and optimizer state to the hub, which averages them in partition
   * order and sends the average back.
   */
  private Result rounds(Shard shard, TrainConfig cfg, Start s, float[] params, Optimizer optimizer,
      LearningRate schedule, long totalSteps, int p, int parts, Link[] peers, Link hub) throws IOException {
    int n = spec.numParams();
    int steps = layout.numBatches();
    int every = cfg.syncEvery();
    int m = LocalSgd.packedLength(n, optimizer);
    float[] grad = new float[n];
    float[] mine = new float[m];
    float[] avg = new float[m];
    float[][] received = new float[parts][];
    for (int q = 1; p == 0 && q < parts; q++) received[q] = new float[m];
    List<LocalSgd.RoundSum> sums = new ArrayList<>(parts);
    List<double[]> stats = new ArrayList<>();
    long optimizerSteps = s.optimizer().steps();
    for (int first = s.firstStep(); first < steps; ) {
      int end = LocalSgd.roundEnd(first, every, steps);
      long t0 = System.nanoTime();
      LocalSgd.RoundSum mineSum = LocalSgd.round(shard, params, optimizer, spec, kernel, layout, cfg.shuffle(), cfg.seed(),
          s.epoch(), first, end, schedule, totalSteps, grad, mine);
      long slowest = mineSum.computeNanos;
      double[] stepLoss = new double[end - first];
      int[] stepRows = new int[end - first];
      double roundLoss = 0;
      if (p == 0) {
        sums.clear();
        sums.add(mineSum);
        for (int q = 1; q < parts; q++) sums.add(peers[q].receiveRound(received[q], end - first));
        int rows = LocalSgd.average(sums, avg);
        slowest = LocalSgd.totals(sums, layout, s.epoch(), first, stepLoss, stepRows);
        for (double l : stepLoss) roundLoss += l;
        // rows -1 tells the others the loss is not finite, so that all stop at this round
        for (int q = 1; q < parts; q++) peers[q].sendAverage(Double.isFinite(roundLoss) ? rows : -1, avg);
      } else {
        hub.sendRound(mineSum);
        if (hub.in.readInt() < 0) roundLoss = Double.NaN;
        hub.readFloats(avg);
      }
      if (!LocalSgd.finite(avg) || !Double.isFinite(roundLoss)) {
        // every task sees the same average (the hub also the loss) and stops at the same round
        return p == 0 ? new Result(params, optimizer.state(), stats, first,
            Double.isFinite(roundLoss) ? "average of the parameters" : "loss") : null;
      }
      optimizerSteps += end - first;
      LocalSgd.unpack(avg, params, optimizer, optimizerSteps);
      long wall = System.nanoTime() - t0;
      for (int j = 0; p == 0 && j < stepLoss.length; j++) {
        int k = first + j;
        double lr = schedule.at((long) s.epoch() * steps + k, steps, totalSteps);
        stats.add(new double[] {k, stepRows[j], stepLoss[j], lr, wall / (double) (end - first), slowest / (double) (end - first)});
      }
      first = end;
    }
    return p == 0 ? new Result(params, optimizer.state(), stats, -1, null) : null;
  }


  private static String host(BarrierTaskInfo info) {
    String a = info.address();
    int colon = a.lastIndexOf(':');
    return colon > 0 ? a.substring(0, colon) : a;
  }

  private static Socket accept(ServerSocket server, BarrierTaskContext ctx) throws IOException {
    while (true) {
      try {
        return server.accept();
      } catch (SocketTimeoutException e) {
        if (ctx.isInterrupted()) throw new TaskKilledException("barrier stage cancelled");
      }
    }
  }

  /** One TCP connection between a task and the hub; floats travel as little-endian bytes in bulk. */
  private static final class Link implements AutoCloseable {
    final Socket socket;
    final DataInputStream in;
    final DataOutputStream out;
    private final ByteBuffer bytes;

    Link(Socket socket, int n) throws IOException {
      this.socket = socket;
      socket.setTcpNoDelay(true);
      socket.setSoTimeout(0);
      in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 1 << 16));
      out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 1 << 16));
      bytes = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
    }

    void send(GradientSum g) throws IOException {
      out.writeInt(g.rows);
      out.writeDouble(g.lossSum);
      out.writeLong(g.computeNanos);
      if (g.rows > 0) writeFloats(g.grad);
      out.flush();
    }

    GradientSum receive(float[] into) throws IOException {
      int rows = in.readInt();
      double loss = in.readDouble();
      long nanos = in.readLong();
      if (rows > 0) readFloats(into);
      return new GradientSum(rows > 0 ? into : null, loss, rows, nanos);
    }

    void sendRound(LocalSgd.RoundSum r) throws IOException {
      out.writeInt(r.rows);
      out.writeLong(r.computeNanos);
      for (double l : r.stepLoss) out.writeDouble(l);
      for (int k : r.stepRows) out.writeInt(k);
      if (r.rows > 0) writeFloats(r.weighted);
      out.flush();
    }

    LocalSgd.RoundSum receiveRound(float[] into, int steps) throws IOException {
      int rows = in.readInt();
      long nanos = in.readLong();
      double[] stepLoss = new double[steps];
      int[] stepRows = new int[steps];
      for (int j = 0; j < steps; j++) stepLoss[j] = in.readDouble();
      for (int j = 0; j < steps; j++) stepRows[j] = in.readInt();
      if (rows > 0) readFloats(into);
      return new LocalSgd.RoundSum(rows > 0 ? into : null, rows, stepLoss, stepRows, nanos);
    }

    void sendAverage(int rows, float[] avg) throws IOException {
      out.writeInt(rows);
      writeFloats(avg);
      out.flush();
    }

    void sendTotal(int rows, double loss, float[] grad) throws IOException {
      out.writeInt(rows);
      out.writeDouble(loss);
      writeFloats(grad);
      out.flush();
    }

    private void writeFloats(float[] a) throws IOException {
      bytes.clear();
      bytes.asFloatBuffer().put(a);
      out.write(bytes.array(), 0, 4 * a.length);
    }

    void readFloats(float[] a) throws IOException {
      in.readFully(bytes.array(), 0, 4 * a.length);
      bytes.clear();
      bytes.asFloatBuffer().get(a);
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
