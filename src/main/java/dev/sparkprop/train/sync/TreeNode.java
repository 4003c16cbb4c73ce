package dev.sparkprop.train.sync;

import dev.sparkprop.train.step.PartitionSum;
import dev.sparkprop.train.step.ReductionTree;
import dev.sparkprop.train.step.Round;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * A barrier task's end of {@code sync.topology=tree} ({@link TreeTopology}): connected to the
 * driver (admission and the end of the epoch), to its parent (a task, or the driver for the
 * driver's children) and to its children, who connect to the listener it opens on its
 * executor's address and present the run's token and the stage's launch (anyone else is dropped
 * with a line on stderr naming the address and why).
 *
 * <p>Each round the parameters come down from the parent in chunks of {@code sync.chunk} bytes,
 * each forwarded to the children as soon as it is in; the sum goes up: the children's headers
 * first (rows, losses, compute), then chunk by chunk each child's floats, added to this
 * partition's own in the {@link ReductionTree}'s order and forwarded up while the next chunk
 * arrives. A child that sends nothing within {@code sync.timeout} fails this task naming the
 * child's partition and the step; a lost connection fails it at once; either fails the stage,
 * which the driver launches again from that step. The wire format is the driver's ({@link Wire}).
 */
final class TreeNode implements TaskLink {
  private final int partition;
  private final TreeTopology topology;
  private final ReductionTree order;
  private final long timeoutNanos;
  private final PrintStream log;
  private final PeerChannel driver;
  private final PeerChannel up; // the parent task, or the driver
  private final PeerChannel[] down; // children, in the topology's order
  private final int[] kids;
  private final int maxFloats;
  private final int chunkFloats;
  private final boolean bf16; // sync.wire=bf16: chunks of 2-byte values
  private final ByteBuffer header = ByteBuffer.allocateDirect(Wire.ROUND_HEADER).order(ByteOrder.LITTLE_ENDIAN);
  private final ByteBuffer sumHeader;
  private final ByteBuffer[] childHeaders;
  private final ByteBuffer chunk;
  private final ByteBuffer[] headerOut; // by child: views of header and chunk, so forwarding allocates nothing
  private final ByteBuffer[] chunkOut;
  private final FloatBuffer chunkFloatsView;
  private final float[] incoming;
  private final float[][] childVectors;
  private final PartitionSum[] childSums; // the children's headers as read
  private final PartitionSum upSum; // the subtree's header as sent up
  private final ReductionTree.Parts parts;
  private final double[] loss;
  private final float[][] scratch;
  private Round round;
  private int floats;

  /**
   * Connects to the driver at {@code driverAddress} (its Unix socket {@code localPath} when it
   * exists here), says hello with the port of this task's listener, learns its parent's
   * address, connects to it and admits its children.
   */
  TreeNode(String driverAddress, String localPath, long launch, int partition, TreeTopology topology, byte[] token,
      int maxFloats, int maxSteps, int chunkBytes, long timeoutMillis, PrintStream log) throws IOException {
    this.partition = partition;
    this.topology = topology;
    this.order = topology.order();
    this.timeoutNanos = timeoutMillis * 1_000_000L;
    this.log = log;
    this.maxFloats = maxFloats;
    this.chunkFloats = Math.max(1, chunkBytes / 4);
    this.kids = topology.children(partition);
    this.bf16 = topology.bf16();
    int sumBytes = Wire.sumHeaderBytes(maxSteps);
    sumHeader = ByteBuffer.allocateDirect(sumBytes).order(ByteOrder.LITTLE_ENDIAN);
    childHeaders = new ByteBuffer[kids.length];
    childVectors = new float[kids.length][maxFloats];
    childSums = new PartitionSum[kids.length];
    for (int i = 0; i < kids.length; i++) {
      childHeaders[i] = ByteBuffer.allocateDirect(sumBytes).order(ByteOrder.LITTLE_ENDIAN);
      childSums[i] = new PartitionSum(kids[i], maxSteps, childVectors[i]);
    }
    upSum = new PartitionSum(partition, maxSteps, null);
    chunk = ByteBuffer.allocateDirect(4 * chunkFloats).order(ByteOrder.LITTLE_ENDIAN);
    chunkFloatsView = chunk.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    headerOut = new ByteBuffer[kids.length];
    chunkOut = new ByteBuffer[kids.length];
    for (int i = 0; i < kids.length; i++) {
      headerOut[i] = header.duplicate();
      chunkOut[i] = chunk.duplicate();
    }
    incoming = new float[maxFloats];
    parts = ReductionTree.Parts.own(topology.partitions());
    loss = new double[topology.partitions()];
    scratch = new float[topology.scratchLevels(partition)][maxFloats];

    PeerChannel d = null;
    ServerSocketChannel listener = null;
    PeerChannel parent = null;
    PeerChannel[] children = new PeerChannel[kids.length];
    try {
      SocketChannel ch = ExchangeClient.connect(driverAddress, localPath);
      d = new PeerChannel(ch, "the driver");
      InetAddress self = ch.getLocalAddress() instanceof InetSocketAddress a ? a.getAddress()
          : InetAddress.getByName(driverAddress.substring(0, driverAddress.lastIndexOf(':'))); // a Unix socket: the driver's host
      listener = ServerSocketChannel.open();
      listener.setOption(StandardSocketOptions.SO_RCVBUF, Wire.SOCKET_BUFFER);
      listener.bind(new InetSocketAddress(self, 0), Math.max(8, kids.length));
      int port = ((InetSocketAddress) listener.getLocalAddress()).getPort();
      d.writeFully(Wire.hello(launch, partition, topology.partitions(), token, port));
      // the driver answers with the parent's address: the parent's listener, or none (the driver itself)
      ByteBuffer t = ByteBuffer.allocate(Wire.TOPOLOGY_BYTES).order(ByteOrder.LITTLE_ENDIAN);
      d.readFully(t, System.nanoTime() + timeoutNanos);
      int parentPartition = topology.parent(partition);
      InetSocketAddress parentAddress = Wire.readTopology(t.flip(), parentPartition);
      if (parentAddress == null) {
        parent = d;
      } else {
        SocketChannel pc = SocketChannel.open();
        options(pc);
        pc.connect(parentAddress);
        parent = new PeerChannel(pc, "partition " + parentPartition + " (parent)");
        parent.writeFully(Wire.hello(launch, partition, topology.partitions(), token, 0));
      }
      admitChildren(listener, launch, token, children);
    } catch (IOException | RuntimeException e) {
      for (PeerChannel c : children) if (c != null) c.close();
      if (parent != null && parent != d) parent.close();
      if (d != null) d.close();
      throw e;
    } finally {
      if (listener != null) listener.close();
    }
    this.driver = d;
    this.up = parent;
    this.down = children;
  }

  private static void options(SocketChannel ch) throws IOException {
    ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
    ch.setOption(StandardSocketOptions.SO_SNDBUF, Wire.SOCKET_BUFFER);
    ch.setOption(StandardSocketOptions.SO_RCVBUF, Wire.SOCKET_BUFFER);
  }

  /**
   * Accepts until every child has presented a valid hello, within the timeout; drops everyone
   * else, named. Hellos are read as they come, so a silent stranger delays nobody (it is dropped
   * after {@link Exchange#HELLO_MILLIS} or the timeout, the shorter).
   */
  private void admitChildren(ServerSocketChannel listener, long launch, byte[] token, PeerChannel[] children) throws IOException {
    if (kids.length == 0) return;
    listener.configureBlocking(false);
    long deadline = System.nanoTime() + timeoutNanos;
    long helloNanos = Math.min(timeoutNanos, Exchange.HELLO_MILLIS * 1_000_000L);
    int admitted = 0;
    try (Selector s = Selector.open()) {
      listener.register(s, SelectionKey.OP_ACCEPT);
      while (admitted < kids.length) {
        long left = (deadline - System.nanoTime()) / 1_000_000L;
        if (left <= 0) {
          throw new SocketTimeoutException("partition " + partition + ": only " + admitted + " of its " + kids.length
              + " children connected within " + timeoutNanos / 1_000_000_000L + " s (sync.timeout)");
        }
        s.select(Math.min(left, 100));
        if (Thread.interrupted()) throw new java.io.InterruptedIOException("interrupted while admitting children");
        for (SelectionKey k : s.selectedKeys()) {
          if (k.isValid() && k.isAcceptable()) {
            for (SocketChannel ch; (ch = listener.accept()) != null; ) {
              ch.configureBlocking(false);
              ch.register(s, SelectionKey.OP_READ, new Pending(ch, System.nanoTime() + helloNanos));
            }
          } else if (k.isValid() && k.attachment() instanceof Pending h) {
            int slot = h.read(k, launch, token, children);
            if (slot >= 0) {
              options(h.channel);
              children[slot] = new PeerChannel(h.channel, "partition " + kids[slot]);
              admitted++;
            }
          }
        }
        s.selectedKeys().clear();
        long now = System.nanoTime();
        for (SelectionKey k : s.keys()) {
          if (k.isValid() && k.attachment() instanceof Pending h && now > h.deadline) {
            h.drop(k, "no hello within " + helloNanos / 1_000_000 + " ms");
          }
        }
      }
      // what else came: named by its hello if that is in already (one more read), else as late
      for (SelectionKey k : s.keys()) {
        if (k.isValid() && k.attachment() instanceof Pending h && h.read(k, launch, token, children) < 0 && k.isValid()) {
          h.drop(k, "came after every child was in");
        }
      }
    }
  }

  /** A connection to this task's listener that has not yet presented its hello. */
  private final class Pending {
    final SocketChannel channel;
    final long deadline;
    final ByteBuffer bytes = ByteBuffer.allocate(Wire.HELLO_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    final String from;

    Pending(SocketChannel channel, long deadline) throws IOException {
      this.channel = channel;
      this.deadline = deadline;
      this.from = String.valueOf(channel.getRemoteAddress());
    }

    /** Reads what came; the child's slot once a valid hello is in, else -1 (still reading, or dropped). */
    int read(SelectionKey key, long launch, byte[] token, PeerChannel[] children) {
      int claimed = -1;
      String why;
      try {
        if (channel.read(bytes) < 0) {
          drop(key, "closed after " + bytes.position() + " of the hello's " + Wire.HELLO_BYTES + " bytes");
          return -1;
        }
        if (bytes.hasRemaining()) return -1;
        Wire.Hello h = Wire.Hello.read(bytes.flip());
        claimed = h.partition();
        int slot = indexOf(kids, claimed);
        why = h.refusal(token, launch, topology.partitions());
        if (why == null && slot < 0) why = "partition " + claimed + " of " + h.partitions() + " is not a child of partition " + partition;
        if (why == null && children[slot] != null) why = "partition " + claimed + " is already connected";
        if (why == null) {
          key.cancel(); // the child's own channel takes it from here
          return slot;
        }
      } catch (IOException e) {
        why = e.toString();
      }
      drop(key, why);
      return -1;
    }

    void drop(SelectionKey key, String why) {
      log.printf("WARNING: barrier exchange, partition %d: dropped a connection from %s: %s%n", partition, from, why);
      key.cancel();
      try {
        channel.close();
      } catch (IOException e) {
        // closing anyway
      }
    }
  }

  private static int indexOf(int[] a, int v) {
    for (int i = 0; i < a.length; i++) if (a[i] == v) return i;
    return -1;
  }

  @Override
  public float[] next() throws IOException {
    header.clear();
    up.readFully(header, Long.MAX_VALUE); // the driver may take its time between rounds (a checkpoint)
    header.flip();
    for (int i = 0; i < down.length; i++) down[i].writeFully(headerOut[i].clear().limit(header.limit()));
    Round r = Wire.readRound(header, maxFloats, up.name);
    if (r == null) return null;
    int n = Wire.roundFloats(header);
    round = r;
    floats = n;
    for (int off = 0; off < n; off += chunkFloats) {
      int len = Math.min(chunkFloats, n - off);
      int bytes = Wire.floatBytes(len, bf16);
      chunk.clear().limit(bytes);
      up.readFully(chunk, Long.MAX_VALUE);
      for (int i = 0; i < down.length; i++) down[i].writeFully(chunkOut[i].clear().limit(bytes));
      Wire.getFloats(chunk, 0, chunkFloatsView, incoming, off, len, bf16);
    }
    return incoming;
  }

  @Override
  public Round round() {
    return round;
  }

  /** Adds the children's sums to {@code own} (modified: it ends holding the subtree's sum) and sends the result up. */
  @Override
  public void reply(PartitionSum own) throws IOException {
    int steps = round.steps();
    int rows = own.rows;
    long compute = own.computeNanos;
    long deadline = System.nanoTime() + timeoutNanos;
    for (int i = 0; i < kids.length; i++) {
      ByteBuffer h = childHeaders[i].clear().limit(Wire.sumHeaderBytes(steps));
      read(down[i], h, deadline, "its sum");
      String bad = Wire.readSum(h.flip(), kids[i], round, floats, childSums[i]);
      if (bad != null) throw new IOException("partition " + kids[i] + " sent " + bad + " at " + round.describe());
      parts.rows()[kids[i]] = childSums[i].rows;
      rows += childSums[i].rows;
      compute = Math.max(compute, childSums[i].computeNanos);
    }
    // the header: rows, compute, and every step's loss and rows, added in the reduction tree's order
    int n = rows > 0 ? floats : 0;
    for (int i = 0; i < kids.length; i++) parts.whole()[kids[i]] = !topology.sendsOwn(kids[i]);
    for (int j = 0; j < steps; j++) {
      loss[partition] = own.stepLoss[j];
      int stepRows = own.stepRows[j];
      for (int i = 0; i < kids.length; i++) {
        loss[kids[i]] = childSums[i].stepLoss[j];
        stepRows += childSums[i].stepRows[j];
      }
      upSum.stepLoss[j] = order.sum(partition, loss, parts.whole());
      upSum.stepRows[j] = stepRows;
    }
    upSum.rows = rows;
    upSum.computeNanos = compute;
    Wire.writeSum(sumHeader, partition, round, upSum, floats);
    up.writeFully(sumHeader);
    // the floats, chunk by chunk: each child's, then added in the tree's order into own's vector, then up
    parts.vector()[partition] = own.vector;
    parts.rows()[partition] = own.rows;
    for (int i = 0; i < kids.length; i++) parts.vector()[kids[i]] = childVectors[i];
    for (int off = 0; off < n; off += chunkFloats) {
      int len = Math.min(chunkFloats, n - off);
      int bytes = Wire.floatBytes(len, bf16);
      for (int i = 0; i < kids.length; i++) {
        if (parts.rows()[kids[i]] == 0) continue;
        chunk.clear().limit(bytes);
        read(down[i], chunk, deadline, "its sum's floats");
        Wire.getFloats(chunk, 0, chunkFloatsView, childVectors[i], off, len, bf16);
      }
      order.sum(partition, parts, own.vector, off, off + len, scratch, 1f); // with bf16: the subtree's value rounded
      Wire.putFloats(chunk, 0, chunkFloatsView, own.vector, off, len, bf16);
      chunk.clear().limit(bytes);
      up.writeFully(chunk);
    }
  }

  /** Reads from a child; a silence past the deadline or a lost connection names the child and the step. */
  private void read(PeerChannel child, ByteBuffer b, long deadline, String what) throws IOException {
    try {
      child.readFully(b, deadline);
    } catch (SocketTimeoutException e) {
      throw new IOException("no sum from " + child.name + " within " + timeoutNanos / 1_000_000_000L + " s at "
          + round.describe() + " (sync.timeout): its task stopped sending", e);
    } catch (IOException e) {
      throw new IOException(child.name + " at " + round.describe() + ", reading " + what + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    for (PeerChannel c : down) c.close();
    if (up != driver) up.close();
    driver.close();
  }
}
