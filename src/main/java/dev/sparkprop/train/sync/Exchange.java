package dev.sparkprop.train.sync;

import dev.sparkprop.train.step.PartitionSum;
import dev.sparkprop.train.step.Round;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.function.BooleanSupplier;

/**
 * The driver's end of the barrier transport ({@link Wire}): a server socket on the driver's
 * address (and a Unix domain socket for its machine), the handshake that admits exactly the P
 * tasks of the current stage launch, and per round the message to every task and their sums
 * back, each task through its {@link TaskPeer}. Non-blocking, on one selector, in the training
 * loop's own thread; every buffer is allocated once.
 *
 * <p>Whoever else connects is dropped with a line in the log naming the address and the
 * partition it claimed: a wrong header, another launch's id, a wrong token, a partition already
 * connected, or nothing within {@link #HELLO_MILLIS}. A task whose sum does not match what the
 * driver expects (fields, sizes), that closes its connection, or that sends nothing within the
 * timeout fails the round with a {@link Failure} naming the partition and the step.
 */
final class Exchange implements AutoCloseable {
  /** Time a new connection has to present its hello (or the timeout, if shorter). */
  static final long HELLO_MILLIS = 10_000;

  /** A round (or the admission of a launch's tasks) that cannot complete. */
  static final class Failure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Failure(String message) {
      super(message);
    }
  }

  private final ServerSocketChannel server;
  private final ServerSocketChannel localServer; // Unix domain socket for tasks on this host, or null
  private final Path localDir;
  private final Selector selector;
  private final String address;
  private final int partitions;
  private final int maxFloats;
  private final int maxSteps;
  private final byte[] token;
  private final boolean bf16; // sync.wire=bf16
  private final long timeoutNanos;
  private final long helloNanos;
  private final PrintStream log;
  private final ByteBuffer message; // the round message: header, then floats
  private final FloatBuffer messageFloats;
  private final TaskPeer[] peers;
  private final TreeTopology tree; // sync.topology=tree, or null (the star: every task sends to the driver)
  private final InetAddress advertised; // for tasks on this host (Unix socket): the address they listen on
  private final InetAddress[] listenHost; // tree: each task's listener for its children
  private final int[] listenPort;
  private final ByteBuffer[] sumHeaders; // by partition, reused by every launch
  private final ByteBuffer[] sumVectors;
  private final float[][] received; // socket tasks' vectors, by partition
  private final java.util.Queue<MemoryLink> memoryHellos = new java.util.concurrent.ConcurrentLinkedQueue<>();
  private int socketPeers;
  private long launch;
  private int admitted;
  // the round in progress
  private Round round;
  private int sending;
  private int receiving;
  private long sendNanos;

  /**
   * @param bindHost the address to listen on (the driver's bind address); tasks connect to
   *     {@code advertisedHost}
   * @param port 0 for any free port
   * @param maxFloats the longest vector a round carries
   * @param maxSteps the most steps a round has (sync.every)
   * @param token what a task of this run must present
   * @param localSocket whether tasks on this host may connect through a Unix domain socket (in a
   *     new folder only this user can enter): about twice the throughput of TCP on loopback
   */
  Exchange(String bindHost, String advertisedHost, int port, int partitions, int maxFloats, int maxSteps, byte[] token,
      long timeoutMillis, boolean localSocket, PrintStream log) throws IOException {
    this(bindHost, advertisedHost, port, partitions, maxFloats, maxSteps, token, timeoutMillis, localSocket, null, false, log);
  }

  /**
   * As above; {@code tree} non-null for {@code sync.topology=tree}: the driver exchanges with its
   * children in it only; {@code bf16}: vectors cross the links as bfloat16 (sync.wire=bf16).
   */
  Exchange(String bindHost, String advertisedHost, int port, int partitions, int maxFloats, int maxSteps, byte[] token,
      long timeoutMillis, boolean localSocket, TreeTopology tree, boolean bf16, PrintStream log) throws IOException {
    this.partitions = partitions;
    this.bf16 = bf16;
    this.tree = tree;
    this.advertised = InetAddress.getByName(advertisedHost);
    this.listenHost = new InetAddress[partitions];
    this.listenPort = new int[partitions];
    this.maxFloats = maxFloats;
    this.maxSteps = maxSteps;
    this.token = token.clone();
    this.timeoutNanos = timeoutMillis * 1_000_000L;
    this.helloNanos = Math.min(HELLO_MILLIS, timeoutMillis) * 1_000_000L;
    this.log = log;
    selector = Selector.open();
    server = ServerSocketChannel.open();
    localDir = localSocket ? socketDir() : null;
    localServer = localDir != null ? ServerSocketChannel.open(StandardProtocolFamily.UNIX) : null;
    try {
      server.setOption(StandardSocketOptions.SO_RCVBUF, Wire.SOCKET_BUFFER); // inherited by accepted sockets
      server.bind(new InetSocketAddress(InetAddress.getByName(bindHost), port));
      server.configureBlocking(false);
      server.register(selector, SelectionKey.OP_ACCEPT);
      if (localServer != null) {
        localServer.bind(UnixDomainSocketAddress.of(localDir.resolve("s")));
        localServer.configureBlocking(false);
        localServer.register(selector, SelectionKey.OP_ACCEPT);
      }
    } catch (IOException e) {
      close();
      throw e;
    }
    address = advertisedHost + ":" + ((InetSocketAddress) server.getLocalAddress()).getPort();
    message = ByteBuffer.allocateDirect(Wire.ROUND_HEADER + 4 * maxFloats).order(ByteOrder.LITTLE_ENDIAN);
    messageFloats = message.position(Wire.ROUND_HEADER).slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    message.clear();
    peers = new TaskPeer[partitions];
    sumHeaders = new ByteBuffer[partitions];
    sumVectors = new ByteBuffer[partitions];
    received = new float[partitions][maxFloats];
    for (int q = 0; q < partitions; q++) {
      sumHeaders[q] = ByteBuffer.allocateDirect(Wire.sumHeaderBytes(maxSteps)).order(ByteOrder.LITTLE_ENDIAN);
      sumVectors[q] = ByteBuffer.allocateDirect(4 * maxFloats).order(ByteOrder.LITTLE_ENDIAN);
    }
  }

  /** {@code host:port} for the tasks. */
  String address() {
    return address;
  }

  /** The Unix domain socket's path for tasks on this host, or null. */
  String localPath() {
    return localDir == null ? null : localDir.resolve("s").toString();
  }

  /** The selector the training loop waits on (an in-memory task wakes it). */
  Selector selector() {
    return selector;
  }

  /** From a task in this JVM: asks to be admitted; the training loop answers on the link. */
  void offerLocal(MemoryLink link) {
    memoryHellos.add(link);
    selector.wakeup();
  }

  /** The local socket address the server listens on (tests). */
  InetSocketAddress listening() throws IOException {
    return (InetSocketAddress) server.getLocalAddress();
  }

  /** sync.topology=tree: the port of partition p's listener for its children, once its hello is in (0 before; tests). */
  int listenPort(int p) {
    return listenPort[p];
  }

  /** Of the last round: nanoseconds until every task had been sent its message. */
  long lastSendNanos() {
    return sendNanos;
  }

  /**
   * Waits until the P tasks of {@code launch} have connected and presented the token; drops
   * every other connection. Fails when {@code stageEnded} says the tasks will not come (their
   * stage is over) or after the timeout.
   */
  void admit(long launch, BooleanSupplier stageEnded) {
    dropPeers();
    this.launch = launch;
    long deadline = System.nanoTime() + timeoutNanos;
    while (admitted < partitions) {
      if (stageEnded.getAsBoolean()) throw new Failure("the barrier stage ended before its tasks connected");
      if (System.nanoTime() > deadline) {
        throw new Failure("only " + admitted + " of " + partitions + " tasks connected to the driver at " + address
            + " within " + timeoutNanos / 1_000_000_000L + " s (sync.timeout); missing partitions " + missing());
      }
      select(200);
    }
    if (tree != null) sendTopology();
  }

  /** Tells every task of the tree where its parent listens (or that the driver is its parent). */
  private void sendTopology() {
    for (int q = 0; q < partitions; q++) {
      if (!(peers[q] instanceof TaskPeer.Socket s)) throw new Failure("partition " + q + ": sync.topology=tree needs every task on a socket");
      int parent = tree.parent(q);
      s.sendNow(parent == TreeTopology.DRIVER ? Wire.topology(parent, null, 0)
          : Wire.topology(parent, listenHost[parent], listenPort[parent]));
    }
  }

  /**
   * Sends {@code out[0, floats)} for round {@code r} to every task and receives their sums into
   * {@code into} (indexed by partition; vectors of at least {@code floats}).
   */
  void round(Round r, float[] out, int floats, PartitionSum[] into) {
    if (admitted < partitions) throw new IllegalStateException("round before every task connected");
    long t0 = System.nanoTime();
    this.round = r;
    int bytes = Wire.ROUND_HEADER + Wire.floatBytes(floats, bf16);
    if (socketPeers > 0) {
      Wire.writeRound(message, r, floats);
      Wire.putFloats(message, Wire.ROUND_HEADER, messageFloats, out, 0, floats, bf16);
    }
    int[] targets = tree == null ? null : tree.children(TreeTopology.DRIVER);
    if (tree != null) for (TaskPeer q : peers) q.round = r; // a tree task the driver only watches still fails naming the step
    sending = tree == null ? socketPeers : targets.length;
    receiving = tree == null ? partitions : targets.length;
    sendNanos = -1;
    for (int i = 0, n = tree == null ? partitions : targets.length; i < n; i++) {
      TaskPeer p = peers[tree == null ? i : targets[i]];
      into[p.partition].whole = tree != null && !tree.sendsOwn(p.partition);
      if (p.start(r, out, floats, bytes, into[p.partition]) && p instanceof TaskPeer.Socket) sending--; // mostly at once
    }
    long deadline = t0 + timeoutNanos;
    while (receiving > 0) {
      if (sending == 0 && sendNanos < 0) sendNanos = System.nanoTime() - t0;
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new Failure("no sum from partition" + (receiving > 1 ? "s " : " ") + waitingFor() + " within "
            + timeoutNanos / 1_000_000_000L + " s at " + r.describe() + " (sync.timeout): its task stopped sending");
      }
      select(Math.max(1, left / 1_000_000L));
    }
    if (sendNanos < 0) sendNanos = System.nanoTime() - t0;
  }

  /** Tells every task that the epoch is over and closes their connections. */
  void end() {
    for (TaskPeer p : peers) if (p != null) p.end();
    dropPeers();
  }

  /** The longest path of a Unix domain socket that every Linux and macOS accepts (sun_path: 104-108 bytes). */
  static final int SOCKET_PATH_LIMIT = 100;

  /**
   * A new folder only this user can enter, for the Unix domain socket: under java.io.tmpdir, or
   * /tmp if that path is too long for a socket (a YARN container's tmpdir is its work folder,
   * over 150 characters deep), or null: no socket, tasks use TCP.
   */
  private Path socketDir() throws IOException {
    String name = "sparkprop-exchange-";
    int tail = name.length() + 20 + "/s".length() + 1; // createTempDirectory adds up to 20 digits
    for (String base : new String[] {System.getProperty("java.io.tmpdir"), "/tmp"}) {
      if (base == null) continue;
      Path b = Path.of(base).toAbsolutePath();
      if (!Files.isDirectory(b) || !Files.isWritable(b) || b.toString().length() + tail > SOCKET_PATH_LIMIT) continue;
      return Files.createTempDirectory(b, name, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }
    log.println("sync.socket: no temporary folder with a path short enough for a Unix domain socket; tasks on this "
        + "host exchange over TCP");
    return null;
  }

  /** Closes the tasks' connections (after a failure, or at the end). */
  void dropPeers() {
    if (peers == null) return; // closed while being constructed
    for (int q = 0; q < partitions; q++) {
      if (peers[q] != null) peers[q].close();
      peers[q] = null;
    }
    admitted = 0;
    socketPeers = 0;
  }

  @Override
  public void close() {
    if (!selector.isOpen()) return; // closed already
    dropPeers();
    for (SelectionKey k : selector.keys()) closeQuietly(k.channel());
    closeQuietly(server);
    if (localServer != null) closeQuietly(localServer);
    closeQuietly(selector);
    if (localDir != null) {
      try {
        Files.deleteIfExists(localDir.resolve("s"));
        Files.deleteIfExists(localDir);
      } catch (IOException e) {
        log.println("WARNING: could not remove " + localDir + ": " + e.getMessage());
      }
    }
  }

  /**
   * Waits up to {@code millis} for the sockets, then takes what in-memory tasks did. What they
   * did before the wait is taken first and then the wait is skipped: a task's wake-up may
   * have been spent on an earlier wait (a task that ended while the previous round was being
   * collected would otherwise be noticed only at the timeout).
   */
  private void select(long millis) {
    boolean news = takeMemory();
    try {
      if (news) selector.selectNow(this::handle);
      else selector.select(this::handle, millis);
    } catch (IOException e) {
      throw new Failure("selector: " + e);
    }
    takeMemory();
    expireHellos();
  }

  /**
   * Admits in-memory tasks that asked in and takes their sums; fails the round when one ended
   * without its sum (the one that ended first: after a killed task Spark ends the others of
   * its stage, and the first is the cause). Whether anything came in.
   */
  private boolean takeMemory() {
    boolean news = false;
    for (MemoryLink l; (l = memoryHellos.poll()) != null; news = true) admitMemory(l);
    TaskPeer first = null;
    long firstEnded = 0;
    for (TaskPeer p : peers) {
      long ended = p == null ? Long.MAX_VALUE : p.endedWithoutSum();
      if (ended != Long.MAX_VALUE && (first == null || ended - firstEnded < 0)) {
        first = p;
        firstEnded = ended;
      }
    }
    if (first != null) first.poll(); // throws its failure
    for (TaskPeer p : peers) {
      if (p != null && p.poll()) {
        receiving--;
        news = true;
      }
    }
    return news;
  }

  /** A task of this JVM asks in: the same checks as a socket's hello. */
  private void admitMemory(MemoryLink l) {
    String refused = Wire.refusal(l.token(), l.launch, l.partition, l.partitions, token, launch, partitions);
    String why = tree != null ? "sync.topology=tree: every task connects over a socket"
        : refused != null ? refused
        : peers[l.partition] != null ? "partition " + l.partition + " is already connected" : null;
    if (why != null) {
      log.printf("WARNING: barrier exchange: refused an in-memory task (claimed partition %d): %s%n", l.partition, why);
      l.refuse(why);
      return;
    }
    peers[l.partition] = new TaskPeer.Memory(l);
    admitted++;
    l.admit();
  }

  private void handle(SelectionKey key) {
    Object a = key.attachment();
    try {
      if (a == null) {
        accept((ServerSocketChannel) key.channel());
      } else if (a instanceof Hello h) {
        h.read(key);
      } else {
        int events = ((TaskPeer.Socket) a).ready(key);
        if ((events & TaskPeer.Socket.SENT) != 0) sending--;
        if ((events & TaskPeer.Socket.RECEIVED) != 0) receiving--;
      }
    } catch (IOException e) {
      if (a instanceof Hello h) {
        h.drop(key, e.toString());
      } else {
        closeQuietly(key.channel());
      }
    }
  }

  private void accept(ServerSocketChannel from) throws IOException {
    for (SocketChannel ch; (ch = from.accept()) != null; ) {
      ch.configureBlocking(false);
      if (from == server) ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      ch.setOption(StandardSocketOptions.SO_SNDBUF, Wire.SOCKET_BUFFER);
      ch.setOption(StandardSocketOptions.SO_RCVBUF, Wire.SOCKET_BUFFER);
      ch.register(selector, SelectionKey.OP_READ, new Hello(ch));
    }
  }

  /** Drops connections that did not say hello in time. */
  private void expireHellos() {
    long now = System.nanoTime();
    for (SelectionKey k : selector.keys()) {
      if (k.attachment() instanceof Hello h && now > h.deadline) h.drop(k, "no hello within " + helloNanos / 1_000_000 + " ms");
    }
  }

  private String missing() {
    StringBuilder sb = new StringBuilder();
    for (int q = 0; q < partitions; q++) if (peers[q] == null) sb.append(sb.length() == 0 ? "" : ", ").append(q);
    return sb.toString();
  }

  private String waitingFor() {
    StringBuilder sb = new StringBuilder();
    for (TaskPeer p : peers) if (!p.done()) sb.append(sb.length() == 0 ? "" : ", ").append(p.partition);
    return sb.toString();
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      // closing anyway
    }
  }

  /** A connection that has not yet presented its hello. */
  private final class Hello {
    final SocketChannel channel;
    final ByteBuffer bytes = ByteBuffer.allocate(Wire.HELLO_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    final long deadline = System.nanoTime() + helloNanos;
    final String from;

    Hello(SocketChannel channel) throws IOException {
      this.channel = channel;
      SocketAddress remote = channel.getRemoteAddress();
      this.from = remote instanceof InetSocketAddress ? remote.toString() : "a process on this host (Unix socket)";
    }

    void read(SelectionKey key) throws IOException {
      if (channel.read(bytes) < 0) {
        drop(key, "closed after " + bytes.position() + " of the hello's " + Wire.HELLO_BYTES + " bytes");
        return;
      }
      if (bytes.hasRemaining()) return;
      Wire.Hello h = Wire.Hello.read(bytes.flip());
      String why = h.refusal(token, launch, partitions);
      int p = h.partition();
      int tport = h.port();
      if (why != null) {
        drop(key, why);
      } else if (peers[p] != null) {
        drop(key, "partition " + p + " is already connected");
      } else if (tree != null && (tport <= 0 || tport > 65535)) {
        drop(key, "no listener port for its children (sync.topology=tree) (claimed partition " + p + ")");
      } else {
        TaskPeer.Socket peer = new TaskPeer.Socket(p, channel, key, message, sumHeaders[p], sumVectors[p], received[p], bf16);
        peers[p] = peer;
        key.attach(peer);
        // in the tree most tasks never send to the driver: listen anyway, to notice a lost one at once
        key.interestOps(tree != null ? SelectionKey.OP_READ : 0);
        listenHost[p] = channel.getRemoteAddress() instanceof InetSocketAddress a ? a.getAddress() : advertised;
        listenPort[p] = tport;
        admitted++;
        socketPeers++;
      }
    }

    void drop(SelectionKey key, String why) {
      log.printf("WARNING: barrier exchange: dropped a connection from %s: %s%n", from, why);
      key.cancel();
      closeQuietly(channel);
    }
  }
}
