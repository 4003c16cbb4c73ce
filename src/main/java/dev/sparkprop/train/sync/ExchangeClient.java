package dev.sparkprop.train.sync;

import dev.sparkprop.train.step.PartitionSum;
import dev.sparkprop.train.step.Round;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A barrier task's end of the exchange ({@link Wire}): one blocking connection to the driver,
 * opened with the hello; then, until the driver says the epoch is over, the next round's
 * message in and this partition's sum out. Buffers are allocated once. A task that Spark
 * cancels is interrupted, which closes the channel and ends the blocking read.
 */
final class ExchangeClient implements TaskLink {
  private final SocketChannel channel;
  private final ByteBuffer header = ByteBuffer.allocateDirect(Wire.ROUND_HEADER).order(ByteOrder.LITTLE_ENDIAN);
  private final ByteBuffer sumHeader;
  private final ByteBuffer vector;
  private final FloatBuffer vectorFloats;
  private final ByteBuffer[] reply = new ByteBuffer[2];
  private final int partition;
  private final int maxFloats;
  private final float[] incoming;
  private final boolean bf16;
  private Round round;
  private int floats;

  /**
   * Connects to the driver: through its Unix domain socket when {@code localPath} is given and
   * exists on this host (the task runs on the driver's machine), else over TCP to {@code driver}.
   */
  ExchangeClient(String driver, String localPath, long launch, int partition, int partitions, byte[] token, int maxFloats,
      int maxSteps) throws IOException {
    this(driver, localPath, launch, partition, partitions, token, maxFloats, maxSteps, false);
  }

  /** As above; {@code bf16}: vectors cross the link as bfloat16 (sync.wire=bf16). */
  ExchangeClient(String driver, String localPath, long launch, int partition, int partitions, byte[] token, int maxFloats,
      int maxSteps, boolean bf16) throws IOException {
    this.partition = partition;
    this.bf16 = bf16;
    this.maxFloats = maxFloats;
    this.incoming = new float[maxFloats];
    sumHeader = ByteBuffer.allocateDirect(Wire.sumHeaderBytes(maxSteps)).order(ByteOrder.LITTLE_ENDIAN);
    vector = ByteBuffer.allocateDirect(4 * maxFloats).order(ByteOrder.LITTLE_ENDIAN);
    vectorFloats = vector.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
    channel = connect(driver, localPath);
    try {
      writeFully(Wire.hello(launch, partition, partitions, token, 0));
    } catch (IOException e) {
      channel.close();
      throw e;
    }
  }

  /**
   * A blocking channel to the driver: its Unix domain socket when {@code localPath} exists here
   * (the task runs on the driver's machine), else TCP to {@code driver} ("host:port"); socket
   * buffers of {@link Wire#SOCKET_BUFFER}, no Nagle delay.
   */
  static SocketChannel connect(String driver, String localPath) throws IOException {
    if (localPath != null && Files.exists(Path.of(localPath))) {
      SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
      try {
        ch.setOption(StandardSocketOptions.SO_SNDBUF, Wire.SOCKET_BUFFER);
        ch.setOption(StandardSocketOptions.SO_RCVBUF, Wire.SOCKET_BUFFER);
        ch.connect(UnixDomainSocketAddress.of(localPath));
        return ch;
      } catch (IOException e) {
        ch.close(); // another machine's path, or not ours to enter: TCP
      }
    }
    int colon = driver.lastIndexOf(':');
    SocketChannel ch = SocketChannel.open();
    try {
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      ch.setOption(StandardSocketOptions.SO_SNDBUF, Wire.SOCKET_BUFFER);
      ch.setOption(StandardSocketOptions.SO_RCVBUF, Wire.SOCKET_BUFFER);
      ch.connect(new InetSocketAddress(driver.substring(0, colon), Integer.parseInt(driver.substring(colon + 1))));
      return ch;
    } catch (IOException e) {
      ch.close();
      throw e;
    }
  }

  @Override
  public float[] next() throws IOException {
    header.clear();
    readFully(header);
    Round r = Wire.readRound(header.flip(), maxFloats, "the driver");
    if (r == null) return null;
    int n = Wire.roundFloats(header);
    round = r;
    floats = n;
    vector.clear().limit(Wire.floatBytes(n, bf16));
    readFully(vector);
    Wire.getFloats(vector, 0, vectorFloats, incoming, 0, n, bf16);
    return incoming;
  }

  @Override
  public Round round() {
    return round;
  }

  @Override
  public void reply(PartitionSum s) throws IOException {
    int n = s.rows > 0 ? floats : 0;
    Wire.writeSum(sumHeader, partition, round, s, floats);
    Wire.putFloats(vector, 0, vectorFloats, s.vector, 0, n, bf16);
    vector.clear().limit(Wire.floatBytes(n, bf16));
    reply[0] = sumHeader;
    reply[1] = vector;
    while (sumHeader.hasRemaining() || vector.hasRemaining()) channel.write(reply);
  }

  private void readFully(ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      if (channel.read(b) < 0) throw new EOFException("the driver closed the connection");
    }
  }

  private void writeFully(ByteBuffer b) throws IOException {
    while (b.hasRemaining()) channel.write(b);
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
